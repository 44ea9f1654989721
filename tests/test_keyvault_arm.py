"""Microsoft.KeyVault in ARM: vaults, access policies, soft delete, recover and purge — driven
with az 2.91 (`az keyvault create/show/list/set-policy/delete-policy/delete/list-deleted/recover/
purge`), azure-mgmt-keyvault (`KeyVaultManagementClient`) and raw HTTP for what the clients do not
send; and one ARM template (`az deployment group create`) that makes a VM with a system-assigned
identity, an RBAC vault and the VM's Key Vault Secrets User assignment on that vault, after which
the VM's identity reads a secret under `mimic vm run`.

Expectations are Azure's, with their sources in docs/azure-behaviour.md §13: the vault's
shape (keyvault.json and its 2026-02-01 examples), the name rule and `VaultNameNotValid`, global
names (`VaultAlreadyExists`, `ConflictError` for a soft-deleted vault), soft delete (90 days by
default), purge as a long-running operation, and what az sends (azure-cli
`command_modules/keyvault/custom.py`: set-policy/delete-policy are a GET and a PUT of the vault).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimic_harness import ARM_SCOPE, AUTHZ_API, Az, MimicServer, arm_error, get_vm, rg_id, unique
from test_keyvault_secrets import SECRETS_OFFICER, read_on_vm, sp_object_id
from test_proxy import ProxiedAz
from test_templates import arm_guid

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


SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"  # Key Vault Secrets User (built-in-roles/security)

#: A VM with a system-assigned identity on its NIC, an RBAC vault of the subscription's tenant, and
#: the VM's identity given Key Vault Secrets User on the vault: a role assignment as an extension
#: resource (`scope`), its principal read with reference(..., 'full') (learn.microsoft.com
#: "Assign Azure roles using Azure Resource Manager templates", "Scope to a resource"; Key Vault's
#: quickstart template "key-vault-secret-rbac" / "Microsoft.KeyVault vaults" template reference).
VM_VAULT_TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "vmName": {"type": "string", "defaultValue": "kvTplVm"},
        "vaultName": {"type": "string"},
        "adminPassword": {"type": "securestring"},
    },
    "variables": {
        "nicName": "[concat(parameters('vmName'), 'Nic')]",
        "secretsUser": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{SECRETS_USER_ROLE}')]",
    },
    "resources": [
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-05-01", "name": "kvTplVnet",
         "location": "[resourceGroup().location]",
         "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}},
        {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2024-05-01", "name": "[variables('nicName')]",
         "location": "[resourceGroup().location]",
         "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', 'kvTplVnet')]"],
         "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
             "privateIPAllocationMethod": "Dynamic",
             "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'kvTplVnet', 'default')]"}}}]}},
        {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2023-09-01", "name": "[parameters('vmName')]",
         "location": "[resourceGroup().location]",
         "identity": {"type": "SystemAssigned"},
         "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', variables('nicName'))]"],
         "properties": {
             "hardwareProfile": {"vmSize": "Standard_B1s"},
             "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                                   "sku": "22_04-lts-gen2", "version": "latest"},
                                "osDisk": {"createOption": "FromImage", "osType": "Linux"}},
             "osProfile": {"computerName": "[parameters('vmName')]", "adminUsername": "azureuser",
                           "adminPassword": "[parameters('adminPassword')]"},
             "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', variables('nicName'))]"}]},
         }},
        {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "[parameters('vaultName')]",
         "location": "[resourceGroup().location]",
         "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"},
                        "enableRbacAuthorization": True, "accessPolicies": []}},
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
         "name": f"[guid(resourceId('Microsoft.KeyVault/vaults', parameters('vaultName')), parameters('vmName'), '{SECRETS_USER_ROLE}')]",
         "scope": "[resourceId('Microsoft.KeyVault/vaults', parameters('vaultName'))]",
         "dependsOn": ["[resourceId('Microsoft.KeyVault/vaults', parameters('vaultName'))]",
                       "[resourceId('Microsoft.Compute/virtualMachines', parameters('vmName'))]"],
         "properties": {
             "roleDefinitionId": "[variables('secretsUser')]",
             "principalId": "[reference(resourceId('Microsoft.Compute/virtualMachines', parameters('vmName')), '2023-09-01', 'full').identity.principalId]",
             "principalType": "ServicePrincipal",
         }},
    ],
    "outputs": {
        "vaultUri": {"type": "string", "value": "[reference(resourceId('Microsoft.KeyVault/vaults', parameters('vaultName')), '2023-07-01').vaultUri]"},
        "principalId": {"type": "string",
                        "value": "[reference(resourceId('Microsoft.Compute/virtualMachines', parameters('vmName')), '2023-09-01', 'full').identity.principalId]"},
    },
}


def test_template_vm_vault_and_secrets_user_assignment_then_the_vm_reads_a_secret(mimic: MimicServer, tmp_path: Path):
    cfg = tmp_path / "azure-config"
    cfg.mkdir()
    paz = ProxiedAz(mimic, cfg)  # the default AzureCloud through Mimic's proxy: ARM and the vault's host
    paz("login", "--service-principal", "-u", mimic.sp["clientId"], "-p", mimic.sp["clientSecret"], "--tenant", mimic.tenant_id)
    rg = unique("kvtpl")
    name = unique("kvt")[:20]
    paz("group", "create", "-n", rg, "-l", "westus")
    template = tmp_path / "vm-vault.json"
    template.write_text(json.dumps(VM_VAULT_TEMPLATE, indent=2))
    out = paz("deployment", "group", "create", "-g", rg, "-n", "vm-vault", "--template-file", str(template),
              "--parameters", f"vaultName={name}", "adminPassword=Tpl-Passw0rd!x")
    assert out["properties"]["provisioningState"] == "Succeeded", out

    vault = mimic.arm("GET", vault_path(mimic, rg, name), api_version=KV_API)
    assert vault.status_code == 200, vault.text
    vault = vault.json()
    url = vault["properties"]["vaultUri"]
    assert url == f"https://{name}.vault.azure.net/" and out["properties"]["outputs"]["vaultUri"]["value"] == url
    assert vault["properties"]["enableRbacAuthorization"] is True and vault["properties"]["tenantId"] == mimic.tenant_id

    principal = get_vm(mimic, rg, "kvTplVm")["identity"]["principalId"]
    assert out["properties"]["outputs"]["principalId"]["value"] == principal
    r = mimic.arm("GET", f"{vault['id']}/providers/Microsoft.Authorization/roleAssignments", api_version=AUTHZ_API,
                  params={"$filter": "atScope()"})
    assert r.status_code == 200, r.text
    [a] = [a for a in r.json()["value"] if a["properties"]["principalId"] == principal]
    assert a["properties"]["scope"].lower() == vault["id"].lower()
    # name: guid(resourceId(...vaults...), vmName, role), resourceId spelling `resourceGroups`
    assert a["name"] == arm_guid(f"{rg_id(mimic, rg)}/providers/Microsoft.KeyVault/vaults/{name}", "kvTplVm", SECRETS_USER_ROLE)
    assert a["id"].lower() == f"{vault['id']}/providers/Microsoft.Authorization/roleAssignments/{a['name']}".lower()
    assert a["properties"]["roleDefinitionId"].endswith(f"/roleDefinitions/{SECRETS_USER_ROLE}")
    assert a["properties"]["principalType"] == "ServicePrincipal"

    # The deploying principal (the subscription's Owner) has no data access until it holds a data role.
    paz("role", "assignment", "create", "--role", SECRETS_OFFICER, "--assignee-object-id", sp_object_id(mimic, paz),
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    paz("keyvault", "secret", "set", "--vault-name", name, "--name", "db-password", "--value", "from-a-template")
    assert read_on_vm(mimic, f"{rg}/kvTplVm", url) == {"value": "from-a-template"}
