//! Marketplace images, answered offline from `mimic_domain::catalog` (its images.json): the
//! image alias document az fetches from the cloud's `vmImageAliasDoc` (`GET
//! /mimic/vm-image-aliases`, open as Azure's blob is), and the VirtualMachineImages lookups `az
//! vm create` and `az vm image list|show|list-*` make under
//! `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/publishers/...`; also the size
//! lists of the same catalogue (`locations/{l}/vmSizes`, `Microsoft.Compute/skus`).
//!
//! Sources: the alias document az 2.91 bundles (azure/cli/command_modules/vm/_alias.py, a copy
//! of Azure/azure-rest-api-specs arm-compute/quickstart-templates/aliases.json) plus
//! Ubuntu2404; compute.json `VirtualMachineImages_*` (lists = bare JSON arrays of `{location,
//! name, id}`, `$orderby=name desc`, `$top`, `$expand`), `VirtualMachineSizes_List` (`{"value":
//! [...]}`), skus.json `ResourceSkus_List` (`$filter=location eq '...'`); docs/azure-behaviour.md
//! §11.6 (what az reads: osDiskImage.operatingSystem, hyperVGeneration, architecture, features,
//! plan) and its catalogue section.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mimic_domain::catalog::{self as data, Image};
use mimic_domain::resource_id::ResourceId;
use serde_json::{json, Value};

use crate::arm::core::{catalog, json_response, ArmError, ArmResult, Ctx, Registry, Reply};

/// `GET /mimic/vm-image-aliases`: the document az reads `outputs.aliases.value` of (a template
/// document, JSON by nature).
pub fn alias_doc() -> Response {
    let doc = json!({
        "$schema": "http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json",
        "contentVersion": "1.0.0.0",
        "parameters": {},
        "variables": {},
        "resources": [],
        "outputs": {"aliases": {"type": "object", "value": data::alias_document()}},
    });
    (StatusCode::OK, Json(doc)).into_response()
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `.../locations/{l}/publishers[...]` ids: (location, publisher, offer, sku, version) present
/// so far, and what is listed (`publishers`, `offers`, `skus`, `versions`) if a listing.
struct Path {
    location: String,
    publisher: Option<String>,
    offer: Option<String>,
    sku: Option<String>,
    version: Option<String>,
}

fn parse(id: &ResourceId, action: Option<&str>) -> Option<(Path, Option<String>)> {
    if id.resource_group.is_some() || !id.namespace.as_deref().is_some_and(|n| eq(n, "Microsoft.Compute")) {
        return None;
    }
    let t = &id.types;
    if t.is_empty() || !eq(&t[0].0, "locations") {
        return None;
    }
    let mut p = Path { location: t[0].1.clone(), publisher: None, offer: None, sku: None, version: None };
    let expected = ["locations", "publishers", "artifacttypes", "offers", "skus", "versions"];
    for (i, (ty, name)) in t.iter().enumerate() {
        if i >= expected.len() || !eq(ty, expected[i]) {
            return None;
        }
        match i {
            1 => p.publisher = Some(name.clone()),
            2 if !eq(name, "vmimage") => return None,
            3 => p.offer = Some(name.clone()),
            4 => p.sku = Some(name.clone()),
            5 => p.version = Some(name.clone()),
            _ => {}
        }
    }
    let listing = match action {
        None => {
            if t.len() != 6 {
                return None;
            }
            None
        }
        Some(a) => {
            let next = match t.len() {
                1 => "publishers",
                3 => "offers",
                4 => "skus",
                5 => "versions",
                _ => return None,
            };
            if !eq(a, next) {
                return None;
            }
            Some(next.to_string())
        }
    };
    if t.len() == 2 {
        return None;
    }
    Some((p, listing))
}

pub fn is_image_path(id: &ResourceId) -> bool {
    parse(id, None).is_some()
}

pub fn is_image_listing(id: &ResourceId, action: &str) -> bool {
    parse(id, Some(action)).is_some()
}

fn base(sub: &str, location: &str) -> String {
    format!("/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{location}")
}

fn not_found() -> ArmError {
    ArmError::vm_image_not_found()
}

fn check(ctx: &Ctx, id: &ResourceId) -> ArmResult<String> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Compute", "locations", None)?;
    let scope = format!("/subscriptions/{}", sub.id);
    ctx.authorize("Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read", &scope)?;
    Ok(sub.id.to_string())
}

fn version_object(sub: &str, location: &str, i: &Image, v: &str) -> Value {
    let mut features = vec![
        json!({"name": "IsAcceleratedNetworkSupported", "value": "True"}),
        json!({"name": "DiskControllerTypes", "value": "SCSI, NVMe"}),
    ];
    if i.trusted_launch {
        features.insert(0, json!({"name": "SecurityType", "value": "TrustedLaunchSupported"}));
    }
    let mut properties = json!({
        "hyperVGeneration": i.hyper_v_generation,
        "architecture": i.architecture,
        "replicaType": "Unmanaged",
        "disallowed": {"vmDiskType": "Unmanaged"},
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": false},
        "imageDeprecationStatus": {"imageState": "Active"},
        "features": features,
        "osDiskImage": {"operatingSystem": i.os_type, "sizeInGb": i.disk_size_gb},
        "dataDiskImages": [],
    });
    if let Some(plan) = &i.plan {
        properties["plan"] = json!({"publisher": plan.publisher, "name": plan.name, "product": plan.product});
    }
    json!({
        "properties": properties,
        "location": location,
        "name": v,
        "id": format!("{}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}/Versions/{v}", base(sub, location), i.publisher, i.offer, i.sku),
    })
}

/// `GET .../skus/{sku}/versions/{version}` (`latest` too).
pub fn get(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = check(ctx, id)?;
    let (p, _) = parse(id, None).ok_or_else(not_found)?;
    let location = catalog::normalize_location(&p.location).map_err(|_| not_found())?;
    let (i, v) = data::image(
        p.publisher.as_deref().unwrap_or_default(),
        p.offer.as_deref().unwrap_or_default(),
        p.sku.as_deref().unwrap_or_default(),
        p.version.as_deref().unwrap_or_default(),
    )
    .ok_or_else(not_found)?;
    Ok(json_response(StatusCode::OK, &version_object(&sub, &location, i, v)))
}

/// Orders names as Azure orders image versions: dot-separated parts numerically where both are
/// numbers (`9.10` after `9.9`), otherwise case-insensitively.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.split('.'), b.split('.'));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => p.to_ascii_lowercase().cmp(&q.to_ascii_lowercase()),
                };
                if o.is_ne() {
                    return o;
                }
            }
        }
    }
}

/// `GET .../publishers`, `.../offers`, `.../skus`, `.../versions`: bare JSON arrays of `{location,
/// name, id}` (versions in ascending order, as Azure lists them; `$orderby=name [asc|desc]`,
/// `$top`, and `$expand=properties` for versions).
pub fn list(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<Reply> {
    let sub = check(ctx, id)?;
    let (p, listing) = parse(id, Some(action)).ok_or_else(not_found)?;
    let location = catalog::normalize_location(&p.location).map_err(|_| not_found())?;
    let b = base(&sub, &location);
    let matching = |i: &&Image| {
        p.publisher.as_deref().is_none_or(|x| eq(x, &i.publisher))
            && p.offer.as_deref().is_none_or(|x| eq(x, &i.offer))
            && p.sku.as_deref().is_none_or(|x| eq(x, &i.sku))
    };
    let images: Vec<&Image> = data::images().filter(matching).collect();
    let mut names: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, id: String| {
        if !names.iter().any(|(n, _)| eq(n, name)) {
            names.push((name.to_owned(), id));
        }
    };
    match listing.as_deref() {
        Some("publishers") => {
            // One publisher list for images and extensions, as Azure's (az's extension image
            // search lists the publishers first, then each one's `vmextension` types).
            let extension_publishers = data::extensions::publishers();
            let all = data::publishers(&location).into_iter().chain(extension_publishers);
            all.for_each(|p| push(p, format!("{b}/Publishers/{p}")))
        }
        Some("offers") => {
            images.iter().for_each(|i| push(&i.offer, format!("{b}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}", i.publisher, i.offer)))
        }
        Some("skus") => images
            .iter()
            .for_each(|i| push(&i.sku, format!("{b}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}", i.publisher, i.offer, i.sku))),
        _ => {
            for i in &images {
                for v in &i.versions {
                    push(v, format!("{b}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}/Versions/{v}", i.publisher, i.offer, i.sku));
                }
            }
            names.sort_by(|a, b| version_order(&a.0, &b.0));
        }
    }
    if names.is_empty() && p.publisher.is_some() {
        return Err(not_found());
    }
    if let Some(o) = ctx.q("$orderby").map(|o| o.trim().to_ascii_lowercase()) {
        names.sort_by(|a, b| version_order(&a.0, &b.0));
        if o.ends_with(" desc") {
            names.reverse();
        }
    }
    if let Some(top) = ctx.q("$top").and_then(|t| t.parse::<usize>().ok()) {
        names.truncate(top);
    }
    let expand = ctx.q("$expand").is_some_and(|e| e.to_ascii_lowercase().starts_with("properties"));
    let value: Vec<Value> = names
        .into_iter()
        .map(|(name, id)| {
            if expand && listing.as_deref() == Some("versions") {
                if let Some(i) = images.iter().find(|i| i.versions.iter().any(|v| v == &name)) {
                    return version_object(&sub, &location, i, &name);
                }
            }
            json!({"location": location, "name": name, "id": id})
        })
        .collect();
    Ok(json_response(StatusCode::OK, &value))
}
