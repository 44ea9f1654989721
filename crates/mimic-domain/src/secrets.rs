//! Client secrets and passwords: generated, hashed, verified. Nothing stores them in clear.
//!
//! Passwords are chosen by people, so they get argon2 (slow on purpose). Client secrets are
//! generated here with 240 bits of entropy, so a salted SHA-256 is enough to make a leaked
//! store useless, and it keeps the token endpoint bound by its RS256 signature, not by hashing.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;
use sha2::{Digest, Sha256};

const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";

/// A client secret in Entra's style: 40 characters, the first three a visible hint.
pub fn generate_client_secret() -> String {
    let mut rng = rand::thread_rng();
    // The first character is alphanumeric, so a secret on a command line never reads as an option.
    (0..40)
        .map(|i| {
            let range = if i == 0 { 62 } else { SECRET_ALPHABET.len() };
            SECRET_ALPHABET[rng.gen_range(0..range)] as char
        })
        .collect()
}

/// A password that satisfies Entra's complexity rules (upper, lower, digit, symbol).
pub fn generate_password() -> String {
    let mut rng = rand::thread_rng();
    let body: String = (0..20).map(|_| SECRET_ALPHABET[rng.gen_range(0..62)] as char).collect();
    format!("Mm{body}9!")
}

/// `sha256$<salt hex>$<digest hex>`
pub fn hash_client_secret(secret: &str) -> String {
    let salt: [u8; 16] = rand::random();
    format!("sha256${}${}", hex::encode(salt), hex::encode(salted_digest(&salt, secret)))
}

pub fn verify_client_secret(stored: &str, secret: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("sha256"), Some(salt), Some(digest), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(salt), Ok(digest)) = (hex::decode(salt), hex::decode(digest)) else { return false };
    constant_time_eq(&salted_digest(&salt, secret), &digest)
}

fn salted_digest(salt: &[u8], secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret.as_bytes());
    h.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashing with default parameters cannot fail").to_string()
}

pub fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A short visible prefix of a secret, as Entra shows in `hint`.
pub fn hint(secret: &str) -> String {
    secret.chars().take(3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secret_round_trip() {
        let s = generate_client_secret();
        assert_eq!(s.len(), 40);
        let h = hash_client_secret(&s);
        assert!(!h.contains(&s));
        assert!(verify_client_secret(&h, &s));
        assert!(!verify_client_secret(&h, "wrong"));
        assert!(!verify_client_secret("garbage", &s));
    }

    #[test]
    fn password_round_trip() {
        let p = generate_password();
        let h = hash_password(&p);
        assert!(verify_password(&h, &p));
        assert!(!verify_password(&h, "nope"));
    }
}
