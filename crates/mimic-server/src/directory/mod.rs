//! Directory lookups several surfaces share (group membership for tokens and RBAC), and the
//! tenant's directory-role assignments ([`roles`]), which bootstrap and Graph both write.

pub mod roles;

use uuid::Uuid;

use crate::state::AppState;

/// Groups the principal belongs to, directly or through nested groups.
pub fn transitive_groups(state: &AppState, tenant: Uuid, principal: Uuid) -> Result<Vec<Uuid>, mimic_store::StoreError> {
    state.store.read(|tx| {
        let mut seen: Vec<Uuid> = Vec::new();
        let mut frontier = vec![principal];
        while let Some(p) = frontier.pop() {
            for g in tx.groups_with_member(tenant, p)? {
                if !seen.contains(&g) {
                    seen.push(g);
                    frontier.push(g);
                }
            }
        }
        Ok(seen)
    })
}

/// Whether `resource` names a resource principal of the tenant (Entra's AADSTS500011
/// otherwise): one of Microsoft's first-party APIs, Mimic's own ARM or Graph address, or an
/// application or service principal of the tenant by its application id (also `api://{appId}`).
/// Shared by the token service and IMDS.
pub fn resource_exists(state: &AppState, tenant: Uuid, resource: &str) -> Result<bool, mimic_store::StoreError> {
    use mimic_domain::directory::{same_resource, FIRST_PARTY_RESOURCES};
    let ep = &state.endpoints;
    if FIRST_PARTY_RESOURCES.iter().copied().chain([ep.arm.as_str(), ep.graph.as_str()]).any(|r| same_resource(r, resource)) {
        return Ok(true);
    }
    if mimic_domain::storage::is_account_resource(resource) {
        return Ok(true);
    }
    let Ok(app_id) = resource.strip_prefix("api://").unwrap_or(resource).trim_end_matches('/').parse::<Uuid>() else {
        return Ok(false);
    };
    state.store.read(|tx| {
        Ok(tx.directory_object_by_app_id(tenant, "servicePrincipal", app_id)?.is_some()
            || tx.directory_object_by_app_id(tenant, "application", app_id)?.is_some())
    })
}
