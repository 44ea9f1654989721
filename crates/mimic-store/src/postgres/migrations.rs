//! PostgreSQL schema migrations, applied in order and recorded in `mimic_schema`. Append only:
//! a released migration is never edited. The same tables as SQLite's (`../sqlite/migrations.rs`),
//! with keys in the "C" collation so range scans and `ORDER BY key` compare bytes as SQLite does.

use postgres::Client;

use crate::Result;

const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE tenants(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
     CREATE TABLE subscriptions(id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX subscriptions_tenant ON subscriptions(tenant_id);
     CREATE TABLE directory_objects(id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL,
        app_id TEXT, upn TEXT, display_name TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX directory_objects_app ON directory_objects(tenant_id, app_id);
     CREATE INDEX directory_objects_upn ON directory_objects(tenant_id, upn);
     CREATE INDEX directory_objects_kind ON directory_objects(tenant_id, kind, display_name);
     CREATE TABLE group_members(tenant_id TEXT NOT NULL, group_id TEXT NOT NULL, member_id TEXT NOT NULL,
        PRIMARY KEY(group_id, member_id));
     CREATE INDEX group_members_member ON group_members(tenant_id, member_id);
     CREATE TABLE resources(key TEXT COLLATE "C" PRIMARY KEY, subscription TEXT NOT NULL, resource_group TEXT,
        type_key TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX resources_scope ON resources(subscription, resource_group, type_key);
     CREATE INDEX resources_type ON resources(subscription, type_key);
     CREATE TABLE role_assignments(key TEXT COLLATE "C" PRIMARY KEY, scope_key TEXT COLLATE "C" NOT NULL,
        subscription TEXT NOT NULL, principal_id TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX role_assignments_principal ON role_assignments(principal_id);
     CREATE INDEX role_assignments_scope ON role_assignments(subscription, scope_key);
     CREATE TABLE signing_keys(kid TEXT PRIMARY KEY, pkcs8 BYTEA NOT NULL, created BIGINT NOT NULL, active BOOLEAN NOT NULL);
     CREATE TABLE documents(kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, expires BIGINT,
        PRIMARY KEY(kind, id));
     -- The store's generation (Backend::generation): advanced after every committed write.
     CREATE SEQUENCE mimic_generation;"#,
    // 2: Blob storage: blob records and their bytes in chunks.
    r#"CREATE TABLE blobs(container TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY(container, name));
     CREATE TABLE chunks(data TEXT COLLATE "C" NOT NULL, seq INTEGER NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY(data, seq));"#,
];

/// Any fixed number: the advisory lock that keeps two replicas from migrating at once.
const MIGRATION_LOCK: i64 = 0x6d69_6d69_6300_0001;

pub fn apply(conn: &mut Client) -> Result<()> {
    let mut tx = conn.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS mimic_schema(version INTEGER NOT NULL)")?;
    let current: i32 = match tx.query_opt("SELECT version FROM mimic_schema", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO mimic_schema(version) VALUES (0)", &[])?;
            0
        }
    };
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql)?;
        tx.execute("UPDATE mimic_schema SET version = $1", &[&((i + 1) as i32)])?;
    }
    tx.commit()?;
    Ok(())
}
