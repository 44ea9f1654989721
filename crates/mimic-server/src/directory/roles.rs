//! Directory roles (Entra's RBAC for the directory itself): who holds Global Administrator,
//! Directory Readers, ... in a tenant. Stored as one document per tenant in the store, read
//! once per Graph request; served at `/roleManagement/directory/role{Definitions,Assignments}`
//! and `/directoryRoles`.

use mimic_domain::directory::{self, DirectoryObject, DirectoryRoleAssignment, DirectoryRoleAssignments};
use mimic_store::documents::{Docs, DIRECTORY_ROLES};
use mimic_store::{StoreError, Tx};
use uuid::Uuid;

pub fn assignments(tx: &mut dyn Tx, tenant: Uuid) -> Result<Vec<DirectoryRoleAssignment>, StoreError> {
    Ok(tx.get(DIRECTORY_ROLES, &tenant.to_string())?.unwrap_or_default().assignments)
}

fn save(tx: &mut dyn Tx, tenant: Uuid, all: &[DirectoryRoleAssignment]) -> Result<(), StoreError> {
    tx.put(DIRECTORY_ROLES, &tenant.to_string(), &DirectoryRoleAssignments { assignments: all.to_vec() }, None)
}

/// The directory roles a principal holds, directly and through the role-assignable groups it
/// is a member of (Entra: role-assignable groups cannot be nested, so direct membership), and
/// whether it is in such a group at all (a row of Entra's privilege tables of its own).
pub struct Held {
    pub roles: Vec<Uuid>,
    pub in_role_assignable_group: bool,
}

pub fn held_by(tx: &mut dyn Tx, tenant: Uuid, principal: Uuid) -> Result<Held, StoreError> {
    let all = assignments(tx, tenant)?;
    let mut holders = vec![principal];
    let mut in_rag = false;
    for gid in tx.groups_with_member(tenant, principal)? {
        if let Some(DirectoryObject::Group(g)) = tx.directory_object(tenant, gid)? {
            if g.is_assignable_to_role {
                in_rag = true;
                holders.push(g.id);
            }
        }
    }
    let mut roles: Vec<Uuid> = all.iter().filter(|a| holders.contains(&a.principal_id)).map(|a| a.role_definition_id).collect();
    roles.sort();
    roles.dedup();
    Ok(Held { roles, in_role_assignable_group: in_rag })
}

/// The role definition ids `principal` holds (directly or through role-assignable groups).
pub fn roles_of(tx: &mut dyn Tx, tenant: Uuid, principal: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(held_by(tx, tenant, principal)?.roles)
}

/// Gives `principal` the directory role `role` tenant-wide (idempotent). Bootstrap calls this
/// for the administrator user and the bootstrap service principal with Global Administrator.
pub fn assign(tx: &mut dyn Tx, tenant: Uuid, principal: Uuid, role: Uuid) -> Result<DirectoryRoleAssignment, StoreError> {
    let mut all = assignments(tx, tenant)?;
    if let Some(a) = all.iter().find(|a| a.principal_id == principal && a.role_definition_id == role) {
        return Ok(a.clone());
    }
    let a = DirectoryRoleAssignment { id: assignment_id(role, principal), principal_id: principal, role_definition_id: role };
    all.push(a.clone());
    save(tx, tenant, &all)?;
    Ok(a)
}

/// Removes one assignment by id; `false` when there was none.
pub fn remove(tx: &mut dyn Tx, tenant: Uuid, id: &str) -> Result<bool, StoreError> {
    let mut all = assignments(tx, tenant)?;
    let before = all.len();
    all.retain(|a| a.id != id);
    if all.len() == before {
        return Ok(false);
    }
    save(tx, tenant, &all)?;
    Ok(true)
}

/// Removes every role a deleted principal held.
pub fn remove_principal(tx: &mut dyn Tx, tenant: Uuid, principal: Uuid) -> Result<(), StoreError> {
    let mut all = assignments(tx, tenant)?;
    let before = all.len();
    all.retain(|a| a.principal_id != principal);
    if all.len() != before {
        save(tx, tenant, &all)?;
    }
    Ok(())
}

/// Entra's unifiedRoleAssignment ids are opaque strings; Mimic's are derived from the role
/// and the principal so that an assignment has one stable id.
fn assignment_id(role: Uuid, principal: Uuid) -> String {
    use base64::Engine;
    let mut bytes = role.as_bytes().to_vec();
    bytes.extend_from_slice(principal.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn is_known_role(id: Uuid) -> bool {
    directory::directory_role(id).is_some()
}
