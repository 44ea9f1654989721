//! Schema migrations, applied in order and recorded in `PRAGMA user_version`.
//! Append only: a released migration is never edited.

use rusqlite::Connection;

use crate::Result;

const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
     CREATE TABLE resources(key TEXT PRIMARY KEY, subscription TEXT NOT NULL, resource_group TEXT,
        type_key TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX resources_scope ON resources(subscription, resource_group, type_key);
     CREATE INDEX resources_type ON resources(subscription, type_key);
     CREATE TABLE role_assignments(key TEXT PRIMARY KEY, scope_key TEXT NOT NULL, subscription TEXT NOT NULL,
        principal_id TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX role_assignments_principal ON role_assignments(principal_id);
     CREATE INDEX role_assignments_scope ON role_assignments(subscription, scope_key);
     CREATE TABLE signing_keys(kid TEXT PRIMARY KEY, pkcs8 BLOB NOT NULL, created INTEGER NOT NULL, active INTEGER NOT NULL);
     CREATE TABLE documents(kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, expires INTEGER,
        PRIMARY KEY(kind, id));",
    // 2: Blob storage: blob records and their bytes in chunks.
    "CREATE TABLE blobs(container TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY(container, name));
     CREATE TABLE chunks(data TEXT NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY(data, seq));",
];

pub fn apply(conn: &mut Connection) -> Result<()> {
    let current: usize = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
