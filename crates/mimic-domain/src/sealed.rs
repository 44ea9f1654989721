//! Values kept in the store under a bearer secret that only the client holds (a portal session
//! cookie, a sign-in's `state`): filed under the secret's SHA-256 and sealed with AES-256-GCM
//! under a key derived from the secret, so a copy of the store (or of its backups) yields no
//! session, token or PKCE verifier without the browser's cookie.
//!
//! [`seal_with`] / [`open_with`] are the same AES-256-GCM under a given key with additional
//! authenticated data: the master key seals private key material bound to its purpose and row.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Where the value for `secret` is filed: its SHA-256, hex.
pub fn locator(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A different hash of the secret than the locator (domain-separated), so knowing where a value
/// is filed does not give its key.
fn key(secret: &str) -> LessSafeKey {
    let mut h = Sha256::new();
    h.update(b"mimic sealed value key v1\0");
    h.update(secret.as_bytes());
    // AES-256 takes exactly 32 bytes, which SHA-256 always gives.
    aes_key(&h.finalize().into())
}

/// `plaintext` sealed under `secret`: base64url of a random nonce followed by the ciphertext and
/// its tag. None only if the system's random source fails.
pub fn seal(secret: &str, plaintext: &[u8]) -> Option<String> {
    Some(B64.encode(seal_under(key(secret), b"", plaintext)?))
}

/// The plaintext `seal` was given, or None if `sealed` was not sealed under `secret` or was
/// altered.
pub fn open(secret: &str, sealed: &str) -> Option<Vec<u8>> {
    open_under(key(secret), b"", &B64.decode(sealed).ok()?)
}

/// `plaintext` sealed under the 32-byte `key`, bound to `aad` (what it is and where it lives:
/// opening it under any other `aad` fails): a random nonce, the ciphertext and its tag.
pub fn seal_with(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    seal_under(aes_key(key), aad, plaintext)
}

/// The plaintext `seal_with` was given, or None under another key or `aad`, or if altered.
pub fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    open_under(aes_key(key), aad, sealed)
}

fn aes_key(bytes: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key"))
}

fn seal_under(key: LessSafeKey, aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).ok()?;
    let mut out = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out).ok()?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&out);
    Some(sealed)
}

fn open_under(key: LessSafeKey, aad: &[u8], bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = ciphertext.to_vec();
    let plain = key.open_in_place(nonce, Aad::from(aad), &mut buf).ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_under_its_secret_and_unaltered() {
        let sealed = seal("cookie-1", b"refresh token").unwrap();
        assert_eq!(open("cookie-1", &sealed).unwrap(), b"refresh token");
        assert!(open("cookie-2", &sealed).is_none());
        let mut bytes = B64.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(open("cookie-1", &B64.encode(bytes)).is_none());
        assert!(open("cookie-1", "not base64 !").is_none());
        assert!(open("cookie-1", "").is_none());
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce_and_the_locator_is_not_the_key() {
        assert_ne!(seal("c", b"x").unwrap(), seal("c", b"x").unwrap());
        assert_eq!(locator("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(!sealed_contains(&seal("abc", b"payload").unwrap(), "payload"));
    }

    #[test]
    fn a_key_sealed_value_opens_only_under_its_key_and_aad() {
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        let sealed = seal_with(&k1, b"signing_keys/kid-1", b"private key").unwrap();
        assert_eq!(open_with(&k1, b"signing_keys/kid-1", &sealed).unwrap(), b"private key");
        assert!(open_with(&k2, b"signing_keys/kid-1", &sealed).is_none());
        assert!(open_with(&k1, b"signing_keys/kid-2", &sealed).is_none());
        assert!(!sealed.windows(11).any(|w| w == b"private key"));
    }

    fn sealed_contains(sealed: &str, text: &str) -> bool {
        B64.decode(sealed).unwrap().windows(text.len()).any(|w| w == text.as_bytes())
    }
}

/// A value stored sealed under a secret only its holder has (a portal session under its cookie):
/// the expiry in clear, so expired records can be reclaimed unopened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SealedRecord {
    pub expires: i64,
    pub sealed: String,
}
