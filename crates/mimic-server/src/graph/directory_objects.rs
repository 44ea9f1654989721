//! `/directoryObjects`: `getByIds` (how az names the principals of role assignments and tells
//! users from service principals), one object by id whatever its type, and what every object
//! type shares: `memberOf`, `transitiveMemberOf`, `checkMemberGroups`, `getMemberGroups`,
//! `checkMemberObjects`, `getMemberObjects`, and deletion with its cleanup. Also
//! `/organization` (the tenant).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use mimic_domain::directory::{DirectoryAction, DirectoryObject};
use mimic_store::Tx;
use mimic_wire::graph as wire;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::ctx::{parse_id, Ctx};
use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};

pub fn route(ctx: &Ctx, key: Option<(Option<String>, String)>, rest: &[String]) -> GraphResult<Response> {
    let (id, rest) = match (key, rest.first()) {
        (Some((_, id)), _) => (id, rest),
        (None, None) => {
            // Listing every directory object is not something Graph serves.
            return Err(GraphError::unsupported_query("Unsupported Query."));
        }
        (None, Some(first)) => {
            if first.eq_ignore_ascii_case("getByIds") {
                if rest.len() > 1 {
                    return Err(GraphError::segment_not_found(&rest[1]));
                }
                return get_by_ids(ctx);
            }
            (first.clone(), &rest[1..])
        }
    };
    let obj = ctx.get(Kind::DirectoryObject, &id)?;
    if rest.is_empty() {
        return match ctx.method {
            Method::GET => {
                ctx.require(DirectoryAction::Read)?;
                let (k, m) = ctx.render(&obj)?;
                let m = objects::default_projection(&obj, m);
                let selected = ctx.options.selected(&Kind::DirectoryObject.entity_type())?;
                let mut out = Map::new();
                out.insert("@odata.context".into(), Value::String(ctx.context_url("directoryObjects/$entity")));
                out.extend(ctx.shape(k, m, selected.as_deref(), true));
                Ok(ctx.respond(StatusCode::OK, Value::Object(out)))
            }
            Method::DELETE => delete(ctx, &obj),
            _ => Err(GraphError::method_not_allowed()),
        };
    }
    membership(ctx, &obj, rest).unwrap_or_else(|| Err(GraphError::segment_not_found(&rest[0])))
}

/// `POST /directoryObjects/getByIds` `{"ids":[...],"types":[...]}`: every found object of the
/// requested types, with `@odata.type` (az-cli.md §6; az reads `value[i].id`, `@odata.type`,
/// `servicePrincipalNames[0]`, `userPrincipalName`, `displayName`).
fn get_by_ids(ctx: &Ctx) -> GraphResult<Response> {
    if ctx.method != Method::POST {
        return Err(GraphError::method_not_allowed());
    }
    ctx.require(DirectoryAction::Read)?;
    let req: wire::GetByIdsRequest = ctx.json()?;
    if req.ids.len() > 1000 {
        return Err(GraphError::bad_request("Too many identifiers specified. The maximum number of identifiers is 1000."));
    }
    let types: Option<Vec<String>> =
        req.types.map(|t| t.iter().map(|s| s.trim().trim_start_matches("microsoft.graph.").to_ascii_lowercase()).collect());
    let tenant = ctx.tenant()?.clone();
    let mut ids = Vec::new();
    for id in &req.ids {
        ids.push(parse_id(id)?);
    }
    let found: Vec<DirectoryObject> = ctx.state.store.read(|tx| {
        let mut out = Vec::new();
        for id in &ids {
            if let Some(o) = tx.directory_object(tenant.id, *id)? {
                out.push(o);
            }
        }
        Ok::<_, mimic_store::StoreError>(out)
    })?;
    let selected = ctx.options.selected(&Kind::DirectoryObject.entity_type())?;
    let value: Vec<Value> = found
        .iter()
        .filter(|o| types.as_ref().is_none_or(|t| t.iter().any(|t| t.eq_ignore_ascii_case(o.kind()) || t == "directoryobject")))
        .map(|o| {
            let m = objects::default_projection(o, objects::object(o, &tenant));
            Value::Object(ctx.shape(Kind::of(o), m, selected.as_deref(), true))
        })
        .collect();
    Ok(ctx.respond(StatusCode::OK, json!({"@odata.context": ctx.context_url("directoryObjects"), "value": value})))
}

/// Groups `member` belongs to directly.
pub fn direct_groups(ctx: &Ctx, member: Uuid) -> GraphResult<Vec<Uuid>> {
    Ok(ctx.state.store.read(|tx| tx.groups_with_member(ctx.tenant_id(), member))?)
}

fn load_all(ctx: &Ctx, ids: &[Uuid]) -> GraphResult<Vec<DirectoryObject>> {
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

fn string_collection(ctx: &Ctx, ids: Vec<String>) -> Response {
    ctx.respond(StatusCode::OK, json!({"@odata.context": ctx.context_url("Collection(Edm.String)"), "value": ids}))
}

/// The member-of family every object type has, or `None` for another segment.
pub fn membership(ctx: &Ctx, obj: &DirectoryObject, rest: &[String]) -> Option<GraphResult<Response>> {
    let seg = rest.first()?.to_ascii_lowercase();
    let known = [
        "memberof",
        "transitivememberof",
        "checkmembergroups",
        "getmembergroups",
        "checkmemberobjects",
        "getmemberobjects",
        "ownedobjects",
        "owners",
    ];
    if !known.contains(&seg.as_str()) {
        return None;
    }
    Some((|| {
        ctx.require(DirectoryAction::Read)?;
        let id = obj.id();
        let count_path = rest.get(1).map(|s| s == "$count").unwrap_or(false);
        if rest.len() > 1 && !count_path {
            return Err(GraphError::segment_not_found(&rest[1]));
        }
        let post = ctx.method == Method::POST;
        match (seg.as_str(), post) {
            ("memberof", false) | ("transitivememberof", false) => {
                let ids = if seg == "memberof" {
                    direct_groups(ctx, id)?
                } else {
                    crate::directory::transitive_groups(&ctx.state, ctx.tenant_id(), id)?
                };
                let groups = load_all(ctx, &ids)?;
                if count_path {
                    let tenant = ctx.tenant()?;
                    let items = groups.iter().map(|o| (Kind::of(o), objects::object(o, tenant))).collect();
                    return ctx.raw_count(Kind::DirectoryObject, items);
                }
                ctx.object_collection(&groups)
            }
            ("ownedobjects", false) => ctx.object_collection(&super::owners::owned_objects(ctx, id)?),
            // Users have no owners.
            ("owners", false) => ctx.object_collection(&[]),
            ("checkmembergroups", true) => {
                let req: wire::CheckMemberGroupsRequest = ctx.json()?;
                if req.group_ids.len() > 20 {
                    return Err(GraphError::bad_request("The number of group ids exceeds the limit of 20."));
                }
                let all = crate::directory::transitive_groups(&ctx.state, ctx.tenant_id(), id)?;
                let hits = req.group_ids.into_iter().filter(|g| Uuid::parse_str(g).is_ok_and(|g| all.contains(&g))).collect();
                Ok(string_collection(ctx, hits))
            }
            ("checkmemberobjects", true) => {
                let req: wire::CheckMemberObjectsRequest = ctx.json()?;
                let all = crate::directory::transitive_groups(&ctx.state, ctx.tenant_id(), id)?;
                let hits = req.ids.into_iter().filter(|g| Uuid::parse_str(g).is_ok_and(|g| all.contains(&g))).collect();
                Ok(string_collection(ctx, hits))
            }
            ("getmembergroups", true) | ("getmemberobjects", true) => {
                let _req: wire::GetMemberGroupsRequest = ctx.json()?;
                // Every Mimic group is a security group, so securityEnabledOnly changes nothing.
                let all = crate::directory::transitive_groups(&ctx.state, ctx.tenant_id(), id)?;
                Ok(string_collection(ctx, all.into_iter().map(|g| g.to_string()).collect()))
            }
            _ => Err(GraphError::method_not_allowed()),
        }
    })())
}

/// Deletes an object the way Entra does: out of every group it was in, its directory roles
/// gone, into the recycle bin unless a group (`deleted_items`); an application takes its service
/// principal with it. Managed identities' principals
/// belong to their Azure resource and are refused.
pub fn delete(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<Response> {
    match obj {
        DirectoryObject::User(u) => ctx.require_on_user(obj.manage_action(), u.id)?,
        _ => ctx.require(obj.manage_action())?,
    }
    if let DirectoryObject::ServicePrincipal(sp) = obj {
        if mimic_domain::first_party_apis::by_app_id(sp.app_id).is_some() {
            // Unverified text: Mimic keeps Microsoft's API principals in every tenant.
            return Err(GraphError::bad_request(format!(
                "Service principal '{}' belongs to a Microsoft API and cannot be deleted.",
                sp.id
            )));
        }
        if sp.service_principal_type == mimic_domain::directory::ServicePrincipalType::ManagedIdentity {
            // Unverified text: Entra refuses to delete a managed identity's principal directly.
            return Err(GraphError::bad_request(format!(
                "Service principal '{}' belongs to a managed identity; remove the identity from its Azure resource instead.",
                sp.id
            )));
        }
    }
    let tenant = ctx.tenant_id();
    let id = obj.id();
    let app_sp = match obj {
        DirectoryObject::Application(a) => Some(a.app_id),
        _ => None,
    };
    ctx.state.store.write(|tx| {
        let mut victims = vec![id];
        if let Some(app_id) = app_sp {
            if let Some(sp) = tx.directory_object_by_app_id(tenant, "servicePrincipal", app_id)? {
                victims.push(sp.id());
            }
        }
        let now = chrono::Utc::now();
        for v in victims {
            detach(tx, tenant, v)?;
            crate::directory::roles::remove_principal(tx, tenant, v)?;
            let held = tx.directory_object(tenant, v)?;
            tx.delete_directory_object(tenant, v)?;
            if let Some(o) = held.filter(DirectoryObject::is_soft_deleted) {
                super::deleted_items::recycle(tx, o, now)?;
            }
        }
        Ok::<_, mimic_store::StoreError>(())
    })?;
    Ok(ctx.no_content())
}

/// Removes `member` from every group that lists it (the group documents and the index).
pub fn detach(tx: &mut dyn Tx, tenant: Uuid, member: Uuid) -> Result<(), mimic_store::StoreError> {
    for gid in tx.groups_with_member(tenant, member)? {
        if let Some(DirectoryObject::Group(mut g)) = tx.directory_object(tenant, gid)? {
            g.members.retain(|m| *m != member);
            tx.put_directory_object(&DirectoryObject::Group(g))?;
        }
    }
    Ok(())
}

/// `GET /organization`: the tenant as an `organization` object.
pub fn organization(ctx: &Ctx, rest: &[String]) -> GraphResult<Response> {
    if ctx.method != Method::GET {
        return Err(GraphError::method_not_allowed());
    }
    if let Some(s) = rest.get(1).or(if rest.len() == 1 && parse_id(&rest[0]).is_err() { rest.first() } else { None }) {
        return Err(GraphError::segment_not_found(s));
    }
    ctx.require(DirectoryAction::Read)?;
    let t = ctx.tenant()?;
    if let Some(id) = rest.first() {
        if parse_id(id)? != t.id {
            return Err(GraphError::not_found(id));
        }
    }
    let org = json!({
        "id": t.id,
        "deletedDateTime": null,
        "createdDateTime": objects::time(t.created),
        "displayName": t.display_name,
        "tenantType": "AAD",
        "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": true, "name": t.default_domain, "type": "Managed"}],
    });
    if rest.is_empty() {
        Ok(ctx.respond(StatusCode::OK, json!({"@odata.context": ctx.context_url("organization"), "value": [org]})))
    } else {
        let mut m = Map::new();
        m.insert("@odata.context".into(), Value::String(ctx.context_url("organization/$entity")));
        if let Value::Object(o) = org {
            m.extend(o);
        }
        Ok(ctx.respond(StatusCode::OK, Value::Object(m)))
    }
}
