//! Issuers Mimic hosts so that a test can play a pipeline's OIDC provider (`mimic oidc-token`):
//! each has its own name, owner tenant and RSA key, distinct from the token service's keys, and
//! an issuer URL of the form GitHub uses for an enterprise's own issuer.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The host hosted issuers live under, served by Mimic's proxy.
pub const HOST: &str = "token.actions.githubusercontent.com";
/// Longest hosted issuer name.
pub const MAX_NAME_CHARS: usize = 64;
/// Hosted issuers one tenant may own.
pub const MAX_PER_TENANT: usize = 20;
/// Lifetime of a minted token unless the caller sets `exp`: GitHub's is about five minutes;
/// an hour leaves room for slow pipelines in tests.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// Most extra claims a minted token may carry.
pub const MAX_EXTRA_CLAIMS: usize = 32;

/// A hosted issuer as stored: its private key sealed under the master key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostedIssuer {
    pub name: String,
    pub tenant: Uuid,
    pub created: i64,
    /// PKCS#8 of the RSA key, sealed (`MasterKey::seal`), base64.
    pub sealed_key: String,
}

/// A hosted issuer's name: 1 to 64 lower-case letters, digits and `-`, a letter or digit first
/// (what fits a URL path segment and a GitHub enterprise slug).
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The issuer URL of the hosted issuer `name`.
pub fn issuer_url(name: &str) -> String {
    format!("https://{HOST}/{name}")
}

/// The hosted issuer an issuer URL names, if it is one.
pub fn name_of(issuer: &str) -> Option<&str> {
    let name = issuer.strip_prefix("https://")?.strip_prefix(HOST)?.strip_prefix('/')?;
    valid_name(name).then_some(name)
}

/// The claims of a minted token: the caller's extra claims (which may set `exp`, `nbf` and
/// `iat`, to mint an expired or early token), then the ones the request names.
pub fn token_claims(name: &str, subject: &str, audience: &str, extra: &Map<String, Value>, now: i64) -> Value {
    let mut claims = json!({
        "jti": Uuid::new_v4().to_string(),
        "iat": now,
        "nbf": now,
        "exp": now + DEFAULT_LIFETIME_SECS,
    });
    let map = claims.as_object_mut().expect("object");
    for (k, v) in extra {
        map.insert(k.clone(), v.clone());
    }
    map.insert("iss".into(), issuer_url(name).into());
    map.insert("sub".into(), subject.into());
    map.insert("aud".into(), audience.into());
    claims
}

/// The OpenID configuration of a hosted issuer, with the fields GitHub's has.
pub fn discovery_document(name: &str) -> Value {
    let issuer = issuer_url(name);
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks"),
        "subject_types_supported": ["public", "pairwise"],
        "response_types_supported": ["id_token"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner", "environment"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_round_trip() {
        assert!(valid_name("contoso-ci"));
        for bad in ["", "-x", "Upper", "a/b", "a.b", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(name_of(&issuer_url("contoso-ci")), Some("contoso-ci"));
        assert_eq!(name_of("https://token.actions.githubusercontent.com"), None);
        assert_eq!(name_of("https://token.actions.githubusercontent.com/a/b"), None);
    }

    #[test]
    fn request_claims_win_over_extra_ones() {
        let extra: Map<String, Value> = serde_json::from_value(json!({"sub": "x", "exp": 5, "ref": "refs/heads/main"})).unwrap();
        let c = token_claims("ci", "repo:o/r:ref:refs/heads/main", "api://AzureADTokenExchange", &extra, 100);
        assert_eq!(c["sub"], "repo:o/r:ref:refs/heads/main");
        assert_eq!(c["exp"], 5, "an explicit exp mints an expired token");
        assert_eq!(c["ref"], "refs/heads/main");
        assert_eq!(c["iss"], "https://token.actions.githubusercontent.com/ci");
    }
}
