"""The compute catalogue (marketplace images, VM sizes, resource SKUs) driven with az 2.91,
azure-mgmt-compute and raw HTTP.

Sources (Azure's behaviour, cited next to the assertions):
* compute.json (azure-rest-api-specs, Microsoft.Compute 2021-03-01) `VirtualMachineImages_*`:
  listings are bare JSON arrays of `{location, name, id}`; `$top`, `$orderby`, `$expand`;
  `VirtualMachineSizes_List`: `{"value": [VirtualMachineSize]}`.
* skus.json `ResourceSkus_List` and az's aaz `vm list-skus` (`--filter`: "Only **location**
  filter is supported currently"); azure-cli vm/custom.py `list_skus`, `list_vm_images`,
  `show_vm_image` (`latest` resolved with `$orderby=name desc&$top=1`), _actions.py
  `load_images_thru_services` (publishers -> offers -> skus -> versions).
* The Compute RP's answer for an unknown size, as public deployment failures relay it
  (Azure/azure-quickstart-templates#7147, PaloAltoNetworks/azure-applicationgateway#1):
  400 InvalidParameter, target vmSize, "The requested VM size X is not available in the current
  region. The sizes available in the current region are: ...".
* docs/azure-behaviour.md, the compute catalogue section.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mimic_harness import ARM_SCOPE, VM_API, Az, MimicServer, arm_error, make_nic, unique, vm_body, vm_id

URNS = ["Debian:debian-10:10:latest", "Canonical:UbuntuServer:18.04-LTS:latest",
        "canonical:0001-com-ubuntu-server-focal:20_04-lts-gen2:latest"]


@pytest.fixture
def azc(mimic: MimicServer, tmp_path: Path) -> Az:
    cfg = tmp_path / "az-catalog"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    return az


def test_vm_create_with_the_docs_image_urns(mimic: MimicServer, azc: Az):
    """`az vm create --image P:O:S:latest` asks for the version list (`$orderby=name desc&$top=1`)
    and the version itself (plan, hyperVGeneration) before deploying."""
    rg = unique("catalog")
    azc("group", "create", "-n", rg, "-l", "westus")
    for n, urn in enumerate(URNS):
        out = azc("vm", "create", "-g", rg, "-n", f"vm{n}", "--image", urn, "--size", "Standard_B1s", "--admin-username", "azureuser",
                  "--authentication-type", "password", "--admin-password", "myPassword12!x", "--nsg", "", "--public-ip-address", "",
                  timeout=300)
        assert out["powerState"] == "VM running", out
        shown = azc("vm", "show", "-g", rg, "-n", f"vm{n}")
        ref = shown["storageProfile"]["imageReference"]
        p, o, s, _ = urn.split(":")
        assert (ref["publisher"].lower(), ref["offer"].lower(), ref["sku"].lower()) == (p.lower(), o.lower(), s.lower())
        assert shown["hardwareProfile"]["vmSize"] == "Standard_B1s"


def test_az_vm_image_lookups(azc: Az):
    pubs = [p["name"] for p in azc("vm", "image", "list-publishers", "-l", "westus")]
    for want in ("Canonical", "Debian", "MicrosoftWindowsServer", "MicrosoftWindowsDesktop", "RedHat", "SUSE", "Oracle", "almalinux",
                 "OpenLogic", "microsoftazurelinux"):
        assert want in pubs, want
    offers = azc("vm", "image", "list-offers", "-p", "canonical", "-l", "westus")
    assert {"0001-com-ubuntu-server-focal", "0001-com-ubuntu-server-jammy", "UbuntuServer", "ubuntu-24_04-lts"} <= {o["name"] for o in offers}
    assert all(set(o) >= {"location", "name", "id"} and o["location"] == "westus" for o in offers)
    skus = [s["name"] for s in azc("vm", "image", "list-skus", "-p", "Debian", "-f", "debian-12", "-l", "westus")]
    assert {"12", "12-gen2"} <= set(skus)
    wins = [s["name"] for s in azc("vm", "image", "list-skus", "-p", "MicrosoftWindowsServer", "-f", "WindowsServer", "-l", "westus")]
    for sku in ("2016-Datacenter", "2019-Datacenter", "2022-datacenter-g2", "2022-datacenter-azure-edition", "2025-datacenter-g2"):
        assert sku in wins, sku

    # --all walks publishers -> offers -> skus -> versions (load_images_thru_services).
    found = azc("vm", "image", "list", "--publisher", "Debian", "--offer", "debian-11", "--sku", "11-gen2", "--all")
    assert found and all(i["urn"].startswith("Debian:debian-11:11-gen2:") for i in found)
    assert {i["architecture"] for i in found} == {"x64"}
    everything = azc("vm", "image", "list", "--publisher", "Canonical", "--all", timeout=300)
    assert any(i["sku"] == "22_04-lts-arm64" and i["architecture"] == "Arm64" for i in everything)
    # Without --all: the alias document, offline.
    aliases = azc("vm", "image", "list")
    assert {"Ubuntu2204", "Debian11", "Win2022Datacenter"} <= {i["urnAlias"] for i in aliases}

    latest = azc("vm", "image", "show", "--urn", "Debian:debian-10:10:latest", "-l", "westus")
    assert latest["hyperVGeneration"] == "V1" and latest["osDiskImage"]["operatingSystem"] == "Linux"
    exact = azc("vm", "image", "show", "--urn", f"Debian:debian-10:10:{latest['name']}", "-l", "westus")
    assert exact["name"] == latest["name"] and exact["id"].endswith(f"/Versions/{latest['name']}")
    gen2 = azc("vm", "image", "show", "--urn", "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest", "-l", "westus")
    assert gen2["hyperVGeneration"] == "V2" and gen2["architecture"] == "x64"
    res = azc.run("vm", "image", "show", "--urn", "Debian:debian-10:10:0.0.1", "-l", "westus", check=False)
    assert res.returncode != 0 and "Artifact: VMImage was not found." in res.stderr


def test_image_listing_query_options_and_errors(mimic: MimicServer):
    base = (f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Compute/locations/westus/publishers/debian/artifacttypes/vmimage"
            "/offers/DEBIAN-10/skus/10/versions")
    r = mimic.arm("GET", base, api_version="2024-11-01")
    assert r.status_code == 200, r.text
    names = [v["name"] for v in r.json()]
    assert len(names) >= 2
    r = mimic.arm("GET", base, api_version="2024-11-01", params={"$orderby": "name desc", "$top": "1"})
    (newest,) = r.json()
    assert newest["name"] == max(names, key=lambda v: [int(x) for x in v.split(".")])
    assert newest["id"].endswith(f"/Versions/{newest['name']}")
    r = mimic.arm("GET", base.replace("/skus/10/", "/skus/nope/"), api_version="2024-11-01")
    assert arm_error(r, 404, "NotFound")["message"] == "Artifact: VMImage was not found."


def test_az_vm_list_sizes_and_skus(azc: Az):
    sizes = azc("vm", "list-sizes", "-l", "westus")
    by_name = {s["name"]: s for s in sizes}
    for want in ("Standard_B1s", "Standard_DS1_v2", "Standard_D2s_v3", "Standard_D2_v2", "Standard_D2s_v5"):
        assert want in by_name, want
    assert set(by_name["Standard_B1s"]) == {"name", "numberOfCores", "osDiskSizeInMB", "resourceDiskSizeInMB", "memoryInMB",
                                            "maxDataDiskCount"}
    assert by_name["Standard_B1s"]["numberOfCores"] == 1 and by_name["Standard_B1s"]["memoryInMB"] == 1024

    skus = azc("vm", "list-skus", "-l", "westus", "--size", "Standard_B", "--all")
    assert skus and all("standard_b" in s["name"].lower() and s["locations"] == ["westus"] for s in skus)
    b1s = next(s for s in skus if s["name"] == "Standard_B1s")
    assert (b1s["resourceType"], b1s["tier"], b1s["size"], b1s["family"]) == ("virtualMachines", "Standard", "B1s", "standardBSFamily")
    assert b1s["locationInfo"][0]["location"] == "westus" and b1s["restrictions"] == []
    assert {"name": "vCPUs", "value": "1"} in b1s["capabilities"]


def test_resource_skus_filter_and_vm_size_check(mimic: MimicServer):
    path = f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Compute/skus"
    r = mimic.arm("GET", path, api_version="2021-07-01", params={"$filter": "location eq 'eastus'"})
    assert r.status_code == 200, r.text
    value = r.json()["value"]
    assert value and {tuple(s["locations"]) for s in value} == {("eastus",)}

    rg = unique("size")
    mimic.create_rg(rg)
    nic = make_nic(mimic, rg, "sizenic")
    body = vm_body(nic, linux=True)
    body["properties"]["hardwareProfile"]["vmSize"] = "Standard_Nope9"
    r = mimic.arm("PUT", vm_id(mimic, rg, "sizevm"), api_version=VM_API, json=body)
    err = arm_error(r, 400, "InvalidParameter")
    assert err["target"] == "vmSize"
    assert err["message"].startswith("The requested VM size Standard_Nope9 is not available in the current region. "
                                     "The sizes available in the current region are: ")
    assert "Standard_B1s" in err["message"]


def test_python_sdk_catalogue(mimic: MimicServer, client_ca):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    c = ComputeManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    images = c.virtual_machine_images
    assert "RedHat" in [p.name for p in images.list_publishers("westus")]
    assert "RHEL" in [o.name for o in images.list_offers("westus", "RedHat")]
    assert "9-lvm-gen2" in [s.name for s in images.list_skus("westus", "RedHat", "RHEL")]
    versions = images.list("westus", "RedHat", "RHEL", "9-lvm-gen2", orderby="name desc", top=1)
    (v,) = versions
    img = images.get("westus", "RedHat", "RHEL", "9-lvm-gen2", v.name)
    assert img.hyper_v_generation == "V2" and img.os_disk_image.operating_system == "Linux"
    sizes = {s.name: s for s in c.virtual_machine_sizes.list("westus")}
    assert sizes["Standard_D2s_v3"].number_of_cores == 2
    skus = list(c.resource_skus.list(filter="location eq 'westus'"))
    d2 = next(s for s in skus if s.name == "Standard_D2s_v3")
    assert d2.resource_type == "virtualMachines" and d2.locations == ["westus"] and d2.location_info[0].zones
