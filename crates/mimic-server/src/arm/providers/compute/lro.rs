//! Compute's long-running operations: the status URLs its writes answer with (Compute's own,
//! `.../providers/Microsoft.Compute/locations/{l}/operations/{id}`, docs/azure-behaviour.md §3)
//! and that status endpoint, shared by VMs and their extensions.

use axum::http::{header, HeaderValue, Method, StatusCode};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::ResourceId;
use mimic_wire::compute as wire;
use uuid::Uuid;

use crate::arm::core::{json_response, operations, ArmError, ArmResult, Ctx, Reply};

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `/subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/operations/{id}`
pub fn is_operation(id: &ResourceId) -> bool {
    id.resource_group.is_none()
        && id.namespace.as_deref().is_some_and(|n| eq(n, "Microsoft.Compute"))
        && id.types.len() == 2
        && eq(&id.types[0].0, "locations")
        && eq(&id.types[1].0, "operations")
}

/// `Azure-AsyncOperation` (Compute's status URL, docs/azure-behaviour.md §3) and, for 202s, `Location`.
pub fn add_async_headers(ctx: &Ctx, res: &mut Reply, r: &Resource, op: &str, location_too: bool) -> ArmResult<()> {
    let sub = r.parsed_id().and_then(|p| p.subscription).unwrap_or_default();
    let loc = r.location.clone().unwrap_or_else(|| "westus".into());
    let base = format!("{}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{op}", ctx.arm_url());
    let async_url = format!("{base}?p={}&api-version={}", Uuid::new_v4(), ctx.api_version);
    let h = res.headers_mut();
    h.insert("azure-asyncoperation", HeaderValue::from_str(&async_url).map_err(ArmError::internal)?);
    if location_too {
        let location = format!("{base}?p={}&monitor=true&api-version={}", Uuid::new_v4(), ctx.api_version);
        h.insert(header::LOCATION, HeaderValue::from_str(&location).map_err(ArmError::internal)?);
    }
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    Ok(())
}

/// `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}`: the status
/// `Azure-AsyncOperation` points at, or with `monitor=true` the `Location` poll (200 when done).
/// Not RBAC-checked beyond the subscription: the id is an unguessable GUID, as ARM treats it.
pub fn operation(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    let op = id.name().unwrap_or_default().to_string();
    let found = operations::load(ctx, &sub.id.to_string(), &op)?.ok_or_else(|| ArmError::compute_operation_not_found(&op))?;
    if ctx.q("monitor").is_some_and(|m| eq(m, "true")) {
        return Ok(Reply::status(StatusCode::OK));
    }
    Ok(json_response(
        StatusCode::OK,
        &wire::OperationStatus {
            start_time: found.start_time,
            end_time: Some(found.end_time),
            status: found.status.as_str().to_string(),
            name: op,
        },
    ))
}
