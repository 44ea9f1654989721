"""Managed identities on VMs: user-assigned identities, virtual machines with the
`identity` block, the system-assigned identity's service principal, linked authorization, and
the seeds' management steps — driven with az, curl (the REST seed's commands verbatim), the Python
SDKs (azure-mgmt-compute, azure-mgmt-msi) and raw HTTP for what clients never send.

Expectations are Azure's behaviour with their sources: docs/azure-behaviour.md (§1 identity block, §1b its
errors, §2 user-assigned identities, §3 ARM conventions, §7 the service principal, §10 what today's
az sends), the seeds (002 CLI, 004 REST/SDK/templates), docs/azure-behaviour.md §11.6 and
§12.6. "[INFERRED]" marks expectations docs/azure-behaviour.md marks "(inferred)".
"""

from __future__ import annotations

import json
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from mimic_harness import (
    ARM_SCOPE,
    AUTHZ_API,
    GRAPH_API,
    READER,
    REPO_ROOT,
    RG_API,
    VM_API,
    VM_CONTRIBUTOR,
    Az,
    MimicServer,
    _clean_env,
    arm_error,
    assign_role,
    get_vm,
    graph_sp,
    js_clients_installed,
    make_nic,
    make_uai,
    make_vm,
    node_script,
    rg_id,
    uai_id,
    unique,
    vm_body,
    vm_id,
)

#: What both msi SDKs send (docs/azure-behaviour.md §12.6); newer than mimic_harness.MSI_API, so this
#: file passes it to make_uai.
MSI_API = "2024-11-30"

MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
ASSIGN_ACTION = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"


# ---- helpers (the shared ARM ones are in mimic_harness) -----------------------------------


def az_login_sp(az: Az, app_id: str, secret: str, *extra: str) -> None:
    """`az login --service-principal`, with `--password=` so that a secret starting with '-' is
    not taken for an option by az's argument parser."""
    az("login", "--service-principal", "-u", app_id, f"--password={secret}", "--tenant", az.server.tenant_id, *extra)


def new_az(server: MimicServer, tmp_path: Path, name: str = "az", binary: Path | None = None) -> Az:
    """az (the venv's, or `binary`) with the cloud registered and logged in as the bootstrap
    service principal."""
    cfg = tmp_path / name
    cfg.mkdir()
    az = Az(server, cfg, binary=binary) if binary else Az(server, cfg)
    az.register_cloud()
    az("cloud", "set", "--name", "Mimic")
    az_login_sp(az, server.sp["clientId"], server.sp["clientSecret"])
    return az


def second_principal(server: MimicServer, name: str) -> dict:
    """A service principal with no role, made with `mimic admin sp create` (Graph underneath)."""
    p = server.mimic_cli("admin", "sp", "create", "--name", name, "--output", "json")
    if p.returncode != 0 and "unrecognized subcommand" in p.stderr:
        pytest.skip("this mimic has no `mimic admin sp create` yet")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def sp_token(server: MimicServer, sp: dict) -> str:
    r = server.client_credentials(client_id=sp["appId"], secret=sp["secret"])
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# ==========================================================================================
# User-assigned identities (Microsoft.ManagedIdentity/userAssignedIdentities)
# ==========================================================================================


def test_az_identity_create_verbatim_and_its_service_principal(seed_server: MimicServer, tmp_path):
    mimic = seed_server
    az = new_az(mimic, tmp_path)
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    # seed 002: `az identity create -g myResourceGroup -n myUserAssignedIdentity`
    out = az("identity", "create", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")
    # The seed's sample output: clientId, id, location, name, principalId, resourceGroup, tags {}, tenantId, type.
    assert out["name"] == "myUserAssignedIdentity"
    assert out["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert out["location"] == "westus"
    assert out["resourceGroup"] == "myResourceGroup"
    assert out["tags"] == {}
    assert out["tenantId"] == mimic.tenant_id
    assert out["id"].lower() == uai_id(mimic, "myResourceGroup", "myUserAssignedIdentity").lower()
    for k in ("clientId", "principalId"):
        uuid.UUID(out[k])
    assert out["clientId"] != out["principalId"]

    # docs/azure-behaviour.md §7: a ManagedIdentity service principal, displayName = name, appId = clientId,
    # alternativeNames ["isExplicit=True", <id with lower-case resourcegroups>].
    sp = graph_sp(mimic, out["principalId"])
    assert sp is not None, "creating the identity creates its service principal"
    assert sp["servicePrincipalType"] == "ManagedIdentity"
    assert sp["displayName"] == "myUserAssignedIdentity"
    assert sp["appId"] == out["clientId"]
    assert sp["alternativeNames"][0] == "isExplicit=True"
    assert sp["alternativeNames"][1] == uai_id(mimic, "myResourceGroup", "myUserAssignedIdentity")

    shown = az("identity", "show", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")
    assert (shown["principalId"], shown["clientId"]) == (out["principalId"], out["clientId"])
    # A second create is an update: same principal (PUT is idempotent).
    again = az("identity", "create", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity", "--tags", "team=mimic")
    assert again["principalId"] == out["principalId"] and again["tags"] == {"team": "mimic"}
    assert [i["name"] for i in az("identity", "list", "-g", "myResourceGroup")] == ["myUserAssignedIdentity"]
    assert "myUserAssignedIdentity" in [i["name"] for i in az("identity", "list")]

    az("identity", "delete", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")
    assert graph_sp(mimic, out["principalId"]) is None, "deleting the identity deletes its service principal"
    r = mimic.arm("GET", uai_id(mimic, "myResourceGroup", "myUserAssignedIdentity"), api_version=MSI_API)
    arm_error(r, 404, "ResourceNotFound")


@pytest.mark.parametrize("api", ["2018-11-30", "2021-09-30-preview", "2023-01-31", "2024-11-30", "2025-05-31-preview"])
def test_user_assigned_identity_crud_across_api_versions(mimic: MimicServer, api: str):
    rg = unique("uai")
    mimic.create_rg(rg)
    name = unique("id")
    path = uai_id(mimic, rg, name)
    r = mimic.arm("PUT", path, api_version=api, json={"location": "West US", "tags": {"a": "b"}})
    assert r.status_code == 201, r.text  # spec: PUT 200/201, synchronous
    body = r.json()
    assert body["properties"]["tenantId"] == mimic.tenant_id
    assert set(body["properties"]) >= {"tenantId", "principalId", "clientId"}
    assert body["location"] == "westus"
    r = mimic.arm("PUT", path, api_version=api, json={"location": "westus", "tags": {"a": "c"}})
    assert r.status_code == 200 and r.json()["properties"] == body["properties"], r.text
    r = mimic.arm("PATCH", path, api_version=api, json={"tags": {"x": "y"}})
    assert r.status_code == 200 and r.json()["tags"] == {"x": "y"}, r.text
    listed = mimic.arm("GET", f"{rg_id(mimic, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", api_version=api)
    assert [i["name"] for i in listed.json()["value"]] == [name], listed.text
    listed = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", api_version=api)
    assert name in [i["name"] for i in listed.json()["value"]], listed.text
    assert mimic.arm("DELETE", path, api_version=api).status_code == 200  # spec: DELETE 200/204
    assert mimic.arm("DELETE", path, api_version=api).status_code == 204


@pytest.mark.parametrize("name", ["ab", "-leadinghyphen", "_underscore", "has.dot", "x" * 129])
def test_user_assigned_identity_bad_names(mimic: MimicServer, name: str):
    """Names: 3-128 characters, letter or digit first, then letters, digits, '-', '_' (docs/azure-behaviour.md §2)."""
    rg = unique("uainame")
    mimic.create_rg(rg)
    r = mimic.arm("PUT", uai_id(mimic, rg, name), api_version=MSI_API, json={"location": "westus"})
    arm_error(r, 400, "InvalidResourceName")


def test_user_assigned_identity_name_limits_ok(mimic: MimicServer):
    rg = unique("uainame")
    mimic.create_rg(rg)
    for name in ("abc", "a_b-c", "x" * 128, "0digitfirst"):
        make_uai(mimic, rg, name, api=MSI_API)


def test_user_assigned_identity_errors(mimic: MimicServer):
    rg = unique("uaierr")
    mimic.create_rg(rg)
    path = uai_id(mimic, rg, "noLocation")
    arm_error(mimic.arm("PUT", path, api_version=MSI_API, json={}), 400, "LocationRequired")
    arm_error(mimic.arm("PUT", uai_id(mimic, "nosuchrg-" + uuid.uuid4().hex[:6], "x1x"), api_version=MSI_API,
                        json={"location": "westus"}), 404, "ResourceGroupNotFound")
    arm_error(mimic.arm("PATCH", path, api_version=MSI_API, json={"tags": {}}), 404, "ResourceNotFound")
    # api-version not registered for the type → NoRegisteredProviderFound listing the versions (docs/azure-behaviour.md §3)
    err = arm_error(mimic.arm("GET", path, api_version="2019-01-01"), 400, "NoRegisteredProviderFound")
    assert "2018-11-30" in err["message"]


# ==========================================================================================
# The CLI seed (seed 002) with today's az
# ==========================================================================================


def test_cli_seed_vm_identity_assign_show_remove(seed_server: MimicServer, tmp_path):
    """seed 002, line by line: identity create, vm identity assign (system; --identities by name and
    by id from another resource group), show, remove. The VM is made with the REST seed's PUT."""
    mimic = seed_server
    az = new_az(mimic, tmp_path)
    sub = mimic.subscription_id
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    nic = make_nic(mimic, "myResourceGroup", "myNic")
    token = az("account", "get-access-token")["accessToken"]
    r = mimic.arm("PUT", vm_id(mimic, "myResourceGroup", "myVM"), token=token, api_version="2018-06-01", json=vm_body(nic))
    assert r.status_code == 201, r.text
    assert "identity" not in r.json()

    uai = az("identity", "create", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")

    # "az vm identity assign -g myResourceGroup -n myVm" (the seed's casing: names are case-insensitive)
    out = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVm")
    system_pid = out["systemAssignedIdentity"]
    uuid.UUID(system_pid)
    assert out["userAssignedIdentities"] == {}
    shown = az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")
    assert shown == {"principalId": system_pid, "tenantId": mimic.tenant_id, "type": "SystemAssigned"}
    sp = graph_sp(mimic, system_pid)
    # docs/azure-behaviour.md §7: servicePrincipalType ManagedIdentity, displayName = VM name, isExplicit=False + VM id
    assert sp and sp["servicePrincipalType"] == "ManagedIdentity" and sp["displayName"] == "myVM"
    assert sp["alternativeNames"] == ["isExplicit=False", f"/subscriptions/{sub}/resourcegroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM"]
    # Assigning again is a no-op: same principal (docs/azure-behaviour.md §1b).
    assert az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM")["systemAssignedIdentity"] == system_pid

    # "--identities <USER ASSIGNED IDENTITY>" by name: az expands it to an id client-side.
    out = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM", "--identities", "myUserAssignedIdentity")
    assert out["systemAssignedIdentity"] == system_pid, "the system identity is kept (canonical type string, az-cli.md §6)"
    (key, val), = out["userAssignedIdentities"].items()
    assert key.lower() == uai["id"].lower()
    assert val == {"clientId": uai["clientId"], "principalId": uai["principalId"]}
    assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")["type"] == "SystemAssigned, UserAssigned"

    # From another resource group: "You'll have to use the URL of your managed identity" (seed 002)
    az("group", "create", "--name", "otherResourceGroup", "--location", "westus")
    other = az("identity", "create", "-g", "otherResourceGroup", "-n", "otherIdentity")
    other_url = f"/subscriptions/{sub}/resourcegroups/otherResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/otherIdentity"
    out = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM", "--identities", other_url)
    assert {k.lower() for k in out["userAssignedIdentities"]} == {uai["id"].lower(), other["id"].lower()}
    assert out["userAssignedIdentities"][next(k for k in out["userAssignedIdentities"] if "otheridentity" in k.lower())]["principalId"] == other["principalId"]

    # "az vm identity remove -g <RG> -n <VM> --identities <USER ASSIGNED IDENTITY>"
    left = az("vm", "identity", "remove", "-g", "myResourceGroup", "-n", "myVM", "--identities", "myUserAssignedIdentity")
    assert left["type"] == "SystemAssigned, UserAssigned"
    assert [k.lower() for k in left["userAssignedIdentities"]] == [other["id"].lower()]
    # Removing the only one left: "UserAssigned will be removed from the identity type value" (seed 002)
    left = az("vm", "identity", "remove", "-g", "myResourceGroup", "-n", "myVM", "--identities", other_url)
    assert left == {"principalId": system_pid, "tenantId": mimic.tenant_id, "type": "SystemAssigned"}

    # Removing the system identity deletes its service principal (docs/azure-behaviour.md §1b, §7).
    az("vm", "identity", "remove", "-g", "myResourceGroup", "-n", "myVM")
    assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM") is None
    assert graph_sp(mimic, system_pid) is None
    # Re-enabling makes a new principal (docs/azure-behaviour.md §1b).
    again = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM")["systemAssignedIdentity"]
    assert again != system_pid and graph_sp(mimic, again)["displayName"] == "myVM"

    # The user-assigned identities themselves are untouched by all this.
    assert graph_sp(mimic, uai["principalId"]) is not None


def test_cli_seed_vm_update_set_identity_type_with_todays_az(seed_server: MimicServer, tmp_path):
    """seed 002's `az vm update --set identity.type=...` lines. Today's az (2.91, aaz) sends a GET and
    a full PUT with no `identity` key whatever is set (az-cli.md §6); a PUT without `identity`
    keeps the VM's identities (docs/azure-behaviour.md §10 [INFERRED]). So these lines succeed and change nothing,
    as they would against Azure with this az."""
    mimic = seed_server
    az = new_az(mimic, tmp_path)
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    make_vm(mimic, "myResourceGroup", "myVM")
    az("identity", "create", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")
    az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM", "--identities", "myUserAssignedIdentity")
    before = az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")
    before_pid = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM")["systemAssignedIdentity"]
    before = az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")
    assert before["principalId"] == before_pid
    for args in (["--set", "identity.type=UserAssigned"],
                 ["--set", "identity.type=none"],
                 ["--set", "identity.type=none", "identity.userAssignedIdentities=null"],
                 ["--set", "identity.type=SystemAssigned", "identity.userAssignedIdentities=null"]):
        vm = az("vm", "update", "-n", "myVM", "-g", "myResourceGroup", *args)
        assert vm["name"] == "myVM"
        assert "adminPassword" not in vm["osProfile"], "secrets are never echoed"
        assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM") == before


AZ_278 = REPO_ROOT / ".venv-az278" / "bin" / "az"


@pytest.mark.skipif(not AZ_278.exists(), reason="no .venv-az278 (scripts/test-setup.sh installs azure-cli 2.78.0 there)")
def test_cli_seed_vm_update_set_identity_type_with_az_2_78(seed_server: MimicServer, tmp_path):
    """seed 002's `az vm update --set identity.type=...` lines, verbatim, with azure-cli 2.78.0 (the
    last release whose `vm update` applies `--set identity.*`: it GETs the VM, sets the path in the
    document and PUTs the whole of it back; tests/requirements-az278.txt). Each line does what the
    seed says it does; the one the seed warns about (`identity.type="none"` while user-assigned
    identities are left) is refused as Azure refuses a type without UserAssigned that names
    identities (identity.rs; Azure/aad-pod-identity#214)."""
    mimic = seed_server
    az = new_az(mimic, tmp_path, binary=AZ_278)
    assert az("version")["azure-cli"] == "2.78.0"
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    make_vm(mimic, "myResourceGroup", "myVM")
    uai = az("identity", "create", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")
    update = ["vm", "update", "-n", "myVM", "-g", "myResourceGroup", "--set"]

    def both() -> str:
        """System-assigned on, plus the user-assigned identity; the system principal's id."""
        pid = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM")["systemAssignedIdentity"]
        az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM", "--identities", "myUserAssignedIdentity")
        assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")["type"] == "SystemAssigned, UserAssigned"
        return pid

    def user_assigned_ids(shown: dict) -> list[str]:
        return [k.lower() for k in (shown.get("userAssignedIdentities") or {})]

    # "no longer needs the system-assigned identity, but still needs user-assigned identities":
    # az vm update -n myVM -g myResourceGroup --set identity.type='UserAssigned'
    system_pid = both()
    vm = az(*update, "identity.type=UserAssigned")
    # (az 2.78 prints its SDK model, every attribute present: the secret is there as null)
    assert vm["identity"]["type"] == "UserAssigned" and vm["osProfile"].get("adminPassword") is None
    shown = az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")
    assert shown["type"] == "UserAssigned" and shown.get("principalId") is None
    assert user_assigned_ids(shown) == [uai["id"].lower()]
    assert graph_sp(mimic, system_pid) is None, "disabling the system identity deletes its principal"
    assert graph_sp(mimic, uai["principalId"]) is not None

    # The line the seed keeps for VMs with no user-assigned identity, run while one is left: the
    # PUT says type None and still names the identity, which Azure refuses; nothing changes.
    res = az.run(*update, "identity.type=none", check=False)
    assert res.returncode != 0 and "InvalidParameter" in res.stderr, res.stderr
    assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")["type"] == "UserAssigned"

    # "no system-assigned managed identity and you want to remove all user-assigned identities":
    # az vm update -n myVM -g myResourceGroup --set identity.type="none" identity.userAssignedIdentities=null
    vm = az(*update, "identity.type=none", "identity.userAssignedIdentities=null")
    assert (vm.get("identity") or {}).get("type") in (None, "None")
    assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM") is None
    assert graph_sp(mimic, uai["principalId"]) is not None, "the identity resource itself stays"

    # "no longer needs system-assigned identity and it has no user-assigned identities":
    # az vm update -n myVM -g myResourceGroup --set identity.type="none"
    system_pid = az("vm", "identity", "assign", "-g", "myResourceGroup", "-n", "myVM")["systemAssignedIdentity"]
    az(*update, "identity.type=none")
    assert az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM") is None
    assert graph_sp(mimic, system_pid) is None

    # "has both ... remove all the user-assigned identities by switching to use only system-assigned":
    # az vm update -n myVM -g myResourceGroup --set identity.type='SystemAssigned' identity.userAssignedIdentities=null
    system_pid = both()
    az(*update, "identity.type=SystemAssigned", "identity.userAssignedIdentities=null")
    shown = az("vm", "identity", "show", "-g", "myResourceGroup", "-n", "myVM")
    assert (shown["type"], shown["principalId"], shown["tenantId"]) == ("SystemAssigned", system_pid, mimic.tenant_id), \
        "the system identity keeps its principal"
    assert not shown.get("userAssignedIdentities")
    assert graph_sp(mimic, system_pid) is not None


# ==========================================================================================
# The REST seed (seed 004): its curl commands verbatim, token from `az account get-access-token`
# ==========================================================================================

# Verbatim from seed 004 (the "Configure managed identities ... using REST API calls" part).
CURL_PUT_SA_2018 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PUT -d '{"location":"westus","name":"myVM","identity":{"type":"SystemAssigned"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2_v2"},"storageProfile":{"imageReference":{"sku":"2016-Datacenter","publisher":"MicrosoftWindowsServer","version":"latest","offer":"WindowsServer"},"osDisk":{"caching":"ReadWrite","managedDisk":{"storageAccountType":"StandardSSD_LRS"},"name":"myVM3osdisk","createOption":"FromImage"},"dataDisks":[{"diskSizeGB":1023,"createOption":"Empty","lun":0},{"diskSizeGB":1023,"createOption":"Empty","lun":1}]},"osProfile":{"adminUsername":"azureuser","computerName":"myVM","adminPassword":"<SECURE PASSWORD STRING>"},"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Network/networkInterfaces/myNic","properties":{"primary":true}}]}}}' -H "Content-Type: application/json" -H "Authorization: Bearer <ACCESS TOKEN>\""""
CURL_GET_2018 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/<RESOURCE GROUP>/providers/Microsoft.Compute/virtualMachines/<VM NAME>?api-version=2018-06-01' -H "Authorization: Bearer <ACCESS TOKEN>\""""
CURL_PATCH_SA_2018 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PATCH -d '{"identity":{"type":"SystemAssigned"}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_SA_UA_2018_TYPO = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PATCH -d '{"identity":{"type":"SystemAssigned, UserAssigned", "userAssignedIdentities":{"/subscriptions/<<SUBSCRIPTION ID>>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1":{},"/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID2":{}}}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_SA_UA_2018 = """curl  'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PATCH -d '{"identity":{"type":"SystemAssigned, UserAssigned", "userAssignedIdentities":{"/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1":{},"/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID2":{}}}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_REMOVE_ID2_2018 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PATCH -d '{"identity":{"type":"SystemAssigned, UserAssigned", "userAssignedIdentities":{"/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID2":null}}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_SA_UA_2017 = """curl  'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2017-12-01' -X PATCH -d '{"identity":{"type":"SystemAssigned,UserAssigned", "identityIds":["/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1","/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID2"]}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_KEEP_ID1_2017 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2017-12-01' -X PATCH -d '{"identity":{"type":"SystemAssigned, UserAssigned", "identityIds":["/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1"]}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_UA_LOWER_2017 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2017-12-01' -X PATCH -d '{"identity":{"type":"userAssigned", "identityIds":["/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1"]}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_UA_2018 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PATCH -d '{"identity":{"type":"UserAssigned", "userAssignedIdentities":{"/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1":{}}}}' -H "Content-Type: application/json" -H "Authorization:Bearer <ACCESS TOKEN>\""""
CURL_PATCH_NONE_2018 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2018-06-01' -X PATCH -d '{"identity":{"type":"None"}}' -H "Content-Type: application/json" -H Authorization:"Bearer <ACCESS TOKEN>\""""
CURL_PUT_UA_2017 = """curl 'https://management.azure.com/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM?api-version=2017-12-01' -X PUT -d '{"location":"westus","name":"myVM","identity":{"type":"UserAssigned","identityIds":["/subscriptions/<SUBSCRIPTION ID>/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1"]},"properties":{"hardwareProfile":{"vmSize":"Standard_D2_v2"},"storageProfile":{"imageReference":{"sku":"2016-Datacenter","publisher":"MicrosoftWindowsServer","version":"latest","offer":"WindowsServer"},"osDisk":{"caching":"ReadWrite","managedDisk":{"storageAccountType":"StandardSSD_LRS"},"name":"myVM3osdisk","createOption":"FromImage"},"dataDisks":[{"diskSizeGB":1023,"createOption":"Empty","lun":0},{"diskSizeGB":1023,"createOption":"Empty","lun":1}]},"osProfile":{"adminUsername":"azureuser","computerName":"myVM","adminPassword":"myPassword12"},"networkProfile":{"networkInterfaces":[{"id":"/subscriptions/<SUBSCRIPTION ID>/resourceGroups/myResourceGroup/providers/Microsoft.Network/networkInterfaces/myNic","properties":{"primary":true}}]}}}' -H "Content-Type: application/json" -H "Authorization: Bearer <ACCESS TOKEN>\""""
# The seed's 2018-06-01 user-assigned example carries `identityIds` (a documentation bug).
CURL_PUT_UA_2018_IDENTITYIDS = CURL_PUT_UA_2017.replace("api-version=2017-12-01", "api-version=2018-06-01")


def curl(mimic: MimicServer, seed_line: str, token: str, rg: str = "myResourceGroup", vm: str = "myVM") -> tuple[int, dict | None]:
    """Runs a seed curl line with its placeholders filled and Mimic's ARM for management.azure.com."""
    line = (seed_line.replace("https://management.azure.com", mimic.arm_url)
            .replace("<SUBSCRIPTION ID>", mimic.subscription_id).replace("<ACCESS TOKEN>", token)
            .replace("<RESOURCE GROUP>", rg).replace("<VM NAME>", vm)
            .replace("<SECURE PASSWORD STRING>", "Secure-Passw0rd!"))
    argv = shlex.split(line) + ["--cacert", str(mimic.ca_path), "--silent", "--show-error", "--write-out", "\n%{http_code}"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.rpartition("\n")
    return int(status), (json.loads(body) if body.strip() else None)


def test_rest_seed_curl_commands_verbatim(seed_server: MimicServer, tmp_path):
    mimic = seed_server
    az = new_az(mimic, tmp_path)
    sub = mimic.subscription_id
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    # seed 004: "az network nic create -g myResourceGroup --vnet-name myVnet --subnet mySubnet -n myNic"
    # needs the VNet; NICs are generic resources here, so the NIC is PUT directly.
    make_nic(mimic, "myResourceGroup", "myNic")
    token = az("account", "get-access-token")["accessToken"]

    # Create a VM with a system-assigned identity (PUT, 2018-06-01): 201, long-running.
    status, vm = curl(mimic, CURL_PUT_SA_2018, token)
    assert status == 201, vm
    assert vm["identity"]["type"] == "SystemAssigned" and vm["identity"]["tenantId"] == mimic.tenant_id
    assert vm["properties"]["provisioningState"] == "Creating"
    assert "adminPassword" not in vm["properties"]["osProfile"], "secrets are never echoed"
    assert vm["properties"]["storageProfile"]["dataDisks"][1]["lun"] == 1, "the properties document is kept"
    sa_pid = vm["identity"]["principalId"]
    status, got = curl(mimic, CURL_GET_2018, token)
    assert status == 200 and got["identity"] == vm["identity"] and got["properties"]["provisioningState"] == "Succeeded"
    # PATCH SystemAssigned again: same principal.
    status, vm = curl(mimic, CURL_PATCH_SA_2018, token)
    assert status == 200 and vm["identity"]["principalId"] == sa_pid, vm

    id1 = make_uai(mimic, "myResourceGroup", "ID1", api=MSI_API)
    id2 = make_uai(mimic, "myResourceGroup", "ID2", api=MSI_API)
    u1, u2 = uai_id(mimic, "myResourceGroup", "ID1"), uai_id(mimic, "myResourceGroup", "ID2")
    # The seed's first SA+UA example has a typo, `<<SUBSCRIPTION ID>>`: that id is not in this
    # subscription, so linked authorization fails on it ("or the linked scope(s) are invalid").
    status, err = curl(mimic, CURL_PATCH_SA_UA_2018_TYPO, token)
    assert status == 403 and err["error"]["code"] == "LinkedAuthorizationFailed", err
    assert f"/subscriptions/<{sub}>/resourcegroups/myResourceGroup" in err["error"]["message"]
    status, vm = curl(mimic, CURL_PATCH_SA_UA_2018, token)
    assert status == 200, vm
    assert vm["identity"]["type"] == "SystemAssigned, UserAssigned" and vm["identity"]["principalId"] == sa_pid
    assert vm["identity"]["userAssignedIdentities"] == {
        u1: {"principalId": id1["properties"]["principalId"], "clientId": id1["properties"]["clientId"]},
        u2: {"principalId": id2["properties"]["principalId"], "clientId": id2["properties"]["clientId"]},
    }
    # "Add null to the user-assigned managed identity you would like to remove"
    status, vm = curl(mimic, CURL_PATCH_REMOVE_ID2_2018, token)
    assert status == 200 and list(vm["identity"]["userAssignedIdentities"]) == [u1], vm

    # api-version 2017-12-01: identityIds, the whole list each time; type without the space.
    status, vm = curl(mimic, CURL_PATCH_SA_UA_2017, token)
    assert status == 200, vm
    assert vm["identity"] == {"type": "SystemAssigned, UserAssigned", "principalId": sa_pid, "tenantId": mimic.tenant_id, "identityIds": [u1, u2]}
    status, vm = curl(mimic, CURL_PATCH_KEEP_ID1_2017, token)
    assert status == 200 and vm["identity"]["identityIds"] == [u1], vm
    # `userAssigned` (lower-case u) drops the system identity and deletes its principal.
    status, vm = curl(mimic, CURL_PATCH_UA_LOWER_2017, token)
    assert status == 200 and vm["identity"] == {"type": "UserAssigned", "identityIds": [u1]}, vm
    assert graph_sp(mimic, sa_pid) is None
    status, vm = curl(mimic, CURL_PATCH_UA_2018, token)
    assert status == 200 and vm["identity"]["type"] == "UserAssigned" and "principalId" not in vm["identity"], vm
    # Remove every identity.
    status, vm = curl(mimic, CURL_PATCH_NONE_2018, token)
    assert status == 200 and "identity" not in vm, vm
    status, got = curl(mimic, CURL_GET_2018, token)
    assert "identity" not in got

    # Create with a user-assigned identity (PUT, 2017-12-01) after deleting the VM.
    r = mimic.arm("DELETE", vm_id(mimic, "myResourceGroup", "myVM"), token=token, api_version="2018-06-01")
    assert r.status_code == 202 and r.headers.get("Azure-AsyncOperation") and r.headers.get("Location"), r.headers
    status, vm = curl(mimic, CURL_PUT_UA_2017, token)
    assert status == 201 and vm["identity"] == {"type": "UserAssigned", "identityIds": [u1]}, vm
    # The seed's 2018-06-01 example with `identityIds` gets Azure's answer (MicrosoftDocs/azure-docs#68377).
    status, err = curl(mimic, CURL_PUT_UA_2018_IDENTITYIDS, token)
    assert status == 400 and err["error"] == {
        "code": "InvalidParameter",
        "message": "ResourceIdentity property identityIds is deprecated. The userAssignedIdentities property should be used instead.",
        "target": "resourceIdentity.identityIds",
    }, err


# ==========================================================================================
# Python SDKs: azure-mgmt-compute + azure-mgmt-msi
# ==========================================================================================


def test_python_sdks_enable_disable_system_and_user_assigned(mimic: MimicServer, client_ca):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute.models import (UserAssignedIdentitiesValue, VirtualMachineIdentity,
                                           VirtualMachineUpdate)
    from azure.mgmt.msi import ManagedServiceIdentityClient

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    compute = ComputeManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    msi = ManagedServiceIdentityClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    rg = unique("sdk")
    mimic.create_rg(rg)
    nic = make_nic(mimic, rg, "sdknic")

    ident = msi.user_assigned_identities.create_or_update(rg, "sdkIdentity", {"location": "westus"})
    assert ident.principal_id and ident.client_id and ident.tenant_id == mimic.tenant_id
    assert msi.user_assigned_identities.get(rg, "sdkIdentity").principal_id == ident.principal_id

    body = vm_body(nic, name="sdkvm")
    body["properties"]["osProfile"]["adminPassword"] = "Secure-Passw0rd!"
    vm = compute.virtual_machines.begin_create_or_update(rg, "sdkvm", {
        "location": "westus", "hardware_profile": {"vm_size": "Standard_B1s"},
        "os_profile": {"computer_name": "sdkvm", "admin_username": "azureuser", "admin_password": "Secure-Passw0rd!"},
        "network_profile": {"network_interfaces": [{"id": nic, "primary": True}]},
    }).result()
    assert vm.provisioning_state == "Succeeded" and vm.identity is None and vm.vm_id

    # Enable system-assigned (PATCH, LRO through Azure-AsyncOperation then a final GET).
    vm = compute.virtual_machines.begin_update(rg, "sdkvm", VirtualMachineUpdate(identity=VirtualMachineIdentity(type="SystemAssigned"))).result()
    assert vm.identity.type == "SystemAssigned" and vm.identity.principal_id
    sa = vm.identity.principal_id
    assert msi.system_assigned_identities.get_by_scope(vm.id).principal_id == sa  # SystemAssignedIdentities_GetByScope

    # Add the user-assigned identity.
    vm = compute.virtual_machines.begin_update(rg, "sdkvm", VirtualMachineUpdate(identity=VirtualMachineIdentity(
        type="SystemAssigned, UserAssigned", user_assigned_identities={ident.id: UserAssignedIdentitiesValue()}))).result()
    assert vm.identity.type == "SystemAssigned, UserAssigned" and vm.identity.principal_id == sa
    (key, val), = vm.identity.user_assigned_identities.items()
    assert key.lower() == ident.id.lower() and (val.principal_id, val.client_id) == (ident.principal_id, ident.client_id)

    # Disable system-assigned, keep user-assigned.
    vm = compute.virtual_machines.begin_update(rg, "sdkvm", VirtualMachineUpdate(identity=VirtualMachineIdentity(type="UserAssigned"))).result()
    assert vm.identity.type == "UserAssigned" and vm.identity.principal_id is None
    assert list(vm.identity.user_assigned_identities) == [key]
    assert graph_sp(mimic, sa) is None

    # Remove the user-assigned identity: type None.
    vm = compute.virtual_machines.begin_update(rg, "sdkvm", VirtualMachineUpdate(identity=VirtualMachineIdentity(type="None"))).result()
    assert vm.identity is None
    # Put both back with a PUT of the whole model (what GET-modify-PUT clients do).
    vm.identity = VirtualMachineIdentity(type="SystemAssigned, UserAssigned", user_assigned_identities={ident.id: UserAssignedIdentitiesValue()})
    vm = compute.virtual_machines.begin_create_or_update(rg, "sdkvm", vm).result()
    assert vm.identity.type == "SystemAssigned, UserAssigned" and vm.identity.principal_id != sa

    # Power actions as state changes, seen in the instance view.
    def power():
        return [s.code for s in compute.virtual_machines.instance_view(rg, "sdkvm").statuses if s.code.startswith("PowerState/")]
    assert power() == ["PowerState/running"]
    compute.virtual_machines.begin_power_off(rg, "sdkvm").result()
    assert power() == ["PowerState/stopped"]
    compute.virtual_machines.begin_deallocate(rg, "sdkvm").result()
    assert power() == ["PowerState/deallocated"]
    compute.virtual_machines.begin_start(rg, "sdkvm").result()
    compute.virtual_machines.begin_restart(rg, "sdkvm").result()
    assert power() == ["PowerState/running"]
    expanded = compute.virtual_machines.get(rg, "sdkvm", expand="instanceView")
    assert expanded.instance_view.statuses[1].display_status == "VM running"

    assert [v.name for v in compute.virtual_machines.list(rg)] == ["sdkvm"]
    assert "sdkvm" in [v.name for v in compute.virtual_machines.list_all()]
    new_sa = vm.identity.principal_id
    compute.virtual_machines.begin_delete(rg, "sdkvm").result()
    assert graph_sp(mimic, new_sa) is None, "deleting the VM deletes its system-assigned principal"
    assert [v.name for v in compute.virtual_machines.list(rg)] == []
    assert graph_sp(mimic, ident.principal_id) is not None
    msi.user_assigned_identities.delete(rg, "sdkIdentity")
    assert graph_sp(mimic, ident.principal_id) is None


def check_js_sdk_steps(mimic: MimicServer, steps: dict) -> None:
    """What tests/js/vm_identity_sdk.mjs saw after each PATCH is what Azure returns (docs/azure-behaviour.md §1)."""
    ua = steps["userAssigned"]
    assert ua["principalId"] and ua["clientId"] and ua["tenantId"] == mimic.tenant_id
    assert steps["created"] == {"provisioningState": "Succeeded", "identity": None, "adminPasswordEchoed": False}
    on = steps["systemOn"]
    assert on["type"] == "SystemAssigned" and on["principalId"] and on["userAssigned"] == []
    added = steps["userAdded"]
    assert added["type"] == "SystemAssigned, UserAssigned" and added["principalId"] == on["principalId"]
    assert [k.lower() for k in added["userAssigned"]] == [ua["id"].lower()]
    assert steps["userAddedValue"] == {"principalId": ua["principalId"], "clientId": ua["clientId"]}
    assert steps["userRemoved"] == {"type": "SystemAssigned", "principalId": on["principalId"], "userAssigned": []}
    assert steps["none"] is None
    assert steps["listed"] == [steps_vm(steps)] and steps["identities"] == [steps_vm(steps) + "-id"]
    assert graph_sp(mimic, on["principalId"]) is None, "type None removed the system-assigned principal"
    assert graph_sp(mimic, ua["principalId"]) is None, "deleting the identity removed its principal"


def steps_vm(steps: dict) -> str:
    return steps["userAssigned"]["id"].rsplit("/", 1)[1].removesuffix("-id")


@pytest.mark.skipif(not js_clients_installed(), reason="node packages not installed (scripts/test-setup.sh)")
def test_javascript_sdks_enable_disable_system_and_user_assigned(mimic: MimicServer):
    """@azure/arm-compute + @azure/arm-msi (pinned in tests/js), as a custom cloud."""
    rg = unique("jssdk")
    mimic.create_rg(rg)
    nic = make_nic(mimic, rg, "jsnic")
    steps = node_script("vm_identity_sdk.mjs", _clean_env({
        "NODE_EXTRA_CA_CERTS": str(mimic.ca_path), "MIMIC_ARM": mimic.arm_url, "MIMIC_LOGIN": mimic.login_url,
        "AZURE_TENANT_ID": mimic.tenant_id, "AZURE_CLIENT_ID": mimic.sp["clientId"],
        "AZURE_CLIENT_SECRET": mimic.sp["clientSecret"], "AZURE_SUBSCRIPTION_ID": mimic.subscription_id,
        "MIMIC_RG": rg, "MIMIC_NIC": nic, "MIMIC_VM": "jsvm"}))
    check_js_sdk_steps(mimic, steps)


# ==========================================================================================
# Role prerequisites (seeds 002/004) and linked authorization (docs/azure-behaviour.md §1b)
# ==========================================================================================


def test_role_prerequisites_vm_contributor_and_managed_identity_operator(mimic: MimicServer):
    """VM Contributor may enable system-assigned but gets LinkedAuthorizationFailed attaching a
    user-assigned identity until it also has Managed Identity Operator on it; removing one needs VM
    Contributor only; Reader can do neither."""
    rg = unique("roles")
    mimic.create_rg(rg)
    vm = make_vm(mimic, rg, "rolevm")
    ident = make_uai(mimic, rg, "roleIdentity", api=MSI_API)
    principal = second_principal(mimic, unique("vmcontrib"))
    token = sp_token(mimic, principal)
    path = vm["id"]
    uid = uai_id(mimic, rg, "roleIdentity")

    vmc = assign_role(mimic, principal["objectId"], VM_CONTRIBUTOR, rg_id(mimic, rg))
    r = mimic.arm("PATCH", path, token=token, api_version=VM_API, json={"identity": {"type": "SystemAssigned"}})
    assert r.status_code == 200, r.text
    sa = r.json()["identity"]["principalId"]

    add = {"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uid: {}}}}
    r = mimic.arm("PATCH", path, token=token, api_version=VM_API, json=add)
    err = arm_error(r, 403, "LinkedAuthorizationFailed")
    oid = principal["objectId"]
    assert err["message"] == (
        f"The client '{oid}' with object id '{oid}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' "
        f"on scope '{path}'; however, it does not have permission to perform action '{ASSIGN_ACTION}' "
        f"on the linked scope(s) '{uid}' or the linked scope(s) are invalid.")
    # Nothing half-applied.
    assert get_vm(mimic, rg, "rolevm")["identity"] == {"type": "SystemAssigned", "principalId": sa, "tenantId": mimic.tenant_id}

    mio = assign_role(mimic, principal["objectId"], MI_OPERATOR, ident["id"])
    r = mimic.arm("PATCH", path, token=token, api_version=VM_API, json=add)
    assert r.status_code == 200, r.text
    assert r.json()["identity"]["userAssignedIdentities"][uid]["principalId"] == ident["properties"]["principalId"]

    # Removing needs only VM write (seed 002).
    assert mimic.arm("DELETE", mio, api_version=AUTHZ_API).status_code == 200
    r = mimic.arm("PATCH", path, token=token, api_version=VM_API, json={"identity": {"type": "SystemAssigned", "userAssignedIdentities": None}})
    assert r.status_code == 200 and "userAssignedIdentities" not in r.json()["identity"], r.text
    # Re-sending an identity that is already attached needs no linked check; only new ones do.
    mimic.arm("PATCH", path, api_version=VM_API, json=add)
    r = mimic.arm("PATCH", path, token=token, api_version=VM_API, json=add)
    assert r.status_code == 200, r.text

    # Reader can do neither.
    assert mimic.arm("DELETE", vmc, api_version=AUTHZ_API).status_code == 200
    assign_role(mimic, principal["objectId"], READER, rg_id(mimic, rg))
    assert mimic.arm("GET", path, token=token, api_version=VM_API).status_code == 200
    for body in ({"identity": {"type": "None"}}, add):
        err = arm_error(mimic.arm("PATCH", path, token=token, api_version=VM_API, json=body), 403, "AuthorizationFailed")
        assert f"to perform action 'Microsoft.Compute/virtualMachines/write' over scope '{path}'" in err["message"]


def test_role_prerequisites_with_az_logged_in_as_vm_contributor(mimic: MimicServer, tmp_path):
    rg = unique("azroles")
    mimic.create_rg(rg)
    make_vm(mimic, rg, "azrolevm")
    make_uai(mimic, rg, "azRoleIdentity", api=MSI_API)
    principal = second_principal(mimic, unique("azvmcontrib"))
    assign_role(mimic, principal["objectId"], VM_CONTRIBUTOR, rg_id(mimic, rg))
    cfg = tmp_path / "az-vmc"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.register_cloud()
    az("cloud", "set", "--name", "Mimic")
    az_login_sp(az, principal["appId"], principal["secret"], "--allow-no-subscriptions")
    out = az("vm", "identity", "assign", "-g", rg, "-n", "azrolevm")
    assert out["systemAssignedIdentity"]
    res = az.run("vm", "identity", "assign", "-g", rg, "-n", "azrolevm", "--identities", "azRoleIdentity", check=False)
    assert res.returncode != 0 and "LinkedAuthorizationFailed" in res.stderr, res.stderr
    assign_role(mimic, principal["objectId"], MI_OPERATOR, uai_id(mimic, rg, "azRoleIdentity"))
    out = az("vm", "identity", "assign", "-g", rg, "-n", "azrolevm", "--identities", "azRoleIdentity")
    assert len(out["userAssignedIdentities"]) == 1


# ==========================================================================================
# Bad input gets Azure's answers, and nothing is half-applied
# ==========================================================================================


@pytest.fixture
def victim(mimic: MimicServer) -> dict:
    """A VM with system-assigned + one user-assigned identity, for bad requests to bounce off."""
    rg = unique("bad")
    mimic.create_rg(rg)
    ident = make_uai(mimic, rg, "goodIdentity", api=MSI_API)
    vm = make_vm(mimic, rg, "badvm", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_id(mimic, rg, "goodIdentity"): {}}})
    return {"rg": rg, "vm": vm, "ident": ident}


def test_malformed_identity_blocks(mimic: MimicServer, victim):
    rg, vm = victim["rg"], victim["vm"]
    path = vm["id"]
    other = uai_id(mimic, rg, "goodIdentity")
    cases = [
        # Azure/azure-powershell#7556: "Required property 'type' not found in JSON."
        ({"identity": {"userAssignedIdentities": {other: {}}}}, VM_API, "InvalidRequestContent", "Required property 'type' not found in JSON"),
        ({"identity": {"type": "Everything"}}, VM_API, "InvalidRequestContent", None),  # [INFERRED]
        ({"identity": {"type": 7}}, VM_API, "InvalidRequestContent", None),
        ({"identity": "SystemAssigned"}, VM_API, "InvalidRequestContent", None),
        ({"identity": {"type": "UserAssigned", "userAssignedIdentities": [other]}}, VM_API, "InvalidRequestContent", None),
        # Azure/aad-pod-identity#214 (2017-12-01) and its userAssignedIdentities analogue [INFERRED]
        ({"identity": {"type": "SystemAssigned", "identityIds": [other]}}, "2017-12-01", "InvalidParameter",
         'ResourceIdentity identityIds should not be provided if the type is "SystemAssigned".'),
        ({"identity": {"type": "None", "userAssignedIdentities": {other: {}}}}, VM_API, "InvalidParameter", None),
        # MicrosoftDocs/azure-docs#68377
        ({"identity": {"type": "UserAssigned", "identityIds": [other]}}, "2018-06-01", "InvalidParameter",
         "ResourceIdentity property identityIds is deprecated. The userAssignedIdentities property should be used instead."),
        # Azure/aad-pod-identity#69: not a reference to a user-assigned identity
        ({"identity": {"type": "UserAssigned", "userAssignedIdentities": {"not-a-resource-id": {}}}}, VM_API, "InvalidParameter",
         "ResourceIdentity identityId 'not-a-resource-id' is not a valid reference to a Microsoft.ManagedIdentity identity."),
        ({"identity": {"type": "UserAssigned", "userAssignedIdentities": {vm["id"]: {}}}}, VM_API, "InvalidParameter", None),
        # UserAssigned with no identity left (hashicorp/terraform-provider-azurerm#17082 text)
        # (a PATCH with an empty map keeps what is attached: only PUT replaces the set)
        ({"identity": {"type": "UserAssigned", "userAssignedIdentities": {}}}, VM_API, "MissingIdentityIds",
         "The identity ids must not be null or empty for 'UserAssigned' identity type.", ("PUT",)),
        ({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {other: None}}}, VM_API, "MissingIdentityIds", None),
    ]
    before = get_vm(mimic, rg, "badvm")
    for body, api, code, message, *only in cases:
        for method in (only[0] if only else ("PATCH", "PUT")):
            send = body if method == "PATCH" else {**vm_body(vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"], name="badvm"), **body}
            err = arm_error(mimic.arm(method, path, api_version=api, json=send), 400, code)
            if message:
                if code == "InvalidRequestContent":  # "The request content was invalid ...: '<Json.NET text>'."
                    assert err["message"].startswith("The request content was invalid and could not be deserialized: '") and message in err["message"], err
                else:
                    assert err["message"] == message, (body, err)
    after = get_vm(mimic, rg, "badvm")
    assert after["identity"] == before["identity"] and after["properties"] == before["properties"], "nothing half-applied"


def test_unknown_identity_is_failed_identity_operation_and_nothing_changes(mimic: MimicServer, victim):
    rg, vm = victim["rg"], victim["vm"]
    ghost = uai_id(mimic, rg, "ghostIdentity")
    good = uai_id(mimic, rg, "goodIdentity")
    before = get_vm(mimic, rg, "badvm")
    r = mimic.arm("PATCH", vm["id"], api_version=VM_API, json={"identity": {"type": "UserAssigned", "userAssignedIdentities": {ghost: {}}}})
    err = arm_error(r, 400, "FailedIdentityOperation")
    # Azure/azure-policy#1311 (real text), the id as sent.
    assert err["message"] == (
        f"Identity operation for resource '{vm['id']}' failed with error 'Failed to perform resource identity operation. "
        f"Status: 'BadRequest'. Response: '{{\"error\":{{\"code\":\"BadRequest\",\"message\":\"Resource '{ghost}' was not found.\"}}}}'.'.")
    after = get_vm(mimic, rg, "badvm")
    assert after["identity"] == before["identity"]
    assert graph_sp(mimic, before["identity"]["principalId"]) is not None, "the system identity was not dropped"
    assert list(after["identity"]["userAssignedIdentities"]) == [good]

    # A failed create leaves no VM and no service principal behind.
    nic = make_nic(mimic, rg, "ghostnic")
    r = mimic.arm("PUT", vm_id(mimic, rg, "ghostvm"), api_version=VM_API,
                  json=vm_body(nic, {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ghost: {}}}, "ghostvm"))
    arm_error(r, 400, "FailedIdentityOperation")
    arm_error(mimic.arm("GET", vm_id(mimic, rg, "ghostvm"), api_version=VM_API), 404, "ResourceNotFound")
    graph = mimic.http.get(f"{mimic.graph_url}/{GRAPH_API}/servicePrincipals", params={"$filter": "displayName eq 'ghostvm'"},
                           headers={"Authorization": f"Bearer {mimic.sp_token('https://graph.microsoft.com/.default')}"}, timeout=30)
    assert graph.status_code == 200 and graph.json()["value"] == [], graph.text


def test_vm_body_errors(mimic: MimicServer):
    rg = unique("vmbad")
    mimic.create_rg(rg)
    nic = make_nic(mimic, rg, "nic1")
    path = vm_id(mimic, rg, "vm1")
    missing_nic = f"{rg_id(mimic, rg)}/providers/Microsoft.Network/networkInterfaces/nope"
    err = arm_error(mimic.arm("PUT", path, api_version=VM_API, json=vm_body(missing_nic, name="vm1")), 400, "InvalidResourceReference")
    assert err["message"].startswith(f"Resource {missing_nic} referenced by resource ")
    no_net = vm_body(nic, name="vm1")
    del no_net["properties"]["networkProfile"]
    err = arm_error(mimic.arm("PUT", path, api_version=VM_API, json=no_net), 400, "InvalidParameter")
    assert err["message"] == "Required parameter 'networkProfile' is missing (null)."
    bad_nic = vm_body("not/an/id", name="vm1")
    arm_error(mimic.arm("PUT", path, api_version=VM_API, json=bad_nic), 400, "LinkedInvalidPropertyId")
    no_loc = vm_body(nic, name="vm1")
    del no_loc["location"]
    arm_error(mimic.arm("PUT", path, api_version=VM_API, json=no_loc), 400, "LocationRequired")
    arm_error(mimic.arm("PUT", path, api_version=VM_API, json={**vm_body(nic, name="vm1"), "properties": 3}), 400, "InvalidRequestContent")
    arm_error(mimic.arm("PUT", path, api_version=VM_API, data="{not json", headers={"Content-Type": "application/json"}), 400, "InvalidRequestContent")
    err = arm_error(mimic.arm("PUT", path, api_version="2099-01-01", json=vm_body(nic, name="vm1")), 400, "NoRegisteredProviderFound")
    assert "2017-12-01" in err["message"]
    arm_error(mimic.arm("GET", path, api_version=VM_API), 404, "ResourceNotFound")
    arm_error(mimic.arm("PATCH", path, api_version=VM_API, json={"tags": {}}), 404, "ResourceNotFound")
    assert mimic.arm("DELETE", path, api_version=VM_API).status_code == 204

    # After creation: the OS profile's identity fields cannot change; neither can the location.
    assert mimic.arm("PUT", path, api_version=VM_API, json=vm_body(nic, name="vm1")).status_code == 201
    changed = vm_body(nic, name="vm1")
    changed["properties"]["osProfile"]["adminUsername"] = "someoneelse"
    arm_error(mimic.arm("PUT", path, api_version=VM_API, json=changed), 409, "PropertyChangeNotAllowed")
    moved = {**vm_body(nic, name="vm1"), "location": "eastus"}
    arm_error(mimic.arm("PUT", path, api_version=VM_API, json=moved), 409, "InvalidResourceLocation")


# ==========================================================================================
# VM resource behaviour: LRO headers, listing, deletion and resource-group deletion
# ==========================================================================================


def test_vm_put_is_long_running_with_azure_async_operation(mimic: MimicServer):
    rg = unique("lro")
    mimic.create_rg(rg)
    nic = make_nic(mimic, rg, "lronic")
    path = vm_id(mimic, rg, "lrovm")
    r = mimic.arm("PUT", path, api_version=VM_API, json=vm_body(nic, {"type": "SystemAssigned"}, "lrovm"))
    # SDKs accept only 200/201 for PUT/PATCH (docs/azure-behaviour.md §12.6).
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Creating", r.text
    status_url = r.headers["Azure-AsyncOperation"]
    assert f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Compute/locations/westus/operations/" in status_url
    s = mimic.arm("GET", status_url)
    assert s.status_code == 200 and s.json()["status"] == "Succeeded", s.text
    assert set(s.json()) >= {"startTime", "status", "name"}
    r = mimic.arm("PUT", path, api_version=VM_API, json=vm_body(nic, {"type": "SystemAssigned"}, "lrovm"))
    assert r.status_code == 200 and r.json()["properties"]["provisioningState"] == "Updating", r.text
    r = mimic.arm("PATCH", path, api_version=VM_API, json={"tags": {"env": "test"}})
    assert r.status_code == 200 and r.headers.get("Azure-AsyncOperation"), r.text
    got = get_vm(mimic, rg, "lrovm")
    assert got["tags"] == {"env": "test"} and got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["osProfile"] == {"adminUsername": "azureuser", "computerName": "lrovm"}, "adminPassword is never stored nor echoed"
    # A PUT without `identity` keeps the identity (docs/azure-behaviour.md §10 [INFERRED]).
    r = mimic.arm("PUT", path, api_version=VM_API, json=vm_body(nic, None, "lrovm"))
    assert r.json()["identity"] == got["identity"], r.text


def test_deleting_vm_and_resource_group_deletes_principals_and_orphans_role_assignments(mimic: MimicServer):
    rg = unique("life")
    mimic.create_rg(rg)
    ident = make_uai(mimic, rg, "lifeIdentity", api=MSI_API)
    vm = make_vm(mimic, rg, "lifevm", {"type": "SystemAssigned"})
    sa = vm["identity"]["principalId"]
    # Give the VM's identity a role, as seed 002's `--role contributor --scope` does.
    ra = assign_role(mimic, sa, READER, rg_id(mimic, rg))
    assert graph_sp(mimic, sa) is not None
    r = mimic.arm("DELETE", vm["id"], api_version=VM_API)
    assert r.status_code == 202
    assert mimic.arm("GET", r.headers["Location"]).status_code == 200
    assert graph_sp(mimic, sa) is None
    # Azure leaves the role assignment behind, orphaned (docs/azure-behaviour.md §1b); its principal is gone.
    left = mimic.arm("GET", ra, api_version=AUTHZ_API)
    assert left.status_code == 200 and left.json()["properties"]["principalId"] == sa

    vm2 = make_vm(mimic, rg, "lifevm2", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_id(mimic, rg, "lifeIdentity"): {}}})
    r = mimic.arm("DELETE", rg_id(mimic, rg), api_version=RG_API)
    assert r.status_code == 202
    assert graph_sp(mimic, vm2["identity"]["principalId"]) is None
    assert graph_sp(mimic, ident["properties"]["principalId"]) is None


def test_az_identity_list_resources_lists_what_the_identity_is_attached_to(mimic: MimicServer, az_sp: Az):
    """`az identity list-resources` (POST .../listAssociatedResources, api-version
    2022-01-31-preview): the VMs that carry the identity, with Azure Resource Graph's shape;
    `$filter`, `$orderby`, `$skip`/`$top` as the spec's example sends them."""
    rg = unique("assoc")
    mimic.create_rg(rg)
    uai = make_uai(mimic, rg, "shared")
    other = make_uai(mimic, rg, "unused")
    for vm in ("vm-b", "vm-a"):
        make_vm(mimic, rg, vm, {"type": "UserAssigned", "userAssignedIdentities": {uai["id"]: {}}}, linux=True)
    make_vm(mimic, rg, "vm-c", {"type": "UserAssigned", "userAssignedIdentities": {other["id"]: {}}}, linux=True)
    listed = az_sp("identity", "list-resources", "-g", rg, "-n", "shared")
    assert [r["name"] for r in listed] == ["vm-a", "vm-b"]
    assert listed[0]["type"] == "microsoft.compute/virtualmachines" and listed[0]["resourceGroup"] == rg
    assert listed[0]["subscriptionId"] == mimic.subscription_id and listed[0]["subscriptionDisplayName"]
    assert az_sp("identity", "list-resources", "-g", rg, "-n", "unused")[0]["name"] == "vm-c"
    path = f"{uai['id']}/listAssociatedResources"
    r = mimic.arm("POST", path, api_version="2022-01-31-preview",
                  params={"$filter": "contains(name, 'b')", "$orderby": "name desc", "$top": "10"})
    assert r.status_code == 200, r.text
    assert r.json()["totalCount"] == 1 and [x["name"] for x in r.json()["value"]] == ["vm-b"]
    r = mimic.arm("POST", path, api_version="2022-01-31-preview", params={"$orderby": "name desc", "$skip": "1"})
    assert r.json()["totalCount"] == 2 and [x["name"] for x in r.json()["value"]] == ["vm-a"]
    r = mimic.arm("POST", path, api_version="2022-01-31-preview", params={"$filter": "location eq 'x'"})
    assert r.status_code == 400, r.text
