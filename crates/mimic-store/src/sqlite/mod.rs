//! The embedded SQLite store: one writer connection, a pool of readers, WAL with
//! `synchronous=FULL` so a committed transaction survives a crash or power loss.
//!
//! The database file is created 0600 (SQLite would make it 0644 less the umask); SQLite gives
//! its -wal and -shm files the database file's mode, and any an older version left open are
//! narrowed on open.

mod migrations;

use std::path::Path;
use std::sync::Mutex;

use mimic_domain::directory::{DirectoryObject, Subscription, Tenant};
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::storage::blob::BlobRecord;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::columns::{self, from_json, to_json};
use crate::{Backend, DocName, ResourceFilter, Result, StoreError, StoredKey, Tx};

pub struct SqliteStore {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Commits so far. One process owns an SQLite store, so counting here sees every write.
    commits: std::sync::atomic::AtomicU64,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        backend(e)
    }
}

fn open_conn(path: &Path) -> Result<Connection> {
    let c = Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted and replaced rows are zeroed, not left in free pages: a retired signing key
    // (sealed anyway) or any other deleted value does not linger in the file.
    c.pragma_update(None, "secure_delete", "ON")?;
    Ok(c)
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self> {
        owner_only(path).map_err(|e| StoreError::Backend(format!("cannot restrict {} to its owner: {e}", path.display())))?;
        let mut writer = open_conn(path)?;
        migrations::apply(&mut writer)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            commits: Default::default(),
        })
    }
}

/// Creates the database file 0600 if absent; makes it and its -wal/-shm files 0600 if not.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path)?;
    let with_suffix = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    for p in [path.to_path_buf(), with_suffix("-wal"), with_suffix("-shm")] {
        match std::fs::metadata(&p) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Backend for SqliteStore {
    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.path)?,
        };
        let res = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let r = f(&mut SqliteTx(&tx));
            drop(tx); // read-only: rolling back is free
            r
        })();
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        res
    }

    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        f(&mut SqliteTx(&tx))?;
        tx.commit()?;
        self.commits.fetch_add(1, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    fn generation(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Rebuilds the file (VACUUM), so pages freed before `secure_delete` was on (by older
    /// versions) hold nothing, then truncates the WAL that carried the old pages.
    fn scrub(&self) -> Result<()> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute_batch("VACUUM")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl SqliteTx<'_> {
    fn one<T: DeserializeOwned>(&self, sql: &str, p: impl rusqlite::Params) -> Result<Option<T>> {
        let doc: Option<String> = self.0.prepare_cached(sql)?.query_row(p, |r| r.get(0)).optional()?;
        doc.map(|d| from_json(&d)).transpose()
    }

    fn many<T: DeserializeOwned>(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<T>> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let rows = stmt.query_map(p, |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json(&d?)).collect()
    }
}

impl Tx for SqliteTx<'_> {
    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.0.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
    }
    fn put_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.0
            .prepare_cached("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")?
            .execute([key, value])?;
        Ok(())
    }

    fn tenant(&mut self, id: Uuid) -> Result<Option<Tenant>> {
        self.one("SELECT doc FROM tenants WHERE id = ?1", [id.to_string()])
    }
    fn tenants(&mut self) -> Result<Vec<Tenant>> {
        self.many("SELECT doc FROM tenants ORDER BY id", [])
    }
    fn put_tenant(&mut self, t: &Tenant) -> Result<()> {
        self.0
            .prepare_cached("INSERT INTO tenants(id, doc) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc")?
            .execute(params![t.id.to_string(), to_json(t)?])?;
        Ok(())
    }

    fn subscription(&mut self, id: Uuid) -> Result<Option<Subscription>> {
        self.one("SELECT doc FROM subscriptions WHERE id = ?1", [id.to_string()])
    }
    fn subscriptions(&mut self, tenant: Uuid) -> Result<Vec<Subscription>> {
        self.many("SELECT doc FROM subscriptions WHERE tenant_id = ?1 ORDER BY id", [tenant.to_string()])
    }
    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO subscriptions(id, tenant_id, doc) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            )?
            .execute(params![s.id.to_string(), s.tenant_id.to_string(), to_json(s)?])?;
        Ok(())
    }

    fn directory_object(&mut self, tenant: Uuid, id: Uuid) -> Result<Option<DirectoryObject>> {
        self.one("SELECT doc FROM directory_objects WHERE id = ?1 AND tenant_id = ?2", [id.to_string(), tenant.to_string()])
    }
    fn directory_object_by_app_id(&mut self, tenant: Uuid, kind: &str, app_id: Uuid) -> Result<Option<DirectoryObject>> {
        self.one(
            "SELECT doc FROM directory_objects WHERE tenant_id = ?1 AND app_id = ?2 AND kind = ?3",
            [tenant.to_string(), app_id.to_string(), kind.to_string()],
        )
    }
    fn user_by_upn(&mut self, tenant: Uuid, upn: &str) -> Result<Option<DirectoryObject>> {
        self.one("SELECT doc FROM directory_objects WHERE tenant_id = ?1 AND upn = ?2", [tenant.to_string(), upn.to_ascii_lowercase()])
    }
    fn directory_objects(&mut self, tenant: Uuid, kind: &str) -> Result<Vec<DirectoryObject>> {
        self.many(
            "SELECT doc FROM directory_objects WHERE tenant_id = ?1 AND kind = ?2 ORDER BY id",
            [tenant.to_string(), kind.to_string()],
        )
    }
    fn groups_with_member(&mut self, tenant: Uuid, member: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self.0.prepare_cached("SELECT group_id FROM group_members WHERE tenant_id = ?1 AND member_id = ?2")?;
        let rows = stmt.query_map([tenant.to_string(), member.to_string()], |r| r.get::<_, String>(0))?;
        rows.map(|r| Uuid::parse_str(&r?).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }
    fn put_directory_object(&mut self, o: &DirectoryObject) -> Result<()> {
        let (app_id, upn) = columns::object(o);
        self.0
            .prepare_cached(
                "INSERT INTO directory_objects(id, tenant_id, kind, app_id, upn, display_name, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, app_id = excluded.app_id, upn = excluded.upn,
               display_name = excluded.display_name, doc = excluded.doc",
            )?
            .execute(params![o.id().to_string(), o.tenant_id().to_string(), o.kind(), app_id, upn, o.display_name(), to_json(o)?])?;
        if let DirectoryObject::Group(g) = o {
            self.0.prepare_cached("DELETE FROM group_members WHERE group_id = ?1")?.execute([g.id.to_string()])?;
            let mut ins =
                self.0.prepare_cached("INSERT OR IGNORE INTO group_members(tenant_id, group_id, member_id) VALUES (?1, ?2, ?3)")?;
            for m in &g.members {
                ins.execute([g.tenant_id.to_string(), g.id.to_string(), m.to_string()])?;
            }
        }
        Ok(())
    }
    fn delete_directory_object(&mut self, tenant: Uuid, id: Uuid) -> Result<bool> {
        let n = self
            .0
            .prepare_cached("DELETE FROM directory_objects WHERE id = ?1 AND tenant_id = ?2")?
            .execute([id.to_string(), tenant.to_string()])?;
        self.0
            .prepare_cached("DELETE FROM group_members WHERE tenant_id = ?1 AND (member_id = ?2 OR group_id = ?2)")?
            .execute([tenant.to_string(), id.to_string()])?;
        Ok(n > 0)
    }

    fn resource(&mut self, key: &str) -> Result<Option<Resource>> {
        self.one("SELECT doc FROM resources WHERE key = ?1", [key])
    }
    fn resources(&mut self, f: &ResourceFilter) -> Result<Vec<Resource>> {
        self.many(
            "SELECT doc FROM resources WHERE subscription = ?1
               AND (?2 IS NULL OR resource_group = ?2)
               AND (?3 IS NULL OR type_key = ?3)
               AND (?4 IS NULL OR type_key <> ?4)
               AND (?5 IS NULL OR key > ?5)
             ORDER BY key LIMIT ?6",
            params![
                f.subscription.to_ascii_lowercase(),
                f.resource_group,
                f.resource_type,
                f.exclude_type,
                f.after_key,
                i64::try_from(f.limit).unwrap_or(i64::MAX)
            ],
        )
    }
    fn put_resource(&mut self, r: &Resource) -> Result<()> {
        let c = columns::resource(r)?;
        self.0
            .prepare_cached(
                "INSERT INTO resources(key, subscription, resource_group, type_key, doc) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
            )?
            .execute(params![c.key, c.subscription, c.resource_group, c.type_key, to_json(r)?])?;
        Ok(())
    }
    fn delete_resource(&mut self, key: &str) -> Result<bool> {
        Ok(self.0.prepare_cached("DELETE FROM resources WHERE key = ?1")?.execute([key])? > 0)
    }
    fn delete_resources_under(&mut self, key_prefix: &str) -> Result<usize> {
        let (lo, hi) = columns::under(key_prefix);
        Ok(self.0.prepare_cached("DELETE FROM resources WHERE key >= ?1 AND key < ?2")?.execute([lo, hi])?)
    }

    fn role_assignment(&mut self, key: &str) -> Result<Option<RoleAssignment>> {
        self.one("SELECT doc FROM role_assignments WHERE key = ?1", [key])
    }
    fn role_assignments_for(&mut self, principals: &[Uuid]) -> Result<Vec<RoleAssignment>> {
        let mut out = Vec::new();
        for p in principals {
            out.extend(self.many::<RoleAssignment>("SELECT doc FROM role_assignments WHERE principal_id = ?1", [p.to_string()])?);
        }
        Ok(out)
    }
    fn role_assignments_in(&mut self, subscription: &str) -> Result<Vec<RoleAssignment>> {
        self.many(
            "SELECT doc FROM role_assignments WHERE subscription = ?1 OR subscription = '' ORDER BY key",
            [subscription.to_ascii_lowercase()],
        )
    }
    fn put_role_assignment(&mut self, a: &RoleAssignment) -> Result<()> {
        let c = columns::assignment(a);
        self.0
            .prepare_cached(
                "INSERT INTO role_assignments(key, scope_key, subscription, principal_id, doc) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET doc = excluded.doc, principal_id = excluded.principal_id",
            )?
            .execute(params![c.key, c.scope_key, c.subscription, a.principal_id.to_string(), to_json(a)?])?;
        Ok(())
    }
    fn delete_role_assignment(&mut self, key: &str) -> Result<bool> {
        Ok(self.0.prepare_cached("DELETE FROM role_assignments WHERE key = ?1")?.execute([key])? > 0)
    }
    fn delete_role_assignments_under(&mut self, scope_key: &str) -> Result<usize> {
        let (lo, hi) = columns::under(scope_key);
        Ok(self
            .0
            .prepare_cached("DELETE FROM role_assignments WHERE scope_key = ?1 OR (scope_key >= ?2 AND scope_key < ?3)")?
            .execute([scope_key, &lo, &hi])?)
    }

    fn signing_keys(&mut self) -> Result<Vec<StoredKey>> {
        let mut stmt = self.0.prepare_cached("SELECT kid, pkcs8, created, active FROM signing_keys ORDER BY created DESC")?;
        let rows = stmt.query_map([], |r| Ok(StoredKey { kid: r.get(0)?, pkcs8: r.get(1)?, created: r.get(2)?, active: r.get(3)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
    fn put_signing_key(&mut self, k: &StoredKey) -> Result<()> {
        self.0.prepare_cached(
            "INSERT INTO signing_keys(kid, pkcs8, created, active) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(kid) DO UPDATE SET active = excluded.active, pkcs8 = excluded.pkcs8",
        )?
        .execute(params![k.kid, k.pkcs8, k.created, k.active])?;
        Ok(())
    }

    fn delete_signing_key(&mut self, kid: &str) -> Result<bool> {
        Ok(self.0.prepare_cached("DELETE FROM signing_keys WHERE kid = ?1")?.execute([kid])? > 0)
    }

    fn blob(&mut self, container: &str, name: &str) -> Result<Option<BlobRecord>> {
        self.one("SELECT doc FROM blobs WHERE container = ?1 AND name = ?2", [container, name])
    }
    fn blobs(&mut self, container: &str, from: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobRecord>> {
        self.many(
            "SELECT doc FROM blobs WHERE container = ?1 AND name >= ?2 AND (?3 IS NULL OR name > ?3) ORDER BY name LIMIT ?4",
            params![container, from, after, limit as i64],
        )
    }
    fn put_blob(&mut self, container: &str, b: &BlobRecord) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO blobs(container, name, doc) VALUES (?1, ?2, ?3) ON CONFLICT(container, name) DO UPDATE SET doc = excluded.doc",
            )?
            .execute(params![container, b.name, to_json(b)?])?;
        Ok(())
    }
    fn delete_blob(&mut self, container: &str, name: &str) -> Result<bool> {
        Ok(self.0.prepare_cached("DELETE FROM blobs WHERE container = ?1 AND name = ?2")?.execute([container, name])? > 0)
    }
    fn delete_blobs_in(&mut self, container: &str) -> Result<usize> {
        Ok(self.0.prepare_cached("DELETE FROM blobs WHERE container = ?1")?.execute([container])?)
    }
    fn delete_blobs_under(&mut self, prefix: &str) -> Result<usize> {
        let (lo, hi) = columns::under(prefix);
        Ok(self.0.prepare_cached("DELETE FROM blobs WHERE container >= ?1 AND container < ?2")?.execute([lo, hi])?)
    }
    fn chunk(&mut self, data: &str, seq: u32) -> Result<Option<Vec<u8>>> {
        Ok(self
            .0
            .prepare_cached("SELECT bytes FROM chunks WHERE data = ?1 AND seq = ?2")?
            .query_row(params![data, seq], |r| r.get(0))
            .optional()?)
    }
    fn put_chunk(&mut self, data: &str, seq: u32, bytes: &[u8]) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO chunks(data, seq, bytes) VALUES (?1, ?2, ?3) ON CONFLICT(data, seq) DO UPDATE SET bytes = excluded.bytes",
            )?
            .execute(params![data, seq, bytes])?;
        Ok(())
    }
    fn delete_chunks(&mut self, data: &str) -> Result<usize> {
        Ok(self.0.prepare_cached("DELETE FROM chunks WHERE data = ?1")?.execute([data])?)
    }
    fn delete_chunks_under(&mut self, prefix: &str) -> Result<usize> {
        let (lo, hi) = columns::under(prefix);
        Ok(self.0.prepare_cached("DELETE FROM chunks WHERE data >= ?1 AND data < ?2")?.execute([lo, hi])?)
    }

    fn document(&mut self, kind: DocName, id: &str) -> Result<Option<Value>> {
        let kind = kind.as_str();
        self.one("SELECT doc FROM documents WHERE kind = ?1 AND id = ?2", [kind, id])
    }
    fn put_document(&mut self, kind: DocName, id: &str, doc: &Value, expires: Option<i64>) -> Result<()> {
        let kind = kind.as_str();
        self.0.prepare_cached(
            "INSERT INTO documents(kind, id, doc, expires) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc, expires = excluded.expires",
        )?
        .execute(params![kind, id, to_json(doc)?, expires])?;
        Ok(())
    }
    fn delete_document(&mut self, kind: DocName, id: &str) -> Result<bool> {
        let kind = kind.as_str();
        Ok(self.0.prepare_cached("DELETE FROM documents WHERE kind = ?1 AND id = ?2")?.execute([kind, id])? > 0)
    }
    fn delete_expired_documents(&mut self, kind: DocName, now: i64) -> Result<usize> {
        let kind = kind.as_str();
        Ok(self.0.prepare_cached("DELETE FROM documents WHERE kind = ?1 AND expires <= ?2")?.execute(params![kind, now])?)
    }
}
