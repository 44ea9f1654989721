//! The Tags API: `{scope}/providers/Microsoft.Resources/tags/default` (GET, PUT, PATCH with
//! `Merge`/`Replace`/`Delete`, DELETE) at a subscription, resource group or resource, with
//! `Microsoft.Resources/tags/{read,write,delete}`; and a subscription's predefined tag names
//! (`/subscriptions/{s}/tagNames[/{name}[/tagValues/{value}]]`), listed with the names and values
//! in use. A group's or resource's tags are its own `tags`; a subscription's are a store document.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_domain::tags::{self, PatchOperation, PredefinedTags, Tags};
use mimic_store::documents::{Docs, PREDEFINED_TAGS, SUBSCRIPTION_TAGS};
use mimic_store::{ResourceFilter, Tx};
use mimic_wire::arm::Page;
use mimic_wire::tags as wire;

use crate::arm::core::api_versions::{self as v, RESOURCES};
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Reply};

const READ: &str = "Microsoft.Resources/tags/read";
const WRITE: &str = "Microsoft.Resources/tags/write";
const DELETE: &str = "Microsoft.Resources/tags/delete";
const NAMES_READ: &str = "Microsoft.Resources/subscriptions/tagNames/read";
const NAMES_WRITE: &str = "Microsoft.Resources/subscriptions/tagNames/write";
const NAMES_DELETE: &str = "Microsoft.Resources/subscriptions/tagNames/delete";
const VALUES_WRITE: &str = "Microsoft.Resources/subscriptions/tagNames/tagValues/write";
const VALUES_DELETE: &str = "Microsoft.Resources/subscriptions/tagNames/tagValues/delete";

/// The Tags API at a scope came with Microsoft.Resources 2019-10-01.
fn check_scope_version(ctx: &Ctx) -> ArmResult<()> {
    let since: Vec<&str> = RESOURCES.iter().copied().filter(|x| *x >= "2019-10-01").collect();
    v::check(&ctx.api_version, &since)
}

/// Where a scope's tags live.
enum Holder {
    Subscription(String),
    /// The resource group's or resource's store key.
    Resource(String),
}

fn holder(ctx: &Ctx, scope: &str) -> ArmResult<Holder> {
    let id = ResourceId::parse(scope).map_err(|_| ArmError::invalid_scope(scope))?;
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?.id.to_string();
    let Some(rg) = id.resource_group.as_deref() else {
        return Ok(Holder::Subscription(sub.to_ascii_lowercase()));
    };
    ctx.resource_group(&sub, rg)?;
    let key = resource_id::key(scope);
    if !id.types.is_empty() && ctx.resource(&key)?.is_none() {
        let name = id.name().unwrap_or_default();
        return Err(ArmError::resource_not_found(&id.full_type().unwrap_or_default(), name, rg));
    }
    Ok(Holder::Resource(key))
}

fn read_tags(tx: &mut dyn Tx, h: &Holder) -> ArmResult<Tags> {
    Ok(match h {
        Holder::Subscription(sub) => tx.get(SUBSCRIPTION_TAGS, sub)?.unwrap_or_default(),
        Holder::Resource(key) => tx.resource(key)?.and_then(|r| r.tags).unwrap_or_default(),
    })
}

fn write_tags(tx: &mut dyn Tx, h: &Holder, new: &Tags) -> ArmResult<()> {
    match h {
        Holder::Subscription(sub) => tx.put(SUBSCRIPTION_TAGS, sub, new, None)?,
        Holder::Resource(key) => {
            // Gone since the check (deleted meanwhile): nothing to tag.
            let Some(mut r) = tx.resource(key)? else { return Ok(()) };
            r.tags = Some(new.clone());
            r.changed = Utc::now();
            tx.put_resource(&r)?;
        }
    }
    Ok(())
}

fn render(scope: &str, t: Tags) -> wire::TagsResource {
    wire::TagsResource {
        id: format!("{}/providers/Microsoft.Resources/tags/default", scope.trim_end_matches('/')),
        name: "default",
        kind: "Microsoft.Resources/tags",
        properties: wire::TagsProperties { tags: Some(t) },
    }
}

/// `{scope}/providers/Microsoft.Resources/tags/default`.
pub fn at_scope(ctx: &Ctx, scope: &str) -> ArmResult<Reply> {
    check_scope_version(ctx)?;
    let h = holder(ctx, scope)?;
    let change = |f: &dyn Fn(&Tags) -> Tags| -> ArmResult<Tags> {
        ctx.state.store.write(|tx| {
            let new = f(&read_tags(tx, &h)?);
            write_tags(tx, &h, &new)?;
            Ok(new)
        })
    };
    let tags = match ctx.method {
        Method::GET => {
            ctx.authorize(READ, scope)?;
            ctx.state.store.read(|tx| read_tags(tx, &h))?
        }
        Method::PUT => {
            ctx.authorize(WRITE, scope)?;
            let body: wire::TagsWrite = ctx.json()?;
            let given = body.properties.and_then(|p| p.tags).unwrap_or_default();
            change(&|_| given.clone())?
        }
        Method::PATCH => {
            ctx.authorize(WRITE, scope)?;
            let body: wire::TagsPatch = ctx.json()?;
            let text = body.operation.unwrap_or_default();
            let op = PatchOperation::parse(&text).ok_or_else(|| ArmError::invalid_tags_operation(&text))?;
            let given = body.properties.and_then(|p| p.tags).unwrap_or_default();
            change(&|current| tags::patch(current, op, &given))?
        }
        Method::DELETE => {
            ctx.authorize(DELETE, scope)?;
            change(&|_| Tags::new())?;
            return Ok(Reply::status(StatusCode::OK));
        }
        _ => return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    };
    Ok(json_response(StatusCode::OK, &render(scope, tags)))
}

fn name_id(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/tagNames/{name}")
}

fn value_of(sub: &str, name: &str, value: &str, count: usize) -> wire::TagValue {
    wire::TagValue {
        id: format!("{}/tagValues/{value}", name_id(sub, name)),
        tag_value: value.to_string(),
        count: wire::TagCount { kind: "Total", value: count },
    }
}

/// The tags of every resource group and resource of the subscription.
fn tags_in_use(tx: &mut dyn Tx, sub: &str) -> ArmResult<Vec<Tags>> {
    let all = tx.resources(&ResourceFilter { subscription: sub, limit: 1_000_000, ..Default::default() })?;
    Ok(all.into_iter().filter_map(|r| r.tags).collect())
}

/// Names Azure keeps for itself (resources.json `Tags_CreateOrUpdate`).
fn reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["microsoft", "azure", "windows"].iter().any(|p| lower.starts_with(p))
}

/// `/subscriptions/{s}/tagNames`.
pub fn names(ctx: &Ctx, sub: &str) -> ArmResult<Reply> {
    v::check(&ctx.api_version, RESOURCES)?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(sub)?.id.to_string();
    ctx.authorize(NAMES_READ, &resource_id::subscription_scope(&sub))?;
    let (predefined, in_use) = ctx
        .state
        .store
        .read(|tx| Ok::<_, ArmError>((tx.get(PREDEFINED_TAGS, &sub.to_ascii_lowercase())?.unwrap_or_default(), tags_in_use(tx, &sub)?)))?;
    let value: Vec<wire::TagDetails> = tags::usage(&predefined, in_use.iter())
        .into_iter()
        .map(|u| wire::TagDetails {
            id: name_id(&sub, &u.name),
            tag_name: u.name.clone(),
            count: wire::TagCount { kind: "Total", value: u.count },
            values: u.values.iter().map(|(val, n)| value_of(&sub, &u.name, val, *n)).collect(),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// `/subscriptions/{s}/tagNames/{name}`: PUT adds a predefined name, DELETE removes one that no
/// resource uses and that has no predefined values left.
pub fn name(ctx: &Ctx, sub: &str, name: &str) -> ArmResult<Reply> {
    v::check(&ctx.api_version, RESOURCES)?;
    let sub = ctx.subscription(sub)?.id.to_string();
    let scope = resource_id::subscription_scope(&sub);
    let key = sub.to_ascii_lowercase();
    match ctx.method {
        Method::PUT => {
            ctx.authorize(NAMES_WRITE, &scope)?;
            if reserved(name) || name.chars().count() > 512 {
                return Err(ArmError::invalid_tag_name(name));
            }
            let created = ctx.state.store.write(|tx| {
                let mut pre: PredefinedTags = tx.get(PREDEFINED_TAGS, &key)?.unwrap_or_default();
                let created = pre.add_name(name);
                tx.put(PREDEFINED_TAGS, &key, &pre, None)?;
                Ok::<_, ArmError>(created)
            })?;
            let details = wire::TagDetails {
                id: name_id(&sub, name),
                tag_name: name.to_string(),
                count: wire::TagCount { kind: "Total", value: 0 },
                values: vec![],
            };
            Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &details))
        }
        Method::DELETE => {
            ctx.authorize(NAMES_DELETE, &scope)?;
            let removed = ctx.state.store.write(|tx| {
                let mut pre: PredefinedTags = tx.get(PREDEFINED_TAGS, &key)?.unwrap_or_default();
                if let Some(t) = pre.names.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
                    if !t.values.is_empty() {
                        return Err(ArmError::tag_name_has_values(name));
                    }
                }
                if tags_in_use(tx, &sub)?.iter().any(|t| t.keys().any(|k| k.eq_ignore_ascii_case(name))) {
                    return Err(ArmError::tag_name_in_use(name));
                }
                let removed = pre.remove_name(name);
                if removed {
                    tx.put(PREDEFINED_TAGS, &key, &pre, None)?;
                }
                Ok(removed)
            })?;
            Ok(Reply::status(if removed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// `/subscriptions/{s}/tagNames/{name}/tagValues/{value}`: PUT adds a predefined value (and its
/// name), DELETE removes one.
pub fn value(ctx: &Ctx, sub: &str, name: &str, value: &str) -> ArmResult<Reply> {
    v::check(&ctx.api_version, RESOURCES)?;
    let sub = ctx.subscription(sub)?.id.to_string();
    let scope = resource_id::subscription_scope(&sub);
    let key = sub.to_ascii_lowercase();
    match ctx.method {
        Method::PUT => {
            ctx.authorize(VALUES_WRITE, &scope)?;
            if reserved(name) {
                return Err(ArmError::invalid_tag_name(name));
            }
            let created = ctx.state.store.write(|tx| {
                let mut pre: PredefinedTags = tx.get(PREDEFINED_TAGS, &key)?.unwrap_or_default();
                let created = pre.add_value(name, value);
                tx.put(PREDEFINED_TAGS, &key, &pre, None)?;
                Ok::<_, ArmError>(created)
            })?;
            Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &value_of(&sub, name, value, 0)))
        }
        Method::DELETE => {
            ctx.authorize(VALUES_DELETE, &scope)?;
            let removed = ctx.state.store.write(|tx| {
                let mut pre: PredefinedTags = tx.get(PREDEFINED_TAGS, &key)?.unwrap_or_default();
                let removed = pre.remove_value(name, value);
                if removed {
                    tx.put(PREDEFINED_TAGS, &key, &pre, None)?;
                }
                Ok::<_, ArmError>(removed)
            })?;
            Ok(Reply::status(if removed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}
