//! Issuers Mimic hosts for tests (`mimic oidc-token`, `POST /mimic/oidc-issuers/{name}/token`
//! on the Graph listener): created by a tenant on first use, which then owns the name, each
//! with its own RSA key sealed in the store. Their discovery document and JWKS are served on
//! `https://token.actions.githubusercontent.com/{name}` through the proxy ([`router`]); the
//! token service reads their keys from the store directly.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mimic_domain::federation::external_token::Jwks;
use mimic_domain::federation::hosted::{self, HostedIssuer};
use mimic_domain::token::SigningKey;
use mimic_store::documents::{Docs, OIDC_ISSUER, OIDC_ISSUERS_OF};
use mimic_store::StoreError;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::state::{AppState, SharedState};

/// What the sealed key of a hosted issuer is sealed for.
const SEAL_PURPOSE: &str = "federation.issuer.key";

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("'{0}' is not a valid issuer name: 1 to 64 lower-case letters, digits and '-', a letter or digit first")]
    Name(String),
    #[error("the issuer '{0}' belongs to another tenant")]
    NotOwner(String),
    #[error("a tenant may host at most {} issuers", hosted::MAX_PER_TENANT)]
    TooMany,
    #[error("{0}")]
    Request(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// The hosted issuer `name`'s signing key, if it exists.
fn signing_key(state: &AppState, name: &str) -> Result<Option<Arc<SigningKey>>, StoreError> {
    if let Some(k) = state.issuers.hosted_key(name) {
        return Ok(Some(k));
    }
    let Some(record) = state.store.read(|tx| tx.get(OIDC_ISSUER, name))? else {
        return Ok(None);
    };
    let key = open(state, &record).map_err(|e| StoreError::Corrupt(format!("hosted issuer '{name}': {e}")))?;
    Ok(Some(state.issuers.remember_hosted_key(name, key)))
}

fn open(state: &AppState, record: &HostedIssuer) -> anyhow::Result<SigningKey> {
    let pkcs8 = state.keys.master_key().open(SEAL_PURPOSE, &record.sealed_key)?;
    Ok(SigningKey::from_pkcs8(&pkcs8)?)
}

/// The JWKS of the hosted issuer `name`, if it exists.
pub fn jwks(state: &AppState, name: &str) -> Result<Option<Arc<Jwks>>, StoreError> {
    Ok(signing_key(state, name)?.and_then(|k| Jwks::parse(&jwks_document(&k, name)).map(Arc::new)))
}

fn jwks_document(k: &SigningKey, name: &str) -> Value {
    let mut jwk = k.jwk(&hosted::issuer_url(name));
    if let Some(o) = jwk.as_object_mut() {
        o.remove("issuer");
        o.insert("alg".into(), "RS256".into());
    }
    json!({ "keys": [jwk] })
}

/// Mints a token of the hosted issuer `name` for `tenant`, creating the issuer (owned by
/// `tenant`) on first use.
pub fn mint(
    state: &AppState,
    tenant: Uuid,
    name: &str,
    subject: &str,
    audience: &str,
    extra: &Map<String, Value>,
) -> Result<String, MintError> {
    if !hosted::valid_name(name) {
        return Err(MintError::Name(name.to_string()));
    }
    let bad = |what: &str| MintError::Request(format!("'{what}' must be a non-empty string of at most 600 characters"));
    for (what, v) in [("subject", subject), ("audience", audience)] {
        if v.is_empty() || v.chars().count() > mimic_domain::federation::MAX_VALUE_CHARS {
            return Err(bad(what));
        }
    }
    if extra.len() > hosted::MAX_EXTRA_CLAIMS {
        return Err(MintError::Request(format!("at most {} extra claims", hosted::MAX_EXTRA_CLAIMS)));
    }
    let record = match state.store.read(|tx| tx.get(OIDC_ISSUER, name))? {
        Some(r) => r,
        None => create(state, tenant, name)?,
    };
    if record.tenant != tenant {
        return Err(MintError::NotOwner(name.to_string()));
    }
    let key = signing_key(state, name)?.ok_or_else(|| MintError::Internal("the issuer vanished".into()))?;
    Ok(key.sign(&hosted::token_claims(name, subject, audience, extra, chrono::Utc::now().timestamp())))
}

/// Creates the issuer; a concurrent creation of the same name wins and its record is returned.
fn create(state: &AppState, tenant: Uuid, name: &str) -> Result<HostedIssuer, MintError> {
    let key = SigningKey::generate().map_err(|e| MintError::Internal(e.to_string()))?;
    let sealed_key = state.keys.master_key().seal(SEAL_PURPOSE, key.pkcs8()).map_err(|e| MintError::Internal(e.to_string()))?;
    let record = HostedIssuer { name: name.to_string(), tenant, created: chrono::Utc::now().timestamp(), sealed_key };
    state.store.write(|tx| {
        if let Some(existing) = tx.get(OIDC_ISSUER, name)? {
            return Ok(existing);
        }
        let owner = tenant.to_string();
        let mut owned = tx.get(OIDC_ISSUERS_OF, &owner)?.unwrap_or_default();
        if owned.len() >= hosted::MAX_PER_TENANT {
            return Err(MintError::TooMany);
        }
        owned.push(name.to_string());
        tx.put(OIDC_ISSUERS_OF, &owner, &owned, None)?;
        tx.put(OIDC_ISSUER, name, &record, None)?;
        Ok(record.clone())
    })
}

/// `https://token.actions.githubusercontent.com/{name}/.well-known/...`, as GitHub serves them.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/{name}/.well-known/openid-configuration", get(discovery))
        .route("/{name}/.well-known/jwks", get(keys))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found") })
        .with_state(state)
}

async fn discovery(State(state): State<SharedState>, Path(name): Path<String>) -> Response {
    match signing_key(&state, &name) {
        Ok(Some(_)) => Json(hosted::discovery_document(&name)).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn keys(State(state): State<SharedState>, Path(name): Path<String>) -> Response {
    match signing_key(&state, &name) {
        Ok(Some(k)) => Json(jwks_document(&k, &name)).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
