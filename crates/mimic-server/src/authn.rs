//! Bearer-token authentication shared by ARM and Graph: signature, lifetime, issuer, audience
//! and tenant, as Azure checks them. Each surface renders the failure in its own shape.

use std::sync::Arc;

use mimic_domain::token::{self, TokenError};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::state::AppState;

/// Who is calling, from a verified token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: Uuid,
    pub object_id: Uuid,
    pub app_id: Option<Uuid>,
    /// The user's UPN for users; `None` for applications and managed identities.
    pub upn: Option<String>,
    pub claims: Arc<Map<String, Value>>,
}

impl Caller {
    /// How Azure names the caller in AuthorizationFailed: the UPN for users, else the object id.
    pub fn display(&self) -> String {
        self.upn.clone().unwrap_or_else(|| self.object_id.to_string())
    }
    pub fn is_user(&self) -> bool {
        self.claims.get("idtyp").and_then(Value::as_str) == Some("user")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`.
    BadScheme,
    Invalid(String),
    Expired {
        exp: i64,
        now: i64,
    },
    WrongAudience(String),
    WrongIssuer,
    /// The token's tenant does not exist here, or the resource belongs to another tenant.
    WrongTenant,
    /// The store could not be read to check the token's tenant or principal (PostgreSQL down):
    /// not the token's fault, so a 503 rather than a 401.
    Unavailable(String),
}

/// A store read of the checks below: a store that cannot answer is `Unavailable`, not a "no".
fn checked(r: Result<bool, mimic_store::StoreError>) -> Result<bool, AuthError> {
    match r {
        Ok(found) => Ok(found),
        Err(mimic_store::StoreError::Unavailable(e)) => Err(AuthError::Unavailable(e)),
        Err(_) => Ok(false),
    }
}

impl From<TokenError> for AuthError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Expired { exp } => AuthError::Expired { exp, now: chrono::Utc::now().timestamp() },
            other => AuthError::Invalid(other.to_string()),
        }
    }
}

/// Verifies the `Authorization` header value against `audiences` (compared without a trailing
/// slash, case-insensitively, as Azure does).
pub fn authenticate(state: &AppState, header: Option<&str>, audiences: &[&str]) -> Result<Caller, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim).ok_or(AuthError::BadScheme)?;
    let now = chrono::Utc::now().timestamp();
    let claims = match state.verified.get(token) {
        Some(c) => {
            let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
            if exp <= now {
                return Err(AuthError::Expired { exp, now });
            }
            c
        }
        None => {
            let c = Arc::new(token::verify(token, &state.keys.keys(), now)?);
            state.verified.insert(token, c.clone());
            c
        }
    };
    let str_claim = |k: &str| claims.get(k).and_then(Value::as_str);
    let tenant: Uuid = str_claim("tid").and_then(|t| t.parse().ok()).ok_or_else(|| AuthError::Invalid("no tid".into()))?;
    let iss = str_claim("iss").unwrap_or_default();
    let v1_iss = format!("https://sts.windows.net/{tenant}/");
    let v2_iss = format!("{}/{tenant}/v2.0", state.endpoints.login);
    if iss != v1_iss && iss != v2_iss {
        return Err(AuthError::WrongIssuer);
    }
    let aud = str_claim("aud").unwrap_or_default();
    if !audiences.iter().any(|a| same_audience(a, aud)) {
        return Err(AuthError::WrongAudience(aud.to_string()));
    }
    let generation = state.store.generation();
    let known = state.caches.tenants.get_or_load(generation, &tenant, || state.store.read(|tx| tx.tenant(tenant))).map(|t| t.is_some());
    if !checked(known)? {
        return Err(AuthError::WrongTenant);
    }
    let object_id = str_claim("oid").and_then(|o| o.parse().ok()).ok_or_else(|| AuthError::Invalid("no oid".into()))?;
    let exists = state.caches.principals.get_or_load(generation, &(tenant, object_id), || {
        state.store.read(|tx| tx.directory_object(tenant, object_id)).map(|o| o.is_some())
    });
    if !checked(exists)? {
        return Err(AuthError::Invalid("the principal no longer exists".into()));
    }
    let app_id = str_claim("appid").or_else(|| str_claim("azp")).and_then(|a| a.parse().ok());
    let upn = str_claim("upn").or_else(|| str_claim("preferred_username")).map(str::to_string);
    Ok(Caller { tenant, object_id, app_id, upn, claims })
}

pub fn same_audience(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}
