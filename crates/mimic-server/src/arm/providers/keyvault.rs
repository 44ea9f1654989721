//! Microsoft.KeyVault: vaults in ARM (PUT, GET, PATCH, DELETE, lists by resource group and
//! subscription; synchronous: a PUT answers 200 with `provisioningState: Succeeded`, which
//! azure-mgmt-keyvault's `begin_create_or_update` poller takes as done), access policy updates
//! (`.../accessPolicies/{add|replace|remove}`), `checkNameAvailability`, and soft delete: a
//! deleted vault is kept (`deletedVaults`, by location) until purged or recovered
//! (`properties.createMode: recover`), and its name stays taken meanwhile.
//!
//! The contract the Key Vault data plane relies on: a live vault is a [`Resource`] of type
//! `Microsoft.KeyVault/vaults` whose `properties` read as [`wire::VaultProperties`], and the
//! store document `KEYVAULT_NAME` under its lower-cased name points at its resource id with the
//! `instance` its data is filed under. A recovered vault gets its old instance back; a new one
//! (a purged name made anew included) gets a new one. Vault names are global: the name index
//! spans every subscription and tenant.
//!
//! Sources: azure-rest-api-specs specification/keyvault/resource-manager/Microsoft.KeyVault
//! (stable/2024-11-01/keyvault.json and the KeyVault/examples/2026-02-01 set: createVault*,
//! deleteVault (200/204), purgeDeletedVault (200/202 + Location), listDeletedVaults,
//! checkVaultNameAvailability; examples/2025-05-01/updateAccessPoliciesAdd.json),
//! https://github.com/Azure/azure-rest-api-specs/tree/main/specification/keyvault/resource-manager;
//! azure-cli 2.91 `command_modules/keyvault/custom.py` (what az sends: `create_vault`,
//! `set_policy`/`delete_policy` as GET + PUT of the whole vault, `recover_vault`,
//! `purge_vault_or_hsm`, `list_deleted_vault_or_hsm` also listing `deletedManagedHSMs`);
//! docs/azure-behaviour.md §13 for the errors.

use axum::http::{header, HeaderValue, Method, StatusCode};
use chrono::{DateTime, SecondsFormat, Utc};
use mimic_domain::keyvault::{
    self as kv, DeletedVault, VaultName, ACCESS_POLICY_TYPE, DEFAULT_RETENTION_DAYS, DELETED_VAULT_TYPE, RETENTION_DAYS, VAULT_TYPE,
};
use mimic_domain::patch::{self, Merge};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::documents::{Docs, KEYVAULT_DELETED, KEYVAULT_DELETED_IN, KEYVAULT_NAME};
use mimic_store::Tx;
use mimic_wire::arm::{CheckNameAvailabilityResult, Page};
use mimic_wire::keyvault as wire;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::arm::core::catalog::ResourceType;
use crate::arm::core::error::keyvault::{vault_in_use_message, vault_name_invalid_message};
use crate::arm::core::registry::Moving;
use crate::arm::core::{catalog, generic, json_response, operations, ArmError, ArmResult, Ctx, Endpoint, Provider, Registry, Reply};

const NAMESPACE: &str = "Microsoft.KeyVault";

pub struct KeyVault;

impl Provider for KeyVault {
    fn namespace(&self) -> &'static str {
        NAMESPACE
    }

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(OPERATIONS)
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "vaults", api_versions: API_VERSIONS },
            ResourceType { name: "vaults/accessPolicies", api_versions: API_VERSIONS },
            ResourceType { name: "deletedVaults", api_versions: API_VERSIONS },
            ResourceType { name: "locations", api_versions: API_VERSIONS },
            ResourceType { name: "locations/deletedVaults", api_versions: API_VERSIONS },
            ResourceType { name: "checkNameAvailability", api_versions: API_VERSIONS },
            ResourceType { name: "operations", api_versions: API_VERSIONS },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::ResourceCollection { parent, resource_type, .. } if eq(resource_type, "vaults") => list(ctx, parent),
            Endpoint::ResourceCollection { parent, resource_type, .. }
                if eq(resource_type, "deletedVaults") && parent.resource_group.is_none() =>
            {
                list_deleted(ctx, parent)
            }
            // az `keyvault list-deleted` lists managed HSMs too; Mimic has none.
            Endpoint::ResourceCollection { parent, resource_type, .. }
                if eq(resource_type, "deletedManagedHSMs") && parent.resource_group.is_none() =>
            {
                ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
                Registry::check_version(ctx, NAMESPACE, "deletedManagedHSMs", None)?;
                Ok(json_response(StatusCode::OK, &Page::<Value> { value: vec![], next_link: None }))
            }
            Endpoint::ResourceCollection { parent, resource_type, .. }
                if eq(resource_type, "checkNameAvailability") && parent.resource_group.is_none() =>
            {
                check_name_availability(ctx, parent)
            }
            Endpoint::Resource { id } if is_vault(id) => vault(ctx, id),
            Endpoint::Resource { id } if is_access_policy(id) => access_policy(ctx, id),
            Endpoint::Resource { id } if is_deleted_vault(id) => get_deleted(ctx, id),
            Endpoint::ResourceAction { id, action } if is_deleted_vault(id) && eq(action, "purge") => purge(ctx, id),
            _ => generic::serve(ctx, endpoint, &generic::Plain),
        }
    }

    /// A deleted resource group's vaults are soft-deleted (or gone, without soft delete), as a
    /// DELETE of each would leave them.
    /// Not movable in Mimic yet: the vault name index points at its id.
    fn check_move(&self, _reg: &Registry, _tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        Moving::refuse(moving, &["Microsoft.KeyVault/vaults"])
    }

    fn before_group_delete(&self, _reg: &Registry, tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
        let now = Utc::now();
        for r in generic::of_type_in_group(tx, sub, rg, VAULT_TYPE)? {
            soft_delete(tx, &r, now)?;
        }
        Ok(())
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn is_keyvault(id: &ResourceId) -> bool {
    id.namespace.as_deref().is_some_and(|n| eq(n, NAMESPACE))
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}`
fn is_vault(id: &ResourceId) -> bool {
    id.resource_group.is_some() && is_keyvault(id) && id.types.len() == 1 && eq(&id.types[0].0, "vaults")
}

/// `.../vaults/{name}/accessPolicies/{add|replace|remove}`
fn is_access_policy(id: &ResourceId) -> bool {
    id.resource_group.is_some()
        && is_keyvault(id)
        && id.types.len() == 2
        && eq(&id.types[0].0, "vaults")
        && eq(&id.types[1].0, "accessPolicies")
}

/// `/subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{name}`
fn is_deleted_vault(id: &ResourceId) -> bool {
    id.resource_group.is_none()
        && is_keyvault(id)
        && id.types.len() == 2
        && eq(&id.types[0].0, "locations")
        && eq(&id.types[1].0, "deletedVaults")
}

fn not_found(id: &ResourceId) -> ArmError {
    ArmError::resource_not_found(VAULT_TYPE, id.name().unwrap_or_default(), id.resource_group.as_deref().unwrap_or_default())
}

fn render(r: &Resource) -> wire::Vault {
    wire::Vault {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: VAULT_TYPE,
        location: r.location.clone().unwrap_or_default(),
        tags: r.tags.clone().unwrap_or_default(),
        properties: r.properties.clone(),
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn deleted_id(sub: &str, location: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/providers/{NAMESPACE}/locations/{location}/deletedVaults/{name}")
}

fn render_deleted(d: &DeletedVault) -> wire::DeletedVault {
    let sub = d.resource_id.split('/').nth(2).unwrap_or(&d.subscription);
    wire::DeletedVault {
        id: deleted_id(sub, &d.location, &d.name),
        name: d.name.clone(),
        kind: DELETED_VAULT_TYPE,
        properties: wire::DeletedVaultProperties {
            vault_id: d.resource_id.clone(),
            location: d.location.clone(),
            deletion_date: iso(d.deletion_date),
            scheduled_purge_date: iso(d.scheduled_purge_date),
            tags: d.tags.clone(),
            purge_protection_enabled: d.purge_protected(),
        },
    }
}

/// Whether the caller's api-version makes Azure RBAC the default for a new vault: from
/// 2026-02-01 `enableRbacAuthorization` defaults to true (az 2.91 `keyvault create` help: "If
/// null or not specified, the vault is created with the default value of true"), before it to false.
fn rbac_by_default(api_version: &str) -> bool {
    api_version.get(..10).is_some_and(|d| d >= "2026-02-01")
}

/// A member that must be a boolean when present (Json.NET's conversion error otherwise).
fn bool_member(p: &Map<String, Value>, name: &str) -> ArmResult<Option<bool>> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ArmError::vault_invalid_value(name)),
    }
}

/// The stored `properties` of a vault written with `body` (the PUT's properties, or the
/// existing ones merged with a PATCH's): checked, with Azure's defaults and read-only members.
fn normalize(ctx: &Ctx, name: &str, tenant: Uuid, body: &Value, existing: Option<&Value>, creating: bool) -> ArmResult<Value> {
    let Value::Object(src) = body else { return Err(ArmError::vault_invalid_value("properties")) };
    let mut p = src.clone();
    p.remove("createMode");
    // Read-only members come from Mimic, never from the body.
    for ro in ["vaultUri", "provisioningState", "hsmPoolResourceId", "privateEndpointConnections"] {
        p.remove(ro);
    }
    // sku {family: A, name: standard|premium}
    let sku = match p.get("sku") {
        Some(Value::Object(s)) => {
            let sku_name = s.get("name").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
            if sku_name != "standard" && sku_name != "premium" {
                return Err(ArmError::vault_invalid_value("sku.name"));
            }
            json!({"family": "A", "name": sku_name})
        }
        _ => return Err(ArmError::vault_invalid_value("sku")),
    };
    p.insert("sku".into(), sku);
    // tenantId: the subscription's tenant.
    let tenant_ok = p.get("tenantId").and_then(Value::as_str).and_then(|t| t.parse::<Uuid>().ok()) == Some(tenant);
    if !tenant_ok {
        return Err(ArmError::vault_invalid_value("tenantId"));
    }
    p.insert("tenantId".into(), tenant.to_string().into());
    // accessPolicies: typed as the data plane reads them; kept as sent otherwise.
    let policies: Vec<wire::AccessPolicyEntry> = match p.get("accessPolicies") {
        None | Some(Value::Null) => vec![],
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| ArmError::vault_invalid_value("accessPolicies"))?,
    };
    p.insert("accessPolicies".into(), serde_json::to_value(&policies).map_err(ArmError::internal)?);
    for flag in ["enabledForDeployment", "enabledForDiskEncryption", "enabledForTemplateDeployment"] {
        let v = bool_member(&p, flag)?.unwrap_or(false);
        p.insert(flag.into(), v.into());
    }
    let old = |k: &str| existing.and_then(|e| e.get(k)).cloned();
    // enableRbacAuthorization: "If null or not specified, the value of this property will not change".
    let rbac = match bool_member(&p, "enableRbacAuthorization")? {
        Some(b) => b,
        None => old("enableRbacAuthorization").and_then(|v| v.as_bool()).unwrap_or(creating && rbac_by_default(&ctx.api_version)),
    };
    p.insert("enableRbacAuthorization".into(), rbac.into());
    let soft = bool_member(&p, "enableSoftDelete")?.or_else(|| old("enableSoftDelete").and_then(|v| v.as_bool())).unwrap_or(true);
    p.insert("enableSoftDelete".into(), soft.into());
    let retention = match p.get("softDeleteRetentionInDays") {
        None | Some(Value::Null) => old("softDeleteRetentionInDays").and_then(|v| v.as_i64()).unwrap_or(DEFAULT_RETENTION_DAYS),
        Some(v) => match v.as_i64() {
            Some(d) if RETENTION_DAYS.contains(&d) => d,
            _ => return Err(ArmError::vault_retention_out_of_range(&v.to_string())),
        },
    };
    p.insert("softDeleteRetentionInDays".into(), retention.into());
    // enablePurgeProtection: only when set; never back to false.
    let was_protected = old("enablePurgeProtection").and_then(|v| v.as_bool()) == Some(true);
    match bool_member(&p, "enablePurgeProtection")? {
        Some(false) if was_protected || creating => return Err(ArmError::purge_protection_cannot_be_disabled()),
        Some(false) => {
            p.remove("enablePurgeProtection");
        }
        Some(true) => {}
        None if was_protected => {
            p.insert("enablePurgeProtection".into(), true.into());
        }
        None => {
            p.remove("enablePurgeProtection");
        }
    }
    if p.get("publicNetworkAccess").is_none_or(Value::is_null) {
        p.insert("publicNetworkAccess".into(), old("publicNetworkAccess").unwrap_or_else(|| "Enabled".into()));
    }
    p.insert("vaultUri".into(), kv::vault_uri(name).into());
    p.insert("provisioningState".into(), "Succeeded".into());
    Ok(Value::Object(p))
}

/// `GET|PUT|PATCH|DELETE .../vaults/{name}`
fn vault(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "vaults", None)?;
    let scope = id.render();
    let key = resource_id::key(&scope);
    let rg = id.resource_group.clone().unwrap_or_default();
    let sub_id = sub.id.to_string();
    let name = id.name().unwrap_or_default().to_string();
    let action = |verb: &str| format!("{VAULT_TYPE}/{verb}");
    match ctx.method {
        Method::GET => {
            ctx.authorize(&action("read"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            let r = ctx.resource(&key)?.ok_or_else(|| not_found(id))?;
            Ok(json_response(StatusCode::OK, &render(&r)))
        }
        Method::PUT => {
            ctx.authorize(&action("write"), &scope)?;
            if !kv::valid_vault_name(&name) {
                return Err(ArmError::vault_name_not_valid(&name));
            }
            let body: wire::VaultWrite = ctx.json()?;
            let l = body.location.clone().filter(|l| !l.is_empty()).ok_or_else(ArmError::location_required)?;
            let location =
                catalog::normalize_location(&l).map_err(|_| ArmError::location_not_available_for_resource_type(&l, VAULT_TYPE))?;
            let props = body.properties.clone().unwrap_or(Value::Null);
            let recover = props.get("createMode").and_then(Value::as_str).is_some_and(|m| eq(m, "recover"));
            let now = Utc::now();
            let r = ctx.state.store.write(|tx| {
                if tx.resource(&resource_id::key(&resource_id::resource_group_id(&sub_id, &rg)))?.is_none() {
                    return Err(ArmError::resource_group_not_found(&rg));
                }
                let r = match tx.resource(&key)? {
                    Some(mut e) => {
                        if e.location.as_deref() != Some(location.as_str()) {
                            return Err(ArmError::invalid_resource_location(
                                &e.name,
                                e.location.as_deref().unwrap_or_default(),
                                &rg,
                                &location,
                            ));
                        }
                        e.properties = normalize(ctx, &e.name, sub.tenant_id, &props, Some(&e.properties), false)?;
                        e.tags = body.tags.clone();
                        e.changed = now;
                        e
                    }
                    None if recover => recover_vault(tx, &key, &sub_id, now)?,
                    None => {
                        claim_name(tx, &name, &key, &sub_id, now)?;
                        let properties = normalize(ctx, &name, sub.tenant_id, &props, None, true)?;
                        Resource {
                            id: scope.clone(),
                            name: name.clone(),
                            resource_type: VAULT_TYPE.into(),
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
                if tx.get(KEYVAULT_NAME, &kv::name_key(&r.name))?.is_none() {
                    tx.put(
                        KEYVAULT_NAME,
                        &kv::name_key(&r.name),
                        &VaultName { resource_id: r.id.clone(), instance: Uuid::new_v4() },
                        None,
                    )?;
                }
                tx.put_resource(&r)?;
                Ok::<_, ArmError>(r)
            })?;
            // 200 for a create as for an update (keyvault.json allows 200 and 201; the examples'
            // creates answer 200), already Succeeded: the SDK's poller is done at once.
            Ok(json_response(StatusCode::OK, &render(&r)))
        }
        Method::PATCH => {
            ctx.authorize(&action("write"), &scope)?;
            let body: wire::VaultWrite = ctx.json()?;
            let r = ctx.state.store.write(|tx| {
                if tx.resource(&resource_id::key(&resource_id::resource_group_id(&sub_id, &rg)))?.is_none() {
                    return Err(ArmError::resource_group_not_found(&rg));
                }
                let mut r = tx.resource(&key)?.ok_or_else(|| not_found(id))?;
                if let Some(t) = &body.tags {
                    r.tags = Some(t.clone());
                }
                if let Some(p) = body.properties.as_ref().filter(|p| !p.is_null()) {
                    let mut merged = r.properties.clone();
                    patch::merge(&mut merged, p, Merge::TopLevel);
                    r.properties = normalize(ctx, &r.name, sub.tenant_id, &merged, Some(&r.properties), false)?;
                }
                r.changed = Utc::now();
                tx.put_resource(&r)?;
                Ok::<_, ArmError>(r)
            })?;
            Ok(json_response(StatusCode::OK, &render(&r)))
        }
        Method::DELETE => {
            ctx.authorize(&action("delete"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            let existed = ctx.state.store.write(|tx| {
                let Some(r) = tx.resource(&key)? else { return Ok::<_, ArmError>(false) };
                soft_delete(tx, &r, Utc::now())?;
                tx.delete_resource(&key)?;
                generic::delete_contents(tx, &key)?;
                Ok(true)
            })?;
            Ok(Reply::status(if existed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// Before a new vault `key` takes `name`: the name must be free everywhere. A live vault
/// elsewhere, or a soft-deleted one in another subscription, is `VaultAlreadyExists`; one
/// soft-deleted in this subscription is `ConflictError` (recover or purge it). A deleted vault
/// whose retention has run out is purged here, as Azure would have purged it.
fn claim_name(tx: &mut dyn Tx, name: &str, key: &str, sub: &str, now: DateTime<Utc>) -> ArmResult<()> {
    let nk = kv::name_key(name);
    if let Some(live) = tx.get(KEYVAULT_NAME, &nk)? {
        if resource_id::key(&live.resource_id) != key && tx.resource(&resource_id::key(&live.resource_id))?.is_some() {
            return Err(ArmError::vault_already_exists(name));
        }
        tx.remove(KEYVAULT_NAME, &nk)?;
    }
    if let Some(d) = tx.get(KEYVAULT_DELETED, &nk)? {
        if d.expired(now) {
            forget_deleted(tx, &d)?;
        } else if d.subscription.eq_ignore_ascii_case(sub) {
            return Err(ArmError::vault_exists_in_deleted_state());
        } else {
            return Err(ArmError::vault_already_exists(name));
        }
    }
    Ok(())
}

/// `createMode: recover`: the soft-deleted vault that was `key` comes back as it was (location,
/// tags, properties) with its instance, so its data with it.
fn recover_vault(tx: &mut dyn Tx, key: &str, sub: &str, now: DateTime<Utc>) -> ArmResult<Resource> {
    let name = key.rsplit('/').next().unwrap_or_default();
    let d = tx
        .get(KEYVAULT_DELETED, &kv::name_key(name))?
        .filter(|d| resource_id::key(&d.resource_id) == key && d.subscription.eq_ignore_ascii_case(sub) && !d.expired(now))
        .ok_or_else(ArmError::soft_deleted_vault_does_not_exist)?;
    forget_deleted(tx, &d)?;
    tx.put(KEYVAULT_NAME, &kv::name_key(&d.name), &VaultName { resource_id: d.resource_id.clone(), instance: d.instance }, None)?;
    Ok(Resource {
        id: d.resource_id.clone(),
        name: d.name.clone(),
        resource_type: VAULT_TYPE.into(),
        location: Some(d.location.clone()),
        tags: Some(d.tags.clone()),
        properties: d.properties.clone(),
        identity: None,
        extra: Map::new(),
        created: now,
        changed: now,
    })
}

/// Takes vault `r` out of the name index; with soft delete on (the default), keeps it as a
/// deleted vault of its subscription until purged or recovered. (The caller deletes the resource.)
fn soft_delete(tx: &mut dyn Tx, r: &Resource, now: DateTime<Utc>) -> ArmResult<()> {
    let nk = kv::name_key(&r.name);
    let instance = tx.get(KEYVAULT_NAME, &nk)?.filter(|n| resource_id::key(&n.resource_id) == r.key()).map(|n| n.instance);
    tx.remove(KEYVAULT_NAME, &nk)?;
    if r.properties.get("enableSoftDelete").and_then(Value::as_bool) == Some(false) {
        return Ok(());
    }
    let retention = r.properties.get("softDeleteRetentionInDays").and_then(Value::as_i64).unwrap_or(DEFAULT_RETENTION_DAYS);
    let subscription = r.id.split('/').nth(2).unwrap_or_default().to_ascii_lowercase();
    let d = DeletedVault {
        resource_id: r.id.clone(),
        name: r.name.clone(),
        subscription: subscription.clone(),
        location: r.location.clone().unwrap_or_default(),
        tags: r.tags.clone().unwrap_or_default(),
        properties: r.properties.clone(),
        deletion_date: now,
        scheduled_purge_date: kv::scheduled_purge(now, retention),
        instance: instance.unwrap_or_else(Uuid::new_v4),
    };
    tx.put(KEYVAULT_DELETED, &nk, &d, None)?;
    let mut index = tx.get(KEYVAULT_DELETED_IN, &subscription)?.unwrap_or_default();
    index.add(&nk);
    tx.put(KEYVAULT_DELETED_IN, &subscription, &index, None)?;
    Ok(())
}

/// Removes deleted vault `d` (purged or recovered) and its entry in its subscription's list.
fn forget_deleted(tx: &mut dyn Tx, d: &DeletedVault) -> ArmResult<()> {
    let nk = kv::name_key(&d.name);
    tx.remove(KEYVAULT_DELETED, &nk)?;
    if let Some(mut index) = tx.get(KEYVAULT_DELETED_IN, &d.subscription)? {
        index.remove(&nk);
        tx.put(KEYVAULT_DELETED_IN, &d.subscription, &index, None)?;
    }
    Ok(())
}

/// `PUT .../vaults/{name}/accessPolicies/{add|replace|remove}` (Vaults_UpdateAccessPolicy):
/// `add` merges the permissions into the entry of the same tenant, object and application (or
/// appends it), `remove` takes them out (an entry left with none goes), `replace` sets the
/// list. Answers the policies sent, as the spec's example does; permissions are kept as sent.
fn access_policy(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "vaults/accessPolicies", None)?;
    if ctx.method != Method::PUT {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let vault_id = ResourceId { types: id.types[..1].to_vec(), ..id.clone() };
    let scope = vault_id.render();
    ctx.authorize(&format!("{ACCESS_POLICY_TYPE}/write"), &scope)?;
    let kind = id.types[1].1.to_ascii_lowercase();
    if !["add", "replace", "remove"].contains(&kind.as_str()) {
        return Err(ArmError::invalid_access_policy_operation(&id.types[1].1));
    }
    let body: wire::VaultAccessPolicyParameters = ctx.json()?;
    let rg = id.resource_group.clone().unwrap_or_default();
    let sub_id = sub.id.to_string();
    let key = resource_id::key(&scope);
    ctx.state.store.write(|tx| {
        if tx.resource(&resource_id::key(&resource_id::resource_group_id(&sub_id, &rg)))?.is_none() {
            return Err(ArmError::resource_group_not_found(&rg));
        }
        let mut r = tx.resource(&key)?.ok_or_else(|| not_found(&vault_id))?;
        let mut props: wire::VaultProperties = serde_json::from_value(r.properties.clone()).map_err(ArmError::internal)?;
        let sent = &body.properties.access_policies;
        match kind.as_str() {
            "replace" => props.access_policies = sent.clone(),
            "add" => {
                for p in sent {
                    match props.access_policies.iter_mut().find(|e| same_principal(e, p)) {
                        Some(e) => add_permissions(&mut e.permissions, &p.permissions),
                        None => props.access_policies.push(p.clone()),
                    }
                }
            }
            _ => {
                for p in sent {
                    if let Some(e) = props.access_policies.iter_mut().find(|e| same_principal(e, p)) {
                        remove_permissions(&mut e.permissions, &p.permissions);
                    }
                }
                props.access_policies.retain(|e| !no_permissions(&e.permissions));
            }
        }
        r.properties = serde_json::to_value(&props).map_err(ArmError::internal)?;
        r.changed = Utc::now();
        tx.put_resource(&r)?;
        Ok::<_, ArmError>(())
    })?;
    let answer = wire::VaultAccessPolicyParameters {
        id: format!("{scope}/accessPolicies/"),
        name: kind,
        kind: ACCESS_POLICY_TYPE.into(),
        properties: body.properties.clone(),
    };
    Ok(json_response(StatusCode::OK, &answer))
}

fn same_principal(a: &wire::AccessPolicyEntry, b: &wire::AccessPolicyEntry) -> bool {
    eq(&a.tenant_id, &b.tenant_id)
        && eq(&a.object_id, &b.object_id)
        && eq(a.application_id.as_deref().unwrap_or_default(), b.application_id.as_deref().unwrap_or_default())
}

fn lists(p: &mut wire::Permissions) -> [&mut Vec<String>; 4] {
    [&mut p.keys, &mut p.secrets, &mut p.certificates, &mut p.storage]
}

fn add_permissions(into: &mut wire::Permissions, from: &wire::Permissions) {
    let mut from = from.clone();
    for (to, add) in lists(into).into_iter().zip(lists(&mut from)) {
        for a in add.iter() {
            if !to.iter().any(|t| eq(t, a)) {
                to.push(a.clone());
            }
        }
    }
}

fn remove_permissions(from: &mut wire::Permissions, what: &wire::Permissions) {
    let mut what = what.clone();
    for (list, gone) in lists(from).into_iter().zip(lists(&mut what)) {
        list.retain(|p| !gone.iter().any(|g| eq(g, p)));
    }
}

fn no_permissions(p: &wire::Permissions) -> bool {
    p.keys.is_empty() && p.secrets.is_empty() && p.certificates.is_empty() && p.storage.is_empty()
}

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.KeyVault/vaults`
fn list(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "vaults", None)?;
    let value: Vec<_> = generic::readable_of_type(ctx, parent, VAULT_TYPE)?.iter().map(render).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// The live deleted vault `name` of subscription `sub`, if any (retention not run out).
fn find_deleted(ctx: &Ctx, sub: &str, name: &str) -> ArmResult<Option<DeletedVault>> {
    let now = Utc::now();
    let d = ctx.state.store.read(|tx| tx.get(KEYVAULT_DELETED, &kv::name_key(name)))?;
    Ok(d.filter(|d| d.subscription.eq_ignore_ascii_case(sub) && !d.expired(now)))
}

/// `GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults`: the subscription's
/// soft-deleted vaults (reading them needs subscription-level rights, as on Azure).
fn list_deleted(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    let s = ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "deletedVaults", None)?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = s.id.to_string();
    let now = Utc::now();
    let all = ctx.state.store.read(|tx| {
        let index = tx.get(KEYVAULT_DELETED_IN, &sub)?.unwrap_or_default();
        let mut out = Vec::new();
        for n in &index.names {
            if let Some(d) = tx.get(KEYVAULT_DELETED, n)? {
                if d.subscription == sub && !d.expired(now) {
                    out.push(d);
                }
            }
        }
        Ok::<_, ArmError>(out)
    })?;
    let mut value = Vec::new();
    for d in &all {
        if ctx.allowed("Microsoft.KeyVault/locations/deletedVaults/read", &deleted_id(&sub, &d.location, &d.name))? {
            value.push(render_deleted(d));
        }
    }
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// The subscription, location and name of a deleted-vault path, after its api-version.
fn deleted_target(ctx: &Ctx, id: &ResourceId) -> ArmResult<(String, String, String)> {
    let s = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "locations/deletedVaults", None)?;
    let location = id.types[0].1.to_ascii_lowercase().replace(' ', "");
    Ok((s.id.to_string(), location, id.types[1].1.clone()))
}

/// `GET .../locations/{l}/deletedVaults/{name}`
fn get_deleted(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, location, name) = deleted_target(ctx, id)?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    ctx.authorize("Microsoft.KeyVault/locations/deletedVaults/read", &id.render())?;
    let d = find_deleted(ctx, &sub, &name)?.filter(|d| d.location == location).ok_or_else(|| ArmError::deleted_vault_not_found(&name))?;
    Ok(json_response(StatusCode::OK, &render_deleted(&d)))
}

/// `POST .../locations/{l}/deletedVaults/{name}/purge`: gone for good (its name free again). A
/// long-running operation on Azure (202 + Location); Mimic has finished when it answers, so the
/// first poll reports success.
fn purge(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, location, name) = deleted_target(ctx, id)?;
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    ctx.authorize("Microsoft.KeyVault/locations/deletedVaults/purge/action", &id.render())?;
    let now = Utc::now();
    ctx.state.store.write(|tx| {
        let d = tx
            .get(KEYVAULT_DELETED, &kv::name_key(&name))?
            .filter(|d| d.subscription.eq_ignore_ascii_case(&sub) && d.location == location && !d.expired(now))
            .ok_or_else(|| ArmError::deleted_vault_not_found(&name))?;
        if d.purge_protected() {
            return Err(ArmError::deleted_vault_purge_not_allowed());
        }
        forget_deleted(tx, &d)
    })?;
    let op = operations::record_done(ctx, &sub, None)?;
    let mut res = Reply::status(StatusCode::ACCEPTED);
    let url = format!("{}/subscriptions/{sub}/operationresults/{op}?api-version={}", ctx.arm_url(), ctx.api_version);
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&url).map_err(ArmError::internal)?);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    Ok(res)
}

/// `POST /subscriptions/{s}/providers/Microsoft.KeyVault/checkNameAvailability`
/// (Vaults_CheckNameAvailability): invalid names are `AccountNameInvalid`, names of live or
/// soft-deleted vaults anywhere `AlreadyExists`, with the messages of the matching PUT errors.
fn check_name_availability(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    let s = ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "checkNameAvailability", None)?;
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    ctx.authorize_list("Microsoft.KeyVault/checkNameAvailability/read", &format!("/subscriptions/{}", s.id))?;
    let body: mimic_wire::arm::CheckNameAvailabilityParameters = ctx.json()?;
    let name = body.name.unwrap_or_default();
    let result = if !kv::valid_vault_name(&name) {
        CheckNameAvailabilityResult {
            name_available: false,
            reason: Some("AccountNameInvalid"),
            message: Some(vault_name_invalid_message(&name)),
        }
    } else {
        let nk = kv::name_key(&name);
        let now = Utc::now();
        let taken = ctx.state.store.read(|tx| {
            let live = match tx.get(KEYVAULT_NAME, &nk)? {
                Some(n) => tx.resource(&resource_id::key(&n.resource_id))?.is_some(),
                None => false,
            };
            let deleted = tx.get(KEYVAULT_DELETED, &nk)?.is_some_and(|d| !d.expired(now));
            Ok::<_, ArmError>(live || deleted)
        })?;
        if taken {
            CheckNameAvailabilityResult { name_available: false, reason: Some("AlreadyExists"), message: Some(vault_in_use_message(&name)) }
        } else {
            CheckNameAvailabilityResult { name_available: true, reason: None, message: None }
        }
    };
    Ok(json_response(StatusCode::OK, &result))
}

/// What azure-mgmt-keyvault (14.x: 2026-02-01) and az 2.91 send, and the stable and preview
/// versions of keyvault.json before them, newest first.
const API_VERSIONS: &[&str] = &[
    "2026-02-01",
    "2025-05-01",
    "2024-12-01-preview",
    "2024-11-01",
    "2024-04-01-preview",
    "2023-08-01-preview",
    "2023-07-01",
    "2023-02-01",
    "2022-11-01",
    "2022-07-01",
    "2022-02-01-preview",
    "2021-11-01-preview",
    "2021-10-01",
    "2021-06-01-preview",
    "2021-04-01-preview",
    "2020-04-01-preview",
    "2019-09-01",
    "2018-02-14",
    "2016-10-01",
    "2015-06-01",
];

/// `GET /providers/Microsoft.KeyVault/operations`: the actions this provider checks, with the display texts of
/// Azure's list (learn.microsoft.com "Azure resource provider operations", Microsoft.KeyVault).
/// The data plane's data actions are listed too (`isDataAction: true`), as Azure lists them.
const OPERATIONS: crate::arm::core::catalog::Operations =
    crate::arm::core::catalog::Operations { provider: "Microsoft Key Vault", origin: Some("user,system"), entries: KEYVAULT_OPERATIONS };

#[rustfmt::skip]
static KEYVAULT_OPERATIONS: &[crate::arm::core::catalog::Operation] = {
    use crate::arm::core::catalog::op_data;
    &[
        op_data("Microsoft.KeyVault/register/action", "Subscription", "Register Subscription", "Registers a subscription", false),
        op_data("Microsoft.KeyVault/operations/read", "Operations", "List Operations", "Lists operations available on Microsoft.KeyVault resource provider", false),
        op_data("Microsoft.KeyVault/checkNameAvailability/read", "Name Availability", "Check Name Availability", "Checks that a key vault name is valid and is not in use", false),
        op_data("Microsoft.KeyVault/vaults/read", "Key Vault", "View Key Vault", "View the properties of a key vault", false),
        op_data("Microsoft.KeyVault/vaults/write", "Key Vault", "Update Key Vault", "Create a new key vault or update the properties of an existing key vault", false),
        op_data("Microsoft.KeyVault/vaults/delete", "Key Vault", "Delete Key Vault", "Delete a key vault", false),
        op_data("Microsoft.KeyVault/vaults/accessPolicies/write", "Access Policy", "Update Access Policy", "Update an existing access policy by merging or replacing, or add a new access policy to the key vault.", false),
        op_data("Microsoft.KeyVault/deletedVaults/read", "Soft Deleted Key Vault", "View Soft Deleted Vaults", "View the properties of soft deleted key vaults", false),
        op_data("Microsoft.KeyVault/locations/deletedVaults/read", "Soft Deleted Key Vault", "View Soft Deleted Key Vault", "View the properties of a soft deleted key vault", false),
        op_data("Microsoft.KeyVault/locations/deletedVaults/purge/action", "Soft Deleted Key Vault", "Purge Soft Deleted Key Vault", "Purge a soft deleted key vault", false),
        op_data("Microsoft.KeyVault/vaults/secrets/getSecret/action", "Secret", "Get Secret", "Gets the value of a secret.", true),
        op_data("Microsoft.KeyVault/vaults/secrets/setSecret/action", "Secret", "Set Secret", "Sets the value of a secret.", true),
        op_data("Microsoft.KeyVault/vaults/secrets/readMetadata/action", "Secret", "Read Secret Properties", "List or view the properties of a secret, but not its value.", true),
        op_data("Microsoft.KeyVault/vaults/secrets/delete", "Secret", "Delete Secret", "Deletes a secret. Not recoverable.", true),
        op_data("Microsoft.KeyVault/vaults/keys/read", "Key", "Read Key Properties", "List keys in the specified vault, or read properties and public material of a key.", true),
        op_data("Microsoft.KeyVault/vaults/keys/create/action", "Key", "Create Key", "Creates a new key.", true),
        op_data("Microsoft.KeyVault/vaults/keys/sign/action", "Key", "Sign", "Signs a message digest (hash) with a key.", true),
        op_data("Microsoft.KeyVault/vaults/keys/verify/action", "Key", "Verify", "Verifies the signature of a message digest (hash) with a key.", true),
        op_data("Microsoft.KeyVault/vaults/keys/encrypt/action", "Key", "Encrypt", "Encrypts plaintext with a key.", true),
        op_data("Microsoft.KeyVault/vaults/keys/decrypt/action", "Key", "Decrypt", "Decrypts ciphertext with a key.", true),
        op_data("Microsoft.KeyVault/vaults/keys/delete", "Key", "Delete Key", "Deletes a key.", true),
    ]
};
