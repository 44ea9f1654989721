"""Network addresses (`az vm create` leaves the network resources Azure would leave, and
`az vm show` reports them), driven with az and raw HTTP (azure-mgmt-network is not in .venv).

Sources:
* learn.microsoft.com/azure/virtual-network/virtual-networks-faq: Azure reserves the first four
  and the last address of each subnet, so the first NIC of 10.0.0.0/24 gets 10.0.0.4;
* virtual-network/ip-services/public-ip-addresses: Static (Standard) addresses are assigned at
  creation; Dynamic (Basic) ones when associated with a started resource, released when it is
  deallocated;
* ARM's common-deployment-errors table: PrivateIPAddressNotInSubnet,
  PrivateIPAddressInReservedRange; PrivateIPAddressIsAllocated as the Network RP returns it
  (F5Networks/terraform-azure-bigip-module#63);
* azure-cli vm/custom.py `get_vm_details` and `list_vm_ip_addresses`: what `az vm create`,
  `az vm show -d` and `az vm list-ip-addresses` read (NIC `macAddress`, `ipConfigurations[].
  privateIPAddress`/`publicIPAddress.id`, `virtualMachine.id`; public IP `ipAddress`).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from mimic_harness import NET_API, Az, MimicServer

VM_API = "2024-07-01"
# Mimic's public pool (mimic-domain/src/network.rs): RFC 2544's benchmarking range, never routed.
PUBLIC_POOL = ipaddress.ip_network("198.18.0.0/15")
MAC = re.compile(r"^00-0D-3A-[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}$")


def rg_path(m: MimicServer, rg: str) -> str:
    return f"/subscriptions/{m.subscription_id}/resourceGroups/{rg}"


def net(m: MimicServer, rg: str, kind: str, name: str) -> str:
    return f"{rg_path(m, rg)}/providers/Microsoft.Network/{kind}/{name}"


def put(m: MimicServer, path: str, body: dict, api: str = NET_API):
    return m.arm("PUT", path, json=body, api_version=api)


def ok(r) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


def get(m: MimicServer, path: str, api: str = NET_API) -> dict:
    return ok(m.arm("GET", path, api_version=api))


def error(r, status: int, code: str) -> str:
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code}: {r.text}"
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]["message"]


def nic_body(m: MimicServer, rg: str, vnet: str, *, ip: str | None = None, pip: str | None = None) -> dict:
    props: dict = {"subnet": {"id": f"{net(m, rg, 'virtualNetworks', vnet)}/subnets/default"}}
    if ip:
        props |= {"privateIPAllocationMethod": "Static", "privateIPAddress": ip}
    if pip:
        props["publicIPAddress"] = {"id": net(m, rg, "publicIPAddresses", pip)}
    return {"location": "westus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": props}]}}


def make_vnet(m: MimicServer, rg: str, name: str, prefix: str = "10.1.0.0/24") -> None:
    ok(put(m, net(m, rg, "virtualNetworks", name), {"location": "westus", "properties": {
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "subnets": [{"name": "default", "properties": {"addressPrefix": prefix}}]}}))


def private_ip(nic: dict) -> str:
    return nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]


def test_az_vm_create_show_and_list_ip_addresses_report_the_addresses(mimic_factory, tmp_path: Path):
    server = mimic_factory()
    cfg = tmp_path / "az"
    cfg.mkdir()
    az = Az(server, cfg)
    az.setup_sp()
    az("group", "create", "--name", "netRG", "--location", "westus")
    out = az("vm", "create", "--resource-group", "netRG", "--name", "myVM", "--image", "win2016datacenter", "--admin-username", "azureuser",
             "--admin-password", "myPassword12", "--assign-identity", timeout=300)
    # az's default VNet is 10.0.0.0/16 with subnet 10.0.0.0/24: the first usable address is .4.
    assert out["privateIpAddress"] == "10.0.0.4", out
    public = out["publicIpAddress"]
    assert ipaddress.ip_address(public) in PUBLIC_POOL, out
    assert MAC.match(out["macAddress"]), out
    assert out["powerState"] == "VM running"

    shown = az("vm", "show", "-d", "-g", "netRG", "-n", "myVM")
    assert (shown["privateIps"], shown["publicIps"], shown["macAddresses"]) == ("10.0.0.4", public, out["macAddress"])
    (listed,) = az("vm", "list-ip-addresses", "-g", "netRG", "-n", "myVM")
    net_info = listed["virtualMachine"]["network"]
    assert net_info["privateIpAddresses"] == ["10.0.0.4"]
    assert [(p["ipAddress"], p["ipAllocationMethod"]) for p in net_info["publicIpAddresses"]] == [(public, "Static")]

    # The cross references Azure's GETs show.
    vm_id = shown["id"]
    nic_id = shown["networkProfile"]["networkInterfaces"][0]["id"]
    nic = get(server, nic_id)
    assert nic["properties"]["virtualMachine"]["id"].lower() == vm_id.lower()
    config = nic["properties"]["ipConfigurations"][0]
    assert config["id"] == f"{nic['id']}/ipConfigurations/{config['name']}"
    assert config["properties"]["privateIPAllocationMethod"] == "Dynamic" and config["properties"]["primary"] is True
    pip = get(server, config["properties"]["publicIPAddress"]["id"])
    assert pip["properties"]["ipAddress"] == public and pip["properties"]["ipConfiguration"]["id"] == config["id"]
    vnet_id = config["properties"]["subnet"]["id"].split("/subnets/")[0]
    (subnet,) = get(server, vnet_id)["properties"]["subnets"]
    assert [c["id"] for c in subnet["properties"]["ipConfigurations"]] == [config["id"]]

    # What is in use cannot be deleted (Azure's NicInUse, PublicIPAddressCannotBeDeleted).
    error(server.arm("DELETE", nic_id, api_version=NET_API), 400, "NicInUse")
    error(server.arm("DELETE", pip["id"], api_version=NET_API), 400, "PublicIPAddressCannotBeDeleted")

    # Deleting the VM detaches its NIC; the NIC can then go, and its address with it: a new NIC in
    # the subnet gets 10.0.0.4 again.
    az("vm", "delete", "-g", "netRG", "-n", "myVM", "--yes")
    assert "virtualMachine" not in get(server, nic_id)["properties"]
    assert server.arm("DELETE", nic_id, api_version=NET_API).status_code == 200
    (subnet,) = get(server, vnet_id)["properties"]["subnets"]
    assert subnet["properties"].get("ipConfigurations", []) == []
    assert "ipConfiguration" not in get(server, pip["id"])["properties"]
    vnet_name = vnet_id.rsplit("/", 1)[1]
    subnet_id = f"{vnet_id}/subnets/{subnet['name']}"
    again = ok(put(server, net(server, "netRG", "networkInterfaces", "nic2"), {"location": "westus", "properties": {
        "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": subnet_id}}}]}}))
    assert private_ip(again) == "10.0.0.4", vnet_name


def test_private_addresses_dynamic_and_static(mimic: MimicServer):
    rg = "netStatic"
    mimic.create_rg(rg)
    make_vnet(mimic, rg, "v", "10.1.0.0/24")
    nic = lambda name: net(mimic, rg, "networkInterfaces", name)  # noqa: E731
    assert private_ip(ok(put(mimic, nic("a"), nic_body(mimic, rg, "v")))) == "10.1.0.4"
    assert private_ip(ok(put(mimic, nic("b"), nic_body(mimic, rg, "v", ip="10.1.0.9")))) == "10.1.0.9"
    assert private_ip(ok(put(mimic, nic("c"), nic_body(mimic, rg, "v")))) == "10.1.0.5"
    # A dynamic address stays with its configuration when the NIC is written again.
    assert private_ip(ok(put(mimic, nic("a"), nic_body(mimic, rg, "v")))) == "10.1.0.4"
    # So does a static one (its own address is not "in use" by itself).
    again = ok(put(mimic, nic("b"), nic_body(mimic, rg, "v", ip="10.1.0.9")))
    assert again["properties"]["ipConfigurations"][0]["properties"]["privateIPAllocationMethod"] == "Static"

    msg = error(put(mimic, nic("d"), nic_body(mimic, rg, "v", ip="10.1.1.7")), 400, "PrivateIPAddressNotInSubnet")
    assert msg == "Private static IP address 10.1.1.7 does not belong to the range of subnet prefix 10.1.0.0/24."
    for reserved in ("10.1.0.0", "10.1.0.1", "10.1.0.3", "10.1.0.255"):
        error(put(mimic, nic("d"), nic_body(mimic, rg, "v", ip=reserved)), 400, "PrivateIPAddressInReservedRange")
    msg = error(put(mimic, nic("d"), nic_body(mimic, rg, "v", ip="10.1.0.9")), 400, "PrivateIPAddressIsAllocated")
    assert msg.endswith(f"which is already allocated to resource {nic('b')}/ipConfigurations/ipconfig1.")
    assert mimic.arm("GET", nic("d"), api_version=NET_API).status_code == 404

    # A subnet that does not exist.
    body = nic_body(mimic, rg, "v")
    body["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] += "x"
    error(put(mimic, nic("d"), body), 400, "InvalidResourceReference")

    # Deleting a NIC frees its address: the next dynamic one takes it.
    assert mimic.arm("DELETE", nic("a"), api_version=NET_API).status_code == 200
    assert private_ip(ok(put(mimic, nic("e"), nic_body(mimic, rg, "v")))) == "10.1.0.4"
    assert private_ip(ok(put(mimic, nic("f"), nic_body(mimic, rg, "v")))) == "10.1.0.6"


def test_a_full_subnet_and_a_public_ip_used_twice(mimic: MimicServer):
    rg = "netFull"
    mimic.create_rg(rg)
    make_vnet(mimic, rg, "v", "10.1.0.8/29")  # Azure's smallest subnet: three usable addresses
    nic = lambda name: net(mimic, rg, "networkInterfaces", name)  # noqa: E731
    got = [private_ip(ok(put(mimic, nic(f"n{i}"), nic_body(mimic, rg, "v")))) for i in range(3)]
    assert got == ["10.1.0.12", "10.1.0.13", "10.1.0.14"]
    msg = error(put(mimic, nic("n3"), nic_body(mimic, rg, "v")), 400, "SubnetIsFull")
    assert msg == "Subnet default with address prefix 10.1.0.8/29 does not have enough capacity for 1 IP addresses."

    ok(put(mimic, net(mimic, rg, "publicIPAddresses", "p"), {"location": "westus", "sku": {"name": "Standard"}, "properties": {}}))
    pip = get(mimic, net(mimic, rg, "publicIPAddresses", "p"))
    assert pip["properties"]["publicIPAllocationMethod"] == "Static"
    assert ipaddress.ip_address(pip["properties"]["ipAddress"]) in PUBLIC_POOL
    mimic.arm("DELETE", nic("n2"), api_version=NET_API)
    ok(put(mimic, nic("n2"), nic_body(mimic, rg, "v", pip="p")))
    mimic.arm("DELETE", nic("n1"), api_version=NET_API)
    msg = error(put(mimic, nic("n4"), nic_body(mimic, rg, "v", pip="p")), 400, "PublicIPAddressInUse")
    assert "that is already allocated to resource" in msg
    # The group's deletion gives the public address back to the pool.
    assert mimic.arm("DELETE", rg_path(mimic, rg), api_version="2022-09-01").status_code == 202


def test_dynamic_public_ip_follows_the_vms_power_state(mimic: MimicServer, az_sp: Az):
    rg = "netDynamic"
    mimic.create_rg(rg)
    make_vnet(mimic, rg, "v")
    pip_path = net(mimic, rg, "publicIPAddresses", "basic")
    created = ok(put(mimic, pip_path, {"location": "westus", "sku": {"name": "Basic"}, "properties": {"dnsSettings": {"domainNameLabel": "mylabel"}}}))
    assert created["properties"]["publicIPAllocationMethod"] == "Dynamic" and "ipAddress" not in created["properties"]
    assert created["properties"]["dnsSettings"]["fqdn"] == "mylabel.westus.cloudapp.azure.com"
    nic = ok(put(mimic, net(mimic, rg, "networkInterfaces", "n"), nic_body(mimic, rg, "v", pip="basic")))
    # Associated with a NIC of no VM: still no address.
    assert "ipAddress" not in get(mimic, pip_path)["properties"]
    assert "macAddress" not in nic["properties"]

    vm_body = {"location": "westus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_B1s"},
        "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
        "osProfile": {"computerName": "vm1", "adminUsername": "azureuser", "adminPassword": "myPassword12!"},
        "networkProfile": {"networkInterfaces": [{"id": nic["id"]}]}}}
    ok(put(mimic, f"{rg_path(mimic, rg)}/providers/Microsoft.Compute/virtualMachines/vm1", vm_body, api=VM_API))
    first = get(mimic, pip_path)["properties"]["ipAddress"]
    assert ipaddress.ip_address(first) in PUBLIC_POOL
    assert MAC.match(get(mimic, nic["id"])["properties"]["macAddress"])

    az_sp("vm", "deallocate", "-g", rg, "-n", "vm1")
    assert "ipAddress" not in get(mimic, pip_path)["properties"]
    shown = az_sp("vm", "show", "-d", "-g", rg, "-n", "vm1")
    assert shown["publicIps"] == "" and shown["privateIps"] == "10.1.0.4" and shown["fqdns"] == "mylabel.westus.cloudapp.azure.com"
    az_sp("vm", "start", "-g", rg, "-n", "vm1")
    assert ipaddress.ip_address(get(mimic, pip_path)["properties"]["ipAddress"]) in PUBLIC_POOL
    # Stopped (not deallocated) keeps the address.
    az_sp("vm", "stop", "-g", rg, "-n", "vm1")
    assert az_sp("vm", "show", "-d", "-g", rg, "-n", "vm1")["publicIps"] != ""


def test_subnets_are_one_collection_with_their_virtual_network(mimic: MimicServer, az_sp: Az):
    """Today's az (2.91) with the api-versions it sends (vnet create 2025-07-01, subnet 2024-07-01):
    a subnet made inline with its VNet and one made on its own are both in `az network vnet show`
    and `az network vnet subnet list/show`, as in Azure; a subnet in use cannot be deleted
    (InUseSubnetCannotBeDeleted, the Network RP's code for it)."""
    rg = "subnetsrg"
    az_sp("group", "create", "-n", rg, "-l", "westus")
    az_sp("network", "vnet", "create", "-g", rg, "-n", "vnet1", "--address-prefix", "10.0.0.0/16",
          "--subnet-name", "default", "--subnet-prefix", "10.0.0.0/24")
    inline = az_sp("network", "vnet", "subnet", "show", "-g", rg, "--vnet-name", "vnet1", "-n", "default")
    assert inline["id"] == f"{net(mimic, rg, 'virtualNetworks', 'vnet1')}/subnets/default" and inline["addressPrefix"] == "10.0.0.0/24"
    az_sp("network", "vnet", "subnet", "create", "-g", rg, "--vnet-name", "vnet1", "-n", "second", "--address-prefixes", "10.0.1.0/24")
    assert [s["name"] for s in az_sp("network", "vnet", "show", "-g", rg, "-n", "vnet1")["subnets"]] == ["default", "second"]
    assert [s["name"] for s in az_sp("network", "vnet", "subnet", "list", "-g", rg, "--vnet-name", "vnet1")] == ["default", "second"]
    # A NIC in the second subnet: the subnet lists it and cannot go while it is there.
    nic = ok(put(mimic, net(mimic, rg, "networkInterfaces", "nic1"), {"location": "westus", "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": f"{net(mimic, rg, 'virtualNetworks', 'vnet1')}/subnets/second"}}}]}}))
    assert private_ip(nic) == "10.0.1.4"
    second = az_sp("network", "vnet", "subnet", "show", "-g", rg, "--vnet-name", "vnet1", "-n", "second")
    assert [c["id"].lower() for c in second["ipConfigurations"]] == [f"{nic['id']}/ipConfigurations/ipconfig1".lower()]
    refused = az_sp.run("network", "vnet", "subnet", "delete", "-g", rg, "--vnet-name", "vnet1", "-n", "second", check=False)
    assert refused.returncode != 0 and "InUseSubnetCannotBeDeleted" in refused.stderr, refused.stderr
    # A subnet PUT again (update) keeps what the Network RP filled in.
    az_sp("network", "vnet", "subnet", "update", "-g", rg, "--vnet-name", "vnet1", "-n", "second", "--service-endpoints", "Microsoft.Storage")
    assert az_sp("network", "vnet", "subnet", "show", "-g", rg, "--vnet-name", "vnet1", "-n", "second")["ipConfigurations"]
    ok_del = mimic.arm("DELETE", net(mimic, rg, "networkInterfaces", "nic1"), api_version=NET_API)
    assert ok_del.status_code in (200, 202, 204), ok_del.text
    az_sp("network", "vnet", "subnet", "delete", "-g", rg, "--vnet-name", "vnet1", "-n", "second")
    assert [s["name"] for s in az_sp("network", "vnet", "show", "-g", rg, "-n", "vnet1")["subnets"]] == ["default"]
    missing = az_sp.run("network", "vnet", "subnet", "show", "-g", rg, "--vnet-name", "vnet1", "-n", "second", check=False)
    assert missing.returncode != 0 and "ResourceNotFound" in missing.stderr, missing.stderr


def test_az_disk_create_list_show_delete(az_sp: Az):
    """A managed disk, another resource the VM story makes, with today's az: its own api-version
    line (2023-04-02 in az's profile) and a PUT that answers 200, as the Compute spec says
    (the SDK refuses a 201 from it)."""
    az_sp("group", "create", "-n", "disksrg", "-l", "westus")
    d = az_sp("disk", "create", "-g", "disksrg", "-n", "data1", "--size-gb", "4")
    assert d["name"] == "data1" and d["diskSizeGB"] == 4 and d["type"] == "Microsoft.Compute/disks"
    assert [x["name"] for x in az_sp("disk", "list", "-g", "disksrg")] == ["data1"]
    assert az_sp("disk", "show", "-g", "disksrg", "-n", "data1")["id"] == d["id"]
    az_sp("disk", "delete", "-g", "disksrg", "-n", "data1", "--yes")
    assert az_sp("disk", "list", "-g", "disksrg") == []
