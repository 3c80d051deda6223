//! Rules of delivering notifications, without I/O: when to retry, how a webhook is signed
//! (Standard Webhooks), which addresses a webhook may never reach, and which language a
//! person reads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::Language;

/// When failed deliveries are tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The wait after the first failure; it doubles with each further one.
    pub base: chrono::TimeDelta,
    /// The longest wait between two tries.
    pub cap: chrono::TimeDelta,
    /// Tries in all; after the last failure the delivery is a dead letter.
    pub max_attempts: u32,
}

impl Default for Schedule {
    /// 30 s, 1 min, 2 min, ... up to 6 h: eight tries span about four hours.
    fn default() -> Self {
        Schedule { base: chrono::TimeDelta::seconds(30), cap: chrono::TimeDelta::hours(6), max_attempts: 8 }
    }
}

impl Schedule {
    /// The wait before the next try after `attempts` failed tries, or `None` when that was the
    /// last. `jitter_permille` (0..=1000, random per call) spreads the wait over 80%..120%, so
    /// receivers that came back are not hit by every sender at the same second.
    pub fn retry_after(&self, attempts: u32, jitter_permille: u32) -> Option<chrono::TimeDelta> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(30);
        let plain = self.base.checked_mul(1 << doublings).unwrap_or(self.cap).min(self.cap);
        let factor = 800 + i32::try_from(jitter_permille.min(1000) * 2 / 5).unwrap_or(0);
        Some(plain * factor / 1000)
    }
}

/// A webhook signing secret: `whsec_` and the base64 of 24 random bytes, as Standard Webhooks
/// libraries read it.
pub const SECRET_PREFIX: &str = "whsec_";

pub fn new_secret(bytes: [u8; 24]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` entry for one secret: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the secret's decoded bytes.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| "the signing secret is not base64".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Whether a webhook may be sent to this address: never to this host, the private network,
/// link-local (cloud metadata), or anything not globally routed, unless loopback is allowed
/// (development and tests).
pub fn reachable(ip: IpAddr, allow_loopback: bool) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if ip.is_loopback() {
        return allow_loopback;
    }
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15; reserved, 240/4.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        // Documentation 2001:db8::/32, NAT64 64:ff9b::/96 (reaches IPv4 behind it).
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

/// The language of a person's e-mails: theirs when set, else their organisation's country's,
/// else English.
pub fn language_for(chosen: Option<Language>, country: Option<&str>) -> Language {
    chosen.unwrap_or_else(|| match country.map(str::to_ascii_uppercase).as_deref() {
        Some("DE" | "AT" | "LI") => Language::De,
        Some("FR" | "BE" | "LU" | "MC") => Language::Fr,
        Some("PL") => Language::Pl,
        Some("ES" | "MX" | "AR" | "CO" | "CL" | "PE" | "UY" | "EC" | "VE" | "BO" | "PY") => Language::Es,
        _ => Language::En,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn retries_double_up_to_the_cap_then_stop() {
        let s = Schedule::default();
        assert_eq!(s.retry_after(1, 500), Some(chrono::TimeDelta::seconds(30)));
        assert_eq!(s.retry_after(2, 500), Some(chrono::TimeDelta::seconds(60)));
        assert_eq!(s.retry_after(3, 500), Some(chrono::TimeDelta::seconds(120)));
        assert_eq!(s.retry_after(7, 500), Some(chrono::TimeDelta::seconds(1920)));
        assert_eq!(s.retry_after(8, 500), None);
        let short = Schedule { max_attempts: 40, ..s };
        assert_eq!(short.retry_after(30, 500), Some(chrono::TimeDelta::hours(6)));
    }

    proptest! {
        #[test]
        fn jitter_stays_within_a_fifth(attempts in 1u32..8, jitter in 0u32..=1000) {
            let s = Schedule::default();
            let plain = s.retry_after(attempts, 500).unwrap();
            let wait = s.retry_after(attempts, jitter).unwrap();
            prop_assert!(wait * 10 >= plain * 8 && wait * 10 <= plain * 12);
        }
    }

    /// The example of the Standard Webhooks specification (and of its reference libraries).
    #[test]
    fn signature_matches_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for refused in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "240.0.0.1",
        ] {
            assert!(!reachable(refused.parse().unwrap(), false), "{refused}");
        }
        assert!(!reachable("127.0.0.1".parse().unwrap(), false));
        assert!(!reachable("::1".parse().unwrap(), false));
        assert!(reachable("127.0.0.1".parse().unwrap(), true));
        assert!(reachable("::ffff:127.0.0.1".parse().unwrap(), true));
        assert!(!reachable("10.0.0.1".parse().unwrap(), true));
        assert!(reachable("93.184.216.34".parse().unwrap(), false));
        assert!(reachable("2606:2800:220:1::1".parse().unwrap(), false));
    }

    #[test]
    fn language_follows_the_person_then_the_country() {
        assert_eq!(language_for(Some(Language::Pl), Some("DE")), Language::Pl);
        assert_eq!(language_for(None, Some("at")), Language::De);
        assert_eq!(language_for(None, Some("ES")), Language::Es);
        assert_eq!(language_for(None, Some("BE")), Language::Fr);
        assert_eq!(language_for(None, Some("IE")), Language::En);
        assert_eq!(language_for(None, None), Language::En);
    }
}
