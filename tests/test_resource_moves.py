"""Moving resources between resource groups: `POST .../resourceGroups/{rg}/moveResources` and
`validateMoveResources`, with az (`az resource move`, as azure-cli's own `test_resource_move`
runs it) and azure-mgmt-resource.

Azure's behaviour, with sources:
* resources.json 2021-04-01 `Resources_MoveResources` (202 long-running; "The resources to be moved
  must be in the same source resource group"; "The target resource group may be in a different
  subscription") and `Resources_ValidateMoveResources` ("If validation succeeds, it returns HTTP
  response code 204 (no content). If validation fails, it returns HTTP response code 409").
* learn.microsoft.com "Move Azure resources to a new resource group or subscription": the resource
  id changes; "Only top-level (parent) resources should be specified in the move request. Child
  resources are automatically moved along with their parent"; "can't be moved if a read-only lock
  exists on the source or destination resource group"; permissions
  `Microsoft.Resources/subscriptions/resourceGroups/moveResources/action` on the source group and
  `Microsoft.Resources/subscriptions/resourceGroups/write` on the destination; "You can move up to
  800 resources in a single operation"; dependent resources must move together
  (`MissingMoveDependentResources`).
A moved VM keeps its power state and identities; a managed identity's principal keeps its
object id, and its resource id follows the move (as role assignments do not). Mimic does not
move key vaults and storage accounts yet (`ResourceMoveNotSupported`, docs/compatibility.md);
the other error codes are [INFERRED].
"""

from __future__ import annotations

from pathlib import Path

from mimic_harness import CONTRIBUTOR, NET_API, READER, VM_API, Az, MimicServer, arm_error, assign_role, graph, make_uai, make_vm, rg_id, unique
from test_vm_identity import second_principal, sp_token

MOVE_API = "2021-04-01"


def new_az(mimic: MimicServer, tmp_path: Path) -> Az:
    cfg = tmp_path / "az-config"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    return az


def move(mimic: MimicServer, source: str, ids: list[str], target: str, *, validate: bool = False, token=None):
    kw = {} if token is None else {"token": token}
    action = "validateMoveResources" if validate else "moveResources"
    return mimic.arm("POST", f"{rg_id(mimic, source)}/{action}", api_version=MOVE_API,
                     json={"resources": ids, "targetResourceGroup": rg_id(mimic, target)}, **kw)


def put(mimic: MimicServer, rid: str, body: dict) -> dict:
    r = mimic.arm("PUT", rid, api_version=NET_API, json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def get(mimic: MimicServer, rid: str):
    return mimic.arm("GET", rid, api_version=NET_API)


def test_az_resource_move_as_azure_clis_own_scenario(mimic: MimicServer, tmp_path: Path):
    az = new_az(mimic, tmp_path)
    rg1, rg2 = unique("movesrc"), unique("movedst")
    az("group", "create", "-n", rg1, "-l", "westus")
    az("group", "create", "-n", rg2, "-l", "westus")
    nsg1 = az("network", "nsg", "create", "-n", "nsg-move1", "-g", rg1)["NewNSG"]["id"]
    nsg2 = az("network", "nsg", "create", "-n", "nsg-move2", "-g", rg1)["NewNSG"]["id"]
    az("resource", "move", "--ids", nsg1, nsg2, "--destination-group", rg2)
    assert az("network", "nsg", "show", "-g", rg2, "-n", "nsg-move1")["name"] == "nsg-move1"
    shown = az("network", "nsg", "show", "-g", rg2, "-n", "nsg-move2")
    assert shown["id"] == nsg2.replace(rg1, rg2) and shown["resourceGroup"] == rg2
    assert az("resource", "list", "-g", rg1) == [], "nothing is left in the source group"
    assert az.run("network", "nsg", "show", "-g", rg1, "-n", "nsg-move1", check=False).returncode != 0


def test_a_network_moves_with_its_children_and_references_follow(mimic: MimicServer):
    rg1, rg2 = unique("netsrc"), unique("netdst")
    mimic.create_rg(rg1)
    mimic.create_rg(rg2)
    base1 = f"{rg_id(mimic, rg1)}/providers/Microsoft.Network"
    vnet = f"{base1}/virtualNetworks/vnet1"
    nsg = f"{base1}/networkSecurityGroups/nsg1"
    pip = f"{base1}/publicIPAddresses/pip1"
    nic = f"{base1}/networkInterfaces/nic1"
    put(mimic, nsg, {"location": "westus"})
    put(mimic, vnet, {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "subnets": [
        {"name": "default", "properties": {"addressPrefix": "10.1.0.0/24", "networkSecurityGroup": {"id": nsg}}}]}})
    address = put(mimic, pip, {"location": "westus", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}})["properties"]["ipAddress"]
    put(mimic, nic, {"location": "westus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
        "subnet": {"id": f"{vnet}/subnets/default"}, "publicIPAddress": {"id": pip}}}]}})

    # Validation first (SDK shape: 204 at once), then the move itself (202 + Location to poll).
    v = move(mimic, rg1, [vnet, nsg, pip, nic], rg2, validate=True)
    assert v.status_code == 204, v.text
    r = move(mimic, rg1, [vnet, nsg, pip, nic], rg2)
    assert r.status_code == 202, r.text
    assert mimic.http.get(r.headers["Location"], headers={"Authorization": f"Bearer {mimic.sp_token()}"}, timeout=30).status_code == 200

    base2 = f"{rg_id(mimic, rg2)}/providers/Microsoft.Network"
    for old in (vnet, nsg, pip, nic, f"{vnet}/subnets/default"):
        assert get(mimic, old).status_code == 404, old
    moved_nic = get(mimic, f"{base2}/networkInterfaces/nic1").json()
    config = moved_nic["properties"]["ipConfigurations"][0]
    assert config["id"].startswith(f"{base2}/networkInterfaces/nic1/")
    assert config["properties"]["subnet"]["id"].lower() == f"{base2}/virtualNetworks/vnet1/subnets/default".lower()
    assert config["properties"]["publicIPAddress"]["id"].lower() == f"{base2}/publicIPAddresses/pip1".lower()
    subnet = get(mimic, f"{base2}/virtualNetworks/vnet1/subnets/default").json()
    assert subnet["properties"]["networkSecurityGroup"]["id"].lower() == f"{base2}/networkSecurityGroups/nsg1".lower()
    assert [c["id"].lower() for c in subnet["properties"]["ipConfigurations"]] == [config["id"].lower()]
    moved_pip = get(mimic, f"{base2}/publicIPAddresses/pip1").json()
    assert moved_pip["properties"]["ipAddress"] == address, "a moved public IP keeps its address"
    assert moved_pip["properties"]["ipConfiguration"]["id"].lower() == config["id"].lower()
    # The moved network is still one: its subnet in use cannot be deleted.
    d = mimic.arm("DELETE", f"{base2}/virtualNetworks/vnet1/subnets/default", api_version=NET_API)
    arm_error(d, 400, "InUseSubnetCannotBeDeleted")


def test_move_refusals(mimic: MimicServer):
    rg1, rg2 = unique("badsrc"), unique("baddst")
    mimic.create_rg(rg1)
    mimic.create_rg(rg2)
    base1 = f"{rg_id(mimic, rg1)}/providers/Microsoft.Network"
    vnet = f"{base1}/virtualNetworks/vnet1"
    put(mimic, vnet, {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.2.0.0/16"]}, "subnets": [
        {"name": "default", "properties": {"addressPrefix": "10.2.0.0/24"}}]}})
    # A child resource alone; a resource of another group; the same group; nothing; a missing one.
    arm_error(move(mimic, rg1, [f"{vnet}/subnets/default"], rg2), 400, "InvalidResourceMoveRequest")
    other = f"{rg_id(mimic, rg2)}/providers/Microsoft.Network/networkSecurityGroups/x"
    arm_error(move(mimic, rg1, [other], rg2), 400, "InvalidResourceMoveRequest")
    arm_error(move(mimic, rg1, [vnet], rg1), 400, "InvalidResourceMoveRequest")
    arm_error(move(mimic, rg1, [], rg2), 400, "InvalidResourceMoveRequest")
    arm_error(move(mimic, rg1, [f"{base1}/networkSecurityGroups/ghost"], rg2), 404, "ResourceNotFound")
    arm_error(move(mimic, rg1, [vnet], unique("nosuchgroup")), 404, "ResourceGroupNotFound")
    # Validation reports a refusal as 409.
    arm_error(move(mimic, rg1, [f"{vnet}/subnets/default"], rg2, validate=True), 409, "InvalidResourceMoveRequest")
    # A type Mimic does not move yet.
    account = f"{rg_id(mimic, rg1)}/providers/Microsoft.Storage/storageAccounts/{unique('mv').replace('-', '')[:20]}"
    r = mimic.arm("PUT", account, api_version="2023-05-01", json={"location": "westus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})
    assert r.status_code in (200, 202), r.text
    arm_error(move(mimic, rg1, [account], rg2), 400, "ResourceMoveNotSupported")
    # A name the target group already has.
    put(mimic, f"{rg_id(mimic, rg2)}/providers/Microsoft.Network/virtualNetworks/vnet1",
        {"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.3.0.0/16"]}}})
    arm_error(move(mimic, rg1, [vnet], rg2), 409, "ResourceExistsInTargetResourceGroup")
    assert get(mimic, vnet).status_code == 200, "a refused move changes nothing"


def test_a_vm_moves_with_its_nic_and_keeps_its_identities(mimic: MimicServer):
    rg1, rg2 = unique("vmsrc"), unique("vmdst")
    mimic.create_rg(rg1)
    mimic.create_rg(rg2)
    uai = make_uai(mimic, rg1, "vm-id")
    vm = make_vm(mimic, rg1, "vm1", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai["id"]: {}}}, linux=True)
    nic = vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    err = arm_error(move(mimic, rg1, [nic], rg2), 409, "MissingMoveDependentResources")
    assert vm["id"].lower() in err["message"].lower(), "a NIC moves with its VM"
    err = arm_error(move(mimic, rg1, [vm["id"]], rg2), 409, "MissingMoveDependentResources")
    assert nic.lower() in err["message"].lower(), "a VM moves with its NICs"
    assert move(mimic, rg1, [vm["id"], nic, uai["id"]], rg2).status_code == 202
    moved = mimic.arm("GET", f"{rg_id(mimic, rg2)}/providers/Microsoft.Compute/virtualMachines/vm1", api_version=VM_API,
                      params={"$expand": "instanceView"}).json()
    assert moved["identity"]["principalId"] == vm["identity"]["principalId"], "the system-assigned identity stays"
    new_uai = f"{rg_id(mimic, rg2)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/vm-id"
    assert [k.lower() for k in moved["identity"]["userAssignedIdentities"]] == [new_uai.lower()], "the VM names the moved identity"
    assert moved["properties"]["networkProfile"]["networkInterfaces"][0]["id"].lower() == nic.lower().replace(rg1.lower(), rg2.lower())
    statuses = [s["code"] for s in moved["properties"]["instanceView"]["statuses"]]
    assert "PowerState/running" in statuses, statuses
    # The principals' resource ids (their alternative names, the tokens' xms_mirid) follow.
    for principal, rid in ((vm["identity"]["principalId"], moved["id"]), (uai["properties"]["principalId"], new_uai)):
        sp = graph(mimic, "GET", f"/v1.0/servicePrincipals/{principal}").json()
        assert sp["alternativeNames"][1].lower() == rid.lower(), sp["alternativeNames"]


def test_move_needs_rights_on_both_groups_and_no_read_only_lock(mimic: MimicServer):
    rg1, rg2 = unique("authsrc"), unique("authdst")
    mimic.create_rg(rg1)
    mimic.create_rg(rg2)
    nsg = f"{rg_id(mimic, rg1)}/providers/Microsoft.Network/networkSecurityGroups/n1"
    put(mimic, nsg, {"location": "westus"})
    mover = second_principal(mimic, unique("mover"))
    assign_role(mimic, mover["objectId"], CONTRIBUTOR, rg_id(mimic, rg1))
    assign_role(mimic, mover["objectId"], READER, rg_id(mimic, rg2))
    token = sp_token(mimic, mover)
    err = arm_error(move(mimic, rg1, [nsg], rg2, token=token), 403, "AuthorizationFailed")
    assert "resourceGroups/write" in err["message"]
    lock = f"{rg_id(mimic, rg2)}/providers/Microsoft.Authorization/locks/frozen"
    r = mimic.arm("PUT", lock, api_version="2016-09-01", json={"properties": {"level": "ReadOnly"}})
    assert r.status_code in (200, 201), r.text
    arm_error(move(mimic, rg1, [nsg], rg2), 409, "ScopeLocked")
    assert mimic.arm("DELETE", lock, api_version="2016-09-01").status_code == 200
    assert move(mimic, rg1, [nsg], rg2).status_code == 202


def test_sdk_validates_and_moves(mimic: MimicServer, monkeypatch):
    from azure.core.exceptions import HttpResponseError
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource import ResourceManagementClient

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(mimic.ca_path))
    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"], authority=mimic.login_url,
                                  disable_instance_discovery=True)
    client = ResourceManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url,
                                      credential_scopes=["https://management.azure.com/.default"])
    rg1, rg2 = unique("sdksrc"), unique("sdkdst")
    for g in (rg1, rg2):
        client.resource_groups.create_or_update(g, {"location": "westus"})
    nsg = f"{rg_id(mimic, rg1)}/providers/Microsoft.Network/networkSecurityGroups/sdk-nsg"
    put(mimic, nsg, {"location": "westus"})
    info = {"resources": [nsg], "targetResourceGroup": rg_id(mimic, rg2)}
    client.resources.begin_validate_move_resources(rg1, info).result()
    try:
        client.resources.begin_validate_move_resources(rg1, {"resources": [nsg], "targetResourceGroup": rg_id(mimic, rg1)}).result()
        raise AssertionError("validating a move into the source group succeeded")
    except HttpResponseError as e:
        assert e.status_code == 409 and e.error.code == "InvalidResourceMoveRequest", e
    client.resources.begin_move_resources(rg1, info).result()
    assert [r.name for r in client.resources.list_by_resource_group(rg2)] == ["sdk-nsg"]
    assert list(client.resources.list_by_resource_group(rg1)) == []
