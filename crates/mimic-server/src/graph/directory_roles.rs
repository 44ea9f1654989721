//! Directory roles over Graph: `/roleManagement/directory/roleDefinitions`,
//! `/roleManagement/directory/roleAssignments` (unifiedRoleAssignment, tenant-wide scope `/`),
//! and the older `/directoryRoles` with `members` and `members/$ref`.
//!
//! A `directoryRole`'s id here is its role template id (Entra gives activated roles their own
//! object id; Mimic's roles are always "activated").

use axum::http::{Method, StatusCode};
use axum::response::Response;
use mimic_domain::directory::{self, DirectoryAction, DirectoryObject, DirectoryRoleAssignment};
use mimic_wire::graph as wire;
use serde_json::{Map, Value};
use std::sync::OnceLock;
use uuid::Uuid;

use super::ctx::{parse_id, Ctx, Spec};
use super::error::{GraphError, GraphResult};
use super::objects::Kind;
use super::odata::EntityType;

fn to_map<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v).expect("serializes") {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn definition(d: &directory::DirectoryRoleDefinition) -> Map<String, Value> {
    to_map(&wire::RoleDefinition {
        id: d.id.to_string(),
        description: d.description.to_string(),
        display_name: d.display_name.to_string(),
        is_built_in: true,
        is_enabled: true,
        resource_scopes: vec!["/".into()],
        template_id: d.id.to_string(),
        version: Some("1".into()),
        role_permissions: vec![],
    })
}

fn assignment(a: &DirectoryRoleAssignment) -> Map<String, Value> {
    to_map(&wire::RoleAssignment {
        id: a.id.clone(),
        principal_id: a.principal_id.to_string(),
        role_definition_id: a.role_definition_id.to_string(),
        directory_scope_id: "/".into(),
        app_scope_id: None,
    })
}

fn directory_role(d: &directory::DirectoryRoleDefinition) -> Map<String, Value> {
    to_map(&wire::DirectoryRole {
        odata_type: wire::DIRECTORY_ROLE_TYPE,
        id: d.id.to_string(),
        deleted_date_time: None,
        description: d.description.to_string(),
        display_name: d.display_name.to_string(),
        role_template_id: d.id.to_string(),
    })
}

fn spec(sample: &'static Map<String, Value>, name: &'static str, set: &'static str) -> Spec {
    Spec {
        et: EntityType { name, properties: sample.keys().filter(|k| !k.starts_with('@')).cloned().collect() },
        sample,
        set,
        keep_type: false,
    }
}

fn definition_spec() -> Spec {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    spec(S.get_or_init(|| definition(&directory::DIRECTORY_ROLES[0])), "unifiedRoleDefinition", "roleManagement/directory/roleDefinitions")
}

fn assignment_spec() -> Spec {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    spec(
        S.get_or_init(|| {
            assignment(&DirectoryRoleAssignment { id: String::new(), principal_id: Uuid::nil(), role_definition_id: Uuid::nil() })
        }),
        "unifiedRoleAssignment",
        "roleManagement/directory/roleAssignments",
    )
}

fn role_spec() -> Spec {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    spec(S.get_or_init(|| directory_role(&directory::DIRECTORY_ROLES[0])), "directoryRole", "directoryRoles")
}

fn single(ctx: &Ctx, set: &str, m: Map<String, Value>, status: StatusCode) -> Response {
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(ctx.context_url(&format!("{set}/$entity"))));
    out.extend(m);
    ctx.respond(status, Value::Object(out))
}

fn role_def(id: &str) -> GraphResult<&'static directory::DirectoryRoleDefinition> {
    Uuid::parse_str(id).ok().and_then(directory::directory_role).ok_or_else(|| GraphError::not_found(id))
}

/// `/roleManagement/directory/...`
pub fn role_management(ctx: &Ctx, rest: &[String]) -> GraphResult<Response> {
    let Some(first) = rest.first() else { return Err(GraphError::segment_not_found("roleManagement")) };
    if !first.eq_ignore_ascii_case("directory") {
        return Err(GraphError::segment_not_found(first));
    }
    let Some(coll) = rest.get(1) else { return Err(GraphError::method_not_allowed()) };
    let tenant = ctx.tenant_id();
    match (coll.to_ascii_lowercase().as_str(), rest.get(2), rest.len()) {
        ("roledefinitions", None, 2) => {
            if ctx.method != Method::GET {
                return Err(GraphError::method_not_allowed());
            }
            ctx.require(DirectoryAction::Read)?;
            let items = directory::DIRECTORY_ROLES.iter().map(|d| (Kind::DirectoryObject, definition(d))).collect();
            ctx.collection_with(&definition_spec(), items)
        }
        ("roledefinitions", Some(id), 3) => {
            if ctx.method != Method::GET {
                return Err(GraphError::method_not_allowed());
            }
            ctx.require(DirectoryAction::Read)?;
            Ok(single(ctx, "roleManagement/directory/roleDefinitions", definition(role_def(id)?), StatusCode::OK))
        }
        ("roleassignments", None, 2) => match ctx.method {
            Method::GET => {
                ctx.require(DirectoryAction::Read)?;
                let all = ctx.state.store.read(|tx| crate::directory::roles::assignments(tx, tenant))?;
                let items = all.iter().map(|a| (Kind::DirectoryObject, assignment(a))).collect();
                ctx.collection_with(&assignment_spec(), items)
            }
            Method::POST => {
                let req: Map<String, Value> = ctx.json()?;
                let get = |k: &str| req.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).and_then(|(_, v)| v.as_str());
                let principal = get("principalId").ok_or_else(|| GraphError::invalid_value("principalId", "UnifiedRoleAssignment"))?;
                let role = get("roleDefinitionId").ok_or_else(|| GraphError::invalid_value("roleDefinitionId", "UnifiedRoleAssignment"))?;
                if get("directoryScopeId").is_some_and(|s| s != "/") {
                    return Err(GraphError::bad_request("Mimic assigns directory roles at the tenant scope '/' only."));
                }
                let a = assign(ctx, principal, role)?;
                Ok(single(ctx, "roleManagement/directory/roleAssignments", assignment(&a), StatusCode::CREATED))
            }
            _ => Err(GraphError::method_not_allowed()),
        },
        ("roleassignments", Some(id), 3) => {
            let all = ctx.state.store.read(|tx| crate::directory::roles::assignments(tx, tenant))?;
            let a = all.into_iter().find(|a| &a.id == id).ok_or_else(|| GraphError::not_found(id))?;
            match ctx.method {
                Method::GET => {
                    ctx.require(DirectoryAction::Read)?;
                    Ok(single(ctx, "roleManagement/directory/roleAssignments", assignment(&a), StatusCode::OK))
                }
                Method::DELETE => {
                    ctx.require(DirectoryAction::ManageRoles)?;
                    ctx.state.store.write(|tx| crate::directory::roles::remove(tx, tenant, id))?;
                    Ok(ctx.no_content())
                }
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        _ => Err(GraphError::segment_not_found(rest.last().map(String::as_str).unwrap_or(""))),
    }
}

fn assign(ctx: &Ctx, principal: &str, role: &str) -> GraphResult<DirectoryRoleAssignment> {
    ctx.require(DirectoryAction::ManageRoles)?;
    let def = role_def(role)?;
    let pid = parse_id(principal)?;
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        match tx.directory_object(tenant, pid)? {
            Some(DirectoryObject::User(_) | DirectoryObject::ServicePrincipal(_)) => {}
            // Only role-assignable groups can hold directory roles (their members then hold
            // them). Unverified text.
            Some(DirectoryObject::Group(g)) if !g.is_assignable_to_role => {
                return Err(GraphError::bad_request(format!(
                    "The group '{}' is not role-assignable: create it with isAssignableToRole set to true to assign it directory roles.",
                    g.id
                )))
            }
            Some(DirectoryObject::Group(_)) => {}
            _ => return Err(GraphError::not_found(principal)),
        }
        Ok(crate::directory::roles::assign(tx, tenant, pid, def.id)?)
    })
}

/// `/directoryRoles`, `/directoryRoles/{id}`, `/directoryRoles/{id}/members[/$ref]`,
/// `/directoryRoles/{id}/members/{member}/$ref`.
pub fn directory_roles(ctx: &Ctx, key: Option<(Option<String>, String)>, rest: &[String]) -> GraphResult<Response> {
    let tenant = ctx.tenant_id();
    let (id, rest) = match (key, rest.first()) {
        (Some((_, id)), _) => (id, rest),
        (None, None) => {
            if ctx.method != Method::GET {
                return Err(GraphError::method_not_allowed());
            }
            ctx.require(DirectoryAction::Read)?;
            let items = directory::DIRECTORY_ROLES.iter().map(|d| (Kind::DirectoryObject, directory_role(d))).collect();
            return ctx.collection_with(&role_spec(), items);
        }
        (None, Some(first)) => (first.clone(), &rest[1..]),
    };
    let def = role_def(&id)?;
    let holders = || -> GraphResult<Vec<DirectoryObject>> {
        let all = ctx.state.store.read(|tx| crate::directory::roles::assignments(tx, tenant))?;
        let ids: Vec<Uuid> = all.iter().filter(|a| a.role_definition_id == def.id).map(|a| a.principal_id).collect();
        Ok(ctx.state.store.read(|tx| {
            let mut out = Vec::new();
            for i in &ids {
                if let Some(o) = tx.directory_object(tenant, *i)? {
                    out.push(o);
                }
            }
            Ok::<_, mimic_store::StoreError>(out)
        })?)
    };
    let segs: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    match (segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice(), &ctx.method) {
        ([], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            Ok(single(ctx, "directoryRoles", directory_role(def), StatusCode::OK))
        }
        (["members"], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            ctx.object_collection(&holders()?)
        }
        (["members", "$ref"], &Method::POST) => {
            let r: wire::Reference = ctx.json()?;
            let member = r.odata_id.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
            let all = ctx.state.store.read(|tx| crate::directory::roles::assignments(tx, tenant))?;
            if Uuid::parse_str(&member).is_ok_and(|m| all.iter().any(|a| a.principal_id == m && a.role_definition_id == def.id)) {
                return Err(GraphError::bad_request(
                    "One or more added object references already exist for the following modified properties: 'members'.",
                ));
            }
            assign(ctx, &member, &def.id.to_string())?;
            Ok(ctx.no_content())
        }
        (["members", _, "$ref"], &Method::DELETE) => {
            ctx.require(DirectoryAction::ManageRoles)?;
            let member = parse_id(&rest[1])?;
            let all = ctx.state.store.read(|tx| crate::directory::roles::assignments(tx, tenant))?;
            let a = all
                .iter()
                .find(|a| a.principal_id == member && a.role_definition_id == def.id)
                .ok_or_else(|| GraphError::not_found(&rest[1]))?;
            let aid = a.id.clone();
            ctx.state.store.write(|tx| crate::directory::roles::remove(tx, tenant, &aid))?;
            Ok(ctx.no_content())
        }
        ([], _) | (["members"], _) | (["members", "$ref"], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[0])),
    }
}
