//! Management locks (`{scope}/providers/Microsoft.Authorization/locks[/{name}]`) at a
//! subscription, resource group or resource: PUT, GET, DELETE and the lists, with
//! `Microsoft.Authorization/locks/{read,write,delete}` (Owner and User Access Administrator
//! hold write and delete; Contributor's `notActions` take them away). What a lock stops is
//! enforced for every provider in `core::locks`.

use axum::http::{Method, StatusCode};
use mimic_domain::lock::{self, LockLevel, LockOwner, ManagementLock};
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::documents::{Docs, LOCKS};
use mimic_wire::arm::Page;
use mimic_wire::locks as wire;

use crate::arm::core::locks::of_subscription;
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Reply};

pub const LOCK_VERSIONS: &[&str] = &["2020-05-01", "2017-04-01", "2016-09-01", "2015-01-01"];

const READ: &str = "Microsoft.Authorization/locks/read";
const WRITE: &str = "Microsoft.Authorization/locks/write";
const DELETE: &str = "Microsoft.Authorization/locks/delete";
const LOCK_TYPE: &str = "Microsoft.Authorization/locks";

fn render(l: &ManagementLock) -> wire::ManagementLock {
    wire::ManagementLock {
        properties: wire::ManagementLockProperties {
            level: l.level.as_str(),
            notes: l.notes.clone(),
            owners: l.owners.iter().map(|o| wire::ManagementLockOwner { application_id: o.application_id.clone() }).collect(),
        },
        id: l.id(),
        kind: LOCK_TYPE,
        name: l.name.clone(),
    }
}

/// The locked scope's subscription, once the scope is known to exist: a subscription of the
/// caller's tenant, its resource group, the resource (for a child stored inside its parent, as
/// subnets are, the top-level resource).
fn existing_scope(ctx: &Ctx, scope: &str) -> ArmResult<String> {
    let id = ResourceId::parse(scope).map_err(|_| ArmError::invalid_scope(scope))?;
    let Some(sub) = id.subscription.as_deref() else {
        return Err(ArmError::lock_scope_not_supported(scope));
    };
    let s = ctx.subscription(sub)?.id.to_string();
    let Some(rg) = id.resource_group.as_deref() else {
        if id.namespace.is_some() || !id.types.is_empty() {
            return Err(ArmError::lock_scope_not_supported(scope));
        }
        return Ok(s);
    };
    ctx.resource_group(&s, rg)?;
    if let Some(first) = id.types.first() {
        let top = ResourceId { types: vec![first.clone()], ..id.clone() };
        if ctx.resource(&resource_id::key(&top.render()))?.is_none() {
            let full = top.full_type().unwrap_or_default();
            return Err(ArmError::resource_not_found(&full, &first.1, rg));
        }
    }
    Ok(s)
}

/// `GET {scope}/providers/Microsoft.Authorization/locks[?$filter=atScope()]`: the locks that
/// apply at the scope, and those below it unless `atScope()`.
pub fn list(ctx: &Ctx, scope: &str) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = existing_scope(ctx, scope)?;
    ctx.authorize(READ, scope)?;
    let at_scope = match ctx.q("$filter").map(str::trim) {
        None | Some("") => false,
        Some(f) if f.eq_ignore_ascii_case("atScope()") => true,
        Some(f) => return Err(ArmError::invalid_filter(f)),
    };
    let locks = of_subscription(ctx, &sub)?;
    let value: Vec<wire::ManagementLock> = locks.listed(scope, at_scope).into_iter().map(render).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

pub fn one(ctx: &Ctx, scope: &str, name: &str) -> ArmResult<Reply> {
    let target = lock::lock_id(scope, name);
    match ctx.method {
        Method::GET => {
            let sub = existing_scope(ctx, scope)?;
            ctx.authorize(READ, &target)?;
            let locks = of_subscription(ctx, &sub)?;
            let l = locks.get(scope, name).ok_or_else(|| ArmError::lock_not_found(name))?;
            Ok(json_response(StatusCode::OK, &render(l)))
        }
        Method::PUT => put(ctx, scope, name, &target),
        Method::DELETE => {
            let sub = existing_scope(ctx, scope)?;
            ctx.authorize(DELETE, &target)?;
            let key = sub.to_ascii_lowercase();
            let removed = ctx.state.store.write(|tx| {
                let mut all = tx.get(LOCKS, &key)?.unwrap_or_default();
                let removed = all.remove(scope, name);
                if removed.is_some() {
                    tx.put(LOCKS, &key, &all, None)?;
                }
                Ok::<_, ArmError>(removed.is_some())
            })?;
            Ok(Reply::status(if removed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

fn put(ctx: &Ctx, scope: &str, name: &str, target: &str) -> ArmResult<Reply> {
    let sub = existing_scope(ctx, scope)?;
    ctx.authorize(WRITE, target)?;
    if !lock::valid_name(name) {
        return Err(ArmError::invalid_lock_name(name));
    }
    let body: wire::ManagementLockWrite = ctx.json()?;
    let props = body.properties.ok_or_else(|| ArmError::invalid_lock_level(""))?;
    let level_text = props.level.unwrap_or_default();
    let level = LockLevel::parse(&level_text).ok_or_else(|| ArmError::invalid_lock_level(&level_text))?;
    if props.notes.as_ref().is_some_and(|n| n.chars().count() > lock::MAX_NOTES) {
        return Err(ArmError::lock_notes_too_long());
    }
    let owners = props.owners.unwrap_or_default().into_iter().map(|o| LockOwner { application_id: o.application_id }).collect::<Vec<_>>();
    let new = ManagementLock { scope: scope.to_string(), name: name.to_string(), level, notes: props.notes.clone(), owners };
    let key = sub.to_ascii_lowercase();
    let (stored, created) = ctx.state.store.write(|tx| {
        let mut all = tx.get(LOCKS, &key)?.unwrap_or_default();
        let created = all.put(new.clone());
        tx.put(LOCKS, &key, &all, None)?;
        let stored = all.get(scope, name).cloned().unwrap_or_else(|| new.clone());
        Ok::<_, ArmError>((stored, created))
    })?;
    Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &render(&stored)))
}
