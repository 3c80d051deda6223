//! Limits on failed authentication and on sign-in attempts, counted by `governor` (GCRA) per
//! client address and per token prefix. A key that used up its failures is refused with
//! `RATE_LIMITED` and `Retry-After` before its credentials are even checked, until governor
//! says it may try again; so a guess that would have been right is refused all the same.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::config::RateLimitSettings;

/// What a failure or an attempt is counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Client(IpAddr),
    TokenPrefix(String),
}

pub struct AuthLimits {
    failures: DefaultKeyedRateLimiter<Key>,
    sign_ins: DefaultKeyedRateLimiter<Key>,
    /// Keys governor refused, and until when: the answer is kept so that the next attempt is
    /// refused before its credentials are checked.
    refused: Mutex<HashMap<Key, Instant>>,
}

/// Past this many refused keys, the expired ones are dropped.
const PRUNE_AT: usize = 10_000;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl AuthLimits {
    pub fn new(settings: RateLimitSettings) -> Self {
        AuthLimits {
            failures: RateLimiter::keyed(per_minute(settings.auth_failures_per_minute)),
            sign_ins: RateLimiter::keyed(per_minute(settings.sign_ins_per_minute)),
            refused: Mutex::new(HashMap::new()),
        }
    }

    /// The keys of a request: its client address, and the prefix of the token it sent.
    pub fn keys(client: Option<IpAddr>, token: Option<&str>) -> Vec<Key> {
        let mut keys = Vec::with_capacity(2);
        if let Some(ip) = client {
            keys.push(Key::Client(ip));
        }
        if let Some(prefix) = token.map(crate::secrets::visible_prefix).filter(|p| !p.is_empty()) {
            keys.push(Key::TokenPrefix(prefix));
        }
        keys
    }

    /// How long until these keys may try again, if any of them is refused now.
    pub fn refused(&self, keys: &[Key]) -> Option<Duration> {
        let now = Instant::now();
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter().filter_map(|k| refused.get(k)).filter(|until| **until > now).map(|until| *until - now).max()
    }

    /// Counts a failed authentication against every key; the wait when one of them is used up.
    pub fn failed(&self, keys: &[Key]) -> Option<Duration> {
        self.count(&self.failures, keys)
    }

    /// Counts a sign-in attempt (login start or callback) against the client; the wait when used up.
    pub fn sign_in_attempt(&self, client: Option<IpAddr>) -> Option<Duration> {
        let keys = Self::keys(client, None);
        self.refused(&keys).or_else(|| self.count(&self.sign_ins, &keys))
    }

    fn count(&self, limiter: &DefaultKeyedRateLimiter<Key>, keys: &[Key]) -> Option<Duration> {
        let clock = governor::clock::DefaultClock::default();
        let wait = keys
            .iter()
            .filter_map(|k| limiter.check_key(k).err().map(|not_until| (k, not_until.wait_time_from(clock.now()))))
            .max_by_key(|(_, wait)| *wait)?;
        let until = Instant::now() + wait.1;
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if refused.len() > PRUNE_AT {
            let now = Instant::now();
            refused.retain(|_, until| *until > now);
            limiter.retain_recent();
        }
        for key in keys {
            refused.insert(key.clone(), until);
        }
        Some(wait.1)
    }
}

/// Whole seconds for `Retry-After`, never 0.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: u32) -> AuthLimits {
        AuthLimits::new(RateLimitSettings {
            auth_failures_per_minute: n,
            sign_ins_per_minute: n,
            tender_posts_per_hour: n,
        })
    }

    #[test]
    fn failures_beyond_the_quota_refuse_the_key_before_checking() {
        let l = limits(3);
        let keys = AuthLimits::keys(Some("10.0.0.1".parse().unwrap()), Some("phk_abcdefgh1234"));
        for _ in 0..3 {
            assert!(l.refused(&keys).is_none());
            assert!(l.failed(&keys).is_none());
        }
        let wait = l.failed(&keys).expect("the fourth failure is refused");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60));
        assert!(l.refused(&keys).is_some(), "and so is the next attempt, whatever its credentials");
        // Another client with the same token prefix is refused too; another client and token not.
        assert!(l.refused(&AuthLimits::keys(Some("10.0.0.2".parse().unwrap()), Some("phk_abcdefgh1234"))).is_some());
        assert!(l.refused(&AuthLimits::keys(Some("10.0.0.2".parse().unwrap()), Some("phk_zzzzzzzz0000"))).is_none());
        assert!(retry_after_secs(wait) >= 1);
    }
}
