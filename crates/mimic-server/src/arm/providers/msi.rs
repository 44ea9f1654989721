//! Microsoft.ManagedIdentity: user-assigned identities (PUT, GET, PATCH, DELETE, list by
//! resource group and subscription; synchronous, not long-running) and
//! `SystemAssignedIdentities_GetByScope` (`{scope}/providers/Microsoft.ManagedIdentity/identities/default`).
//! Creating an identity creates its service principal in the directory (`servicePrincipalType:
//! ManagedIdentity`, `alternativeNames: ["isExplicit=True", <id>]`, docs/azure-behaviour.md §7) in the same
//! transaction; deleting it deletes the principal.
//!
//! Stored as a [`Resource`] whose `properties` are ARM's: `tenantId`, `principalId` (the service
//! principal's object id), `clientId` (its app id), and `isolationScope` when a client set it.
//!
//! Sources: azure-rest-api-specs specification/msi 2018-11-30 (paths, statuses, shapes), docs/azure-behaviour.md §2, seed 002
//! (`az identity create` output), docs/azure-behaviour.md §11.6 (az sends api-version 2025-05-31-preview).

use axum::http::{Method, StatusCode};
use chrono::Utc;
use mimic_domain::directory::{self, DirectoryObject};
use mimic_domain::identity::{self, VmIdentity, USER_ASSIGNED_IDENTITY_TYPE};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::Tx;
use mimic_wire::arm::Page;
use mimic_wire::jsonnet::JsonNetError;
use mimic_wire::msi as wire;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::arm::core::catalog::ResourceType;
use crate::arm::core::registry::Moving;
use crate::arm::core::{catalog, generic, json_response, ArmError, ArmResult, Ctx, Endpoint, Provider, Registry, Reply};

const NAMESPACE: &str = "Microsoft.ManagedIdentity";
const SYSTEM_IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/Identities";

pub struct ManagedIdentity;

impl Provider for ManagedIdentity {
    fn namespace(&self) -> &'static str {
        NAMESPACE
    }

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(OPERATIONS)
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "userAssignedIdentities", api_versions: API_VERSIONS },
            ResourceType { name: "Identities", api_versions: API_VERSIONS },
            ResourceType { name: "operations", api_versions: API_VERSIONS },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::ResourceCollection { parent, resource_type, .. } if eq(resource_type, "userAssignedIdentities") => list(ctx, parent),
            Endpoint::Resource { id } if is_user_assigned(id) => handle(ctx, id),
            Endpoint::Resource { id } if is_federated_credential(id) => generic::handle(ctx, id, &FederatedCredentials),
            Endpoint::ResourceAction { id, action } if is_user_assigned(id) && eq(action, "listAssociatedResources") => {
                list_associated_resources(ctx, id)
            }
            Endpoint::Resource { id } => match system_identity_scope(id) {
                Some(scope) => system_assigned_by_scope(ctx, &scope),
                None => generic::serve(ctx, endpoint, &generic::Plain),
            },
            _ => generic::serve(ctx, endpoint, &generic::Plain),
        }
    }

    /// The service principals of the group's user-assigned identities go with them.
    /// A moved identity keeps its principal, whose resource id (its alternative name, the
    /// tokens' `xms_mirid`) follows the new id; resources that use it are re-pointed by the move.
    fn on_move(&self, _reg: &Registry, tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        for m in moving.iter().filter(|m| m.is(USER_ASSIGNED_IDENTITY_TYPE)) {
            let p = |k: &str| m.resource.properties.get(k).and_then(Value::as_str).and_then(|s| s.parse::<Uuid>().ok());
            let (Some(tenant), Some(principal)) = (p("tenantId"), p("principalId")) else { continue };
            if let Some(DirectoryObject::ServicePrincipal(mut sp)) = tx.directory_object(tenant, principal)? {
                sp.set_managed_resource(&m.new_id);
                tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
            }
        }
        Ok(())
    }

    fn before_group_delete(&self, _reg: &Registry, tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
        delete_principals_in_group(tx, sub, rg)
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`
fn is_user_assigned(id: &ResourceId) -> bool {
    id.resource_group.is_some()
        && id.namespace.as_deref().is_some_and(|n| eq(n, NAMESPACE))
        && id.types.len() == 1
        && eq(&id.types[0].0, "userAssignedIdentities")
}

/// `{user-assigned identity}/federatedIdentityCredentials/{name}`
fn is_federated_credential(id: &ResourceId) -> bool {
    id.resource_group.is_some()
        && id.namespace.as_deref().is_some_and(|n| eq(n, NAMESPACE))
        && id.types.len() == 2
        && eq(&id.types[0].0, "userAssignedIdentities")
        && eq(&id.types[1].0, "federatedIdentityCredentials")
}

/// Entra's rules for an identity's federated identity credentials (`mimic_domain::federation`):
/// checked on every write, and the stored properties are the normalised ones (default
/// audience) that the token service matches against.
struct FederatedCredentials;

impl generic::Rules for FederatedCredentials {
    fn before_write(&self, _reg: &Registry, tx: &mut dyn Tx, r: &mut Resource, _existing: Option<&Resource>) -> ArmResult<()> {
        use mimic_domain::federation::{self, FederatedCredential};
        let new =
            FederatedCredential::from_arm_properties(&r.name, &r.properties).map_err(|e| ArmError::invalid_federated_credential(&e))?;
        let identity = r.id.rsplitn(3, '/').nth(2).unwrap_or_default().to_string();
        let existing = crate::federation::user_assigned_credentials(tx, &identity)?;
        federation::check_set(&existing, &new).map_err(|e| ArmError::invalid_federated_credential(&e))?;
        let mut props = Map::new();
        props.insert("issuer".into(), new.issuer.clone().into());
        if let Some(s) = &new.subject {
            props.insert("subject".into(), s.clone().into());
        }
        props.insert("audiences".into(), json!(new.audiences));
        if let Some(e) = &new.claims_matching_expression {
            props.insert("claimsMatchingExpression".into(), json!(e));
        }
        r.properties = Value::Object(props);
        Ok(())
    }
}

/// The scope of `{scope}/providers/Microsoft.ManagedIdentity/identities/default`, if `id` is one.
fn system_identity_scope(id: &ResourceId) -> Option<ResourceId> {
    let n = id.types.len();
    let last_is_default = n >= 1 && eq(&id.types[n - 1].0, "identities") && eq(&id.types[n - 1].1, "default");
    if !last_is_default {
        return None;
    }
    if n == 1 && id.namespace.as_deref().is_some_and(|ns| eq(ns, NAMESPACE)) {
        // A subscription or resource group scope.
        return Some(ResourceId { namespace: None, types: vec![], ..id.clone() });
    }
    if n >= 3 && eq(&id.types[n - 2].0, "providers") && eq(&id.types[n - 2].1, NAMESPACE) {
        return Some(ResourceId { types: id.types[..n - 2].to_vec(), ..id.clone() });
    }
    None
}

fn not_found(id: &ResourceId) -> ArmError {
    ArmError::resource_not_found(
        USER_ASSIGNED_IDENTITY_TYPE,
        id.name().unwrap_or_default(),
        id.resource_group.as_deref().unwrap_or_default(),
    )
}

/// Name rule of docs/azure-behaviour.md §2 (message [INFERRED]: Azure's exact text was not found).
fn check_name(name: &str) -> ArmResult<()> {
    if identity::valid_user_assigned_identity_name(name) {
        return Ok(());
    }
    Err(ArmError::invalid_identity_name(name))
}

fn render(ctx: &Ctx, r: &Resource) -> wire::UserAssignedIdentity {
    let prop = |k: &str| r.properties.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (tenant, principal, client) = (prop("tenantId"), prop("principalId"), prop("clientId"));
    let location = r.location.clone().unwrap_or_default();
    // The oldest api-version's answers carried the credentials URL (seed 002 output).
    let client_secret_url =
        ctx.api_version.eq_ignore_ascii_case("2015-08-31-preview").then(|| credentials_url(&location, &r.id, &tenant, &principal, &client));
    wire::UserAssignedIdentity {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: USER_ASSIGNED_IDENTITY_TYPE,
        location,
        tags: r.tags.clone().unwrap_or_default(),
        properties: wire::UserAssignedIdentityProperties {
            tenant_id: tenant,
            principal_id: principal,
            client_id: client,
            client_secret_url,
            isolation_scope: r.properties.get("isolationScope").and_then(Value::as_str).map(str::to_string),
        },
    }
}

fn credentials_url(location: &str, id: &str, tenant: &str, principal: &str, client: &str) -> String {
    let id = id.replacen("/resourceGroups/", "/resourcegroups/", 1);
    format!("https://control-{location}.identity.azure.net{id}/credentials?tid={tenant}&oid={principal}&aid={client}")
}

/// `GET|PUT|PATCH|DELETE .../userAssignedIdentities/{name}`
fn handle(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "userAssignedIdentities", None)?;
    let scope = id.render();
    let key = resource_id::key(&scope);
    let rg = id.resource_group.clone().unwrap_or_default();
    let sub_id = sub.id.to_string();
    let action = |verb: &str| format!("{USER_ASSIGNED_IDENTITY_TYPE}/{verb}");
    match ctx.method {
        Method::GET => {
            ctx.authorize(&action("read"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            let r = ctx.resource(&key)?.ok_or_else(|| not_found(id))?;
            Ok(json_response(StatusCode::OK, &render(ctx, &r)))
        }
        Method::PUT => {
            ctx.authorize(&action("write"), &scope)?;
            check_name(id.name().unwrap_or_default())?;
            let body: wire::IdentityWrite = ctx.json()?;
            let l = body.location.clone().filter(|l| !l.is_empty()).ok_or_else(ArmError::location_required)?;
            let location = catalog::normalize_location(&l)
                .map_err(|_| ArmError::location_not_available_for_resource_type(&l, USER_ASSIGNED_IDENTITY_TYPE))?;
            let isolation = isolation_scope(&body)?;
            let now = Utc::now();
            let (r, created) = ctx.state.store.write(|tx| {
                if tx.resource(&resource_id::key(&resource_id::resource_group_id(&sub_id, &rg)))?.is_none() {
                    return Err(ArmError::resource_group_not_found(&rg));
                }
                let existing = tx.resource(&key)?;
                let r = match existing.clone() {
                    Some(mut e) => {
                        if e.location.as_deref() != Some(location.as_str()) {
                            return Err(ArmError::invalid_resource_location(
                                &e.name,
                                e.location.as_deref().unwrap_or_default(),
                                &rg,
                                &location,
                            ));
                        }
                        e.tags = body.tags.clone();
                        set_isolation(&mut e.properties, &isolation);
                        e.changed = now;
                        e
                    }
                    None => {
                        let name = id.name().unwrap_or_default().to_string();
                        let sp = directory::new_managed_identity_principal(sub.tenant_id, &scope, &name, true, now);
                        // A resource's `properties` is its ARM body, kept as JSON (Resource).
                        let mut properties = json!({
                            "tenantId": sub.tenant_id.to_string(), "principalId": sp.id.to_string(), "clientId": sp.app_id.to_string(),
                        });
                        set_isolation(&mut properties, &isolation);
                        tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
                        Resource {
                            id: scope.clone(),
                            name,
                            resource_type: USER_ASSIGNED_IDENTITY_TYPE.into(),
                            location: Some(location.clone()),
                            tags: body.tags.clone(),
                            properties,
                            identity: None,
                            extra: Map::new(),
                            created: now,
                            changed: now,
                        }
                    }
                };
                tx.put_resource(&r)?;
                Ok::<_, ArmError>((r, existing.is_none()))
            })?;
            Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &render(ctx, &r)))
        }
        Method::PATCH => {
            ctx.authorize(&action("write"), &scope)?;
            let body: wire::IdentityWrite = ctx.json()?;
            let isolation = isolation_scope(&body)?;
            let r = ctx.state.store.write(|tx| {
                if tx.resource(&resource_id::key(&resource_id::resource_group_id(&sub_id, &rg)))?.is_none() {
                    return Err(ArmError::resource_group_not_found(&rg));
                }
                let mut r = tx.resource(&key)?.ok_or_else(|| not_found(id))?;
                if let Some(t) = &body.tags {
                    r.tags = Some(t.clone());
                }
                set_isolation(&mut r.properties, &isolation);
                r.changed = Utc::now();
                tx.put_resource(&r)?;
                Ok::<_, ArmError>(r)
            })?;
            Ok(json_response(StatusCode::OK, &render(ctx, &r)))
        }
        Method::DELETE => {
            ctx.authorize(&action("delete"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            let existed = ctx.state.store.write(|tx| {
                let Some(r) = tx.resource(&key)? else { return Ok::<_, ArmError>(false) };
                delete_principal(tx, &r)?;
                tx.delete_resource(&key)?;
                generic::delete_contents(tx, &key)?;
                Ok(true)
            })?;
            // VMs that reference it keep the reference (docs/azure-behaviour.md §2 [INFERRED]).
            Ok(Reply::status(if existed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// `properties.isolationScope` (2024-11-30+: `None` | `Regional`), if the body sets it.
fn isolation_scope(body: &wire::IdentityWrite) -> ArmResult<Option<String>> {
    let Some(v) = body.properties.as_ref().and_then(|p| p.get("isolationScope")).filter(|v| !v.is_null()) else { return Ok(None) };
    let s = v.as_str().unwrap_or_default();
    ["None", "Regional"]
        .into_iter()
        .find(|c| eq(c, s))
        .map(|c| Some(c.to_string()))
        .ok_or_else(|| ArmError::invalid_request_content(&JsonNetError::convert(v, "IsolationScope", "properties.isolationScope")))
}

fn set_isolation(properties: &mut Value, isolation: &Option<String>) {
    if let (Some(s), Value::Object(p)) = (isolation, properties) {
        p.insert("isolationScope".into(), s.clone().into());
    }
}

fn delete_principal(tx: &mut dyn Tx, r: &Resource) -> ArmResult<()> {
    let uuid = |k: &str| r.properties.get(k).and_then(Value::as_str).and_then(|s| s.parse::<Uuid>().ok());
    if let (Some(tenant), Some(principal)) = (uuid("tenantId"), uuid("principalId")) {
        tx.delete_directory_object(tenant, principal)?;
    }
    Ok(())
}

/// Before resource group `rg` is deleted: the service principals of its user-assigned
/// identities go too.
fn delete_principals_in_group(tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
    let uais = generic::of_type_in_group(tx, sub, rg, USER_ASSIGNED_IDENTITY_TYPE)?;
    for r in &uais {
        delete_principal(tx, r)?;
    }
    Ok(())
}

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities`
fn list(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "userAssignedIdentities", None)?;
    let value: Vec<_> = generic::readable_of_type(ctx, parent, USER_ASSIGNED_IDENTITY_TYPE)?.iter().map(|r| render(ctx, r)).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// `GET {scope}/providers/Microsoft.ManagedIdentity/identities/default`: the system-assigned
/// identity of the resource at `scope` (SystemAssignedIdentities_GetByScope).
fn system_assigned_by_scope(ctx: &Ctx, scope_id: &ResourceId) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(scope_id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "Identities", None)?;
    let scope = scope_id.render();
    ctx.authorize("Microsoft.ManagedIdentity/identities/read", &scope)?;
    let missing = || ArmError::system_identity_not_found(&scope);
    let found = ctx.state.store.read(|tx| {
        let Some(r) = tx.resource(&resource_id::key(&scope))? else { return Ok::<_, ArmError>(None) };
        let Some(s) = VmIdentity::from_stored(r.identity.as_ref()).system else { return Ok(None) };
        let client = match tx.directory_object(s.tenant_id, s.principal_id)? {
            Some(DirectoryObject::ServicePrincipal(sp)) => sp.app_id,
            _ => return Ok(None),
        };
        Ok(Some((r, s, client)))
    })?;
    let (r, s, client) = match found {
        Some(f) => f,
        None if scope_id.types.is_empty() => {
            if let Some(rg) = &scope_id.resource_group {
                ctx.resource_group(&sub.id.to_string(), rg)?;
            }
            return Err(missing());
        }
        None => return Err(missing()),
    };
    let location = r.location.clone().unwrap_or_default();
    let (tenant, principal, client) = (s.tenant_id.to_string(), s.principal_id.to_string(), client.to_string());
    Ok(json_response(
        StatusCode::OK,
        &wire::SystemAssignedIdentity {
            id: format!("{}/providers/{NAMESPACE}/identities/default", r.id),
            name: "default",
            kind: SYSTEM_IDENTITY_TYPE,
            location: location.clone(),
            tags: r.tags.clone(),
            properties: wire::SystemAssignedIdentityProperties {
                client_secret_url: credentials_url(&location, &r.id, &tenant, &principal, &client),
                tenant_id: tenant,
                principal_id: principal,
                client_id: client,
            },
        },
    ))
}

/// `POST .../userAssignedIdentities/{name}/listAssociatedResources` (2021-09-30-preview and
/// 2022-01-31-preview; `az identity list-resources`): the resources of the identity's subscription
/// that the identity is attached to and the caller may read, by name, with `$filter` (one of
/// `contains(name, '…')`, `name eq '…'`, `type eq '…'`, `resourceGroup eq '…'`), `$orderby`
/// (`name asc|desc`), `$skip` and `$top`; `totalCount` counts the filtered set before paging.
fn list_associated_resources(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "userAssignedIdentities", None)?;
    // POST as the spec has it; GET for the pages after the first, as the SDKs follow `nextLink`.
    if ctx.method != Method::POST && ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let scope = id.render();
    ctx.authorize(&format!("{USER_ASSIGNED_IDENTITY_TYPE}/listAssociatedResources/action"), &scope)?;
    ctx.resource(&resource_id::key(&scope))?.ok_or_else(|| not_found(id))?;
    let filter = associated_filter(ctx.q("$filter"))?;
    let descending = match ctx.q("$orderby").map(|o| o.trim().to_ascii_lowercase()) {
        None => false,
        Some(o) if o == "name" || o == "name asc" => false,
        Some(o) if o == "name desc" => true,
        Some(o) => return Err(ArmError::invalid_order_by(&o)),
    };
    let number = |name: &str| -> ArmResult<Option<usize>> {
        ctx.q(name).map(|v| v.parse::<usize>().map_err(|_| ArmError::invalid_paging_parameter(name, v))).transpose()
    };
    let (skip, top) = (number("$skip")?.unwrap_or(0), number("$top")?.unwrap_or(usize::MAX));
    let offset = match ctx.q("$skiptoken") {
        Some(t) => skiptoken::decode(t).ok_or_else(|| ArmError::invalid_paging_parameter("$skiptoken", t))?,
        None => 0,
    };
    let sub_id = sub.id.to_string();
    let all = ctx
        .state
        .store
        .read(|tx| tx.resources(&mimic_store::ResourceFilter { subscription: &sub_id, limit: usize::MAX >> 1, ..Default::default() }))?;
    let mine = scope.to_ascii_lowercase();
    let mut found = Vec::new();
    for r in all {
        let attached = r.identity.as_ref().and_then(|i| i.get("userAssignedIdentities")).and_then(Value::as_object);
        if !attached.is_some_and(|m| m.keys().any(|k| k.to_ascii_lowercase() == mine)) {
            continue;
        }
        let parsed = r.parsed_id();
        let rg = parsed.as_ref().and_then(|p| p.resource_group.clone()).unwrap_or_default();
        let item = wire::AssociatedResource {
            id: r.id.clone(),
            name: r.name.clone(),
            kind: r.resource_type.to_ascii_lowercase(),
            resource_group: rg,
            subscription_id: sub_id.clone(),
            subscription_display_name: sub.display_name.clone(),
        };
        if filter.matches(&item) && ctx.allowed(&format!("{}/read", r.resource_type), &r.id)? {
            found.push(item);
        }
    }
    found.sort_by_key(|a| a.name.to_ascii_lowercase());
    if descending {
        found.reverse();
    }
    let total_count = found.len();
    let window: Vec<_> = found.into_iter().skip(skip).take(top).collect();
    let more = window.len() > offset.saturating_add(skiptoken::PAGE);
    let value = window.into_iter().skip(offset).take(skiptoken::PAGE).collect();
    let next_link = more.then(|| {
        let mut q: Vec<(String, String)> = ctx.query.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken")).cloned().collect();
        q.push(("$skiptoken".into(), skiptoken::encode(offset + skiptoken::PAGE)));
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish();
        format!("{}{}?{query}", ctx.arm_url(), ctx.path)
    });
    Ok(json_response(StatusCode::OK, &wire::AssociatedResources { total_count, value, next_link }))
}

/// The paging of `listAssociatedResources`, as Azure Resource Graph pages it: at most [`PAGE`]
/// rows, then a `nextLink` whose `$skiptoken` is base64 JSON naming the rows to skip (the spec's
/// example token reads `{"$id":"1","MaxRows":2,"RowsToSkip":2,...}`).
mod skiptoken {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    pub const PAGE: usize = 50;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Token {
        #[serde(rename = "$id")]
        id: String,
        #[serde(rename = "MaxRows")]
        max_rows: usize,
        #[serde(rename = "RowsToSkip")]
        rows_to_skip: usize,
    }

    pub fn encode(rows_to_skip: usize) -> String {
        let t = Token { id: "1".into(), max_rows: PAGE, rows_to_skip };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default())
    }

    /// The rows to skip, if `t` is a token of ours (bounded: at most 256 characters).
    pub fn decode(t: &str) -> Option<usize> {
        if t.len() > 256 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok()?;
        serde_json::from_slice::<Token>(&bytes).ok().map(|t| t.rows_to_skip)
    }

    #[cfg(test)]
    #[test]
    fn round_trip() {
        assert_eq!(decode(&encode(150)), Some(150));
        assert_eq!(decode("not-a-token"), None);
        assert_eq!(decode(&"A".repeat(1000)), None);
    }
}

/// The one clause `listAssociatedResources` filters by.
enum AssociatedFilter {
    All,
    NameContains(String),
    Equals(&'static str, String),
}

impl AssociatedFilter {
    fn matches(&self, r: &wire::AssociatedResource) -> bool {
        match self {
            AssociatedFilter::All => true,
            AssociatedFilter::NameContains(s) => r.name.to_ascii_lowercase().contains(s),
            AssociatedFilter::Equals(field, v) => {
                let have = match *field {
                    "name" => &r.name,
                    "type" => &r.kind,
                    _ => &r.resource_group,
                };
                have.eq_ignore_ascii_case(v)
            }
        }
    }
}

fn associated_filter(f: Option<&str>) -> ArmResult<AssociatedFilter> {
    let Some(f) = f.map(str::trim).filter(|f| !f.is_empty()) else { return Ok(AssociatedFilter::All) };
    let bad = || ArmError::invalid_filter(f);
    let quoted = |s: &str| -> ArmResult<String> {
        let s = s.trim();
        s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).map(str::to_string).ok_or_else(bad)
    };
    if let Some(inner) = f.strip_prefix("contains(").and_then(|r| r.strip_suffix(')')) {
        let (field, value) = inner.split_once(',').ok_or_else(bad)?;
        if !field.trim().eq_ignore_ascii_case("name") {
            return Err(bad());
        }
        return Ok(AssociatedFilter::NameContains(quoted(value)?.to_ascii_lowercase()));
    }
    let (field, value) = f.split_once(" eq ").ok_or_else(bad)?;
    let field = match field.trim().to_ascii_lowercase().as_str() {
        "name" => "name",
        "type" => "type",
        "resourcegroup" => "resourceGroup",
        _ => return Err(bad()),
    };
    Ok(AssociatedFilter::Equals(field, quoted(value)?))
}

const API_VERSIONS: &[&str] = &[
    "2025-05-31-preview",
    "2025-01-31-preview",
    "2024-11-30",
    "2023-07-31-preview",
    "2023-01-31",
    "2022-01-31-preview",
    "2021-09-30-preview",
    "2018-11-30",
    "2015-08-31-preview",
];

/// `GET /providers/Microsoft.ManagedIdentity/operations`: the actions this provider checks, with
/// Azure's texts (ManagedIdentity.json 2023-01-31 example `MsiOperationsList`; the others from
/// learn.microsoft.com "Azure resource provider operations", Microsoft.ManagedIdentity).
const OPERATIONS: catalog::Operations = catalog::Operations { provider: "Managed Service Identity", origin: None, entries: MSI_OPERATIONS };

const UAI: &str = "User Assigned Identities";

static MSI_OPERATIONS: &[catalog::Operation] = &[
    catalog::op(
        "Microsoft.ManagedIdentity/register/action",
        "Register",
        "Register Subscription for Managed Identity",
        "Registers the subscription for the managed identity resource provider",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/operations/read",
        "Operations",
        "List Operations",
        "Lists operations available on Microsoft.ManagedIdentity resource provider",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/identities/read",
        "Managed Identities",
        "Get System Assigned Identity",
        "Gets an existing system assigned identity",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        UAI,
        "Get User Assigned Identity",
        "Gets an existing user assigned identity",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/write",
        UAI,
        "Create/Update User Assigned Identity",
        "Creates a new user assigned identity or updates the tags associated with an existing user assigned identity",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
        UAI,
        "Delete User Assigned Identity",
        "Deletes an existing user assigned identity",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
        UAI,
        "Assign User Assigned Identity",
        "RBAC action for assigning an existing user assigned identity to a resource",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action",
        UAI,
        "List Associated Resources",
        "Lists all associated resources for this identity",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
        "Federated Identity Credentials",
        "Get Federated Identity Credential",
        "Get or list Federated Identity Credentials",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
        "Federated Identity Credentials",
        "Create/Update Federated Identity Credential",
        "Add or update a Federated Identity Credential",
    ),
    catalog::op(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
        "Federated Identity Credentials",
        "Delete Federated Identity Credential",
        "Delete a Federated Identity Credential",
    ),
];
