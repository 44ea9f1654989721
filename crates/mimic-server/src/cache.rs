//! Data derived from the store and kept until the store's generation moves (any committed
//! write). Hot read paths — every ARM call's tenant, subscription, role assignments and resource
//! group, and the resource a GET reads — then
//! cost a map lookup instead of several SQLite transactions, and never serve stale data: a
//! write anywhere invalidates every entry.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use mimic_domain::directory::{DirectoryObject, Subscription, Tenant};
use mimic_domain::rbac::RoleAssignment;
use uuid::Uuid;

/// Behind a read-write lock: nearly every use is a hit, and hits from all workers go side by side.
pub struct Derived<K, V> {
    entries: RwLock<HashMap<K, (u64, V)>>,
}

impl<K, V> Default for Derived<K, V> {
    fn default() -> Self {
        Derived { entries: RwLock::new(HashMap::new()) }
    }
}

const CAPACITY: usize = 100_000;

impl<K: Eq + Hash + Clone, V: Clone> Derived<K, V> {
    /// The value for `key` computed at store generation `generation`, loading it if the cached
    /// one is older. `generation` must be read before `load` reads the store.
    pub fn get_or_load<E>(&self, generation: u64, key: &K, load: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        if let Some((g, v)) = self.entries.read().unwrap_or_else(|p| p.into_inner()).get(key) {
            if *g == generation {
                return Ok(v.clone());
            }
        }
        let v = load()?;
        let mut m = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if m.len() >= CAPACITY {
            m.clear();
        }
        m.insert(key.clone(), (generation, v.clone()));
        Ok(v)
    }
}

/// The caches every surface shares.
#[derive(Default)]
pub struct Caches {
    /// Tenants by id (None: no such tenant).
    pub tenants: Derived<Uuid, Option<Tenant>>,
    /// An application and its service principal, keyed by (tenant, appId): the token service's
    /// lookup of a confidential client.
    pub clients: Derived<(Uuid, Uuid), Arc<(Option<DirectoryObject>, Option<DirectoryObject>)>>,
    /// Directory objects that exist, keyed by (tenant, object id): a token of a deleted
    /// principal (a disabled system identity, a deleted user) authenticates no more.
    pub principals: Derived<(Uuid, Uuid), bool>,
    pub subscriptions: Derived<Uuid, Option<Subscription>>,
    /// A principal's role assignments, its groups' included, keyed by (tenant, principal).
    pub assignments: Derived<(Uuid, Uuid), Arc<Vec<RoleAssignment>>>,
    /// Resources read by key (`resource_id::key`), absent ones too: the resource group behind
    /// every call under it, and the resource a GET returns.
    pub resources: Derived<String, Option<Arc<mimic_domain::resource::Resource>>>,
    /// A VM's tenant and the identities IMDS can serve for it, keyed by the VM's id key.
    pub vm_identities: Derived<Arc<str>, (Uuid, Arc<Vec<mimic_domain::imds::AttachedIdentity>>)>,
}
