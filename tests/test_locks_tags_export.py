"""Management locks, the Tags API and resource-group export, driven with az 2.91 (`lock`, `group
lock`, `resource lock`, `tag`, `group export`) and azure-mgmt-resource (ManagementLockClient,
ResourceManagementClient.tags), as the az `resource` module's own scenario tests use them
(docs/azure-behaviour.md "Management locks", "Tags API", "Resource group export")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimic_harness import (
    ARM_SCOPE,
    DEPLOY_API,
    NET_API,
    READER,
    RG_API,
    Az,
    MimicServer,
    arm_error,
    assign_role,
    deployment_id,
    rg_id,
    unique,
    wait_deployment,
)
from test_vm_identity import second_principal, sp_token

LOCK_API = "2016-09-01"  # what az 2.91 and azure-mgmt-resource's ManagementLockClient send
LOCK_API_NEW = "2020-05-01"
TAGS_API = "2024-11-01"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


def lock_path(scope: str, name: str = "") -> str:
    return f"{scope}/providers/Microsoft.Authorization/locks" + (f"/{name}" if name else "")


def put_lock(mimic: MimicServer, scope: str, name: str, level: str, *, api: str = LOCK_API, token=None, **props) -> object:
    kw = {} if token is None else {"token": token}
    return mimic.arm("PUT", lock_path(scope, name), api_version=api, json={"properties": {"level": level, **props}}, **kw)


def vnet(mimic: MimicServer, rg: str, name: str = "vnet1") -> str:
    """A virtual network (stored generically with the network provider's rules) in `rg`; its id."""
    vid = f"{rg_id(mimic, rg)}/providers/Microsoft.Network/virtualNetworks/{name}"
    r = mimic.arm("PUT", vid, api_version=NET_API, json={
        "location": "westus", "tags": {"tier": "net"},
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
    assert r.status_code in (200, 201), r.text
    return vid


def scope_locked(r, verb: str, locked: str) -> str:
    err = arm_error(r, 409, "ScopeLocked")
    assert f"cannot perform {verb} operation because following scope(s) are locked: '{locked}'" in err["message"], err
    assert err["message"].endswith("Please remove the lock and try again."), err
    return err["message"]


@pytest.fixture
def rg(mimic: MimicServer) -> str:
    name = unique("lockrg")
    mimic.create_rg(name)
    yield name
    # Locks first, so the group can go.
    r = mimic.arm("GET", lock_path(rg_id(mimic, name)), api_version=LOCK_API)
    if r.status_code == 200:
        for lock in r.json()["value"]:
            mimic.arm("DELETE", lock["id"], api_version=LOCK_API)
    mimic.arm("DELETE", rg_id(mimic, name), api_version=RG_API)


# ==========================================================================================
# Locks: the API
# ==========================================================================================


def test_az_lock_commands_at_group_resource_and_subscription(mimic: MimicServer, az_sp: Az, rg: str):
    v = vnet(mimic, rg)
    made = az_sp("group", "lock", "create", "-g", rg, "-n", "grouplock", "--lock-type", "CanNotDelete", "--notes", "keep it")
    assert made["id"] == f"{rg_id(mimic, rg)}/providers/Microsoft.Authorization/locks/grouplock"
    assert (made["name"], made["type"], made["level"], made["notes"]) == ("grouplock", "Microsoft.Authorization/locks", "CanNotDelete", "keep it")

    # A resource's lock: az builds `.../Microsoft.Network//virtualNetworks/...` (no parent path).
    res = az_sp("resource", "lock", "create", "-g", rg, "-n", "netlock", "--lock-type", "ReadOnly",
                "--resource", "vnet1", "--resource-type", "Microsoft.Network/virtualNetworks")
    # Ids come back with the casing of the request (the SDK sends `resourcegroups`).
    assert res["id"].lower() == f"{v}/providers/Microsoft.Authorization/locks/netlock".lower()
    assert res["level"] == "ReadOnly"

    shown = az_sp("lock", "show", "-g", rg, "-n", "grouplock")
    assert shown["id"] == made["id"] and shown["notes"] == "keep it"
    # A group's list holds the locks below it; atScope() only what applies at the group.
    listed = {lk["name"] for lk in az_sp("lock", "list", "-g", rg)}
    assert listed == {"grouplock", "netlock"}
    at = az_sp("lock", "list", "-g", rg, "--filter-string", "atScope()")
    assert [lk["name"] for lk in at] == ["grouplock"]
    on_vnet = az_sp("resource", "lock", "list", "-g", rg, "--resource", "vnet1", "--resource-type", "Microsoft.Network/virtualNetworks")
    assert {lk["name"] for lk in on_vnet} == {"grouplock", "netlock"}  # the group's applies to the vnet too

    updated = az_sp("lock", "update", "-g", rg, "-n", "grouplock", "--notes", "changed", "--lock-type", "ReadOnly")
    assert (updated["level"], updated["notes"]) == ("ReadOnly", "changed")
    assert az_sp("group", "lock", "show", "-g", rg, "-n", "grouplock")["level"] == "ReadOnly"

    # Subscription scope.
    sub_lock = unique("sublock")
    try:
        s = az_sp("lock", "create", "-n", sub_lock, "--lock-type", "CanNotDelete")
        assert s["id"] == f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Authorization/locks/{sub_lock}"
        names = {lk["name"] for lk in az_sp("lock", "list")}
        assert {sub_lock, "grouplock", "netlock"} <= names
        # The subscription's lock applies at the group.
        assert sub_lock in {lk["name"] for lk in az_sp("lock", "list", "-g", rg, "--filter-string", "atScope()")}
    finally:
        az_sp("lock", "delete", "-n", sub_lock, output=None)

    az_sp("resource", "lock", "delete", "-g", rg, "-n", "netlock", "--resource", "vnet1",
          "--resource-type", "Microsoft.Network/virtualNetworks", output=None)
    az_sp("group", "lock", "delete", "-g", rg, "-n", "grouplock", output=None)
    assert az_sp("lock", "list", "-g", rg) == []
    r = mimic.arm("GET", lock_path(rg_id(mimic, rg), "grouplock"), api_version=LOCK_API)
    arm_error(r, 404, "LockNotFound")


def test_lock_api_statuses_versions_and_validation(mimic: MimicServer, rg: str):
    scope = rg_id(mimic, rg)
    r = put_lock(mimic, scope, "l1", "CanNotDelete", api=LOCK_API_NEW, owners=[{"applicationId": "app-1"}])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {"properties": {"level": "CanNotDelete", "owners": [{"applicationId": "app-1"}]},
                    "id": f"{scope}/providers/Microsoft.Authorization/locks/l1", "type": "Microsoft.Authorization/locks", "name": "l1"}
    r = put_lock(mimic, scope, "L1", "ReadOnly", notes="n")
    assert r.status_code == 200 and r.json()["name"] == "l1" and r.json()["properties"]["level"] == "ReadOnly", r.text
    arm_error(put_lock(mimic, scope, "bad", "NotSpecified"), 400, "InvalidLockLevel")
    arm_error(put_lock(mimic, scope, "a:b", "ReadOnly"), 400, "InvalidLockName")
    arm_error(put_lock(mimic, scope, "l2", "ReadOnly", notes="x" * 513), 400, "LockNotesTooLong")
    arm_error(put_lock(mimic, rg_id(mimic, unique("nogroup")), "l", "ReadOnly"), 404, "ResourceGroupNotFound")
    arm_error(put_lock(mimic, f"{scope}/providers/Microsoft.Network/virtualNetworks/none", "l", "ReadOnly"), 404, "ResourceNotFound")
    r = mimic.arm("GET", lock_path(scope), api_version=LOCK_API, params={"$filter": "name eq 'x'"})
    arm_error(r, 400, "InvalidFilter")
    assert mimic.arm("DELETE", lock_path(scope, "l1"), api_version=LOCK_API).status_code == 200
    assert mimic.arm("DELETE", lock_path(scope, "l1"), api_version=LOCK_API).status_code == 204


def test_management_lock_client_sdk(mimic: MimicServer, client_ca: Path, rg: str):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.locks import ManagementLockClient
    from azure.mgmt.resource.locks.models import ManagementLockObject

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    client = ManagementLockClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    v = vnet(mimic, rg)
    made = client.management_locks.create_or_update_at_resource_group_level(
        rg, "sdklock", ManagementLockObject(level="CanNotDelete", notes="from the SDK"))
    assert (made.name, made.level, made.notes) == ("sdklock", "CanNotDelete", "from the SDK")
    assert client.management_locks.get_at_resource_group_level(rg, "sdklock").id == made.id
    on_res = client.management_locks.create_or_update_at_resource_level(
        rg, "Microsoft.Network", "", "virtualNetworks", "vnet1", "reslock", ManagementLockObject(level="ReadOnly"))
    assert on_res.id.lower() == f"{v}/providers/Microsoft.Authorization/locks/reslock".lower()
    # The `*_by_scope` methods send the scope as one percent-encoded path parameter
    # (`/%2Fsubscriptions%2F...`), which ARM reads as the scope it encodes.
    by_scope = client.management_locks.create_or_update_by_scope(v, "scopelock", ManagementLockObject(level="CanNotDelete"))
    assert by_scope.id.lower() == f"{v}/providers/Microsoft.Authorization/locks/scopelock".lower()
    assert client.management_locks.get_by_scope(v, "scopelock").level == "CanNotDelete"
    assert "scopelock" in {lk.name for lk in client.management_locks.list_by_scope(rg_id(mimic, rg))}
    client.management_locks.delete_by_scope(v, "scopelock")
    got = client.management_locks.get_at_resource_level(rg, "Microsoft.Network", "", "virtualNetworks", "vnet1", "reslock")
    assert got.level == "ReadOnly"
    assert {lk.name for lk in client.management_locks.list_at_resource_group_level(rg)} == {"sdklock", "reslock"}
    assert {lk.name for lk in client.management_locks.list_at_subscription_level()} >= {"sdklock", "reslock"}
    assert [lk.name for lk in client.management_locks.list_at_resource_level(
        rg, "Microsoft.Network", "", "virtualNetworks", "vnet1", filter="atScope()")] == ["sdklock", "reslock"]
    client.management_locks.delete_at_resource_level(rg, "Microsoft.Network", "", "virtualNetworks", "vnet1", "reslock")
    client.management_locks.delete_at_resource_group_level(rg, "sdklock")
    assert list(client.management_locks.list_at_resource_group_level(rg)) == []


def test_only_owners_manage_locks_readers_read_them(mimic: MimicServer, rg: str):
    scope = rg_id(mimic, rg)
    assert put_lock(mimic, scope, "existing", "CanNotDelete").status_code == 201
    reader = second_principal(mimic, unique("lockreader"))
    assign_role(mimic, reader["objectId"], READER, scope)
    token = sp_token(mimic, reader)
    err = arm_error(put_lock(mimic, scope, "mine", "ReadOnly", token=token), 403, "AuthorizationFailed")
    assert "'Microsoft.Authorization/locks/write'" in err["message"], err
    err = arm_error(mimic.arm("DELETE", lock_path(scope, "existing"), api_version=LOCK_API, token=token), 403, "AuthorizationFailed")
    assert "'Microsoft.Authorization/locks/delete'" in err["message"], err
    r = mimic.arm("GET", lock_path(scope), api_version=LOCK_API, token=token)
    assert r.status_code == 200 and [lk["name"] for lk in r.json()["value"]] == ["existing"], r.text
    # Contributor's notActions take Microsoft.Authorization writes away.
    contributor = second_principal(mimic, unique("lockcontrib"))
    assign_role(mimic, contributor["objectId"], CONTRIBUTOR, scope)
    arm_error(put_lock(mimic, scope, "mine", "ReadOnly", token=sp_token(mimic, contributor)), 403, "AuthorizationFailed")
    # No role at all: the lock is not revealed, the delete is refused by RBAC.
    stranger = second_principal(mimic, unique("lockstranger"))
    r = mimic.arm("DELETE", scope, api_version=RG_API, token=sp_token(mimic, stranger))
    arm_error(r, 403, "AuthorizationFailed")


# ==========================================================================================
# Locks: what they stop
# ==========================================================================================


def test_can_not_delete_lock_blocks_deletes_through_az(mimic: MimicServer, az_sp: Az, rg: str):
    v = vnet(mimic, rg)
    scope = rg_id(mimic, rg)
    az_sp("group", "lock", "create", "-g", rg, "-n", "nodelete", "--lock-type", "CanNotDelete")
    res = az_sp.run("group", "delete", "-n", rg, "--yes", check=False)
    assert res.returncode != 0 and "ScopeLocked" in res.stderr, res.stderr
    assert f"The scope '{scope}' cannot perform delete operation because following scope(s) are locked: '{scope}'" in res.stderr
    res = az_sp.run("resource", "delete", "--ids", v, check=False)  # az reports only the id
    assert res.returncode != 0 and v in res.stderr, res.stderr
    scope_locked(mimic.arm("DELETE", v, api_version=NET_API), "delete", scope)
    # Writes go on under CanNotDelete.
    az_sp("group", "update", "-n", rg, "--set", "tags.state=locked")
    assert mimic.arm("GET", v, api_version=NET_API).status_code == 200

    # A lock on a resource inside stops the group's deletion, naming the resource's scope.
    az_sp("group", "lock", "delete", "-g", rg, "-n", "nodelete", output=None)
    assert put_lock(mimic, v, "netlock", "CanNotDelete").status_code == 201
    scope_locked(mimic.arm("DELETE", scope, api_version=RG_API), "delete", v)
    scope_locked(mimic.arm("DELETE", f"{v}/subnets/none", api_version=NET_API), "delete", v)
    assert mimic.arm("DELETE", lock_path(v, "netlock"), api_version=LOCK_API).status_code == 200
    az_sp("group", "delete", "-n", rg, "--yes", output=None)
    assert mimic.arm("GET", scope, api_version=RG_API).status_code == 404


def test_read_only_lock_blocks_writes_deletes_and_actions(mimic: MimicServer, az_sp: Az, rg: str):
    v = vnet(mimic, rg)
    scope = rg_id(mimic, rg)
    assert put_lock(mimic, scope, "ro", "ReadOnly").status_code == 201
    new = f"{scope}/providers/Microsoft.Network/virtualNetworks/vnet2"
    msg = scope_locked(mimic.arm("PUT", new, api_version=NET_API, json={"location": "westus", "properties": {}}), "write", scope)
    assert msg.startswith(f"The scope '{new}' cannot perform write operation"), msg
    scope_locked(mimic.arm("PATCH", v, api_version=NET_API, json={"tags": {"a": "b"}}), "write", scope)
    scope_locked(mimic.arm("DELETE", v, api_version=NET_API), "delete", scope)
    res = az_sp.run("group", "update", "-n", rg, "--tags", "x=y", check=False)
    assert res.returncode != 0 and "ScopeLocked" in res.stderr and "write operation" in res.stderr, res.stderr
    # A POST action writes too (a storage account's listKeys is Azure's own example).
    scope_locked(mimic.arm("POST", f"{scope}/providers/Microsoft.Storage/storageAccounts/none/listKeys", api_version="2023-05-01"), "write", scope)
    # Reads go on.
    assert mimic.arm("GET", v, api_version=NET_API).status_code == 200
    assert az_sp("group", "show", "-n", rg)["name"] == rg
    # Another group is not locked.
    other = unique("free")
    mimic.create_rg(other)
    assert mimic.arm("PUT", f"{rg_id(mimic, other)}/providers/Microsoft.Network/virtualNetworks/v", api_version=NET_API,
                     json={"location": "westus", "properties": {}}).status_code == 201
    assert mimic.arm("DELETE", rg_id(mimic, other), api_version=RG_API).status_code == 202


def template_file(tmp_path: Path, resources: list) -> Path:
    f = tmp_path / f"{unique('t')}.json"
    f.write_text(json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                             "contentVersion": "1.0.0.0", "resources": resources}))
    return f


def vnet_resource(name: str, prefix: str = "10.1.0.0/16") -> dict:
    return {"type": "Microsoft.Network/virtualNetworks", "apiVersion": NET_API, "name": name, "location": "westus",
            "properties": {"addressSpace": {"addressPrefixes": [prefix]}}}


def test_deployment_into_a_locked_group_fails(mimic: MimicServer, az_sp: Az, rg: str, tmp_path: Path):
    scope = rg_id(mimic, rg)
    assert put_lock(mimic, scope, "ro", "ReadOnly").status_code == 201
    res = az_sp.run("deployment", "group", "create", "-g", rg, "-n", "blocked", "--template-file",
                    str(template_file(tmp_path, [vnet_resource("dv1")])), check=False)
    assert res.returncode != 0 and "ScopeLocked" in res.stderr, res.stderr
    assert mimic.arm("GET", f"{scope}/providers/Microsoft.Network/virtualNetworks/dv1", api_version=NET_API).status_code == 404

    # A CanNotDelete lock lets deployments create, but a ReadOnly lock on one resource stops the
    # deployment's write of it: the deployment fails with the lock's error.
    assert mimic.arm("DELETE", lock_path(scope, "ro"), api_version=LOCK_API).status_code == 200
    assert put_lock(mimic, scope, "keep", "CanNotDelete").status_code == 201
    v = vnet(mimic, rg, "held")
    assert put_lock(mimic, v, "frozen", "ReadOnly").status_code == 201
    f = template_file(tmp_path, [vnet_resource("fresh"), vnet_resource("held", "10.9.0.0/16")])
    res = az_sp.run("deployment", "group", "create", "-g", rg, "-n", "partly", "--template-file", str(f), check=False)
    assert res.returncode != 0 and "DeploymentFailed" in res.stderr and "ScopeLocked" in res.stderr, res.stderr
    d = wait_deployment(mimic, deployment_id(mimic, rg, "partly"))
    assert d["properties"]["provisioningState"] == "Failed"
    assert "ScopeLocked" in json.dumps(d["properties"]["error"])
    held = mimic.arm("GET", v, api_version=NET_API).json()
    assert held["properties"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16"]
    # The deployment's own history cannot be deleted under CanNotDelete.
    scope_locked(mimic.arm("DELETE", deployment_id(mimic, rg, "partly"), api_version=DEPLOY_API), "delete", scope)


# ==========================================================================================
# The Tags API
# ==========================================================================================


def tags_path(scope: str) -> str:
    return f"{scope}/providers/Microsoft.Resources/tags/default"


def test_az_tag_at_group_resource_and_subscription_scope(mimic: MimicServer, az_sp: Az, rg: str):
    scope = rg_id(mimic, rg)
    # Before Azure's Tags API existed in Mimic this answered 400 LocationRequired.
    made = az_sp("tag", "create", "--resource-id", scope, "--tags", "env=dev", "team=a")
    made.pop("resourceGroup", None)  # az adds it, parsed from the id
    assert made == {"id": tags_path(scope), "name": "default", "type": "Microsoft.Resources/tags",
                    "properties": {"tags": {"env": "dev", "team": "a"}}}
    assert az_sp("group", "show", "-n", rg)["tags"] == {"env": "dev", "team": "a"}
    merged = az_sp("tag", "update", "--resource-id", scope, "--operation", "Merge", "--tags", "env=prod", "cost=1")
    assert merged["properties"]["tags"] == {"env": "prod", "team": "a", "cost": "1"}
    pruned = az_sp("tag", "update", "--resource-id", scope, "--operation", "Delete", "--tags", "cost=1")
    assert pruned["properties"]["tags"] == {"env": "prod", "team": "a"}
    replaced = az_sp("tag", "update", "--resource-id", scope, "--operation", "Replace", "--tags", "only=this")
    assert replaced["properties"]["tags"] == {"only": "this"}
    assert az_sp("tag", "list", "--resource-id", scope)["properties"]["tags"] == {"only": "this"}
    az_sp("tag", "delete", "--resource-id", scope, "--yes", output=None)
    assert az_sp("tag", "list", "--resource-id", scope)["properties"]["tags"] == {}

    v = vnet(mimic, rg)
    got = az_sp("tag", "update", "--resource-id", v, "--operation", "Merge", "--tags", "layer=2")
    assert got["id"] == tags_path(v) and got["properties"]["tags"] == {"tier": "net", "layer": "2"}
    assert mimic.arm("GET", v, api_version=NET_API).json()["tags"] == {"tier": "net", "layer": "2"}

    sub = f"/subscriptions/{mimic.subscription_id}"
    key = unique("subtag")
    try:
        s = az_sp("tag", "update", "--resource-id", sub, "--operation", "Merge", "--tags", f"{key}=1")
        assert s["id"] == tags_path(sub) and s["properties"]["tags"][key] == "1"
        assert az_sp("tag", "list", "--resource-id", sub)["properties"]["tags"][key] == "1"
    finally:
        az_sp("tag", "update", "--resource-id", sub, "--operation", "Delete", "--tags", f"{key}=1")

    r = mimic.arm("GET", tags_path(f"{scope}/providers/Microsoft.Network/virtualNetworks/none"), api_version=TAGS_API)
    arm_error(r, 404, "ResourceNotFound")
    r = mimic.arm("PATCH", tags_path(scope), api_version=TAGS_API, json={"operation": "Upsert", "properties": {"tags": {}}})
    arm_error(r, 400, "InvalidTagOperation")


def test_tags_api_rbac_and_read_only_lock(mimic: MimicServer, rg: str, client_ca: Path):
    from azure.core.exceptions import HttpResponseError
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource import ResourceManagementClient

    scope = rg_id(mimic, rg)
    reader = second_principal(mimic, unique("tagreader"))
    assign_role(mimic, reader["objectId"], READER, scope)
    token = sp_token(mimic, reader)
    assert mimic.arm("GET", tags_path(scope), api_version=TAGS_API, token=token).status_code == 200
    err = arm_error(mimic.arm("PUT", tags_path(scope), api_version=TAGS_API, token=token,
                              json={"properties": {"tags": {"a": "b"}}}), 403, "AuthorizationFailed")
    assert "'Microsoft.Resources/tags/write'" in err["message"], err

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    client = ResourceManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    done = client.tags.begin_create_or_update_at_scope(scope, {"properties": {"tags": {"sdk": "yes"}}}).result()
    assert done.properties.tags == {"sdk": "yes"}
    assert client.tags.get_at_scope(scope).properties.tags == {"sdk": "yes"}

    assert put_lock(mimic, scope, "ro", "ReadOnly").status_code == 201
    with pytest.raises(HttpResponseError) as e:
        client.tags.begin_update_at_scope(scope, {"operation": "Merge", "properties": {"tags": {"x": "1"}}}).result()
    assert e.value.error.code == "ScopeLocked" and "write operation" in e.value.message
    scope_locked(mimic.arm("DELETE", tags_path(scope), api_version=TAGS_API), "write", scope)
    assert client.tags.get_at_scope(scope).properties.tags == {"sdk": "yes"}
    # CanNotDelete leaves tag changes (removal included) alone.
    assert put_lock(mimic, scope, "ro", "CanNotDelete").status_code == 200
    assert mimic.arm("DELETE", tags_path(scope), api_version=TAGS_API).status_code == 200


def test_az_tag_names_and_values(mimic: MimicServer, az_sp: Az, rg: str):
    name = unique("costcenter")
    made = az_sp("tag", "create", "--name", name)
    assert made["tagName"] == name and made["id"] == f"/subscriptions/{mimic.subscription_id}/tagNames/{name}"
    assert made["count"] == {"type": "Total", "value": 0} and made["values"] == []
    value = az_sp("tag", "add-value", "--name", name, "--value", "42")
    assert value["tagValue"] == "42" and value["id"] == f"{made['id']}/tagValues/42"
    mimic.arm("PATCH", rg_id(mimic, rg), api_version=RG_API, json={"tags": {name: "42", "other": "x"}})
    listed = {t["tagName"]: t for t in az_sp("tag", "list")}
    assert listed[name]["count"] == {"type": "Total", "value": 1}
    assert [(v["tagValue"], v["count"]["value"]) for v in listed[name]["values"]] == [("42", 1)]
    assert listed["other"]["values"][0]["tagValue"] == "x"
    # A name in use, or with values, stays.
    res = az_sp.run("tag", "delete", "--name", name, "--yes", check=False)
    assert res.returncode != 0 and "TagNameHasValues" in res.stderr, res.stderr
    az_sp("tag", "remove-value", "--name", name, "--value", "42", output=None)
    res = az_sp.run("tag", "delete", "--name", name, "--yes", check=False)
    assert res.returncode != 0 and "TagNameInUse" in res.stderr, res.stderr
    mimic.arm("PATCH", rg_id(mimic, rg), api_version=RG_API, json={"tags": {}})
    az_sp("tag", "delete", "--name", name, "--yes", output=None)
    assert name not in {t["tagName"] for t in az_sp("tag", "list")}
    r = mimic.arm("PUT", f"/subscriptions/{mimic.subscription_id}/tagNames/azureThing", api_version=TAGS_API)
    arm_error(r, 400, "InvalidTagName")


# ==========================================================================================
# Resource group export
# ==========================================================================================


def test_az_group_export_and_redeploy(mimic: MimicServer, az_sp: Az, rg: str, tmp_path: Path):
    v = vnet(mimic, rg, "net-1")
    assert mimic.arm("PUT", f"{v}/subnets/front", api_version=NET_API,
                     json={"properties": {"addressPrefix": "10.0.1.0/24"}}).status_code in (200, 201)
    t = az_sp("group", "export", "-n", rg)
    assert t["$schema"].endswith("deploymentTemplate.json#") and t["contentVersion"] == "1.0.0.0"
    assert t["parameters"] == {"virtualNetworks_net_1_name": {"type": "String"}}
    (net,) = [r for r in t["resources"] if r["type"] == "Microsoft.Network/virtualNetworks"]
    assert net["name"] == "[parameters('virtualNetworks_net_1_name')]"
    assert net["location"] == "westus" and net["tags"] == {"tier": "net"} and net["apiVersion"]
    assert net["properties"]["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16"]}
    assert "provisioningState" not in net["properties"] and "resourceGuid" not in net["properties"]

    t = az_sp("group", "export", "-n", rg, "--include-parameter-default-value", "--include-comments")
    assert t["parameters"]["virtualNetworks_net_1_name"] == {"type": "String", "defaultValue": "net-1"}
    assert all(r["comments"].startswith("Generalized from resource:") for r in t["resources"])
    t = az_sp("group", "export", "-n", rg, "--skip-resource-name-params")
    assert t["parameters"] == {} and "net-1" in [r["name"] for r in t["resources"]]

    plain = az_sp("group", "export", "-n", rg, "--skip-all-params")
    assert plain["parameters"] == {}
    f = tmp_path / "exported.json"
    f.write_text(json.dumps(plain))
    copy = unique("copy")
    mimic.create_rg(copy)
    try:
        az_sp("deployment", "group", "create", "-g", copy, "--template-file", str(f))
        got = mimic.arm("GET", f"{rg_id(mimic, copy)}/providers/Microsoft.Network/virtualNetworks/net-1", api_version=NET_API)
        assert got.status_code == 200 and got.json()["properties"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16"], got.text
    finally:
        mimic.arm("DELETE", rg_id(mimic, copy), api_version=RG_API)


def test_group_export_needs_its_action(mimic: MimicServer, rg: str):
    scope = rg_id(mimic, rg)
    reader = second_principal(mimic, unique("exportreader"))
    assign_role(mimic, reader["objectId"], READER, scope)
    r = mimic.arm("POST", f"{scope}/exportTemplate", api_version=TAGS_API, token=sp_token(mimic, reader),
                  json={"resources": ["*"]})
    err = arm_error(r, 403, "AuthorizationFailed")
    assert "'Microsoft.Resources/subscriptions/resourceGroups/exportTemplate/action'" in err["message"], err
    r = mimic.arm("POST", f"{scope}/exportTemplate", api_version=TAGS_API, json={"resources": ["*"], "options": "Nope"})
    arm_error(r, 400, "InvalidExportTemplateOptions")
    # A ReadOnly lock leaves export alone: it only reads.
    assert put_lock(mimic, scope, "ro", "ReadOnly").status_code == 201
    r = mimic.arm("POST", f"{scope}/exportTemplate", api_version=TAGS_API, json={"resources": ["*"]})
    assert r.status_code == 200 and r.json()["template"]["resources"] == [], r.text


def test_resource_list_expands_times_and_provisioning_state(mimic: MimicServer, az_sp: Az, rg: str):
    """az `resource list` sends `$expand=createdTime,changedTime,provisioningState`; Azure answers
    them as top-level properties of each resource."""
    vid = vnet(mimic, rg)
    listed = az_sp("resource", "list", "--resource-group", rg)
    item = next(i for i in listed if i["id"].lower() == vid.lower())
    assert item["createdTime"] and item["changedTime"] and item["provisioningState"] == "Succeeded", item
    plain = mimic.arm("GET", f"{rg_id(mimic, rg)}/resources", api_version=TAGS_API).json()["value"]
    assert "createdTime" not in plain[0], plain[0]
