//! `POST /subscriptions/{s}/resourceGroups/{rg}/moveResources` and `validateMoveResources`
//! (resources.json `Resources_MoveResources`, `Resources_ValidateMoveResources`): top-level
//! resources of one group, with their child resources, to another group of the same tenant
//! ("Move Azure resources to a new resource group or subscription", learn.microsoft.com).
//!
//! A move is one write transaction: every moved row (the resource and its children) is stored
//! under its new id and references to it anywhere in the two subscriptions are rewritten (a
//! subnet's `ipConfigurations`, a NIC's `networkSecurityGroup`), after each provider's
//! [`Provider::check_move`](crate::arm::core::Provider::check_move) may refuse it and its
//! [`Provider::on_move`](crate::arm::core::Provider::on_move) has fixed what it keeps under the
//! old id. Role assignments at a moved resource are not moved ("the role assignment isn't moved
//! and becomes orphaned"). Permissions: `moveResources/action` on the source group and
//! `resourceGroups/write` on the target; a `ReadOnly` lock on either refuses it.

use axum::http::{header, HeaderValue, Method, StatusCode};
use mimic_domain::resource::{Resource, RESOURCE_GROUP_TYPE};
use mimic_domain::resource_id::{self, resource_group_id, ResourceId};
use mimic_domain::resource_move::{self, MAX_RESOURCES};
use mimic_store::{ResourceFilter, Tx};
use mimic_wire::moves::ResourcesMoveInfo;

use crate::arm::core::api_versions::{self as v, RESOURCES};
use crate::arm::core::registry::Moving;
use crate::arm::core::{locks, operations, ArmError, ArmResult, Ctx, Endpoint, Registry, Reply};

const MOVE: &str = "Microsoft.Resources/subscriptions/resourceGroups/moveResources/action";
const VALIDATE: &str = "Microsoft.Resources/subscriptions/resourceGroups/validateMoveResources/action";
const TARGET_WRITE: &str = "Microsoft.Resources/subscriptions/resourceGroups/write";

/// Where the resources go.
struct Target {
    sub: String,
    rg: String,
}

pub fn handle(ctx: &Ctx, sub: &str, rg: &str, validate_only: bool) -> ArmResult<Reply> {
    v::check(&ctx.api_version, RESOURCES)?;
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(sub)?.id.to_string();
    let source_id = resource_group_id(&sub, rg);
    ctx.authorize(if validate_only { VALIDATE } else { MOVE }, &source_id)?;
    let source = ctx.resource_group(&sub, rg)?;
    let body: ResourcesMoveInfo = ctx.json()?;
    let target = target_of(ctx, &body, &source).map_err(|e| if validate_only { refusal(e) } else { e })?;
    let target_id = resource_group_id(&target.sub, &target.rg);
    ctx.authorize(TARGET_WRITE, &target_id)?;
    if !validate_only {
        locks::enforce(ctx, &Endpoint::ResourceGroup { sub: target.sub.clone(), rg: target.rg.clone() })?;
    }
    let op = uuid::Uuid::new_v4().to_string();
    let checked = if validate_only {
        ctx.state.store.read(|tx| plan(tx, &sub, &source, &target, &body.resources).map(|_| ()))
    } else {
        ctx.state.store.write(|tx| {
            let moving = plan(tx, &sub, &source, &target, &body.resources)?;
            apply(tx, &sub, &target, &moving)?;
            operations::record(tx, &op, &sub, None)
        })
    };
    if validate_only {
        return checked.map(|()| Reply::status(StatusCode::NO_CONTENT)).map_err(refusal);
    }
    checked?;
    let mut res = Reply::status(StatusCode::ACCEPTED);
    let location = format!("{}/subscriptions/{sub}/operationresults/{op}?api-version={}", ctx.arm_url(), ctx.api_version);
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).map_err(ArmError::internal)?);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    Ok(res)
}

/// How validation reports a move it refuses: "If validation fails, it returns HTTP response code
/// 409 (Conflict) with an error message" (authorisation and missing resources keep theirs).
fn refusal(mut e: ArmError) -> ArmError {
    if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN && e.status != StatusCode::NOT_FOUND {
        e.status = StatusCode::CONFLICT;
    }
    e
}

/// The target group: a resource group id of a subscription of the caller's tenant, that exists
/// and is not the source.
fn target_of(ctx: &Ctx, body: &ResourcesMoveInfo, source: &Resource) -> ArmResult<Target> {
    let raw = body.target_resource_group.as_deref().unwrap_or_default();
    let parsed = ResourceId::parse(raw).ok().filter(|id| id.namespace.is_none() && id.resource_group.is_some());
    let Some(ResourceId { subscription: Some(sub), resource_group: Some(rg), .. }) = parsed else {
        return Err(ArmError::invalid_move_request(format!("The target resource group '{raw}' is not a valid resource group id.")));
    };
    let sub = ctx.subscription(&sub)?.id.to_string();
    let group = ctx.resource_group(&sub, &rg)?;
    if group.key() == source.key() {
        return Err(ArmError::invalid_move_request("The source and target resource groups are the same."));
    }
    Ok(Target { sub, rg: group.name.clone() })
}

/// What the request moves (each named resource and its children, with their new ids), after the
/// request's own checks and each provider's.
fn plan(tx: &mut dyn Tx, sub: &str, source: &Resource, target: &Target, ids: &[String]) -> ArmResult<Vec<Moving>> {
    if ids.is_empty() {
        return Err(ArmError::invalid_move_request("The list of resources to move is empty."));
    }
    if ids.len() > MAX_RESOURCES {
        return Err(ArmError::invalid_move_request(format!(
            "At most {MAX_RESOURCES} resources can be moved in one request; this one names {}.",
            ids.len()
        )));
    }
    let in_group = tx.resources(&ResourceFilter {
        subscription: sub,
        resource_group: Some(&source.name.to_ascii_lowercase()),
        exclude_type: Some(&RESOURCE_GROUP_TYPE.to_ascii_lowercase()),
        limit: usize::MAX,
        ..Default::default()
    })?;
    let mut moving: Vec<Moving> = Vec::new();
    for id in ids {
        let parsed = ResourceId::parse(id).map_err(|_| ArmError::invalid_move_request(format!("'{id}' is not a valid resource id.")))?;
        let in_source = parsed.subscription.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(sub))
            && parsed.resource_group.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(&source.name));
        if !in_source {
            return Err(ArmError::invalid_move_request(format!(
                "The resource '{id}' is not in the source resource group '{}'.",
                source.name
            )));
        }
        if parsed.types.len() != 1 {
            return Err(ArmError::invalid_move_request(format!(
                "'{id}' is a child resource: child resources move with their parent and cannot be moved on their own."
            )));
        }
        let key = resource_id::key(id);
        if !in_group.iter().any(|r| r.key() == key) {
            let ty = parsed.full_type().unwrap_or_default();
            return Err(ArmError::resource_not_found(&ty, parsed.name().unwrap_or_default(), &source.name));
        }
        let below = format!("{key}/");
        for r in in_group.iter().filter(|r| r.key() == key || r.key().starts_with(&below)) {
            if moving.iter().any(|m| m.resource.key() == r.key()) {
                continue;
            }
            let new_id =
                resource_move::moved_id(&r.id, &target.sub, &target.rg).ok_or_else(|| ArmError::internal("a stored id without a group"))?;
            if tx.resource(&resource_id::key(&new_id))?.is_some() {
                return Err(ArmError::move_target_exists(&new_id));
            }
            moving.push(Moving { resource: r.clone(), new_id });
        }
    }
    Registry::installed().check_move(tx, &moving)?;
    Ok(moving)
}

/// Stores every moved row under its new id and rewrites references to the old ids across the
/// source and target subscriptions.
fn apply(tx: &mut dyn Tx, sub: &str, target: &Target, moving: &[Moving]) -> ArmResult<()> {
    Registry::installed().on_move(tx, moving)?;
    let renames: Vec<(String, String)> = moving.iter().map(|m| (m.resource.id.clone(), m.new_id.clone())).collect();
    for m in moving {
        tx.delete_resource(&m.resource.key())?;
    }
    for m in moving {
        let mut r = m.resource.clone();
        r.id = m.new_id.clone();
        resource_move::rewrite_references(&mut r.properties, &renames);
        tx.put_resource(&r)?;
    }
    let mut subs = vec![sub.to_string()];
    if !target.sub.eq_ignore_ascii_case(sub) {
        subs.push(target.sub.clone());
    }
    for s in subs {
        let all = tx.resources(&ResourceFilter { subscription: &s, limit: usize::MAX, ..Default::default() })?;
        for mut r in all {
            let changed = resource_move::rewrite_references(&mut r.properties, &renames)
                | r.identity.as_mut().is_some_and(|i| resource_move::rewrite_references(i, &renames))
                | r.extra.values_mut().fold(false, |c, v| resource_move::rewrite_references(v, &renames) | c);
            if changed {
                tx.put_resource(&r)?;
            }
        }
    }
    Ok(())
}
