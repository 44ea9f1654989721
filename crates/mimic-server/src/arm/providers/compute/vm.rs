//! Microsoft.Compute/virtualMachines: PUT (create/replace) and PATCH as long-running operations
//! with Compute's `Azure-AsyncOperation` header, GET (with `$expand=instanceView`), DELETE, list
//! by resource group and subscription, and the power actions clients call (start, powerOff,
//! deallocate, restart) as state changes. The `identity` block follows
//! `mimic_domain::identity`; its system-assigned identity is a service principal in the
//! directory, created and deleted in the same transaction as the VM write.
//!
//! Where things are stored (IMDS reads them):
//! * the VM is a [`Resource`] of type `Microsoft.Compute/virtualMachines`; its `identity` is
//!   ARM's 2018-06-01+ identity object (`VmIdentity::to_stored`): `principalId` is the
//!   system-assigned service principal's object id (its `appId` is the client id IMDS puts in
//!   tokens: `Tx::directory_object(tenantId, principalId)`), and `userAssignedIdentities` maps
//!   each attached identity's id to its `principalId`/`clientId`;
//! * `properties` is what the client sent minus secrets (`osProfile.adminPassword`,
//!   `osProfile.customData` are neither stored nor echoed) plus `vmId` and `timeCreated`;
//! * the power state is a store document of kind `VM_POWER` keyed by the VM's key.
//!
//! Sources: compute.json (2017-12-01, 2018-06-01, 2021-03-01) for paths, statuses and shapes;
//! docs/azure-behaviour.md §1/§1b for identity rules and errors, §3 for LROs, §12.6
//! (SDKs accept only 200/201 for the first response of PUT/PATCH).

use axum::http::{Method, StatusCode};

use chrono::{SecondsFormat, Utc};
use mimic_domain::compute::{PowerAction, PowerState, VmPower};
use mimic_domain::directory::{self, DirectoryObject};
use mimic_domain::identity::{self, ApiShape, IdentityRequest, SystemIdentity, UserIdentity, VmIdentity, USER_ASSIGNED_IDENTITY_TYPE};
use mimic_domain::patch::{self, Merge};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::documents::{Docs, VM_POWER};
use mimic_store::Tx;
use mimic_wire::arm::Page;
use mimic_wire::compute as wire;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::extensions;
pub use super::lro::{add_async_headers, is_operation, operation};
pub use super::names::{is_vm, VM_TYPE};
use crate::arm::core::registry::Moving;
use crate::arm::core::{catalog, generic, json_response, operations, ArmError, ArmResult, Ctx, Registry, Reply, VmEvent};

/// The action linked authorization checks on each user-assigned identity being attached.
pub const ASSIGN_ACTION: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";
/// The type of the NICs a VM names (Microsoft.Network's; checked to exist, never changed here).
const NIC_TYPE: &str = "Microsoft.Network/networkInterfaces";

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

pub fn is_vm_type(resource_type: &str) -> bool {
    eq(resource_type, "virtualMachines")
}

/// The actions this module serves on a VM (`POST {vm}/{action}`, `GET {vm}/instanceView`).
pub fn is_vm_action(id: &ResourceId, action: &str) -> bool {
    is_vm(id) && ["start", "powerOff", "deallocate", "restart", "instanceView"].iter().any(|a| eq(a, action))
}

fn not_found(id: &ResourceId) -> ArmError {
    ArmError::resource_not_found(VM_TYPE, id.name().unwrap_or_default(), id.resource_group.as_deref().unwrap_or_default())
}

// ---- requests -------------------------------------------------------------------------------

/// `GET|PUT|PATCH|DELETE .../virtualMachines/{vm}`
pub fn handle(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Compute", "virtualMachines", None)?;
    let scope = id.render();
    let rg = id.resource_group.clone().unwrap_or_default();
    match ctx.method {
        Method::GET => {
            ctx.authorize(&format!("{VM_TYPE}/read"), &scope)?;
            ctx.resource_group(&sub.id.to_string(), &rg)?;
            let key = resource_id::key(&scope);
            let expand = ctx.q("$expand").is_some_and(|e| e.split(',').any(|x| eq(x.trim(), "instanceView")));
            let (r, power, exts) = ctx.state.store.read(|tx| {
                let r = tx.resource(&key)?;
                let (p, exts) = match &r {
                    Some(r) if expand => (power_state(tx, &key)?, extensions::of_vm(tx, r)?),
                    _ => (PowerState::default(), Vec::new()),
                };
                Ok::<_, ArmError>((r, p, exts))
            })?;
            let r = r.ok_or_else(|| not_found(id))?;
            let view = expand.then(|| instance_view(&r, &power, &exts));
            Ok(json_response(StatusCode::OK, &render(ctx, &r, "Succeeded", view)))
        }
        Method::PUT | Method::PATCH => write(ctx, id, &scope, sub.tenant_id),
        Method::DELETE => delete(ctx, id, &scope, &sub.id.to_string()),
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// A VM body: the wire crate reads it as the api-version's type, the identity rules judge its
/// `identity` block.
struct VmBody {
    location: Option<String>,
    tags: Option<Option<Map<String, Value>>>,
    properties: Option<Map<String, Value>>,
    identity: Option<IdentityRequest>,
    extra: Map<String, Value>,
}

fn parse_body(ctx: &Ctx) -> ArmResult<VmBody> {
    let shape = ApiShape::for_api_version(&ctx.api_version);
    let body = wire::VirtualMachineWrite::parse(ctx.json()?, shape).map_err(|e| ArmError::invalid_request_content(&e))?;
    let identity = identity::request(body.identity).map_err(ArmError::from_identity)?;
    Ok(VmBody { location: body.location, tags: body.tags, properties: body.properties, identity, extra: body.extra })
}

/// Drops what the client may not set (read-only members) and what is never stored (secrets).
fn clean_properties(p: &mut Map<String, Value>) {
    for k in ["provisioningState", "instanceView", "vmId", "timeCreated"] {
        p.remove(k);
    }
    if let Some(Value::Object(os)) = p.get_mut("osProfile") {
        os.remove("adminPassword");
        os.remove("customData");
    }
}

/// PUT (create or replace) and PATCH: one transaction does every check, the directory changes
/// and the write; any failure leaves everything as it was.
fn write(ctx: &Ctx, id: &ResourceId, scope: &str, tenant: Uuid) -> ArmResult<Reply> {
    let put = ctx.method == Method::PUT;
    ctx.authorize(&format!("{VM_TYPE}/write"), scope)?;
    let body = parse_body(ctx)?;
    let location = match (&body.location, put) {
        (Some(l), _) => Some(catalog::normalize_location(l).map_err(|_| ArmError::location_not_available_for_resource_type(l, VM_TYPE))?),
        (None, true) => return Err(ArmError::location_required()),
        (None, false) => None,
    };
    let sub = id.subscription.clone().unwrap_or_default();
    let rg = id.resource_group.clone().unwrap_or_default();
    let key = resource_id::key(scope);
    let method = if put { identity::Method::Put } else { identity::Method::Patch };
    let now = Utc::now();
    let op = Uuid::new_v4().to_string();
    let (r, created) = ctx.state.store.write(|tx| {
        if tx.resource(&resource_id::key(&resource_id::resource_group_id(&sub, &rg)))?.is_none() {
            return Err(ArmError::resource_group_not_found(&rg));
        }
        let existing = tx.resource(&key)?;
        if !put && existing.is_none() {
            return Err(not_found(id));
        }
        let vm_id = existing.as_ref().map(|e| e.id.clone()).unwrap_or_else(|| scope.to_string());
        let vm_name = existing.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| id.name().unwrap_or_default().to_string());
        if let (Some(e), Some(l)) = (&existing, &location) {
            if e.location.as_deref() != Some(l.as_str()) {
                return Err(ArmError::invalid_resource_location(&vm_name, e.location.as_deref().unwrap_or_default(), &rg, l));
            }
        }

        // Identity: what the request makes of it, then linked authorization on every
        // user-assigned identity it attaches (docs/azure-behaviour.md §1b), before anything else the RP checks.
        let current = VmIdentity::from_stored(existing.as_ref().and_then(|e| e.identity.as_ref()));
        let plan = identity::plan(&current, body.identity.as_ref(), method).map_err(ArmError::from_identity)?;
        let mut denied = Vec::new();
        for uai in &plan.added {
            if !ctx.allowed(ASSIGN_ACTION, uai)? {
                denied.push(uai.as_str());
            }
        }
        if !denied.is_empty() {
            let caller = ctx.caller.display();
            return Err(ArmError::linked_authorization_failed(
                &caller,
                ctx.caller.object_id,
                &format!("{VM_TYPE}/write"),
                scope,
                ASSIGN_ACTION,
                &denied,
            ));
        }

        // Properties: PUT replaces, PATCH merges.
        let mut properties = match (&existing, put) {
            (Some(e), false) => {
                let mut p = e.properties.clone();
                if let Some(changes) = &body.properties {
                    let mut changes = changes.clone();
                    clean_properties(&mut changes);
                    patch::merge(&mut p, &Value::Object(changes), Merge::Deep);
                }
                p
            }
            _ => {
                let mut p = body.properties.clone().unwrap_or_default();
                clean_properties(&mut p);
                Value::Object(p)
            }
        };
        if let Some(e) = &existing {
            immutable_os_profile(&e.properties, &properties)?;
        }
        // The size, when the request names one, must be one of the location's (Compute's InvalidParameter).
        if put || body.properties.as_ref().is_some_and(|p| p.get("hardwareProfile").is_some()) {
            super::sizes::check_vm_size(&properties)?;
        }
        check_network_profile(
            tx,
            &vm_id,
            &properties,
            existing.is_none(),
            put || body.properties.as_ref().is_some_and(|p| p.contains_key("networkProfile")),
        )?;

        // User-assigned identities being attached must exist (docs/azure-behaviour.md §1b).
        let mut user = Vec::with_capacity(plan.user.len());
        for uid in &plan.user {
            if let Some(u) = current.user.iter().find(|u| resource_id::key(&u.resource_id) == resource_id::key(uid)) {
                user.push(u.clone());
                continue;
            }
            let found = tx.resource(&resource_id::key(uid))?.filter(|r| eq(&r.resource_type, USER_ASSIGNED_IDENTITY_TYPE));
            let ids = found.as_ref().and_then(|r| {
                let p = |k: &str| r.properties.get(k).and_then(Value::as_str).and_then(|s| s.parse::<Uuid>().ok());
                Some((p("principalId")?, p("clientId")?))
            });
            let Some((principal_id, client_id)) = ids else {
                return Err(ArmError::failed_identity_operation(&vm_id, uid));
            };
            user.push(UserIdentity { resource_id: uid.clone(), principal_id, client_id });
        }

        // System-assigned identity: a service principal with the VM's name (docs/azure-behaviour.md §7).
        let system = match (plan.system, current.system) {
            (true, Some(s)) => Some(s),
            (true, None) => {
                let sp = directory::new_managed_identity_principal(tenant, &vm_id, &vm_name, false, now);
                let s = SystemIdentity { principal_id: sp.id, tenant_id: tenant };
                tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
                Some(s)
            }
            (false, Some(s)) => {
                // Its role assignments stay, orphaned, as in Azure (docs/azure-behaviour.md §1b).
                tx.delete_directory_object(s.tenant_id, s.principal_id)?;
                None
            }
            (false, None) => None,
        };
        let new_identity = VmIdentity { system, user };

        if let Value::Object(p) = &mut properties {
            let vm_uuid =
                existing.as_ref().and_then(|e| e.properties.get("vmId").cloned()).unwrap_or_else(|| Uuid::new_v4().to_string().into());
            let created_at = existing
                .as_ref()
                .and_then(|e| e.properties.get("timeCreated").cloned())
                .unwrap_or_else(|| now.to_rfc3339_opts(SecondsFormat::Micros, true).into());
            p.insert("vmId".into(), vm_uuid);
            p.insert("timeCreated".into(), created_at);
            p.insert("provisioningState".into(), "Succeeded".into());
        }
        let tags = match (&body.tags, &existing) {
            (Some(t), _) => t.clone(),
            (None, Some(e)) if !put => e.tags.clone(),
            (None, _) => None,
        };
        let mut extra = match (&existing, put) {
            (Some(e), false) => e.extra.clone(),
            _ => Map::new(),
        };
        patch::merge_members(&mut extra, &body.extra, Merge::TopLevel);
        let r = Resource {
            id: vm_id.clone(),
            name: vm_name,
            resource_type: VM_TYPE.into(),
            location: location.clone().or_else(|| existing.as_ref().and_then(|e| e.location.clone())),
            tags,
            properties,
            identity: new_identity.to_stored(),
            extra,
            created: existing.as_ref().map(|e| e.created).unwrap_or(now),
            changed: now,
        };
        tx.put_resource(&r)?;
        if existing.is_none() {
            tx.put(VM_POWER, &key, &VmPower { power_state: PowerState::Running }, None)?;
        }
        let running = power_state(tx, &key)? == PowerState::Running;
        Registry::installed().on_vm(tx, &VmEvent::Written { before: existing.as_ref(), after: &r, running })?;
        operations::record(tx, &op, &sub, None)?;
        Ok::<_, ArmError>((r, existing.is_none()))
    })?;
    // Compute answers 201 + Creating / 200 + Updating and finishes behind Azure-AsyncOperation
    // (Mimic has already finished: the status URL says Succeeded on the first poll).
    let (status, state) = if created { (StatusCode::CREATED, "Creating") } else { (StatusCode::OK, "Updating") };
    let mut res = json_response(status, &render(ctx, &r, state, None));
    add_async_headers(ctx, &mut res, &r, &op, false)?;
    Ok(res)
}

/// `osProfile.computerName` and `osProfile.adminUsername` cannot change after creation (spec:
/// "This property cannot be updated after the VM is created").
fn immutable_os_profile(old: &Value, new: &Value) -> ArmResult<()> {
    for field in ["computerName", "adminUsername"] {
        let (a, b) = (&old["osProfile"][field], &new["osProfile"][field]);
        if a.is_string() && b.is_string() && a != b {
            return Err(ArmError::property_change_not_allowed(field));
        }
    }
    Ok(())
}

/// A VM needs at least one network interface, and each must exist (docs/ARCHITECTURE.md "Contract": NICs
/// are generic resources).
fn check_network_profile(tx: &mut dyn Tx, vm_id: &str, properties: &Value, creating: bool, given: bool) -> ArmResult<()> {
    if !creating && !given {
        return Ok(());
    }
    let profile = &properties["networkProfile"];
    if profile.is_null() {
        return Err(ArmError::missing_network_profile());
    }
    let nics = profile["networkInterfaces"].as_array().cloned().unwrap_or_default();
    let configurations = profile["networkInterfaceConfigurations"].as_array().is_some_and(|c| !c.is_empty());
    if nics.is_empty() && !configurations {
        return Err(ArmError::missing_network_interfaces());
    }
    for (i, nic) in nics.iter().enumerate() {
        let nic_id = nic["id"].as_str().unwrap_or_default();
        let path = format!("properties.networkProfile.networkInterfaces[{i}].id");
        let parsed = ResourceId::parse(nic_id).ok().filter(|p| p.subscription.is_some() && p.full_type().is_some());
        if parsed.is_none() {
            return Err(ArmError::linked_invalid_property_id(nic_id, &path));
        }
        let exists = tx.resource(&resource_id::key(nic_id))?.is_some_and(|r| eq(&r.resource_type, NIC_TYPE));
        if !exists {
            return Err(ArmError::invalid_resource_reference(nic_id, vm_id));
        }
    }
    Ok(())
}

fn delete(ctx: &Ctx, id: &ResourceId, scope: &str, sub: &str) -> ArmResult<Reply> {
    ctx.authorize(&format!("{VM_TYPE}/delete"), scope)?;
    let rg = id.resource_group.clone().unwrap_or_default();
    ctx.resource_group(sub, &rg)?;
    let key = resource_id::key(scope);
    let op = Uuid::new_v4().to_string();
    let removed = ctx.state.store.write(|tx| {
        let Some(r) = tx.resource(&key)? else { return Ok::<_, ArmError>(None) };
        delete_in_tx(Registry::installed(), tx, &r)?;
        generic::delete_contents(tx, &key)?;
        operations::record(tx, &op, sub, None)?;
        Ok(Some(r))
    })?;
    let Some(r) = removed else { return Ok(Reply::status(StatusCode::NO_CONTENT)) };
    let mut res = Reply::status(StatusCode::ACCEPTED);
    add_async_headers(ctx, &mut res, &r, &op, true)?;
    Ok(res)
}

/// A VM moves with its network interfaces (Azure's `MissingMoveDependentResources` otherwise).
pub fn check_move(moving: &[Moving]) -> ArmResult<()> {
    let nics = moving.iter().filter(|m| m.is(VM_TYPE)).flat_map(|m| {
        let nics = m.resource.properties["networkProfile"]["networkInterfaces"].as_array().cloned().unwrap_or_default();
        nics.into_iter().filter_map(|n| n["id"].as_str().map(str::to_string))
    });
    Moving::require_all(moving, nics.collect::<Vec<_>>())
}

/// A moved VM keeps its power state and its system-assigned identity, whose principal's
/// resource id (its alternative name, the tokens' `xms_mirid`) follows the new id.
pub fn on_move(tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
    for m in moving.iter().filter(|m| m.is(VM_TYPE)) {
        let (old, new) = (m.resource.key(), resource_id::key(&m.new_id));
        if let Some(power) = tx.get(VM_POWER, &old)? {
            tx.remove(VM_POWER, &old)?;
            tx.put(VM_POWER, &new, &power, None)?;
        }
        if let Some(s) = VmIdentity::from_stored(m.resource.identity.as_ref()).system {
            if let Some(DirectoryObject::ServicePrincipal(mut sp)) = tx.directory_object(s.tenant_id, s.principal_id)? {
                sp.set_managed_resource(&m.new_id);
                tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
            }
        }
    }
    Ok(())
}

/// Deletes a VM and what only it owns: its system-assigned service principal (the VM's role
/// assignments' principal is gone, so they grant nothing) and its power state. Also used when
/// the VM's resource group is deleted.
pub fn delete_in_tx(reg: &Registry, tx: &mut dyn Tx, r: &Resource) -> ArmResult<()> {
    let key = r.key();
    if let Some(s) = VmIdentity::from_stored(r.identity.as_ref()).system {
        tx.delete_directory_object(s.tenant_id, s.principal_id)?;
    }
    reg.on_vm(tx, &VmEvent::Deleted { vm: r })?;
    tx.remove(VM_POWER, &key)?;
    tx.delete_resource(&key)?;
    Ok(())
}

// ---- power actions, instance view, operations --------------------------------------------

/// The power state of the VM with resource key `key` (one without a record was made running).
pub fn power_state(tx: &mut dyn Tx, key: &str) -> ArmResult<PowerState> {
    Ok(tx.get(VM_POWER, key)?.map(|p| p.power_state).unwrap_or_default())
}

/// `POST {vm}/start|powerOff|deallocate|restart`, `GET {vm}/instanceView`.
pub fn action(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Compute", "virtualMachines", None)?;
    let scope = id.render();
    let key = resource_id::key(&scope);
    let rg = id.resource_group.clone().unwrap_or_default();
    if eq(action, "instanceView") {
        if ctx.method != Method::GET {
            return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
        }
        ctx.authorize(&format!("{VM_TYPE}/instanceView/read"), &scope)?;
        ctx.resource_group(&sub.id.to_string(), &rg)?;
        let (r, power, exts) = ctx.state.store.read(|tx| {
            let r = tx.resource(&key)?;
            let p = power_state(tx, &key)?;
            let exts = match &r {
                Some(r) => extensions::of_vm(tx, r)?,
                None => Vec::new(),
            };
            Ok::<_, ArmError>((r, p, exts))
        })?;
        let r = r.ok_or_else(|| not_found(id))?;
        return Ok(json_response(StatusCode::OK, &instance_view(&r, &power, &exts)));
    }
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    // The router sends only these four actions here (and instanceView above).
    let action = PowerAction::parse(action).unwrap_or(PowerAction::Start);
    ctx.authorize(&format!("{VM_TYPE}/{}/action", action.name()), &scope)?;
    ctx.resource_group(&sub.id.to_string(), &rg)?;
    let op = Uuid::new_v4().to_string();
    let sub_text = sub.id.to_string();
    let r = ctx.state.store.write(|tx| {
        let r = tx.resource(&key)?.ok_or_else(|| not_found(id))?;
        let state = power_state(tx, &key)?;
        let Some(next) = action.apply(state) else {
            return Err(ArmError::restart_deallocated_vm(&r.name));
        };
        tx.put(VM_POWER, &key, &VmPower { power_state: next }, None)?;
        if next != state && next != PowerState::Stopped {
            Registry::installed().on_vm(tx, &VmEvent::Power { vm: &r, running: next == PowerState::Running })?;
        }
        operations::record(tx, &op, &sub_text, None)?;
        Ok::<_, ArmError>(r)
    })?;
    let mut res = Reply::status(StatusCode::ACCEPTED);
    add_async_headers(ctx, &mut res, &r, &op, true)?;
    Ok(res)
}

fn instance_view(r: &Resource, power: &PowerState, exts: &[Resource]) -> wire::VirtualMachineInstanceView {
    let display = match power {
        PowerState::Stopped => "VM stopped",
        PowerState::Deallocated => "VM deallocated",
        PowerState::Running => "VM running",
    };
    wire::VirtualMachineInstanceView {
        computer_name: r.properties["osProfile"]["computerName"].as_str().map(str::to_string),
        os_name: None,
        extensions: extensions::instance_views(exts),
        statuses: vec![
            wire::InstanceViewStatus {
                code: "ProvisioningState/succeeded".into(),
                level: "Info",
                display_status: "Provisioning succeeded".into(),
                time: Some(r.changed.to_rfc3339_opts(SecondsFormat::Micros, true)),
            },
            wire::InstanceViewStatus {
                code: format!("PowerState/{}", power.code()),
                level: "Info",
                display_status: display.into(),
                time: None,
            },
        ],
    }
}

// ---- listing and rendering ---------------------------------------------------------------

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Compute/virtualMachines`
pub fn list(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Compute", "virtualMachines", None)?;
    let value: Vec<_> = generic::readable_of_type(ctx, parent, VM_TYPE)?.iter().map(|r| render(ctx, r, "Succeeded", None)).collect();
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}

fn render(ctx: &Ctx, r: &Resource, provisioning_state: &str, view: Option<wire::VirtualMachineInstanceView>) -> wire::VirtualMachine {
    let mut properties = r.properties.clone();
    if let Value::Object(p) = &mut properties {
        p.insert("provisioningState".into(), provisioning_state.into());
        if let Some(v) = view {
            p.insert("instanceView".into(), serde_json::to_value(v).unwrap_or_default());
        }
    }
    let identity = VmIdentity::from_stored(r.identity.as_ref());
    wire::VirtualMachine {
        name: r.name.clone(),
        id: r.id.clone(),
        kind: VM_TYPE,
        location: r.location.clone().unwrap_or_default(),
        tags: r.tags.clone(),
        identity: identity.to_wire(ApiShape::for_api_version(&ctx.api_version)),
        extra: r.extra.clone(),
        properties,
    }
}
