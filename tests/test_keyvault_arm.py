"""Microsoft.KeyVault in ARM: vaults, access policies, soft delete, recover and purge — driven
with az 2.91 (`az keyvault create/show/list/set-policy/delete-policy/delete/list-deleted/recover/
purge`), azure-mgmt-keyvault (`KeyVaultManagementClient`) and raw HTTP for what the clients do not
send.

Expectations are Azure's, with their sources in docs/azure-behaviour.md §13: the vault's
shape (keyvault.json and its 2026-02-01 examples), the name rule and `VaultNameNotValid`, global
names (`VaultAlreadyExists`, `ConflictError` for a soft-deleted vault), soft delete (90 days by
default), purge as a long-running operation, and what az sends (azure-cli
`command_modules/keyvault/custom.py`: set-policy/delete-policy are a GET and a PUT of the vault).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mimic_harness import ARM_SCOPE, Az, MimicServer, arm_error, unique

KV_API = "2024-11-01"


def new_az(server: MimicServer, tmp_path: Path) -> Az:
    cfg = tmp_path / "azure-config"
    cfg.mkdir()
    az = Az(server, cfg)
    az.setup_sp()
    return az


def vault_path(mimic: MimicServer, rg: str, name: str) -> str:
    return f"{mimic.rg_path(rg)}/providers/Microsoft.KeyVault/vaults/{name}"


def vault_body(mimic: MimicServer, **props) -> dict:
    return {"location": "westus", "properties": {"tenantId": mimic.tenant_id, "sku": {"family": "A", "name": "standard"},
                                                 "accessPolicies": [], **props}}


def test_az_keyvault_lifecycle(mimic: MimicServer, tmp_path: Path):
    az = new_az(mimic, tmp_path)
    rg = unique("kvrg")
    az("group", "create", "-n", rg, "--location", "westus")
    name = unique("kv")
    v = az("keyvault", "create", "-g", rg, "-n", name, "--location", "westus", "--enable-rbac-authorization", "false")
    assert v["name"] == name and v["type"] == "Microsoft.KeyVault/vaults" and v["location"] == "westus"
    p = v["properties"]
    assert p["vaultUri"] == f"https://{name}.vault.azure.net/"
    assert p["sku"] == {"family": "A", "name": "standard"} and p["tenantId"] == mimic.tenant_id
    assert p["enableSoftDelete"] is True and p["softDeleteRetentionInDays"] == 90
    assert p["enableRbacAuthorization"] is False and p["provisioningState"] == "Succeeded"
    # az gives its caller (the bootstrap service principal) every permission.
    sp_oid = mimic.sp["objectId"]
    [own] = p["accessPolicies"]
    assert own["objectId"] == sp_oid and own["permissions"]["secrets"] == ["all"]

    shown = az("keyvault", "show", "-g", rg, "-n", name)
    assert shown["id"] == v["id"] and shown["properties"]["vaultUri"] == p["vaultUri"]
    assert name in [x["name"] for x in az("keyvault", "list", "-g", rg)]
    listed = az("keyvault", "list")
    assert name in [x["name"] for x in listed] and {x["type"] for x in listed} == {"Microsoft.KeyVault/vaults"}

    # set-policy / delete-policy: a GET and a PUT of the whole vault.
    other = "00000000-0000-0000-0000-0000000000aa"
    out = az("keyvault", "set-policy", "-g", rg, "-n", name, "--object-id", other, "--secret-permissions", "get", "list")
    entry = next(e for e in out["properties"]["accessPolicies"] if e["objectId"] == other)
    assert sorted(entry["permissions"]["secrets"]) == ["get", "list"]
    out = az("keyvault", "delete-policy", "-g", rg, "-n", name, "--object-id", other)
    assert [e["objectId"] for e in out["properties"]["accessPolicies"]] == [sp_oid]

    # A second create with the same name is refused by az itself; from raw HTTP in another
    # resource group the name is taken.
    rg2 = unique("kvrg2")
    mimic.create_rg(rg2)
    r = mimic.arm("PUT", vault_path(mimic, rg2, name), api_version=KV_API, json=vault_body(mimic))
    assert arm_error(r, 409, "VaultAlreadyExists")["message"].startswith(f"The vault name '{name}' is already in use.")

    # Soft delete, list, recover (its access policies come back), delete again, purge.
    az("keyvault", "delete", "-g", rg, "-n", name, output=None)
    with pytest.raises(Exception):
        az("keyvault", "show", "-g", rg, "-n", name)
    deleted = az("keyvault", "list-deleted")
    d = next(x for x in deleted if x["name"] == name)
    assert d["type"] == "Microsoft.KeyVault/deletedVaults" and d["properties"]["location"] == "westus"
    assert d["properties"]["vaultId"].lower() == v["id"].lower() and d["properties"]["scheduledPurgeDate"]
    assert d["id"] == f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.KeyVault/locations/westus/deletedVaults/{name}"
    shown_deleted = az("keyvault", "show-deleted", "-n", name)
    assert shown_deleted["properties"]["vaultId"] == d["properties"]["vaultId"]
    r = mimic.arm("PUT", vault_path(mimic, rg, name), api_version=KV_API, json=vault_body(mimic))
    assert "already exists in deleted state" in arm_error(r, 409, "ConflictError")["message"]

    back = az("keyvault", "recover", "-n", name)
    assert back["name"] == name and [e["objectId"] for e in back["properties"]["accessPolicies"]] == [sp_oid]
    assert az("keyvault", "show", "-g", rg, "-n", name)["properties"]["enableRbacAuthorization"] is False
    az("keyvault", "delete", "-g", rg, "-n", name, output=None)
    az("keyvault", "purge", "-n", name, output=None)
    assert name not in [x["name"] for x in az("keyvault", "list-deleted")]
    # The name is free again.
    v2 = az("keyvault", "create", "-g", rg2, "-n", name, "--location", "westus")
    assert v2["id"].lower() == vault_path(mimic, rg2, name).lower()
    # Without --enable-rbac-authorization, az 2.91 (api-version 2026-02-01) creates an RBAC vault.
    assert v2["properties"]["enableRbacAuthorization"] is True


def test_names_check_and_errors_over_http(mimic: MimicServer):
    rg = unique("kvhttp")
    mimic.create_rg(rg)
    r = mimic.arm("PUT", vault_path(mimic, rg, "1-bad"), api_version=KV_API, json=vault_body(mimic))
    msg = arm_error(r, 400, "VaultNameNotValid")["message"]
    assert msg.startswith("The vault name '1-bad' is invalid. A vault's name must be between 3-24 alphanumeric characters.")
    r = mimic.arm("PUT", vault_path(mimic, rg, unique("kv")), api_version=KV_API,
                  json={"location": "westus", "properties": {"sku": {"family": "A", "name": "standard"}}})
    assert arm_error(r, 400, "BadRequest")["message"] == "An invalid value was provided for 'tenantId'."

    check = f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.KeyVault/checkNameAvailability"
    name = unique("kv")
    r = mimic.arm("POST", check, api_version=KV_API, json={"name": name, "type": "Microsoft.KeyVault/vaults"})
    assert r.status_code == 200 and r.json() == {"nameAvailable": True}, r.text
    r = mimic.arm("POST", check, api_version=KV_API, json={"name": "a--b", "type": "Microsoft.KeyVault/vaults"})
    assert r.json()["nameAvailable"] is False and r.json()["reason"] == "AccountNameInvalid", r.text

    # Purge protection: never back to false, and a protected deleted vault cannot be purged.
    r = mimic.arm("PUT", vault_path(mimic, rg, name), api_version=KV_API, json=vault_body(mimic, enablePurgeProtection=True))
    assert r.status_code == 200 and r.json()["properties"]["enablePurgeProtection"] is True, r.text
    r = mimic.arm("POST", check, api_version=KV_API, json={"name": name, "type": "Microsoft.KeyVault/vaults"})
    assert r.json()["reason"] == "AlreadyExists", r.text
    r = mimic.arm("PATCH", vault_path(mimic, rg, name), api_version=KV_API, json={"properties": {"enablePurgeProtection": False}})
    assert "cannot be set to false" in arm_error(r, 400, "BadRequest")["message"]
    # PATCH merges: tags and one property, the rest kept.
    r = mimic.arm("PATCH", vault_path(mimic, rg, name), api_version=KV_API,
                  json={"tags": {"env": "test"}, "properties": {"enabledForDeployment": True}})
    assert r.status_code == 200 and r.json()["tags"] == {"env": "test"}, r.text
    assert r.json()["properties"]["enabledForDeployment"] is True and r.json()["properties"]["enablePurgeProtection"] is True

    # Access policy updates (Vaults_UpdateAccessPolicy).
    oid = "00000000-0000-0000-0000-0000000000bb"
    policy = {"tenantId": mimic.tenant_id, "objectId": oid, "permissions": {"secrets": ["get"], "keys": ["encrypt"]}}
    r = mimic.arm("PUT", vault_path(mimic, rg, name) + "/accessPolicies/add", api_version=KV_API,
                  json={"properties": {"accessPolicies": [policy]}})
    assert r.status_code == 200 and r.json()["type"] == "Microsoft.KeyVault/vaults/accessPolicies", r.text
    more = {**policy, "permissions": {"secrets": ["list"]}}
    mimic.arm("PUT", vault_path(mimic, rg, name) + "/accessPolicies/add", api_version=KV_API, json={"properties": {"accessPolicies": [more]}})
    [entry] = mimic.arm("GET", vault_path(mimic, rg, name), api_version=KV_API).json()["properties"]["accessPolicies"]
    assert entry["permissions"] == {"secrets": ["get", "list"], "keys": ["encrypt"]}
    mimic.arm("PUT", vault_path(mimic, rg, name) + "/accessPolicies/remove", api_version=KV_API, json={"properties": {"accessPolicies": [policy]}})
    [entry] = mimic.arm("GET", vault_path(mimic, rg, name), api_version=KV_API).json()["properties"]["accessPolicies"]
    assert entry["permissions"] == {"secrets": ["list"]}

    # Deleting the resource group soft-deletes its vaults.
    r = mimic.arm("DELETE", mimic.rg_path(rg), api_version="2021-04-01")
    assert r.status_code == 202, r.text
    deleted = f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.KeyVault/locations/westus/deletedVaults/{name}"
    r = mimic.arm("GET", deleted, api_version=KV_API)
    assert r.status_code == 200 and r.json()["properties"]["purgeProtectionEnabled"] is True, r.text
    r = mimic.arm("POST", deleted + "/purge", api_version=KV_API)
    assert arm_error(r, 405, "MethodNotAllowed")["message"] == "Operation 'DeletedVaultPurge' is not allowed."


def test_azure_mgmt_keyvault_create_or_update(mimic: MimicServer, client_ca):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    client = KeyVaultManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    rg = unique("kvsdk")
    mimic.create_rg(rg)
    name = unique("kv")
    params = VaultCreateOrUpdateParameters(location="westus", properties=VaultProperties(
        tenant_id=mimic.tenant_id, sku=Sku(family="A", name="premium"), access_policies=[], enable_rbac_authorization=False))
    vault = client.vaults.begin_create_or_update(rg, name, params).result()
    assert vault.name == name and vault.properties.sku.name == "premium"
    assert vault.properties.vault_uri == f"https://{name}.vault.azure.net/"
    assert client.vaults.get(rg, name).properties.enable_soft_delete is True
    assert name in [v.name for v in client.vaults.list_by_resource_group(rg)]
    assert name in [v.name for v in client.vaults.list_by_subscription()]
    assert client.vaults.check_name_availability({"name": name, "type": "Microsoft.KeyVault/vaults"}).name_available is False
    client.vaults.delete(rg, name)
    d = client.vaults.get_deleted(name, "westus")
    assert d.properties.vault_id.lower() == vault.id.lower()
    client.vaults.begin_purge_deleted(name, "westus").result()
    assert name not in [x.name for x in client.vaults.list_deleted()]
