//! VM extensions: the extension images (`VirtualMachineExtensionImages_ListTypes`, `_ListVersions`,
//! `_Get` under `.../locations/{l}/publishers/{p}/artifacttypes/vmextension`, bare JSON arrays as
//! the image listings are) from `mimic_domain::catalog::extensions`, and the child resource
//! `virtualMachines/{vm}/extensions/{name}` (`VirtualMachineExtensions_*`: PUT 201/200 and PATCH
//! 200 with Compute's `Azure-AsyncOperation`, GET with `$expand=instanceView`, list, DELETE 202/204).
//!
//! An extension is stored as a child [`Resource`] of its VM, so it goes with the VM (its deletion,
//! or its group's, deletes what is stored under it). `publisher`/`type`/`typeHandlerVersion` must
//! name a catalogue version (Azure's `ArtifactNotFound`); `protectedSettings` is read and dropped,
//! never stored or returned (compute.json: "The extension can contain either protectedSettings or
//! protectedSettingsFromKeyVault or no protected settings at all"; Azure never returns it).
//! Nothing runs: the extension is `Succeeded` at once, as a finished handler reports.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use mimic_domain::catalog::extensions::{self as catalog_ext, ExtensionImage, HandlerVersionError};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_wire::vm_extensions as wire;
use uuid::Uuid;

use super::lro::add_async_headers;
use super::names::{self as vm, VM_TYPE};
use crate::arm::core::{catalog, generic, json_response, operations, ArmError, ArmResult, Ctx, Registry, Reply};

pub const EXTENSION_TYPE: &str = "Microsoft.Compute/virtualMachines/extensions";
const IMAGE_READ: &str = "Microsoft.Compute/locations/publishers/artifacttypes/types/versions/read";

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn compute(id: &ResourceId) -> bool {
    id.namespace.as_deref().is_some_and(|n| eq(n, "Microsoft.Compute"))
}

/// `locations/{l}/publishers/{p}/artifacttypes/vmextension[/types/{t}[/versions/{v}]]`, the
/// first `n` pairs of it.
fn image_pairs(id: &ResourceId, n: usize) -> bool {
    const KEYS: [&str; 5] = ["locations", "publishers", "artifacttypes", "types", "versions"];
    id.resource_group.is_none()
        && compute(id)
        && id.types.len() == n
        && id.types.iter().zip(KEYS).all(|((t, _), k)| eq(t, k))
        && eq(&id.types[2].1, "vmextension")
}

/// `GET .../artifacttypes/vmextension/types/{t}/versions/{v}`
pub fn is_image_path(id: &ResourceId) -> bool {
    image_pairs(id, 5)
}

/// `GET .../artifacttypes/vmextension/types` and `.../types/{t}/versions`
pub fn is_image_listing(id: &ResourceId, action: &str) -> bool {
    (image_pairs(id, 3) && eq(action, "types")) || (image_pairs(id, 4) && eq(action, "versions"))
}

/// `.../virtualMachines/{vm}/extensions/{name}`
pub fn is_extension(id: &ResourceId) -> bool {
    id.resource_group.is_some()
        && compute(id)
        && id.types.len() == 2
        && eq(&id.types[0].0, "virtualMachines")
        && eq(&id.types[1].0, "extensions")
}

/// `GET .../virtualMachines/{vm}/extensions`
pub fn is_extension_list(id: &ResourceId, action: &str) -> bool {
    vm::is_vm(id) && eq(action, "extensions")
}

// ---- extension images ---------------------------------------------------------------------

/// The caller's subscription and the normalised location of an image request.
fn image_request(ctx: &Ctx, id: &ResourceId) -> ArmResult<(String, String)> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Compute", "locations", None)?;
    ctx.authorize(IMAGE_READ, &format!("/subscriptions/{}", sub.id))?;
    let location = catalog::normalize_location(&id.types[0].1).map_err(|_| ArmError::vm_extension_image_not_found())?;
    Ok((sub.id.to_string(), location))
}

fn publisher_base(sub: &str, location: &str, publisher: &str) -> String {
    format!("/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{location}/Publishers/{publisher}/ArtifactTypes/VMExtension/Types")
}

/// `.../types` (every type of the publisher) and `.../types/{t}/versions` (`$orderby=name [desc]`, `$top`).
pub fn list_images(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<Reply> {
    let (sub, location) = image_request(ctx, id)?;
    let types = catalog_ext::of_publisher(&id.types[1].1);
    let Some(first) = types.first() else { return Err(ArmError::vm_extension_image_not_found()) };
    let base = publisher_base(&sub, &location, first.publisher);
    let entry = |name: &str, id: String| wire::ArtifactEntry { location: location.clone(), name: name.to_string(), id };
    if eq(action, "types") {
        let value: Vec<_> = types.iter().map(|t| entry(t.kind, format!("{base}/{}", t.kind))).collect();
        return Ok(json_response(StatusCode::OK, &value));
    }
    let image = catalog_ext::find(first.publisher, &id.types[3].1).ok_or_else(ArmError::vm_extension_image_not_found)?;
    let mut versions: Vec<&str> = image.versions.to_vec();
    if let Some(order) = ctx.q("$orderby").map(|o| o.trim().to_ascii_lowercase()) {
        match order.as_str() {
            "name" | "name asc" => {}
            "name desc" => versions.reverse(),
            _ => return Err(ArmError::invalid_order_by(&order)),
        }
    }
    if let Some(top) = ctx.q("$top") {
        let n: usize = top.trim().parse().map_err(|_| ArmError::invalid_paging_parameter("$top", top))?;
        versions.truncate(n);
    }
    let value: Vec<_> = versions.iter().map(|v| entry(v, format!("{base}/{}/Versions/{v}", image.kind))).collect();
    Ok(json_response(StatusCode::OK, &value))
}

/// `.../types/{t}/versions/{v}`
pub fn get_image(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let (sub, location) = image_request(ctx, id)?;
    let image = catalog_ext::find(&id.types[1].1, &id.types[3].1).ok_or_else(ArmError::vm_extension_image_not_found)?;
    let version = catalog_ext::version(image, &id.types[4].1).ok_or_else(ArmError::vm_extension_image_not_found)?;
    let base = publisher_base(&sub, &location, image.publisher);
    Ok(json_response(
        StatusCode::OK,
        &wire::VirtualMachineExtensionImage {
            properties: wire::VirtualMachineExtensionImageProperties {
                operating_system: image.operating_system,
                compute_role: "IaaS",
                handler_schema: "",
                vm_scale_set_enabled: image.vm_scale_set_enabled,
                supports_multiple_extensions: image.supports_multiple_extensions,
            },
            location,
            name: version.to_string(),
            id: format!("{base}/{}/Versions/{version}", image.kind),
        },
    ))
}

// ---- the extension resource ---------------------------------------------------------------

fn vm_of(id: &ResourceId) -> ResourceId {
    ResourceId { types: id.types[..1].to_vec(), ..id.clone() }
}

fn not_found(id: &ResourceId) -> ArmError {
    let vm = id.types.first().map(|(_, n)| n.as_str()).unwrap_or_default();
    let name = format!("{vm}/extensions/{}", id.name().unwrap_or_default());
    ArmError::resource_not_found(VM_TYPE, &name, id.resource_group.as_deref().unwrap_or_default())
}

fn vm_not_found(vm: &ResourceId) -> ArmError {
    ArmError::resource_not_found(VM_TYPE, vm.name().unwrap_or_default(), vm.resource_group.as_deref().unwrap_or_default())
}

fn stored(r: &Resource) -> ArmResult<wire::VirtualMachineExtensionProperties> {
    serde_json::from_value(r.properties.clone()).map_err(ArmError::internal)
}

/// The instance view a finished handler reports.
pub fn instance_view(name: &str, p: &wire::VirtualMachineExtensionProperties) -> wire::VirtualMachineExtensionInstanceView {
    wire::VirtualMachineExtensionInstanceView {
        name: name.to_string(),
        kind: format!("{}.{}", p.publisher, p.kind),
        type_handler_version: p.type_handler_version.clone(),
        statuses: vec![wire::ExtensionStatus {
            code: "ProvisioningState/succeeded".into(),
            level: "Info".into(),
            display_status: "Provisioning succeeded".into(),
            message: Some("Enable succeeded".into()),
        }],
    }
}

fn render(r: &Resource, expand: bool) -> ArmResult<wire::VirtualMachineExtension> {
    let mut properties = stored(r)?;
    if expand {
        properties.instance_view = Some(instance_view(&r.name, &properties));
    }
    Ok(wire::VirtualMachineExtension {
        name: r.name.clone(),
        id: r.id.clone(),
        kind: EXTENSION_TYPE,
        location: r.location.clone().unwrap_or_default(),
        tags: r.tags.clone(),
        properties,
    })
}

fn expand(ctx: &Ctx) -> bool {
    ctx.q("$expand").is_some_and(|e| e.split(',').any(|x| eq(x.trim(), "instanceView")))
}

/// What the handler of `properties` is: its image, and the properties as stored, validated.
fn checked(
    mut p: wire::VirtualMachineExtensionProperties,
) -> ArmResult<(&'static ExtensionImage, wire::VirtualMachineExtensionProperties)> {
    for (name, value) in [("publisher", &p.publisher), ("type", &p.kind), ("typeHandlerVersion", &p.type_handler_version)] {
        if value.trim().is_empty() {
            return Err(ArmError::compute_required_parameter(name));
        }
    }
    let image = catalog_ext::find(&p.publisher, &p.kind).ok_or_else(|| ArmError::vm_extension_not_found(&p.publisher, &p.kind))?;
    match catalog_ext::resolve(image, &p.type_handler_version, p.auto_upgrade_minor_version) {
        Ok(_) => {}
        Err(HandlerVersionError::Invalid) => return Err(ArmError::invalid_type_handler_version()),
        Err(HandlerVersionError::NotFound) => {
            return Err(ArmError::vm_extension_version_not_found(&p.publisher, &p.kind, &p.type_handler_version))
        }
    }
    p.provisioning_state = "Succeeded".into();
    p.instance_view = None;
    Ok((image, p))
}

fn body(ctx: &Ctx) -> ArmResult<wire::VirtualMachineExtensionWrite> {
    ctx.json()
}

/// The write's properties over `base` (PATCH: the stored ones; PUT: none), `protectedSettings`
/// dropped.
fn merged(
    base: Option<wire::VirtualMachineExtensionProperties>,
    w: wire::VirtualMachineExtensionWriteProperties,
) -> wire::VirtualMachineExtensionProperties {
    let put = base.is_none();
    let b = base.unwrap_or_default();
    wire::VirtualMachineExtensionProperties {
        force_update_tag: w.force_update_tag.or(b.force_update_tag),
        publisher: w.publisher.unwrap_or(b.publisher),
        kind: w.kind.unwrap_or(b.kind),
        type_handler_version: w.type_handler_version.unwrap_or(b.type_handler_version),
        auto_upgrade_minor_version: w.auto_upgrade_minor_version.unwrap_or(if put { false } else { b.auto_upgrade_minor_version }),
        enable_automatic_upgrade: w.enable_automatic_upgrade.or(b.enable_automatic_upgrade),
        settings: w.settings.or(b.settings),
        protected_settings_from_key_vault: w.protected_settings_from_key_vault.or(b.protected_settings_from_key_vault),
        suppress_failures: w.suppress_failures.or(b.suppress_failures),
        provision_after_extensions: w.provision_after_extensions.or(b.provision_after_extensions),
        provisioning_state: String::new(),
        instance_view: None,
    }
}

/// `GET|PUT|PATCH|DELETE .../virtualMachines/{vm}/extensions/{name}`
pub fn handle(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    let sub_id = sub.id.to_string();
    Registry::check_version(ctx, "Microsoft.Compute", "virtualMachines/extensions", None)?;
    let scope = id.render();
    let key = resource_id::key(&scope);
    let rg = id.resource_group.clone().unwrap_or_default();
    let action = |verb: &str| format!("{EXTENSION_TYPE}/{verb}");
    match ctx.method {
        Method::GET => {
            ctx.authorize(&action("read"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            let r = ctx.resource(&key)?.ok_or_else(|| not_found(id))?;
            Ok(json_response(StatusCode::OK, &render(&r, expand(ctx))?))
        }
        Method::PUT | Method::PATCH => {
            ctx.authorize(&action("write"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            write(ctx, id, &scope, &sub_id)
        }
        Method::DELETE => {
            ctx.authorize(&action("delete"), &scope)?;
            ctx.resource_group(&sub_id, &rg)?;
            let op = Uuid::new_v4().to_string();
            let removed = ctx.state.store.write(|tx| {
                let Some(r) = tx.resource(&key)? else { return Ok::<_, ArmError>(None) };
                tx.delete_resource(&key)?;
                generic::delete_contents(tx, &key)?;
                operations::record(tx, &op, &sub_id, None)?;
                Ok(Some(r))
            })?;
            let Some(r) = removed else { return Ok(Reply::status(StatusCode::NO_CONTENT)) };
            let mut res = Reply::status(StatusCode::ACCEPTED);
            add_async_headers(ctx, &mut res, &r, &op, true)?;
            Ok(res)
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

fn write(ctx: &Ctx, id: &ResourceId, scope: &str, sub: &str) -> ArmResult<Reply> {
    let patch = ctx.method == Method::PATCH;
    let body = body(ctx)?;
    let tags = body.tags;
    let props = body.properties.unwrap_or_default();
    let location = body.location.as_deref().map(catalog::normalize_location).transpose().ok().flatten();
    let key = resource_id::key(scope);
    let vm = vm_of(id);
    let vm_key = resource_id::key(&vm.render());
    let op = Uuid::new_v4().to_string();
    let now = Utc::now();
    let (r, created) = ctx.state.store.write(|tx| {
        let parent = tx.resource(&vm_key)?.ok_or_else(|| vm_not_found(&vm))?;
        let existing = tx.resource(&key)?;
        let base = match (&existing, patch) {
            (Some(e), true) => Some(stored(e)?),
            (None, true) => return Err(not_found(id)),
            _ => None,
        };
        let (_, properties) = checked(merged(base, clone_write(&props)))?;
        let r = Resource {
            id: existing
                .as_ref()
                .map(|e| e.id.clone())
                .unwrap_or_else(|| format!("{}/extensions/{}", parent.id, id.name().unwrap_or_default())),
            name: existing.as_ref().map(|e| e.name.clone()).unwrap_or_else(|| id.name().unwrap_or_default().to_string()),
            resource_type: EXTENSION_TYPE.to_string(),
            location: location.clone().or_else(|| parent.location.clone()),
            tags: if patch { tags.clone().or_else(|| existing.as_ref().and_then(|e| e.tags.clone())) } else { tags.clone() },
            properties: serde_json::to_value(&properties).map_err(ArmError::internal)?,
            identity: None,
            extra: Default::default(),
            created: existing.as_ref().map(|e| e.created).unwrap_or(now),
            changed: now,
        };
        tx.put_resource(&r)?;
        operations::record(tx, &op, sub, None)?;
        Ok::<_, ArmError>((r, existing.is_none()))
    })?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut res = json_response(status, &render(&r, false)?);
    add_async_headers(ctx, &mut res, &r, &op, false)?;
    Ok(res)
}

/// The write body's properties, once per attempt of the (re-runnable) write transaction.
fn clone_write(p: &wire::VirtualMachineExtensionWriteProperties) -> wire::VirtualMachineExtensionWriteProperties {
    wire::VirtualMachineExtensionWriteProperties {
        force_update_tag: p.force_update_tag.clone(),
        publisher: p.publisher.clone(),
        kind: p.kind.clone(),
        type_handler_version: p.type_handler_version.clone(),
        auto_upgrade_minor_version: p.auto_upgrade_minor_version,
        enable_automatic_upgrade: p.enable_automatic_upgrade,
        settings: p.settings.clone(),
        protected_settings: None,
        protected_settings_from_key_vault: p.protected_settings_from_key_vault.clone(),
        suppress_failures: p.suppress_failures,
        provision_after_extensions: p.provision_after_extensions.clone(),
    }
}

/// The extensions of `vm` (stored under it), for the list and the VM's instance view.
pub fn of_vm(tx: &mut dyn mimic_store::Tx, vm: &Resource) -> ArmResult<Vec<Resource>> {
    let prefix = format!("{}/", vm.key());
    let sub = vm.parsed_id().and_then(|p| p.subscription).unwrap_or_default().to_ascii_lowercase();
    let type_key = EXTENSION_TYPE.to_ascii_lowercase();
    let items = tx.resources(&mimic_store::ResourceFilter {
        subscription: &sub,
        resource_type: Some(&type_key),
        after_key: Some(&vm.key()),
        limit: 1000,
        ..Default::default()
    })?;
    Ok(items.into_iter().filter(|r| r.key().starts_with(&prefix)).collect())
}

/// `GET .../virtualMachines/{vm}/extensions`: `{"value": [...]}`.
pub fn list(ctx: &Ctx, vm: &ResourceId) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(vm.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Compute", "virtualMachines/extensions", None)?;
    let scope = vm.render();
    ctx.authorize(&format!("{EXTENSION_TYPE}/read"), &scope)?;
    ctx.resource_group(&sub.id.to_string(), vm.resource_group.as_deref().unwrap_or_default())?;
    let vm_key = resource_id::key(&scope);
    let items = ctx.state.store.read(|tx| {
        let Some(v) = tx.resource(&vm_key)? else { return Ok::<_, ArmError>(None) };
        Ok(Some(of_vm(tx, &v)?))
    })?;
    let items = items.ok_or_else(|| vm_not_found(vm))?;
    let expand = expand(ctx);
    let value = items.iter().map(|r| render(r, expand)).collect::<ArmResult<Vec<_>>>()?;
    Ok(json_response(StatusCode::OK, &wire::VirtualMachineExtensionsList { value }))
}

/// The instance views of a VM's extensions (`instanceView.extensions`, which az reads to find
/// an extension of the same type under another name).
pub fn instance_views(exts: &[Resource]) -> Vec<wire::VirtualMachineExtensionInstanceView> {
    exts.iter().filter_map(|r| stored(r).ok().map(|p| instance_view(&r.name, &p))).collect()
}
