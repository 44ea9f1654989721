//! Portal sessions and pending sign-ins, held in memory: a restart signs users out (they sign in
//! again), and no token or PKCE verifier is ever written to disk or sent to the browser.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "mimic_portal_session";
pub const SIGNIN_COOKIE: &str = "mimic_portal_signin";
/// Pending sign-ins expire like the authorization codes they wait for.
const PENDING_LIFETIME: i64 = 600;
/// A session lasts a working day at most, like the portal's own sign-in; then sign in again.
const SESSION_LIFETIME: i64 = 12 * 3600;

/// A signed-in user: who, and the tokens the BFF calls ARM and Graph with.
#[derive(Clone)]
pub struct Session {
    pub tenant: Uuid,
    pub user: Uuid,
    pub upn: String,
    pub name: String,
    pub refresh_token: String,
    /// Access tokens by audience, with their expiry (unix seconds).
    pub tokens: HashMap<&'static str, (String, i64)>,
    /// When the user signed in (unix seconds).
    pub created: i64,
}

/// An authorize request in flight: what the callback needs to redeem its code.
pub struct Pending {
    pub verifier: String,
    pub nonce: String,
    pub created: i64,
}

#[derive(Default)]
pub struct Sessions {
    /// By the SHA-256 of the cookie value, so a memory dump holds no usable cookie.
    sessions: Mutex<HashMap<String, Session>>,
    /// By the `state` parameter.
    pending: Mutex<HashMap<String, Pending>>,
}

fn key(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

impl Sessions {
    pub fn begin(&self, state: String, p: Pending) {
        let mut m = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let now = chrono::Utc::now().timestamp();
        m.retain(|_, v| now - v.created < PENDING_LIFETIME);
        m.insert(state, p);
    }
    pub fn take_pending(&self, state: &str) -> Option<Pending> {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(state)?;
        (chrono::Utc::now().timestamp() - p.created < PENDING_LIFETIME).then_some(p)
    }
    /// Stores the session and returns the cookie value that names it.
    pub fn create(&self, s: Session) -> String {
        let id = mimic_domain::token::opaque(43);
        let mut m = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = chrono::Utc::now().timestamp();
        m.retain(|_, v| now - v.created < SESSION_LIFETIME);
        m.insert(key(&id), s);
        id
    }
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = chrono::Utc::now().timestamp();
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(&key(id)).filter(|s| now - s.created < SESSION_LIFETIME).cloned()
    }
    pub fn update(&self, id: &str, s: Session) {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(key(id), s);
    }
    pub fn remove(&self, id: &str) {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&key(id));
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
