//! The compute catalogue as data: marketplace images (and the alias document az reads) and VM
//! sizes (the `locations/{l}/vmSizes` list and the resource SKUs of `Microsoft.Compute/skus`).
//! Served by mimic-server's `arm/providers/compute/{images,sizes}.rs` (the alias document, the
//! VirtualMachineImages lookups, `vmSizes`, `Microsoft.Compute/skus` and the VM size check);
//! lookups match names case-insensitively, as ARM does.
//!
//! Sources (also in each file's `_sources` key):
//! - images.json: the Rust `CATALOG` table mimic-server had before this file replaced it (its aliases kept exactly); az's alias
//!   document (Azure/azure-rest-api-specs arm-compute/quickstart-templates/aliases.json); learn.microsoft.com
//!   "Find and use Azure Marketplace VM images with Azure CLI" and the Linux/Windows VM quickstarts;
//!   Azure/azure-quickstart-templates (vm-simple-linux, vm-simple-windows). Version strings follow each
//!   publisher's format; the builds themselves are illustrative, not live marketplace data.
//! - vm_sizes.json: the Microsoft.Compute OpenAPI `VirtualMachineSize` and `ResourceSku` shapes;
//!   learn.microsoft.com/azure/virtual-machines/sizes spec tables; `az vm list-skus` family/capability names.
//! - Both were compiled from recollection of these sources and not yet checked line by line against
//!   azure-rest-api-specs or the live marketplace: treat versions and per-size figures as plausible, not authoritative.

pub mod extensions;

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// One marketplace image (publisher/offer/sku) with its versions, newest first.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub publisher: String,
    pub offer: String,
    pub sku: String,
    pub versions: Vec<String>,
    pub os_type: String,
    pub hyper_v_generation: String,
    pub architecture: String,
    pub trusted_launch: bool,
    #[serde(rename = "diskSizeGB")]
    pub disk_size_gb: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
}

/// A purchase plan, as `ImageReference`/`VirtualMachineImage.plan` has it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    pub product: String,
    pub publisher: String,
}

/// One entry of `GET .../locations/{l}/vmSizes`, plus the facts resource SKUs are built from
/// (skipped when serialised, so `Serialize` gives the wire shape of `VirtualMachineSize`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VmSize {
    pub name: String,
    pub number_of_cores: u32,
    #[serde(rename = "osDiskSizeInMB")]
    pub os_disk_size_in_mb: u64,
    #[serde(rename = "resourceDiskSizeInMB")]
    pub resource_disk_size_in_mb: u64,
    #[serde(rename = "memoryInMB")]
    pub memory_in_mb: u64,
    pub max_data_disk_count: u32,
    #[serde(skip_serializing)]
    pub family: String,
    #[serde(skip_serializing, rename = "premiumIO")]
    pub premium_io: bool,
    #[serde(skip_serializing)]
    pub accelerated_networking: bool,
    /// "V1", "V2" or "V1,V2".
    #[serde(skip_serializing)]
    pub hyper_v_generations: String,
    #[serde(skip_serializing)]
    pub cpu_architecture: String,
}

/// A resource SKU as `GET /subscriptions/{s}/providers/Microsoft.Compute/skus` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSku {
    pub resource_type: String,
    pub name: String,
    pub tier: String,
    pub size: String,
    pub family: String,
    pub locations: Vec<String>,
    pub location_info: Vec<LocationInfo>,
    pub capabilities: Vec<Capability>,
    pub restrictions: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LocationInfo {
    pub location: String,
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Capability {
    pub name: String,
    pub value: String,
}

#[derive(Deserialize)]
struct ImagesFile {
    images: Vec<Image>,
}

#[derive(Deserialize)]
struct SizesFile {
    #[serde(rename = "vmSizes")]
    vm_sizes: Vec<VmSize>,
}

static IMAGES: LazyLock<Vec<Image>> =
    LazyLock::new(|| serde_json::from_str::<ImagesFile>(include_str!("images.json")).expect("catalog/images.json parses").images);
static SIZES: LazyLock<Vec<VmSize>> =
    LazyLock::new(|| serde_json::from_str::<SizesFile>(include_str!("vm_sizes.json")).expect("catalog/vm_sizes.json parses").vm_sizes);

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Pushes `name` unless present (case-insensitively); keeps first spelling and order.
fn push_unique<'a>(v: &mut Vec<&'a str>, name: &'a str) {
    if !v.iter().any(|n| eq(n, name)) {
        v.push(name);
    }
}

/// Every image, in file order.
pub fn images() -> impl Iterator<Item = &'static Image> {
    IMAGES.iter()
}

/// Publishers offering images. Every location has the whole catalogue, so `location` only
/// documents the ARM path this answers.
pub fn publishers(_location: &str) -> Vec<&'static str> {
    let mut v = Vec::new();
    images().for_each(|i| push_unique(&mut v, &i.publisher));
    v
}

/// Offers of `publisher`.
pub fn offers(publisher: &str) -> Vec<&'static str> {
    let mut v = Vec::new();
    images().filter(|i| eq(&i.publisher, publisher)).for_each(|i| push_unique(&mut v, &i.offer));
    v
}

/// SKUs of `publisher`/`offer`.
pub fn skus(publisher: &str, offer: &str) -> Vec<&'static str> {
    let mut v = Vec::new();
    images().filter(|i| eq(&i.publisher, publisher) && eq(&i.offer, offer)).for_each(|i| push_unique(&mut v, &i.sku));
    v
}

/// The image entry of `publisher`/`offer`/`sku`.
pub fn sku(publisher: &str, offer: &str, sku: &str) -> Option<&'static Image> {
    images().find(|i| eq(&i.publisher, publisher) && eq(&i.offer, offer) && eq(&i.sku, sku))
}

/// Versions of `publisher`/`offer`/`sku`, newest first (empty when unknown).
pub fn versions(publisher: &str, offer: &str, sku_name: &str) -> &'static [String] {
    sku(publisher, offer, sku_name).map(|i| i.versions.as_slice()).unwrap_or(&[])
}

/// Resolves `version` (or `latest`) of an image: the entry and the concrete version string.
pub fn image(publisher: &str, offer: &str, sku_name: &str, version: &str) -> Option<(&'static Image, &'static str)> {
    let i = sku(publisher, offer, sku_name)?;
    let v = if eq(version, "latest") { i.versions.first()? } else { i.versions.iter().find(|v| eq(v, version))? };
    Some((i, v.as_str()))
}

/// Resolves a URN `publisher:offer:sku:version`.
pub fn image_urn(urn: &str) -> Option<(&'static Image, &'static str)> {
    let mut p = urn.split(':');
    let (a, b, c, d) = (p.next()?, p.next()?, p.next()?, p.next()?);
    if p.next().is_some() {
        return None;
    }
    image(a, b, c, d)
}

/// The images that have an alias (az's `--image Ubuntu2204`), in file order.
pub fn aliases() -> impl Iterator<Item = (&'static str, &'static Image)> {
    images().filter_map(|i| i.alias.as_deref().map(|a| (a, i)))
}

/// The image of `alias`, case-insensitively.
pub fn alias(name: &str) -> Option<&'static Image> {
    aliases().find(|(a, _)| eq(a, name)).map(|(_, i)| i)
}

/// The alias document az reads (`outputs.aliases.value`): `{"Linux": {alias: {...}}, "Windows": {...}}`.
pub fn alias_document() -> serde_json::Value {
    let mut linux = serde_json::Map::new();
    let mut windows = serde_json::Map::new();
    for (a, i) in aliases() {
        let entry = serde_json::json!({"publisher": i.publisher, "offer": i.offer, "sku": i.sku, "version": "latest", "architecture": i.architecture});
        if eq(&i.os_type, "Windows") { &mut windows } else { &mut linux }.insert(a.to_owned(), entry);
    }
    serde_json::json!({"Linux": linux, "Windows": windows})
}

/// Every VM size (the same list in every location).
pub fn vm_sizes() -> &'static [VmSize] {
    &SIZES
}

/// The VM size `name`, case-insensitively.
pub fn vm_size(name: &str) -> Option<&'static VmSize> {
    SIZES.iter().find(|s| eq(&s.name, name))
}

/// The tier and size parts of a size name: `Standard_D2s_v3` -> ("Standard", "D2s_v3").
fn tier_and_size(name: &str) -> (&str, &str) {
    name.split_once('_').unwrap_or(("Standard", name))
}

/// The resource SKU of one size in `location` (zones 1-3).
pub fn resource_sku(size: &VmSize, location: &str) -> ResourceSku {
    let (tier, short) = tier_and_size(&size.name);
    let cap = |n: &str, v: String| Capability { name: n.to_owned(), value: v };
    let tf = |b: bool| if b { "True" } else { "False" }.to_owned();
    let capabilities = vec![
        cap("MaxResourceVolumeMB", size.resource_disk_size_in_mb.to_string()),
        cap("OSVhdSizeMB", size.os_disk_size_in_mb.to_string()),
        cap("vCPUs", size.number_of_cores.to_string()),
        cap("HyperVGenerations", size.hyper_v_generations.clone()),
        cap("MemoryGB", fmt_gb(size.memory_in_mb)),
        cap("MaxDataDiskCount", size.max_data_disk_count.to_string()),
        cap("CpuArchitectureType", size.cpu_architecture.clone()),
        cap("LowPriorityCapable", "True".to_owned()),
        cap("PremiumIO", tf(size.premium_io)),
        cap("VMDeploymentTypes", "IaaS".to_owned()),
        cap("vCPUsAvailable", size.number_of_cores.to_string()),
        cap("vCPUsPerCore", if size.number_of_cores > 1 && !size.name.contains("_B") { "2" } else { "1" }.to_owned()),
        cap("EncryptionAtHostSupported", "True".to_owned()),
        cap("AcceleratedNetworkingEnabled", tf(size.accelerated_networking)),
        cap("RdmaEnabled", "False".to_owned()),
        cap("MaxNetworkInterfaces", size.number_of_cores.clamp(2, 8).to_string()),
    ];
    ResourceSku {
        resource_type: "virtualMachines".to_owned(),
        name: size.name.clone(),
        tier: tier.to_owned(),
        size: short.to_owned(),
        family: size.family.clone(),
        locations: vec![location.to_owned()],
        location_info: vec![LocationInfo { location: location.to_owned(), zones: vec!["1".into(), "2".into(), "3".into()] }],
        capabilities,
        restrictions: Vec::new(),
    }
}

/// Memory in GB as Azure writes it: `0.5`, `1`, `3.5`.
fn fmt_gb(mb: u64) -> String {
    if mb.is_multiple_of(1024) {
        (mb / 1024).to_string()
    } else {
        format!("{}", mb as f64 / 1024.0)
    }
}

/// The resource SKUs of every VM size in `location`.
pub fn resource_skus(location: &str) -> Vec<ResourceSku> {
    SIZES.iter().map(|s| resource_sku(s, location)).collect()
}

#[cfg(test)]
mod tests;
