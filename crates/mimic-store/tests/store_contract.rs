//! The store contract every backend must pass: committed writes survive a reopen, a failed
//! transaction leaves nothing behind, lookups match case-insensitively where ARM does,
//! concurrent read-modify-writes lose no update.
//!
//! Each test runs once per backend (`sqlite::*`, `postgres::*`). The PostgreSQL run needs
//! `MIMIC_TEST_POSTGRES=postgres://user@host:port/db` (any database the user may `CREATE
//! DATABASE` from; `scripts/postgres-test-cluster.sh start DIR` prints one) and gives each test a
//! fresh database; without the variable those tests say so and pass without running.

use chrono::Utc;
use mimic_domain::deployment::RunningDeployments;
use mimic_domain::directory::{DirectoryObject, Group, Subscription, Tenant};
use mimic_domain::operation::{AsyncOperation, OperationStatus};
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::key;
use mimic_domain::sealed::SealedRecord;
use mimic_domain::storage::blob::{BlobRecord, Block};
use mimic_store::documents::{Docs, Kind, ARM_OPERATION, PORTAL_SESSION, PORTAL_SIGNIN, RUNNING_DEPLOYMENTS};
use mimic_store::{ResourceFilter, Store, StoreError, StoredKey};
use serde_json::json;
use uuid::Uuid;

fn resource(id: &str, ty: &str) -> Resource {
    let now = Utc::now();
    Resource {
        id: id.into(),
        name: id.rsplit('/').next().unwrap().into(),
        resource_type: ty.into(),
        location: Some("westus".into()),
        tags: None,
        properties: json!({}),
        identity: None,
        extra: Default::default(),
        created: now,
        changed: now,
    }
}

/// One empty store per test, re-openable (a restart) and, for PostgreSQL, shareable by several
/// handles (replicas).
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Option<Db> {
        let admin_url = std::env::var("MIMIC_TEST_POSTGRES").ok().filter(|u| !u.is_empty())?;
        let name = format!("mimic_contract_{}", Uuid::new_v4().simple());
        let mut admin = ::postgres::Client::connect(&admin_url, ::postgres::NoTls).expect("MIMIC_TEST_POSTGRES must be reachable");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        Some(Db::Postgres(with_database(&admin_url, &name)))
    }

    fn open(&self) -> Store {
        match self {
            Db::Sqlite(dir) => Store::open_sqlite(&dir.path().join("mimic.db")).unwrap(),
            Db::Postgres(url) => Store::open_postgres(url).unwrap(),
        }
    }
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Runs each contract test on both backends.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&super::Db::sqlite()) } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                match super::Db::postgres() {
                    Some(db) => super::$name(&db),
                    None => eprintln!("skipped {}: MIMIC_TEST_POSTGRES is unset (scripts/postgres-test-cluster.sh start DIR prints a URL)", stringify!($name)),
                }
            } )*
        }
    };
}

contract!(
    committed_writes_survive_reopen_and_failed_ones_leave_nothing,
    resources_match_case_insensitively_and_list_by_scope,
    role_assignments_by_principal_and_group_membership,
    documents_round_trip,
    signing_keys_are_stored_retired_and_deleted,
    concurrent_read_modify_writes_lose_no_update,
    generation_moves_with_every_commit,
    blobs_list_in_byte_order_and_chunks_delete_by_prefix,
);

enum TestError {
    Store(StoreError),
    Refused,
}
impl std::fmt::Debug for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestError::Store(e) => write!(f, "Store({e:?})"),
            TestError::Refused => f.write_str("Refused"),
        }
    }
}
impl From<StoreError> for TestError {
    fn from(e: StoreError) -> Self {
        TestError::Store(e)
    }
}

fn committed_writes_survive_reopen_and_failed_ones_leave_nothing(db: &Db) {
    let tenant = Tenant { id: Uuid::new_v4(), display_name: "t".into(), default_domain: "t.example".into(), created: Utc::now() };
    {
        let s = db.open();
        s.write(|tx| tx.put_tenant(&tenant)).unwrap();
        let r: Result<(), TestError> = s.write(|tx| {
            tx.put_resource(&resource("/subscriptions/s/resourceGroups/half", "Microsoft.Resources/resourceGroups"))?;
            Err(TestError::Refused)
        });
        assert!(matches!(r, Err(TestError::Refused)));
    }
    let s = db.open();
    assert_eq!(s.read(|tx| tx.tenant(tenant.id)).unwrap().unwrap().default_domain, "t.example");
    assert!(s.read(|tx| tx.resource(&key("/subscriptions/s/resourceGroups/half"))).unwrap().is_none());
}

fn resources_match_case_insensitively_and_list_by_scope(db: &Db) {
    let s = db.open();
    let rg = "/subscriptions/S1/resourceGroups/RG";
    s.write(|tx| {
        tx.put_resource(&resource(rg, "Microsoft.Resources/resourceGroups"))?;
        tx.put_resource(&resource(&format!("{rg}/providers/Microsoft.Compute/virtualMachines/VM1"), "Microsoft.Compute/virtualMachines"))?;
        tx.put_resource(&resource(
            &format!("{rg}/providers/Microsoft.Network/networkInterfaces/nic"),
            "Microsoft.Network/networkInterfaces",
        ))?;
        tx.put_resource(&resource(
            "/subscriptions/s1/resourceGroups/RG2/providers/Microsoft.Compute/virtualMachines/vm2",
            "Microsoft.Compute/virtualMachines",
        ))
    })
    .unwrap();
    let got = s
        .read(|tx| tx.resource(&key("/subscriptions/s1/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1")))
        .unwrap()
        .unwrap();
    assert_eq!(got.id, format!("{rg}/providers/Microsoft.Compute/virtualMachines/VM1"), "casing of creation is kept");
    let vms = s
        .read(|tx| {
            tx.resources(&ResourceFilter {
                subscription: "s1",
                resource_type: Some("microsoft.compute/virtualmachines"),
                limit: 10,
                ..Default::default()
            })
        })
        .unwrap();
    assert_eq!(vms.len(), 2);
    let in_rg = s
        .read(|tx| tx.resources(&ResourceFilter { subscription: "S1", resource_group: Some("rg"), limit: 10, ..Default::default() }))
        .unwrap();
    assert_eq!(in_rg.len(), 3);
    // Deleting a group's contents does not touch RG2, whose name shares the prefix.
    let n = s.write(|tx| tx.delete_resources_under(&key(rg))).unwrap();
    assert_eq!(n, 2);
    assert_eq!(s.read(|tx| tx.resources(&ResourceFilter { subscription: "s1", limit: 10, ..Default::default() })).unwrap().len(), 2);
}

fn role_assignments_by_principal_and_group_membership(db: &Db) {
    let s = db.open();
    let (tenant, principal, group) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now();
    let a = RoleAssignment {
        name: Uuid::new_v4(),
        scope: "/subscriptions/s1/resourceGroups/rg".into(),
        role_definition_id: mimic_domain::rbac::ids::READER,
        principal_id: group,
        principal_type: "Group".into(),
        description: None,
        condition: None,
        condition_version: None,
        created_on: now,
        updated_on: now,
        created_by: None,
        updated_by: None,
    };
    s.write(|tx| {
        tx.put_subscription(&Subscription { id: Uuid::new_v4(), tenant_id: tenant, display_name: "s".into(), state: "Enabled".into() })?;
        tx.put_role_assignment(&a)?;
        tx.put_directory_object(&DirectoryObject::Group(Group {
            id: group,
            tenant_id: tenant,
            display_name: "g".into(),
            mail_nickname: "g".into(),
            description: None,
            security_enabled: true,
            is_assignable_to_role: false,
            members: vec![principal],
            owners: vec![],
            created: now,
        }))
    })
    .unwrap();
    assert_eq!(s.read(|tx| tx.groups_with_member(tenant, principal)).unwrap(), vec![group]);
    assert_eq!(s.read(|tx| tx.role_assignments_for(&[principal, group])).unwrap().len(), 1);
    assert_eq!(s.read(|tx| tx.role_assignments_in("S1")).unwrap().len(), 1);
    let removed = s.write(|tx| tx.delete_role_assignments_under(&key("/subscriptions/s1/resourceGroups/rg"))).unwrap();
    assert_eq!(removed, 1);
    // Removing the group drops its memberships too.
    s.write(|tx| tx.delete_directory_object(tenant, group)).unwrap();
    assert!(s.read(|tx| tx.groups_with_member(tenant, principal)).unwrap().is_empty());
}

fn documents_round_trip(db: &Db) {
    let s = db.open();
    let op = |status| AsyncOperation { subscription: "s1".into(), status, start_time: "t".into(), end_time: "t".into(), error: None };
    s.write(|tx| tx.put(ARM_OPERATION, "op1", &op(OperationStatus::Succeeded), Some(10))).unwrap();
    assert_eq!(s.read(|tx| tx.get(ARM_OPERATION, "op1")).unwrap().unwrap().status, OperationStatus::Succeeded);
    assert!(s.write(|tx| tx.remove(ARM_OPERATION, "op1")).unwrap());
    assert!(s.read(|tx| tx.get(ARM_OPERATION, "op1")).unwrap().is_none());
    // Expired documents of one kind are reclaimed; unexpired ones, documents without an
    // expiry and other kinds stay.
    let sealed = SealedRecord { expires: 0, sealed: "x".into() };
    s.write(|tx| {
        tx.put(PORTAL_SESSION, "old", &sealed, Some(100))?;
        tx.put(PORTAL_SESSION, "due", &sealed, Some(200))?;
        tx.put(PORTAL_SESSION, "live", &sealed, Some(201))?;
        tx.put(PORTAL_SESSION, "forever", &sealed, None)?;
        tx.put(PORTAL_SIGNIN, "old", &sealed, Some(100))
    })
    .unwrap();
    assert_eq!(s.write(|tx| tx.remove_expired(PORTAL_SESSION, 200)).unwrap(), 2);
    let left = |kind: Kind<SealedRecord>, id: &'static str| s.read(|tx| tx.get(kind, id)).unwrap().is_some();
    assert!(!left(PORTAL_SESSION, "old") && !left(PORTAL_SESSION, "due"));
    assert!(left(PORTAL_SESSION, "live") && left(PORTAL_SESSION, "forever") && left(PORTAL_SIGNIN, "old"));
}

fn signing_keys_are_stored_retired_and_deleted(db: &Db) {
    let s = db.open();
    let key = |kid: &str, created: i64, active: bool| StoredKey { kid: kid.into(), pkcs8: vec![1, 2, 3], created, active };
    s.write(|tx| {
        tx.put_signing_key(&key("k1", 10, true))?;
        tx.put_signing_key(&key("k2", 20, true))?;
        tx.put_signing_key(&key("k1", 10, false))
    })
    .unwrap();
    let stored = s.read(|tx| tx.signing_keys()).unwrap();
    assert_eq!(stored.iter().map(|k| (k.kid.as_str(), k.active)).collect::<Vec<_>>(), [("k2", true), ("k1", false)], "newest first");
    assert!(s.write(|tx| tx.delete_signing_key("k1")).unwrap());
    assert!(!s.write(|tx| tx.delete_signing_key("k1")).unwrap());
    assert_eq!(s.read(|tx| tx.signing_keys()).unwrap().len(), 1);
}

/// Many writers each add one entry to the same document (as PATCHes of one VM's identity block
/// do): every addition must be there at the end.
fn concurrent_read_modify_writes_lose_no_update(db: &Db) {
    let s = db.open();
    s.write(|tx| tx.put(RUNNING_DEPLOYMENTS, "c", &RunningDeployments::default(), None)).unwrap();
    let threads: Vec<_> = (0..32)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                s.write(|tx| {
                    let mut doc = tx.get(RUNNING_DEPLOYMENTS, "c")?.unwrap();
                    doc.add(&i.to_string(), "r");
                    tx.put(RUNNING_DEPLOYMENTS, "c", &doc, None)
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let doc = s.read(|tx| tx.get(RUNNING_DEPLOYMENTS, "c")).unwrap().unwrap();
    let mut got: Vec<i64> = doc.entries.iter().map(|e| e.key.parse().unwrap()).collect();
    got.sort();
    assert_eq!(got, (0..32).collect::<Vec<i64>>());
}

/// A committed write moves the generation as every handle on the store sees it (for PostgreSQL,
/// another replica's handle too); a failed one need not.
fn generation_moves_with_every_commit(db: &Db) {
    let a = db.open();
    let before = a.generation();
    a.write(|tx| tx.put_meta("k", "1")).unwrap();
    let after = a.generation();
    assert_ne!(before, after);
    if let Db::Postgres(_) = db {
        let b = db.open();
        let seen = b.generation();
        a.write(|tx| tx.put_meta("k", "2")).unwrap();
        assert_ne!(b.generation(), seen, "a write through one replica moves the other's generation");
        assert_eq!(b.read(|tx| tx.meta("k")).unwrap().as_deref(), Some("2"));
    }
}

fn blob(name: &str) -> BlobRecord {
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    BlobRecord {
        name: name.into(),
        size: 3,
        etag: "\"0x1\"".into(),
        created: now,
        last_modified: now,
        content: Default::default(),
        metadata: vec![],
        blocks: vec![Block { id: String::new(), data: format!("i1/c/{name}"), size: 3 }],
    }
}

fn blobs_list_in_byte_order_and_chunks_delete_by_prefix(db: &Db) {
    let s = db.open();
    // Names in UTF-8 byte order, as Azure lists them: upper case before lower case, "a/" before
    // "a0", "é" (two bytes from 0xC3) after every ASCII name.
    let names = ["B", "a", "a/x", "a0", "ab", "é"];
    s.write(|tx| {
        for n in names.iter().rev() {
            tx.put_blob("i1/c", &blob(n))?;
        }
        tx.put_blob("i1/cc", &blob("other"))?;
        tx.put_blob("i2/c", &blob("elsewhere"))?;
        for seq in 0..3 {
            tx.put_chunk("i1/c/x", seq, &[seq as u8; 4])?;
        }
        tx.put_chunk("i1/cc/y", 0, b"y")?;
        tx.put_chunk("i2/c/z", 0, b"z")
    })
    .unwrap();
    let listed = |from: &str, after: Option<&str>, limit| -> Vec<String> {
        s.read(|tx| tx.blobs("i1/c", from, after, limit)).unwrap().into_iter().map(|b| b.name).collect()
    };
    assert_eq!(listed("", None, 100), names);
    assert_eq!(listed("a", Some("a/x"), 2), ["a0", "ab"]);
    assert_eq!(listed("b", None, 100), ["é"]);
    assert_eq!(s.read(|tx| tx.blob("i1/c", "a0")).unwrap().unwrap(), blob("a0"));
    assert_eq!(s.read(|tx| tx.chunk("i1/c/x", 2)).unwrap().as_deref(), Some(&[2u8; 4][..]));
    // A container's chunks go by its prefix, and not its neighbour's ("i1/cc").
    assert_eq!(s.write(|tx| tx.delete_chunks_under("i1/c")).unwrap(), 3);
    assert!(s.read(|tx| tx.chunk("i1/cc/y", 0)).unwrap().is_some());
    assert_eq!(s.write(|tx| tx.delete_blobs_in("i1/c")).unwrap(), names.len());
    assert!(s.read(|tx| tx.blob("i1/cc", "other")).unwrap().is_some());
    // An account's blobs and chunks go by its instance.
    assert_eq!(s.write(|tx| tx.delete_blobs_under("i1")).unwrap(), 1);
    assert_eq!(s.write(|tx| tx.delete_chunks_under("i1")).unwrap(), 1);
    assert!(s.write(|tx| tx.delete_blob("i2/c", "elsewhere")).unwrap());
    assert_eq!(s.write(|tx| tx.delete_chunks("i2/c/z")).unwrap(), 1);
}
