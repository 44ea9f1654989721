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
/// The map holds entries of one generation only: the first load at a newer generation drops the
/// rest, so stale entries never pile up.
pub struct Derived<K, V> {
    entries: RwLock<(u64, HashMap<K, V>)>,
    capacity: usize,
}

impl<K, V> Default for Derived<K, V> {
    fn default() -> Self {
        Derived::with_capacity(100_000)
    }
}

impl<K, V> Derived<K, V> {
    /// At most `capacity` entries (then the map starts afresh): for values that weigh kilobytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Derived { entries: RwLock::new((0, HashMap::new())), capacity }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Derived<K, V> {
    /// The value for `key` computed at store generation `generation`, loading it if the cached
    /// one is older. `generation` must be read before `load` reads the store.
    pub fn get_or_load<E>(&self, generation: u64, key: &K, load: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        {
            let m = self.entries.read().unwrap_or_else(|p| p.into_inner());
            if m.0 == generation {
                if let Some(v) = m.1.get(key) {
                    return Ok(v.clone());
                }
            }
        }
        let v = load()?;
        let mut m = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if generation > m.0 || m.1.len() >= self.capacity {
            m.1.clear();
            m.0 = m.0.max(generation);
        }
        if generation == m.0 {
            m.1.insert(key.clone(), v.clone());
        } // else loaded at a generation already passed: answer with it, keep it out
        Ok(v)
    }
}

/// An application and its service principal, either missing.
pub type ClientPair = (Option<DirectoryObject>, Option<DirectoryObject>);

/// The caches every surface shares.
pub struct Caches {
    /// Tenants by id (None: no such tenant).
    pub tenants: Derived<Uuid, Option<Tenant>>,
    /// An application and its service principal, keyed by (tenant, appId): the token service's
    /// lookup of a confidential client.
    pub clients: Derived<(Uuid, Uuid), Arc<ClientPair>>,
    /// Directory objects that exist, keyed by (tenant, object id): a token of a deleted
    /// principal (a disabled system identity, a deleted user) authenticates no more.
    pub principals: Derived<(Uuid, Uuid), bool>,
    pub subscriptions: Derived<Uuid, Option<Subscription>>,
    /// A principal's role assignments, its groups' included, keyed by (tenant, principal).
    pub assignments: Derived<(Uuid, Uuid), Arc<Vec<RoleAssignment>>>,
    /// A directory's custom role definitions, by tenant.
    pub custom_roles: Derived<Uuid, Arc<mimic_domain::rbac::custom::CustomRoles>>,
    /// Resources read by key (`resource_id::key`), absent ones too: the resource group behind
    /// every call under it, and the resource a GET returns.
    pub resources: Derived<String, Option<Arc<mimic_domain::resource::Resource>>>,
    /// A subscription's management locks, by the lower-cased subscription id: what every ARM
    /// write and delete is checked against.
    pub locks: Derived<String, Arc<mimic_domain::lock::SubscriptionLocks>>,
    /// A VM's tenant and the identities IMDS can serve for it, keyed by the VM's id key.
    pub vm_identities: Derived<Arc<str>, (Uuid, Arc<Vec<mimic_domain::imds::AttachedIdentity>>)>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            tenants: Derived::default(),
            clients: Derived::default(),
            principals: Derived::default(),
            subscriptions: Derived::default(),
            assignments: Derived::default(),
            custom_roles: Derived::default(),
            // Documents of a few kilobytes each: a bound of tens of megabytes.
            resources: Derived::with_capacity(10_000),
            locks: Derived::with_capacity(10_000),
            vm_identities: Derived::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Derived;

    fn load<'a>(n: &'a std::cell::Cell<u32>, v: &'static str) -> impl FnOnce() -> Result<&'static str, ()> + 'a {
        move || {
            n.set(n.get() + 1);
            Ok(v)
        }
    }

    #[test]
    fn a_hit_needs_the_same_generation_and_a_newer_one_drops_the_rest() {
        let c: Derived<u32, &str> = Derived::default();
        let loads = std::cell::Cell::new(0);
        assert_eq!(c.get_or_load(1, &1, load(&loads, "a")), Ok("a"));
        assert_eq!(c.get_or_load(1, &1, load(&loads, "x")), Ok("a"));
        assert_eq!(loads.get(), 1);
        assert_eq!(c.get_or_load(2, &2, load(&loads, "b")), Ok("b"));
        assert_eq!(c.entries.read().unwrap().1.len(), 1, "generation 1's entry is gone");
        // A load that read the store at an older generation answers but is not kept.
        assert_eq!(c.get_or_load(1, &3, load(&loads, "old")), Ok("old"));
        assert_eq!(c.get_or_load(2, &3, load(&loads, "new")), Ok("new"));
        assert_eq!(loads.get(), 4);
    }

    #[test]
    fn capacity_bounds_the_entries() {
        let c: Derived<u32, u32> = Derived::with_capacity(3);
        for k in 0..10 {
            c.get_or_load(7, &k, || Ok::<_, ()>(k)).unwrap();
            assert!(c.entries.read().unwrap().1.len() <= 3);
        }
    }
}
