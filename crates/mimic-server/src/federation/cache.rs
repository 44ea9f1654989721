//! Other issuers' published keys (JWKS), found through their OpenID configuration
//! (`fetch.rs`) and cached; and the opened keys of the issuers Mimic hosts (`hosted.rs`).
//!
//! The cache keeps an issuer's keys for [`FRESH`]; a token whose `kid` the cached set lacks
//! refetches at most every [`REFETCH_AFTER`] (the issuer may have rotated), and a failed fetch
//! is remembered for [`REFETCH_AFTER`] so that a token endpoint flooded with assertions naming
//! a dead issuer does not flood the issuer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mimic_domain::federation::external_token::Jwks;
use serde_json::Value;

use super::fetch;

pub const FRESH: Duration = Duration::from_secs(300);
pub const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// Issuers cached at once; past it the cache starts over.
const MAX_CACHED: usize = 1024;

#[derive(Debug)]
pub enum KeysError {
    /// The issuer's documents could not be read (AADSTS50166).
    Unreachable,
    /// The store failed while reading a hosted issuer.
    Store(mimic_store::StoreError),
}

struct Entry {
    keys: Option<Arc<Jwks>>,
    fetched: Instant,
}

/// The process's view of external issuers' keys.
#[derive(Default)]
pub struct Issuers {
    /// The PEM bundle HTTPS fetches trust (`DATA_DIR/ca-bundle.pem`); none: HTTPS fails.
    ca_bundle: Option<PathBuf>,
    tls: OnceLock<Option<Arc<rustls::ClientConfig>>>,
    cache: Mutex<HashMap<String, Entry>>,
    /// One fetch in flight per issuer.
    gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Hosted issuers' keys, opened once (an issuer's key never changes).
    hosted: Mutex<HashMap<String, Arc<mimic_domain::token::SigningKey>>>,
}

impl Issuers {
    pub fn new(ca_bundle: PathBuf) -> Self {
        Issuers { ca_bundle: Some(ca_bundle), ..Default::default() }
    }

    fn tls(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.tls.get_or_init(|| self.ca_bundle.as_deref().and_then(fetch::client_config)).as_ref()
    }

    /// The keys `issuer` signs with, enough to check a token whose header names `kid`.
    pub async fn keys(&self, issuer: &str, kid: Option<&str>) -> Result<Arc<Jwks>, KeysError> {
        if let Some(cached) = self.cached(issuer, kid) {
            return cached;
        }
        // One fetch per issuer at a time: requests that queue here find its result cached.
        let gate = self.gate(issuer);
        let _turn = gate.lock().await;
        if let Some(cached) = self.cached_since(issuer, kid, REFETCH_AFTER) {
            return cached;
        }
        let fetched = self.fetch(issuer).await;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        let keys = fetched.map(Arc::new);
        if let Err(why) = &keys {
            tracing::warn!(issuer, error = %why, "cannot read a federated issuer's keys");
        }
        cache.insert(issuer.to_string(), Entry { keys: keys.clone().ok(), fetched: Instant::now() });
        keys.map_err(|_| KeysError::Unreachable)
    }

    /// What the cache answers without a fetch: fresh keys that have `kid`, keys or a failure
    /// fetched too recently to fetch again.
    fn cached(&self, issuer: &str, kid: Option<&str>) -> Option<Result<Arc<Jwks>, KeysError>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let e = cache.get(issuer)?;
        let age = e.fetched.elapsed();
        match &e.keys {
            None if age < REFETCH_AFTER => Some(Err(KeysError::Unreachable)),
            None => None,
            Some(k) if age < FRESH && kid.is_none_or(|kid| k.has_kid(kid)) => Some(Ok(k.clone())),
            Some(k) if age < REFETCH_AFTER => Some(Ok(k.clone())),
            Some(_) => None,
        }
    }

    /// An answer fetched within `window`, whatever it holds (a request that waited for another's
    /// fetch takes that fetch's result).
    fn cached_since(&self, issuer: &str, kid: Option<&str>, window: Duration) -> Option<Result<Arc<Jwks>, KeysError>> {
        let recent = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.get(issuer).is_some_and(|e| e.fetched.elapsed() < window)
        };
        if recent {
            self.cached(issuer, kid)
        } else {
            None
        }
    }

    fn gate(&self, issuer: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        if gates.len() >= MAX_CACHED {
            gates.retain(|_, g| Arc::strong_count(g) > 1);
        }
        gates.entry(issuer.to_string()).or_default().clone()
    }

    pub(super) fn hosted_key(&self, name: &str) -> Option<Arc<mimic_domain::token::SigningKey>> {
        self.hosted.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    pub(super) fn remember_hosted_key(&self, name: &str, key: mimic_domain::token::SigningKey) -> Arc<mimic_domain::token::SigningKey> {
        let mut hosted = self.hosted.lock().unwrap_or_else(|p| p.into_inner());
        hosted.entry(name.to_string()).or_insert_with(|| Arc::new(key)).clone()
    }

    /// The issuer's OpenID configuration (whose `issuer` must be the issuer), then its JWKS.
    async fn fetch(&self, issuer: &str) -> Result<Jwks, String> {
        let config = fetch::get_json(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')), self.tls()).await?;
        let stated = config.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if stated.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(format!("its OpenID configuration names another issuer ('{stated}')"));
        }
        let jwks_uri = config.get("jwks_uri").and_then(Value::as_str).ok_or("its OpenID configuration has no jwks_uri")?;
        let doc = fetch::get_json(jwks_uri, self.tls()).await?;
        Jwks::parse(&doc).ok_or_else(|| "its JWKS has no keys array".to_string())
    }
}
