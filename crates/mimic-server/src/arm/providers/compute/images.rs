//! Marketplace images, answered offline: the image alias document az fetches from the cloud's
//! `vmImageAliasDoc` (`GET /mimic/vm-image-aliases`, open as Azure's blob is), and the
//! VirtualMachineImages lookups `az vm create` and `az vm image list-*` make under
//! `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/publishers/...`.
//!
//! Sources: the alias document az 2.91 bundles (azure/cli/command_modules/vm/_alias.py, a copy
//! of Azure/azure-rest-api-specs arm-compute/quickstart-templates/aliases.json) plus
//! Ubuntu2404; compute.json `VirtualMachineImage*` (list = bare JSON array, `$orderby=name
//! desc`, `$top`); docs/azure-behaviour.md §11.6 (what az reads: osDiskImage.operatingSystem,
//! hyperVGeneration, architecture, features, plan).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mimic_domain::resource_id::ResourceId;
use serde_json::{json, Value};

use crate::arm::core::{catalog, json_response, ArmError, ArmResult, Ctx, Registry, Reply};

struct Image {
    alias: Option<(&'static str, &'static str)>,
    publisher: &'static str,
    offer: &'static str,
    sku: &'static str,
    /// Newest first.
    versions: &'static [&'static str],
    os: &'static str,
    generation: &'static str,
    architecture: &'static str,
    trusted_launch: bool,
    disk_gb: u32,
    plan: bool,
}

// One row of the table below, positional as the table reads (mimic_domain::catalog is to
// replace the table with its data file).
#[allow(clippy::too_many_arguments)]
const fn img(
    alias: Option<(&'static str, &'static str)>,
    publisher: &'static str,
    offer: &'static str,
    sku: &'static str,
    versions: &'static [&'static str],
    os: &'static str,
    generation: &'static str,
    architecture: &'static str,
    trusted_launch: bool,
    disk_gb: u32,
) -> Image {
    Image { alias, publisher, offer, sku, versions, os, generation, architecture, trusted_launch, disk_gb, plan: false }
}

const L: &str = "Linux";
const W: &str = "Windows";

static CATALOG: &[Image] = &[
    img(Some((L, "AzureLinux4")), "microsoftazurelinux", "azurelinux-4", "4", &["4.0.20250702"], L, "V2", "x64", true, 30),
    img(Some((L, "AzureLinux4Arm64")), "microsoftazurelinux", "azurelinux-4", "4-arm64", &["4.0.20250702"], L, "V2", "Arm64", false, 30),
    img(Some((L, "AzureLinux4Gen1")), "microsoftazurelinux", "azurelinux-4", "4-gen1", &["4.0.20250702"], L, "V1", "x64", false, 30),
    img(Some((L, "CentOS85Gen2")), "OpenLogic", "CentOS", "8_5-gen2", &["8.5.2022101401"], L, "V2", "x64", true, 30),
    img(
        Some((L, "Debian11")),
        "Debian",
        "debian-11",
        "11-backports-gen2",
        &["0.20250703.2162", "0.20250519.2119"],
        L,
        "V2",
        "x64",
        true,
        30,
    ),
    img(None, "Debian", "debian-12", "12-gen2", &["0.20250703.2162"], L, "V2", "x64", true, 30),
    Image {
        plan: true,
        ..img(
            Some((L, "FlatcarLinuxFreeGen2")),
            "kinvolk",
            "flatcar-container-linux-free",
            "stable-gen2",
            &["4230.2.1"],
            L,
            "V2",
            "x64",
            true,
            30,
        )
    },
    img(Some((L, "OpenSuseLeap154Gen2")), "SUSE", "openSUSE-leap-15-4", "gen2", &["2024.02.07"], L, "V2", "x64", true, 30),
    img(Some((L, "RHELRaw8LVMGen2")), "RedHat", "RHEL", "8-lvm-gen2", &["8.10.2025061914"], L, "V2", "x64", true, 64),
    img(Some((L, "SuseSles15SP3")), "SUSE", "sles-15-sp3", "gen2", &["2024.02.07"], L, "V2", "x64", true, 30),
    img(
        Some((L, "Ubuntu2204")),
        "Canonical",
        "0001-com-ubuntu-server-jammy",
        "22_04-lts-gen2",
        &["22.04.202507300", "22.04.202506200"],
        L,
        "V2",
        "x64",
        true,
        30,
    ),
    img(None, "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", &["22.04.202507300"], L, "V1", "x64", false, 30),
    img(
        Some((L, "Ubuntu2404")),
        "Canonical",
        "ubuntu-24_04-lts",
        "server",
        &["24.04.202507290", "24.04.202506260"],
        L,
        "V2",
        "x64",
        true,
        30,
    ),
    img(None, "Canonical", "ubuntu-24_04-lts", "server-gen1", &["24.04.202507290"], L, "V1", "x64", false, 30),
    img(
        Some((W, "Win2022Datacenter")),
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-g2",
        &["20348.3932.250705"],
        W,
        "V2",
        "x64",
        true,
        127,
    ),
    img(
        Some((W, "Win2022AzureEditionCore")),
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2022-datacenter-azure-edition-core",
        &["20348.3932.250705"],
        W,
        "V2",
        "x64",
        true,
        127,
    ),
    img(
        Some((W, "Win2019Datacenter")),
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2019-datacenter-gensecond",
        &["17763.7558.250705"],
        W,
        "V2",
        "x64",
        true,
        127,
    ),
    img(
        Some((W, "Win2016Datacenter")),
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2016-datacenter-gensecond",
        &["14393.8246.250705"],
        W,
        "V2",
        "x64",
        true,
        127,
    ),
    img(
        Some((W, "Win2012R2Datacenter")),
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2012-R2-Datacenter",
        &["9600.21620.231004"],
        W,
        "V1",
        "x64",
        false,
        127,
    ),
    img(
        Some((W, "Win2012Datacenter")),
        "MicrosoftWindowsServer",
        "WindowsServer",
        "2012-Datacenter",
        &["9200.24518.231004"],
        W,
        "V1",
        "x64",
        false,
        127,
    ),
    img(None, "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter", &["20348.3932.250705"], W, "V1", "x64", false, 127),
    img(None, "MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter", &["17763.7558.250705"], W, "V1", "x64", false, 127),
    img(None, "MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter", &["14393.8246.250705"], W, "V1", "x64", false, 127),
];

/// `GET /mimic/vm-image-aliases`: the document az reads `outputs.aliases.value` of. (A template
/// document, JSON by nature; the image shapes below have no wire types yet: this table gives way
/// to `mimic_domain::catalog` when the full image catalogue is served.)
pub fn alias_doc() -> Response {
    let mut linux = serde_json::Map::new();
    let mut windows = serde_json::Map::new();
    for i in CATALOG {
        let Some((os, alias)) = i.alias else { continue };
        let entry = json!({"publisher": i.publisher, "offer": i.offer, "sku": i.sku, "version": "latest", "architecture": i.architecture});
        if os == L {
            linux.insert(alias.into(), entry)
        } else {
            windows.insert(alias.into(), entry)
        };
    }
    let doc = json!({
        "$schema": "http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json",
        "contentVersion": "1.0.0.0",
        "parameters": {},
        "variables": {},
        "resources": [],
        "outputs": {"aliases": {"type": "object", "value": {"Linux": linux, "Windows": windows}}},
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
        "hyperVGeneration": i.generation,
        "architecture": i.architecture,
        "replicaType": "Unmanaged",
        "disallowed": {"vmDiskType": "Unmanaged"},
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": false},
        "imageDeprecationStatus": {"imageState": "Active"},
        "features": features,
        "osDiskImage": {"operatingSystem": i.os, "sizeInGb": i.disk_gb},
        "dataDiskImages": [],
    });
    if i.plan {
        properties["plan"] = json!({"publisher": i.publisher, "name": i.sku, "product": i.offer});
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
    let i = CATALOG
        .iter()
        .find(|i| {
            p.publisher.as_deref().is_some_and(|x| eq(x, i.publisher))
                && p.offer.as_deref().is_some_and(|x| eq(x, i.offer))
                && p.sku.as_deref().is_some_and(|x| eq(x, i.sku))
        })
        .ok_or_else(not_found)?;
    let want = p.version.unwrap_or_default();
    let v = if eq(&want, "latest") { Some(i.versions[0]) } else { i.versions.iter().find(|v| eq(v, &want)).copied() };
    let v = v.ok_or_else(not_found)?;
    Ok(json_response(StatusCode::OK, &version_object(&sub, &location, i, v)))
}

/// `GET .../publishers`, `.../offers`, `.../skus`, `.../versions`: bare JSON arrays.
pub fn list(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<Reply> {
    let sub = check(ctx, id)?;
    let (p, listing) = parse(id, Some(action)).ok_or_else(not_found)?;
    let location = catalog::normalize_location(&p.location).map_err(|_| not_found())?;
    let b = base(&sub, &location);
    let matching = |i: &&Image| {
        p.publisher.as_deref().is_none_or(|x| eq(x, i.publisher))
            && p.offer.as_deref().is_none_or(|x| eq(x, i.offer))
            && p.sku.as_deref().is_none_or(|x| eq(x, i.sku))
    };
    let images: Vec<&Image> = CATALOG.iter().filter(matching).collect();
    let mut names: Vec<(String, String)> = Vec::new();
    let mut push = |name: String, id: String| {
        if !names.iter().any(|(n, _)| eq(n, &name)) {
            names.push((name, id));
        }
    };
    match listing.as_deref() {
        Some("publishers") => {
            // One publisher list for images and extensions, as Azure's (az's extension image
            // search lists the publishers first, then each one's `vmextension` types).
            let extension_publishers = mimic_domain::catalog::extensions::publishers();
            let all = images.iter().map(|i| i.publisher).chain(extension_publishers);
            all.for_each(|p| push(p.into(), format!("{b}/Publishers/{p}")))
        }
        Some("offers") => images
            .iter()
            .for_each(|i| push(i.offer.into(), format!("{b}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}", i.publisher, i.offer))),
        Some("skus") => images.iter().for_each(|i| {
            push(i.sku.into(), format!("{b}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}", i.publisher, i.offer, i.sku))
        }),
        _ => {
            for i in &images {
                for v in i.versions {
                    push(
                        v.to_string(),
                        format!("{b}/Publishers/{}/ArtifactTypes/VMImage/Offers/{}/Skus/{}/Versions/{v}", i.publisher, i.offer, i.sku),
                    );
                }
            }
        }
    }
    if names.is_empty() && (p.publisher.is_some()) {
        return Err(not_found());
    }
    let orderby = ctx.q("$orderby").map(|o| o.to_ascii_lowercase());
    if let Some(o) = &orderby {
        names.sort_by(|a, b| a.0.cmp(&b.0));
        if o.ends_with("desc") {
            names.reverse();
        }
    }
    if let Some(top) = ctx.q("$top").and_then(|t| t.parse::<usize>().ok()) {
        names.truncate(top);
    }
    let expand = ctx.q("$expand").is_some_and(|e| e.eq_ignore_ascii_case("properties"));
    let value: Vec<Value> = names
        .into_iter()
        .map(|(name, id)| {
            if expand && listing.as_deref() == Some("versions") {
                if let Some(i) = images.iter().find(|i| i.versions.contains(&name.as_str())) {
                    return version_object(&sub, &location, i, &name);
                }
            }
            json!({"location": location, "name": name, "id": id})
        })
        .collect();
    Ok(json_response(StatusCode::OK, &value))
}
