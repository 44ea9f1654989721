//! OAuth2 authorization codes (RFC 6749 §4.1) with PKCE (RFC 7636): what a code remembers of
//! its authorize request, and the checks its redemption at the token endpoint must pass.
//! Storage and HTTP live in the login surface; this is only the rule.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Codes live ten minutes, as Entra's do.
pub const CODE_LIFETIME_SECS: i64 = 600;

/// The grant a code stands for, stored (by the code's hash) until it is redeemed once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub tenant: Uuid,
    pub user: Uuid,
    pub client: Uuid,
    pub redirect_uri: String,
    /// `code_challenge` of the authorize request (S256 only: `plain` gives no protection).
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scope: String,
    pub expires: i64,
}

/// Why a redemption is refused; each maps to an Entra `invalid_grant` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedeemError {
    Expired,
    WrongClient,
    RedirectMismatch,
    /// A code issued with a challenge presented without a verifier, or the reverse.
    VerifierMissing,
    VerifierMismatch,
}

/// Authorization codes are stored by the code's SHA-256, never in clear.
pub fn storage_key(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// `BASE64URL(SHA256(verifier))`, the S256 transform of RFC 7636 §4.2.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Z a-z 0-9 - . _ ~]`.
pub fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A challenge is the base64url of a SHA-256: 43 characters.
pub fn valid_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

impl AuthorizationCode {
    /// The checks of RFC 6749 §4.1.3 and RFC 7636 §4.6 for one redemption. Single use is the
    /// caller's part: it deletes the stored code in the same transaction that reads it.
    pub fn redeem(&self, client: Uuid, redirect_uri: Option<&str>, verifier: Option<&str>, now: i64) -> Result<(), RedeemError> {
        if now >= self.expires {
            return Err(RedeemError::Expired);
        }
        if client != self.client {
            return Err(RedeemError::WrongClient);
        }
        if redirect_uri != Some(self.redirect_uri.as_str()) {
            return Err(RedeemError::RedirectMismatch);
        }
        match (&self.code_challenge, verifier) {
            (None, None) => Ok(()),
            (Some(_), None) | (None, Some(_)) => Err(RedeemError::VerifierMissing),
            (Some(c), Some(v)) if valid_verifier(v) && constant_eq(&s256_challenge(v), c) => Ok(()),
            (Some(_), Some(_)) => Err(RedeemError::VerifierMismatch),
        }
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B's example pair.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn code() -> AuthorizationCode {
        AuthorizationCode {
            tenant: Uuid::nil(),
            user: Uuid::nil(),
            client: Uuid::from_u128(7),
            redirect_uri: "https://127.0.0.1:8446/signin-oidc".into(),
            code_challenge: Some(CHALLENGE.into()),
            nonce: Some("n".into()),
            scope: "openid".into(),
            expires: 1000,
        }
    }

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(s256_challenge(VERIFIER), CHALLENGE);
        assert!(valid_verifier(VERIFIER) && valid_challenge(CHALLENGE));
        assert!(!valid_verifier("short") && !valid_challenge("plain-text"));
    }

    #[test]
    fn redeem_accepts_the_right_verifier_client_and_redirect() {
        let c = code();
        assert_eq!(c.redeem(c.client, Some(&c.redirect_uri), Some(VERIFIER), 999), Ok(()));
    }

    #[test]
    fn redeem_refuses_what_rfc6749_and_rfc7636_refuse() {
        let c = code();
        let r = Some(c.redirect_uri.as_str());
        assert_eq!(c.redeem(c.client, r, Some(VERIFIER), 1000), Err(RedeemError::Expired));
        assert_eq!(c.redeem(Uuid::from_u128(8), r, Some(VERIFIER), 0), Err(RedeemError::WrongClient));
        assert_eq!(c.redeem(c.client, Some("https://evil/cb"), Some(VERIFIER), 0), Err(RedeemError::RedirectMismatch));
        assert_eq!(c.redeem(c.client, None, Some(VERIFIER), 0), Err(RedeemError::RedirectMismatch));
        assert_eq!(c.redeem(c.client, r, None, 0), Err(RedeemError::VerifierMissing));
        let other = "x".repeat(43);
        assert_eq!(c.redeem(c.client, r, Some(&other), 0), Err(RedeemError::VerifierMismatch));
        // The challenge itself is not a verifier.
        assert_eq!(c.redeem(c.client, r, Some(CHALLENGE), 0), Err(RedeemError::VerifierMismatch));
    }

    #[test]
    fn a_code_without_challenge_refuses_a_verifier() {
        let c = AuthorizationCode { code_challenge: None, ..code() };
        assert_eq!(c.redeem(c.client, Some(&c.redirect_uri), None, 0), Ok(()));
        assert_eq!(c.redeem(c.client, Some(&c.redirect_uri), Some(VERIFIER), 0), Err(RedeemError::VerifierMissing));
    }
}
