//! `/directory/deletedItems`: the tenant's recycle bin. Deleting an application, a service
//! principal or a user moves it here for 30 days (directory-deleteditems): listed by type
//! (`deletedItems/microsoft.graph.application`), read, restored (`POST .../restore`, 200 with the
//! object) or deleted for good (`DELETE`, as az's own tests clean up). While deleted it is no
//! directory object: it signs nobody in, and its App ID URIs stay taken.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use mimic_domain::directory::{deletion_expired, DeletedObject, DirectoryAction, DirectoryObject, DELETED_RETENTION_DAYS};
use mimic_store::documents::{Docs, DELETED_DIRECTORY_OBJECT, DELETED_DIRECTORY_OBJECTS_OF};
use mimic_store::Tx;
use serde_json::Value;
use uuid::Uuid;

use super::ctx::{parse_id, Ctx};
use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};

fn key(tenant: Uuid, id: Uuid) -> String {
    format!("{tenant}/{id}")
}

/// Moves `obj` (already detached and removed from the live directory) to the recycle bin, and
/// forgets what has expired.
pub fn recycle(tx: &mut dyn Tx, obj: DirectoryObject, now: DateTime<Utc>) -> mimic_store::Result<()> {
    let (tenant, id) = (obj.tenant_id(), obj.id());
    let expires = (now + chrono::Duration::days(DELETED_RETENTION_DAYS)).timestamp();
    let deleted = DeletedObject { object: obj, deleted: now };
    tx.put(DELETED_DIRECTORY_OBJECT, &key(tenant, id), &deleted, Some(expires))?;
    let mut index = tx.get(DELETED_DIRECTORY_OBJECTS_OF, &tenant.to_string())?.unwrap_or_default();
    for (gone, _) in index.iter().filter(|(i, at)| *i != id && deletion_expired(*at, now)) {
        tx.remove(DELETED_DIRECTORY_OBJECT, &key(tenant, *gone))?;
    }
    index.retain(|(i, at)| *i != id && !deletion_expired(*at, now));
    index.push((id, now));
    tx.put(DELETED_DIRECTORY_OBJECTS_OF, &tenant.to_string(), &index, None)
}

/// A deleted object still in the bin at `now`.
fn deleted(tx: &mut dyn Tx, tenant: Uuid, id: Uuid, now: DateTime<Utc>) -> mimic_store::Result<Option<DeletedObject>> {
    Ok(tx.get(DELETED_DIRECTORY_OBJECT, &key(tenant, id))?.filter(|d| !d.expired(now)))
}

/// Every deleted object of the tenant still in the bin.
pub fn all(tx: &mut dyn Tx, tenant: Uuid, now: DateTime<Utc>) -> mimic_store::Result<Vec<DeletedObject>> {
    let mut out = Vec::new();
    for (id, at) in tx.get(DELETED_DIRECTORY_OBJECTS_OF, &tenant.to_string())?.unwrap_or_default() {
        if !deletion_expired(at, now) {
            out.extend(deleted(tx, tenant, id, now)?);
        }
    }
    Ok(out)
}

fn forget(tx: &mut dyn Tx, tenant: Uuid, id: Uuid) -> mimic_store::Result<()> {
    tx.remove(DELETED_DIRECTORY_OBJECT, &key(tenant, id))?;
    let mut index = tx.get(DELETED_DIRECTORY_OBJECTS_OF, &tenant.to_string())?.unwrap_or_default();
    index.retain(|(i, _)| *i != id);
    tx.put(DELETED_DIRECTORY_OBJECTS_OF, &tenant.to_string(), &index, None)
}

/// `/directory/...`: only `deletedItems` is served.
pub fn route(ctx: &Ctx, rest: &[String]) -> GraphResult<Response> {
    let Some(first) = rest.first() else { return Err(GraphError::segment_not_found("directory")) };
    if !first.eq_ignore_ascii_case("deletedItems") {
        return Err(GraphError::segment_not_found(first));
    }
    match (&rest[1..], &ctx.method) {
        ([cast], &Method::GET) if cast.to_ascii_lowercase().starts_with("microsoft.graph.") => list(ctx, cast),
        ([], _) => Err(GraphError::bad_request("The type of deleted items must be given: deletedItems/microsoft.graph.{type}.")),
        ([id], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            let d = find(ctx, id)?;
            ctx.entity(StatusCode::OK, Kind::of(&d.object), render(ctx, &d)?)
        }
        ([id], &Method::DELETE) => purge(ctx, id),
        ([id, action], &Method::POST) if action.eq_ignore_ascii_case("restore") => restore(ctx, id),
        ([_] | [_, _], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[2])),
    }
}

fn render(ctx: &Ctx, d: &DeletedObject) -> GraphResult<serde_json::Map<String, Value>> {
    let mut m = objects::object(&d.object, ctx.tenant()?);
    m.insert("deletedDateTime".into(), Value::String(objects::time(d.deleted)));
    Ok(m)
}

fn list(ctx: &Ctx, cast: &str) -> GraphResult<Response> {
    ctx.require(DirectoryAction::Read)?;
    let kind = match cast.to_ascii_lowercase().trim_start_matches("microsoft.graph.") {
        "application" => Kind::Application,
        "serviceprincipal" => Kind::ServicePrincipal,
        "user" => Kind::User,
        "group" => Kind::Group,
        _ => return Err(GraphError::segment_not_found(cast)),
    };
    let (tenant, now) = (ctx.tenant_id(), Utc::now());
    let items = ctx.state.store.read(|tx| all(tx, tenant, now))?;
    let rendered =
        items.iter().filter(|d| Kind::of(&d.object) == kind).map(|d| Ok((kind, render(ctx, d)?))).collect::<GraphResult<Vec<_>>>()?;
    ctx.collection(kind, rendered)
}

fn find(ctx: &Ctx, id: &str) -> GraphResult<DeletedObject> {
    let oid = parse_id(id)?;
    let (tenant, now) = (ctx.tenant_id(), Utc::now());
    ctx.state.store.read(|tx| deleted(tx, tenant, oid, now))?.ok_or_else(|| GraphError::not_found(id))
}

/// `DELETE /directory/deletedItems/{id}` → 204: gone for good.
fn purge(ctx: &Ctx, id: &str) -> GraphResult<Response> {
    let d = find(ctx, id)?;
    require_manage(ctx, &d.object)?;
    let (tenant, oid) = (ctx.tenant_id(), d.object.id());
    ctx.state.store.write(|tx| forget(tx, tenant, oid))?;
    Ok(ctx.no_content())
}

fn require_manage(ctx: &Ctx, obj: &DirectoryObject) -> GraphResult<()> {
    match obj {
        DirectoryObject::User(u) => ctx.require_on_user(obj.manage_action(), u.id),
        _ => ctx.require(obj.manage_action()),
    }
}

/// `POST /directory/deletedItems/{id}/restore` → 200 with the object, back as it was deleted;
/// refused while what it held is taken: a user's UPN, an application's App ID URIs or app id,
/// a principal's application (unverified texts).
fn restore(ctx: &Ctx, id: &str) -> GraphResult<Response> {
    let d = find(ctx, id)?;
    require_manage(ctx, &d.object)?;
    let (tenant, now) = (ctx.tenant_id(), Utc::now());
    let obj = ctx.state.store.write(|tx| {
        let Some(d) = deleted(tx, tenant, d.object.id(), now)? else { return Err(GraphError::not_found(id)) };
        let conflict = |what: &str| GraphError::bad_request(format!("The object cannot be restored: its {what} is in use."));
        match &d.object {
            DirectoryObject::User(u) => {
                if tx.user_by_upn(tenant, &u.user_principal_name)?.is_some() {
                    return Err(conflict("userPrincipalName"));
                }
            }
            DirectoryObject::Application(a) => {
                if tx.directory_object_by_app_id(tenant, "application", a.app_id)?.is_some() {
                    return Err(conflict("appId"));
                }
                let live = tx.directory_objects(tenant, "application")?;
                if live.iter().any(
                    |o| matches!(o, DirectoryObject::Application(o) if o.identifier_uris.iter().any(|u| a.identifier_uris.contains(u))),
                ) {
                    return Err(conflict("identifierUris"));
                }
            }
            DirectoryObject::ServicePrincipal(sp) => {
                if tx.directory_object_by_app_id(tenant, "application", sp.app_id)?.is_none() {
                    return Err(GraphError::bad_request("The service principal cannot be restored while its application is deleted."));
                }
                if tx.directory_object_by_app_id(tenant, "servicePrincipal", sp.app_id)?.is_some() {
                    return Err(conflict("appId"));
                }
            }
            DirectoryObject::Group(_) => {}
        }
        forget(tx, tenant, d.object.id())?;
        tx.put_directory_object(&d.object)?;
        Ok(d.object)
    })?;
    ctx.entity(StatusCode::OK, Kind::of(&obj), objects::object(&obj, ctx.tenant()?))
}
