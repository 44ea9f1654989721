//! Owners of applications, service principals and groups (`owners`, `owners/$ref` add and
//! remove, `owners@odata.bind` on a group's creation) and what a principal owns
//! (`ownedObjects`). Owners are users or service principals (application-post-owners,
//! group-post-owners); managed identities' principals are owned by their Azure resource.

use axum::http::Method;
use axum::response::Response;
use mimic_domain::directory::{DirectoryAction, DirectoryObject};
use mimic_store::Tx;
use mimic_wire::graph as wire;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::ctx::{parse_id, referenced_id, Ctx};
use super::error::{GraphError, GraphResult};

/// `owners[/$count]`, `owners/$ref`, `owners/{id}/$ref` of `obj`; `None` for other segments.
pub fn route(ctx: &Ctx, obj: &DirectoryObject, rest: &[String]) -> Option<GraphResult<Response>> {
    if !rest.first()?.eq_ignore_ascii_case("owners") || matches!(obj, DirectoryObject::User(_)) {
        return None;
    }
    Some(match (&rest[1..], &ctx.method) {
        ([], &Method::GET) => read(ctx).and_then(|_| ctx.object_collection(&load(ctx, obj.owners())?)),
        ([c], &Method::GET) if c == "$count" => read(ctx).and_then(|_| {
            let tenant = ctx.tenant()?;
            let items = load(ctx, obj.owners())?.iter().map(|o| (super::objects::Kind::of(o), super::objects::object(o, tenant))).collect();
            ctx.raw_count(super::objects::Kind::DirectoryObject, items)
        }),
        ([r], &Method::POST) if r == "$ref" => add(ctx, obj),
        ([id, r], &Method::DELETE) if r == "$ref" => remove(ctx, obj, id),
        ([] | [_] | [_, _], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[1])),
    })
}

fn read(ctx: &Ctx) -> GraphResult<()> {
    ctx.require(DirectoryAction::Read)
}

fn load(ctx: &Ctx, ids: &[Uuid]) -> GraphResult<Vec<DirectoryObject>> {
    let tenant = ctx.tenant_id();
    Ok(ctx.state.store.read(|tx| {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // An owner deleted since is no longer listed.
            if let Some(o) = tx.directory_object(tenant, *id)? {
                out.push(o);
            }
        }
        Ok::<_, mimic_store::StoreError>(out)
    })?)
}

/// An owner must be a user or a service principal of the tenant.
pub fn check_owner(tx: &mut dyn Tx, tenant: Uuid, owner: Uuid) -> GraphResult<()> {
    match tx.directory_object(tenant, owner)? {
        Some(DirectoryObject::User(_) | DirectoryObject::ServicePrincipal(_)) => Ok(()),
        Some(_) => Err(GraphError::bad_request("Owners must be users or service principals.")),
        None => Err(GraphError::not_found(&owner.to_string())),
    }
}

/// The owners an `owners@odata.bind` of a creation names.
pub fn bound(body: &Map<String, Value>, entity: &str) -> GraphResult<Vec<Uuid>> {
    let Some(binds) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("owners@odata.bind")).map(|(_, v)| v) else {
        return Ok(vec![]);
    };
    let binds = binds.as_array().ok_or_else(|| GraphError::invalid_value("owners@odata.bind", entity))?;
    let mut out = Vec::new();
    for b in binds {
        let id = referenced_id(b.as_str().unwrap_or(""))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// `POST .../owners/$ref` `{"@odata.id": ".../directoryObjects/{id}"}` → 204; an existing owner
/// is a 400, as az's comment quotes it.
fn add(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<Response> {
    ctx.require(obj.manage_action())?;
    let r: wire::Reference = ctx.json()?;
    let owner = referenced_id(&r.odata_id)?;
    change(ctx, obj, |tx, owners| {
        check_owner(tx, ctx.tenant_id(), owner)?;
        if owners.contains(&owner) {
            return Err(GraphError::bad_request(
                "One or more added object references already exist for the following modified properties: 'owners'.",
            ));
        }
        owners.push(owner);
        Ok(())
    })
}

/// `DELETE .../owners/{id}/$ref` → 204; 404 when it is not an owner.
fn remove(ctx: &Ctx, obj: &DirectoryObject, owner: &str) -> GraphResult<Response> {
    ctx.require(obj.manage_action())?;
    let id = parse_id(owner)?;
    change(ctx, obj, |_, owners| {
        if !owners.contains(&id) {
            return Err(GraphError::not_found(owner));
        }
        owners.retain(|o| *o != id);
        Ok(())
    })
}

fn change(ctx: &Ctx, obj: &DirectoryObject, f: impl Fn(&mut dyn Tx, &mut Vec<Uuid>) -> GraphResult<()>) -> GraphResult<Response> {
    let (tenant, id) = (ctx.tenant_id(), obj.id());
    ctx.state.store.write(|tx| {
        let mut fresh = tx.directory_object(tenant, id)?.ok_or_else(|| GraphError::not_found(&id.to_string()))?;
        let Some(owners) = fresh.owners_mut() else {
            // Unverified text.
            return Err(GraphError::bad_request("This service principal is owned by its Azure resource or by Microsoft."));
        };
        f(tx, owners)?;
        tx.put_directory_object(&fresh)?;
        Ok(())
    })?;
    Ok(ctx.no_content())
}

/// `ownedObjects` of a user or service principal: the applications, service principals and
/// groups that list it as an owner.
pub fn owned_objects(ctx: &Ctx, owner: Uuid) -> GraphResult<Vec<DirectoryObject>> {
    let tenant = ctx.tenant_id();
    Ok(ctx.state.store.read(|tx| {
        let mut out = Vec::new();
        for kind in ["application", "servicePrincipal", "group"] {
            out.extend(tx.directory_objects(tenant, kind)?.into_iter().filter(|o| o.owners().contains(&owner)));
        }
        Ok::<_, mimic_store::StoreError>(out)
    })?)
}
