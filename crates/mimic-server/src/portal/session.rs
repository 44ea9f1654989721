//! Portal sessions and pending sign-ins, kept in the store as documents, so any replica over one
//! store serves a browser whose requests alternate between replicas, and a restart signs no one
//! out. Each is filed under the SHA-256 of the browser's secret (the session cookie; the
//! sign-in's `state`) and sealed under a key derived from that secret
//! (`mimic_domain::sealed`): the store holds no usable cookie, token or PKCE verifier, and the
//! browser never sees the tokens.
//!
//! Cost: one store read per portal API call; a write only at sign-in, sign-out and when the
//! session's tokens change (a refresh). Expiry is checked on every read; expired documents are
//! deleted when a sign-in starts or completes.

use std::collections::HashMap;

use axum::http::HeaderMap;
use mimic_domain::sealed::{self, SealedRecord};
use mimic_store::documents::{Docs, Kind, PORTAL_SESSION, PORTAL_SIGNIN};
use mimic_store::{Store, StoreError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "mimic_portal_session";
pub const SIGNIN_COOKIE: &str = "mimic_portal_signin";
/// Pending sign-ins expire like the authorization codes they wait for.
const PENDING_LIFETIME: i64 = 600;
/// A session lasts a working day at most, like the portal's own sign-in; then sign in again.
const SESSION_LIFETIME: i64 = 12 * 3600;

/// A signed-in user: who, and the tokens the BFF calls ARM and Graph with.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub tenant: Uuid,
    pub user: Uuid,
    pub upn: String,
    pub name: String,
    pub refresh_token: String,
    /// Access tokens by audience, with their expiry (unix seconds).
    pub tokens: HashMap<String, (String, i64)>,
    /// When the user signed in (unix seconds).
    pub created: i64,
}

/// An authorize request in flight: what the callback needs to redeem its code.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    pub verifier: String,
    pub nonce: String,
    pub created: i64,
}

/// The store failed; the caller answers 503 rather than pretending the user is signed out.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl From<StoreError> for Unavailable {
    fn from(e: StoreError) -> Self {
        Unavailable(e.to_string())
    }
}

pub struct Sessions {
    store: Store,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The stored record: the expiry in clear (checked before opening), the value sealed.
fn document<T: Serialize>(secret: &str, value: &T, expires: i64) -> Result<SealedRecord, Unavailable> {
    let plain = serde_json::to_vec(value).map_err(|e| Unavailable(e.to_string()))?;
    let sealed = sealed::seal(secret, &plain).ok_or_else(|| Unavailable("the system's random source failed".into()))?;
    Ok(SealedRecord { expires, sealed })
}

/// Files `value` sealed under `secret`, removing the kind's expired documents in the same
/// transaction.
fn file<T: Serialize>(store: &Store, kind: Kind<SealedRecord>, secret: &str, value: &T, expires: i64) -> Result<(), Unavailable> {
    let doc = document(secret, value, expires)?;
    let id = sealed::locator(secret);
    store.write(|tx| {
        tx.remove_expired(kind, now())?;
        tx.put(kind, &id, &doc, Some(expires))
    })?;
    Ok(())
}

/// The value in `doc` if it has not expired and opens under `secret`.
fn unseal<T: DeserializeOwned>(secret: &str, doc: Option<SealedRecord>) -> Option<T> {
    let doc = doc?;
    if doc.expires <= now() {
        return None;
    }
    serde_json::from_slice(&sealed::open(secret, &doc.sealed)?).ok()
}

/// Runs a store call on the blocking pool (SQLite waits for an fsync, PostgreSQL for the network).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Unavailable> + Send + 'static) -> Result<T, Unavailable> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Unavailable(e.to_string()))?
}

impl Sessions {
    pub fn new(store: Store) -> Self {
        Sessions { store }
    }

    /// Files a sign-in in progress under its `state`, for whichever replica the callback reaches.
    pub async fn begin(&self, state: String, p: Pending) -> Result<(), Unavailable> {
        let store = self.store.clone();
        blocking(move || file(&store, PORTAL_SIGNIN, &state, &p, p.created + PENDING_LIFETIME)).await
    }

    /// The sign-in filed under `state`, removed in the same transaction (a state is used once).
    pub async fn take_pending(&self, state: &str) -> Result<Option<Pending>, Unavailable> {
        let (store, state) = (self.store.clone(), state.to_string());
        blocking(move || {
            let id = sealed::locator(&state);
            let doc = store.write(|tx| {
                let doc = tx.get(PORTAL_SIGNIN, &id)?;
                if doc.is_some() {
                    tx.remove(PORTAL_SIGNIN, &id)?;
                }
                Ok::<_, StoreError>(doc)
            })?;
            Ok(unseal(&state, doc))
        })
        .await
    }

    /// Stores the session and returns the cookie value that names it.
    pub async fn create(&self, s: Session) -> Result<String, Unavailable> {
        let store = self.store.clone();
        blocking(move || {
            let id = mimic_domain::token::opaque(43);
            file(&store, PORTAL_SESSION, &id, &s, s.created + SESSION_LIFETIME)?;
            Ok(id)
        })
        .await
    }

    pub async fn get(&self, id: &str) -> Result<Option<Session>, Unavailable> {
        let (store, id) = (self.store.clone(), id.to_string());
        blocking(move || {
            let doc = store.read(|tx| tx.get(PORTAL_SESSION, &sealed::locator(&id)))?;
            Ok(unseal(&id, doc))
        })
        .await
    }

    /// Writes the session's new tokens back, unless it was signed out (on any replica) meanwhile.
    pub async fn update(&self, id: &str, s: Session) -> Result<(), Unavailable> {
        let (store, id) = (self.store.clone(), id.to_string());
        blocking(move || {
            let expires = s.created + SESSION_LIFETIME;
            let doc = document(&id, &s, expires)?;
            let key = sealed::locator(&id);
            store.write(|tx| {
                if tx.get(PORTAL_SESSION, &key)?.is_some() {
                    tx.put(PORTAL_SESSION, &key, &doc, Some(expires))?;
                }
                Ok::<_, StoreError>(())
            })?;
            Ok(())
        })
        .await
    }

    pub async fn remove(&self, id: &str) -> Result<(), Unavailable> {
        let (store, id) = (self.store.clone(), id.to_string());
        blocking(move || {
            store.write(|tx| tx.remove(PORTAL_SESSION, &sealed::locator(&id)))?;
            Ok(())
        })
        .await
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a cookie only this origin's server reads.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: Option<i64>) -> String {
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    format!("{name}={value}; Path={path}; HttpOnly; Secure; SameSite=Lax{age}")
}
