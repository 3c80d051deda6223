//! API token secrets: 256 random bits, shown once, stored as SHA-256.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::Rng;
use sha2::{Digest, Sha256};

/// Marks the string as a partnerhub secret, so secret scanners and people recognise it.
pub const SECRET_PREFIX: &str = "phk_";
/// Characters of the secret kept in clear to tell tokens apart.
pub const VISIBLE_PREFIX_LEN: usize = 12;

pub struct NewSecret {
    pub secret: String,
    pub visible_prefix: String,
    pub hash: String,
}

pub fn generate() -> NewSecret {
    generate_with(&mut rand::rng())
}

/// From a given generator: the seed's tokens are the same on every run of the same scale.
pub fn generate_with(rng: &mut impl Rng) -> NewSecret {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    NewSecret { visible_prefix: secret[..VISIBLE_PREFIX_LEN].to_string(), hash: hash(&secret), secret }
}

/// The visible prefix of a presented secret (what rate limits count failures against).
pub fn visible_prefix(secret: &str) -> String {
    secret.trim().chars().take(VISIBLE_PREFIX_LEN).collect()
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), SECRET_PREFIX.len() + 43);
        assert!(a.secret.starts_with(&a.visible_prefix));
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.secret[4..]));
    }
}
