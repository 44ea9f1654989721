//! Microsoft.Storage: storage accounts in ARM (PUT, GET, PATCH, DELETE, lists by resource group
//! and subscription; a create is a long-running operation as on Azure: 202 with `Location` to
//! `locations/{l}/asyncoperations/{id}`, whose first poll answers the account), their access keys
//! (`listKeys`, `regenerateKey`), `checkNameAvailability`, the blob service (`blobServices/default`)
//! and blob containers (`.../blobServices/default/containers/{name}`).
//!
//! The contract the Blob service relies on is `mimic_domain::storage`'s: a live account is a
//! [`Resource`] of type [`ACCOUNT_TYPE`], `STORAGE_NAME` under its lower-cased name points at its
//! id and a new `instance` per created account (names are global: every subscription and tenant),
//! `STORAGE_KEYS` under the instance holds its two keys sealed under the master key, and a
//! container is a [`CONTAINER_TYPE`] resource made by `storage_accounts::new_container`, whoever
//! made it. Deleting a container or an account deletes its blob data in the same transaction.
//!
//! Sources: azure-rest-api-specs specification/storage/resource-manager/Microsoft.Storage/stable/2025-06-01
//! (storage.json: StorageAccounts_Create (200/202), _GetProperties, _Update, _Delete (200/204),
//! _ListKeys, _RegenerateKey, _CheckNameAvailability; blob.json: BlobServices_*, BlobContainers_*
//! (Create 200/201) and their examples StorageAccountCreate.json, BlobServicesGet.json,
//! BlobContainersPut.json); azure-mgmt-storage 25.0.0 (`begin_create` polls the `Location` and
//! takes its last body as the result) and azure-cli 2.91 `command_modules/storage`
//! (`operations/account.py`, `operations/blob.py`: what az sends); docs/azure-behaviour.md
//! "Storage accounts".

use axum::http::{header, HeaderValue, Method, StatusCode};
use chrono::{DateTime, SecondsFormat, Utc};
use mimic_domain::patch::{self, Merge};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_domain::storage::{self as st, AccountKeys, AccountName, ContainerProperties, ACCOUNT_TYPE, BLOB_SERVICE_TYPE, CONTAINER_TYPE};
use mimic_store::documents::{Docs, STORAGE_KEYS, STORAGE_NAME, STORAGE_OPERATION};
use mimic_store::{ResourceFilter, Tx};
use mimic_wire::arm::{CheckNameAvailabilityResult, Page};
use mimic_wire::storage as wire;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::arm::core::catalog::ResourceType;
use crate::arm::core::error::storage::{storage_name_invalid_message, storage_name_taken_message};
use crate::arm::core::registry::Moving;
use crate::arm::core::{catalog, generic, json_response, ArmError, ArmResult, Ctx, Endpoint, Provider, Registry, Reply};
use crate::storage_accounts::{self, Account};

const NAMESPACE: &str = "Microsoft.Storage";

/// How long a create's async-operation record is kept (a day, as ARM keeps operation results).
const OPERATION_KEEP_SECS: i64 = 24 * 3600;

/// The sku names storage.json's `SkuName` allows.
const SKUS: &[&str] =
    &["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS", "Standard_GZRS", "Standard_RAGZRS"];

/// The account kinds storage.json's `Kind` allows.
const KINDS: &[&str] = &["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"];

/// Container metadata: at most 8 KB of names and values, as the Blob service allows.
const MAX_METADATA_BYTES: usize = 8 * 1024;

pub struct Storage;

impl Provider for Storage {
    fn namespace(&self) -> &'static str {
        NAMESPACE
    }

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(OPERATIONS)
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "storageAccounts", api_versions: API_VERSIONS },
            ResourceType { name: "storageAccounts/blobServices", api_versions: API_VERSIONS },
            ResourceType { name: "storageAccounts/blobServices/containers", api_versions: API_VERSIONS },
            ResourceType { name: "checkNameAvailability", api_versions: API_VERSIONS },
            ResourceType { name: "locations", api_versions: API_VERSIONS },
            ResourceType { name: "locations/asyncoperations", api_versions: API_VERSIONS },
            ResourceType { name: "operations", api_versions: API_VERSIONS },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::ResourceCollection { parent, resource_type, .. } if eq(resource_type, "storageAccounts") => list(ctx, parent),
            Endpoint::ResourceCollection { parent, resource_type, .. }
                if eq(resource_type, "checkNameAvailability") && parent.resource_group.is_none() =>
            {
                check_name_availability(ctx, parent)
            }
            Endpoint::Resource { id } if is_account(id) => account(ctx, id),
            Endpoint::Resource { id } if is_blob_service(id) => blob_service(ctx, id),
            Endpoint::Resource { id } if is_container(id) => container(ctx, id),
            Endpoint::Resource { id } if is_async_operation(id) => async_operation(ctx, id),
            Endpoint::ResourceAction { id, action } if is_account(id) && eq(action, "listKeys") => list_keys(ctx, id),
            Endpoint::ResourceAction { id, action } if is_account(id) && eq(action, "regenerateKey") => regenerate_key(ctx, id),
            Endpoint::ResourceAction { id, action } if is_account(id) && eq(action, "blobServices") => list_blob_services(ctx, id),
            Endpoint::ResourceAction { id, action } if is_blob_service(id) && eq(action, "containers") => list_containers(ctx, id),
            _ => generic::serve(ctx, endpoint, &generic::Plain),
        }
    }

    /// A deleted resource group's accounts take their blob data, keys and names with them (their
    /// containers are resources under the group, deleted with it).
    /// Not movable in Mimic yet: the account name index points at its id.
    fn check_move(&self, _reg: &Registry, _tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        Moving::refuse(moving, &["Microsoft.Storage/storageAccounts"])
    }

    fn before_group_delete(&self, _reg: &Registry, tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
        for r in generic::of_type_in_group(tx, sub, rg, ACCOUNT_TYPE)? {
            if let Some(a) = account_at(tx, &r.key(), &r.name)? {
                storage_accounts::delete_account_data(tx, a.instance, &r.name, &r.id)?;
            }
        }
        Ok(())
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn is_storage(id: &ResourceId) -> bool {
    id.namespace.as_deref().is_some_and(|n| eq(n, NAMESPACE))
}

fn types_are(id: &ResourceId, names: &[&str]) -> bool {
    id.types.len() == names.len() && id.types.iter().zip(names).all(|((t, _), n)| eq(t, n))
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}`
fn is_account(id: &ResourceId) -> bool {
    id.resource_group.is_some() && is_storage(id) && types_are(id, &["storageAccounts"])
}

/// `.../storageAccounts/{name}/blobServices/{default}`
fn is_blob_service(id: &ResourceId) -> bool {
    id.resource_group.is_some() && is_storage(id) && types_are(id, &["storageAccounts", "blobServices"])
}

/// `.../storageAccounts/{name}/blobServices/default/containers/{container}`
fn is_container(id: &ResourceId) -> bool {
    id.resource_group.is_some() && is_storage(id) && types_are(id, &["storageAccounts", "blobServices", "containers"])
}

/// `/subscriptions/{s}/providers/Microsoft.Storage/locations/{l}/asyncoperations/{id}`
fn is_async_operation(id: &ResourceId) -> bool {
    id.resource_group.is_none() && is_storage(id) && types_are(id, &["locations", "asyncoperations"])
}

/// The id of the account an id below it names (its first type pair).
fn account_id_of(id: &ResourceId) -> ResourceId {
    ResourceId { types: id.types[..1].to_vec(), ..id.clone() }
}

fn account_not_found(id: &ResourceId) -> ArmError {
    let name = id.types.first().map(|(_, n)| n.as_str()).unwrap_or_default();
    ArmError::resource_not_found(ACCOUNT_TYPE, name, id.resource_group.as_deref().unwrap_or_default())
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The live account stored under `key` (named `name`) with its instance, if the name index
/// points at it.
fn account_at(tx: &mut dyn Tx, key: &str, name: &str) -> ArmResult<Option<Account>> {
    Ok(storage_accounts::find(tx, name)?.filter(|a| a.resource.key() == key))
}

/// The subscription, resource group and account key of an account path, after the
/// subscription's checks.
fn target(ctx: &Ctx, id: &ResourceId, type_path: &str) -> ArmResult<(String, String, String)> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, type_path, None)?;
    let rg = id.resource_group.clone().unwrap_or_default();
    Ok((sub.id.to_string(), rg, resource_id::key(&account_id_of(id).render())))
}

fn rg_exists(tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
    if tx.resource(&resource_id::key(&resource_id::resource_group_id(sub, rg)))?.is_none() {
        return Err(ArmError::resource_group_not_found(rg));
    }
    Ok(())
}

// ---- accounts ---------------------------------------------------------------------------

fn sku_of(name: &str) -> ArmResult<Value> {
    let name = SKUS.iter().find(|s| eq(s, name)).ok_or_else(|| ArmError::storage_invalid_parameter("sku.name"))?;
    let tier = if name.starts_with("Premium") { "Premium" } else { "Standard" };
    serde_json::to_value(wire::Sku { name: name.to_string(), tier: tier.into() }).map_err(ArmError::internal)
}

fn kind_of(kind: &str) -> ArmResult<&'static str> {
    KINDS.iter().copied().find(|k| eq(k, kind)).ok_or_else(|| ArmError::storage_invalid_parameter("kind"))
}

/// Only `None` (or no identity): Mimic models no managed identity of a storage account.
fn check_identity(identity: Option<&Value>) -> ArmResult<()> {
    match identity {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(o)) => match o.get("type").and_then(Value::as_str) {
            None => Ok(()),
            Some(t) if eq(t, "None") => Ok(()),
            Some(t) => Err(ArmError::storage_identity_not_supported(t)),
        },
        Some(_) => Err(ArmError::storage_invalid_parameter("identity")),
    }
}

/// Whether the caller's api-version has the defaults of new accounts since 2023-01-01:
/// `allowBlobPublicAccess: false` and `minimumTlsVersion: TLS1_2`.
fn secure_defaults(api_version: &str) -> bool {
    api_version.get(..10).is_some_and(|d| d >= "2023-01-01")
}

/// A member that must be a boolean when present.
fn bool_member(p: &Map<String, Value>, name: &str) -> ArmResult<Option<bool>> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ArmError::storage_invalid_parameter(name)),
    }
}

/// A member that must be one of `allowed` (any case) when present; its canonical spelling.
fn enum_member(p: &Map<String, Value>, name: &str, allowed: &[&'static str]) -> ArmResult<Option<&'static str>> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            allowed.iter().copied().find(|a| eq(a, s)).map(Some).ok_or_else(|| ArmError::storage_invalid_parameter(name))
        }
        Some(_) => Err(ArmError::storage_invalid_parameter(name)),
    }
}

/// The account's endpoints by kind, as storage.json's examples show them.
fn endpoints(name: &str, kind: &str) -> Value {
    let services: &[&str] = match kind {
        "StorageV2" => &["blob", "queue", "table", "file", "web", "dfs"],
        "BlobStorage" => &["blob", "table", "dfs"],
        "BlockBlobStorage" => &["blob", "web", "dfs"],
        "FileStorage" => &["file"],
        _ => &["blob", "queue", "table", "file"],
    };
    let mut m = Map::new();
    for s in services {
        let url =
            if *s == "blob" { st::blob_endpoint(name) } else { format!("https://{}.{s}.core.windows.net/", name.to_ascii_lowercase()) };
        m.insert((*s).into(), url.into());
    }
    Value::Object(m)
}

/// The region a geo-redundant account replicates to: Azure's region pairs
/// (learn.microsoft.com/azure/reliability/cross-region-replication-azure), for the catalogue's locations.
fn paired_region(location: &str) -> Option<&'static str> {
    const PAIRS: &[(&str, &str)] = &[
        ("eastus", "westus"),
        ("westus", "eastus"),
        ("eastus2", "centralus"),
        ("centralus", "eastus2"),
        ("westus2", "westcentralus"),
        ("westcentralus", "westus2"),
        ("westus3", "eastus"),
        ("northcentralus", "southcentralus"),
        ("southcentralus", "northcentralus"),
        ("canadacentral", "canadaeast"),
        ("brazilsouth", "southcentralus"),
        ("northeurope", "westeurope"),
        ("westeurope", "northeurope"),
        ("uksouth", "ukwest"),
        ("francecentral", "francesouth"),
        ("germanywestcentral", "germanynorth"),
        ("swedencentral", "swedensouth"),
        ("switzerlandnorth", "switzerlandwest"),
        ("norwayeast", "norwaywest"),
        ("eastasia", "southeastasia"),
        ("southeastasia", "eastasia"),
        ("japaneast", "japanwest"),
        ("koreacentral", "koreasouth"),
        ("australiaeast", "australiasoutheast"),
        ("centralindia", "southindia"),
        ("uaenorth", "uaecentral"),
        ("southafricanorth", "southafricawest"),
    ];
    PAIRS.iter().find(|(l, _)| *l == location).map(|(_, p)| *p)
}

/// The read-only secondary endpoints of a read-access geo-redundant account
/// (`https://{name}-secondary.{service}.core.windows.net/`; Azure Files has none).
fn secondary_endpoints(name: &str, kind: &str) -> Value {
    let mut m = Map::new();
    if let Value::Object(primary) = endpoints(name, kind) {
        for service in primary.keys().filter(|s| *s != "file") {
            m.insert(service.clone(), format!("https://{}-secondary.{service}.core.windows.net/", name.to_ascii_lowercase()).into());
        }
    }
    Value::Object(m)
}

/// Read-only members of an account's properties: Mimic's, never the body's.
const READ_ONLY: &[&str] = &[
    "provisioningState",
    "creationTime",
    "primaryEndpoints",
    "secondaryEndpoints",
    "primaryLocation",
    "secondaryLocation",
    "statusOfPrimary",
    "statusOfSecondary",
    "keyCreationTime",
    "lastGeoFailoverTime",
    "privateEndpointConnections",
    "geoReplicationStats",
    "blobRestoreStatus",
    "storageAccountSkuConversionStatus",
    "accountMigrationInProgress",
    "isSkuConversionBlocked",
];

struct Facts<'a> {
    name: &'a str,
    kind: &'a str,
    /// The sku name (`Standard_RAGRS`, ...).
    sku: &'a str,
    location: &'a str,
    created: DateTime<Utc>,
    keys: &'a AccountKeys,
    now: DateTime<Utc>,
}

/// The stored `properties` of an account written with `sent` (a create's properties, or the
/// existing ones with an update's merged in): checked, with Azure's defaults and read-only members.
fn normalize(ctx: &Ctx, f: &Facts<'_>, sent: &Value, old: Option<&Value>, creating: bool) -> ArmResult<Value> {
    let mut p = match sent {
        Value::Object(o) => o.clone(),
        Value::Null => Map::new(),
        _ => return Err(ArmError::storage_invalid_parameter("properties")),
    };
    for ro in READ_ONLY {
        p.remove(*ro);
    }
    let secure = secure_defaults(&ctx.api_version);
    for flag in ["allowSharedKeyAccess", "isHnsEnabled", "isSftpEnabled", "isLocalUserEnabled", "defaultToOAuthAuthentication"] {
        bool_member(&p, flag)?;
    }
    match bool_member(&p, "allowBlobPublicAccess")? {
        Some(_) => {}
        None if creating && secure => {
            p.insert("allowBlobPublicAccess".into(), false.into());
        }
        None => {}
    }
    let https = bool_member(&p, "supportsHttpsTrafficOnly")?.unwrap_or(true);
    p.insert("supportsHttpsTrafficOnly".into(), https.into());
    let tls = enum_member(&p, "minimumTlsVersion", &["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"])?.unwrap_or(if secure || !creating {
        "TLS1_2"
    } else {
        "TLS1_0"
    });
    p.insert("minimumTlsVersion".into(), tls.into());
    match enum_member(&p, "accessTier", &["Hot", "Cool", "Cold", "Premium"])? {
        Some(t) => {
            p.insert("accessTier".into(), t.into());
        }
        None if matches!(f.kind, "StorageV2" | "BlobStorage") => {
            p.insert("accessTier".into(), "Hot".into());
        }
        None => {
            p.remove("accessTier");
        }
    }
    p.insert("encryption".into(), encryption(p.get("encryption"), old.and_then(|o| o.get("encryption")), f.now)?);
    if p.get("networkAcls").is_none_or(Value::is_null) {
        p.insert(
            "networkAcls".into(),
            json!({"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"}),
        );
    } else if !p.get("networkAcls").is_some_and(Value::is_object) {
        return Err(ArmError::storage_invalid_parameter("networkAcls"));
    }
    p.insert("keyCreationTime".into(), json!({"key1": iso(f.keys.key1_created), "key2": iso(f.keys.key2_created)}));
    p.insert("creationTime".into(), iso(f.created).into());
    p.insert("primaryEndpoints".into(), endpoints(f.name, f.kind));
    p.insert("primaryLocation".into(), f.location.into());
    p.insert("statusOfPrimary".into(), "available".into());
    if let Some(pair) = f.sku.contains("GRS").then(|| paired_region(f.location)).flatten() {
        p.insert("secondaryLocation".into(), pair.into());
        p.insert("statusOfSecondary".into(), "available".into());
        if f.sku.contains("RAG") {
            p.insert("secondaryEndpoints".into(), secondary_endpoints(f.name, f.kind));
        }
    }
    p.insert("provisioningState".into(), "Succeeded".into());
    Ok(Value::Object(p))
}

/// `encryption`: blob and file encrypted with Microsoft-managed keys (Azure cannot turn it off),
/// what the body adds (keySource, keyvaultproperties, ...) kept.
fn encryption(sent: Option<&Value>, old: Option<&Value>, now: DateTime<Utc>) -> ArmResult<Value> {
    let mut e = match sent {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err(ArmError::storage_invalid_parameter("encryption")),
    };
    let mut services = match e.remove("services") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(ArmError::storage_invalid_parameter("encryption.services")),
    };
    for svc in ["blob", "file"] {
        let mut s = match services.remove(svc) {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        s.insert("enabled".into(), true.into());
        if !s.get("keyType").is_some_and(Value::is_string) {
            s.insert("keyType".into(), "Account".into());
        }
        let since = old.and_then(|o| o["services"][svc]["lastEnabledTime"].as_str()).map(str::to_string).unwrap_or_else(|| iso(now));
        s.insert("lastEnabledTime".into(), since.into());
        services.insert(svc.into(), Value::Object(s));
    }
    e.insert("services".into(), Value::Object(services));
    if !e.get("keySource").is_some_and(Value::is_string) {
        e.insert("keySource".into(), "Microsoft.Storage".into());
    }
    Ok(Value::Object(e))
}

fn render(r: &Resource) -> wire::StorageAccount {
    wire::StorageAccount {
        id: r.id.clone(),
        name: r.name.clone(),
        kind_of_resource: ACCOUNT_TYPE,
        location: r.location.clone().unwrap_or_default(),
        tags: r.tags.clone().unwrap_or_default(),
        kind: r.extra.get("kind").cloned().unwrap_or(Value::Null),
        sku: r.extra.get("sku").cloned().unwrap_or(Value::Null),
        identity: None,
        properties: r.properties.clone(),
    }
}

fn kind_str(r: &Resource) -> String {
    r.extra.get("kind").and_then(Value::as_str).unwrap_or("StorageV2").to_string()
}

fn sku_name_of(r: &Resource) -> String {
    r.extra.get("sku").and_then(|s| s.get("name")).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn created_of(r: &Resource) -> DateTime<Utc> {
    r.properties.get("creationTime").and_then(Value::as_str).and_then(|t| t.parse().ok()).unwrap_or(r.created)
}

/// `GET|PUT|PATCH|DELETE .../storageAccounts/{name}`
fn account(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = target(ctx, id, "storageAccounts")?;
    let scope = id.render();
    let name = id.name().unwrap_or_default().to_string();
    let action = |verb: &str| format!("{ACCOUNT_TYPE}/{verb}");
    match ctx.method {
        Method::GET => {
            ctx.authorize(&action("read"), &scope)?;
            ctx.resource_group(&sub, &rg)?;
            let r = ctx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
            Ok(json_response(StatusCode::OK, &render(&r)))
        }
        Method::PUT => put_account(ctx, id, &sub, &rg, &key, &name),
        Method::PATCH => {
            ctx.authorize(&action("write"), &scope)?;
            let body: wire::StorageAccountWrite = ctx.json()?;
            check_identity(body.identity.as_ref())?;
            let sku = body.sku.as_ref().map(|s| sku_of(s.name.as_deref().unwrap_or_default())).transpose()?;
            let kind = body.kind.as_deref().map(kind_of).transpose()?;
            let now = Utc::now();
            let r = ctx.state.store.write(|tx| {
                rg_exists(tx, &sub, &rg)?;
                let mut r = tx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
                let a = account_at(tx, &key, &r.name)?.ok_or_else(|| account_not_found(id))?;
                let keys =
                    tx.get(STORAGE_KEYS, &a.instance.to_string())?.ok_or_else(|| ArmError::internal("storage account without keys"))?;
                if let Some(t) = &body.tags {
                    r.tags = Some(t.clone());
                }
                if let Some(s) = &sku {
                    r.extra.insert("sku".into(), s.clone());
                }
                if let Some(k) = kind {
                    r.extra.insert("kind".into(), k.into());
                }
                let mut merged = r.properties.clone();
                if let Some(p) = body.properties.as_ref().filter(|p| !p.is_null()) {
                    if !p.is_object() {
                        return Err(ArmError::storage_invalid_parameter("properties"));
                    }
                    patch::merge(&mut merged, p, Merge::TopLevel);
                }
                let kind = kind_str(&r);
                let sku_name = sku_name_of(&r);
                let location = r.location.clone().unwrap_or_default();
                let f =
                    Facts { name: &r.name, kind: &kind, sku: &sku_name, location: &location, created: created_of(&r), keys: &keys, now };
                r.properties = normalize(ctx, &f, &merged, Some(&r.properties), false)?;
                r.changed = now;
                tx.put_resource(&r)?;
                Ok::<_, ArmError>(r)
            })?;
            Ok(json_response(StatusCode::OK, &render(&r)))
        }
        Method::DELETE => {
            ctx.authorize(&action("delete"), &scope)?;
            ctx.resource_group(&sub, &rg)?;
            let existed = ctx.state.store.write(|tx| {
                let Some(r) = tx.resource(&key)? else { return Ok::<_, ArmError>(false) };
                if let Some(a) = account_at(tx, &key, &r.name)? {
                    storage_accounts::delete_account_data(tx, a.instance, &r.name, &r.id)?;
                }
                tx.delete_resource(&key)?;
                generic::delete_contents(tx, &key)?;
                Ok(true)
            })?;
            Ok(Reply::status(if existed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// A create answers 202 with the operation's `Location` (and the account already made, so the
/// first poll has it); a PUT of an existing account of this resource group is an update, 200.
fn put_account(ctx: &Ctx, id: &ResourceId, sub: &str, rg: &str, key: &str, name: &str) -> ArmResult<Reply> {
    let scope = id.render();
    ctx.authorize(&format!("{ACCOUNT_TYPE}/write"), &scope)?;
    if !st::valid_account_name(name) {
        return Err(ArmError::storage_account_name_invalid(name));
    }
    let body: wire::StorageAccountWrite = ctx.json()?;
    let l = body.location.clone().filter(|l| !l.is_empty()).ok_or_else(ArmError::location_required)?;
    let location = catalog::normalize_location(&l)
        .ok()
        .filter(|l| l != "global")
        .ok_or_else(|| ArmError::location_not_available_for_resource_type(&l, ACCOUNT_TYPE))?;
    let sku = sku_of(body.sku.as_ref().and_then(|s| s.name.as_deref()).unwrap_or_default())?;
    let kind = kind_of(body.kind.as_deref().unwrap_or_default())?;
    check_identity(body.identity.as_ref())?;
    let props = body.properties.clone().unwrap_or(Value::Null);
    if !(props.is_null() || props.is_object()) {
        return Err(ArmError::storage_invalid_parameter("properties"));
    }
    let now = Utc::now();
    // Made once, outside the transaction body (which may run again): a new account's instance,
    // its sealed keys, and the operation that reports it.
    let instance = Uuid::new_v4();
    let new_keys = storage_accounts::new_keys(ctx.state.keys.master_key(), instance, now).map_err(ArmError::internal)?;
    let op = Uuid::new_v4().to_string();
    let (r, created) = ctx.state.store.write(|tx| {
        rg_exists(tx, sub, rg)?;
        if let Some(mut e) = tx.resource(key)? {
            if e.location.as_deref() != Some(location.as_str()) {
                return Err(ArmError::invalid_resource_location(&e.name, e.location.as_deref().unwrap_or_default(), rg, &location));
            }
            let a = account_at(tx, key, &e.name)?.ok_or_else(|| ArmError::internal("storage account outside the name index"))?;
            let keys = tx.get(STORAGE_KEYS, &a.instance.to_string())?.ok_or_else(|| ArmError::internal("storage account without keys"))?;
            let mut merged = e.properties.clone();
            if props.is_object() {
                patch::merge(&mut merged, &props, Merge::TopLevel);
            }
            e.extra.insert("sku".into(), sku.clone());
            e.extra.insert("kind".into(), kind.into());
            e.tags = body.tags.clone();
            let sku_name = sku_name_of(&e);
            let f = Facts { name: &e.name, kind, sku: &sku_name, location: &location, created: created_of(&e), keys: &keys, now };
            e.properties = normalize(ctx, &f, &merged, Some(&e.properties), false)?;
            e.changed = now;
            tx.put_resource(&e)?;
            return Ok::<_, ArmError>((e, false));
        }
        let nk = st::name_key(name);
        if let Some(taken) = tx.get(STORAGE_NAME, &nk)? {
            if tx.resource(&resource_id::key(&taken.resource_id))?.is_some() {
                return Err(ArmError::storage_account_already_taken(name));
            }
        }
        let sku_name = sku["name"].as_str().unwrap_or_default();
        let f = Facts { name, kind, sku: sku_name, location: &location, created: now, keys: &new_keys, now };
        let properties = normalize(ctx, &f, &props, None, true)?;
        let mut extra = Map::new();
        extra.insert("kind".into(), kind.into());
        extra.insert("sku".into(), sku.clone());
        let r = Resource {
            id: scope.clone(),
            name: name.to_string(),
            resource_type: ACCOUNT_TYPE.into(),
            location: Some(location.clone()),
            tags: body.tags.clone(),
            properties,
            identity: None,
            extra,
            created: now,
            changed: now,
        };
        let entry = AccountName { resource_id: r.id.clone(), instance };
        tx.put(STORAGE_NAME, &nk, &entry, None)?;
        tx.put(STORAGE_KEYS, &instance.to_string(), &new_keys, None)?;
        tx.put(STORAGE_OPERATION, &op, &entry, Some(now.timestamp() + OPERATION_KEEP_SECS))?;
        tx.put_resource(&r)?;
        Ok((r, true))
    })?;
    if !created {
        return Ok(json_response(StatusCode::OK, &render(&r)));
    }
    let mut res = Reply::status(StatusCode::ACCEPTED);
    let url = format!(
        "{}/subscriptions/{sub}/providers/{NAMESPACE}/locations/{location}/asyncoperations/{op}?monitor=true&api-version={}",
        ctx.arm_url(),
        ctx.api_version
    );
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&url).map_err(ArmError::internal)?);
    // Azure says 17; Mimic has finished, so the client's first poll (after this) has the account.
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Ok(res)
}

/// `GET .../locations/{l}/asyncoperations/{id}`: the created account (200), as Azure answers
/// the `Location` of a finished create. Reading it needs read on the account.
fn async_operation(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let s = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "locations/asyncoperations", None)?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let op = &id.types[1].1;
    let sub = s.id.to_string();
    let entry = ctx
        .state
        .store
        .read(|tx| tx.get(STORAGE_OPERATION, op))?
        .filter(|e| e.resource_id.split('/').nth(2).is_some_and(|x| eq(x, &sub)))
        .ok_or_else(|| ArmError::storage_operation_not_found(op))?;
    ctx.authorize(&format!("{ACCOUNT_TYPE}/read"), &entry.resource_id)?;
    let account_id = ResourceId::parse(&entry.resource_id).map_err(ArmError::internal)?;
    let r = ctx.resource(&resource_id::key(&entry.resource_id))?.ok_or_else(|| account_not_found(&account_id))?;
    Ok(json_response(StatusCode::OK, &render(&r)))
}

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Storage/storageAccounts`
fn list(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "storageAccounts", None)?;
    let value: Vec<_> = generic::readable_of_type(ctx, parent, ACCOUNT_TYPE)?.iter().map(render).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

// ---- keys -------------------------------------------------------------------------------

fn keys_result(clear: [String; 2], k: &AccountKeys) -> wire::ListKeysResult {
    let [key1, key2] = clear;
    wire::ListKeysResult {
        keys: vec![
            wire::AccountKey { creation_time: iso(k.key1_created), key_name: "key1", value: key1, permissions: "FULL" },
            wire::AccountKey { creation_time: iso(k.key2_created), key_name: "key2", value: key2, permissions: "FULL" },
        ],
    }
}

/// The account of an action's path, for `verb` (`listKeys`, `regenerateKey`), after RBAC.
fn action_target(ctx: &Ctx, id: &ResourceId, verb: &str) -> ArmResult<(String, String, String)> {
    let t = target(ctx, id, "storageAccounts")?;
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    ctx.authorize(&format!("{ACCOUNT_TYPE}/{verb}/action"), &id.render())?;
    Ok(t)
}

/// `POST .../storageAccounts/{name}/listKeys` (`$expand=kerb` lists no Kerberos keys: Mimic has none).
fn list_keys(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = action_target(ctx, id, "listKeys")?;
    let name = id.name().unwrap_or_default().to_string();
    let master = ctx.state.keys.master_key();
    let result = ctx.state.store.read(|tx| {
        rg_exists(tx, &sub, &rg)?;
        let a = account_at(tx, &key, &name)?.ok_or_else(|| account_not_found(id))?;
        let k = tx.get(STORAGE_KEYS, &a.instance.to_string())?.ok_or_else(|| ArmError::internal("storage account without keys"))?;
        let clear =
            storage_accounts::open_keys(tx, master, a.instance).map_err(ArmError::internal)?.ok_or_else(|| ArmError::internal("keys"))?;
        Ok::<_, ArmError>(keys_result(clear, &k))
    })?;
    Ok(json_response(StatusCode::OK, &result))
}

/// `POST .../storageAccounts/{name}/regenerateKey` `{"keyName": "key1"|"key2"}`: a new random
/// key in place of that one; answers both, as listKeys does.
fn regenerate_key(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = action_target(ctx, id, "regenerateKey")?;
    let body: wire::RegenerateKeyParameters = ctx.json()?;
    let which = match body.key_name.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("key1") => "key1",
        Some("key2") => "key2",
        _ => return Err(ArmError::storage_invalid_parameter("keyName")),
    };
    let name = id.name().unwrap_or_default().to_string();
    let master = ctx.state.keys.master_key();
    let now = Utc::now();
    let result = ctx.state.store.write(|tx| {
        rg_exists(tx, &sub, &rg)?;
        let a = account_at(tx, &key, &name)?.ok_or_else(|| account_not_found(id))?;
        let instance = a.instance.to_string();
        let mut k = tx.get(STORAGE_KEYS, &instance)?.ok_or_else(|| ArmError::internal("storage account without keys"))?;
        let sealed = storage_accounts::new_key(master, a.instance, which).map_err(ArmError::internal)?;
        if which == "key1" {
            k.key1 = sealed;
            k.key1_created = now;
        } else {
            k.key2 = sealed;
            k.key2_created = now;
        }
        tx.put(STORAGE_KEYS, &instance, &k, None)?;
        let mut r = a.resource;
        if let Value::Object(p) = &mut r.properties {
            p.insert("keyCreationTime".into(), json!({"key1": iso(k.key1_created), "key2": iso(k.key2_created)}));
        }
        r.changed = now;
        tx.put_resource(&r)?;
        let clear =
            storage_accounts::open_keys(tx, master, a.instance).map_err(ArmError::internal)?.ok_or_else(|| ArmError::internal("keys"))?;
        Ok::<_, ArmError>(keys_result(clear, &k))
    })?;
    Ok(json_response(StatusCode::OK, &result))
}

/// `POST /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability`: invalid names are
/// `AccountNameInvalid`, names of live accounts anywhere `AlreadyExists`, with the messages of
/// the matching PUT errors.
fn check_name_availability(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    let s = ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, NAMESPACE, "checkNameAvailability", None)?;
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    ctx.authorize_list("Microsoft.Storage/checkNameAvailability/read", &format!("/subscriptions/{}", s.id))?;
    let body: mimic_wire::arm::CheckNameAvailabilityParameters = ctx.json()?;
    if !body.kind.as_deref().is_some_and(|t| eq(t, ACCOUNT_TYPE)) {
        return Err(ArmError::storage_invalid_parameter("type"));
    }
    let name = body.name.unwrap_or_default();
    let result = if !st::valid_account_name(&name) {
        CheckNameAvailabilityResult {
            name_available: false,
            reason: Some("AccountNameInvalid"),
            message: Some(storage_name_invalid_message(&name)),
        }
    } else if ctx.state.store.read(|tx| storage_accounts::find(tx, &name))?.is_some() {
        CheckNameAvailabilityResult {
            name_available: false,
            reason: Some("AlreadyExists"),
            message: Some(storage_name_taken_message(&name)),
        }
    } else {
        CheckNameAvailabilityResult { name_available: true, reason: None, message: None }
    };
    Ok(json_response(StatusCode::OK, &result))
}

// ---- the blob service -------------------------------------------------------------------

fn blob_service_id(account_id: &str) -> String {
    format!("{account_id}/blobServices/default")
}

/// blob.json's defaults of a blob service nobody has set.
fn default_blob_service_properties() -> Value {
    json!({"cors": {"corsRules": []}, "deleteRetentionPolicy": {"allowPermanentDelete": false, "enabled": false}})
}

fn render_blob_service(account: &Resource, stored: Option<&Resource>) -> wire::BlobService {
    wire::BlobService {
        id: blob_service_id(&account.id),
        name: "default",
        kind: BLOB_SERVICE_TYPE,
        sku: account.extra.get("sku").cloned().unwrap_or(Value::Null),
        properties: stored.map(|s| s.properties.clone()).unwrap_or_else(default_blob_service_properties),
    }
}

/// The blob service's properties as sent over what was there: `cors.corsRules` at most 5 (the
/// service's limit), `deleteRetentionPolicy.days` 1–365, flags booleans.
fn check_blob_service(p: &Map<String, Value>) -> ArmResult<()> {
    if let Some(c) = p.get("cors").filter(|c| !c.is_null()) {
        match c.get("corsRules") {
            None | Some(Value::Null) => {}
            Some(Value::Array(rules)) if rules.len() <= 5 && rules.iter().all(Value::is_object) => {}
            _ => return Err(ArmError::storage_invalid_parameter("cors.corsRules")),
        }
    }
    for policy in ["deleteRetentionPolicy", "containerDeleteRetentionPolicy"] {
        if let Some(d) = p.get(policy).filter(|d| !d.is_null()) {
            let Value::Object(d) = d else { return Err(ArmError::storage_invalid_parameter(policy)) };
            bool_member(d, "enabled").map_err(|_| ArmError::storage_invalid_parameter(&format!("{policy}.enabled")))?;
            if let Some(days) = d.get("days").filter(|v| !v.is_null()) {
                if !days.as_i64().is_some_and(|n| (1..=365).contains(&n)) {
                    return Err(ArmError::storage_invalid_parameter(&format!("{policy}.days")));
                }
            }
        }
    }
    for flag in ["isVersioningEnabled", "automaticSnapshotPolicyEnabled"] {
        bool_member(p, flag)?;
    }
    Ok(())
}

/// `GET|PUT .../storageAccounts/{name}/blobServices/default`
fn blob_service(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = target(ctx, id, "storageAccounts/blobServices")?;
    let service = &id.types[1].1;
    if !eq(service, "default") {
        return Err(ArmError::blob_service_name_invalid(service));
    }
    let account_id = account_id_of(id);
    let scope = id.render();
    let service_key = resource_id::key(&blob_service_id(&account_id.render()));
    match ctx.method {
        Method::GET => {
            ctx.authorize(&format!("{BLOB_SERVICE_TYPE}/read"), &scope)?;
            ctx.resource_group(&sub, &rg)?;
            let account = ctx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
            let stored = ctx.resource(&service_key)?;
            Ok(json_response(StatusCode::OK, &render_blob_service(&account, stored.as_deref())))
        }
        Method::PUT => {
            ctx.authorize(&format!("{BLOB_SERVICE_TYPE}/write"), &scope)?;
            let body: wire::BlobServiceWrite = ctx.json()?;
            let sent = match body.properties {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(o)) => o,
                Some(_) => return Err(ArmError::storage_invalid_parameter("properties")),
            };
            check_blob_service(&sent)?;
            let now = Utc::now();
            let (account, stored) = ctx.state.store.write(|tx| {
                rg_exists(tx, &sub, &rg)?;
                let account = tx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
                let mut props = tx.resource(&service_key)?.map(|s| s.properties).unwrap_or_else(default_blob_service_properties);
                if let Value::Object(p) = &mut props {
                    patch::merge_members(p, &sent, Merge::TopLevel);
                }
                let r = Resource {
                    id: blob_service_id(&account.id),
                    name: "default".into(),
                    resource_type: BLOB_SERVICE_TYPE.into(),
                    location: None,
                    tags: None,
                    properties: props,
                    identity: None,
                    extra: Map::new(),
                    created: now,
                    changed: now,
                };
                tx.put_resource(&r)?;
                Ok::<_, ArmError>((account, r))
            })?;
            Ok(json_response(StatusCode::OK, &render_blob_service(&account, Some(&stored))))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// `GET .../storageAccounts/{name}/blobServices`: the one blob service.
fn list_blob_services(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = target(ctx, id, "storageAccounts/blobServices")?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    ctx.authorize(&format!("{BLOB_SERVICE_TYPE}/read"), &id.render())?;
    ctx.resource_group(&sub, &rg)?;
    let account = ctx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
    let stored = ctx.resource(&resource_id::key(&blob_service_id(&account.id)))?;
    Ok(json_response(StatusCode::OK, &Page { value: vec![render_blob_service(&account, stored.as_deref())], next_link: None }))
}

// ---- containers -------------------------------------------------------------------------

fn check_container_name(name: &str) -> ArmResult<()> {
    if st::valid_container_name(name) {
        return Ok(());
    }
    if !name.starts_with('$') && !(3..=63).contains(&name.len()) {
        return Err(ArmError::container_name_invalid_length());
    }
    Err(ArmError::container_name_invalid_characters())
}

/// Metadata names are C# identifiers, values strings; 8 KB in all.
fn metadata_of(v: Option<&Value>) -> ArmResult<Option<Map<String, Value>>> {
    let m = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ArmError::container_metadata_invalid()),
    };
    let mut size = 0usize;
    for (k, v) in m {
        let ident = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let Some(text) = v.as_str() else { return Err(ArmError::container_metadata_invalid()) };
        size += k.len() + text.len();
        if !ident || size > MAX_METADATA_BYTES {
            return Err(ArmError::container_metadata_invalid());
        }
    }
    Ok(Some(m.clone()))
}

/// What a container write may set, read from its body's `properties`.
struct ContainerWrite {
    public_access: Option<&'static str>,
    metadata: Option<Map<String, Value>>,
    /// Writable members Mimic keeps as sent (encryption scope, NFS squash flags, version-level WORM).
    kept: Map<String, Value>,
}

const KEPT_CONTAINER_MEMBERS: &[&str] = &[
    "defaultEncryptionScope",
    "denyEncryptionScopeOverride",
    "enableNfsV3RootSquash",
    "enableNfsV3AllSquash",
    "immutableStorageWithVersioning",
];

fn container_write(ctx: &Ctx) -> ArmResult<ContainerWrite> {
    let body: wire::BlobContainerWrite = ctx.json()?;
    let p = match body.properties {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(ArmError::storage_invalid_parameter("properties")),
    };
    let public_access = enum_member(&p, "publicAccess", &["None", "Container", "Blob"])?;
    let metadata = metadata_of(p.get("metadata"))?;
    let kept = p
        .iter()
        .filter(|(k, v)| KEPT_CONTAINER_MEMBERS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(ContainerWrite { public_access, metadata, kept })
}

fn public_access_allowed(account: &Account) -> bool {
    account.resource.properties.get("allowBlobPublicAccess").and_then(Value::as_bool) != Some(false)
}

/// `GET|PUT|PATCH|DELETE .../blobServices/default/containers/{name}`
fn container(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = target(ctx, id, "storageAccounts/blobServices/containers")?;
    if !eq(&id.types[1].1, "default") {
        return Err(ArmError::blob_service_name_invalid(&id.types[1].1));
    }
    let scope = id.render();
    let account_name = id.types[0].1.clone();
    let name = id.types[2].1.clone();
    let action = |verb: &str| format!("{CONTAINER_TYPE}/{verb}");
    match ctx.method {
        Method::GET => {
            ctx.authorize(&action("read"), &scope)?;
            ctx.resource_group(&sub, &rg)?;
            let account = ctx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
            let r = ctx.resource(&resource_id::key(&st::container_id(&account.id, &name)))?.ok_or_else(ArmError::container_not_found)?;
            Ok(json_response(StatusCode::OK, &generic::render(&r)))
        }
        Method::PUT | Method::PATCH => {
            ctx.authorize(&action("write"), &scope)?;
            check_container_name(&name)?;
            let w = container_write(ctx)?;
            let replace = ctx.method == Method::PUT;
            let now = Utc::now();
            let (r, created) = ctx.state.store.write(|tx| {
                rg_exists(tx, &sub, &rg)?;
                let account = account_at(tx, &key, &account_name)?.ok_or_else(|| account_not_found(id))?;
                if w.public_access.is_some_and(|p| p != "None") && !public_access_allowed(&account) {
                    return Err(ArmError::public_access_not_permitted());
                }
                let ckey = resource_id::key(&st::container_id(&account.resource.id, &name));
                let existing = tx.resource(&ckey)?;
                let (mut props, created) = match &existing {
                    Some(e) => {
                        let mut p: ContainerProperties = serde_json::from_value(e.properties.clone()).map_err(ArmError::internal)?;
                        if replace {
                            p.public_access = w.public_access.unwrap_or("None").into();
                            p.metadata = w.metadata.clone().unwrap_or_default();
                        } else {
                            if let Some(a) = w.public_access {
                                p.public_access = a.into();
                            }
                            if let Some(m) = &w.metadata {
                                p.metadata = m.clone();
                            }
                        }
                        p.last_modified_time = now;
                        p.etag = st::etag(now);
                        (p, false)
                    }
                    None if !replace => return Err(ArmError::container_not_found()),
                    None => {
                        (ContainerProperties::new(now, w.public_access.unwrap_or("None"), w.metadata.clone().unwrap_or_default()), true)
                    }
                };
                for (k, v) in &w.kept {
                    props.extra.insert(k.clone(), v.clone());
                }
                let mut r = storage_accounts::container_resource(
                    &account,
                    existing.as_ref().map(|e| e.name.as_str()).unwrap_or(&name),
                    &props,
                    now,
                );
                if let Some(e) = &existing {
                    r.created = e.created;
                }
                tx.put_resource(&r)?;
                Ok::<_, ArmError>((r, created))
            })?;
            Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &generic::render(&r)))
        }
        Method::DELETE => {
            ctx.authorize(&action("delete"), &scope)?;
            ctx.resource_group(&sub, &rg)?;
            let existed = ctx.state.store.write(|tx| {
                let account = account_at(tx, &key, &account_name)?.ok_or_else(|| account_not_found(id))?;
                let ckey = resource_id::key(&st::container_id(&account.resource.id, &name));
                let Some(c) = tx.resource(&ckey)? else { return Ok::<_, ArmError>(false) };
                storage_accounts::delete_container_data(tx, account.instance, &c.name)?;
                tx.delete_resource(&ckey)?;
                generic::delete_contents(tx, &ckey)?;
                Ok(true)
            })?;
            Ok(Reply::status(if existed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// `GET .../blobServices/default/containers`: every container of the account, whichever surface
/// made it.
fn list_containers(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, rg, key) = target(ctx, id, "storageAccounts/blobServices/containers")?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    if !eq(&id.types[1].1, "default") {
        return Err(ArmError::blob_service_name_invalid(&id.types[1].1));
    }
    ctx.authorize(&format!("{CONTAINER_TYPE}/read"), &id.render())?;
    ctx.resource_group(&sub, &rg)?;
    let account = ctx.resource(&key)?.ok_or_else(|| account_not_found(id))?;
    let prefix = format!("{}/", resource_id::key(&blob_service_id(&account.id)));
    let type_key = CONTAINER_TYPE.to_ascii_lowercase();
    let rg_key = rg.to_ascii_lowercase();
    let items = ctx.state.store.read(|tx| {
        tx.resources(&ResourceFilter {
            subscription: &sub,
            resource_group: Some(&rg_key),
            resource_type: Some(&type_key),
            after_key: Some(&prefix),
            limit: 100_000,
            ..Default::default()
        })
    })?;
    let value: Vec<_> = items.iter().filter(|r| r.key().starts_with(&prefix)).map(generic::render).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

/// What azure-mgmt-storage 25.0.0 and az 2.91 send (2025-08-01), and the stable versions of
/// storage.json before it, newest first.
const API_VERSIONS: &[&str] = &[
    "2025-08-01",
    "2025-06-01",
    "2025-01-01",
    "2024-01-01",
    "2023-05-01",
    "2023-04-01",
    "2023-01-01",
    "2022-09-01",
    "2022-05-01",
    "2021-09-01",
    "2021-08-01",
    "2021-06-01",
    "2021-04-01",
    "2021-02-01",
    "2021-01-01",
    "2019-06-01",
    "2019-04-01",
    "2018-11-01",
    "2018-07-01",
    "2018-02-01",
    "2017-10-01",
    "2017-06-01",
    "2016-12-01",
    "2016-05-01",
    "2016-01-01",
];

/// `GET /providers/Microsoft.Storage/operations`: the actions this provider checks, with the display texts of
/// Azure's list (learn.microsoft.com "Azure resource provider operations", Microsoft.Storage).
/// The Blob service's data actions are listed too (`isDataAction: true`), as Azure lists them.
const OPERATIONS: crate::arm::core::catalog::Operations =
    crate::arm::core::catalog::Operations { provider: "Microsoft Storage", origin: Some("user,system"), entries: STORAGE_OPERATIONS };

#[rustfmt::skip]
static STORAGE_OPERATIONS: &[crate::arm::core::catalog::Operation] = {
    use crate::arm::core::catalog::op_data;
    &[
        op_data("Microsoft.Storage/register/action", "Storage Resource Provider", "Registers the Storage Resource Provider", "Registers the subscription for the storage resource provider and enables the creation of storage accounts.", false),
        op_data("Microsoft.Storage/operations/read", "Operations", "Poll Asynchronous Operation", "Polls the status of an asynchronous operation.", false),
        op_data("Microsoft.Storage/checknameavailability/read", "Name Availability", "Check Name Availability", "Checks that account name is valid and is not in use.", false),
        op_data("Microsoft.Storage/storageAccounts/read", "Storage Accounts", "List/Get Storage Account(s)", "Returns the list of storage accounts or gets the properties for the specified storage account.", false),
        op_data("Microsoft.Storage/storageAccounts/write", "Storage Accounts", "Create/Update Storage Account", "Creates a storage account with the specified parameters or update the properties or tags or adds custom domain for the specified storage account.", false),
        op_data("Microsoft.Storage/storageAccounts/delete", "Storage Accounts", "Delete Storage Account", "Deletes an existing storage account.", false),
        op_data("Microsoft.Storage/storageAccounts/listkeys/action", "Storage Account Keys", "List Storage Account Keys", "Returns the access keys for the specified storage account.", false),
        op_data("Microsoft.Storage/storageAccounts/regeneratekey/action", "Storage Account Keys", "Regenerate Storage Account Keys", "Regenerates the access keys for the specified storage account.", false),
        op_data("Microsoft.Storage/storageAccounts/blobServices/read", "Blob Service", "Get Blob Service Properties or Statistics", "Returns blob service properties or statistics", false),
        op_data("Microsoft.Storage/storageAccounts/blobServices/write", "Blob Service", "Put Blob Service Properties", "Returns the result of put blob service properties", false),
        op_data("Microsoft.Storage/storageAccounts/blobServices/containers/read", "Blob Container", "Get or list blob containers", "Returns list of containers", false),
        op_data("Microsoft.Storage/storageAccounts/blobServices/containers/write", "Blob Container", "Put or update blob container", "Returns the result of put blob container", false),
        op_data("Microsoft.Storage/storageAccounts/blobServices/containers/delete", "Blob Container", "Delete blob container", "Returns the result of deleting a container", false),
        op_data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", "Blob", "Read Blob", "Returns a blob or a list of blobs", true),
        op_data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", "Blob", "Write to Blob", "Returns the result of writing a blob", true),
        op_data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete", "Blob", "Delete Blob", "Returns the result of deleting a blob", true),
    ]
};
