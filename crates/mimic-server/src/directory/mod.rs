//! Directory lookups several surfaces share (group membership for tokens and RBAC), and the
//! tenant's directory-role assignments ([`roles`]), which bootstrap and Graph both write.

pub mod roles;

use mimic_domain::directory::{DirectoryObject, ServicePrincipal};
use serde_json::Value;
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

/// The app roles `resource` publishes, as (id, value): a first-party API's, or the application's
/// own `appRoles` that applications may hold.
pub fn app_roles_of(tx: &mut dyn mimic_store::Tx, resource: &ServicePrincipal) -> mimic_store::Result<Vec<(Uuid, String)>> {
    if let Some(api) = mimic_domain::first_party_apis::by_app_id(resource.app_id) {
        return Ok(api.app_roles.iter().filter_map(|p| Some((p.id.parse().ok()?, p.value.to_string()))).collect());
    }
    let Some(DirectoryObject::Application(app)) = tx.directory_object_by_app_id(resource.tenant_id, "application", resource.app_id)? else {
        return Ok(vec![]);
    };
    let roles = app.properties.get("appRoles").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(roles
        .iter()
        .filter(|r| r.get("isEnabled").and_then(Value::as_bool) != Some(false))
        .filter(|r| r.get("allowedMemberTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t == "Application")))
        .filter_map(|r| Some((r.get("id")?.as_str()?.parse().ok()?, r.get("value")?.as_str()?.to_string())))
        .collect())
}

/// The `roles` of an app-only token of `principal` for `audience`: the values of the app roles
/// assigned to it on the audience's resource principal (Mimic's own ARM and Graph addresses
/// stand for Microsoft's APIs). One read when the principal holds no assignment.
pub fn app_roles(state: &AppState, tenant: Uuid, principal: Uuid, audience: &str) -> Result<Vec<String>, mimic_store::StoreError> {
    use mimic_domain::directory::same_resource;
    let ep = &state.endpoints;
    let audience = if same_resource(audience, &ep.graph) {
        "https://graph.microsoft.com"
    } else if same_resource(audience, &ep.arm) {
        "https://management.azure.com/"
    } else {
        audience
    };
    state.store.read(|tx| {
        let Some(DirectoryObject::ServicePrincipal(sp)) = tx.directory_object(tenant, principal)? else { return Ok(vec![]) };
        let mut out = Vec::new();
        let mut resources: Vec<Uuid> = sp.app_role_assignments.iter().map(|a| a.resource_id).collect();
        resources.dedup();
        for rid in resources {
            let Some(DirectoryObject::ServicePrincipal(resource)) = tx.directory_object(tenant, rid)? else { continue };
            let names = resource.service_principal_names.iter().map(String::as_str);
            let api_uri = format!("api://{}", resource.app_id);
            if !names.chain([api_uri.as_str()]).any(|n| same_resource(n, audience)) {
                continue;
            }
            let published = app_roles_of(tx, &resource)?;
            for a in sp.app_role_assignments.iter().filter(|a| a.resource_id == rid) {
                if let Some((_, value)) = published.iter().find(|(id, _)| *id == a.app_role_id) {
                    if !out.contains(value) {
                        out.push(value.clone());
                    }
                }
            }
        }
        Ok(out)
    })
}
