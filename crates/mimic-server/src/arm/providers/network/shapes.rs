//! The members Azure's Network RP puts in every NIC, virtual network, public IP and network
//! security group it returns, whether the client sent them or not. They are filled in on each
//! write (inside its transaction), so a PUT that omits one gets the default again, and a client
//! that sends a read-only one back (`resourceGuid`, `appliedDnsServers`, `defaultSecurityRules`)
//! gets the server's value.
//!
//! Sources: azure-rest-api-specs network stable/2024-05-01 examples `NetworkInterfaceGet.json`,
//! `NetworkSecurityGroupCreate.json`, `PublicIpAddressGet.json`, `VirtualNetworkGet.json`; the
//! `az network nic create` / `nsg create` outputs of learn.microsoft.com's "Create a LEMP stack"
//! quickstart (`auxiliaryMode`, `auxiliarySku`, `hostedWorkloads`, the default rules' `type` and
//! empty `*Prefixes`/`*Ranges` arrays). docs/azure-behaviour.md "Network resource shapes".

use mimic_domain::resource::Resource;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const NSG_TYPE: &str = "Microsoft.Network/networkSecurityGroups";

fn object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("just made an object")
}

/// Sets `key` to `value` unless the client gave it.
fn default(p: &mut Map<String, Value>, key: &str, value: Value) {
    if p.get(key).is_none_or(Value::is_null) {
        p.insert(key.to_string(), value);
    }
}

/// The resource's `resourceGuid`: made once, kept across updates, whatever a client sends.
fn resource_guid(p: &mut Map<String, Value>, existing: Option<&Resource>) {
    let guid =
        existing.and_then(|e| e.properties["resourceGuid"].as_str()).map(str::to_string).unwrap_or_else(|| Uuid::new_v4().to_string());
    p.insert("resourceGuid".into(), guid.into());
}

/// A NIC's `dnsSettings.internalDomainNameSuffix`: Azure's look (26 lower-case letters and
/// digits, a two-letter region code ending in `x`, `internal.cloudapp.net`), derived from the
/// virtual network's key so every NIC of a VNet shares it and it never changes.
pub fn internal_domain_suffix(vnet_key: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let digest = Sha256::digest(vnet_key.as_bytes());
    let label: String = digest[..26].iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    let region = (b'a' + digest[26] % 26) as char;
    format!("{label}.{region}x.internal.cloudapp.net")
}

/// NetworkInterface: `vnet_dns` is the `dhcpOptions.dnsServers` of the VNet of its first
/// subnet, `suffix` that VNet's [`internal_domain_suffix`].
pub fn nic(r: &mut Resource, existing: Option<&Resource>, vnet_dns: &[Value], suffix: Option<String>) {
    let p = object(&mut r.properties);
    resource_guid(p, existing);
    let dns = object(p.entry("dnsSettings").or_insert_with(|| json!({})));
    default(dns, "dnsServers", json!([]));
    let own = dns["dnsServers"].as_array().cloned().unwrap_or_default();
    dns.insert("appliedDnsServers".into(), Value::Array(if own.is_empty() { vnet_dns.to_vec() } else { own }));
    match suffix {
        Some(s) => {
            if let Some(label) = dns.get("internalDnsNameLabel").and_then(Value::as_str).filter(|l| !l.is_empty()) {
                dns.insert("internalFqdn".into(), format!("{label}.{s}").into());
            } else {
                dns.remove("internalFqdn");
            }
            dns.insert("internalDomainNameSuffix".into(), s.into());
        }
        None => {
            dns.remove("internalDomainNameSuffix");
            dns.remove("internalFqdn");
        }
    }
    for (k, v) in [
        ("enableAcceleratedNetworking", json!(false)),
        ("enableIPForwarding", json!(false)),
        ("disableTcpStateTracking", json!(false)),
        ("vnetEncryptionSupported", json!(false)),
        ("hostedWorkloads", json!([])),
        ("tapConfigurations", json!([])),
        ("nicType", json!("Standard")),
        ("auxiliaryMode", json!("None")),
        ("auxiliarySku", json!("None")),
    ] {
        default(p, k, v);
    }
}

/// VirtualNetwork and its inline subnets.
pub fn vnet(r: &mut Resource, existing: Option<&Resource>) {
    let p = object(&mut r.properties);
    resource_guid(p, existing);
    default(p, "subnets", json!([]));
    default(p, "virtualNetworkPeerings", json!([]));
    default(p, "enableDdosProtection", json!(false));
    if let Some(subnets) = p.get_mut("subnets").and_then(Value::as_array_mut) {
        for s in subnets.iter_mut().filter(|s| s.is_object()) {
            subnet(object(&mut s["properties"]));
        }
    }
}

/// A subnet's properties (inline or PUT on its own).
pub fn subnet(p: &mut Map<String, Value>) {
    default(p, "delegations", json!([]));
    default(p, "privateEndpointNetworkPolicies", json!("Disabled"));
    default(p, "privateLinkServiceNetworkPolicies", json!("Enabled"));
}

/// PublicIPAddress (the allocation method and version are the address rules').
pub fn public_ip(r: &mut Resource, existing: Option<&Resource>) {
    let sku = r.extra.entry("sku").or_insert_with(|| json!({ "name": "Basic" }));
    if let Value::Object(s) = sku {
        default(s, "tier", json!("Regional"));
    }
    let p = object(&mut r.properties);
    resource_guid(p, existing);
    default(p, "idleTimeoutInMinutes", json!(4));
    default(p, "ipTags", json!([]));
}

/// The six rules Azure adds to every network security group (NetworkSecurityGroupCreate.json).
const DEFAULT_RULES: [(&str, &str, &str, &str, &str, u32, &str); 6] = [
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Inbound"),
    (
        "AllowAzureLoadBalancerInBound",
        "Allow inbound traffic from azure load balancer",
        "AzureLoadBalancer",
        "*",
        "Allow",
        65001,
        "Inbound",
    ),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    (
        "AllowVnetOutBound",
        "Allow outbound traffic from all VMs to all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Outbound",
    ),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "Internet", "Allow", 65001, "Outbound"),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
];

/// NetworkSecurityGroup: `securityRules` get their ids, the default rules are the server's.
pub fn nsg(r: &mut Resource, existing: Option<&Resource>) {
    let id = r.id.clone();
    let p = object(&mut r.properties);
    resource_guid(p, existing);
    default(p, "flushConnection", json!(false));
    default(p, "securityRules", json!([]));
    if let Some(rules) = p.get_mut("securityRules").and_then(Value::as_array_mut) {
        for rule in rules.iter_mut().filter(|r| r.is_object()) {
            let Some(name) = rule["name"].as_str().map(str::to_string) else { continue };
            rule["id"] = format!("{id}/securityRules/{name}").into();
            rule["type"] = format!("{NSG_TYPE}/securityRules").into();
            let rp = object(&mut rule["properties"]);
            rp.insert("provisioningState".into(), "Succeeded".into());
            rule_arrays(rp);
        }
    }
    let defaults: Vec<Value> = DEFAULT_RULES
        .iter()
        .map(|(name, description, source, destination, access, priority, direction)| {
            let mut rp = json!({
                "provisioningState": "Succeeded",
                "description": description,
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": source,
                "destinationAddressPrefix": destination,
                "access": access,
                "priority": priority,
                "direction": direction,
            });
            rule_arrays(object(&mut rp));
            json!({
                "name": name,
                "id": format!("{id}/defaultSecurityRules/{name}"),
                "type": format!("{NSG_TYPE}/defaultSecurityRules"),
                "properties": rp,
            })
        })
        .collect();
    p.insert("defaultSecurityRules".into(), Value::Array(defaults));
}

/// The plural forms Azure returns empty beside a rule's singular prefix and port range.
fn rule_arrays(rp: &mut Map<String, Value>) {
    for k in ["sourceAddressPrefixes", "destinationAddressPrefixes", "sourcePortRanges", "destinationPortRanges"] {
        default(rp, k, json!([]));
    }
}

#[cfg(test)]
mod tests {
    use super::internal_domain_suffix;

    #[test]
    fn suffix_is_stable_and_azure_shaped() {
        let a = internal_domain_suffix("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v");
        assert_eq!(a, internal_domain_suffix("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v"));
        let (label, rest) = a.split_once('.').unwrap();
        assert_eq!(label.len(), 26);
        assert!(label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(rest.ends_with("x.internal.cloudapp.net") && rest.len() == "ax.internal.cloudapp.net".len(), "{a}");
    }
}
