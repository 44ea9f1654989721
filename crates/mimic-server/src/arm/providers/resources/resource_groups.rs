//! Resource groups: PUT, GET, HEAD, PATCH, DELETE (long-running, 202 + Location), list with
//! `$filter` on tags and `$top`/nextLink paging.

use axum::http::{header, HeaderValue, Method, StatusCode};
use chrono::Utc;
use mimic_domain::resource::{Resource, RESOURCE_GROUP_TYPE};
use mimic_domain::resource_id::{self, resource_group_id};
use mimic_store::ResourceFilter;
use mimic_wire::arm as wire;
use serde_json::{json, Map, Value};

use crate::arm::core::{catalog, generic, operations, Registry};
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Reply};

pub const READ: &str = "Microsoft.Resources/subscriptions/resourceGroups/read";
pub const WRITE: &str = "Microsoft.Resources/subscriptions/resourceGroups/write";
pub const DELETE: &str = "Microsoft.Resources/subscriptions/resourceGroups/delete";

pub fn render(r: &Resource) -> wire::ResourceGroup {
    wire::ResourceGroup {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: RESOURCE_GROUP_TYPE,
        location: r.location.clone().unwrap_or_default(),
        managed_by: r.extra.get("managedBy").and_then(Value::as_str).map(str::to_string),
        tags: r.tags.clone(),
        properties: wire::ProvisioningState { provisioning_state: "Succeeded".into() },
    }
}

fn validate_name(rg: &str) -> ArmResult<()> {
    if mimic_domain::resource::valid_resource_group_name(rg) {
        return Ok(());
    }
    Err(ArmError::invalid_resource_group_name(rg))
}

pub fn handle(ctx: &Ctx, sub: &str, rg: &str) -> ArmResult<Reply> {
    let s = ctx.subscription(sub)?;
    let sub = s.id.to_string();
    let scope = resource_group_id(&sub, rg);
    match ctx.method {
        Method::GET => {
            ctx.authorize(READ, &scope)?;
            Ok(json_response(StatusCode::OK, &render(&*ctx.resource_group(&sub, rg)?)))
        }
        Method::HEAD => {
            ctx.authorize(READ, &scope)?;
            let exists = ctx.resource_group(&sub, rg).is_ok();
            Ok(Reply::status(if exists { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }))
        }
        Method::PUT => put(ctx, &sub, rg, &scope),
        Method::PATCH => patch(ctx, &sub, rg, &scope),
        Method::DELETE => delete(ctx, &sub, rg, &scope),
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

fn put(ctx: &Ctx, _sub: &str, rg: &str, scope: &str) -> ArmResult<Reply> {
    validate_name(rg)?;
    ctx.authorize(WRITE, scope)?;
    let body: wire::ResourceGroupWrite = ctx.json()?;
    let location = body.location.filter(|l| !l.is_empty()).ok_or_else(ArmError::location_required)?;
    let location = catalog::normalize_location(&location)?;
    let key = resource_id::key(scope);
    let now = Utc::now();
    let (res, created) = ctx.state.store.write(|tx| {
        let existing = tx.resource(&key)?;
        if let Some(e) = &existing {
            if e.location.as_deref() != Some(location.as_str()) {
                return Err(ArmError::invalid_resource_group_location(&location, e.location.as_deref().unwrap_or_default()));
            }
        }
        let mut extra = Map::new();
        if let Some(m) = &body.managed_by {
            extra.insert("managedBy".into(), m.clone().into());
        }
        let r = Resource {
            // Keep the casing of the first creation.
            id: existing.as_ref().map(|e| e.id.clone()).unwrap_or_else(|| scope.to_string()),
            name: existing.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| rg.to_string()),
            resource_type: RESOURCE_GROUP_TYPE.into(),
            location: Some(location.clone()),
            tags: body.tags.clone(),
            properties: json!({}),
            identity: None,
            extra,
            created: existing.as_ref().map(|e| e.created).unwrap_or(now),
            changed: now,
        };
        tx.put_resource(&r)?;
        Ok::<_, ArmError>((r, existing.is_none()))
    })?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_response(status, &render(&res)))
}

fn patch(ctx: &Ctx, sub: &str, rg: &str, scope: &str) -> ArmResult<Reply> {
    ctx.authorize(WRITE, scope)?;
    let body: wire::ResourceGroupWrite = ctx.json()?;
    let key = resource_id::key(scope);
    let res = ctx.state.store.write(|tx| {
        let mut r = tx.resource(&key)?.ok_or_else(|| ArmError::resource_group_not_found(rg))?;
        if let Some(tags) = &body.tags {
            r.tags = Some(tags.clone());
        }
        if let Some(m) = &body.managed_by {
            r.extra.insert("managedBy".into(), m.clone().into());
        }
        r.changed = Utc::now();
        tx.put_resource(&r)?;
        Ok::<_, ArmError>(r)
    })?;
    let _ = sub;
    Ok(json_response(StatusCode::OK, &render(&res)))
}

/// Deletes the group, everything in it and every role assignment at or under it, in one
/// transaction; answers 202 with a Location to poll, as ARM does.
fn delete(ctx: &Ctx, sub: &str, rg: &str, scope: &str) -> ArmResult<Reply> {
    ctx.authorize(DELETE, scope)?;
    let key = resource_id::key(scope);
    let existed = ctx.state.store.write(|tx| {
        if tx.resource(&key)?.is_none() {
            return Ok::<_, ArmError>(false);
        }
        Registry::installed().before_group_delete(tx, sub, rg)?;
        generic::delete_contents(tx, &key)?;
        tx.delete_resource(&key)?;
        Ok(true)
    })?;
    if !existed {
        return Err(ArmError::resource_group_not_found(rg));
    }
    let op = operations::record_done(ctx, sub, None)?;
    let mut res = Reply::status(StatusCode::ACCEPTED);
    let location = format!("{}/subscriptions/{sub}/operationresults/{op}?api-version={}", ctx.arm_url(), ctx.api_version);
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).map_err(ArmError::internal)?);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    Ok(res)
}

/// `GET /subscriptions/{s}/resourcegroups`: the groups the caller may read.
pub fn list(ctx: &Ctx, sub: &str) -> ArmResult<Reply> {
    let s = ctx.subscription(sub)?;
    let sub = s.id.to_string();
    let whole_sub = ctx.allowed(READ, &format!("/subscriptions/{sub}"))?;
    if !whole_sub {
        ctx.authorize_list(READ, &format!("/subscriptions/{sub}"))?;
    }
    let top = ctx.q("$top").and_then(|t| t.parse::<usize>().ok()).unwrap_or(1000).clamp(1, 1000);
    let after = ctx.q("$skiptoken").map(str::to_string);
    let tag_filter = ctx.q("$filter").map(parse_tag_filter).transpose()?;
    let sub_key = sub.to_ascii_lowercase();
    let rt = RESOURCE_GROUP_TYPE.to_ascii_lowercase();
    let mut value = Vec::new();
    let mut cursor = after.clone();
    let mut next = None;
    loop {
        let batch = ctx.state.store.read(|tx| {
            tx.resources(&ResourceFilter {
                subscription: &sub_key,
                resource_type: Some(&rt),
                after_key: cursor.as_deref(),
                limit: 500,
                ..Default::default()
            })
        })?;
        let done = batch.len() < 500;
        for r in batch {
            cursor = Some(r.key());
            if !(whole_sub || ctx.allowed(READ, &r.id)?) {
                continue;
            }
            if let Some((k, v)) = &tag_filter {
                let tags = r.tags.clone().unwrap_or_default();
                let hit =
                    tags.iter().any(|(tk, tv)| tk.eq_ignore_ascii_case(k) && v.as_ref().is_none_or(|v| tv.as_str() == Some(v.as_str())));
                if !hit {
                    continue;
                }
            }
            value.push(render(&r));
            if value.len() == top {
                next = cursor.clone();
                break;
            }
        }
        if next.is_some() || done {
            break;
        }
    }
    let next_link = next.map(|k| {
        format!(
            "{}/subscriptions/{sub}/resourcegroups?api-version={}&$top={top}&$skiptoken={}",
            ctx.arm_url(),
            ctx.api_version,
            form_urlencode(&k)
        )
    });
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link }))
}

/// `tagName eq 'k' [and tagValue eq 'v']`, the filter resource-group listing supports.
fn parse_tag_filter(f: &str) -> ArmResult<(String, Option<String>)> {
    let bad = || ArmError::invalid_resource_group_filter(f);
    let quoted = |s: &str| s.trim().strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).map(|s| s.replace("''", "'"));
    let mut parts = f.splitn(2, " and ");
    let first = parts.next().ok_or_else(bad)?;
    let (k, v) = first.split_once(" eq ").ok_or_else(bad)?;
    if !k.trim().eq_ignore_ascii_case("tagName") {
        return Err(bad());
    }
    let name = quoted(v).ok_or_else(bad)?;
    let value = match parts.next() {
        None => None,
        Some(second) => {
            let (k, v) = second.split_once(" eq ").ok_or_else(bad)?;
            if !k.trim().eq_ignore_ascii_case("tagValue") {
                return Err(bad());
            }
            Some(quoted(v).ok_or_else(bad)?)
        }
    };
    Ok((name, value))
}

pub fn form_urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap_or_default().trim_start_matches('=').to_string()
}
