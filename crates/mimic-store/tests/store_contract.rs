//! The store contract every backend must pass: committed writes survive a reopen, a failed
//! transaction leaves nothing behind, lookups match case-insensitively where ARM does.

use chrono::Utc;
use mimic_domain::directory::{DirectoryObject, Group, Subscription, Tenant};
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::key;
use mimic_store::{ResourceFilter, Store, StoreError};
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

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open_sqlite(&dir.path().join("mimic.db")).unwrap()
}

#[derive(Debug)]
enum TestError {
    Store(StoreError),
    Refused,
}
impl From<StoreError> for TestError {
    fn from(e: StoreError) -> Self {
        TestError::Store(e)
    }
}

#[test]
fn committed_writes_survive_reopen_and_failed_ones_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = Tenant { id: Uuid::new_v4(), display_name: "t".into(), default_domain: "t.example".into(), created: Utc::now() };
    {
        let s = open(&dir);
        s.write(|tx| tx.put_tenant(&tenant)).unwrap();
        let r: Result<(), TestError> = s.write(|tx| {
            tx.put_resource(&resource("/subscriptions/s/resourceGroups/half", "Microsoft.Resources/resourceGroups"))?;
            Err(TestError::Refused)
        });
        assert!(matches!(r, Err(TestError::Refused)));
    }
    let s = open(&dir);
    assert_eq!(s.read(|tx| tx.tenant(tenant.id)).unwrap().unwrap().default_domain, "t.example");
    assert!(s.read(|tx| tx.resource(&key("/subscriptions/s/resourceGroups/half"))).unwrap().is_none());
}

#[test]
fn resources_match_case_insensitively_and_list_by_scope() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let rg = "/subscriptions/S1/resourceGroups/RG";
    s.write(|tx| {
        tx.put_resource(&resource(rg, "Microsoft.Resources/resourceGroups"))?;
        tx.put_resource(&resource(&format!("{rg}/providers/Microsoft.Compute/virtualMachines/VM1"), "Microsoft.Compute/virtualMachines"))?;
        tx.put_resource(&resource(&format!("{rg}/providers/Microsoft.Network/networkInterfaces/nic"), "Microsoft.Network/networkInterfaces"))?;
        tx.put_resource(&resource("/subscriptions/s1/resourceGroups/RG2/providers/Microsoft.Compute/virtualMachines/vm2", "Microsoft.Compute/virtualMachines"))
    })
    .unwrap();
    let got = s.read(|tx| tx.resource(&key("/subscriptions/s1/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"))).unwrap().unwrap();
    assert_eq!(got.id, format!("{rg}/providers/Microsoft.Compute/virtualMachines/VM1"), "casing of creation is kept");
    let vms = s
        .read(|tx| tx.resources(&ResourceFilter { subscription: "s1", resource_type: Some("microsoft.compute/virtualmachines"), limit: 10, ..Default::default() }))
        .unwrap();
    assert_eq!(vms.len(), 2);
    let in_rg = s.read(|tx| tx.resources(&ResourceFilter { subscription: "S1", resource_group: Some("rg"), limit: 10, ..Default::default() })).unwrap();
    assert_eq!(in_rg.len(), 3);
    // Deleting a group's contents does not touch RG2, whose name shares the prefix.
    let n = s.write(|tx| tx.delete_resources_under(&key(rg))).unwrap();
    assert_eq!(n, 2);
    assert_eq!(s.read(|tx| tx.resources(&ResourceFilter { subscription: "s1", limit: 10, ..Default::default() })).unwrap().len(), 2);
}

#[test]
fn role_assignments_by_principal_and_group_membership() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
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
            members: vec![principal],
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

#[test]
fn documents_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.write(|tx| tx.put_document("operation", "op1", &json!({"status": "Succeeded"}), Some(10))).unwrap();
    assert_eq!(s.read(|tx| tx.document("operation", "op1")).unwrap().unwrap()["status"], "Succeeded");
    assert!(s.write(|tx| tx.delete_document("operation", "op1")).unwrap());
    assert!(s.read(|tx| tx.document("operation", "op1")).unwrap().is_none());
}
