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
/// application or service principal of the tenant by its application id (also `api://{appId}`)
/// or by one of its application ID URIs.
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
        // An application ID URI (`identifierUris`) names its service principal.
        return state.store.read(|tx| {
            let principals = tx.directory_objects(tenant, "servicePrincipal")?;
            Ok(principals.iter().any(|o| matches!(o, DirectoryObject::ServicePrincipal(sp) if names_audience(sp, resource))))
        });
    };
    state.store.read(|tx| {
        Ok(tx.directory_object_by_app_id(tenant, "servicePrincipal", app_id)?.is_some()
            || tx.directory_object_by_app_id(tenant, "application", app_id)?.is_some())
    })
}

/// The app roles `resource` publishes, as (id, value): a first-party API's, or the application's
/// own `appRoles` that applications may hold.
pub fn app_roles_of(tx: &mut dyn mimic_store::Tx, resource: &ServicePrincipal) -> mimic_store::Result<Vec<(Uuid, String)>> {
    app_roles_for(tx, resource, "Application")
}

/// The app roles `resource` publishes for `member_type` (`Application`, or `User` for users and
/// groups: an application's `appRoles` by their `allowedMemberTypes`; Microsoft's APIs publish
/// theirs to applications only).
pub fn app_roles_for(
    tx: &mut dyn mimic_store::Tx,
    resource: &ServicePrincipal,
    member_type: &str,
) -> mimic_store::Result<Vec<(Uuid, String)>> {
    if let Some(api) = mimic_domain::first_party_apis::by_app_id(resource.app_id) {
        if member_type != "Application" {
            return Ok(vec![]);
        }
        return Ok(api.app_roles.iter().filter_map(|p| Some((p.id.parse().ok()?, p.value.to_string()))).collect());
    }
    let Some(DirectoryObject::Application(app)) = tx.directory_object_by_app_id(resource.tenant_id, "application", resource.app_id)? else {
        return Ok(vec![]);
    };
    let roles = app.properties.get("appRoles").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(roles
        .iter()
        .filter(|r| r.get("isEnabled").and_then(Value::as_bool) != Some(false))
        .filter(|r| r.get("allowedMemberTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t == member_type)))
        .filter_map(|r| Some((r.get("id")?.as_str()?.parse().ok()?, r.get("value")?.as_str()?.to_string())))
        .collect())
}

/// Mimic's own ARM and Graph addresses stand for Microsoft's APIs in token audiences.
fn canonical_audience<'a>(state: &AppState, audience: &'a str) -> &'a str {
    use mimic_domain::directory::same_resource;
    let ep = &state.endpoints;
    if same_resource(audience, &ep.graph) {
        "https://graph.microsoft.com"
    } else if same_resource(audience, &ep.arm) {
        "https://management.azure.com/"
    } else {
        audience
    }
}

/// Whether resource principal `resource` is the one `audience` names (a service principal name,
/// or `api://{appId}`).
fn names_audience(resource: &ServicePrincipal, audience: &str) -> bool {
    use mimic_domain::directory::same_resource;
    let api_uri = format!("api://{}", resource.app_id);
    let named = resource.service_principal_names.iter().any(|n| same_resource(n, audience));
    named || same_resource(&api_uri, audience)
}

/// The delegated scopes (`scp`) of a token for `user` through client application
/// `client_app_id` for `audience`: the scopes of the tenant's `oauth2PermissionGrants` from the
/// client's principal to the audience's, for all users (`AllPrincipals`) or for this one
/// (`Principal`), as Entra issues them once consent is given (learn.microsoft.com/entra/identity-
/// platform/permissions-consent-overview). `None` when no grant covers the pair: Mimic then
/// issues `user_impersonation`, as for Microsoft's own clients, which need no consent.
pub fn delegated_scopes(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    client_app_id: Uuid,
    audience: &str,
) -> Result<Option<String>, mimic_store::StoreError> {
    use mimic_store::documents::{Docs, PERMISSION_GRANTS_OF};
    let audience = canonical_audience(state, audience);
    state.store.read(|tx| {
        let grants = tx.get(PERMISSION_GRANTS_OF, &tenant.to_string())?.unwrap_or_default();
        if grants.is_empty() {
            return Ok(None);
        }
        let Some(DirectoryObject::ServicePrincipal(client)) = tx.directory_object_by_app_id(tenant, "servicePrincipal", client_app_id)?
        else {
            return Ok(None);
        };
        let mut scopes: Vec<String> = Vec::new();
        let mut covered = false;
        for g in grants.iter().filter(|g| g.client_id == client.id) {
            let for_user = g.consent_type.eq_ignore_ascii_case("AllPrincipals") || g.principal_id == Some(user);
            if !for_user {
                continue;
            }
            let Some(DirectoryObject::ServicePrincipal(resource)) = tx.directory_object(tenant, g.resource_id)? else { continue };
            if !names_audience(&resource, audience) {
                continue;
            }
            covered = true;
            for s in g.scope.split_whitespace() {
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_string());
                }
            }
        }
        Ok(covered.then(|| scopes.join(" ")))
    })
}

/// The `roles` of a user's token for `audience`: the values of the app roles assigned on the
/// audience's resource principal to the user or to a group it belongs to (`groups`,
/// transitively), as Entra puts them in tokens (learn.microsoft.com/entra/identity-platform/
/// howto-add-app-roles-in-apps: "the roles claim ... the app roles assigned to the user").
pub fn user_app_roles(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    groups: &[Uuid],
    audience: &str,
) -> Result<Vec<String>, mimic_store::StoreError> {
    use mimic_store::documents::{Docs, MEMBER_APP_ROLES_OF};
    let audience = canonical_audience(state, audience);
    state.store.read(|tx| {
        let all = tx.get(MEMBER_APP_ROLES_OF, &tenant.to_string())?.unwrap_or_default();
        let mine: Vec<_> = all.iter().filter(|m| m.principal_id == user || groups.contains(&m.principal_id)).collect();
        let mut out = Vec::new();
        let mut resources: Vec<Uuid> = mine.iter().map(|m| m.assignment.resource_id).collect();
        resources.sort();
        resources.dedup();
        for rid in resources {
            let Some(DirectoryObject::ServicePrincipal(resource)) = tx.directory_object(tenant, rid)? else { continue };
            if !names_audience(&resource, audience) {
                continue;
            }
            let published = app_roles_for(tx, &resource, "User")?;
            for m in mine.iter().filter(|m| m.assignment.resource_id == rid) {
                if let Some((_, value)) = published.iter().find(|(id, _)| *id == m.assignment.app_role_id) {
                    if !out.contains(value) {
                        out.push(value.clone());
                    }
                }
            }
        }
        Ok(out)
    })
}

/// The `roles` of an app-only token of `principal` for `audience`: the values of the app roles
/// assigned to it on the audience's resource principal (Mimic's own ARM and Graph addresses
/// stand for Microsoft's APIs). One read when the principal holds no assignment.
pub fn app_roles(state: &AppState, tenant: Uuid, principal: Uuid, audience: &str) -> Result<Vec<String>, mimic_store::StoreError> {
    let audience = canonical_audience(state, audience);
    state.store.read(|tx| {
        let Some(DirectoryObject::ServicePrincipal(sp)) = tx.directory_object(tenant, principal)? else { return Ok(vec![]) };
        let mut out = Vec::new();
        let mut resources: Vec<Uuid> = sp.app_role_assignments.iter().map(|a| a.resource_id).collect();
        resources.dedup();
        for rid in resources {
            let Some(DirectoryObject::ServicePrincipal(resource)) = tx.directory_object(tenant, rid)? else { continue };
            if !names_audience(&resource, audience) {
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
