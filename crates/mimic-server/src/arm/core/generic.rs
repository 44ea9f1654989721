//! Resources Mimic stores generically (docs/ARCHITECTURE.md "Contract"): any type under a resource group, kept
//! and returned as an ARM tracked resource with `provisioningState: Succeeded`, with the same
//! RBAC as every other call. Providers whose types need more than storage (network's NICs,
//! public IPs and virtual networks) pass their [`Rules`]; types no provider claims are served
//! here as they are.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use mimic_domain::patch::{self, Merge};
use mimic_domain::resource::{Resource, RESOURCE_GROUP_TYPE};
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::{ResourceFilter, Tx};
use mimic_wire::arm::{GenericResource, Page};
use mimic_wire::jsonnet::JsonNetError;
use serde_json::{json, Value};

use super::catalog::normalize_location;
use super::ctx::Ctx;
use super::endpoint::Endpoint;
use super::error::{ArmError, ArmResult};
use super::registry::{Provider, Registry};
use super::reply::{json_response, Reply};

/// What a provider adds to the generic store for its types, inside the write's transaction.
pub trait Rules {
    /// Before `r` is stored (created or replaced): fill in, check, update what it references.
    fn before_write(&self, _reg: &Registry, _tx: &mut dyn Tx, _r: &mut Resource, _existing: Option<&Resource>) -> ArmResult<()> {
        Ok(())
    }
    /// Before a direct DELETE of `r`: refuse it, or give back what it held.
    fn before_delete(&self, _reg: &Registry, _tx: &mut dyn Tx, _r: &Resource) -> ArmResult<()> {
        Ok(())
    }
}

/// No rules beyond storage.
pub struct Plain;
impl Rules for Plain {}

/// The provider of every namespace nobody else claims.
pub struct GenericProvider;

impl Provider for GenericProvider {
    fn namespace(&self) -> &'static str {
        "*"
    }
    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        serve(ctx, endpoint, &Plain)
    }
}

/// Serves a resource, a collection or an action from the generic store, with `rules`.
pub fn serve(ctx: &Ctx, endpoint: &Endpoint, rules: &dyn Rules) -> ArmResult<Reply> {
    match endpoint {
        Endpoint::Resource { id } => handle(ctx, id, rules),
        Endpoint::ResourceAction { id, action: name } => action(ctx, id, name),
        Endpoint::ResourceCollection { parent, namespace, resource_type } => list_collection(ctx, parent, namespace, resource_type),
        _ => Err(ArmError::not_found_route(&ctx.path)),
    }
}

/// `Namespace/type/child` of an id, and the type path below the namespace.
fn type_of(id: &ResourceId) -> ArmResult<(String, String)> {
    let full = id.full_type().ok_or_else(|| ArmError::not_found_route(&id.render()))?;
    let path = id.types.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join("/");
    Ok((full, path))
}

pub fn render(r: &Resource) -> GenericResource {
    GenericResource {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: r.resource_type.clone(),
        location: r.location.clone(),
        tags: r.tags.clone(),
        identity: r.identity.clone(),
        properties: Some(r.properties.clone()),
        extra: r.extra.clone(),
    }
}

/// Every stored resource of `full_type` in resource group `rg` of `sub` (for the providers'
/// `before_group_delete` hooks).
pub fn of_type_in_group(tx: &mut dyn Tx, sub: &str, rg: &str, full_type: &str) -> ArmResult<Vec<Resource>> {
    let type_key = full_type.to_ascii_lowercase();
    let rg_key = rg.to_ascii_lowercase();
    Ok(tx.resources(&ResourceFilter {
        subscription: sub,
        resource_group: Some(&rg_key),
        resource_type: Some(&type_key),
        limit: 1_000_000,
        ..Default::default()
    })?)
}

/// Deletes what lives under a key prefix: child resources and role assignments. (A resource
/// group's deletion first runs the providers' `before_group_delete` hooks.)
pub fn delete_contents(tx: &mut dyn Tx, key: &str) -> ArmResult<()> {
    tx.delete_resources_under(key)?;
    tx.delete_role_assignments_under(key)?;
    Ok(())
}

fn not_found(id: &ResourceId, full_type: &str) -> ArmError {
    ArmError::resource_not_found(full_type, id.name().unwrap_or_default(), id.resource_group.as_deref().unwrap_or_default())
}

pub fn handle(ctx: &Ctx, id: &ResourceId, rules: &dyn Rules) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    let Some(rg) = id.resource_group.as_deref() else {
        return Err(ArmError::not_found_route(&ctx.path));
    };
    let (full_type, type_path) = type_of(id)?;
    let ns = id.namespace.clone().unwrap_or_default();
    Registry::check_version(ctx, &ns, &type_path, None)?;
    let scope = id.render();
    let key = resource_id::key(&scope);
    let action = |verb: &str| format!("{full_type}/{verb}");
    match ctx.method {
        Method::GET => {
            ctx.authorize(&action("read"), &scope)?;
            ctx.resource_group(&sub.id.to_string(), rg)?;
            let r = ctx.resource(&key)?.ok_or_else(|| not_found(id, &full_type))?;
            Ok(json_response(StatusCode::OK, &render(&r)))
        }
        Method::PUT => {
            ctx.authorize(&action("write"), &scope)?;
            let body: GenericResource = ctx.json()?;
            put(ctx, id, &scope, &full_type, body, rules)
        }
        Method::PATCH => {
            ctx.authorize(&action("write"), &scope)?;
            let body: GenericResource = ctx.json()?;
            patch(ctx, id, &key, &full_type, body)
        }
        Method::DELETE => {
            ctx.authorize(&action("delete"), &scope)?;
            ctx.resource_group(&sub.id.to_string(), rg)?;
            let existed = ctx.state.store.write(|tx| {
                if let Some(r) = tx.resource(&key)? {
                    rules.before_delete(Registry::installed(), tx, &r)?;
                }
                let existed = tx.delete_resource(&key)?;
                delete_contents(tx, &key)?;
                Ok::<_, ArmError>(existed)
            })?;
            Ok(Reply::status(if existed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

fn put(ctx: &Ctx, id: &ResourceId, scope: &str, full_type: &str, body: GenericResource, rules: &dyn Rules) -> ArmResult<Reply> {
    let sub = id.subscription.clone().unwrap_or_default();
    let rg = id.resource_group.clone().unwrap_or_default();
    let top_level = id.types.len() == 1;
    let location = match body.location.as_deref() {
        Some(l) => Some(normalize_location(l).map_err(|_| ArmError::location_not_available_for_resource_type(l, full_type))?),
        None if top_level => {
            return Err(ArmError::location_required());
        }
        None => None,
    };
    let mut properties = body.properties.unwrap_or_else(|| json!({}));
    if !properties.is_object() {
        return Err(ArmError::invalid_request_content(&JsonNetError::requires_object(&properties, "JObject", "properties")));
    }
    properties["provisioningState"] = "Succeeded".into();
    let key = resource_id::key(scope);
    let now = Utc::now();
    let (r, created) = ctx.state.store.write(|tx| {
        let rg_key = resource_id::key(&resource_id::resource_group_id(&sub, &rg));
        if tx.resource(&rg_key)?.is_none() {
            return Err(ArmError::resource_group_not_found(&rg));
        }
        if !top_level {
            let parent = ResourceId { types: id.types[..id.types.len() - 1].to_vec(), ..id.clone() };
            if tx.resource(&resource_id::key(&parent.render()))?.is_none() {
                let (pt, _) = type_of(&parent)?;
                return Err(not_found(&parent, &pt));
            }
        }
        let existing = tx.resource(&key)?;
        let mut r = Resource {
            id: existing.as_ref().map(|e| e.id.clone()).unwrap_or_else(|| scope.to_string()),
            name: existing.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| id.name().unwrap_or_default().to_string()),
            resource_type: full_type.to_string(),
            location: location.clone(),
            tags: body.tags.clone(),
            properties: properties.clone(),
            identity: body.identity.clone(),
            extra: body.extra.clone(),
            created: existing.as_ref().map(|e| e.created).unwrap_or(now),
            changed: now,
        };
        rules.before_write(Registry::installed(), tx, &mut r, existing.as_ref())?;
        tx.put_resource(&r)?;
        Ok::<_, ArmError>((r, existing.is_none()))
    })?;
    Ok(json_response(if created && !create_answers_200(full_type) { StatusCode::CREATED } else { StatusCode::OK }, &render(&r)))
}

/// Resource types whose PUT answers 200 (or 202) even when it creates, per their OpenAPI files:
/// the SDKs refuse a 201 from them ("Operation returned an invalid status 'Created'").
fn create_answers_200(full_type: &str) -> bool {
    full_type.eq_ignore_ascii_case("Microsoft.Compute/disks")
}

fn patch(ctx: &Ctx, id: &ResourceId, key: &str, full_type: &str, body: GenericResource) -> ArmResult<Reply> {
    let r = ctx.state.store.write(|tx| {
        let mut r = tx.resource(key)?.ok_or_else(|| not_found(id, full_type))?;
        if let Some(t) = &body.tags {
            r.tags = Some(t.clone());
        }
        if let (Some(Value::Object(new)), Value::Object(old)) = (&body.properties, &mut r.properties) {
            patch::merge_members(old, new, Merge::TopLevel);
        }
        if body.identity.is_some() {
            r.identity = body.identity.clone();
        }
        patch::merge_members(&mut r.extra, &body.extra, Merge::TopLevel);
        r.changed = Utc::now();
        tx.put_resource(&r)?;
        Ok::<_, ArmError>(r)
    })?;
    Ok(json_response(StatusCode::OK, &render(&r)))
}

pub fn action(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    let (full_type, _) = type_of(id)?;
    if ctx.method == Method::GET {
        // A child collection: `.../{type}/{name}/{childType}`.
        let parent = id.clone();
        return list_children(ctx, &parent, action);
    }
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let scope = id.render();
    ctx.authorize(&format!("{full_type}/{action}/action"), &scope)?;
    ctx.resource_group(&sub.id.to_string(), id.resource_group.as_deref().unwrap_or_default())?;
    ctx.state.store.read(|tx| tx.resource(&resource_id::key(&scope)))?.ok_or_else(|| not_found(id, &full_type))?;
    Err(ArmError::unsupported_resource_operation(action, &full_type))
}

fn list_children(ctx: &Ctx, parent: &ResourceId, child_type: &str) -> ArmResult<Reply> {
    let (parent_type, _) = type_of(parent)?;
    let full = format!("{parent_type}/{child_type}");
    let scope = parent.render();
    ctx.authorize(&format!("{full}/read"), &scope)?;
    let prefix = resource_id::key(&scope);
    let sub = parent.subscription.clone().unwrap_or_default().to_ascii_lowercase();
    let full_key = full.to_ascii_lowercase();
    let items = ctx.state.store.read(|tx| {
        tx.resources(&ResourceFilter {
            subscription: &sub,
            resource_group: None,
            resource_type: Some(&full_key),
            after_key: Some(&prefix),
            limit: 1000,
            ..Default::default()
        })
    })?;
    let value: Vec<GenericResource> = items.iter().filter(|r| r.key().starts_with(&format!("{prefix}/"))).map(render).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// The resources of type `full_type` under `parent` (a subscription or resource group) that the
/// caller may read: all of them with read at the parent, else those readable one by one; a
/// caller who can read none in a resource group gets Azure's 403 for the listing itself.
pub fn readable_of_type(ctx: &Ctx, parent: &ResourceId, full_type: &str) -> ArmResult<Vec<Resource>> {
    let sub = ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let scope = parent.render();
    if let Some(rg) = &parent.resource_group {
        ctx.resource_group(&sub.id.to_string(), rg)?;
    }
    let read = format!("{full_type}/read");
    let whole = ctx.allowed(&read, &scope)?;
    let sub_key = sub.id.to_string();
    let type_key = full_type.to_ascii_lowercase();
    let rg_key = parent.resource_group.as_ref().map(|g| g.to_ascii_lowercase());
    let items = ctx.state.store.read(|tx| {
        tx.resources(&ResourceFilter {
            subscription: &sub_key,
            resource_group: rg_key.as_deref(),
            resource_type: Some(&type_key),
            limit: 100_000,
            ..Default::default()
        })
    })?;
    // A child collection (`{parent}/{type}`) lists the children of that parent only.
    let under = (!parent.types.is_empty()).then(|| format!("{}/", resource_id::key(&scope)));
    let mut value = Vec::new();
    for r in items {
        if under.as_deref().is_some_and(|p| !resource_id::key(&r.id).starts_with(p)) {
            continue;
        }
        if whole || ctx.allowed(&read, &r.id)? {
            value.push(r);
        }
    }
    if !whole && value.is_empty() && parent.resource_group.is_some() {
        ctx.authorize(&read, &scope)?;
    }
    Ok(value)
}

/// `GET .../providers/{ns}/{type}` under a subscription or resource group.
pub fn list_collection(ctx: &Ctx, parent: &ResourceId, namespace: &str, resource_type: &str) -> ArmResult<Reply> {
    ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, namespace, resource_type, None)?;
    let canonical = Registry::installed()
        .resource_type(namespace, resource_type)
        .map(|t| format!("{}/{}", Registry::installed().namespace(namespace).map(|p| p.namespace).unwrap_or(namespace), t.name))
        .unwrap_or_else(|| format!("{namespace}/{resource_type}"));
    let value: Vec<GenericResource> = readable_of_type(ctx, parent, &canonical)?.iter().map(render).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/resources`: every resource the caller may read.
pub fn list_all(ctx: &Ctx, sub: &str, rg: Option<&str>) -> ArmResult<Reply> {
    let s = ctx.subscription(sub)?;
    let sub = s.id.to_string();
    match rg {
        Some(rg) => {
            ctx.authorize_list(
                "Microsoft.Resources/subscriptions/resourceGroups/resources/read",
                &format!("/subscriptions/{sub}/resourceGroups/{rg}"),
            )?;
            ctx.resource_group(&sub, rg)?;
        }
        None => ctx.authorize_list("Microsoft.Resources/subscriptions/resources/read", &format!("/subscriptions/{sub}"))?,
    }
    let filter = ListFilter::parse(ctx.q("$filter").unwrap_or_default());
    let rg_key = rg.map(|g| g.to_ascii_lowercase()).or(filter.resource_group.clone());
    let rgt = RESOURCE_GROUP_TYPE.to_ascii_lowercase();
    let items = ctx.state.store.read(|tx| {
        tx.resources(&ResourceFilter {
            subscription: &sub,
            resource_group: rg_key.as_deref(),
            resource_type: filter.resource_type.as_deref(),
            exclude_type: Some(&rgt),
            limit: 100_000,
            ..Default::default()
        })
    })?;
    let expand = Expand::parse(ctx.q("$expand"));
    let mut value = Vec::new();
    for r in items.iter().filter(|r| filter.keeps(r)) {
        if ctx.allowed(&format!("{}/read", r.resource_type), &r.id)? {
            let mut item = render(r);
            expand.add(r, &mut item.extra);
            value.push(item);
        }
    }
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// Resources_List's `$expand`: `createdTime`, `changedTime` and `provisioningState` as top-level
/// properties of each resource (az `resource list` asks for all three); other names are ignored.
struct Expand {
    created: bool,
    changed: bool,
    provisioning: bool,
}

impl Expand {
    fn parse(q: Option<&str>) -> Self {
        let has = |name: &str| q.is_some_and(|q| q.split(',').any(|p| p.trim().eq_ignore_ascii_case(name)));
        Expand { created: has("createdTime"), changed: has("changedTime"), provisioning: has("provisioningState") }
    }

    fn add(&self, r: &Resource, out: &mut serde_json::Map<String, serde_json::Value>) {
        let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).into();
        if self.created {
            out.insert("createdTime".into(), time(r.created));
        }
        if self.changed {
            out.insert("changedTime".into(), time(r.changed));
        }
        if self.provisioning {
            let state = r.properties.get("provisioningState").and_then(serde_json::Value::as_str).unwrap_or("Succeeded");
            out.insert("provisioningState".into(), state.into());
        }
    }
}

/// Resources_List's `$filter`: `eq` clauses joined by `and` on `resourceGroup` (az `resource list
/// -g` sends it), `resourceType` (az `keyvault list`), `name`, `location`, `tagName` with an
/// optional `tagValue`; values compared as ARM compares them, case-insensitively. Other clauses
/// are not applied.
#[derive(Debug, Default, PartialEq)]
struct ListFilter {
    /// Lower-cased, as the store's keys.
    resource_group: Option<String>,
    /// Lower-cased, as the store's type key.
    resource_type: Option<String>,
    name: Option<String>,
    location: Option<String>,
    tag_name: Option<String>,
    tag_value: Option<String>,
}

impl ListFilter {
    fn parse(filter: &str) -> Self {
        let mut f = ListFilter::default();
        for clause in split_and(filter) {
            let Some((field, value)) = eq_clause(clause) else { continue };
            let slot = match field.to_ascii_lowercase().as_str() {
                "resourcegroup" => &mut f.resource_group,
                "resourcetype" => &mut f.resource_type,
                "name" => &mut f.name,
                "location" => &mut f.location,
                "tagname" => &mut f.tag_name,
                "tagvalue" => &mut f.tag_value,
                _ => continue,
            };
            *slot = Some(value);
        }
        f.resource_group = f.resource_group.map(|g| g.to_ascii_lowercase());
        f.resource_type = f.resource_type.map(|t| t.to_ascii_lowercase());
        f
    }

    /// Whether `r` passes the clauses the store's own filter does not apply.
    fn keeps(&self, r: &Resource) -> bool {
        let same =
            |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)));
        let tag = match &self.tag_name {
            None => true,
            Some(name) => r.tags.as_ref().is_some_and(|tags| {
                tags.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case(name)
                        && self.tag_value.as_deref().is_none_or(|want| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(want)))
                })
            }),
        };
        same(&self.name, Some(&r.name)) && same(&self.location, r.location.as_deref()) && tag
    }
}

/// The clauses of `a and b and c` (the keyword in any case, outside quotes).
fn split_and(filter: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = filter.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b' ' if !quoted && filter[i..].len() >= 5 && filter[i..i + 5].eq_ignore_ascii_case(" and ") => {
                out.push(&filter[start..i]);
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&filter[start..]);
    out
}

/// `field eq 'value'` (`''` inside the quotes is a quote).
fn eq_clause(clause: &str) -> Option<(&str, String)> {
    let (field, rest) = clause.trim().split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    let value = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    if !op.eq_ignore_ascii_case("eq") || value.replace("''", "").contains('\'') {
        return None;
    }
    Some((field, value.replace("''", "'")))
}

#[cfg(test)]
mod tests {
    use super::ListFilter;

    #[test]
    fn list_filters() {
        let f = ListFilter::parse("resourceType eq 'Microsoft.KeyVault/vaults'");
        assert_eq!(f.resource_type.as_deref(), Some("microsoft.keyvault/vaults"));
        let f = ListFilter::parse("resourceGroup eq 'My-RG' AND name eq 'it''s' and tagName eq 'env' and tagValue eq 'prod'");
        assert_eq!(f.resource_group.as_deref(), Some("my-rg"));
        assert_eq!(f.name.as_deref(), Some("it's"));
        assert_eq!((f.tag_name.as_deref(), f.tag_value.as_deref()), (Some("env"), Some("prod")));
        for other in ["tagName ne 'x'", "resourceType eq A/b", "resourceType ne 'A/b'", "", "name eq 'a' or name eq 'b'"] {
            assert_eq!(ListFilter::parse(other).resource_type, None, "{other}");
        }
        assert_eq!(ListFilter::parse("name eq 'a and b'").name.as_deref(), Some("a and b"), "the keyword inside quotes is text");
    }
}
