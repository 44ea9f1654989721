//! Persistence behind one interface. A surface asks the [`Store`] for a read or a write
//! transaction and works through the [`Tx`] trait; each backend (embedded SQLite, PostgreSQL
//! for several replicas) implements `Tx` and passes the same tests (`tests/store_contract.rs`).
//!
//! Every write transaction is committed durably before `Store::write` returns, so a handler
//! that answers after `write` never acknowledges a write that a crash could lose.

mod columns;
pub mod documents;
mod postgres;
mod sqlite;

use mimic_domain::directory::{DirectoryObject, Subscription, Tenant};
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::storage::blob::BlobRecord;
use serde_json::Value;
use uuid::Uuid;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store backend error: {0}")]
    Backend(String),
    #[error("stored document is corrupt: {0}")]
    Corrupt(String),
    #[error("write conflict, retry")]
    Conflict,
    /// The database cannot be reached (PostgreSQL down or restarting): the call may succeed if
    /// retried later; surfaces answer their 503 with `Retry-After`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material, in case a row ends up in a log.
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("created", &self.created)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// Which resources a listing wants. Keys are lower-cased (see `resource_id::key`).
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter<'a> {
    pub subscription: &'a str,
    /// Only resources in this resource group (lower-cased name).
    pub resource_group: Option<&'a str>,
    /// Only this type (lower-cased `namespace/type`).
    pub resource_type: Option<&'a str>,
    /// Exclude this type (resource groups are resources too; a resource listing skips them).
    pub exclude_type: Option<&'a str>,
    /// Page start: only keys greater than this.
    pub after_key: Option<&'a str>,
    pub limit: usize,
}

/// A signing key as stored: its private key and whether new tokens use it. The store keeps
/// `pkcs8` as given: the server seals it (PKCS#8 DER under its master key) before it gets here.
#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub created: i64,
    pub active: bool,
}

/// Everything a transaction can read and write. Object-safe, so handlers take `&mut dyn Tx`.
pub trait Tx {
    // Small named values (bootstrap state, schema facts).
    fn meta(&mut self, key: &str) -> Result<Option<String>>;
    fn put_meta(&mut self, key: &str, value: &str) -> Result<()>;

    fn tenant(&mut self, id: Uuid) -> Result<Option<Tenant>>;
    fn tenants(&mut self) -> Result<Vec<Tenant>>;
    fn put_tenant(&mut self, t: &Tenant) -> Result<()>;

    fn subscription(&mut self, id: Uuid) -> Result<Option<Subscription>>;
    fn subscriptions(&mut self, tenant: Uuid) -> Result<Vec<Subscription>>;
    fn put_subscription(&mut self, s: &Subscription) -> Result<()>;

    fn directory_object(&mut self, tenant: Uuid, id: Uuid) -> Result<Option<DirectoryObject>>;
    /// Applications and service principals share an app id: `kind` says which one.
    fn directory_object_by_app_id(&mut self, tenant: Uuid, kind: &str, app_id: Uuid) -> Result<Option<DirectoryObject>>;
    fn user_by_upn(&mut self, tenant: Uuid, upn: &str) -> Result<Option<DirectoryObject>>;
    fn directory_objects(&mut self, tenant: Uuid, kind: &str) -> Result<Vec<DirectoryObject>>;
    /// Groups that list `member` directly.
    fn groups_with_member(&mut self, tenant: Uuid, member: Uuid) -> Result<Vec<Uuid>>;
    fn put_directory_object(&mut self, o: &DirectoryObject) -> Result<()>;
    fn delete_directory_object(&mut self, tenant: Uuid, id: Uuid) -> Result<bool>;

    fn resource(&mut self, key: &str) -> Result<Option<Resource>>;
    fn resources(&mut self, filter: &ResourceFilter) -> Result<Vec<Resource>>;
    fn put_resource(&mut self, r: &Resource) -> Result<()>;
    fn delete_resource(&mut self, key: &str) -> Result<bool>;
    /// Deletes every resource whose key starts with `prefix/` (a resource group's contents).
    fn delete_resources_under(&mut self, key_prefix: &str) -> Result<usize>;

    fn role_assignment(&mut self, key: &str) -> Result<Option<RoleAssignment>>;
    fn role_assignments_for(&mut self, principals: &[Uuid]) -> Result<Vec<RoleAssignment>>;
    /// Assignments in a subscription (scope `/` included), for listing and duplicate checks.
    fn role_assignments_in(&mut self, subscription: &str) -> Result<Vec<RoleAssignment>>;
    fn put_role_assignment(&mut self, a: &RoleAssignment) -> Result<()>;
    fn delete_role_assignment(&mut self, key: &str) -> Result<bool>;
    fn delete_role_assignments_under(&mut self, scope_key: &str) -> Result<usize>;

    fn signing_keys(&mut self) -> Result<Vec<StoredKey>>;
    fn put_signing_key(&mut self, k: &StoredKey) -> Result<()>;
    /// Unpublishes a retired key (once no token it signed can still be valid).
    fn delete_signing_key(&mut self, kid: &str) -> Result<bool>;

    // Blob storage: each blob's record by (container key, name), ordered by name as Azure lists
    // them (byte order of the UTF-8 name); its bytes in chunk rows by (data id, sequence).
    fn blob(&mut self, container: &str, name: &str) -> Result<Option<BlobRecord>>;
    /// Blobs of `container` whose names are at least `from` and greater than `after` (when
    /// given), in name order, at most `limit`.
    fn blobs(&mut self, container: &str, from: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobRecord>>;
    fn put_blob(&mut self, container: &str, b: &BlobRecord) -> Result<()>;
    fn delete_blob(&mut self, container: &str, name: &str) -> Result<bool>;
    /// Deletes every blob of container `container`.
    fn delete_blobs_in(&mut self, container: &str) -> Result<usize>;
    /// Deletes every blob of every container whose key starts with `prefix/` (an account's).
    fn delete_blobs_under(&mut self, prefix: &str) -> Result<usize>;
    fn chunk(&mut self, data: &str, seq: u32) -> Result<Option<Vec<u8>>>;
    fn put_chunk(&mut self, data: &str, seq: u32, bytes: &[u8]) -> Result<()>;
    /// Deletes the chunks of data `data`.
    fn delete_chunks(&mut self, data: &str) -> Result<usize>;
    /// Deletes the chunks of every data id starting with `prefix/` (a container's, an account's).
    fn delete_chunks_under(&mut self, prefix: &str) -> Result<usize>;

    /// Documents with an expiry (refresh tokens, async-operation status, ...), by kind and id.
    /// Only [`documents::Docs`] calls these, with a declared kind: a [`DocName`] cannot be made
    /// elsewhere.
    fn document(&mut self, kind: DocName, id: &str) -> Result<Option<Value>>;
    fn put_document(&mut self, kind: DocName, id: &str, doc: &Value, expires: Option<i64>) -> Result<()>;
    fn delete_document(&mut self, kind: DocName, id: &str) -> Result<bool>;
    /// Deletes the documents of `kind` whose expiry is at or before `now` (unix seconds);
    /// documents without an expiry stay. Readers still check expiry themselves: this only
    /// reclaims space.
    fn delete_expired_documents(&mut self, kind: DocName, now: i64) -> Result<usize>;
}

/// The stored name of a document kind ([`documents::Kind`]).
#[derive(Debug, Clone, Copy)]
pub struct DocName(&'static str);

impl DocName {
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

/// A store: hands out transactions. Cheap to clone and share between threads.
pub trait Backend: Send + Sync + 'static {
    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Runs `f` and commits. A backend whose transactions can fail to serialize (PostgreSQL)
    /// rolls back and calls `f` again, so `f` must be safe to re-run.
    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// A number that changes whenever any write commits (the whole store's, not this
    /// process's alone), so callers can keep derived data until it moves.
    fn generation(&self) -> u64;
    /// Overwrites what deleted or replaced rows left in the backend's files (free pages), after
    /// clear secrets were replaced by sealed ones. A backend whose copies (dumps) never hold
    /// dead rows may do nothing.
    fn scrub(&self) -> Result<()> {
        Ok(())
    }
}

/// The handle the rest of Mimic holds.
#[derive(Clone)]
pub struct Store(std::sync::Arc<dyn Backend>);

impl Store {
    pub fn new(backend: impl Backend) -> Self {
        Store(std::sync::Arc::new(backend))
    }

    pub fn open_sqlite(path: &std::path::Path) -> Result<Self> {
        Ok(Store::new(SqliteStore::open(path)?))
    }

    /// Opens (and migrates) a PostgreSQL store, `postgres://user@host:port/db`.
    pub fn open_postgres(url: &str) -> Result<Self> {
        Ok(Store::new(PgStore::open(url)?))
    }

    /// Changes after every committed write; see [`Backend::generation`].
    pub fn generation(&self) -> u64 {
        self.0.generation()
    }

    /// See [`Backend::scrub`].
    pub fn scrub(&self) -> Result<()> {
        self.0.scrub()
    }

    /// Runs `f` in a read transaction (a consistent snapshot).
    pub fn read<R, E: From<StoreError>>(&self, f: impl FnOnce(&mut dyn Tx) -> std::result::Result<R, E>) -> std::result::Result<R, E> {
        let mut f = Some(f);
        run(
            |g| self.0.read_tx(g),
            |t| match f.take() {
                Some(f) => f(t),
                None => Err(StoreError::Backend("a read transaction body ran twice".into()).into()),
            },
        )
    }

    /// Runs `f` in a write transaction; commits (durably) if `f` returns `Ok`, rolls back if not.
    /// `f` is `FnMut` because the backend may run it again after a serialization failure
    /// (PostgreSQL, concurrent writers on several replicas): it must read what it decides on
    /// through the transaction, and have no effects outside it.
    pub fn write<R, E: From<StoreError>>(&self, f: impl FnMut(&mut dyn Tx) -> std::result::Result<R, E>) -> std::result::Result<R, E> {
        run(|g| self.0.write_tx(g), f)
    }
}

/// Adapts a typed body with its own error type to the object-safe `FnMut` of the backend:
/// a domain error aborts (rolls back) the transaction and comes back to the caller unchanged;
/// when the backend re-runs the body, the last run's result is the one returned.
fn run<R, E: From<StoreError>>(
    tx: impl FnOnce(&mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>,
    mut f: impl FnMut(&mut dyn Tx) -> std::result::Result<R, E>,
) -> std::result::Result<R, E> {
    let mut out: Option<std::result::Result<R, E>> = None;
    let res = tx(&mut |t| {
        let r = f(t);
        let failed = r.is_err();
        out = Some(r);
        if failed {
            // Any error makes the backend roll back; the caller gets `out`.
            Err(StoreError::Backend("aborted".into()))
        } else {
            Ok(())
        }
    });
    match (res, out) {
        (_, Some(Err(e))) => Err(e),
        (Ok(()), Some(Ok(v))) => Ok(v),
        (Err(e), _) => Err(e.into()),
        (Ok(()), None) => Err(StoreError::Backend("transaction body did not run".into()).into()),
    }
}
