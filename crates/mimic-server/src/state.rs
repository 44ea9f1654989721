//! What every surface shares: the store, the signing keys, the bound endpoints, the defaults
//! from bootstrap, and the cache of verified bearer tokens.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mimic_store::Store;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::keys::KeyRing;

/// The real bound addresses, as written to `endpoints.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    pub arm: String,
    pub login: String,
    pub graph: String,
    pub portal: String,
    pub imds: String,
    pub proxy: String,
}

/// Shared by every surface. Cheap to clone: the proxy serves the same Mimic under Azure's host
/// names with a clone whose `endpoints` name those hosts.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: KeyRing,
    pub endpoints: Endpoints,
    pub default_tenant: Uuid,
    pub default_subscription: Uuid,
    pub verified: Arc<VerifiedTokens>,
    pub caches: Arc<crate::cache::Caches>,
    /// Per-VM IMDS listeners.
    pub imds: Arc<dyn VmMetadataEndpoints>,
    /// Keys of the issuers federated identity credentials trust (fetched and hosted ones).
    pub issuers: Arc<crate::federation::Issuers>,
    /// How long each resource a deployment writes takes to provision.
    pub provisioning: Arc<Provisioning>,
}

/// How long each resource a deployment writes takes to provision (`--provisioning-delay`;
/// zero unless `serve` sets it), cut short once the server is stopping, so that a graceful
/// stop lets running deployments finish at once instead of sleeping through their delays.
#[derive(Default)]
pub struct Provisioning {
    pub delay: std::time::Duration,
    stopping: std::sync::atomic::AtomicBool,
}

impl Provisioning {
    pub fn new(delay: std::time::Duration) -> Self {
        Provisioning { delay, stopping: Default::default() }
    }
    /// The delay still to wait: none once the server is stopping.
    pub fn delay(&self) -> std::time::Duration {
        if self.is_stopping() {
            std::time::Duration::ZERO
        } else {
            self.delay
        }
    }
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Relaxed)
    }
    pub fn stop(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

pub type SharedState = Arc<AppState>;

/// What the other surfaces need from the Instance Metadata Service: a VM's own IMDS address
/// (`mimic vm run` asks ARM for it). A trait here, so that the state knows neither surface;
/// `serve` wires the IMDS registry in.
pub trait VmMetadataEndpoints: Send + Sync {
    /// The IMDS address serving the VM with ARM key `vm_key`, bound on first use.
    fn endpoint_for(&self, state: &SharedState, vm_key: &str) -> std::io::Result<SocketAddr>;
}

/// Tokens whose signature was already checked, so a client reusing its token for thousands of
/// calls pays for one RSA verification, not thousands. Bounded: cleared when full.
#[derive(Default)]
pub struct VerifiedTokens(Mutex<HashMap<Box<str>, Arc<Claims>>>);

/// A verified token's claims.
pub type Claims = Map<String, Value>;

const VERIFIED_CAPACITY: usize = 50_000;

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Arc<Map<String, Value>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
    }
    pub fn insert(&self, token: &str, claims: Arc<Map<String, Value>>) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= VERIFIED_CAPACITY {
            m.clear();
        }
        m.insert(token.into(), claims);
    }
}

impl Endpoints {
    /// The cloud these endpoints make, as `/metadata/endpoints` and `environment()` describe it.
    pub fn cloud(&self) -> mimic_domain::cloud::CloudEnvironment<'_> {
        mimic_domain::cloud::CloudEnvironment { resource_manager: &self.arm, login: &self.login, graph: &self.graph, portal: &self.portal }
    }

    /// Azure's public host names, as the proxy serves them.
    pub fn azure(local: &Endpoints) -> Endpoints {
        Endpoints {
            arm: mimic_domain::cloud::ARM_AUDIENCES[1].trim_end_matches('/').into(),
            login: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
            portal: local.portal.clone(),
            imds: local.imds.clone(),
            proxy: local.proxy.clone(),
        }
    }
}

impl AppState {
    /// A server's state over `store`, with empty caches; `serve` builds it once its listeners are
    /// bound, and the in-process tests (`tests/support`) build it the same way.
    pub fn new(
        store: Store,
        keys: KeyRing,
        endpoints: Endpoints,
        default_tenant: Uuid,
        default_subscription: Uuid,
        imds: Arc<dyn VmMetadataEndpoints>,
    ) -> AppState {
        AppState {
            store,
            keys,
            endpoints,
            default_tenant,
            default_subscription,
            verified: Default::default(),
            caches: Default::default(),
            imds,
            issuers: Default::default(),
            provisioning: Default::default(),
        }
    }

    /// v2 issuer and authority base for a tenant on this Mimic's login surface.
    pub fn authority(&self) -> &str {
        &self.endpoints.login
    }
}
