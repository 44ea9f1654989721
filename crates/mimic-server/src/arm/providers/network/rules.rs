//! What the Network RP adds to the Microsoft.Network resources Mimic otherwise stores
//! generically (`core::generic`): private addresses for a NIC's IP configurations, public addresses,
//! MAC addresses, and the read-only cross references Azure's GETs show (a NIC's
//! `virtualMachine`, a public IP's `ipConfiguration`, a subnet's `ipConfigurations`). Every hook
//! runs inside the caller's store write transaction, so two NICs written at once can never get
//! the same address (SQLite has one writer; PostgreSQL's SERIALIZABLE re-runs the loser, which
//! then sees the winner's NIC). The address rules are `mimic_domain::network`.
//!
//! Where things are stored: addresses and references in the resources' own `properties`; each
//! public address taken also as a store document of kind `PUBLIC_IP` keyed by the address,
//! because public addresses are unique across subscriptions.
//!
//! Sources: network.json (NetworkInterfaceIPConfiguration, PublicIPAddress, Subnet shapes);
//! "Dynamic [public] addresses are assigned when the public IP is associated with a resource and
//! the resource is started; released when you stop (deallocate) or delete the resource", Static
//! ones "assigned at creation" (learn.microsoft.com/azure/virtual-network/ip-services/
//! public-ip-addresses, "IP address assignment").
//!
//! The `json!` here writes into resources' `properties`, which the store keeps as the ARM body
//! (`Resource::properties`), so the shapes Network adds are JSON like the rest of the body.

use mimic_domain::network::{self as rules, InUse, Prefix, PublicIpAllocation};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::documents::{Docs, PUBLIC_IP};
use mimic_store::Tx;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::shapes::{self, NSG_TYPE};
use crate::arm::core::registry::Moving;
use crate::arm::core::{generic, ArmError, ArmResult, Registry, VmEvent};

pub const NIC_TYPE: &str = "Microsoft.Network/networkInterfaces";
pub const PUBLIC_IP_TYPE: &str = "Microsoft.Network/publicIPAddresses";
pub const VNET_TYPE: &str = "Microsoft.Network/virtualNetworks";
pub const SUBNET_TYPE: &str = "Microsoft.Network/virtualNetworks/subnets";
const IP_CONFIG_TYPE: &str = "Microsoft.Network/networkInterfaces/ipConfigurations";

pub fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn id_of(v: &Value) -> Option<&str> {
    v.get("id").and_then(Value::as_str)
}

/// Before a resource of any type is stored by the generic handler (inside its transaction).
pub fn before_write(reg: &Registry, tx: &mut dyn Tx, r: &mut Resource, existing: Option<&Resource>) -> ArmResult<()> {
    if eq(&r.resource_type, NIC_TYPE) {
        nic_write(reg, tx, r, existing)
    } else if eq(&r.resource_type, PUBLIC_IP_TYPE) {
        public_ip_write(reg, tx, r, existing)
    } else if eq(&r.resource_type, VNET_TYPE) {
        vnet_write(r, existing);
        shapes::vnet(r, existing);
        Ok(())
    } else if eq(&r.resource_type, NSG_TYPE) {
        shapes::nsg(r, existing);
        Ok(())
    } else {
        Ok(())
    }
}

/// Before a direct DELETE: what Azure refuses, and what the resource held is given back.
pub fn before_delete(tx: &mut dyn Tx, r: &Resource) -> ArmResult<()> {
    if eq(&r.resource_type, NIC_TYPE) {
        if let Some(vm) = id_of(&r.properties["virtualMachine"]) {
            return Err(ArmError::nic_in_use(&r.id, vm));
        }
        sync_references(tx, &config_refs(Some(r)), &[], false)?;
    } else if eq(&r.resource_type, PUBLIC_IP_TYPE) {
        if let Some(config) = id_of(&r.properties["ipConfiguration"]) {
            return Err(ArmError::public_ip_cannot_be_deleted(&r.id, config));
        }
        let mut r = r.clone();
        release_public(tx, &mut r)?;
    } else if eq(&r.resource_type, VNET_TYPE) {
        vnet_in_use(tx, r)?;
    } else if eq(&r.resource_type, NSG_TYPE) {
        nsg_in_use(tx, r)?;
    }
    Ok(())
}

/// The subnets of `vnet` stored as resources of their own (by earlier versions of Mimic).
pub fn stored_subnets(tx: &mut dyn Tx, vnet: &Resource) -> ArmResult<Vec<Resource>> {
    let prefix = format!("{}/subnets/", resource_id::key(&vnet.id));
    let sub = ResourceId::parse(&vnet.id).ok().and_then(|p| p.subscription).unwrap_or_default().to_ascii_lowercase();
    let type_key = SUBNET_TYPE.to_ascii_lowercase();
    let filter = mimic_store::ResourceFilter {
        subscription: &sub,
        resource_type: Some(&type_key),
        after_key: Some(&prefix[..prefix.len() - 1]),
        limit: 10_000,
        ..Default::default()
    };
    Ok(tx.resources(&filter)?.into_iter().filter(|s| s.key().starts_with(&prefix)).collect())
}

/// A virtual network one of whose subnets holds an IP configuration cannot be deleted: Azure
/// answers with the subnet's own refusal (`InUseSubnetCannotBeDeleted`).
fn vnet_in_use(tx: &mut dyn Tx, vnet: &Resource) -> ArmResult<()> {
    for s in vnet.properties["subnets"].as_array().into_iter().flatten() {
        if let Some(user) = s["properties"]["ipConfigurations"].as_array().and_then(|c| c.first()) {
            return Err(ArmError::subnet_in_use(s["name"].as_str().unwrap_or_default(), id_of(user).unwrap_or_default()));
        }
    }
    for s in stored_subnets(tx, vnet)? {
        if let Some(user) = s.properties["ipConfigurations"].as_array().and_then(|c| c.first()) {
            return Err(ArmError::subnet_in_use(&s.name, id_of(user).unwrap_or_default()));
        }
    }
    Ok(())
}

/// A network security group named by a NIC or a subnet of the subscription cannot be deleted
/// (`InUseNetworkSecurityGroupCannotBeDeleted`, naming every such resource).
fn nsg_in_use(tx: &mut dyn Tx, nsg: &Resource) -> ArmResult<()> {
    let nsg_key = resource_id::key(&nsg.id);
    let names_it = |p: &Value| id_of(&p["networkSecurityGroup"]).is_some_and(|n| resource_id::key(n) == nsg_key);
    let sub = ResourceId::parse(&nsg.id).ok().and_then(|p| p.subscription).unwrap_or_default().to_ascii_lowercase();
    let mut users = Vec::new();
    for full_type in [NIC_TYPE, VNET_TYPE, SUBNET_TYPE] {
        let type_key = full_type.to_ascii_lowercase();
        let filter =
            mimic_store::ResourceFilter { subscription: &sub, resource_type: Some(&type_key), limit: 1_000_000, ..Default::default() };
        for r in tx.resources(&filter)? {
            if eq(full_type, VNET_TYPE) {
                for s in r.properties["subnets"].as_array().into_iter().flatten().filter(|s| names_it(&s["properties"])) {
                    users.push(
                        id_of(s)
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("{}/subnets/{}", r.id, s["name"].as_str().unwrap_or_default())),
                    );
                }
            } else if names_it(&r.properties) {
                users.push(r.id.clone());
            }
        }
    }
    if users.is_empty() {
        Ok(())
    } else {
        Err(ArmError::nsg_in_use(&nsg.id, &users))
    }
}

/// Before resource group `rg` is deleted: its public addresses go back to the pool. (Private
/// addresses live in the NICs themselves.)
pub fn release_in_group(tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
    let pips = generic::of_type_in_group(tx, sub, rg, PUBLIC_IP_TYPE)?;
    for mut pip in pips {
        release_public(tx, &mut pip)?;
    }
    Ok(())
}

// ---- virtual networks ----------------------------------------------------------------------

/// Inline subnets get their ids, and keep the `ipConfigurations` a client's PUT does not carry.
fn vnet_write(r: &mut Resource, existing: Option<&Resource>) {
    let vnet_id = r.id.clone();
    let Some(subnets) = r.properties.get_mut("subnets").and_then(Value::as_array_mut) else { return };
    for s in subnets.iter_mut() {
        let Some(name) = s.get("name").and_then(Value::as_str).map(str::to_string) else { continue };
        s["id"] = format!("{vnet_id}/subnets/{name}").into();
        s["type"] = SUBNET_TYPE.into();
        if !s["properties"].is_object() {
            s["properties"] = json!({});
        }
        s["properties"]["provisioningState"] = "Succeeded".into();
        let kept = existing.and_then(|e| inline_subnet(&e.properties, &name)).map(|old| old["properties"]["ipConfigurations"].clone());
        if let Some(c) = kept.filter(Value::is_array) {
            s["properties"]["ipConfigurations"] = c;
        }
    }
}

/// The entry `name` of a virtual network's `subnets` array.
pub(super) fn inline_subnet<'a>(vnet_properties: &'a Value, name: &str) -> Option<&'a Value> {
    vnet_properties["subnets"].as_array()?.iter().find(|s| s["name"].as_str().is_some_and(|n| eq(n, name)))
}

/// The subnet's properties, wherever the subnet lives: stored on its own (a PUT of
/// `.../subnets/{name}`) or inline in its virtual network. `edit` may change them; they are
/// written back when it returns true.
fn with_subnet<R>(tx: &mut dyn Tx, subnet_id: &str, edit: impl FnOnce(&mut Value) -> (R, bool)) -> ArmResult<Option<R>> {
    let Some(p) = ResourceId::parse(subnet_id)
        .ok()
        .filter(|p| p.types.len() == 2 && eq(&p.types[0].0, "virtualNetworks") && eq(&p.types[1].0, "subnets"))
    else {
        return Ok(None);
    };
    if let Some(mut s) = tx.resource(&resource_id::key(subnet_id))? {
        let (out, changed) = edit(&mut s.properties);
        if changed {
            tx.put_resource(&s)?;
        }
        return Ok(Some(out));
    }
    let vnet = ResourceId { types: p.types[..1].to_vec(), ..p.clone() }.render();
    let Some(mut v) = tx.resource(&resource_id::key(&vnet))? else { return Ok(None) };
    let name = &p.types[1].1;
    let Some(s) = v
        .properties
        .get_mut("subnets")
        .and_then(Value::as_array_mut)
        .and_then(|a| a.iter_mut().find(|s| s["name"].as_str().is_some_and(|n| eq(n, name))))
    else {
        return Ok(None);
    };
    if !s["properties"].is_object() {
        s["properties"] = json!({});
    }
    let (out, changed) = edit(&mut s["properties"]);
    if changed {
        tx.put_resource(&v)?;
    }
    Ok(Some(out))
}

fn subnet_prefix(tx: &mut dyn Tx, subnet_id: &str) -> ArmResult<Option<Prefix>> {
    let found = with_subnet(tx, subnet_id, |p| {
        let text = p["addressPrefix"].as_str().or_else(|| p["addressPrefixes"][0].as_str()).map(str::to_string);
        (text.as_deref().and_then(Prefix::parse), false)
    })?;
    Ok(found.flatten())
}

// ---- network interfaces --------------------------------------------------------------------

/// One IP configuration's references, as stored.
#[derive(Debug, Clone, PartialEq)]
struct ConfigRef {
    id: String,
    subnet: Option<String>,
    public_ip: Option<String>,
}

fn config_refs(nic: Option<&Resource>) -> Vec<ConfigRef> {
    let Some(configs) = nic.and_then(|n| n.properties["ipConfigurations"].as_array()) else { return vec![] };
    configs
        .iter()
        .filter_map(|c| {
            Some(ConfigRef {
                id: id_of(c)?.to_string(),
                subnet: id_of(&c["properties"]["subnet"]).map(str::to_string),
                public_ip: id_of(&c["properties"]["publicIPAddress"]).map(str::to_string),
            })
        })
        .collect()
}

/// The private addresses other NICs hold in `subnet`. The subnet's `ipConfigurations`
/// back-references (kept by [`sync_references`] in the same transactions) name every NIC in it,
/// so this reads those NICs only, not every NIC of the subscription.
fn used_in_subnet(tx: &mut dyn Tx, subnet: &str, except_nic: &str) -> ArmResult<InUse> {
    let configs = with_subnet(tx, subnet, |p| {
        let ids: Vec<String> =
            p["ipConfigurations"].as_array().into_iter().flatten().filter_map(|c| id_of(c).map(str::to_string)).collect();
        (ids, false)
    })?
    .unwrap_or_default();
    let mut nic_keys: Vec<String> = configs
        .iter()
        .filter_map(|c| c.rsplit_once("/ipConfigurations/").map(|(nic, _)| resource_id::key(nic)))
        .filter(|k| k != except_nic)
        .collect();
    nic_keys.sort();
    nic_keys.dedup();
    let subnet_key = resource_id::key(subnet);
    let mut used = InUse::new();
    for key in nic_keys {
        let Some(nic) = tx.resource(&key)? else { continue };
        for c in nic.properties["ipConfigurations"].as_array().into_iter().flatten() {
            let p = &c["properties"];
            if id_of(&p["subnet"]).is_some_and(|s| resource_id::key(s) == subnet_key) {
                if let Some(ip) = p["privateIPAddress"].as_str().and_then(|a| a.parse().ok()) {
                    used.insert(ip, id_of(c).unwrap_or_default().to_string());
                }
            }
        }
    }
    Ok(used)
}

fn nic_write(reg: &Registry, tx: &mut dyn Tx, r: &mut Resource, existing: Option<&Resource>) -> ArmResult<()> {
    // Read-only members a client's PUT does not carry.
    if let (Some(e), Value::Object(p)) = (existing, &mut r.properties) {
        for k in ["virtualMachine", "macAddress"] {
            if let Some(v) = e.properties.get(k) {
                p.entry(k).or_insert_with(|| v.clone());
            }
        }
    }
    let nic_id = r.id.clone();
    let nic_key = r.key();
    let old = config_refs(existing);
    let mut configs = match r.properties.get_mut("ipConfigurations").map(Value::take) {
        Some(Value::Array(c)) => c,
        _ => vec![],
    };
    let any_primary = configs.iter().any(|c| c["properties"]["primary"].as_bool() == Some(true));
    let mut mine = InUse::new();
    for (i, c) in configs.iter_mut().enumerate() {
        if !c.is_object() {
            continue;
        }
        let name = c["name"].as_str().map(str::to_string).unwrap_or_else(|| format!("ipconfig{}", i + 1));
        let config_id = format!("{nic_id}/ipConfigurations/{name}");
        c["name"] = name.clone().into();
        c["id"] = config_id.clone().into();
        c["type"] = IP_CONFIG_TYPE.into();
        if !c["properties"].is_object() {
            c["properties"] = json!({});
        }
        let p = &mut c["properties"];
        p["provisioningState"] = "Succeeded".into();
        if i == 0 && !any_primary {
            p["primary"] = true.into();
        } else if !p["primary"].is_boolean() {
            p["primary"] = false.into();
        }
        if p["privateIPAddressVersion"].is_null() {
            p["privateIPAddressVersion"] = "IPv4".into();
        }
        if let Some(subnet) = id_of(&p["subnet"]).map(str::to_string) {
            let prefix = subnet_prefix(tx, &subnet)?.ok_or_else(|| ArmError::invalid_resource_reference(&subnet, &nic_id))?;
            let mut used = used_in_subnet(tx, &subnet, &nic_key)?;
            used.extend(mine.iter().map(|(k, v)| (*k, v.clone())));
            let is_static = p["privateIPAllocationMethod"].as_str().is_some_and(|m| eq(m, "Static"));
            let asked = p["privateIPAddress"].as_str().map(str::to_string);
            // A dynamic address stays with its configuration while it stays in the subnet.
            let kept = existing
                .and_then(|e| e.properties["ipConfigurations"].as_array())
                .and_then(|a| a.iter().find(|o| o["name"].as_str().is_some_and(|n| eq(n, &name))))
                .filter(|o| id_of(&o["properties"]["subnet"]).is_some_and(|s| resource_id::key(s) == resource_id::key(&subnet)))
                .and_then(|o| o["properties"]["privateIPAddress"].as_str().and_then(|a| a.parse().ok()))
                .filter(|ip| prefix.contains(*ip) && !used.contains_key(ip));
            let ip = match (is_static, asked, kept) {
                (true, Some(text), _) => rules::check_static(prefix, &text, &config_id, &used).map_err(ArmError::from_address)?,
                (false, _, Some(ip)) => ip,
                _ => {
                    rules::allocate_private(prefix, subnet.rsplit('/').next().unwrap_or_default(), &used).map_err(ArmError::from_address)?
                }
            };
            mine.insert(ip, config_id.clone());
            p["privateIPAddress"] = ip.to_string().into();
            p["privateIPAllocationMethod"] = if is_static { "Static" } else { "Dynamic" }.into();
        }
        if let Some(pip_id) = id_of(&p["publicIPAddress"]).map(str::to_string) {
            let pip = tx
                .resource(&resource_id::key(&pip_id))?
                .filter(|x| eq(&x.resource_type, PUBLIC_IP_TYPE))
                .ok_or_else(|| ArmError::invalid_resource_reference(&pip_id, &nic_id))?;
            if let Some(holder) = id_of(&pip.properties["ipConfiguration"]).filter(|h| !eq(h, &config_id)) {
                return Err(ArmError::public_ip_in_use(&config_id, &pip_id, holder));
            }
        }
    }
    r.properties["ipConfigurations"] = Value::Array(configs);
    nic_shape(tx, r, existing)?;
    let running = vm_running(reg, tx, &r.properties)?;
    sync_references(tx, &old, &config_refs(Some(r)), running)
}

/// Azure's always-present NIC members; the DNS ones read the VNet of the first subnet.
fn nic_shape(tx: &mut dyn Tx, r: &mut Resource, existing: Option<&Resource>) -> ArmResult<()> {
    let subnet = r.properties["ipConfigurations"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|c| id_of(&c["properties"]["subnet"]).map(str::to_string));
    let vnet_key = subnet.as_deref().and_then(|s| s.rsplit_once("/subnets/")).map(|(v, _)| resource_id::key(v));
    let dns = match &vnet_key {
        Some(k) => tx.resource(k)?.and_then(|v| v.properties["dhcpOptions"]["dnsServers"].as_array().cloned()).unwrap_or_default(),
        None => vec![],
    };
    shapes::nic(r, existing, &dns, vnet_key.as_deref().map(shapes::internal_domain_suffix));
    Ok(())
}

/// Whether the NIC's properties name a VM that is running (its dynamic public IPs get addresses).
fn vm_running(reg: &Registry, tx: &mut dyn Tx, nic_properties: &Value) -> ArmResult<bool> {
    let Some(vm) = id_of(&nic_properties["virtualMachine"]) else { return Ok(false) };
    reg.vm_running(tx, &resource_id::key(vm))
}

/// Moves the back references from the configurations `old` to `new`: subnets list their
/// configurations, public IPs name theirs (and a dynamic one gets or loses its address).
fn sync_references(tx: &mut dyn Tx, old: &[ConfigRef], new: &[ConfigRef], running: bool) -> ArmResult<()> {
    for o in old {
        if let Some(s) = &o.subnet {
            with_subnet(tx, s, |p| {
                let before = p["ipConfigurations"].as_array().map_or(0, Vec::len);
                if let Some(a) = p.get_mut("ipConfigurations").and_then(Value::as_array_mut) {
                    a.retain(|c| !id_of(c).is_some_and(|i| eq(i, &o.id)));
                }
                ((), p["ipConfigurations"].as_array().map_or(0, Vec::len) != before)
            })?;
        }
        if let Some(pip_id) = &o.public_ip {
            if new.iter().any(|n| n.public_ip.as_deref().is_some_and(|x| eq(x, pip_id))) {
                continue;
            }
            if let Some(mut pip) = tx.resource(&resource_id::key(pip_id))? {
                if id_of(&pip.properties["ipConfiguration"]).is_some_and(|h| eq(h, &o.id)) {
                    if let Value::Object(p) = &mut pip.properties {
                        p.remove("ipConfiguration");
                    }
                    if is_dynamic(&pip) {
                        release_public(tx, &mut pip)?;
                    }
                    tx.put_resource(&pip)?;
                }
            }
        }
    }
    for n in new {
        if let Some(s) = &n.subnet {
            with_subnet(tx, s, |p| {
                if !p["ipConfigurations"].is_array() {
                    p["ipConfigurations"] = json!([]);
                }
                let a = p["ipConfigurations"].as_array_mut().expect("just made an array");
                let present = a.iter().any(|c| id_of(c).is_some_and(|i| eq(i, &n.id)));
                if !present {
                    a.push(json!({ "id": n.id }));
                }
                ((), !present)
            })?;
        }
        if let Some(pip_id) = &n.public_ip {
            if let Some(mut pip) = tx.resource(&resource_id::key(pip_id))? {
                pip.properties["ipConfiguration"] = json!({ "id": n.id });
                if is_dynamic(&pip) && running {
                    assign_public(tx, &mut pip)?;
                }
                tx.put_resource(&pip)?;
            }
        }
    }
    Ok(())
}

// ---- public IP addresses -------------------------------------------------------------------

fn is_dynamic(pip: &Resource) -> bool {
    pip.properties["publicIPAllocationMethod"].as_str().is_some_and(|m| eq(m, "Dynamic"))
}

fn public_ip_write(reg: &Registry, tx: &mut dyn Tx, r: &mut Resource, existing: Option<&Resource>) -> ArmResult<()> {
    if let (Some(e), Value::Object(p)) = (existing, &mut r.properties) {
        for k in ["ipAddress", "ipConfiguration"] {
            match e.properties.get(k) {
                Some(v) => p.insert(k.to_string(), v.clone()),
                None => p.remove(k),
            };
        }
    } else if let Value::Object(p) = &mut r.properties {
        // Read-only: an address cannot be chosen, nor an association made from this side.
        p.remove("ipAddress");
        p.remove("ipConfiguration");
    }
    // Standard SKU addresses are always static; Basic ones default to dynamic (network.json
    // `publicIPAllocationMethod`; public-ip-addresses "SKU" table).
    let standard = r.extra.get("sku").and_then(|s| s["name"].as_str()).is_some_and(|n| eq(n, "Standard"));
    let method = match r.properties["publicIPAllocationMethod"].as_str() {
        Some(m) if eq(m, "Static") => "Static",
        Some(m) if eq(m, "Dynamic") => "Dynamic",
        _ if standard => "Static",
        _ => "Dynamic",
    };
    r.properties["publicIPAllocationMethod"] = method.into();
    if r.properties["publicIPAddressVersion"].is_null() {
        r.properties["publicIPAddressVersion"] = "IPv4".into();
    }
    if let Some(label) = r.properties["dnsSettings"]["domainNameLabel"].as_str().map(str::to_string) {
        let location = r.location.clone().unwrap_or_default();
        r.properties["dnsSettings"]["fqdn"] = format!("{label}.{location}.cloudapp.azure.com").into();
    }
    let attached_running =
        match id_of(&r.properties["ipConfiguration"]).and_then(|c| c.split("/ipConfigurations/").next()).map(resource_id::key) {
            Some(nic_key) => match tx.resource(&nic_key)? {
                Some(nic) => vm_running(reg, tx, &nic.properties)?,
                None => false,
            },
            None => false,
        };
    shapes::public_ip(r, existing);
    if method == "Static" || attached_running {
        assign_public(tx, r)
    } else {
        release_public(tx, r)
    }
}

/// Gives the public IP an address from the pool if it has none.
fn assign_public(tx: &mut dyn Tx, pip: &mut Resource) -> ArmResult<()> {
    if pip.properties["ipAddress"].is_string() {
        return Ok(());
    }
    let digest = Sha256::digest(pip.key().as_bytes());
    let seed = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    for ip in rules::public_candidates(seed) {
        let text = ip.to_string();
        if tx.get(PUBLIC_IP, &text)?.is_none() {
            tx.put(PUBLIC_IP, &text, &PublicIpAllocation { id: pip.id.clone() }, None)?;
            pip.properties["ipAddress"] = text.into();
            return Ok(());
        }
    }
    Err(ArmError::public_ip_count_limit_reached())
}

/// Gives the public IP's address back to the pool.
fn release_public(tx: &mut dyn Tx, pip: &mut Resource) -> ArmResult<()> {
    if let Value::Object(p) = &mut pip.properties {
        if let Some(Value::String(ip)) = p.remove("ipAddress") {
            if tx.get(PUBLIC_IP, &ip)?.is_some_and(|a| eq(&a.id, &pip.id)) {
                tx.remove(PUBLIC_IP, &ip)?;
            }
        }
    }
    Ok(())
}

// ---- moves ---------------------------------------------------------------------------------

/// A NIC attached to a VM moves only with that VM (Azure's `MissingMoveDependentResources`).
pub fn check_move(moving: &[Moving]) -> ArmResult<()> {
    let vms = moving.iter().filter(|m| m.is(NIC_TYPE)).filter_map(|m| id_of(&m.resource.properties["virtualMachine"]).map(str::to_string));
    Moving::require_all(moving, vms.collect::<Vec<_>>())
}

/// A moved public IP keeps its address: the pool's record of who holds it follows the new id.
pub fn on_move(tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
    for m in moving.iter().filter(|m| m.is(PUBLIC_IP_TYPE)) {
        if let Some(ip) = m.resource.properties["ipAddress"].as_str() {
            if tx.get(PUBLIC_IP, ip)?.is_some_and(|a| eq(&a.id, &m.resource.id)) {
                tx.put(PUBLIC_IP, ip, &PublicIpAllocation { id: m.new_id.clone() }, None)?;
            }
        }
    }
    Ok(())
}

// ---- virtual machines ----------------------------------------------------------------------

/// The NIC ids a VM's properties name.
fn vm_nics(vm_properties: &Value) -> Vec<String> {
    vm_properties["networkProfile"]["networkInterfaces"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| id_of(n).map(str::to_string))
        .collect()
}

/// What a VM's change means for its NICs and their public IPs.
pub fn on_vm(tx: &mut dyn Tx, event: &VmEvent<'_>) -> ArmResult<()> {
    match event {
        VmEvent::Written { before, after, running } => {
            let old = before.map(|b| vm_nics(&b.properties)).unwrap_or_default();
            attach_vm(tx, &after.id, &old, &vm_nics(&after.properties), *running)
        }
        VmEvent::Deleted { vm } => attach_vm(tx, &vm.id, &vm_nics(&vm.properties), &[], false),
        VmEvent::Power { vm, running } => vm_power(tx, vm, *running),
    }
}

/// After a VM write or delete (inside its transaction): NICs it no longer names are detached
/// (their dynamic public IPs lose their addresses), NICs it names point back at it, get a MAC
/// address, and, when the VM runs, addresses for their dynamic public IPs.
fn attach_vm(tx: &mut dyn Tx, vm_id: &str, old: &[String], new: &[String], running: bool) -> ArmResult<()> {
    for nic_id in old.iter().filter(|o| !new.iter().any(|n| eq(n, o))) {
        let Some(mut nic) = tx.resource(&resource_id::key(nic_id))? else { continue };
        if id_of(&nic.properties["virtualMachine"]).is_some_and(|v| eq(v, vm_id)) {
            if let Value::Object(p) = &mut nic.properties {
                p.remove("virtualMachine");
            }
            tx.put_resource(&nic)?;
            set_dynamic_public_ips(tx, &nic, false)?;
        }
    }
    for nic_id in new {
        let Some(mut nic) = tx.resource(&resource_id::key(nic_id))? else { continue };
        nic.properties["virtualMachine"] = json!({ "id": vm_id });
        if !nic.properties["macAddress"].is_string() {
            let b = Uuid::new_v4().into_bytes();
            nic.properties["macAddress"] = rules::mac_address([b[0], b[1], b[2]]).into();
        }
        tx.put_resource(&nic)?;
        set_dynamic_public_ips(tx, &nic, running)?;
    }
    Ok(())
}

/// After a power change of a VM: its NICs' dynamic public IPs get an address when it starts and
/// lose it when it is deallocated.
fn vm_power(tx: &mut dyn Tx, vm: &Resource, running: bool) -> ArmResult<()> {
    for nic_id in vm_nics(&vm.properties) {
        if let Some(nic) = tx.resource(&resource_id::key(&nic_id))? {
            set_dynamic_public_ips(tx, &nic, running)?;
        }
    }
    Ok(())
}

fn set_dynamic_public_ips(tx: &mut dyn Tx, nic: &Resource, running: bool) -> ArmResult<()> {
    for c in config_refs(Some(nic)) {
        let Some(pip_id) = c.public_ip else { continue };
        let Some(mut pip) = tx.resource(&resource_id::key(&pip_id))? else { continue };
        if !is_dynamic(&pip) || running == pip.properties["ipAddress"].is_string() {
            continue;
        }
        if running {
            assign_public(tx, &mut pip)?;
        } else {
            release_public(tx, &mut pip)?;
        }
        tx.put_resource(&pip)?;
    }
    Ok(())
}
