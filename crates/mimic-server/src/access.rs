//! Azure RBAC as every surface checks it: a principal's role assignments (its own and its
//! groups', transitively), cached per store generation, and the directory's custom roles.
//! ARM checks `actions`; the data planes (Key Vault, Blob) check `dataActions`, and Blob's
//! container operations `actions` too, as Azure Storage does.

use std::sync::Arc;

use mimic_domain::rbac::{self, RoleAssignment};
use mimic_store::StoreError;
use uuid::Uuid;

use crate::state::AppState;

/// The assignments of `principal` in `tenant`, direct and through groups.
pub fn assignments(state: &AppState, tenant: Uuid, principal: Uuid) -> Result<Arc<Vec<RoleAssignment>>, StoreError> {
    let generation = state.store.generation();
    state.caches.assignments.get_or_load(generation, &(tenant, principal), || {
        let mut principals = vec![principal];
        principals.extend(crate::directory::transitive_groups(state, tenant, principal)?);
        Ok(Arc::new(state.store.read(|tx| tx.role_assignments_for(&principals))?))
    })
}

/// Whether `principal` may do `action` (an ARM action) at `scope`.
pub fn allowed(state: &AppState, tenant: Uuid, principal: Uuid, action: &str, scope: &str) -> Result<bool, StoreError> {
    let roles = crate::custom_roles::of_tenant(state, tenant)?;
    Ok(rbac::is_allowed(action, scope, assignments(state, tenant, principal)?.iter(), |id| roles.role(id)))
}

/// Whether `principal` may do `data_action` at `scope`.
pub fn data_allowed(state: &AppState, tenant: Uuid, principal: Uuid, data_action: &str, scope: &str) -> Result<bool, StoreError> {
    let roles = crate::custom_roles::of_tenant(state, tenant)?;
    Ok(rbac::is_data_allowed(data_action, scope, assignments(state, tenant, principal)?.iter(), |id| roles.role(id)))
}
