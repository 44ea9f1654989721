//! Access tokens: RS256 JWTs with Entra's claim sets, signed and verified with aws-lc.
//!
//! Signing uses a parsed `RsaKeyPair` held for the process's life: a JWT library that re-parses
//! the DER key on every call would spend more on parsing than on the signature itself.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub struct SigningKey {
    pub kid: String,
    pair: RsaKeyPair,
    pkcs8: Vec<u8>,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    /// `base64url(JSON header)` with the `.` already appended: the same for every token.
    header_b64: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid signing key: {0}")]
pub struct KeyError(String);

impl SigningKey {
    pub fn generate() -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| KeyError(e.to_string()))?;
        let pkcs8 = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
            .map_err(|e| KeyError(e.to_string()))?
            .as_ref()
            .to_vec();
        Self::from_pkcs8(&pkcs8)
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| KeyError(e.to_string()))?;
        let comps: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        // Entra's kid/x5t is a base64url thumbprint; ours is of the public key.
        let kid = B64.encode(&Sha256::digest(pair.public_key().as_ref())[..20]);
        let header = json!({"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid});
        let header_b64 = format!("{}.", B64.encode(header.to_string()));
        Ok(SigningKey { kid, pkcs8: pkcs8.to_vec(), modulus: comps.n, exponent: comps.e, pair, header_b64 })
    }

    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The JWK (RFC 7517) of the public key, as Entra publishes it in `keys`.
    pub fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": B64.encode(&self.modulus), "e": B64.encode(&self.exponent),
            "issuer": issuer,
        })
    }

    pub fn sign(&self, claims: &Value) -> String {
        let payload = B64.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() + 350);
        token.push_str(&self.header_b64);
        token.push_str(&payload);
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), token.as_bytes(), &mut sig)
            .expect("RSA signing with a valid key cannot fail");
        token.push('.');
        token.push_str(&B64.encode(sig));
        token
    }

    fn verify_signature(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        PublicKeyComponents { n: &self.modulus[..], e: &self.exponent[..] }
            .verify(&RSA_PKCS1_2048_8192_SHA256, signing_input, signature)
            .is_ok()
    }
}

/// Why a presented token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired { exp: i64 },
    #[error("the token is not yet valid")]
    NotYetValid { nbf: i64 },
}

/// Verifies shape, algorithm, signature (by `kid` among `keys`) and lifetime, and returns the
/// claims. Audience, issuer and tenant are for the caller to judge: each surface accepts
/// different ones.
pub fn verify(token: &str, keys: &[SigningKey], now: i64) -> Result<Map<String, Value>, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let header: Value = B64.decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(TokenError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(TokenError::BadSignature);
    }
    let kid = header.get("kid").and_then(Value::as_str).ok_or(TokenError::BadSignature)?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or(TokenError::BadSignature)?;
    let sig = B64.decode(s).map_err(|_| TokenError::Malformed)?;
    if !key.verify_signature(&token.as_bytes()[..h.len() + 1 + p.len()], &sig) {
        return Err(TokenError::BadSignature);
    }
    let claims: Map<String, Value> = B64.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(TokenError::Malformed)?;
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or(TokenError::Malformed)?;
    if exp <= now {
        return Err(TokenError::Expired { exp });
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        // Entra allows five minutes of clock skew.
        if nbf > now + 300 {
            return Err(TokenError::NotYetValid { nbf });
        }
    }
    Ok(claims)
}

/// Who a token speaks for.
#[derive(Debug, Clone)]
pub enum Subject {
    User { object_id: Uuid, upn: String, name: String, client_app_id: Uuid, scopes: String },
    App { object_id: Uuid, app_id: Uuid, display_name: String, credential: AppCredential },
    ManagedIdentity { object_id: Uuid, client_id: Uuid, resource_id: String },
}

/// How an application proved itself: the `appidacr`/`azpacr` claim ("1" a secret, "2" a
/// certificate or another client assertion; access-token-claims-reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppCredential {
    Secret,
    Assertion,
}

impl Subject {
    pub fn object_id(&self) -> Uuid {
        match self {
            Subject::User { object_id, .. } | Subject::App { object_id, .. } | Subject::ManagedIdentity { object_id, .. } => *object_id,
        }
    }
}

/// Token format version: v1 tokens (`sts.windows.net` issuer) are what resources with
/// `accessTokenAcceptedVersion` 1 get — ARM and Graph among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVersion {
    V1,
    V2,
}

pub fn issuer_v1(tenant: Uuid) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

pub fn issuer_v2(authority: &str, tenant: Uuid) -> String {
    format!("{}/{tenant}/v2.0", authority.trim_end_matches('/'))
}

pub struct AccessTokenRequest<'a> {
    pub subject: &'a Subject,
    pub tenant: Uuid,
    pub audience: &'a str,
    pub issuer: &'a str,
    pub version: TokenVersion,
    pub issued_at: i64,
    pub lifetime_secs: i64,
    pub groups: &'a [Uuid],
    /// App roles granted on the audience to the subject (an application, a managed identity, or
    /// a user directly or through its groups): `roles`.
    pub roles: &'a [String],
}

/// Entra's claim set for an access token of the given subject and version.
pub fn access_token_claims(r: &AccessTokenRequest) -> Value {
    let mut c = Map::new();
    c.insert("aud".into(), r.audience.into());
    c.insert("iss".into(), r.issuer.into());
    c.insert("iat".into(), r.issued_at.into());
    c.insert("nbf".into(), r.issued_at.into());
    c.insert("exp".into(), (r.issued_at + r.lifetime_secs).into());
    c.insert("aio".into(), opaque(24).into());
    let v1 = r.version == TokenVersion::V1;
    let (app_claim, acr_claim) = if v1 { ("appid", "appidacr") } else { ("azp", "azpacr") };
    match r.subject {
        Subject::User { object_id, upn, name, client_app_id, scopes } => {
            c.insert("amr".into(), json!(["pwd"]));
            c.insert(app_claim.into(), client_app_id.to_string().into());
            c.insert(acr_claim.into(), "0".into());
            insert_groups(&mut c, r);
            insert_roles(&mut c, r);
            c.insert("idtyp".into(), "user".into());
            c.insert("name".into(), name.as_str().into());
            c.insert("oid".into(), object_id.to_string().into());
            c.insert("scp".into(), scopes.as_str().into());
            c.insert("sub".into(), object_id.to_string().into());
            c.insert("tid".into(), r.tenant.to_string().into());
            if v1 {
                c.insert("unique_name".into(), upn.as_str().into());
                c.insert("upn".into(), upn.as_str().into());
            } else {
                c.insert("preferred_username".into(), upn.as_str().into());
            }
        }
        Subject::App { object_id, app_id, credential, .. } => {
            c.insert(app_claim.into(), app_id.to_string().into());
            let acr = match credential {
                AppCredential::Secret => "1",
                AppCredential::Assertion => "2",
            };
            c.insert(acr_claim.into(), acr.into());
            insert_groups(&mut c, r);
            insert_roles(&mut c, r);
            if v1 {
                c.insert("idp".into(), format!("https://sts.windows.net/{}/", r.tenant).into());
            }
            c.insert("idtyp".into(), "app".into());
            c.insert("oid".into(), object_id.to_string().into());
            c.insert("sub".into(), object_id.to_string().into());
            c.insert("tid".into(), r.tenant.to_string().into());
        }
        Subject::ManagedIdentity { object_id, client_id, resource_id } => {
            c.insert(app_claim.into(), client_id.to_string().into());
            c.insert(acr_claim.into(), "2".into());
            insert_groups(&mut c, r);
            insert_roles(&mut c, r);
            if v1 {
                c.insert("idp".into(), format!("https://sts.windows.net/{}/", r.tenant).into());
            }
            c.insert("idtyp".into(), "app".into());
            c.insert("oid".into(), object_id.to_string().into());
            c.insert("sub".into(), object_id.to_string().into());
            c.insert("tid".into(), r.tenant.to_string().into());
            c.insert("xms_mirid".into(), resource_id.as_str().into());
        }
    }
    c.insert("rh".into(), format!("0.{}.", opaque(40)).into());
    c.insert("uti".into(), opaque(22).into());
    c.insert("ver".into(), if v1 { "1.0" } else { "2.0" }.into());
    Value::Object(c)
}

fn insert_roles(c: &mut Map<String, Value>, r: &AccessTokenRequest) {
    if !r.roles.is_empty() {
        c.insert("roles".into(), json!(r.roles));
    }
}

/// Entra's JWT group limit: beyond it the token carries no `groups` but a pointer to where
/// the membership can be read (the "overage" claim).
pub const GROUPS_OVERAGE_LIMIT: usize = 200;

fn insert_groups(c: &mut Map<String, Value>, r: &AccessTokenRequest) {
    if r.groups.is_empty() {
        return;
    }
    if r.groups.len() <= GROUPS_OVERAGE_LIMIT {
        c.insert("groups".into(), json!(r.groups));
        return;
    }
    let oid = r.subject.object_id();
    c.insert("_claim_names".into(), json!({"groups": "src1"}));
    c.insert(
        "_claim_sources".into(),
        json!({"src1": {"endpoint": format!("https://graph.windows.net/{}/users/{oid}/getMemberObjects", r.tenant)}}),
    );
}

/// Who signed in, to whom, for an ID token.
pub struct UserSignIn<'a> {
    pub issuer: &'a str,
    pub tenant: Uuid,
    pub client_id: &'a str,
    pub object_id: Uuid,
    pub upn: &'a str,
    pub name: &'a str,
    pub nonce: Option<&'a str>,
}

/// The ID token of a user sign-in (always v2 shape for MSAL).
pub fn id_token_claims(u: &UserSignIn, now: i64) -> Value {
    let mut c = json!({
        "aud": u.client_id, "iss": u.issuer, "iat": now, "nbf": now, "exp": now + 3600,
        "name": u.name, "oid": u.object_id.to_string(), "preferred_username": u.upn,
        "rh": format!("0.{}.", opaque(40)), "sub": u.object_id.to_string(), "tid": u.tenant.to_string(),
        "uti": opaque(22), "ver": "2.0",
    });
    if let Some(n) = u.nonce {
        c["nonce"] = n.into();
    }
    c
}

/// Random base64url text of `len` characters, for Entra's opaque claims (aio, uti, rh).
pub fn opaque(len: usize) -> String {
    let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    let mut s = B64.encode(bytes);
    s.truncate(len);
    s
}

/// Reads a token's claims without verifying it (to tell why it was refused).
pub fn peek_claims(token: &str) -> Option<Map<String, Value>> {
    let p = token.split('.').nth(1)?;
    serde_json::from_slice(&B64.decode(p).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::generate().unwrap()
    }

    #[test]
    fn signs_and_verifies_round_trip() {
        let k = key();
        let sub =
            Subject::App { object_id: Uuid::new_v4(), app_id: Uuid::new_v4(), display_name: "x".into(), credential: AppCredential::Secret };
        let tenant = Uuid::new_v4();
        let iss = issuer_v1(tenant);
        let claims = access_token_claims(&AccessTokenRequest {
            subject: &sub,
            tenant,
            audience: crate::cloud::ARM_AUDIENCES[1],
            issuer: &iss,
            version: TokenVersion::V1,
            issued_at: 1000,
            lifetime_secs: 3600,
            groups: &[],
            roles: &[],
        });
        let t = k.sign(&claims);
        let got = verify(&t, std::slice::from_ref(&k), 2000).unwrap();
        assert_eq!(got["idtyp"], "app");
        assert_eq!(got["ver"], "1.0");
        assert_eq!(got["tid"], tenant.to_string());
        assert!(matches!(verify(&t, std::slice::from_ref(&k), 5000), Err(TokenError::Expired { exp: 4600 })));
        // Another key, same kid impossible: refused as a bad signature.
        assert_eq!(verify(&t, &[key()], 2000), Err(TokenError::BadSignature));
    }

    #[test]
    fn refuses_unsigned_and_tampered_tokens() {
        let k = key();
        let t = k.sign(&json!({"exp": 10_000, "sub": "a"}));
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(verify(&format!("{none_header}.{}.", parts[1]), std::slice::from_ref(&k), 0), Err(TokenError::BadSignature));
        let forged = B64.encode(r#"{"exp":10000,"sub":"b"}"#);
        assert_eq!(verify(&format!("{}.{forged}.{}", parts[0], parts[2]), std::slice::from_ref(&k), 0), Err(TokenError::BadSignature));
        assert_eq!(verify("not-a-jwt", std::slice::from_ref(&k), 0), Err(TokenError::Malformed));
    }

    #[test]
    fn groups_claim_and_overage() {
        let sub =
            Subject::App { object_id: Uuid::new_v4(), app_id: Uuid::new_v4(), display_name: "x".into(), credential: AppCredential::Secret };
        let claims = |n: usize| {
            let groups: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
            access_token_claims(&AccessTokenRequest {
                subject: &sub,
                tenant: Uuid::nil(),
                audience: "a",
                issuer: "i",
                version: TokenVersion::V1,
                issued_at: 0,
                lifetime_secs: 1,
                groups: &groups,
                roles: &[],
            })
        };
        assert!(claims(0).get("groups").is_none());
        assert_eq!(claims(200)["groups"].as_array().unwrap().len(), 200);
        let over = claims(201);
        assert!(over.get("groups").is_none());
        assert_eq!(over["_claim_names"]["groups"], "src1");
        assert!(over["_claim_sources"]["src1"]["endpoint"].as_str().unwrap().ends_with("/getMemberObjects"));
    }

    #[test]
    fn pkcs8_round_trip_keeps_kid() {
        let k = key();
        let k2 = SigningKey::from_pkcs8(k.pkcs8()).unwrap();
        assert_eq!(k.kid, k2.kid);
    }
}

/// What a refresh token stands for, stored by the token's hash until it expires.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefreshGrant {
    pub tenant: Uuid,
    pub user: Uuid,
    pub client: Uuid,
    pub expires: i64,
    /// Issued to a confidential client: redeeming it needs that client's credential again.
    #[serde(default)]
    pub confidential: bool,
}
