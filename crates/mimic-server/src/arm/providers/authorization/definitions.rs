//! Role definitions: the built-in roles with their real GUIDs, and the directory's custom roles
//! (`az role definition create|update|delete|list`, ARM templates), stored per tenant
//! (`CUSTOM_ROLES`) and looked up by every authorisation check (crate::custom_roles).
//!
//! A custom role is visible at a scope where it is assignable (at or below one of its
//! `assignableScopes`), as Azure resolves roles at a scope; elsewhere it does not exist.

use axum::http::{Method, StatusCode};
use chrono::{SecondsFormat, Utc};
use mimic_domain::rbac::custom::{self, CustomRoles, MAX_CUSTOM_ROLES};
use mimic_domain::rbac::{self, Permission, RoleDefinition, RoleType};
use mimic_store::documents::{Docs, CUSTOM_ROLES};
use mimic_wire::arm as wire;
use uuid::Uuid;

use super::{check_scope, definition_id, render_permission};
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Reply};

const RD_READ: &str = "Microsoft.Authorization/roleDefinitions/read";
const RD_WRITE: &str = "Microsoft.Authorization/roleDefinitions/write";
const RD_DELETE: &str = "Microsoft.Authorization/roleDefinitions/delete";

/// The time built-in roles report (their definitions are Azure's, not made here).
const BUILT_IN_TIME: &str = "2015-02-02T21:55:09.8806423Z";

fn time(t: Option<chrono::DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true)).unwrap_or_else(|| BUILT_IN_TIME.to_string())
}

pub(super) fn render_definition(scope: &str, d: &RoleDefinition) -> wire::RoleDefinition {
    wire::RoleDefinition {
        id: definition_id(scope, d.name),
        kind: "Microsoft.Authorization/roleDefinitions",
        name: d.name.to_string(),
        properties: wire::RoleDefinitionProperties {
            role_name: d.role_name.clone(),
            role_type: d.role_type.as_str(),
            description: d.description.clone(),
            assignable_scopes: d.assignable_scopes.clone(),
            permissions: d.permissions.iter().map(render_permission).collect(),
            created_on: time(d.created_on),
            updated_on: time(d.updated_on),
            created_by: d.created_by.map(|u| u.to_string()),
            updated_by: d.updated_by.map(|u| u.to_string()),
        },
    }
}

/// `$filter=roleName eq 'X'` / `type eq 'BuiltInRole'`.
type DefinitionFilter = Box<dyn Fn(&RoleDefinition) -> bool>;

fn definition_filter(f: Option<&str>) -> ArmResult<DefinitionFilter> {
    let Some(f) = f else { return Ok(Box::new(|_| true)) };
    let (k, v) = f.split_once(" eq ").ok_or_else(|| ArmError::invalid_filter(f))?;
    let v = v.trim().trim_matches('\'').replace("''", "'");
    match k.trim() {
        k if k.eq_ignore_ascii_case("roleName") => Ok(Box::new(move |d| d.role_name.eq_ignore_ascii_case(&v))),
        k if k.eq_ignore_ascii_case("type") => Ok(Box::new(move |d| d.role_type.as_str().eq_ignore_ascii_case(&v))),
        _ => Err(ArmError::invalid_filter(f)),
    }
}

/// The caller's directory's custom roles.
fn customs(ctx: &Ctx) -> ArmResult<std::sync::Arc<CustomRoles>> {
    Ok(crate::custom_roles::of_tenant(&ctx.state, ctx.caller.tenant)?)
}

/// The role `id` as seen at `scope`: built-in, or custom and assignable there.
pub(super) fn role_at(roles: &CustomRoles, id: Uuid, scope: &str) -> Option<RoleDefinition> {
    rbac::builtin_role(id).cloned().or_else(|| roles.get(id).filter(|r| scope == "/" || custom::assignable_at(r, scope)).cloned())
}

pub(super) fn list(ctx: &Ctx, scope: &str) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    check_scope(ctx, scope)?;
    if scope != "/" {
        ctx.authorize(RD_READ, scope)?;
    }
    let keep = definition_filter(ctx.q("$filter"))?;
    let roles = customs(ctx)?;
    let visible = roles.roles.iter().filter(|r| scope == "/" || custom::assignable_at(r, scope));
    let value: Vec<wire::RoleDefinition> =
        rbac::builtin_roles().iter().chain(visible).filter(|d| keep(d)).map(|d| render_definition(scope, d)).collect();
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}

pub(super) fn one(ctx: &Ctx, scope: &str, id: &str) -> ArmResult<Reply> {
    match ctx.method {
        Method::GET => get(ctx, scope, id),
        Method::PUT => put(ctx, scope, id),
        Method::DELETE => delete(ctx, scope, id),
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

fn get(ctx: &Ctx, scope: &str, id: &str) -> ArmResult<Reply> {
    check_scope(ctx, scope)?;
    if scope != "/" {
        ctx.authorize(RD_READ, scope)?;
    }
    let roles = customs(ctx)?;
    let d = id.parse().ok().and_then(|id| role_at(&roles, id, scope)).ok_or_else(|| ArmError::role_definition_not_found(id))?;
    Ok(json_response(StatusCode::OK, &render_definition(scope, &d)))
}

fn permission(p: wire::Permission) -> Permission {
    Permission { actions: p.actions, not_actions: p.not_actions, data_actions: p.data_actions, not_data_actions: p.not_data_actions }
}

/// `PUT`: creates or updates a custom role (201 both, as the Authorization RP answers). The
/// caller needs `roleDefinitions/write` at every assignable scope.
fn put(ctx: &Ctx, scope: &str, id: &str) -> ArmResult<Reply> {
    let name: Uuid = id.parse().map_err(|_| ArmError::invalid_role_definition_id(id))?;
    check_scope(ctx, scope)?;
    if rbac::builtin_role(name).is_some() {
        return Err(ArmError::built_in_role_not_modifiable());
    }
    let body: wire::RoleDefinitionCreate = ctx.json()?;
    if body.name.as_deref().is_some_and(|n| n.parse::<Uuid>().ok() != Some(name)) {
        return Err(ArmError::invalid_role_definition("The role definition name in the body must be the GUID of the URL."));
    }
    let p = body.properties;
    if p.role_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("CustomRole")) {
        return Err(ArmError::invalid_role_definition("Only custom roles (type CustomRole) can be written."));
    }
    let now = Utc::now();
    let role = RoleDefinition {
        name,
        role_name: p.role_name.unwrap_or_default().trim().to_string(),
        description: p.description.unwrap_or_default(),
        role_type: RoleType::CustomRole,
        permissions: p.permissions.into_iter().map(permission).collect(),
        assignable_scopes: p.assignable_scopes.iter().map(|s| s.trim_end_matches('/').to_string()).collect(),
        created_on: Some(now),
        updated_on: Some(now),
        created_by: Some(ctx.caller.object_id),
        updated_by: Some(ctx.caller.object_id),
    };
    custom::validate(&role).map_err(|e| ArmError::invalid_role_definition(&e.to_string()))?;
    for s in &role.assignable_scopes {
        check_scope(ctx, s)?;
        ctx.authorize(RD_WRITE, s)?;
    }
    let tenant = ctx.caller.tenant.to_string();
    let saved = ctx.state.store.write(|tx| -> ArmResult<_> {
        let mut all: CustomRoles = tx.get(CUSTOM_ROLES, &tenant)?.unwrap_or_default();
        let mut role = role.clone();
        if all.name_taken(&role.role_name, name) {
            return Err(ArmError::role_definition_name_exists());
        }
        match all.get(name) {
            Some(old) => {
                role.created_on = old.created_on;
                role.created_by = old.created_by;
            }
            None if all.roles.len() >= MAX_CUSTOM_ROLES => return Err(ArmError::role_definition_limit_exceeded()),
            None => {}
        }
        all.put(role.clone());
        tx.put(CUSTOM_ROLES, &tenant, &all, None)?;
        Ok(role)
    })?;
    Ok(json_response(StatusCode::CREATED, &render_definition(scope, &saved)))
}

/// `DELETE`: removes a custom role no assignment uses (200 with it, 204 when there is none).
fn delete(ctx: &Ctx, scope: &str, id: &str) -> ArmResult<Reply> {
    check_scope(ctx, scope)?;
    ctx.authorize(RD_DELETE, scope)?;
    let Ok(name) = id.parse::<Uuid>() else { return Ok(Reply::status(StatusCode::NO_CONTENT)) };
    if rbac::builtin_role(name).is_some() {
        return Err(ArmError::built_in_role_not_modifiable());
    }
    let tenant = ctx.caller.tenant.to_string();
    let removed = ctx.state.store.write(|tx| -> ArmResult<_> {
        let mut all: CustomRoles = tx.get(CUSTOM_ROLES, &tenant)?.unwrap_or_default();
        let Some(role) = all.get(name).filter(|r| scope == "/" || custom::assignable_at(r, scope)).cloned() else { return Ok(None) };
        // Assignments can only be where the role is assignable: each subscription read once.
        let mut subs: Vec<String> = role
            .assignable_scopes
            .iter()
            .filter_map(|s| mimic_domain::resource_id::ResourceId::parse(s).ok()?.subscription)
            .map(|s| s.to_ascii_lowercase())
            .collect();
        subs.sort();
        subs.dedup();
        for sub in &subs {
            if tx.role_assignments_in(sub)?.iter().any(|a| a.role_definition_id == name) {
                return Err(ArmError::role_definition_has_assignments());
            }
        }
        all.remove(name);
        tx.put(CUSTOM_ROLES, &tenant, &all, None)?;
        Ok(Some(role))
    })?;
    match removed {
        Some(role) => Ok(json_response(StatusCode::OK, &render_definition(scope, &role))),
        None => Ok(Reply::status(StatusCode::NO_CONTENT)),
    }
}
