"""The members Azure's Network RP always returns on NICs, virtual networks, public IPs and network
security groups, and its refusals to delete what is still in use, driven with az and raw HTTP
(azure-mgmt-network is not in .venv).

Sources (azure-rest-api-specs, specification/network/resource-manager/Microsoft.Network/stable/
2024-05-01/examples/):
* NetworkInterfaceGet.json: `dnsSettings {dnsServers: [], appliedDnsServers: [],
  internalDomainNameSuffix}`, `enableAcceleratedNetworking`, `enableIPForwarding`,
  `disableTcpStateTracking`, `vnetEncryptionSupported`, ipConfigurations' `primary` and
  `privateIPAddressVersion`; learn.microsoft.com "Create a LEMP stack" quickstart (its `az network
  nic create` output): `auxiliaryMode`/`auxiliarySku` "None", `hostedWorkloads: []`, the suffix's
  `<26 chars>.<xx>.internal.cloudapp.net` look;
* NetworkSecurityGroupCreate.json: `securityRules: []` and the six `defaultSecurityRules`
  (names, priorities, prefixes, descriptions);
* PublicIpAddressGet.json: `publicIPAddressVersion`, `idleTimeoutInMinutes: 4`, `ipTags`;
* InUseSubnetCannotBeDeleted / InUseNetworkSecurityGroupCannotBeDeleted texts: learn.microsoft.com
  AKS troubleshooting "cannot delete ... InUseSubnetCannotBeDeleted,
  InUseNetworkSecurityGroupCannotBeDeleted".
"""

from __future__ import annotations

import re
import uuid

from mimic_harness import NET_API, Az, MimicServer, arm_error

SUFFIX = re.compile(r"^[a-z0-9]{26}\.[a-z]x\.internal\.cloudapp\.net$")
DEFAULT_RULES = [
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
]


def path(m: MimicServer, rg: str, kind: str, name: str) -> str:
    return f"/subscriptions/{m.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Network/{kind}/{name}"


def ok(r) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_az_nic_vnet_and_nsg_show_azures_members_and_in_use_deletes_are_refused(mimic: MimicServer, az_sp: Az):
    rg = f"fid{uuid.uuid4().hex[:8]}"
    az_sp("group", "create", "-n", rg, "-l", "westus")
    az_sp("network", "vnet", "create", "-g", rg, "-n", "vnet1", "--address-prefixes", "10.4.0.0/16",
          "--subnet-name", "default", "--subnet-prefixes", "10.4.0.0/24")
    nsg = az_sp("network", "nsg", "create", "-g", rg, "-n", "nsg1")["NewNSG"]
    assert nsg["securityRules"] == []
    got = [(r["name"], r["priority"], r["direction"], r["access"], r["sourceAddressPrefix"], r["destinationAddressPrefix"])
           for r in nsg["defaultSecurityRules"]]
    assert got == DEFAULT_RULES
    for r in nsg["defaultSecurityRules"]:
        assert r["id"] == f"{nsg['id']}/defaultSecurityRules/{r['name']}"
        assert (r["protocol"], r["sourcePortRange"], r["destinationPortRange"], r["provisioningState"]) == ("*", "*", "*", "Succeeded")
    assert nsg["defaultSecurityRules"][0]["description"] == "Allow inbound traffic from all VMs in VNET"
    uuid.UUID(nsg["resourceGuid"])
    shown = az_sp("network", "nsg", "show", "-g", rg, "-n", "nsg1")
    assert shown["resourceGuid"] == nsg["resourceGuid"] and len(shown["defaultSecurityRules"]) == 6

    vnet = az_sp("network", "vnet", "show", "-g", rg, "-n", "vnet1")
    uuid.UUID(vnet["resourceGuid"])
    assert (vnet["provisioningState"], vnet["enableDdosProtection"]) == ("Succeeded", False)
    (subnet,) = vnet["subnets"]
    assert (subnet["privateEndpointNetworkPolicies"], subnet["privateLinkServiceNetworkPolicies"]) == ("Disabled", "Enabled")

    nic = az_sp("network", "nic", "create", "-g", rg, "-n", "nic1", "--vnet-name", "vnet1", "--subnet", "default",
                "--network-security-group", "nsg1")["NewNIC"]
    for key, want in [("enableAcceleratedNetworking", False), ("enableIPForwarding", False), ("disableTcpStateTracking", False),
                      ("vnetEncryptionSupported", False), ("nicType", "Standard"), ("auxiliaryMode", "None"),
                      ("auxiliarySku", "None"), ("hostedWorkloads", []), ("provisioningState", "Succeeded")]:
        assert nic[key] == want, (key, nic)
    uuid.UUID(nic["resourceGuid"])
    assert nic["dnsSettings"]["dnsServers"] == [] and nic["dnsSettings"]["appliedDnsServers"] == []
    assert SUFFIX.match(nic["dnsSettings"]["internalDomainNameSuffix"]), nic["dnsSettings"]
    (config,) = nic["ipConfigurations"]
    assert (config["primary"], config["privateIPAddressVersion"], config["privateIPAddress"]) == (True, "IPv4", "10.4.0.4")
    shown = az_sp("network", "nic", "show", "-g", rg, "-n", "nic1")
    assert shown["resourceGuid"] == nic["resourceGuid"]
    assert shown["dnsSettings"]["internalDomainNameSuffix"] == nic["dnsSettings"]["internalDomainNameSuffix"]

    # In use: the VNet's subnet holds the NIC's IP configuration, the NIC names the NSG.
    refused = az_sp.run("network", "vnet", "delete", "-g", rg, "-n", "vnet1", check=False)
    assert refused.returncode != 0 and "(InUseSubnetCannotBeDeleted)" in refused.stderr, refused.stderr
    assert f"Subnet default is in use by {config['id']} and cannot be deleted. In order to delete the subnet, delete all the " \
           "resources within the subnet. See aka.ms/deletesubnet." in refused.stderr
    refused = az_sp.run("network", "nsg", "delete", "-g", rg, "-n", "nsg1", check=False)
    assert refused.returncode != 0 and "(InUseNetworkSecurityGroupCannotBeDeleted)" in refused.stderr, refused.stderr
    assert f"Network security group {nsg['id']} cannot be deleted because it is in use by the following resources: {nic['id']}." \
        in refused.stderr
    az_sp("network", "vnet", "show", "-g", rg, "-n", "vnet1")

    # Once the NIC is gone both go; a resource group's deletion never refuses.
    az_sp("network", "nic", "delete", "-g", rg, "-n", "nic1")
    az_sp("network", "nsg", "delete", "-g", rg, "-n", "nsg1")
    az_sp("network", "vnet", "delete", "-g", rg, "-n", "vnet1")
    assert mimic.arm("GET", path(mimic, rg, "virtualNetworks", "vnet1"), api_version=NET_API).status_code == 404


def test_rest_dns_defaults_updates_and_subnet_nsg_in_use(mimic: MimicServer):
    rg = f"fid{uuid.uuid4().hex[:8]}"
    assert mimic.arm("PUT", f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}", json={"location": "westus"},
                     api_version="2021-04-01").status_code in (200, 201)
    nsg_path = path(mimic, rg, "networkSecurityGroups", "nsg")
    nsg = ok(mimic.arm("PUT", nsg_path, json={"location": "westus"}, api_version=NET_API))
    vnet_path = path(mimic, rg, "virtualNetworks", "v")
    vnet = ok(mimic.arm("PUT", vnet_path, api_version=NET_API, json={"location": "westus", "properties": {
        "addressSpace": {"addressPrefixes": ["10.5.0.0/16"]}, "dhcpOptions": {"dnsServers": ["10.5.0.10"]},
        "subnets": [{"name": "s", "properties": {"addressPrefix": "10.5.0.0/24", "networkSecurityGroup": {"id": nsg["id"]}}}]}}))
    subnet_id = vnet["properties"]["subnets"][0]["id"]

    # An NSG named by a subnet is in use too.
    err = arm_error(mimic.arm("DELETE", nsg_path, api_version=NET_API), 400, "InUseNetworkSecurityGroupCannotBeDeleted")
    assert f"in use by the following resources: {subnet_id}." in err["message"]

    nic_path = path(mimic, rg, "networkInterfaces", "n")
    body = {"location": "westus", "properties": {
        "dnsSettings": {"internalDnsNameLabel": "myhost"},
        "ipConfigurations": [{"name": "a", "properties": {"subnet": {"id": subnet_id}}},
                             {"name": "b", "properties": {"subnet": {"id": subnet_id}}}]}}
    nic = ok(mimic.arm("PUT", nic_path, json=body, api_version=NET_API))
    dns = nic["properties"]["dnsSettings"]
    # No DNS servers of its own: the VNet's apply.
    assert (dns["dnsServers"], dns["appliedDnsServers"], dns["internalDnsNameLabel"]) == ([], ["10.5.0.10"], "myhost")
    assert [c["properties"]["primary"] for c in nic["properties"]["ipConfigurations"]] == [True, False]

    # An update sending its own servers, read-only members back, and enableIPForwarding.
    sent = nic | {"properties": nic["properties"] | {"enableIPForwarding": True, "resourceGuid": str(uuid.uuid4()),
                                                      "dnsSettings": dns | {"dnsServers": ["1.1.1.1"]}}}
    again = ok(mimic.arm("PUT", nic_path, json=sent, api_version=NET_API))
    assert again["properties"]["resourceGuid"] == nic["properties"]["resourceGuid"]
    assert again["properties"]["dnsSettings"]["appliedDnsServers"] == ["1.1.1.1"]
    assert again["properties"]["enableIPForwarding"] is True
    # A PUT that omits them gets Azure's defaults again.
    third = ok(mimic.arm("PUT", nic_path, json=body, api_version=NET_API))
    assert third["properties"]["enableIPForwarding"] is False and third["properties"]["dnsSettings"]["dnsServers"] == []
    listed = ok(mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Network/"
                                 "networkInterfaces", api_version=NET_API))["value"]
    assert [n["properties"]["dnsSettings"]["appliedDnsServers"] for n in listed] == [["10.5.0.10"]]

    pip = ok(mimic.arm("PUT", path(mimic, rg, "publicIPAddresses", "p"), json={"location": "westus"}, api_version=NET_API))
    p = pip["properties"]
    assert (p["publicIPAddressVersion"], p["idleTimeoutInMinutes"], p["ipTags"], p["publicIPAllocationMethod"]) == ("IPv4", 4, [], "Dynamic")
    uuid.UUID(p["resourceGuid"])

    # The VNet's subnet holds the NIC: refused; the resource group's deletion takes everything.
    err = arm_error(mimic.arm("DELETE", vnet_path, api_version=NET_API), 400, "InUseSubnetCannotBeDeleted")
    assert err["message"].startswith(f"Subnet s is in use by {nic['properties']['ipConfigurations'][0]['id']} and cannot be deleted.")
    r = mimic.arm("DELETE", f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}", api_version="2021-04-01")
    assert r.status_code in (200, 202), r.text
