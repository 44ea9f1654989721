//! `/groups`: security groups and their members (`members/$ref` add and remove, `members`,
//! `transitiveMembers`), as `az ad group ...` and the seeds' `New-MgGroupMember` use them. Role
//! assignments to a group grant its members, transitively (ARM evaluates through
//! `crate::directory::transitive_groups`; tokens carry the `groups` claim).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::directory::{DirectoryAction, DirectoryObject, Group};
use mimic_wire::graph as wire;
use serde_json::Value;
use uuid::Uuid;

use super::ctx::{parse_id, referenced_id, Ctx};
use super::directory_objects;
use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};

pub fn route(ctx: &Ctx, key: Option<(Option<String>, String)>, rest: &[String]) -> GraphResult<Response> {
    let (id, rest) = match (key, rest.first()) {
        (Some((_, id)), _) => (id, rest),
        (None, None) => {
            return match ctx.method {
                Method::GET => {
                    ctx.require(DirectoryAction::Read)?;
                    ctx.collection(Kind::Group, ctx.all(Kind::Group)?)
                }
                Method::POST => create(ctx),
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        (None, Some(first)) if first == "$count" => {
            ctx.require(DirectoryAction::Read)?;
            return ctx.raw_count(Kind::Group, ctx.all(Kind::Group)?);
        }
        (None, Some(first)) => (first.clone(), &rest[1..]),
    };
    let obj = ctx.get(Kind::Group, &id)?;
    let DirectoryObject::Group(g) = &obj else { unreachable!("looked up as a group") };
    if rest.is_empty() {
        return match ctx.method {
            Method::GET => {
                ctx.require(DirectoryAction::Read)?;
                ctx.entity(StatusCode::OK, Kind::Group, objects::group(g))
            }
            Method::PATCH => update(ctx, g.clone()),
            Method::DELETE => directory_objects::delete(ctx, &obj),
            _ => Err(GraphError::method_not_allowed()),
        };
    }
    let seg = rest[0].to_ascii_lowercase();
    match (seg.as_str(), &rest[1..]) {
        ("members", []) if ctx.method == Method::GET => {
            ctx.require(DirectoryAction::Read)?;
            ctx.object_collection(&load(ctx, &g.members)?)
        }
        ("members", [c]) if c == "$count" && ctx.method == Method::GET => {
            ctx.require(DirectoryAction::Read)?;
            let tenant = ctx.tenant()?;
            let items = load(ctx, &g.members)?.iter().map(|o| (Kind::of(o), objects::object(o, tenant))).collect();
            ctx.raw_count(Kind::DirectoryObject, items)
        }
        ("members", [r]) if r == "$ref" => match ctx.method {
            Method::POST => add_member(ctx, &obj),
            Method::GET => {
                ctx.require(DirectoryAction::Read)?;
                let refs: Vec<Value> = g
                    .members
                    .iter()
                    .map(|m| serde_json::json!({"@odata.id": format!("{}/{}/directoryObjects/{m}", ctx.base, ctx.version)}))
                    .collect();
                Ok(ctx.respond(StatusCode::OK, serde_json::json!({"@odata.context": ctx.context_url("Collection($ref)"), "value": refs})))
            }
            _ => Err(GraphError::method_not_allowed()),
        },
        ("members", [member, r]) if r == "$ref" => {
            if ctx.method != Method::DELETE {
                return Err(GraphError::method_not_allowed());
            }
            remove_member(ctx, &obj, member)
        }
        ("transitivemembers", []) if ctx.method == Method::GET => {
            ctx.require(DirectoryAction::Read)?;
            let ids = transitive_members(ctx, g)?;
            ctx.object_collection(&load(ctx, &ids)?)
        }
        _ => super::owners::route(ctx, &obj, rest)
            .or_else(|| super::consent::member_route(ctx, &obj, rest))
            .or_else(|| directory_objects::membership(ctx, &obj, rest))
            .unwrap_or_else(|| Err(GraphError::segment_not_found(&rest[0]))),
    }
}

fn load(ctx: &Ctx, ids: &[Uuid]) -> GraphResult<Vec<DirectoryObject>> {
    let tenant = ctx.tenant_id();
    Ok(ctx.state.store.read(|tx| {
        let mut out = Vec::new();
        for id in ids {
            if let Some(o) = tx.directory_object(tenant, *id)? {
                out.push(o);
            }
        }
        Ok::<_, mimic_store::StoreError>(out)
    })?)
}

/// Members of the group and of the groups in it, each once.
fn transitive_members(ctx: &Ctx, g: &Group) -> GraphResult<Vec<Uuid>> {
    let tenant = ctx.tenant_id();
    Ok(ctx.state.store.read(|tx| {
        let mut seen: Vec<Uuid> = Vec::new();
        let mut frontier = g.members.clone();
        while let Some(m) = frontier.pop() {
            if seen.contains(&m) || m == g.id {
                continue;
            }
            seen.push(m);
            if let Some(DirectoryObject::Group(inner)) = tx.directory_object(tenant, m)? {
                frontier.extend(inner.members.iter().copied());
            }
        }
        Ok::<_, mimic_store::StoreError>(seen)
    })?)
}

/// The object id at the end of an `@odata.id` (`https://graph.microsoft.com/v1.0/directoryObjects/{id}`,
/// or `.../users/{id}`, `.../servicePrincipals/{id}`, ...), as Graph accepts them.
fn str_prop<'a>(m: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// `POST /groups` (group-post-groups): `displayName`, `mailEnabled`, `mailNickname`,
/// `securityEnabled` required; `members@odata.bind` adds members at creation.
fn create(ctx: &Ctx) -> GraphResult<Response> {
    let m = ctx.entity_body(Kind::Group)?;
    // A role-assignable group's members hold its directory roles: only Privileged Role
    // Administrators and Global Administrators create one (Entra's groups-concept page).
    let assignable = match str_prop(&m, "isAssignableToRole") {
        None | Some(Value::Null) => false,
        Some(v) => v.as_bool().ok_or_else(|| GraphError::invalid_value("isAssignableToRole", "Group"))?,
    };
    ctx.require(if assignable { DirectoryAction::ManageRoleAssignableGroups } else { DirectoryAction::ManageGroups })?;
    let display_name = str_prop(&m, "displayName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| GraphError::invalid_value("displayName", "Group"))?;
    let mail_nickname = str_prop(&m, "mailNickname")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| GraphError::invalid_value("mailNickname", "Group"))?;
    let mail_enabled =
        str_prop(&m, "mailEnabled").and_then(Value::as_bool).ok_or_else(|| GraphError::invalid_value("mailEnabled", "Group"))?;
    let security_enabled =
        str_prop(&m, "securityEnabled").and_then(Value::as_bool).ok_or_else(|| GraphError::invalid_value("securityEnabled", "Group"))?;
    let unified = str_prop(&m, "groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("Unified"))));
    if mail_enabled || unified || !security_enabled {
        return Err(GraphError::bad_request("Mimic's directory has security groups only: mailEnabled must be false, securityEnabled true, and groupTypes must not contain 'Unified'."));
    }
    let description = match str_prop(&m, "description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(GraphError::invalid_value("description", "Group")),
    };
    let mut members = Vec::new();
    if let Some(binds) = str_prop(&m, "members@odata.bind") {
        let binds = binds.as_array().ok_or_else(|| GraphError::invalid_value("members@odata.bind", "Group"))?;
        for b in binds {
            let id = referenced_id(b.as_str().unwrap_or(""))?;
            if !members.contains(&id) {
                members.push(id);
            }
        }
    }
    let tenant = ctx.tenant_id();
    let group = Group {
        id: Uuid::new_v4(),
        tenant_id: tenant,
        display_name: display_name.to_string(),
        mail_nickname: mail_nickname.to_string(),
        description,
        security_enabled,
        members,
        owners: super::owners::bound(&m, "Group")?,
        created: Utc::now(),
        is_assignable_to_role: assignable,
    };
    ctx.state.store.write(|tx| {
        for o in &group.owners {
            super::owners::check_owner(tx, tenant, *o)?;
        }
        for m in &group.members {
            if tx.directory_object(tenant, *m)?.is_none() {
                return Err(GraphError::not_found(&m.to_string()));
            }
        }
        tx.put_directory_object(&DirectoryObject::Group(group.clone()))?;
        Ok(())
    })?;
    ctx.entity(StatusCode::CREATED, Kind::Group, objects::group(&group))
}

fn update(ctx: &Ctx, mut g: Group) -> GraphResult<Response> {
    ctx.require(DirectoryObject::Group(g.clone()).manage_action())?;
    let m = ctx.entity_body(Kind::Group)?;
    if str_prop(&m, "isAssignableToRole").is_some_and(|v| v.as_bool() != Some(g.is_assignable_to_role)) {
        // isAssignableToRole is fixed at creation (Graph's group resource). Unverified text.
        return Err(GraphError::bad_request("The property 'isAssignableToRole' can only be set when the group is created."));
    }
    if let Some(v) = str_prop(&m, "displayName") {
        g.display_name =
            v.as_str().filter(|s| !s.trim().is_empty()).ok_or_else(|| GraphError::invalid_value("displayName", "Group"))?.to_string();
    }
    if let Some(v) = str_prop(&m, "mailNickname") {
        g.mail_nickname =
            v.as_str().filter(|s| !s.trim().is_empty()).ok_or_else(|| GraphError::invalid_value("mailNickname", "Group"))?.to_string();
    }
    if let Some(v) = str_prop(&m, "description") {
        g.description = match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err(GraphError::invalid_value("description", "Group")),
        };
    }
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        // Re-read inside the transaction: a member added meanwhile must not be lost.
        if let Some(DirectoryObject::Group(cur)) = tx.directory_object(tenant, g.id)? {
            g.members = cur.members;
        }
        tx.put_directory_object(&DirectoryObject::Group(g.clone()))
    })?;
    Ok(ctx.no_content())
}

/// `POST /groups/{id}/members/$ref` `{"@odata.id": ".../directoryObjects/{id}"}` → 204
/// (group-post-members; docs/azure-behaviour.md §7).
fn add_member(ctx: &Ctx, group: &DirectoryObject) -> GraphResult<Response> {
    ctx.require(group.manage_action())?;
    let group = group.id();
    let r: wire::Reference = ctx.json()?;
    let member = referenced_id(&r.odata_id)?;
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        let Some(DirectoryObject::Group(mut g)) = tx.directory_object(tenant, group)? else {
            return Err(GraphError::not_found(&group.to_string()));
        };
        match tx.directory_object(tenant, member)? {
            None | Some(DirectoryObject::Application(_)) => return Err(GraphError::not_found(&member.to_string())),
            Some(_) => {}
        }
        if g.members.contains(&member) {
            // group-post-members: adding an existing member is a 400.
            return Err(GraphError::bad_request(
                "One or more added object references already exist for the following modified properties: 'members'.",
            ));
        }
        if member == group {
            return Err(GraphError::bad_request("A group cannot be a member of itself."));
        }
        g.members.push(member);
        tx.put_directory_object(&DirectoryObject::Group(g))?;
        Ok(())
    })?;
    Ok(ctx.no_content())
}

/// `DELETE /groups/{id}/members/{memberId}/$ref` → 204; 404 when it is not a member.
fn remove_member(ctx: &Ctx, group: &DirectoryObject, member: &str) -> GraphResult<Response> {
    ctx.require(group.manage_action())?;
    let group = group.id();
    let member_id = parse_id(member)?;
    let tenant = ctx.tenant_id();
    ctx.state.store.write(|tx| {
        let Some(DirectoryObject::Group(mut g)) = tx.directory_object(tenant, group)? else {
            return Err(GraphError::not_found(&group.to_string()));
        };
        if !g.members.contains(&member_id) {
            return Err(GraphError::not_found(member));
        }
        g.members.retain(|m| *m != member_id);
        tx.put_directory_object(&DirectoryObject::Group(g))?;
        Ok(())
    })?;
    Ok(ctx.no_content())
}
