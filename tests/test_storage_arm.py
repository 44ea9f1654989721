"""Microsoft.Storage in ARM: storage accounts and blob containers, driven with az 2.91 (`az storage
account create/show/list/update/check-name/keys list/keys renew/delete`, `az storage container-rm
create/show/list/delete`), also through Mimic's proxy with the default AzureCloud, azure-mgmt-storage
25.0.0 (`StorageManagementClient`: `begin_create(...).result()`, `list_keys`, blob containers) and
raw HTTP for what the clients do not send.

Expectations are Azure's, with their sources in docs/azure-behaviour.md "Storage accounts": the
account's shape (storage.json 2025-06-01 and its StorageAccountCreate example), the create's
202 + Location long-running operation, the name rule (`AccountNameInvalid`), global names
(`StorageAccountAlreadyTaken`, checkNameAvailability `AlreadyExists`), keys (two, 64 random bytes
in base64), containers (blob.json: create 201, `PublicAccessNotPermitted` on an account that
forbids public access).
"""

from __future__ import annotations

import base64
from pathlib import Path

from mimic_harness import ARM_SCOPE, Az, MimicServer, arm_error, unique
from test_proxy import ProxiedAz

API = "2025-08-01"


def new_az(server: MimicServer, tmp_path: Path) -> Az:
    cfg = tmp_path / "azure-config"
    cfg.mkdir()
    az = Az(server, cfg)
    az.setup_sp()
    return az


def account_name(prefix: str) -> str:
    return unique(prefix).replace("-", "").replace("_", "").lower()[:24]


def account_path(mimic: MimicServer, rg: str, name: str) -> str:
    return f"{mimic.rg_path(rg)}/providers/Microsoft.Storage/storageAccounts/{name}"


def assert_key(value: str) -> None:
    assert len(value) == 88 and len(base64.b64decode(value)) == 64, value


def test_az_storage_account_lifecycle(mimic: MimicServer, tmp_path: Path):
    az = new_az(mimic, tmp_path)
    rg = unique("sarg")
    az("group", "create", "-n", rg, "--location", "westus")
    name = account_name("sa")
    assert az("storage", "account", "check-name", "-n", name) == {"message": None, "nameAvailable": True, "reason": None}

    a = az("storage", "account", "create", "-g", rg, "-n", name, "--location", "westus", "--sku", "Standard_LRS",
           "--kind", "StorageV2", "--tags", "team=mimic")
    assert a["name"] == name and a["type"] == "Microsoft.Storage/storageAccounts" and a["location"] == "westus"
    assert a["kind"] == "StorageV2" and a["sku"] == {"name": "Standard_LRS", "tier": "Standard"}
    assert a["tags"] == {"team": "mimic"} and a["provisioningState"] == "Succeeded"
    assert a["primaryEndpoints"]["blob"] == f"https://{name}.blob.core.windows.net/"
    assert a["primaryEndpoints"]["table"] == f"https://{name}.table.core.windows.net/"
    assert a["allowBlobPublicAccess"] is False and a["minimumTlsVersion"] == "TLS1_2"
    assert a["enableHttpsTrafficOnly"] is True and a["accessTier"] == "Hot"
    assert a["statusOfPrimary"] == "available" and a["primaryLocation"] == "westus"

    shown = az("storage", "account", "show", "-g", rg, "-n", name)
    assert shown["id"] == a["id"] and shown["creationTime"] == a["creationTime"]
    assert name in [x["name"] for x in az("storage", "account", "list", "-g", rg)]
    assert name in [x["name"] for x in az("storage", "account", "list")]
    taken = az("storage", "account", "check-name", "-n", name)
    assert taken == {"message": f"The storage account named {name} is already taken.", "nameAvailable": False,
                     "reason": "AlreadyExists"}
    bad = az("storage", "account", "check-name", "-n", "Bad_Name")
    assert bad["nameAvailable"] is False and bad["reason"] == "AccountNameInvalid"

    updated = az("storage", "account", "update", "-g", rg, "-n", name, "--allow-shared-key-access", "false",
                 "--min-tls-version", "TLS1_2", "--tags", "team=other")
    assert updated["allowSharedKeyAccess"] is False and updated["tags"] == {"team": "other"}

    keys = az("storage", "account", "keys", "list", "-g", rg, "-n", name)
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    for k in keys:
        assert_key(k["value"])
        assert k["permissions"].lower() == "full"
    renewed = az("storage", "account", "keys", "renew", "-g", rg, "-n", name, "--key", "primary")
    assert renewed[0]["value"] != keys[0]["value"] and renewed[1]["value"] == keys[1]["value"]
    assert az("storage", "account", "keys", "list", "-g", rg, "-n", name)[0]["value"] == renewed[0]["value"]

    # A name taken in another resource group (raw HTTP: az would update its own).
    rg2 = unique("sarg2")
    mimic.create_rg(rg2)
    r = mimic.arm("PUT", account_path(mimic, rg2, name), api_version=API,
                  json={"location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})
    assert arm_error(r, 409, "StorageAccountAlreadyTaken")["message"] == f"The storage account named {name} is already taken."
    r = mimic.arm("PUT", account_path(mimic, rg2, "Not-Valid"), api_version=API,
                  json={"location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})
    assert arm_error(r, 400, "AccountNameInvalid")["message"].startswith("Not-Valid is not a valid storage account name.")

    az("storage", "account", "delete", "-g", rg, "-n", name, "--yes")
    assert name not in [x["name"] for x in az("storage", "account", "list", "-g", rg)]
    assert az("storage", "account", "check-name", "-n", name)["nameAvailable"] is True


def test_az_storage_container_rm(mimic: MimicServer, tmp_path: Path):
    az = new_az(mimic, tmp_path)
    rg = unique("scrg")
    az("group", "create", "-n", rg, "--location", "westus")
    name = account_name("sc")
    az("storage", "account", "create", "-g", rg, "-n", name, "--location", "westus", "--sku", "Standard_LRS", "--kind", "StorageV2")
    c = az("storage", "container-rm", "create", "-g", rg, "--storage-account", name, "-n", "data", "--metadata", "k=v")
    assert c["name"] == "data" and c["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers"
    assert c["publicAccess"] == "None" and c["metadata"] == {"k": "v"} and c["etag"].startswith('"0x')
    shown = az("storage", "container-rm", "show", "-g", rg, "--storage-account", name, "-n", "data")
    assert shown["id"] == c["id"] and shown["leaseState"] == "Available"
    assert [x["name"] for x in az("storage", "container-rm", "list", "-g", rg, "--storage-account", name)] == ["data"]
    failed = az.run("storage", "container-rm", "create", "-g", rg, "--storage-account", name, "-n", "pub",
                    "--public-access", "blob", check=False)
    assert failed.returncode != 0 and "PublicAccessNotPermitted" in failed.stderr, failed.stderr
    failed = az.run("storage", "container-rm", "create", "-g", rg, "--storage-account", name, "-n", "Bad_Name", check=False)
    assert failed.returncode != 0 and "ContainerOperationFailure" in failed.stderr, failed.stderr
    az("storage", "container-rm", "delete", "-g", rg, "--storage-account", name, "-n", "data", "--yes")
    assert az("storage", "container-rm", "list", "-g", rg, "--storage-account", name) == []
    missing = az.run("storage", "container-rm", "show", "-g", rg, "--storage-account", name, "-n", "data", check=False)
    assert missing.returncode != 0 and "ContainerNotFound" in missing.stderr, missing.stderr


def test_az_storage_account_through_the_proxy(mimic: MimicServer, tmp_path: Path):
    cfg = tmp_path / "azure-config"
    cfg.mkdir()
    paz = ProxiedAz(mimic, cfg)
    paz("login", "--service-principal", "-u", mimic.sp["clientId"], "-p", mimic.sp["clientSecret"], "--tenant", mimic.tenant_id)
    rg = unique("sapx")
    paz("group", "create", "-n", rg, "-l", "westus")
    name = account_name("px")
    a = paz("storage", "account", "create", "-g", rg, "-n", name, "-l", "westus", "--sku", "Standard_GRS", "--kind", "StorageV2")
    assert a["name"] == name and a["sku"]["name"] == "Standard_GRS"
    assert len(paz("storage", "account", "keys", "list", "-g", rg, "-n", name)) == 2


def test_azure_mgmt_storage_client(mimic: MimicServer, client_ca):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.storage import StorageManagementClient
    from azure.mgmt.storage.models import (BlobContainer, Sku, StorageAccountCreateParameters,
                                         StorageAccountRegenerateKeyParameters, StorageAccountUpdateParameters)

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    client = StorageManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    rg = unique("sasdk")
    mimic.create_rg(rg)
    name = account_name("sdk")
    poller = client.storage_accounts.begin_create(
        rg, name, StorageAccountCreateParameters(sku=Sku(name="Standard_RAGRS"), kind="StorageV2", location="westus",
                                                 allow_shared_key_access=True), polling_interval=0)
    acct = poller.result()
    assert acct.name == name and acct.sku.name == "Standard_RAGRS" and acct.provisioning_state == "Succeeded"
    assert acct.primary_endpoints.blob == f"https://{name}.blob.core.windows.net/"
    assert acct.secondary_location == "eastus" and acct.secondary_endpoints.blob == f"https://{name}-secondary.blob.core.windows.net/"
    assert acct.allow_shared_key_access is True and acct.key_creation_time.key1 is not None
    keys = client.storage_accounts.list_keys(rg, name).keys_property
    assert [k.key_name for k in keys] == ["key1", "key2"]
    for k in keys:
        assert_key(k.value)
    regen = client.storage_accounts.regenerate_key(rg, name, StorageAccountRegenerateKeyParameters(key_name="key2")).keys_property
    assert regen[1].value != keys[1].value and regen[0].value == keys[0].value
    up = client.storage_accounts.update(rg, name, StorageAccountUpdateParameters(tags={"x": "y"}))
    assert up.tags == {"x": "y"}
    assert client.storage_accounts.check_name_availability({"name": name, "type": "Microsoft.Storage/storageAccounts"}).name_available is False

    c = client.blob_containers.create(rg, name, "sdk-container", BlobContainer(metadata={"a": "b"}))
    assert c.name == "sdk-container" and c.metadata == {"a": "b"}
    assert [x.name for x in client.blob_containers.list(rg, name)] == ["sdk-container"]
    svc = client.blob_services.get_service_properties(rg, name)
    assert svc.name == "default" and svc.delete_retention_policy.enabled is False
    client.blob_containers.delete(rg, name, "sdk-container")
    client.storage_accounts.delete(rg, name)
    r = mimic.arm("GET", account_path(mimic, rg, name), api_version=API)
    arm_error(r, 404, "ResourceNotFound")


def test_template_deploys_an_account_and_a_container(mimic: MimicServer, tmp_path: Path):
    import json

    az = new_az(mimic, tmp_path)
    rg = unique("satpl")
    az("group", "create", "-n", rg, "-l", "westus")
    name = account_name("tpl")
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"name": {"type": "string"}},
        "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "[parameters('name')]",
             "location": "[resourceGroup().location]", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
             "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False}},
            {"type": "Microsoft.Storage/storageAccounts/blobServices/containers", "apiVersion": "2023-05-01",
             "name": "[format('{0}/default/c01', parameters('name'))]",
             "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]"]},
        ],
        "outputs": {
            "blob": {"type": "string", "value": "[reference(parameters('name')).primaryEndpoints.blob]"},
            "key": {"type": "string", "value": "[listKeys(resourceId('Microsoft.Storage/storageAccounts', parameters('name')), '2023-05-01').keys[0].value]"},
        },
    }
    f = tmp_path / "storage.json"
    f.write_text(json.dumps(template))
    out = az("deployment", "group", "create", "-g", rg, "-n", "st", "--template-file", str(f), "--parameters", f"name={name}")
    assert out["properties"]["provisioningState"] == "Succeeded", out
    assert out["properties"]["outputs"]["blob"]["value"] == f"https://{name}.blob.core.windows.net/"
    assert_key(out["properties"]["outputs"]["key"]["value"])
    c = az("storage", "container-rm", "show", "-g", rg, "--storage-account", name, "-n", "c01")
    assert c["publicAccess"] == "None"
