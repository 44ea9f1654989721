//! A token from another issuer presented as a `client_assertion`: its parts read without trust,
//! the issuer's published keys (JWKS, RFC 7517), and the signature and lifetime checks Entra
//! makes before it looks for a federated credential.
//!
//! Only RSA signatures (RS256/384/512, PS256/384/512) are accepted: they are what GitHub
//! Actions, Kubernetes, GitLab and Entra itself sign with. `alg: none`, HMAC and anything else
//! are refused before a key is looked at.

use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self, RsaParameters};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{Map, Value};

/// Longest assertion read (Entra's request limits are of this order; a token is ~1 KB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Keys read from one JWKS; the rest are ignored.
pub const MAX_KEYS: usize = 64;
/// Clock skew allowed on `exp` and `nbf`, as Entra allows.
pub const SKEW_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalTokenError {
    /// Not a JWS compact token with JSON header and claims (AADSTS50027).
    Malformed,
    /// An algorithm Entra does not verify client assertions with (`none`, HS256, ...).
    Algorithm(String),
    /// No published key verifies the signature (by `kid`, or any when the header names none).
    Signature,
    /// Outside `nbf`..`exp`, skew allowed (AADSTS700024).
    Lifetime { now: i64, nbf: Option<i64>, exp: Option<i64> },
}

/// A compact JWS split and decoded, not yet trusted.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl UnverifiedToken {
    pub fn parse(token: &str) -> Result<Self, ExternalTokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ExternalTokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(ExternalTokenError::Malformed);
        };
        let object = |part: &str| -> Result<Map<String, Value>, ExternalTokenError> {
            let bytes = B64.decode(part).map_err(|_| ExternalTokenError::Malformed)?;
            match serde_json::from_slice(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(ExternalTokenError::Malformed),
            }
        };
        let header = object(h)?;
        let claims = object(p)?;
        let signature = B64.decode(s).map_err(|_| ExternalTokenError::Malformed)?;
        Ok(UnverifiedToken { header, claims, signing_input: format!("{h}.{p}"), signature })
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn kid(&self) -> Option<&str> {
        self.header_str("kid")
    }

    /// The verification parameters of the header's `alg`, or why it is refused.
    pub fn rsa_parameters(&self) -> Result<&'static RsaParameters, ExternalTokenError> {
        let alg = self.header_str("alg").unwrap_or_default();
        Ok(match alg {
            "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
            "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
            "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
            "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
            "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
            "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
            other => return Err(ExternalTokenError::Algorithm(other.to_string())),
        })
    }

    /// Checks the signature against `keys` (the key named by `kid`, or every key when the
    /// header names none) and the lifetime at `now`.
    pub fn verify(&self, keys: &Jwks, now: i64) -> Result<(), ExternalTokenError> {
        let params = self.rsa_parameters()?;
        let kid = self.kid();
        let candidates = keys.keys.iter().filter(|k| kid.is_none() || k.kid.as_deref() == kid);
        let verified = candidates.into_iter().any(|k| {
            PublicKeyComponents { n: &k.n[..], e: &k.e[..] }.verify(params, self.signing_input.as_bytes(), &self.signature).is_ok()
        });
        if !verified {
            return Err(ExternalTokenError::Signature);
        }
        self.check_lifetime(now)
    }

    /// Checks the signature against one RSA public key (PKCS#1 `RSAPublicKey` DER, as a
    /// certificate holds it).
    pub fn verify_rsa_key(&self, public_key: &[u8]) -> Result<(), ExternalTokenError> {
        let params = self.rsa_parameters()?;
        signature::UnparsedPublicKey::new(params, public_key)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| ExternalTokenError::Signature)
    }

    /// `exp` is required; `nbf`, when present, must have passed (both with [`SKEW_SECS`]).
    pub fn check_lifetime(&self, now: i64) -> Result<(), ExternalTokenError> {
        let number = |c: &str| self.claims.get(c).and_then(Value::as_f64).map(|f| f as i64);
        let (exp, nbf) = (number("exp"), number("nbf"));
        let expired = exp.is_none_or(|e| e + SKEW_SECS <= now);
        let early = nbf.is_some_and(|n| n > now + SKEW_SECS);
        if expired || early {
            return Err(ExternalTokenError::Lifetime { now, nbf, exp });
        }
        Ok(())
    }
}

/// One RSA verification key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaJwk {
    pub kid: Option<String>,
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

/// The usable keys of an issuer's JWKS: RSA, for signatures, at most [`MAX_KEYS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<RsaJwk>,
}

impl Jwks {
    /// Reads `{"keys": [...]}`, skipping what cannot verify an RSA signature.
    pub fn parse(doc: &Value) -> Option<Self> {
        let keys = doc.get("keys")?.as_array()?;
        let usable = keys.iter().take(MAX_KEYS).filter_map(|k| {
            let s = |n: &str| k.get(n).and_then(Value::as_str);
            if s("kty") != Some("RSA") || s("use").is_some_and(|u| u != "sig") {
                return None;
            }
            let n = B64.decode(s("n")?.trim_end_matches('=')).ok()?;
            let e = B64.decode(s("e")?.trim_end_matches('=')).ok()?;
            // Below 2048 bits aws-lc refuses to verify anyway; skip it here to say so once.
            (n.len() >= 256 && !e.is_empty()).then(|| RsaJwk { kid: s("kid").map(str::to_string), n, e })
        });
        Some(Jwks { keys: usable.collect() })
    }

    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::SigningKey;
    use serde_json::json;

    fn jwks(k: &SigningKey) -> Jwks {
        Jwks::parse(&json!({"keys": [k.jwk("https://issuer.example")]})).unwrap()
    }

    fn token(k: &SigningKey, exp: i64) -> String {
        k.sign(&json!({"iss": "https://issuer.example", "sub": "s", "aud": "api://AzureADTokenExchange", "exp": exp, "nbf": exp - 600}))
    }

    #[test]
    fn verifies_signature_and_lifetime() {
        let k = SigningKey::generate().unwrap();
        let t = UnverifiedToken::parse(&token(&k, 10_000)).unwrap();
        assert_eq!(t.claim_str("sub"), Some("s"));
        assert_eq!(t.verify(&jwks(&k), 9_500), Ok(()));
        assert_eq!(t.verify(&jwks(&k), 9_400 - SKEW_SECS), Ok(()), "nbf allows the skew");
        assert!(matches!(t.verify(&jwks(&k), 10_000 + SKEW_SECS), Err(ExternalTokenError::Lifetime { .. })));
        assert!(matches!(t.verify(&jwks(&k), 9_400 - SKEW_SECS - 1), Err(ExternalTokenError::Lifetime { .. })));
        let other = SigningKey::generate().unwrap();
        assert_eq!(t.verify(&jwks(&other), 9_500), Err(ExternalTokenError::Signature));
    }

    #[test]
    fn refuses_unsigned_and_hmac_tokens() {
        let enc = |v: Value| B64.encode(v.to_string());
        let claims = enc(json!({"iss": "https://issuer.example", "sub": "s", "exp": 99_999}));
        let k = SigningKey::generate().unwrap();
        for alg in ["none", "HS256", "ES256"] {
            let t = format!("{}.{claims}.", enc(json!({"alg": alg, "kid": k.kid})));
            let parsed = UnverifiedToken::parse(&t).unwrap();
            assert_eq!(parsed.verify(&jwks(&k), 1), Err(ExternalTokenError::Algorithm(alg.into())));
        }
    }

    #[test]
    fn refuses_malformed_tokens() {
        for bad in ["", "a.b", "a.b.c.d", "e30.e30.!!", "WzFd.e30.", &"x".repeat(MAX_TOKEN_BYTES + 1)] {
            assert!(UnverifiedToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jwks_keeps_only_rsa_signature_keys() {
        let k = SigningKey::generate().unwrap();
        let mut enc = k.jwk("x");
        enc["use"] = "enc".into();
        let doc = json!({"keys": [k.jwk("x"), enc, {"kty": "EC", "crv": "P-256"}, {"kty": "RSA", "n": "AQAB", "e": "AQAB"}]});
        let set = Jwks::parse(&doc).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert!(set.has_kid(&k.kid));
        assert!(Jwks::parse(&json!({"nokeys": 1})).is_none());
    }
}
