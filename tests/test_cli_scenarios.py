"""Gaps the Azure CLI's own scenario tests (az 2.91, live) found: role assignment updates, provider
operation lists, `az identity list-resources`, VM extension images and VM extensions, and the
template function `providers()`; driven with az, the Python SDKs and raw HTTP
(docs/azure-behaviour.md "CLI scenario gaps")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimic_harness import (
    ARM_SCOPE,
    AUTHZ_API,
    CONTRIBUTOR,
    DEPLOY_API,
    READER,
    VM_API,
    Az,
    MimicServer,
    arm_error,
    assign_role,
    deployment_id,
    make_uai,
    make_vm,
    rg_id,
    unique,
    vm_id,
    wait_deployment,
)
from test_vm_identity import second_principal, sp_token

EXT_IMAGE_PATH = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/publishers/{pub}/artifacttypes/vmextension"


def msi_client(mimic: MimicServer, module: str = "azure.mgmt.msi"):
    """azure-mgmt-msi's client on Mimic (docs/azure-behaviour.md §12.5/§12.6: custom authority,
    base_url and credential_scopes; the CA through the `client_ca` fixture)."""
    import importlib

    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    client_type = importlib.import_module(module).ManagedServiceIdentityClient
    return client_type(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])


def prop(obj: dict, name: str):
    """az flattens role assignments; raw ARM nests them under `properties`."""
    return obj.get(name, obj.get("properties", {}).get(name))


@pytest.fixture
def rg(mimic: MimicServer) -> str:
    name = unique("cliscn")
    mimic.create_rg(name)
    return name


# ==========================================================================================
# 1. az role assignment update
# ==========================================================================================

CONDITION = ("((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR "
             "(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))")


def test_az_role_assignment_update_changes_description_and_condition(mimic: MimicServer, az_sp: Az, rg: str, tmp_path: Path):
    """The azure-cli `role` module's scenario (test_role_assignment_condition): create with
    `--condition`/`--condition-version 2.0`, edit the output's description, then
    `az role assignment update --role-assignment` with the JSON (inline, a file path, @file).
    az PUTs the full properties back (azure-cli role/custom.py `update_role_assignment`) and
    Azure keeps the new description and condition."""
    scope = rg_id(mimic, rg)
    oid = mimic.sp["objectId"]
    created = az_sp("role", "assignment", "create", "--assignee-object-id", oid, "--assignee-principal-type", "ServicePrincipal",
                    "--role", "Reader", "--scope", scope, "--description", "first", "--condition", CONDITION,
                    "--condition-version", "2.0")
    assert prop(created, "condition") == CONDITION and prop(created, "conditionVersion") == "2.0"

    created["description"] = "Some updated description."
    updated = az_sp("role", "assignment", "update", "--role-assignment", json.dumps(created))
    assert prop(updated, "description") == "Some updated description."

    edited = dict(created, description="from a file", condition=CONDITION.replace("'logs'", "'audit'"))
    path = tmp_path / "assignment.json"
    path.write_text(json.dumps(edited))
    updated = az_sp("role", "assignment", "update", "--role-assignment", str(path))
    assert prop(updated, "description") == "from a file"
    assert "'audit'" in prop(updated, "condition")
    edited["description"] = "from @file"
    path.write_text(json.dumps(edited))
    assert prop(az_sp("role", "assignment", "update", "--role-assignment", f"@{path}"), "description") == "from @file"

    # What a GET reads back is the update (not only the PUT's answer).
    r = mimic.arm("GET", created["id"], api_version=AUTHZ_API)
    assert r.status_code == 200, r.text
    p = r.json()["properties"]
    assert (p["description"], p["conditionVersion"]) == ("from @file", "2.0") and "'audit'" in p["condition"]
    assert p["updatedOn"] >= p["createdOn"]

    # az refuses a condition version downgrade itself (role/custom.py), before any PUT.
    edited["conditionVersion"] = "1.0"
    res = az_sp.run("role", "assignment", "update", "--role-assignment", json.dumps(edited), check=False)
    assert res.returncode != 0 and "cannot be downgraded" in res.stderr


def test_role_assignment_put_may_not_change_principal_or_role(mimic: MimicServer, rg: str):
    """A PUT of an existing assignment name with another principal or role definition:
    400 `RoleAssignmentUpdateNotPermitted` (docs/azure-behaviour.md §4)."""
    scope = rg_id(mimic, rg)
    assignment = assign_role(mimic, mimic.sp["objectId"], READER, scope)
    role_def = f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Authorization/roleDefinitions"
    base = {"roleDefinitionId": f"{role_def}/{READER}", "principalId": mimic.sp["objectId"], "principalType": "ServicePrincipal"}
    other_principal = dict(base, principalId=mimic.admin["objectId"], principalType="User")
    other_role = dict(base, roleDefinitionId=f"{role_def}/b24988ac-6180-42a0-ab88-20f7382dd24c")
    for body in (other_principal, other_role):
        err = arm_error(mimic.arm("PUT", assignment, api_version=AUTHZ_API, json={"properties": body}), 400, "RoleAssignmentUpdateNotPermitted")
        assert err["message"] == "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."
    ok = mimic.arm("PUT", assignment, api_version=AUTHZ_API, json={"properties": dict(base, description="kept")})
    assert ok.status_code == 200 and ok.json()["properties"]["description"] == "kept", ok.text
    assert mimic.arm("GET", assignment, api_version=AUTHZ_API).json()["properties"]["roleDefinitionId"].endswith(READER)


# ==========================================================================================
# 2. Provider operation lists
# ==========================================================================================

# Each namespace with an api-version its operations take (its registered `operations` line where it
# has one, as ARM refuses others with NoRegisteredProviderFound).
NAMESPACES = {"Microsoft.ManagedIdentity": "2023-01-31", "Microsoft.Compute": "2024-07-01", "Microsoft.Network": "2024-05-01",
              "Microsoft.Authorization": "2022-04-01", "Microsoft.Resources": "2021-04-01", "Microsoft.Storage": "2023-05-01",
              "Microsoft.KeyVault": "2023-07-01"}


def test_az_identity_list_operations(az_sp: Az):
    """`az identity list-operations` (GET /providers/Microsoft.ManagedIdentity/operations): the
    entries of ManagedIdentity.json's `MsiOperationsList` example."""
    ops = az_sp("identity", "list-operations")
    by_name = {o["name"]: o for o in ops}
    read = by_name["Microsoft.ManagedIdentity/userAssignedIdentities/read"]
    assert read["display"] == {"provider": "Managed Service Identity", "resource": "User Assigned Identities",
                               "operation": "Get User Assigned Identity", "description": "Gets an existing user assigned identity"}
    for action in ("write", "delete", "assign/action", "listAssociatedResources/action", "federatedIdentityCredentials/read"):
        assert f"Microsoft.ManagedIdentity/userAssignedIdentities/{action}" in by_name


@pytest.mark.parametrize("namespace", list(NAMESPACES))
def test_provider_operations_list(mimic: MimicServer, namespace: str):
    """Operations_List of each namespace Mimic serves: `{"value": [{name, display{provider,
    resource, operation, description}, origin?, isDataAction?}]}` (common-types `Operation`),
    every name under the namespace and listed once, open to any authenticated caller."""
    other = second_principal(mimic, unique("opsreader"))
    r = mimic.arm("GET", f"/providers/{namespace}/operations", api_version=NAMESPACES[namespace], token=sp_token(mimic, other))
    assert r.status_code == 200, r.text
    value = r.json()["value"]
    assert value, namespace
    names = [o["name"] for o in value]
    assert len(names) == len(set(n.lower() for n in names))
    for o in value:
        assert o["name"].lower().startswith(namespace.lower() + "/"), o
        assert set(o["display"]) == {"provider", "resource", "operation", "description"}, o
        assert all(isinstance(v, str) and v for v in o["display"].values()), o
        assert set(o) <= {"name", "display", "origin", "isDataAction"}, o
    assert f"{namespace}/operations/read".lower() in {n.lower() for n in names} or namespace == "Microsoft.Resources"


def test_provider_operations_include_what_rbac_enforces(mimic: MimicServer):
    """The actions a role must grant for what Mimic serves are in the lists (the VM extension
    actions, the storage data actions)."""
    def names(ns: str) -> set[str]:
        r = mimic.arm("GET", f"/providers/{ns}/operations", api_version=NAMESPACES[ns])
        assert r.status_code == 200, r.text
        return {o["name"] for o in r.json()["value"]}
    compute = names("Microsoft.Compute")
    for a in ("virtualMachines/read", "virtualMachines/write", "virtualMachines/start/action", "virtualMachines/extensions/write"):
        assert f"Microsoft.Compute/{a}" in compute
    storage = mimic.arm("GET", "/providers/Microsoft.Storage/operations", api_version=NAMESPACES["Microsoft.Storage"]).json()["value"]
    blob_read = next(o for o in storage if o["name"] == "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read")
    assert blob_read["isDataAction"] is True
    assert "Microsoft.Authorization/roleAssignments/write" in names("Microsoft.Authorization")


def test_provider_operations_unknown_namespace(mimic: MimicServer):
    r = mimic.arm("GET", "/providers/Microsoft.Nonexistent/operations", api_version="2022-09-01")
    err = arm_error(r, 404, "InvalidResourceNamespace")
    assert "Microsoft.Nonexistent" in err["message"]


def test_sdk_operations_list(mimic: MimicServer, client_ca):
    """azure-mgmt-msi's ManagedServiceIdentityClient.operations.list() pages the same list."""
    ops = list(msi_client(mimic).operations.list())
    assert any(o.name == "Microsoft.ManagedIdentity/userAssignedIdentities/delete" and o.display.provider == "Managed Service Identity"
               for o in ops)


# ==========================================================================================
# 3. az identity list-resources
# ==========================================================================================


def test_list_associated_resources_pages_and_rbac(mimic: MimicServer, rg: str):
    """Any resource carrying the identity is listed (a VM and a generically stored resource), only
    those the caller may read, and a long list comes in pages whose `nextLink` carries a
    `$skiptoken` (ManagedIdentity 2022-01-31-preview `IdentityListAssociatedResources`)."""
    uai = make_uai(mimic, rg, "attached")
    make_vm(mimic, rg, "vm1", {"type": "UserAssigned", "userAssignedIdentities": {uai["id"]: {}}}, linux=True)
    site = f"{rg_id(mimic, rg)}/providers/Microsoft.Web/sites/site1"
    r = mimic.arm("PUT", site, api_version="2023-01-01", json={"location": "westus", "identity": {
        "type": "UserAssigned", "userAssignedIdentities": {uai["id"]: {}}}})
    assert r.status_code in (200, 201), r.text
    path = f"{uai['id']}/listAssociatedResources"
    r = mimic.arm("POST", path, api_version="2022-01-31-preview")
    assert r.status_code == 200, r.text
    assert r.json()["totalCount"] == 2
    assert sorted(x["type"] for x in r.json()["value"]) == ["microsoft.compute/virtualmachines", "microsoft.web/sites"]

    # Reader on the VM only, plus the listing action on the identity (Contributor there: no
    # narrower built-in role names `listAssociatedResources/action`): the VM alone.
    other = second_principal(mimic, unique("assocreader"))
    assign_role(mimic, other["objectId"], READER, vm_id(mimic, rg, "vm1"))
    assign_role(mimic, other["objectId"], CONTRIBUTOR, uai["id"])
    token = sp_token(mimic, other)
    r = mimic.arm("POST", path, api_version="2022-01-31-preview", token=token)
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()["value"]] == ["vm1"] and r.json()["totalCount"] == 1

    # Without the action on the identity: 403.
    third = second_principal(mimic, unique("assocnone"))
    arm_error(mimic.arm("POST", path, api_version="2022-01-31-preview", token=sp_token(mimic, third)), 403, "AuthorizationFailed")


def test_list_associated_resources_next_link(mimic: MimicServer, rg: str, client_ca):
    uai = make_uai(mimic, rg, "many")
    for i in range(55):
        r = mimic.arm("PUT", f"{rg_id(mimic, rg)}/providers/Microsoft.Web/sites/s{i:02}", api_version="2023-01-01",
                      json={"location": "westus", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai["id"]: {}}}})
        assert r.status_code in (200, 201), r.text
    path = f"{uai['id']}/listAssociatedResources"
    r = mimic.arm("POST", path, api_version="2022-01-31-preview", params={"$orderby": "name asc"})
    body = r.json()
    assert r.status_code == 200 and body["totalCount"] == 55 and len(body["value"]) == 50, r.text
    assert "$skiptoken=" in body["nextLink"] or "%24skiptoken=" in body["nextLink"]
    # The SDKs follow nextLink with a GET (azure-mgmt-msi's pager).
    nxt = mimic.http.get(body["nextLink"], headers={"Authorization": f"Bearer {mimic.sp_token()}"})
    assert nxt.status_code == 200, nxt.text
    assert [x["name"] for x in nxt.json()["value"]] == [f"s{i}" for i in range(50, 55)] and "nextLink" not in nxt.json()
    arm_error(mimic.arm("POST", path, api_version="2022-01-31-preview", params={"$skiptoken": "not-a-token"}), 400)

    client = msi_client(mimic, "azure.mgmt.msi.v2022_01_31_preview")
    listed = list(client.user_assigned_identities.list_associated_resources(rg, "many"))
    assert len(listed) == 55 and len({x.id for x in listed}) == 55


# ==========================================================================================
# 4. VM extension images and VM extensions
# ==========================================================================================


def test_vm_extension_image_listings_are_bare_arrays(mimic: MimicServer, az_sp: Az):
    """The azure-cli `vm` module's scenario (test_vm_machine_extension_image): list-names,
    list-versions (arrays of entries in the location), show (an object whose id is
    `/Providers/Microsoft.Compute/Locations/{l}/Publishers/{p}/ArtifactTypes/VMExtension/Types/{t}/Versions/{v}`)."""
    loc, pub = "westus", "Microsoft.Azure.Extensions"
    names = az_sp("vm", "extension", "image", "list-names", "--location", loc, "--publisher", pub)
    assert isinstance(names, list) and "CustomScript" in [n["name"] for n in names]
    assert all(n["location"] == loc for n in names)
    versions = az_sp("vm", "extension", "image", "list-versions", "--location", loc, "-p", pub, "--name", "CustomScript")
    assert isinstance(versions, list) and versions and all(v["location"] == loc for v in versions)
    ver = versions[-1]["name"]
    shown = az_sp("vm", "extension", "image", "show", "--location", loc, "-p", pub, "--name", "CustomScript", "--version", ver)
    assert shown["location"] == loc
    assert f"/Providers/Microsoft.Compute/Locations/{loc}/Publishers/{pub}/ArtifactTypes/VMExtension/Types/CustomScript/Versions/{ver}" in shown["id"]
    assert shown["operatingSystem"] == "Linux" and shown["computeRole"] == "IaaS"
    # `az vm extension image list` walks the publishers list, then each one's types and versions.
    found = az_sp("vm", "extension", "image", "list", "-l", loc, "--publisher", "Microsoft.Azure.ActiveDirectory", "--name", "AADSSHLoginForLinux")
    assert found and all(f["name"] == "AADSSHLoginForLinux" for f in found)

    base = EXT_IMAGE_PATH.format(sub=mimic.subscription_id, loc=loc, pub=pub)
    r = mimic.arm("GET", f"{base}/types", api_version=VM_API)
    assert r.status_code == 200 and isinstance(r.json(), list), r.text
    r = mimic.arm("GET", f"{base}/types/CustomScript/versions", api_version=VM_API, params={"$orderby": "name desc", "$top": "1"})
    assert r.status_code == 200 and len(r.json()) == 1, r.text
    for path in (f"{EXT_IMAGE_PATH.format(sub=mimic.subscription_id, loc=loc, pub='No.Such.Publisher')}/types",
                 f"{base}/types/NoSuchType/versions", f"{base}/types/CustomScript/versions/9.9.9"):
        arm_error(mimic.arm("GET", path, api_version=VM_API), 404, "NotFound")


def test_az_vm_extension_set_show_list_delete(mimic: MimicServer, az_sp: Az, rg: str):
    """`az vm extension set|show|list|delete` on a VM: the extension is Succeeded with the handler
    version az picked (major.minor of the newest), settings echoed, protectedSettings never
    returned; the VM's instance view lists it; it goes with the VM."""
    make_vm(mimic, rg, "extvm", linux=True)
    settings = json.dumps({"commandToExecute": "echo hello"})
    ext = az_sp("vm", "extension", "set", "-g", rg, "--vm-name", "extvm", "-n", "CustomScript", "--publisher",
                "Microsoft.Azure.Extensions", "--settings", settings, "--protected-settings", json.dumps({"secret": "s3cret"}))
    assert ext["provisioningState"] == "Succeeded"
    assert ext["typeHandlerVersion"] == "2.1" and ext["autoUpgradeMinorVersion"] is True
    assert ext["settings"] == {"commandToExecute": "echo hello"}
    assert "s3cret" not in json.dumps(ext)
    shown = az_sp("vm", "extension", "show", "-g", rg, "--vm-name", "extvm", "-n", "CustomScript")
    assert shown["name"] == "CustomScript" and shown["publisher"] == "Microsoft.Azure.Extensions"
    assert shown["typePropertiesType"] == "CustomScript"
    assert "protectedSettings" not in json.dumps(shown)
    # A second extension, with --version given and its own instance name.
    az_sp("vm", "extension", "set", "-g", rg, "--vm-name", "extvm", "-n", "AADSSHLoginForLinux", "--publisher",
          "Microsoft.Azure.ActiveDirectory", "--version", "1.0", "--extension-instance-name", "aadssh")
    listed = az_sp("vm", "extension", "list", "-g", rg, "--vm-name", "extvm")
    assert sorted(e["name"] for e in listed) == ["CustomScript", "aadssh"]
    view = az_sp("vm", "get-instance-view", "-g", rg, "-n", "extvm")["instanceView"]["extensions"]
    assert {v["name"]: v["type"] for v in view} == {"CustomScript": "Microsoft.Azure.Extensions.CustomScript",
                                                     "aadssh": "Microsoft.Azure.ActiveDirectory.AADSSHLoginForLinux"}
    az_sp("vm", "extension", "delete", "-g", rg, "--vm-name", "extvm", "-n", "aadssh")
    assert [e["name"] for e in az_sp("vm", "extension", "list", "-g", rg, "--vm-name", "extvm")] == ["CustomScript"]

    ext_id = f"{vm_id(mimic, rg, 'extvm')}/extensions/CustomScript"
    r = mimic.arm("GET", ext_id, api_version=VM_API, params={"$expand": "instanceView"})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["instanceView"]["statuses"][0]["code"] == "ProvisioningState/succeeded"
    # PATCH changes what it names and keeps the rest.
    r = mimic.arm("PATCH", ext_id, api_version=VM_API, json={"properties": {"settings": {"commandToExecute": "echo bye"}}, "tags": {"a": "b"}})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["settings"] == {"commandToExecute": "echo bye"} and r.json()["properties"]["typeHandlerVersion"] == "2.1"
    assert r.json()["tags"] == {"a": "b"}

    d = mimic.arm("DELETE", vm_id(mimic, rg, "extvm"), api_version=VM_API)
    assert d.status_code in (200, 202, 204), d.text
    arm_error(mimic.arm("GET", ext_id, api_version=VM_API), 404, "ResourceNotFound")
    make_vm(mimic, rg, "extvm", linux=True)  # same name again: no extension left behind
    assert mimic.arm("GET", f"{vm_id(mimic, rg, 'extvm')}/extensions", api_version=VM_API).json() == {"value": []}


def test_vm_extension_put_is_validated(mimic: MimicServer, rg: str):
    make_vm(mimic, rg, "valvm", linux=True)
    ext = f"{vm_id(mimic, rg, 'valvm')}/extensions/e1"

    def put(**p):
        body = {"location": "westus", "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript",
                                                     "typeHandlerVersion": "2.1", **p}}
        return mimic.arm("PUT", ext, api_version=VM_API, json=body)

    err = arm_error(put(publisher="Microsoft.Azure.Nothing"), 404, "ArtifactNotFound")
    assert err["message"] == "The VM extension with publisher 'Microsoft.Azure.Nothing' and type 'CustomScript' could not be found."
    err = arm_error(put(typeHandlerVersion="7.3"), 404, "ArtifactNotFound")
    assert "type handler version '7.3' could not be found in the extension repository" in err["message"]
    err = arm_error(put(typeHandlerVersion="two"), 400, "InvalidParameter")
    assert err["target"] == "typeHandlerVersion"
    arm_error(put(type=None), 400, "InvalidParameter")
    arm_error(mimic.arm("PUT", f"{vm_id(mimic, rg, 'novm')}/extensions/e1", api_version=VM_API, json={
        "location": "westus", "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1"}}),
        404, "ResourceNotFound")
    first = put(protectedSettings={"key": "hidden"})
    assert first.status_code == 201 and "azure-asyncoperation" in {k.lower() for k in first.headers}, first.text
    assert "hidden" not in first.text and "protectedSettings" not in first.text
    again = put()
    assert again.status_code == 200, again.text
    assert mimic.arm("DELETE", ext, api_version=VM_API).status_code == 202
    assert mimic.arm("DELETE", ext, api_version=VM_API).status_code == 204

    # RBAC: Reader on the VM cannot write an extension.
    other = second_principal(mimic, unique("extreader"))
    assign_role(mimic, other["objectId"], READER, vm_id(mimic, rg, "valvm"))
    body = {"location": "westus", "properties": {"publisher": "Microsoft.Azure.Extensions", "type": "CustomScript", "typeHandlerVersion": "2.1"}}
    err = arm_error(mimic.arm("PUT", ext, api_version=VM_API, json=body, token=sp_token(mimic, other)), 403, "AuthorizationFailed")
    assert "Microsoft.Compute/virtualMachines/extensions/write" in err["message"]


# ==========================================================================================
# 5. Template function providers()
# ==========================================================================================


def test_template_providers_function(mimic: MimicServer, rg: str):
    """`providers(namespace, [resourceType])` (deprecated, still evaluated; learn.microsoft.com
    template-functions-resource#providers): with a type `{resourceType, locations, apiVersions}`,
    from the provider catalogue `GET /providers/{ns}` shows; with the namespace alone
    `{namespace, resourceTypes}`."""
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [],
        "outputs": {
            "one": {"type": "object", "value": "[providers('Microsoft.Compute', 'virtualMachines')]"},
            "all": {"type": "object", "value": "[providers('microsoft.managedidentity')]"},
            "newest": {"type": "string", "value": "[providers('Microsoft.Compute', 'virtualMachines').apiVersions[0]]"},
        },
    }
    dep = deployment_id(mimic, rg, unique("prov"))
    r = mimic.arm("PUT", dep, api_version=DEPLOY_API, json={"properties": {"mode": "Incremental", "template": template}})
    assert r.status_code in (200, 201), r.text
    done = wait_deployment(mimic, dep)
    assert done["properties"]["provisioningState"] == "Succeeded", done
    out = done["properties"]["outputs"]
    catalogue = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Compute", api_version="2021-04-01").json()
    vm_type = next(t for t in catalogue["resourceTypes"] if t["resourceType"] == "virtualMachines")
    assert out["one"]["value"] == {"resourceType": "virtualMachines", "locations": vm_type["locations"],
                                   "apiVersions": vm_type["apiVersions"]}
    assert out["newest"]["value"] == vm_type["apiVersions"][0]
    assert out["all"]["value"]["namespace"] == "Microsoft.ManagedIdentity"
    assert "userAssignedIdentities" in [t["resourceType"] for t in out["all"]["value"]["resourceTypes"]]

    bad = dict(template, outputs={"x": {"type": "object", "value": "[providers('Microsoft.Nothing', 'things')]"}})
    r = mimic.arm("POST", f"{dep}-bad/validate", api_version=DEPLOY_API,
                  json={"properties": {"mode": "Incremental", "template": bad}})
    if r.status_code == 200:  # validation does not evaluate outputs: deploy it
        r = mimic.arm("PUT", f"{dep}-bad", api_version=DEPLOY_API, json={"properties": {"mode": "Incremental", "template": bad}})
        assert r.status_code in (200, 201, 400), r.text
        if r.status_code != 400:
            failed = wait_deployment(mimic, f"{dep}-bad")
            assert failed["properties"]["provisioningState"] == "Failed"
            assert "Microsoft.Nothing" in json.dumps(failed["properties"]["error"])
    else:
        assert "Microsoft.Nothing" in r.text
