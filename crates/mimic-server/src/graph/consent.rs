//! Consent: application permissions as app role assignments (`/servicePrincipals/{id}/
//! appRoleAssignments` for the principal granted, `.../appRoleAssignedTo` for the resource), whose
//! values the token service puts in app-only tokens' `roles`; and delegated permission grants
//! (`/oauth2PermissionGrants`, `az ad app permission grant/list-grants`). A resource's app roles
//! are a first-party API's published ones or an application's own `appRoles`. Users and groups
//! hold app roles too (`/users|groups/{id}/appRoleAssignments`, or `appRoleAssignedTo` of the
//! resource), kept in one list per tenant; their values are the `roles` of users' tokens.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::directory::{AppRoleAssignment, DirectoryAction, DirectoryObject, MemberAppRole, PermissionGrant, ServicePrincipal};
use mimic_store::documents::{Docs, MEMBER_APP_ROLES_OF, PERMISSION_GRANTS_OF};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::ctx::{parse_id, Ctx};
use super::error::{GraphError, GraphResult};

/// Mimic's bound on a tenant's delegated grants.
const MAX_GRANTS: usize = 1000;

/// `appRoleAssignments` (the principal's) and `appRoleAssignedTo` (the resource's) under a
/// service principal; `None` for other segments.
pub fn app_role_route(ctx: &Ctx, sp: &ServicePrincipal, rest: &[String]) -> Option<GraphResult<Response>> {
    let seg = rest.first()?.to_ascii_lowercase();
    let as_principal = match seg.as_str() {
        "approleassignments" => true,
        "approleassignedto" => false,
        _ => return None,
    };
    Some(match (&rest[1..], &ctx.method) {
        ([], &Method::GET) => list(ctx, sp, as_principal),
        ([], &Method::POST) => assign(ctx, sp, as_principal),
        ([id], &Method::GET) => list_items(ctx, sp, as_principal)
            .and_then(|items| items.into_iter().find(|i| i["id"] == id.as_str()).ok_or_else(|| GraphError::not_found(id)))
            .map(|item| ctx.respond(StatusCode::OK, item)),
        ([id], &Method::DELETE) => unassign(ctx, sp, as_principal, id),
        ([] | [_], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[2])),
    })
}

fn render(a: &AppRoleAssignment, principal_name: &str, principal_id: Uuid, principal_type: &str, resource_name: &str) -> Value {
    json!({
        "id": a.id, "deletedDateTime": null, "appRoleId": a.app_role_id, "createdDateTime": super::objects::time(a.created),
        "principalDisplayName": principal_name, "principalId": principal_id, "principalType": principal_type,
        "resourceDisplayName": resource_name, "resourceId": a.resource_id,
    })
}

fn list_items(ctx: &Ctx, sp: &ServicePrincipal, as_principal: bool) -> GraphResult<Vec<Value>> {
    ctx.require(DirectoryAction::Read)?;
    let tenant = ctx.tenant_id();
    Ok(ctx.state.store.read(|tx| {
        let principals: Vec<ServicePrincipal> = if as_principal {
            vec![sp.clone()]
        } else {
            tx.directory_objects(tenant, "servicePrincipal")?
                .into_iter()
                .filter_map(|o| match o {
                    DirectoryObject::ServicePrincipal(p) if p.app_role_assignments.iter().any(|a| a.resource_id == sp.id) => Some(p),
                    _ => None,
                })
                .collect()
        };
        let mut out = Vec::new();
        for p in &principals {
            for a in p.app_role_assignments.iter().filter(|a| as_principal || a.resource_id == sp.id) {
                let name = match tx.directory_object(tenant, a.resource_id)? {
                    Some(r) => r.display_name().to_string(),
                    None => String::new(),
                };
                out.push(render(a, &p.display_name, p.id, "ServicePrincipal", &name));
            }
        }
        if !as_principal {
            // Users and groups holding the resource's roles.
            for m in
                tx.get(MEMBER_APP_ROLES_OF, &tenant.to_string())?.unwrap_or_default().iter().filter(|m| m.assignment.resource_id == sp.id)
            {
                let Some(holder) = tx.directory_object(tenant, m.principal_id)? else { continue };
                out.push(render(&m.assignment, holder.display_name(), m.principal_id, &m.principal_type, &sp.display_name));
            }
        }
        Ok::<_, mimic_store::StoreError>(out)
    })?)
}

fn list(ctx: &Ctx, sp: &ServicePrincipal, as_principal: bool) -> GraphResult<Response> {
    let value = list_items(ctx, sp, as_principal)?;
    let segment = if as_principal { "appRoleAssignments" } else { "appRoleAssignedTo" };
    let context = ctx.context_url(&format!("servicePrincipals('{}')/{segment}", sp.id));
    Ok(ctx.respond(StatusCode::OK, json!({"@odata.context": context, "value": value})))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignRequest {
    principal_id: String,
    resource_id: String,
    #[serde(default)]
    app_role_id: Option<String>,
}

/// Granting a first-party API's app roles is consent to Microsoft's APIs, a privileged role's
/// (Privileged Role Administrator, Global Administrator); a tenant application's, an
/// application administrator's.
fn assign(ctx: &Ctx, sp: &ServicePrincipal, as_principal: bool) -> GraphResult<Response> {
    let req: AssignRequest = ctx.json()?;
    let principal_id = parse_id(&req.principal_id)?;
    let resource_id = parse_id(&req.resource_id)?;
    if (as_principal && principal_id != sp.id) || (!as_principal && resource_id != sp.id) {
        return Err(GraphError::bad_request("The principalId or resourceId does not match the service principal of the request."));
    }
    let app_role_id = req.app_role_id.as_deref().map(parse_id).transpose()?.unwrap_or(Uuid::nil());
    let tenant = ctx.tenant_id();
    let resource = match ctx.state.store.read(|tx| tx.directory_object(tenant, resource_id))? {
        Some(DirectoryObject::ServicePrincipal(r)) => r,
        _ => return Err(GraphError::not_found(&resource_id.to_string())),
    };
    let first_party = mimic_domain::first_party_apis::by_app_id(resource.app_id).is_some();
    ctx.require(if first_party { DirectoryAction::ManageRoles } else { DirectoryAction::ManageApplications })?;
    let assignment = AppRoleAssignment { id: mimic_domain::token::opaque(43), app_role_id, resource_id, created: Utc::now() };
    let holder = ctx.state.store.read(|tx| tx.directory_object(tenant, principal_id))?;
    if let Some(member @ (DirectoryObject::User(_) | DirectoryObject::Group(_))) = &holder {
        return assign_member(ctx, member, &resource, assignment);
    }
    let principal = ctx.state.store.write(|tx| {
        let Some(DirectoryObject::ServicePrincipal(mut principal)) = tx.directory_object(tenant, principal_id)? else {
            return Err(GraphError::not_found(&principal_id.to_string()));
        };
        // The default role (the nil id) is always assignable; any other must be published.
        if !app_role_id.is_nil() && !crate::directory::app_roles_of(tx, &resource)?.iter().any(|(id, _)| *id == app_role_id) {
            return Err(GraphError::bad_request("Permission being assigned was not found on application")
                .with_detail("appRoleId", "InvalidReference"));
        }
        if principal.app_role_assignments.iter().any(|a| a.resource_id == resource_id && a.app_role_id == app_role_id) {
            return Err(GraphError::bad_request("Permission being assigned already exists on the object"));
        }
        principal.app_role_assignments.push(assignment.clone());
        tx.put_directory_object(&DirectoryObject::ServicePrincipal(principal.clone()))?;
        Ok(principal)
    })?;
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(ctx.context_url("appRoleAssignments/$entity")));
    if let Value::Object(m) = render(&assignment, &principal.display_name, principal.id, "ServicePrincipal", &resource.display_name) {
        out.extend(m);
    }
    Ok(ctx.respond(StatusCode::CREATED, Value::Object(out)))
}

/// The most app role assignments to users and groups Mimic keeps per tenant.
const MAX_MEMBER_ROLES: usize = 5000;

/// An app role assignment to a user or group: the role must be one the resource publishes for
/// users (`allowedMemberTypes` `User`), or the default role (the nil id), as Graph requires.
fn assign_member(ctx: &Ctx, member: &DirectoryObject, resource: &ServicePrincipal, assignment: AppRoleAssignment) -> GraphResult<Response> {
    let tenant = ctx.tenant_id();
    let (principal_type, principal_id) = match member {
        DirectoryObject::User(u) => ("User", u.id),
        DirectoryObject::Group(g) => ("Group", g.id),
        _ => return Err(GraphError::not_found("principal")),
    };
    ctx.state.store.write(|tx| {
        let role = assignment.app_role_id;
        if !role.is_nil() && !crate::directory::app_roles_for(tx, resource, "User")?.iter().any(|(id, _)| *id == role) {
            return Err(GraphError::bad_request("Permission being assigned was not found on application")
                .with_detail("appRoleId", "InvalidReference"));
        }
        let mut all = tx.get(MEMBER_APP_ROLES_OF, &tenant.to_string())?.unwrap_or_default();
        let same = |m: &MemberAppRole| {
            m.principal_id == principal_id && m.assignment.resource_id == resource.id && m.assignment.app_role_id == role
        };
        if all.iter().any(same) {
            return Err(GraphError::bad_request("Permission being assigned already exists on the object"));
        }
        if all.len() >= MAX_MEMBER_ROLES {
            return Err(GraphError::bad_request("The tenant holds as many app role assignments to users and groups as Mimic keeps."));
        }
        all.push(MemberAppRole { principal_id, principal_type: principal_type.into(), assignment: assignment.clone() });
        tx.put(MEMBER_APP_ROLES_OF, &tenant.to_string(), &all, None)?;
        Ok(())
    })?;
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(ctx.context_url("appRoleAssignments/$entity")));
    if let Value::Object(m) = render(&assignment, member.display_name(), principal_id, principal_type, &resource.display_name) {
        out.extend(m);
    }
    Ok(ctx.respond(StatusCode::CREATED, Value::Object(out)))
}

/// `/users/{id}/appRoleAssignments` and `/groups/{id}/appRoleAssignments`: list, assign (the
/// principal must be this one), get, remove.
pub fn member_route(ctx: &Ctx, member: &DirectoryObject, rest: &[String]) -> Option<GraphResult<Response>> {
    if !rest.first()?.eq_ignore_ascii_case("appRoleAssignments") {
        return None;
    }
    let holder = member.id();
    let tenant = ctx.tenant_id();
    let items = || -> GraphResult<Vec<Value>> {
        ctx.require(DirectoryAction::Read)?;
        Ok(ctx.state.store.read(|tx| {
            let mut out = Vec::new();
            for m in tx.get(MEMBER_APP_ROLES_OF, &tenant.to_string())?.unwrap_or_default().iter().filter(|m| m.principal_id == holder) {
                let name = tx.directory_object(tenant, m.assignment.resource_id)?.map(|r| r.display_name().to_string()).unwrap_or_default();
                out.push(render(&m.assignment, member.display_name(), holder, &m.principal_type, &name));
            }
            Ok::<_, mimic_store::StoreError>(out)
        })?)
    };
    Some(match (&rest[1..], &ctx.method) {
        ([], &Method::GET) => items().map(|value| ctx.respond(StatusCode::OK, json!({"value": value}))),
        ([], &Method::POST) => (|| {
            let req: AssignRequest = ctx.json()?;
            if parse_id(&req.principal_id)? != holder {
                return Err(GraphError::bad_request("The principalId does not match the object of the request."));
            }
            let resource_id = parse_id(&req.resource_id)?;
            let Some(DirectoryObject::ServicePrincipal(resource)) = ctx.state.store.read(|tx| tx.directory_object(tenant, resource_id))?
            else {
                return Err(GraphError::not_found(&resource_id.to_string()));
            };
            ctx.require(DirectoryAction::ManageApplications)?;
            let app_role_id = req.app_role_id.as_deref().map(parse_id).transpose()?.unwrap_or(Uuid::nil());
            let assignment = AppRoleAssignment { id: mimic_domain::token::opaque(43), app_role_id, resource_id, created: Utc::now() };
            assign_member(ctx, member, &resource, assignment)
        })(),
        ([id], &Method::GET) => items()
            .and_then(|all| all.into_iter().find(|i| i["id"] == id.as_str()).ok_or_else(|| GraphError::not_found(id)))
            .map(|item| ctx.respond(StatusCode::OK, item)),
        ([id], &Method::DELETE) => unassign_member(ctx, |m| m.principal_id == holder && m.assignment.id == *id).and_then(|found| {
            if found {
                Ok(ctx.no_content())
            } else {
                Err(GraphError::not_found(id))
            }
        }),
        ([] | [_], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[2])),
    })
}

/// Removes the first user or group assignment `which` picks; says whether there was one.
fn unassign_member(ctx: &Ctx, which: impl Fn(&MemberAppRole) -> bool) -> GraphResult<bool> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let tenant = ctx.tenant_id().to_string();
    Ok(ctx.state.store.write(|tx| {
        let mut all = tx.get(MEMBER_APP_ROLES_OF, &tenant)?.unwrap_or_default();
        let Some(i) = all.iter().position(&which) else { return Ok::<_, mimic_store::StoreError>(false) };
        all.remove(i);
        tx.put(MEMBER_APP_ROLES_OF, &tenant, &all, None)?;
        Ok(true)
    })?)
}

fn unassign(ctx: &Ctx, sp: &ServicePrincipal, as_principal: bool, id: &str) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    if !as_principal && unassign_member(ctx, |m| m.assignment.resource_id == sp.id && m.assignment.id == id)? {
        return Ok(ctx.no_content());
    }
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        let candidates: Vec<DirectoryObject> = if as_principal {
            tx.directory_object(tenant, sp.id)?.into_iter().collect()
        } else {
            tx.directory_objects(tenant, "servicePrincipal")?
        };
        for o in candidates {
            let DirectoryObject::ServicePrincipal(mut p) = o else { continue };
            let before = p.app_role_assignments.len();
            p.app_role_assignments.retain(|a| !(a.id == id && (as_principal || a.resource_id == sp.id)));
            if p.app_role_assignments.len() != before {
                tx.put_directory_object(&DirectoryObject::ServicePrincipal(p))?;
                return Ok(());
            }
        }
        Err(GraphError::not_found(id))
    })?;
    Ok(ctx.no_content())
}

// ---- oauth2PermissionGrants ---------------------------------------------------------------

fn grant_spec() -> super::ctx::Spec {
    static S: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    let sample = S.get_or_init(|| {
        let g = PermissionGrant {
            id: String::new(),
            client_id: Uuid::nil(),
            consent_type: String::new(),
            principal_id: None,
            resource_id: Uuid::nil(),
            scope: String::new(),
        };
        match render_grant(&g) {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    });
    super::ctx::Spec {
        et: super::odata::EntityType { name: "oAuth2PermissionGrant", properties: sample.keys().cloned().collect() },
        sample,
        set: "oauth2PermissionGrants",
        keep_type: false,
    }
}

fn render_grant(g: &PermissionGrant) -> Value {
    json!({"id": g.id, "clientId": g.client_id, "consentType": g.consent_type, "principalId": g.principal_id,
           "resourceId": g.resource_id, "scope": g.scope})
}

/// `/oauth2PermissionGrants[/{id}]`: list (`$filter=clientId eq '...'` as az sends it), create,
/// read, update `scope`, delete.
pub fn grants_route(ctx: &Ctx, rest: &[String]) -> GraphResult<Response> {
    let tenant = ctx.tenant_id();
    match (rest, &ctx.method) {
        ([], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            let grants = ctx.state.store.read(|tx| tx.get(PERMISSION_GRANTS_OF, &tenant.to_string()))?.unwrap_or_default();
            let items = grants.iter().filter_map(|g| match render_grant(g) {
                Value::Object(m) => Some((super::objects::Kind::DirectoryObject, m)),
                _ => None,
            });
            ctx.collection_with(&grant_spec(), items.collect())
        }
        ([], &Method::POST) => create_grant(ctx),
        ([id], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            let grants = ctx.state.store.read(|tx| tx.get(PERMISSION_GRANTS_OF, &tenant.to_string()))?.unwrap_or_default();
            let g = grants.iter().find(|g| g.id == *id).ok_or_else(|| GraphError::not_found(id))?;
            Ok(ctx.respond(StatusCode::OK, render_grant(g)))
        }
        ([id], &Method::PATCH) => change_grant(ctx, id, true),
        ([id], &Method::DELETE) => change_grant(ctx, id, false),
        ([] | [_], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[1])),
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GrantRequest {
    client_id: String,
    #[serde(default)]
    consent_type: Option<String>,
    #[serde(default)]
    principal_id: Option<String>,
    resource_id: String,
    #[serde(default)]
    scope: Option<String>,
}

fn create_grant(ctx: &Ctx) -> GraphResult<Response> {
    let req: GrantRequest = ctx.json()?;
    let consent_type = req.consent_type.unwrap_or_else(|| "AllPrincipals".into());
    let principal_id = req.principal_id.as_deref().map(parse_id).transpose()?;
    match (consent_type.as_str(), principal_id) {
        ("AllPrincipals", None) | ("Principal", Some(_)) => {}
        _ => return Err(GraphError::invalid_value("consentType", "OAuth2PermissionGrant")),
    }
    let grant = PermissionGrant {
        id: mimic_domain::token::opaque(43),
        client_id: parse_id(&req.client_id)?,
        consent_type,
        principal_id,
        resource_id: parse_id(&req.resource_id)?,
        scope: req.scope.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let tenant = ctx.tenant_id();
    let resource = match ctx.state.store.read(|tx| tx.directory_object(tenant, grant.resource_id))? {
        Some(DirectoryObject::ServicePrincipal(r)) => r,
        _ => return Err(GraphError::not_found(&grant.resource_id.to_string())),
    };
    let first_party = mimic_domain::first_party_apis::by_app_id(resource.app_id).is_some();
    ctx.require(if first_party { DirectoryAction::ManageRoles } else { DirectoryAction::ManageApplications })?;
    ctx.state.store.write(|tx| {
        if !matches!(tx.directory_object(tenant, grant.client_id)?, Some(DirectoryObject::ServicePrincipal(_))) {
            return Err(GraphError::not_found(&grant.client_id.to_string()));
        }
        let mut grants = tx.get(PERMISSION_GRANTS_OF, &tenant.to_string())?.unwrap_or_default();
        let same = |g: &PermissionGrant| {
            g.client_id == grant.client_id && g.resource_id == grant.resource_id && g.principal_id == grant.principal_id
        };
        if grants.iter().any(same) {
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                "Permission entry already exists.",
            ));
        }
        if grants.len() >= MAX_GRANTS {
            return Err(GraphError::bad_request(format!("A tenant holds at most {MAX_GRANTS} permission grants in Mimic.")));
        }
        grants.push(grant.clone());
        tx.put(PERMISSION_GRANTS_OF, &tenant.to_string(), &grants, None)?;
        Ok(())
    })?;
    Ok(ctx.respond(StatusCode::CREATED, render_grant(&grant)))
}

fn change_grant(ctx: &Ctx, id: &str, update: bool) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let scope = if update {
        let m: Map<String, Value> = ctx.json()?;
        Some(m.get("scope").and_then(Value::as_str).ok_or_else(|| GraphError::invalid_value("scope", "OAuth2PermissionGrant"))?.to_string())
    } else {
        None
    };
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        let mut grants = tx.get(PERMISSION_GRANTS_OF, &tenant.to_string())?.unwrap_or_default();
        let Some(i) = grants.iter().position(|g| g.id == id) else { return Err(GraphError::not_found(id)) };
        match &scope {
            Some(s) => grants[i].scope = s.split_whitespace().collect::<Vec<_>>().join(" "),
            None => {
                grants.remove(i);
            }
        }
        tx.put(PERMISSION_GRANTS_OF, &tenant.to_string(), &grants, None)?;
        Ok(())
    })?;
    Ok(ctx.no_content())
}
