//! Microsoft.Authorization: role assignments at any scope and the caller's permissions, with
//! Azure's validation and errors (docs/azure-behaviour.md §4); role definitions, built-in and
//! custom, in definitions.rs; management locks in locks.rs.

use axum::http::{Method, StatusCode};
use chrono::{SecondsFormat, Utc};
use mimic_domain::directory::DirectoryObject;
use mimic_domain::rbac::{self, RoleAssignment};
use mimic_domain::resource_id::{self, ResourceId};
use mimic_wire::arm as wire;
use uuid::Uuid;

use crate::arm::core::api_versions as v;
use crate::arm::core::catalog::ResourceType;
use crate::arm::core::endpoint::AUTHORIZATION_NAMESPACE;
use crate::arm::core::{generic, json_response, ArmError, ArmResult, Ctx, Endpoint, Provider, Reply};

mod definitions;
mod locks;

pub struct Authorization;

impl Provider for Authorization {
    fn namespace(&self) -> &'static str {
        AUTHORIZATION_NAMESPACE
    }

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(OPERATIONS)
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "roleAssignments", api_versions: ROLE_ASSIGNMENTS },
            ResourceType { name: "roleDefinitions", api_versions: ROLE_DEFINITIONS },
            ResourceType { name: "permissions", api_versions: PERMISSIONS },
            ResourceType { name: "locks", api_versions: locks::LOCK_VERSIONS },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        let versions = match endpoint {
            Endpoint::RoleDefinitions { .. } | Endpoint::RoleDefinition { .. } => ROLE_DEFINITIONS,
            Endpoint::RoleAssignments { .. } | Endpoint::RoleAssignment { .. } => ROLE_ASSIGNMENTS,
            Endpoint::Permissions { .. } => PERMISSIONS,
            Endpoint::Locks { .. } | Endpoint::Lock { .. } => locks::LOCK_VERSIONS,
            _ => return generic::serve(ctx, endpoint, &generic::Plain),
        };
        v::check(&ctx.api_version, versions)?;
        match endpoint {
            Endpoint::RoleDefinitions { scope } => definitions::list(ctx, scope),
            Endpoint::RoleDefinition { scope, id } => definitions::one(ctx, scope, id),
            Endpoint::RoleAssignments { scope } => list_role_assignments(ctx, scope),
            Endpoint::RoleAssignment { scope, name } => role_assignment(ctx, scope, name),
            Endpoint::Permissions { scope } => permissions(ctx, scope),
            Endpoint::Locks { scope } => locks::list(ctx, scope),
            Endpoint::Lock { scope, name } => locks::one(ctx, scope, name),
            _ => Err(ArmError::not_found_route(&ctx.path)),
        }
    }
}

const RA_READ: &str = "Microsoft.Authorization/roleAssignments/read";
const RA_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
const RA_DELETE: &str = "Microsoft.Authorization/roleAssignments/delete";

fn definition_id(scope: &str, name: Uuid) -> String {
    match ResourceId::parse(scope).ok().and_then(|p| p.subscription) {
        Some(sub) => format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{name}"),
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{name}"),
    }
}

/// Checks that the scope's subscription is the caller's and that its resource group exists.
fn check_scope(ctx: &Ctx, scope: &str) -> ArmResult<ResourceId> {
    let id = ResourceId::parse(scope).map_err(|_| ArmError::invalid_scope(scope))?;
    if let Some(sub) = &id.subscription {
        ctx.subscription(sub)?;
        if let Some(rg) = &id.resource_group {
            ctx.resource_group(sub, rg)?;
        }
    }
    Ok(id)
}

fn assignment_id(a: &RoleAssignment) -> String {
    let scope = if a.scope == "/" { String::new() } else { a.scope.trim_end_matches('/').to_string() };
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}", a.name)
}

fn time(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn render_assignment(a: &RoleAssignment) -> wire::RoleAssignment {
    wire::RoleAssignment {
        id: assignment_id(a),
        kind: "Microsoft.Authorization/roleAssignments",
        name: a.name.to_string(),
        properties: wire::RoleAssignmentProperties {
            role_definition_id: definition_id(&a.scope, a.role_definition_id),
            principal_id: a.principal_id.to_string(),
            principal_type: a.principal_type.clone(),
            scope: a.scope.clone(),
            condition: a.condition.clone(),
            condition_version: a.condition_version.clone(),
            created_on: time(a.created_on),
            updated_on: time(a.updated_on),
            created_by: a.created_by.map(|u| u.to_string()),
            updated_by: a.updated_by.map(|u| u.to_string()),
            delegated_managed_identity_resource_id: None,
            description: a.description.clone(),
        },
    }
}

fn not_found(name: &str) -> ArmError {
    ArmError::role_assignment_not_found(name)
}

fn role_assignment(ctx: &Ctx, scope: &str, name: &str) -> ArmResult<Reply> {
    let target = ctx.path.trim_start_matches('/').to_string();
    let target = format!("/{target}");
    let key = resource_id::key(&target);
    match ctx.method {
        Method::GET => {
            check_scope(ctx, scope)?;
            ctx.authorize(RA_READ, scope)?;
            let a = ctx.state.store.read(|tx| tx.role_assignment(&key))?.ok_or_else(|| not_found(name))?;
            Ok(json_response(StatusCode::OK, &render_assignment(&a)))
        }
        Method::DELETE => {
            check_scope(ctx, scope)?;
            ctx.authorize(RA_DELETE, &target)?;
            let removed = ctx.state.store.write(|tx| {
                let a = tx.role_assignment(&key)?;
                if a.is_some() {
                    tx.delete_role_assignment(&key)?;
                }
                Ok::<_, ArmError>(a)
            })?;
            match removed {
                Some(a) => Ok(json_response(StatusCode::OK, &render_assignment(&a))),
                None => Ok(Reply::status(StatusCode::NO_CONTENT)),
            }
        }
        Method::PUT => create(ctx, scope, name, &target, &key),
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

fn create(ctx: &Ctx, scope: &str, name: &str, target: &str, key: &str) -> ArmResult<Reply> {
    let name: Uuid = name.parse().map_err(|_| ArmError::invalid_role_assignment_id(name))?;
    check_scope(ctx, scope)?;
    ctx.authorize(RA_WRITE, target)?;
    let body: wire::RoleAssignmentCreate = ctx.json()?;
    let p = body.properties;
    // A `scope` in the body (api-version 2015-07-01 clients, ARM templates, az vm create's
    // template) must be the URL's scope (real error: MicrosoftDocs/azure-docs #17715, #62786).
    if let Some(body_scope) = p.scope.as_deref().filter(|s| !s.is_empty()) {
        if resource_id::key(body_scope.trim_end_matches('/')) != resource_id::key(scope.trim_end_matches('/')) {
            let uri_scope = match ResourceId::parse(scope) {
                Ok(id) if id.resource_group.is_some() => scope.replacen("/resourceGroups/", "/resourcegroups/", 1),
                _ => scope.to_string(),
            };
            return Err(ArmError::role_assignment_scope_mismatch(name, body_scope, &uri_scope));
        }
    }
    let role_guid = p.role_definition_id.rsplit('/').next().unwrap_or_default();
    // A custom role exists only where it is assignable (at or below its assignable scopes).
    let roles = crate::custom_roles::of_tenant(&ctx.state, ctx.caller.tenant)?;
    let role = role_guid
        .parse()
        .ok()
        .and_then(|id| definitions::role_at(&roles, id, scope))
        .ok_or_else(|| ArmError::assigned_role_definition_not_found(role_guid))?;
    let tenant = ctx.caller.tenant;
    let principal_not_found = || ArmError::principal_not_found(&p.principal_id, tenant);
    let principal: Uuid = p.principal_id.parse().map_err(|_| principal_not_found())?;
    let object = ctx.state.store.read(|tx| tx.directory_object(tenant, principal))?;
    let principal_type = match (&p.principal_type, &object) {
        (Some(t), _) => {
            let canonical = ["User", "Group", "ServicePrincipal", "ForeignGroup", "Device"].into_iter().find(|c| c.eq_ignore_ascii_case(t));
            canonical.ok_or_else(|| ArmError::invalid_principal_type(t))?.to_string()
        }
        (None, Some(DirectoryObject::User(_))) => "User".into(),
        (None, Some(DirectoryObject::Group(_))) => "Group".into(),
        (None, Some(DirectoryObject::ServicePrincipal(_))) => "ServicePrincipal".into(),
        (None, _) => return Err(principal_not_found()),
    };
    let now = Utc::now();
    let scope_text = if scope == "/" { "/".to_string() } else { scope.trim_end_matches('/').to_string() };
    let scope_key = resource_id::key(&scope_text);
    let sub = ResourceId::parse(scope).ok().and_then(|p| p.subscription).unwrap_or_default();
    let (a, created) = ctx.state.store.write(|tx| {
        if let Some(mut existing) = tx.role_assignment(key)? {
            if existing.principal_id != principal || existing.role_definition_id != role.name {
                return Err(ArmError::role_assignment_update_not_permitted());
            }
            // A PUT of an existing assignment replaces what may change: its description and
            // condition (what `az role assignment update` sends, the GET's body edited).
            let changed = existing.description != p.description
                || existing.condition != p.condition
                || existing.condition_version != p.condition_version
                || existing.principal_type != principal_type;
            if changed {
                existing.description = p.description.clone();
                existing.condition = p.condition.clone();
                existing.condition_version = p.condition_version.clone();
                existing.principal_type = principal_type.clone();
                existing.updated_on = now;
                existing.updated_by = Some(ctx.caller.object_id);
                tx.put_role_assignment(&existing)?;
            }
            return Ok((existing, false));
        }
        let duplicate = tx
            .role_assignments_in(&sub)?
            .into_iter()
            .find(|e| e.principal_id == principal && e.role_definition_id == role.name && resource_id::key(&e.scope) == scope_key);
        if duplicate.is_some() {
            return Err(ArmError::role_assignment_exists());
        }
        let a = RoleAssignment {
            name,
            scope: scope_text.clone(),
            role_definition_id: role.name,
            principal_id: principal,
            principal_type: principal_type.clone(),
            description: p.description.clone(),
            condition: p.condition.clone(),
            condition_version: p.condition_version.clone(),
            created_on: now,
            updated_on: now,
            created_by: Some(ctx.caller.object_id),
            updated_by: Some(ctx.caller.object_id),
        };
        tx.put_role_assignment(&a)?;
        Ok((a, true))
    })?;
    Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &render_assignment(&a)))
}

/// `$filter` of role-assignment listing.
enum Filter {
    /// Everything at, above and below the scope.
    All,
    /// `atScope()`: at or above the scope.
    AtScope,
    /// `principalId eq '{id}'`
    Principal(Uuid),
    /// `assignedTo('{id}')`: the principal and the groups it belongs to.
    AssignedTo(Vec<Uuid>),
}

fn parse_filter(ctx: &Ctx) -> ArmResult<Filter> {
    let Some(f) = ctx.q("$filter").map(str::trim).filter(|f| !f.is_empty()) else { return Ok(Filter::All) };
    let bad = || ArmError::invalid_filter(f);
    let quoted_guid = |s: &str| s.trim().trim_matches('\'').parse::<Uuid>().map_err(|_| bad());
    if f.eq_ignore_ascii_case("atScope()") {
        return Ok(Filter::AtScope);
    }
    if let Some((k, v)) = f.split_once(" eq ") {
        if k.trim().eq_ignore_ascii_case("principalId") {
            return Ok(Filter::Principal(quoted_guid(v)?));
        }
    }
    let lower = f.to_ascii_lowercase();
    if let Some(inner) = lower.strip_prefix("assignedto(").and_then(|r| r.strip_suffix(')')) {
        let id = quoted_guid(inner)?;
        let mut ids = vec![id];
        ids.extend(crate::directory::transitive_groups(&ctx.state, ctx.caller.tenant, id)?);
        return Ok(Filter::AssignedTo(ids));
    }
    Err(bad())
}

fn list_role_assignments(ctx: &Ctx, scope: &str) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let id = check_scope(ctx, scope)?;
    ctx.authorize(RA_READ, scope)?;
    let filter = parse_filter(ctx)?;
    let sub = id.subscription.clone().unwrap_or_default();
    let all = ctx.state.store.read(|tx| tx.role_assignments_in(&sub))?;
    let value: Vec<wire::RoleAssignment> = all
        .iter()
        .filter(|a| {
            let above = rbac::scope_contains(&a.scope, scope);
            let below = rbac::scope_contains(scope, &a.scope);
            match &filter {
                Filter::All => above || below,
                Filter::AtScope => above,
                Filter::Principal(p) => a.principal_id == *p && (above || below),
                Filter::AssignedTo(ids) => ids.contains(&a.principal_id) && (above || below),
            }
        })
        .map(render_assignment)
        .collect();
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}

/// `GET {scope}/providers/Microsoft.Authorization/permissions`: the caller's effective
/// permissions at the scope, one entry per role held there.
fn permissions(ctx: &Ctx, scope: &str) -> ArmResult<Reply> {
    check_scope(ctx, scope)?;
    let mut principals = vec![ctx.caller.object_id];
    principals.extend(crate::directory::transitive_groups(&ctx.state, ctx.caller.tenant, ctx.caller.object_id)?);
    let assignments = ctx.state.store.read(|tx| tx.role_assignments_for(&principals))?;
    let roles = crate::custom_roles::of_tenant(&ctx.state, ctx.caller.tenant)?;
    let value: Vec<wire::Permission> = assignments
        .iter()
        .filter(|a| rbac::scope_contains(&a.scope, scope))
        .filter_map(|a| roles.role(a.role_definition_id))
        .flat_map(|d| d.permissions.iter())
        .map(render_permission)
        .collect();
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}

fn render_permission(p: &rbac::Permission) -> wire::Permission {
    wire::Permission {
        actions: p.actions.clone(),
        not_actions: p.not_actions.clone(),
        data_actions: p.data_actions.clone(),
        not_data_actions: p.not_data_actions.clone(),
    }
}

const ROLE_ASSIGNMENTS: &[&str] = &[
    "2022-04-01",
    "2022-01-01-preview",
    "2021-04-01-preview",
    "2020-10-01-preview",
    "2020-08-01-preview",
    "2020-04-01-preview",
    "2020-03-01-preview",
    "2019-04-01-preview",
    "2018-12-01-preview",
    "2018-09-01-preview",
    "2018-07-01",
    "2018-01-01-preview",
    "2017-10-01-preview",
    "2017-09-01",
    "2017-05-01",
    "2016-07-01",
    "2015-07-01",
    "2015-06-01",
    "2015-05-01-preview",
    "2014-10-01-preview",
    "2014-07-01-preview",
    "2014-04-01-preview",
];

const ROLE_DEFINITIONS: &[&str] = &[
    "2022-05-01-preview",
    "2022-04-01",
    "2022-01-01-preview",
    "2021-07-01",
    "2018-07-01",
    "2018-01-01-preview",
    "2017-09-01",
    "2017-05-01",
    "2016-07-01",
    "2015-07-01",
    "2015-06-01",
    "2015-05-01-preview",
    "2014-10-01-preview",
    "2014-07-01-preview",
    "2014-04-01-preview",
];

const PERMISSIONS: &[&str] = ROLE_DEFINITIONS;

/// `GET /providers/Microsoft.Authorization/operations`: the actions this provider checks, with the display texts of
/// Azure's list (learn.microsoft.com "Azure resource provider operations", Microsoft.Authorization).
const OPERATIONS: crate::arm::core::catalog::Operations =
    crate::arm::core::catalog::Operations { provider: "Microsoft Authorization", origin: None, entries: AUTHORIZATION_OPERATIONS };

#[rustfmt::skip]
static AUTHORIZATION_OPERATIONS: &[crate::arm::core::catalog::Operation] = {
    use crate::arm::core::catalog::{op};
    &[
        op("Microsoft.Authorization/operations/read", "Operations", "Get Operations", "Gets the list of operations"),
        op("Microsoft.Authorization/roleAssignments/read", "Role Assignment", "Get role assignment", "Get information about a role assignment."),
        op("Microsoft.Authorization/roleAssignments/write", "Role Assignment", "Create role assignment", "Create a role assignment at the specified scope."),
        op("Microsoft.Authorization/roleAssignments/delete", "Role Assignment", "Delete role assignment", "Delete a role assignment at the specified scope."),
        op("Microsoft.Authorization/roleDefinitions/read", "Role Definition", "Get role definition", "Get information about a role definition."),
        op("Microsoft.Authorization/roleDefinitions/write", "Role Definition", "Create or update custom role definition", "Create or update a custom role definition with specified permissions and assignable scopes."),
        op("Microsoft.Authorization/roleDefinitions/delete", "Role Definition", "Delete custom role definition", "Delete the specified custom role definition."),
        op("Microsoft.Authorization/permissions/read", "Permissions", "List permissions", "Lists all the permissions the caller has at a given scope."),
        op("Microsoft.Authorization/locks/read", "Management locks", "Get management locks", "Gets locks at the specified scope."),
        op("Microsoft.Authorization/locks/write", "Management locks", "Add management locks", "Add locks at the specified scope."),
        op("Microsoft.Authorization/locks/delete", "Management locks", "Delete management locks", "Delete locks at the specified scope."),
    ]
};
