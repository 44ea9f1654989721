//! The PostgreSQL store, for several Mimic replicas over one database.
//!
//! The synchronous `postgres` client with `r2d2` pools: the [`Tx`] trait is synchronous and
//! handlers already call the store from the blocking pool, so an async driver would only add a
//! bridge. Reads run in REPEATABLE READ READ ONLY (one snapshot); writes in SERIALIZABLE, and a
//! write that fails to serialize (SQLSTATE 40001, or a deadlock, 40P01) is rolled back and its
//! body run again, so concurrent read-modify-writes from any replica lose no update. Commits
//! use the server's `synchronous_commit` (on by default: durable before `write` returns).
//!
//! The generation ([`Backend::generation`]) is the sequence `mimic_generation`, advanced right
//! after each commit and read per call, so a write through one replica invalidates derived
//! caches in every replica before their next request.

mod migrations;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mimic_domain::directory::{DirectoryObject, Subscription, Tenant};
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::storage::blob::BlobRecord;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{IsolationLevel, NoTls, Statement};
use r2d2_postgres::PostgresConnectionManager;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::columns::{self, from_json, to_json};
use crate::{Backend, DocName, ResourceFilter, Result, StoreError, StoredKey, Tx};

type Pool = r2d2::Pool<Manager>;
type Conn = r2d2::PooledConnection<Manager>;

/// A connection with its prepared statements, kept for the connection's life: every query of the
/// store is one of a few fixed texts, and preparing one anew costs a round trip to PostgreSQL
/// each time (on a busy 2-core machine, ~0.3 ms). Prepared statements belong to the session,
/// not to a transaction, so they survive rollbacks and re-run writes.
pub struct PgConn {
    client: OffRuntimeDrop,
    statements: HashMap<String, Statement>,
}

/// A `postgres::Client`, which drives its own small Tokio runtime: dropping it (closing the
/// session, dropping that runtime) on a thread inside another runtime panics ("Cannot start a
/// runtime from within a runtime"), and a panic there during unwinding aborts the process. A
/// connection can be dropped anywhere: the pool discards a broken one when it is returned,
/// and drops every idle one when the store is dropped (at shutdown, inside the server's
/// runtime). So one dropped inside a runtime is closed on a thread of its own.
struct OffRuntimeDrop(Option<postgres::Client>);

impl std::ops::Deref for OffRuntimeDrop {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        self.0.as_ref().expect("a client until dropped")
    }
}

impl std::ops::DerefMut for OffRuntimeDrop {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.0.as_mut().expect("a client until dropped")
    }
}

impl Drop for OffRuntimeDrop {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            return drop(client);
        }
        let closer = std::thread::Builder::new().name("pg-close".into()).spawn(move || drop(client));
        if let Err(e) = closer {
            // No thread to close it on: the socket closes with the process.
            tracing::warn!(error = %e, "cannot close a PostgreSQL connection off the runtime");
        }
    }
}

pub struct Manager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;
    fn connect(&self) -> std::result::Result<PgConn, postgres::Error> {
        Ok(PgConn { client: OffRuntimeDrop(Some(self.0.connect()?)), statements: HashMap::new() })
    }
    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }
    fn has_broken(&self, conn: &mut PgConn) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

/// The statement for `sql` on this connection, prepared on first use.
fn prepared(
    statements: &mut HashMap<String, Statement>,
    sql: &str,
    prepare: impl FnOnce(&str) -> std::result::Result<Statement, postgres::Error>,
) -> std::result::Result<Statement, postgres::Error> {
    if let Some(st) = statements.get(sql) {
        return Ok(st.clone());
    }
    let st = prepare(sql)?;
    statements.insert(sql.to_string(), st.clone());
    Ok(st)
}

/// Connections per process, in three pools so that no kind of use can starve another: a write
/// body may read through a second connection (an RBAC check's cached assignments) and every
/// cache asks for the generation, so writers holding every connection would wait forever on
/// their own reads. Small enough that a handful of replicas stay under `max_connections`.
const READ_POOL: u32 = 16;
const WRITE_POOL: u32 = 8;
const GENERATION_POOL: u32 = 4;
/// Attempts of one write before giving up with `Conflict`. Each failure means another writer
/// committed, so the system progresses; jittered backoff spreads the retries.
const WRITE_ATTEMPTS: u32 = 200;
/// How long a call waits for a connection (opening one included) before answering that the
/// store is unavailable: while PostgreSQL is down, calls fail within this rather than hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct PgStore {
    reads: Pool,
    writes: Pool,
    generations: Pool,
    /// Returned (decreasing) when the generation cannot be read: never equal to a cached one,
    /// so caches reload rather than serve data of unknown age.
    unknown_generation: AtomicU64,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if is_conflict(&e) {
            StoreError::Conflict
        } else if is_unavailable(&e) {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Backend(e.to_string())
        }
    }
}

/// The server is gone or going (connection lost, refused or timed out; PostgreSQL shutting
/// down or starting up, SQLSTATE classes 57P and 08): worth retrying later.
fn is_unavailable(e: &postgres::Error) -> bool {
    if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    matches!(e.code().map(SqlState::code), Some(c) if c.starts_with("57P") || c.starts_with("08"))
}

fn is_conflict(e: &postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// The `postgres` client drives its own small runtime; on a Tokio worker thread that must be
/// announced with `block_in_place` (the blocking pool, tests and CLI threads need nothing).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl PgStore {
    pub fn open(url: &str) -> Result<Self> {
        let mut config: postgres::Config =
            url.parse().map_err(|e: postgres::Error| StoreError::Backend(format!("bad PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // A server that vanished without closing the connection is noticed, not waited on.
        config.keepalives(true).keepalives_idle(Duration::from_secs(10));
        // No test query on check-out (a round trip per use): a connection that broke is
        // discarded when it is returned (`has_broken`), so after PostgreSQL restarts each pooled
        // connection fails one call, which answers 503 (`Unavailable`) and is not retried.
        let pool = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .test_on_check_out(false)
                .connection_timeout(CONNECT_TIMEOUT)
                .build(Manager(PostgresConnectionManager::new(config.clone(), NoTls)))
                .map_err(|e| StoreError::Backend(format!("cannot connect to PostgreSQL: {e}")))
        };
        blocking(|| {
            let store = PgStore {
                reads: pool(READ_POOL)?,
                writes: pool(WRITE_POOL)?,
                generations: pool(GENERATION_POOL)?,
                unknown_generation: AtomicU64::new(u64::MAX),
            };
            let mut conn = conn(&store.writes)?;
            migrations::apply(&mut conn.client)?;
            drop(conn);
            Ok(store)
        })
    }

    /// One attempt of a write: `Ok(true)` committed, `Ok(false)` failed to serialize.
    fn try_write(conn: &mut Conn, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<bool> {
        let PgConn { client, statements } = &mut **conn;
        let mut tx = client.build_transaction().isolation_level(IsolationLevel::Serializable).start()?;
        let mut t = PgTx { tx: &mut tx, statements, conflict: false, failed: false };
        let body = f(&mut t);
        let (conflict, failed) = (t.conflict, t.failed);
        match body {
            // A body that went on after a failed statement: PostgreSQL would turn COMMIT into
            // a silent ROLLBACK, so never report that as committed.
            Ok(()) if conflict => Ok(false),
            Ok(()) if failed => Err(StoreError::Backend("a statement failed inside the write transaction".into())),
            Ok(()) => match tx.commit() {
                Ok(()) => Ok(true),
                Err(e) if is_conflict(&e) => Ok(false),
                Err(e) => Err(e.into()),
            },
            Err(_) if conflict => Ok(false), // rolled back on drop
            Err(e) => Err(e),
        }
    }
}

fn conn(pool: &Pool) -> Result<Conn> {
    pool.get().map_err(|e| StoreError::Unavailable(format!("no PostgreSQL connection: {e}")))
}

fn backoff(attempt: u32) {
    let cap_ms = 1u64 << attempt.min(6); // up to 64 ms
    let jitter = (Uuid::new_v4().as_u128() as u64) % (cap_ms * 1000);
    std::thread::sleep(Duration::from_micros(jitter));
}

impl Backend for PgStore {
    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        blocking(|| {
            let mut conn = conn(&self.reads)?;
            let PgConn { client, statements } = &mut *conn;
            let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
            f(&mut PgTx { tx: &mut tx, statements, conflict: false, failed: false })
            // dropped: rolled back, which is all a read-only transaction needs
        })
    }

    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        blocking(|| {
            let mut conn = conn(&self.writes)?;
            for attempt in 0..WRITE_ATTEMPTS {
                if PgStore::try_write(&mut conn, f)? {
                    // After the commit, so a reader that sees the new generation also sees the write.
                    if let Err(e) = conn.client.execute("SELECT nextval('mimic_generation')", &[]) {
                        tracing::warn!(error = %e, "could not advance the store generation; other replicas' caches may lag until the next write");
                    }
                    if attempt > 0 {
                        tracing::info!(reruns = attempt, "write committed after re-running on serialization failures");
                    }
                    return Ok(());
                }
                tracing::debug!(attempt, "write transaction failed to serialize; running it again");
                backoff(attempt);
            }
            Err(StoreError::Conflict)
        })
    }

    fn generation(&self) -> u64 {
        let read = blocking(|| -> Result<i64> {
            let mut conn = conn(&self.generations)?;
            let PgConn { client, statements } = &mut *conn;
            let st = prepared(statements, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM mimic_generation", |sql| {
                client.prepare(sql)
            })?;
            Ok(client.query_one(&st, &[])?.get(0))
        });
        match read {
            Ok(g) => g as u64,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the store generation");
                self.unknown_generation.fetch_sub(1, Ordering::Relaxed)
            }
        }
    }
}

struct PgTx<'t, 'c> {
    tx: &'t mut postgres::Transaction<'c>,
    statements: &'t mut HashMap<String, Statement>,
    /// A statement failed to serialize: the transaction is dead and the write is re-run,
    /// whatever error the body made of it.
    conflict: bool,
    /// Some statement failed: the transaction cannot commit.
    failed: bool,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgTx<'_, '_> {
    fn check<T>(&mut self, r: std::result::Result<T, postgres::Error>) -> Result<T> {
        r.map_err(|e| {
            self.failed = true;
            // Later statements fail with 25P02 (transaction aborted): the flag stays set.
            if is_conflict(&e) {
                self.conflict = true;
            }
            e.into()
        })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        let tx = &mut *self.tx;
        let r = prepared(self.statements, sql, |sql| tx.prepare(sql));
        self.check(r)
    }

    fn exec(&mut self, sql: &str, p: Params) -> Result<u64> {
        let st = self.statement(sql)?;
        let r = self.tx.execute(&st, p);
        self.check(r)
    }

    fn rows(&mut self, sql: &str, p: Params) -> Result<Vec<postgres::Row>> {
        let st = self.statement(sql)?;
        let r = self.tx.query(&st, p);
        self.check(r)
    }

    fn one<T: DeserializeOwned>(&mut self, sql: &str, p: Params) -> Result<Option<T>> {
        let st = self.statement(sql)?;
        let r = self.tx.query_opt(&st, p);
        match self.check(r)? {
            Some(row) => Ok(Some(from_json(row.get::<_, &str>(0))?)),
            None => Ok(None),
        }
    }

    fn many<T: DeserializeOwned>(&mut self, sql: &str, p: Params) -> Result<Vec<T>> {
        self.rows(sql, p)?.iter().map(|row| from_json(row.get::<_, &str>(0))).collect()
    }
}

impl Tx for PgTx<'_, '_> {
    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.rows("SELECT value FROM meta WHERE key = $1", &[&key])?.first().map(|r| r.get(0)))
    }
    fn put_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec("INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", &[&key, &value])?;
        Ok(())
    }

    fn tenant(&mut self, id: Uuid) -> Result<Option<Tenant>> {
        self.one("SELECT doc FROM tenants WHERE id = $1", &[&id.to_string()])
    }
    fn tenants(&mut self) -> Result<Vec<Tenant>> {
        self.many("SELECT doc FROM tenants ORDER BY id", &[])
    }
    fn put_tenant(&mut self, t: &Tenant) -> Result<()> {
        self.exec(
            "INSERT INTO tenants(id, doc) VALUES ($1, $2) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            &[&t.id.to_string(), &to_json(t)?],
        )?;
        Ok(())
    }

    fn subscription(&mut self, id: Uuid) -> Result<Option<Subscription>> {
        self.one("SELECT doc FROM subscriptions WHERE id = $1", &[&id.to_string()])
    }
    fn subscriptions(&mut self, tenant: Uuid) -> Result<Vec<Subscription>> {
        self.many("SELECT doc FROM subscriptions WHERE tenant_id = $1 ORDER BY id", &[&tenant.to_string()])
    }
    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        self.exec(
            "INSERT INTO subscriptions(id, tenant_id, doc) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            &[&s.id.to_string(), &s.tenant_id.to_string(), &to_json(s)?],
        )?;
        Ok(())
    }

    fn directory_object(&mut self, tenant: Uuid, id: Uuid) -> Result<Option<DirectoryObject>> {
        self.one("SELECT doc FROM directory_objects WHERE id = $1 AND tenant_id = $2", &[&id.to_string(), &tenant.to_string()])
    }
    fn directory_object_by_app_id(&mut self, tenant: Uuid, kind: &str, app_id: Uuid) -> Result<Option<DirectoryObject>> {
        self.one(
            "SELECT doc FROM directory_objects WHERE tenant_id = $1 AND app_id = $2 AND kind = $3",
            &[&tenant.to_string(), &app_id.to_string(), &kind],
        )
    }
    fn user_by_upn(&mut self, tenant: Uuid, upn: &str) -> Result<Option<DirectoryObject>> {
        self.one("SELECT doc FROM directory_objects WHERE tenant_id = $1 AND upn = $2", &[&tenant.to_string(), &upn.to_ascii_lowercase()])
    }
    fn directory_objects(&mut self, tenant: Uuid, kind: &str) -> Result<Vec<DirectoryObject>> {
        self.many("SELECT doc FROM directory_objects WHERE tenant_id = $1 AND kind = $2 ORDER BY id", &[&tenant.to_string(), &kind])
    }
    fn groups_with_member(&mut self, tenant: Uuid, member: Uuid) -> Result<Vec<Uuid>> {
        let rows = self.rows(
            "SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2",
            &[&tenant.to_string(), &member.to_string()],
        )?;
        rows.iter().map(|r| Uuid::parse_str(r.get::<_, &str>(0)).map_err(|e| StoreError::Corrupt(e.to_string()))).collect()
    }
    fn put_directory_object(&mut self, o: &DirectoryObject) -> Result<()> {
        let (app_id, upn) = columns::object(o);
        self.exec(
            "INSERT INTO directory_objects(id, tenant_id, kind, app_id, upn, display_name, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, app_id = excluded.app_id, upn = excluded.upn,
               display_name = excluded.display_name, doc = excluded.doc",
            &[&o.id().to_string(), &o.tenant_id().to_string(), &o.kind(), &app_id, &upn, &o.display_name(), &to_json(o)?],
        )?;
        if let DirectoryObject::Group(g) = o {
            let (tenant, group) = (g.tenant_id.to_string(), g.id.to_string());
            self.exec("DELETE FROM group_members WHERE group_id = $1", &[&group])?;
            for m in &g.members {
                self.exec(
                    "INSERT INTO group_members(tenant_id, group_id, member_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&tenant, &group, &m.to_string()],
                )?;
            }
        }
        Ok(())
    }
    fn delete_directory_object(&mut self, tenant: Uuid, id: Uuid) -> Result<bool> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        let n = self.exec("DELETE FROM directory_objects WHERE id = $1 AND tenant_id = $2", &[&id, &tenant])?;
        self.exec("DELETE FROM group_members WHERE tenant_id = $1 AND (member_id = $2 OR group_id = $2)", &[&tenant, &id])?;
        Ok(n > 0)
    }

    fn resource(&mut self, key: &str) -> Result<Option<Resource>> {
        self.one("SELECT doc FROM resources WHERE key = $1", &[&key])
    }
    fn resources(&mut self, f: &ResourceFilter) -> Result<Vec<Resource>> {
        self.many(
            "SELECT doc FROM resources WHERE subscription = $1
               AND ($2::text IS NULL OR resource_group = $2)
               AND ($3::text IS NULL OR type_key = $3)
               AND ($4::text IS NULL OR type_key <> $4)
               AND ($5::text IS NULL OR key > $5)
             ORDER BY key LIMIT $6",
            &[
                &f.subscription.to_ascii_lowercase(),
                &f.resource_group,
                &f.resource_type,
                &f.exclude_type,
                &f.after_key,
                &i64::try_from(f.limit).unwrap_or(i64::MAX),
            ],
        )
    }
    fn put_resource(&mut self, r: &Resource) -> Result<()> {
        let c = columns::resource(r)?;
        self.exec(
            "INSERT INTO resources(key, subscription, resource_group, type_key, doc) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
            &[&c.key, &c.subscription, &c.resource_group, &c.type_key, &to_json(r)?],
        )?;
        Ok(())
    }
    fn delete_resource(&mut self, key: &str) -> Result<bool> {
        Ok(self.exec("DELETE FROM resources WHERE key = $1", &[&key])? > 0)
    }
    fn delete_resources_under(&mut self, key_prefix: &str) -> Result<usize> {
        let (lo, hi) = columns::under(key_prefix);
        Ok(self.exec("DELETE FROM resources WHERE key >= $1 AND key < $2", &[&lo, &hi])? as usize)
    }

    fn role_assignment(&mut self, key: &str) -> Result<Option<RoleAssignment>> {
        self.one("SELECT doc FROM role_assignments WHERE key = $1", &[&key])
    }
    fn role_assignments_for(&mut self, principals: &[Uuid]) -> Result<Vec<RoleAssignment>> {
        let ids: Vec<String> = principals.iter().map(Uuid::to_string).collect();
        self.many("SELECT doc FROM role_assignments WHERE principal_id = ANY($1) ORDER BY key", &[&ids])
    }
    fn role_assignments_in(&mut self, subscription: &str) -> Result<Vec<RoleAssignment>> {
        self.many(
            "SELECT doc FROM role_assignments WHERE subscription = $1 OR subscription = '' ORDER BY key",
            &[&subscription.to_ascii_lowercase()],
        )
    }
    fn put_role_assignment(&mut self, a: &RoleAssignment) -> Result<()> {
        let c = columns::assignment(a);
        self.exec(
            "INSERT INTO role_assignments(key, scope_key, subscription, principal_id, doc) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT(key) DO UPDATE SET doc = excluded.doc, principal_id = excluded.principal_id",
            &[&c.key, &c.scope_key, &c.subscription, &a.principal_id.to_string(), &to_json(a)?],
        )?;
        Ok(())
    }
    fn delete_role_assignment(&mut self, key: &str) -> Result<bool> {
        Ok(self.exec("DELETE FROM role_assignments WHERE key = $1", &[&key])? > 0)
    }
    fn delete_role_assignments_under(&mut self, scope_key: &str) -> Result<usize> {
        let (lo, hi) = columns::under(scope_key);
        Ok(self
            .exec("DELETE FROM role_assignments WHERE scope_key = $1 OR (scope_key >= $2 AND scope_key < $3)", &[&scope_key, &lo, &hi])?
            as usize)
    }

    fn signing_keys(&mut self) -> Result<Vec<StoredKey>> {
        let rows = self.rows("SELECT kid, pkcs8, created, active FROM signing_keys ORDER BY created DESC, kid", &[])?;
        Ok(rows.iter().map(|r| StoredKey { kid: r.get(0), pkcs8: r.get(1), created: r.get(2), active: r.get(3) }).collect())
    }
    fn put_signing_key(&mut self, k: &StoredKey) -> Result<()> {
        self.exec(
            "INSERT INTO signing_keys(kid, pkcs8, created, active) VALUES ($1, $2, $3, $4) ON CONFLICT(kid) DO UPDATE SET active = excluded.active, pkcs8 = excluded.pkcs8",
            &[&k.kid, &k.pkcs8, &k.created, &k.active],
        )?;
        Ok(())
    }

    fn delete_signing_key(&mut self, kid: &str) -> Result<bool> {
        Ok(self.exec("DELETE FROM signing_keys WHERE kid = $1", &[&kid])? > 0)
    }

    fn blob(&mut self, container: &str, name: &str) -> Result<Option<BlobRecord>> {
        self.one("SELECT doc FROM blobs WHERE container = $1 AND name = $2", &[&container, &name])
    }
    fn blobs(&mut self, container: &str, from: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobRecord>> {
        self.many(
            "SELECT doc FROM blobs WHERE container = $1 AND name >= $2 AND ($3::text IS NULL OR name > $3) ORDER BY name LIMIT $4",
            &[&container, &from, &after, &(limit as i64)],
        )
    }
    fn put_blob(&mut self, container: &str, b: &BlobRecord) -> Result<()> {
        self.exec(
            "INSERT INTO blobs(container, name, doc) VALUES ($1, $2, $3) ON CONFLICT(container, name) DO UPDATE SET doc = excluded.doc",
            &[&container, &b.name, &to_json(b)?],
        )?;
        Ok(())
    }
    fn delete_blob(&mut self, container: &str, name: &str) -> Result<bool> {
        Ok(self.exec("DELETE FROM blobs WHERE container = $1 AND name = $2", &[&container, &name])? > 0)
    }
    fn delete_blobs_in(&mut self, container: &str) -> Result<usize> {
        Ok(self.exec("DELETE FROM blobs WHERE container = $1", &[&container])? as usize)
    }
    fn delete_blobs_under(&mut self, prefix: &str) -> Result<usize> {
        let (lo, hi) = columns::under(prefix);
        Ok(self.exec("DELETE FROM blobs WHERE container >= $1 AND container < $2", &[&lo, &hi])? as usize)
    }
    fn chunk(&mut self, data: &str, seq: u32) -> Result<Option<Vec<u8>>> {
        let seq = seq as i32;
        Ok(self.rows("SELECT bytes FROM chunks WHERE data = $1 AND seq = $2", &[&data, &seq])?.first().map(|r| r.get(0)))
    }
    fn put_chunk(&mut self, data: &str, seq: u32, bytes: &[u8]) -> Result<()> {
        let seq = seq as i32;
        self.exec(
            "INSERT INTO chunks(data, seq, bytes) VALUES ($1, $2, $3) ON CONFLICT(data, seq) DO UPDATE SET bytes = excluded.bytes",
            &[&data, &seq, &bytes],
        )?;
        Ok(())
    }
    fn delete_chunks(&mut self, data: &str) -> Result<usize> {
        Ok(self.exec("DELETE FROM chunks WHERE data = $1", &[&data])? as usize)
    }
    fn delete_chunks_under(&mut self, prefix: &str) -> Result<usize> {
        let (lo, hi) = columns::under(prefix);
        Ok(self.exec("DELETE FROM chunks WHERE data >= $1 AND data < $2", &[&lo, &hi])? as usize)
    }

    fn document(&mut self, kind: DocName, id: &str) -> Result<Option<Value>> {
        let kind = kind.as_str();
        self.one("SELECT doc FROM documents WHERE kind = $1 AND id = $2", &[&kind, &id])
    }
    fn put_document(&mut self, kind: DocName, id: &str, doc: &Value, expires: Option<i64>) -> Result<()> {
        let kind = kind.as_str();
        self.exec(
            "INSERT INTO documents(kind, id, doc, expires) VALUES ($1, $2, $3, $4)
             ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc, expires = excluded.expires",
            &[&kind, &id, &to_json(doc)?, &expires],
        )?;
        Ok(())
    }
    fn delete_document(&mut self, kind: DocName, id: &str) -> Result<bool> {
        let kind = kind.as_str();
        Ok(self.exec("DELETE FROM documents WHERE kind = $1 AND id = $2", &[&kind, &id])? > 0)
    }
    fn delete_expired_documents(&mut self, kind: DocName, now: i64) -> Result<usize> {
        let kind = kind.as_str();
        Ok(self.exec("DELETE FROM documents WHERE kind = $1 AND expires <= $2", &[&kind, &now])? as usize)
    }
}
