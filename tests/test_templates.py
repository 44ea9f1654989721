"""ARM template deployments and `az vm create`, driven with az (`az deployment group
create --template-file`, `az vm create`), azure-mgmt-resource and raw HTTP.

Expectations are Azure's behaviour with their sources:
* the ARM-template section of the seed (seed 004: enable/disable system-assigned, assign
  and remove user-assigned with api-versions 2017-12-01 `identityIds` and 2018-06-01
  `userAssignedIdentities`, `"type": "None"`); its fragments are used verbatim (their `//` comments
  and trailing commas included) inside whole templates whose placeholders are filled;
* docs/azure-behaviour.md §11.6 (az's non-JSON `template:` body, what `az vm create` sends);
* docs/azure-behaviour.md §3 (deployments as LROs); error texts recorded from Azure: InvalidTemplate with
  `TemplateViolation` line/position (Azure-MCP-server log, 2026), "Deployment template parse
  failed" (learn.microsoft.com deploy-cli), DeploymentFailed with details
  (learn.microsoft.com quickstarts), DeploymentOutputEvaluationFailed and function messages
  (KingslandConsulting/Kingsland.ArmLinter test notes taken from real deployments),
  InvalidTemplateDeployment "Authorization failed for template resource" (public CI logs),
  InvalidCreateRoleAssignmentRequest (MicrosoftDocs/azure-docs #17715, #62786;
  MicrosoftDocs/entra-docs PR #1442: the CLI seed's `az vm create ... --scope <subscription>`
  fails with it, which is why the newer seed uses the resource group as scope).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from mimic_harness import (
    ARM_SCOPE,
    AUTHZ_API,
    CONTRIBUTOR,
    DEPLOY_API,
    MSI_API,
    READER,
    Az,
    MimicServer,
    arm_error,
    assign_role,
    deployment_id,
    get_vm,
    graph_sp,
    rg_id,
    unique,
)

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")


# ---- the seed's fragments, verbatim (seed 004, "Azure Resource Manager templates") ----

SEED_SYSTEM_ASSIGNED = '''"resources": [
     {
         //other resource provider properties...
         "apiVersion": "2018-06-01",
         "type": "Microsoft.Compute/virtualMachines",
         "name": "[variables('vmName')]",
         "location": "[resourceGroup().location]",
         "identity": {
             "type": "SystemAssigned",
             }                        
     }
 ]'''

SEED_REMOVE_SYSTEM_ASSIGNED = '''{
    "apiVersion": "2018-06-01",
    "type": "Microsoft.Compute/virtualMachines",
    "name": "[parameters('vmName')]",
    "location": "[resourceGroup().location]",
    "identity": {
        "type": "None"
    }
}'''

SEED_USER_ASSIGNED_2018 = '''"resources": [
     {
         //other resource provider properties...
         "apiVersion": "2018-06-01",
         "type": "Microsoft.Compute/virtualMachines",
         "name": "[variables('vmName')]",
         "location": "[resourceGroup().location]",
         "identity": {
             "type": "userAssigned",
             "userAssignedIdentities": {
                "[resourceID('Microsoft.ManagedIdentity/userAssignedIdentities/',variables('<USERASSIGNEDIDENTITYNAME>'))]": {}
             }
         }
     }
 ]'''

SEED_USER_ASSIGNED_2017 = '''"resources": [
     {
         //other resource provider properties...
         "apiVersion": "2017-12-01",
         "type": "Microsoft.Compute/virtualMachines",
         "name": "[variables('vmName')]",
         "location": "[resourceGroup().location]",
         "identity": {
             "type": "userAssigned",
             "identityIds": [
                "[resourceID('Microsoft.ManagedIdentity/userAssignedIdentities/',variables('<USERASSIGNEDIDENTITYNAME>'))]"
             ]
         }
     }
]'''

SEED_REMOVE_USER_ASSIGNED = '''{
   "apiVersion": "2018-06-01",
   "type": "Microsoft.Compute/virtualMachines",
   "name": "[parameters('vmName')]",
   "location": "[resourceGroup().location]",
   "identity": {
       "type": "None"
       },
 }'''

# What "//other resource provider properties..." stands for: a VM needs hardware, storage, OS and
# network profiles (the REST seed's body). No true/false/null, so az's own parse of the file
# (json, then ast.literal_eval, which also takes the seed's trailing commas) accepts it.
VM_PROPERTIES = '''"properties": {
             "hardwareProfile": {"vmSize": "Standard_D2_v2"},
             "storageProfile": {"imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2016-Datacenter", "version": "latest"},
                                "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}}},
             "osProfile": {"computerName": "[variables('vmName')]", "adminUsername": "azureuser", "adminPassword": "[parameters('adminPassword')]"},
             "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', variables('nicName'))]"}]}
         },
         "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', variables('nicName'))]"<EXTRA_DEPENDS>],'''

NETWORK = '''{
      "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2022-01-01", "name": "myVnet",
      "location": "[resourceGroup().location]",
      "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                     "subnets": [{"name": "mySubnet", "properties": {"addressPrefix": "10.0.0.0/24"}}]}
    },
    {
      "type": "Microsoft.Network/networkInterfaces", "apiVersion": "2022-01-01", "name": "[variables('nicName')]",
      "location": "[resourceGroup().location]",
      "dependsOn": ["myVnet"],
      "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
          "privateIPAllocationMethod": "Dynamic",
          "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'myVnet', 'mySubnet')]"}}}]}
    }'''

UAI_RESOURCE = '''{
      "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2018-11-30",
      "name": "[variables('identityName')]", "location": "[resourceGroup().location]"
    }'''


def vm_fragment(fragment: str, extra_depends: str = "") -> str:
    """The seed fragment with its placeholders filled: the VM's other properties where the seed's
    comment stands, `<USERASSIGNEDIDENTITYNAME>` the variable holding the identity's name."""
    props = VM_PROPERTIES.replace("<EXTRA_DEPENDS>", extra_depends)
    out = fragment.replace("<USERASSIGNEDIDENTITYNAME>", "identityName")
    if "//other resource provider properties..." in out:
        return out.replace("//other resource provider properties...", "//other resource provider properties...\n         " + props)
    # The removal fragments have no comment: the properties go before "identity".
    return out.replace('"identity"', props + '\n    "identity"', 1)


def whole_template(resources: str, *, parameters: str = "", outputs: str = "") -> str:
    """A complete template around `resources` (a `"resources": [...]` member or objects)."""
    if not resources.lstrip().startswith('"resources"'):
        resources = f'"resources": [\n    {resources}\n  ]'
    params = '''"vmName": {"type": "string", "defaultValue": "myVM"},
    "adminPassword": {"type": "securestring"}''' + (",\n    " + parameters if parameters else "")
    return f'''{{
  "$schema": "{SCHEMA}",
  "contentVersion": "1.0.0.0",
  // Mimic test: the seed's fragment made into a whole template.
  "parameters": {{
    {params}
  }},
  "variables": {{
    "vmName": "[parameters('vmName')]",
    "nicName": "[concat(parameters('vmName'), 'Nic')]",
    "identityName": "myUserAssignedIdentity"
  }},
  {resources},
  "outputs": {{{outputs}}}
}}
'''


def add_resources(template: str, extra: str) -> str:
    """Appends resources after the seed's `"resources": [` opening."""
    return re.sub(r'"resources": \[', '"resources": [\n    ' + extra.replace("\\", "\\\\") + ",", template, count=1)


def jsonc(text: str):
    """What a JSON-with-comments reader (Json.NET) makes of `text`: comments and trailing
    commas dropped. (For the SDK, which sends the template as a JSON object.)"""
    out, i, in_str = [], 0, False
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        else:
            out.append(c)
        i += 1
    cleaned = re.sub(r",(\s*[}\]])", r"\1", "".join(out))
    return json.loads(cleaned)


# ---- helpers ------------------------------------------------------------------------------


def get(mimic: MimicServer, path: str, api: str) -> dict:
    r = mimic.arm("GET", path, api_version=api)
    assert r.status_code == 200, r.text
    return r.json()


def uai(mimic: MimicServer, rg: str, name: str = "myUserAssignedIdentity") -> dict:
    return get(mimic, f"{rg_id(mimic, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}", MSI_API)


def assignments_for(mimic: MimicServer, scope: str, principal: str) -> list[dict]:
    r = mimic.arm("GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments", api_version=AUTHZ_API,
                  params={"$filter": f"principalId eq '{principal}'"})
    assert r.status_code == 200, r.text
    return r.json()["value"]


def unique_string(*parts: str) -> str:
    """ARM's uniqueString: MurmurHash64 (two 32-bit lanes) of the '-'-joined UTF-8 text, base-32
    of the 64 bits, most significant first (checked against Azure's values below)."""
    m = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m

    def fmix(h):
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & m
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & m
        return h ^ (h >> 16)

    data = "-".join(parts).encode()
    c1, c2 = 0x239B961B, 0xAB0E9789
    h1 = h2 = 0
    i = 0
    while i + 8 <= len(data):
        k1 = (int.from_bytes(data[i:i + 4], "little") * c1) & m
        k1 = (rotl(k1, 15) * c2) & m
        h1 = (((rotl(h1 ^ k1, 19) + h2) & m) * 5 + 0x561CCD1B) & m
        k2 = (int.from_bytes(data[i + 4:i + 8], "little") * c2) & m
        k2 = (rotl(k2, 17) * c1) & m
        h2 = (((rotl(h2 ^ k2, 13) + h1) & m) * 5 + 0x0BCAA747) & m
        i += 8
    tail = data[i:]
    if tail:
        k1 = (int.from_bytes(tail[:4], "little") * c1) & m
        h1 ^= (rotl(k1, 15) * c2) & m
        if len(tail) > 4:
            k2 = (int.from_bytes(tail[4:], "little") * c2) & m
            h2 ^= (rotl(k2, 17) * c1) & m
    h1 ^= len(data)
    h2 ^= len(data)
    h1 = (h1 + h2) & m
    h2 = (h2 + h1) & m
    h1, h2 = fmix(h1), fmix(h2)
    h1 = (h1 + h2) & m
    h2 = (h2 + h1) & m
    v = (h2 << 32) | h1
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    out = ""
    for _ in range(13):
        out += alphabet[v >> 59]
        v = (v << 5) & 0xFFFFFFFFFFFFFFFF
    return out


def arm_guid(*parts: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, "-".join(parts)))


class Deployer:
    """Deploys a template text with az (`--template-file`, the file kept as written) or with
    azure-mgmt-resource (the template as the JSON object a JSON-with-comments reader makes of it)."""

    def __init__(self, mimic: MimicServer, tmp_path: Path, client: str):
        self.mimic, self.tmp, self.client = mimic, tmp_path, client
        self._az = None
        self._sdk = None

    @property
    def az(self) -> Az:
        if self._az is None:
            cfg = self.tmp / "az-config"
            cfg.mkdir(exist_ok=True)
            self._az = Az(self.mimic, cfg)
            self._az.setup_sp()
        return self._az

    @property
    def sdk(self):
        if self._sdk is None:
            from azure.identity import ClientSecretCredential
            from azure.mgmt.resource import ResourceManagementClient
            m = self.mimic
            cred = ClientSecretCredential(m.tenant_id, m.sp["clientId"], m.sp["clientSecret"], authority=m.login_url,
                                          disable_instance_discovery=True, connection_verify=str(m.ca_path))
            self._sdk = ResourceManagementClient(cred, m.subscription_id, base_url=m.arm_url, credential_scopes=[ARM_SCOPE],
                                                 connection_verify=str(m.ca_path))
        return self._sdk

    def deploy(self, rg: str, template: str, name: str, parameters: dict | None = None, mode: str = "Incremental") -> dict:
        parameters = {"adminPassword": "myPassword12!", **(parameters or {})}
        if self.client == "az":
            f = self.tmp / f"{name}.json"
            f.write_text(template)
            args = ["deployment", "group", "create", "-g", rg, "--template-file", str(f), "--mode", mode, "--parameters"]
            args += [f"{k}={v}" for k, v in parameters.items()]
            return self.az(*args)
        poller = self.sdk.deployments.begin_create_or_update(rg, name, {"properties": {
            "mode": mode, "template": jsonc(template), "parameters": {k: {"value": v} for k, v in parameters.items()}}})
        return poller.result().as_dict()


@pytest.fixture(params=["az", "sdk"])
def deployer(request, mimic: MimicServer, tmp_path: Path, client_ca) -> Deployer:
    return Deployer(mimic, tmp_path, request.param)


@pytest.fixture
def az_deployer(mimic: MimicServer, tmp_path: Path) -> Deployer:
    return Deployer(mimic, tmp_path, "az")


def new_rg(mimic: MimicServer, prefix: str) -> str:
    rg = unique(prefix)
    mimic.create_rg(rg)
    return rg


def state(result: dict) -> str:
    props = result.get("properties") or {}
    return props.get("provisioningState") or props.get("provisioning_state")


# ==========================================================================================
# The seed's templates: system-assigned identity
# ==========================================================================================


def test_seed_enable_system_assigned_then_disable_with_none(mimic: MimicServer, deployer: Deployer):
    rg = new_rg(mimic, "tplsa")
    enable = add_resources(whole_template(vm_fragment(SEED_SYSTEM_ASSIGNED)), NETWORK)
    out = deployer.deploy(rg, enable, "enable-system")
    assert state(out) == "Succeeded"
    ident = get_vm(mimic, rg)["identity"]
    assert ident["type"] == "SystemAssigned" and ident["tenantId"] == mimic.tenant_id
    principal = ident["principalId"]
    sp = graph_sp(mimic, principal)
    assert sp and sp["servicePrincipalType"] == "ManagedIdentity" and sp["displayName"] == "myVM"

    # Redeploying the same template keeps the identity (incremental, idempotent).
    assert state(deployer.deploy(rg, enable, "enable-system")) == "Succeeded"
    assert get_vm(mimic, rg)["identity"]["principalId"] == principal

    disable = add_resources(whole_template(vm_fragment(SEED_REMOVE_SYSTEM_ASSIGNED)), NETWORK)
    assert state(deployer.deploy(rg, disable, "disable-system")) == "Succeeded"
    assert "identity" not in get_vm(mimic, rg), "type None removes the identity (seed 004)"
    assert graph_sp(mimic, principal) is None, "disabling deletes the service principal (docs/azure-behaviour.md §7)"


def test_seed_role_assignment_to_the_vms_system_assigned_identity(mimic: MimicServer, deployer: Deployer):
    """Seed 004: "you may want to grant it a role such as Reader access to the resource group in
    which it was created" — by a template, with reference(...).identity.principalId."""
    rg = new_rg(mimic, "tplra")
    role_assignment = '''{
      "type": "Microsoft.Authorization/roleAssignments",
      "apiVersion": "2022-04-01",
      "name": "[guid(resourceGroup().id, variables('vmName'), 'reader')]",
      "dependsOn": ["[resourceId('Microsoft.Compute/virtualMachines', variables('vmName'))]"],
      "properties": {
        "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'acdd72a7-3385-48ef-bd42-f606fba81ae7')]",
        "principalId": "[reference(resourceId('Microsoft.Compute/virtualMachines', variables('vmName')), '2018-06-01', 'Full').identity.principalId]",
        "principalType": "ServicePrincipal"
      }
    }'''
    outputs = '''"principalId": {"type": "string", "value": "[reference(resourceId('Microsoft.Compute/virtualMachines', variables('vmName')), '2018-06-01', 'Full').identity.principalId]"},
    "assignmentName": {"type": "string", "value": "[guid(resourceGroup().id, variables('vmName'), 'reader')]"}'''
    template = add_resources(add_resources(whole_template(vm_fragment(SEED_SYSTEM_ASSIGNED), outputs=outputs), NETWORK), role_assignment)
    out = deployer.deploy(rg, template, "assign-role")
    assert state(out) == "Succeeded"
    principal = get_vm(mimic, rg)["identity"]["principalId"]
    outputs = out["properties"]["outputs"]
    assert outputs["principalId"]["value"] == principal
    name = arm_guid(rg_id(mimic, rg), "myVM", "reader")
    assert outputs["assignmentName"]["value"] == name
    (a,) = assignments_for(mimic, rg_id(mimic, rg), principal)
    assert a["name"] == name and a["properties"]["roleDefinitionId"].endswith(READER)
    assert a["properties"]["scope"] == rg_id(mimic, rg) and a["properties"]["principalType"] == "ServicePrincipal"
    # The deployment lists what it deployed, in dependency order.
    ids = [r["id"] for r in out["properties"].get("outputResources") or out["properties"].get("output_resources")]
    assert ids[-1].endswith(f"/providers/Microsoft.Authorization/roleAssignments/{name}")
    assert ids.index(f"{rg_id(mimic, rg)}/providers/Microsoft.Compute/virtualMachines/myVM") < len(ids) - 1


# ==========================================================================================
# The seed's templates: user-assigned identities, both api-versions
# ==========================================================================================


@pytest.mark.parametrize("fragment, api", [(SEED_USER_ASSIGNED_2018, "2018-06-01"), (SEED_USER_ASSIGNED_2017, "2017-12-01")])
def test_seed_assign_user_assigned_identity(mimic: MimicServer, deployer: Deployer, fragment: str, api: str):
    rg = new_rg(mimic, "tplua")
    deps = ''', "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('identityName'))]"'''
    template = add_resources(add_resources(whole_template(vm_fragment(fragment, deps)), NETWORK), UAI_RESOURCE)
    assert state(deployer.deploy(rg, template, "assign-user")) == "Succeeded"
    identity = uai(mimic, rg)
    uid = identity["id"]
    # 2018-06-01 and later: the userAssignedIdentities map (docs/azure-behaviour.md §1).
    ident = get_vm(mimic, rg, api="2018-06-01")["identity"]
    assert ident["type"] == "UserAssigned", "the seed's 'userAssigned' comes back canonical"
    assert "principalId" not in ident
    ((key, value),) = ident["userAssignedIdentities"].items()
    assert key.lower() == uid.lower()
    assert value == {"principalId": identity["properties"]["principalId"], "clientId": identity["properties"]["clientId"]}
    # 2017-12-01: identityIds.
    old = get_vm(mimic, rg, api="2017-12-01")["identity"]
    assert old["type"] == "UserAssigned" and [i.lower() for i in old["identityIds"]] == [uid.lower()]

    # Seed 004: "remove all user-assigned managed identities ... type None".
    remove = add_resources(whole_template(vm_fragment(SEED_REMOVE_USER_ASSIGNED)), NETWORK)
    assert state(deployer.deploy(rg, remove, "remove-user")) == "Succeeded"
    assert "identity" not in get_vm(mimic, rg)
    assert uai(mimic, rg)["properties"]["principalId"] == identity["properties"]["principalId"], "the identity itself stays"


@pytest.mark.parametrize("api", ["2018-06-01", "2017-12-01"])
def test_seed_both_identities_then_remove_system_keep_user(mimic: MimicServer, az_deployer: Deployer, api: str):
    """Seed 004: "If your VM has both system and user-assigned managed identities, remove
    SystemAssigned from the identity type and keep UserAssigned along with the
    userAssignedIdentities dictionary values" (identityIds array with 2017-12-01)."""
    rg = new_rg(mimic, "tplboth")
    ref = "[resourceID('Microsoft.ManagedIdentity/userAssignedIdentities/',variables('identityName'))]"
    users = f'"userAssignedIdentities": {{"{ref}": {{}}}}' if api == "2018-06-01" else f'"identityIds": ["{ref}"]'
    deps = ''', "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('identityName'))]"'''

    def template(kind: str) -> str:
        fragment = f'''"resources": [
     {{
         //other resource provider properties...
         "apiVersion": "{api}",
         "type": "Microsoft.Compute/virtualMachines",
         "name": "[variables('vmName')]",
         "location": "[resourceGroup().location]",
         "identity": {{
             "type": "{kind}",
             {users}
         }}
     }}
 ]'''
        return add_resources(add_resources(whole_template(vm_fragment(fragment, deps)), NETWORK), UAI_RESOURCE)

    assert state(az_deployer.deploy(rg, template("SystemAssigned,UserAssigned"), "both")) == "Succeeded"
    ident = get_vm(mimic, rg)["identity"]
    assert ident["type"] == "SystemAssigned, UserAssigned" and ident["principalId"]
    system = ident["principalId"]
    assert state(az_deployer.deploy(rg, template("UserAssigned"), "keep-user")) == "Succeeded"
    ident = get_vm(mimic, rg)["identity"]
    assert ident["type"] == "UserAssigned" and "principalId" not in ident and len(ident["userAssignedIdentities"]) == 1
    assert graph_sp(mimic, system) is None


# ==========================================================================================
# az vm create (CLI seeds 002/004)
# ==========================================================================================


def seed_az(server: MimicServer, tmp_path: Path) -> Az:
    cfg = tmp_path / "az-seed"
    cfg.mkdir()
    az = Az(server, cfg)
    az.setup_sp()
    return az


def check_vm_create_left(server: MimicServer, az: Az, *, system: bool, also: tuple[str, ...] = ()) -> dict:
    """What `az vm create` leaves in Azure: the VNet, NSG, public IP, NIC and the VM (az-cli.md §6)."""
    rg = "myResourceGroup"
    resources = az("resource", "list", "-g", rg)
    types = sorted(r["type"] for r in resources)
    assert types == sorted(["Microsoft.Compute/virtualMachines", "Microsoft.Network/networkInterfaces", "Microsoft.Network/networkSecurityGroups",
                            "Microsoft.Network/publicIPAddresses", "Microsoft.Network/virtualNetworks", *also]), types
    shown = az("vm", "show", "-g", rg, "-n", "myVM")
    assert shown["provisioningState"] == "Succeeded" and shown["osProfile"]["adminUsername"] == "azureuser"
    assert "adminPassword" not in shown["osProfile"]
    if system:
        assert shown["identity"]["type"] == "SystemAssigned" and shown["identity"]["principalId"]
        assert graph_sp(server, shown["identity"]["principalId"])["displayName"] == "myVM"
    # The deployment az made is in the group's history.
    (d,) = az("deployment", "group", "list", "-g", rg)
    assert d["name"].startswith("vm_deploy_")
    return shown


def test_cli_seed_vm_create_with_system_identity_and_role_on_the_resource_group(seed_server: MimicServer, tmp_path):
    """Seed 004's command verbatim (mySubscriptionId filled in)."""
    server = seed_server
    az = seed_az(server, tmp_path)
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    scope = f"/Subscriptions/{server.subscription_id}/resourceGroups/myResourceGroup"
    out = az("vm", "create", "--resource-group", "myResourceGroup", "--name", "myVM", "--image", "win2016datacenter", "--generate-ssh-keys",
             "--assign-identity", "--role", "contributor", "--scope", scope, "--admin-username", "azureuser", "--admin-password", "myPassword12",
             timeout=300)
    assert out["powerState"] == "VM running" and out["identity"]["role"] == "contributor"
    principal = out["identity"]["systemAssignedIdentity"]
    shown = check_vm_create_left(server, az, system=True)
    assert shown["identity"]["principalId"] == principal
    (a,) = assignments_for(server, rg_id(server, "myResourceGroup"), principal)
    assert a["properties"]["roleDefinitionId"].endswith(CONTRIBUTOR)
    assert a["properties"]["scope"].lower() == rg_id(server, "myResourceGroup").lower()
    # The image az asked for, found offline (alias Win2016Datacenter).
    assert shown["storageProfile"]["imageReference"]["sku"] == "2016-datacenter-gensecond"


def test_cli_seed_vm_create_with_role_on_the_subscription_fails_as_in_azure(seed_server: MimicServer, tmp_path):
    """Seed 002's command (mySubscription = the subscription's id). az's template puts the role
    assignment in the resource group with `properties.scope` = the subscription; Azure refuses
    that with InvalidCreateRoleAssignmentRequest (MicrosoftDocs/entra-docs PR #1442, the reason
    the newer seed uses the resource group). The VM and its identity are left, as Azure leaves
    them, and no role assignment."""
    server = seed_server
    az = seed_az(server, tmp_path)
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    sub = f"/subscriptions/{server.subscription_id}"
    res = az.run("vm", "create", "--resource-group", "myResourceGroup", "--name", "myVM", "--image", "win2016datacenter", "--generate-ssh-keys",
                 "--assign-identity", "--role", "contributor", "--scope", sub, "--admin-username", "azureuser", "--admin-password", "myPassword12",
                 check=False, timeout=300)
    assert res.returncode != 0
    assert "DeploymentFailed" in res.stderr and "InvalidCreateRoleAssignmentRequest" in res.stderr, res.stderr
    assert (f"Role assignment scope '{sub}' must match the scope specified on the URI "
            f"'{sub}/resourcegroups/myResourceGroup'.") in res.stderr, res.stderr
    shown = check_vm_create_left(server, az, system=True)
    assert assignments_for(server, sub, shown["identity"]["principalId"]) == []
    (d,) = az("deployment", "group", "list", "-g", "myResourceGroup")
    assert d["properties"]["provisioningState"] == "Failed"
    ops = az("deployment", "operation", "group", "list", "-g", "myResourceGroup", "-n", d["name"])
    failed = [o for o in ops if o["properties"]["provisioningState"] == "Failed"]
    assert [o["properties"]["targetResource"]["resourceType"] for o in failed] == ["Microsoft.Authorization/roleAssignments"]
    assert failed[0]["properties"]["statusMessage"]["error"]["code"] == "InvalidCreateRoleAssignmentRequest"


def test_cli_seed_vm_create_with_user_assigned_identity(seed_server: MimicServer, tmp_path):
    """Seed 002/004: `az vm create ... --assign-identity <USER ASSIGNED IDENTITY NAME> --role <ROLE>
    --scope <SUBSCRIPTION>`. With today's az (2.91) `--role/--scope` apply to the system identity
    only: the command as written stops in az itself ("usage error"), sending nothing; without them
    it creates the VM with the identity, and `[system]` plus the identity takes the role."""
    server = seed_server
    az = seed_az(server, tmp_path)
    az("group", "create", "--name", "myResourceGroup", "--location", "westus")
    identity = az("identity", "create", "-g", "myResourceGroup", "-n", "myUserAssignedIdentity")
    sub = f"/subscriptions/{server.subscription_id}"
    common = ["vm", "create", "--resource-group", "myResourceGroup", "--name", "myVM", "--image", "Ubuntu2204",
              "--admin-username", "azureuser", "--admin-password", "myPassword12!"]
    res = az.run(*common, "--assign-identity", "myUserAssignedIdentity", "--role", "reader", "--scope", sub, check=False)
    assert res.returncode != 0 and "usage error: '--scope'/'--role' is only applicable when assign system identity" in res.stderr, res.stderr

    out = az(*common, "--assign-identity", "myUserAssignedIdentity", timeout=300)
    assert out["identity"]["systemAssignedIdentity"] in (None, "")
    shown = check_vm_create_left(server, az, system=False, also=("Microsoft.ManagedIdentity/userAssignedIdentities",))
    assert shown["identity"]["type"] == "UserAssigned"
    ((key, value),) = shown["identity"]["userAssignedIdentities"].items()
    assert key.lower() == identity["id"].lower() and value["principalId"] == identity["principalId"]
    assert shown["storageProfile"]["imageReference"]["offer"] == "0001-com-ubuntu-server-jammy"

    rg_scope = f"{sub}/resourceGroups/myResourceGroup"
    out = az(*common, "--name", "myVM2", "--nsg", "", "--public-ip-address", "", "--assign-identity", "[system]", "myUserAssignedIdentity",
             "--role", "reader", "--scope", rg_scope, timeout=300)
    system = out["identity"]["systemAssignedIdentity"]
    assert system and len(out["identity"]["userAssignedIdentities"]) == 1
    (a,) = assignments_for(server, rg_scope, system)
    assert a["properties"]["roleDefinitionId"].endswith(READER)


def test_image_lookups_answered_offline(mimic: MimicServer, tmp_path):
    """The alias document (cloud metadata vmImageAliasDoc, no auth) and the image version calls."""
    doc = mimic.http.get(f"{mimic.arm_url}/mimic/vm-image-aliases", timeout=30)
    assert doc.status_code == 200
    aliases = doc.json()["outputs"]["aliases"]["value"]
    for alias in ("Ubuntu2204", "Ubuntu2404", "Debian11"):
        assert aliases["Linux"][alias]["version"] == "latest"
    for alias in ("Win2016Datacenter", "Win2019Datacenter", "Win2022Datacenter"):
        assert aliases["Windows"][alias]["publisher"] == "MicrosoftWindowsServer"
    meta = mimic.http.get(f"{mimic.arm_url}/metadata/endpoints", params={"api-version": "2022-09-01"}, timeout=30).json()
    assert meta["vmImageAliasDoc"] == f"{mimic.arm_url}/mimic/vm-image-aliases"

    base = f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Compute/locations/westus/publishers/Canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus/server/versions"
    r = mimic.arm("GET", base, api_version="2024-11-01", params={"$expand": "properties", "$orderby": "name desc", "$top": "1"})
    assert r.status_code == 200, r.text
    (latest,) = r.json()
    assert latest["location"] == "westus" and latest["id"].endswith(f"/Versions/{latest['name']}")
    one = get(mimic, f"{base}/{latest['name']}", "2024-11-01")
    assert one["properties"]["osDiskImage"]["operatingSystem"] == "Linux" and one["properties"]["hyperVGeneration"] == "V2"
    r = mimic.arm("GET", base.replace("ubuntu-24_04-lts", "no-such-offer"), api_version="2024-11-01")
    assert arm_error(r, 404, "NotFound")["message"] == "Artifact: VMImage was not found."

    cfg = tmp_path / "az-images"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    skus = az("vm", "image", "list-skus", "-l", "westus", "-p", "MicrosoftWindowsServer", "-f", "WindowsServer")
    assert "2016-datacenter-gensecond" in [s["name"] for s in skus]


# ==========================================================================================
# The engine: functions, uniqueness, loops, conditions, nesting
# ==========================================================================================


def test_unique_string_and_guid_agree_with_azure(mimic: MimicServer, deployer: Deployer):
    """uniqueString values Azure returned (KingslandConsulting/Kingsland.ArmLinter notes from real
    deployments; microsoft/commercial-marketplace-offer-deploy's test), and guid() as the
    name-based UUID of the '-'-joined arguments in ARM's namespace."""
    rg = new_rg(mimic, "tplhash")
    template = json.dumps({
        "$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [],
        "outputs": {
            "aaa": {"type": "string", "value": "[uniqueString('aaa')]"},
            "bbb": {"type": "string", "value": "[uniqueString('bbb')]"},
            "zzz": {"type": "string", "value": "[uniqueString('zzz')]"},
            "xyz": {"type": "string", "value": "[uniqueString('xxx', 'yyy', 'zzz')]"},
            "vmid": {"type": "string", "value": "[uniqueString('/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201')]"},
            "rg": {"type": "string", "value": "[uniqueString(resourceGroup().id)]"},
            "guid": {"type": "string", "value": "[guid(subscription().id, resourceGroup().name, 'x')]"},
        },
    })
    out = deploy_plain(deployer, rg, template, "hashes")
    o = {k: v["value"] for k, v in out["properties"]["outputs"].items()}
    assert (o["aaa"], o["bbb"], o["zzz"], o["xyz"]) == ("zavj67f3en4hc", "w5eragfxe33cy", "cryksdzzzawae", "lghi7k5js7itq")
    assert o["vmid"] == "yvjxno3je5on2"
    assert o["rg"] == unique_string(rg_id(mimic, rg))
    assert o["guid"] == arm_guid(f"/subscriptions/{mimic.subscription_id}", rg, "x")


def deploy_plain(deployer: Deployer, rg: str, template: str, name: str, parameters: dict | None = None, mode: str = "Incremental") -> dict:
    parameters = parameters or {}
    if deployer.client == "az":
        f = deployer.tmp / f"{name}.json"
        f.write_text(template)
        args = ["deployment", "group", "create", "-g", rg, "--template-file", str(f), "--mode", mode]
        if parameters:
            args += ["--parameters", *[f"{k}={v}" for k, v in parameters.items()]]
        return deployer.az(*args)
    poller = deployer.sdk.deployments.begin_create_or_update(rg, name, {"properties": {
        "mode": mode, "template": jsonc(template), "parameters": {k: {"value": v} for k, v in parameters.items()}}})
    return poller.result().as_dict()


def test_functions_loops_conditions_and_parameters(mimic: MimicServer, az_deployer: Deployer, tmp_path: Path):
    rg = new_rg(mimic, "tplfn")
    template = '''{
  "$schema": "%s",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "count": {"type": "int", "defaultValue": 2, "minValue": 1, "maxValue": 5},
    "prefix": {"type": "string", "allowedValues": ["id", "mi"]},
    "makeExtra": {"type": "bool", "defaultValue": false},
    "tags": {"type": "object", "defaultValue": {"env": "test"}}
  },
  "variables": {
    "names": "[createArray('a', 'b', 'c')]",
    "copy": [{"name": "doubled", "count": "[parameters('count')]", "input": "[mul(copyIndex('doubled'), 2)]"}]
  },
  "resources": [
    {
      "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
      "name": "[format('{0}-{1}', parameters('prefix'), variables('names')[copyIndex()])]",
      "location": "[resourceGroup().location]", "tags": "[parameters('tags')]",
      "copy": {"name": "identities", "count": "[parameters('count')]"}
    },
    {
      "condition": "[parameters('makeExtra')]",
      "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
      "name": "extra", "location": "westus"
    },
    {
      "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-01-01", "name": "nsg",
      "location": "westus", "dependsOn": ["identities"],
      "properties": {"copy": [{"name": "securityRules", "count": 2, "input": {
        "name": "[concat('rule', copyIndex('securityRules'))]",
        "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "access": "Allow", "direction": "Inbound",
                       "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
                       "destinationPortRange": "[string(add(22, copyIndex('securityRules')))]"}}}]}
    }
  ],
  "outputs": {
    "ids": {"type": "array", "copy": {"count": "[parameters('count')]", "input": "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', concat(parameters('prefix'), '-', variables('names')[copyIndex()])), '2023-01-31').principalId]"}},
    "doubled": {"type": "array", "value": "[variables('doubled')]"},
    "escaped": {"type": "string", "value": "[[not an expression]"},
    "logic": {"type": "bool", "value": "[and(equals(length(variables('names')), 3), not(empty(parameters('tags'))), or(false(), contains(variables('names'), 'b')))]"},
    "strings": {"type": "string", "value": "[concat(toUpper(substring('hello', 0, 1)), replace('xello', 'x', ''), '-', string(union(createObject('a', 1), createObject('b', true()))), '-', last(split('a/b/c', '/')))]"},
    "ifs": {"type": "string", "value": "[if(greater(parameters('count'), 1), 'many', 'one')]"},
    "rgName": {"type": "string", "value": "[resourceGroup().name]"},
    "skipped": {"type": "bool", "value": "[parameters('makeExtra')]"}
  }
}''' % SCHEMA
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
                                  "contentVersion": "1.0.0.0", "parameters": {"prefix": {"value": "mi"}}}))
    f = tmp_path / "fn.json"
    f.write_text(template)
    out = az_deployer.az("deployment", "group", "create", "-g", rg, "--template-file", str(f), "--parameters", f"@{params}", "count=3")
    o = {k: v["value"] for k, v in out["properties"]["outputs"].items()}
    names = sorted(r["name"] for r in az_deployer.az("identity", "list", "-g", rg))
    assert names == ["mi-a", "mi-b", "mi-c"], "copy loop of 3, the condition=false resource skipped"
    ids = {r["name"]: r["principalId"] for r in az_deployer.az("identity", "list", "-g", rg)}
    assert o["ids"] == [ids["mi-a"], ids["mi-b"], ids["mi-c"]]
    assert o["doubled"] == [0, 2, 4]
    assert o["escaped"] == "[not an expression]"
    assert o["logic"] is True
    assert o["strings"] == 'Hello-{"a":1,"b":true}-c'
    assert (o["ifs"], o["rgName"], o["skipped"]) == ("many", rg, False)
    assert uai(mimic, rg, "mi-a")["tags"] == {"env": "test"}
    nsg = get(mimic, f"{rg_id(mimic, rg)}/providers/Microsoft.Network/networkSecurityGroups/nsg", "2022-01-01")
    assert [r["properties"]["destinationPortRange"] for r in nsg["properties"]["securityRules"]] == ["22", "23"]
    assert out["properties"]["parameters"]["count"] == {"type": "Int", "value": 3}
    assert out["properties"]["parameters"]["tags"]["value"] == {"env": "test"}

    # Parameter checks are Azure's (validation, before anything is written).
    res = az_deployer.az.run("deployment", "group", "create", "-g", rg, "--template-file", str(f), "--parameters", "prefix=zz", check=False)
    assert res.returncode != 0 and "InvalidTemplate" in res.stderr
    assert "The provided value for the template parameter 'prefix' is not valid. The value 'zz' is not part of the allowed value(s): 'id,mi'." in res.stderr


def test_nested_inline_deployments_and_subscription_scope(mimic: MimicServer, tmp_path: Path, client_ca):
    """`az deployment sub create`: a resource group and a nested deployment into it (inner and
    outer expression scope), outputs passed back with reference()."""
    cfg = tmp_path / "az-sub"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    rg = unique("tplsub")
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"rgName": {"type": "string"}, "idName": {"type": "string", "defaultValue": "nestedId"}},
        "variables": {"outerVar": "[concat(parameters('idName'), '-outer')]"},
        "resources": [
            {"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2021-04-01", "name": "[parameters('rgName')]", "location": "westus"},
            {
                "type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "innerDeploy",
                "resourceGroup": "[parameters('rgName')]",
                "dependsOn": ["[resourceId('Microsoft.Resources/resourceGroups', parameters('rgName'))]"],
                "properties": {
                    "mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"name": {"value": "[parameters('idName')]"}},
                    "template": {
                        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
                        "parameters": {"name": {"type": "string"}},
                        "resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
                                       "name": "[parameters('name')]", "location": "[resourceGroup().location]"}],
                        "outputs": {"principalId": {"type": "string", "value": "[reference(parameters('name')).principalId]"}},
                    },
                },
            },
            {
                "type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "outerDeploy",
                "resourceGroup": "[parameters('rgName')]",
                "dependsOn": ["innerDeploy"],
                "properties": {
                    "mode": "Incremental",
                    "template": {
                        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
                        "resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
                                       "name": "[variables('outerVar')]", "location": "westus"}],
                    },
                },
            },
        ],
        "outputs": {"fromInner": {"type": "string", "value": "[reference('innerDeploy').outputs.principalId.value]"}},
    }
    f = tmp_path / "sub.json"
    f.write_text(json.dumps(template, indent=2))
    out = az("deployment", "sub", "create", "--location", "westus", "--template-file", str(f), "--parameters", f"rgName={rg}")
    assert out["properties"]["provisioningState"] == "Succeeded" and out["location"] == "westus"
    ident = uai(mimic, rg, "nestedId")
    assert out["properties"]["outputs"]["fromInner"]["value"] == ident["properties"]["principalId"]
    assert uai(mimic, rg, "nestedId-outer")["name"] == "nestedId-outer", "outer scope sees the parent's variables"
    nested = az("deployment", "group", "show", "-g", rg, "-n", "innerDeploy")
    assert nested["properties"]["outputs"]["principalId"]["value"] == ident["properties"]["principalId"]
    assert [d["name"] for d in az("deployment", "sub", "list") if d["name"] == "sub"] == ["sub"]


def test_complete_mode_deletes_what_the_template_does_not_declare(mimic: MimicServer, az_deployer: Deployer):
    rg = new_rg(mimic, "tplcomplete")
    keep = json.dumps({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "keep", "location": "westus"}]})
    r = mimic.arm("PUT", f"{rg_id(mimic, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/extra", api_version="2023-01-31",
                  json={"location": "westus"})
    assert r.status_code == 201, r.text
    deploy_plain(az_deployer, rg, keep, "incremental")
    assert sorted(i["name"] for i in az_deployer.az("identity", "list", "-g", rg)) == ["extra", "keep"], "incremental keeps the rest"
    deploy_plain(az_deployer, rg, keep, "complete", mode="Complete")
    assert [i["name"] for i in az_deployer.az("identity", "list", "-g", rg)] == ["keep"]


def test_validate_what_if_show_list_export_operations_delete(mimic: MimicServer, az_deployer: Deployer, tmp_path: Path):
    rg = new_rg(mimic, "tplops")
    az = az_deployer.az
    template = json.dumps({"$schema": SCHEMA, "contentVersion": "1.0.0.0",
                           "parameters": {"n": {"type": "string"}, "secret": {"type": "securestring", "defaultValue": "s3cret!"}},
                           "resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
                                          "name": "[parameters('n')]", "location": "westus"}],
                           "outputs": {"n": {"type": "string", "value": "[parameters('n')]"}}})
    f = tmp_path / "ops.json"
    f.write_text(template)
    v = az("deployment", "group", "validate", "-g", rg, "--template-file", str(f), "--parameters", "n=one")
    assert v["properties"]["provisioningState"] == "Succeeded"
    assert [r["id"] for r in v["properties"]["validatedResources"]] == [f"{rg_id(mimic, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/one"]
    assert az("identity", "list", "-g", rg) == [], "validate writes nothing"

    wi = az("deployment", "group", "what-if", "-g", rg, "--template-file", str(f), "--parameters", "n=one", "--no-pretty-print")
    assert [(c["changeType"], c["resourceId"].rsplit("/", 1)[1]) for c in wi["changes"]] == [("Create", "one")]

    out = az("deployment", "group", "create", "-g", rg, "-n", "opsDeploy", "--template-file", str(f), "--parameters", "n=one")
    assert out["properties"]["outputs"]["n"]["value"] == "one"
    assert out["properties"]["parameters"]["secret"] == {"type": "SecureString"}, "secure values are never returned"
    shown = az("deployment", "group", "show", "-g", rg, "-n", "opsDeploy")
    assert shown["id"] == f"{rg_id(mimic, rg)}/providers/Microsoft.Resources/deployments/opsDeploy"
    assert shown["properties"]["provisioningState"] == "Succeeded" and shown["properties"]["mode"] == "Incremental"
    assert [d["name"] for d in az("deployment", "group", "list", "-g", rg)] == ["opsDeploy"]
    exported = az("deployment", "group", "export", "-g", rg, "-n", "opsDeploy")
    assert exported["resources"][0]["name"] == "[parameters('n')]"
    ops = az("deployment", "operation", "group", "list", "-g", rg, "-n", "opsDeploy")
    created = [o for o in ops if o["properties"].get("targetResource")]
    assert [(o["properties"]["provisioningOperation"], o["properties"]["provisioningState"], o["properties"]["targetResource"]["resourceName"]) for o in created] == [("Create", "Succeeded", "one")]

    wi = az("deployment", "group", "what-if", "-g", rg, "--template-file", str(f), "--parameters", "n=one", "--no-pretty-print")
    assert [c["changeType"] for c in wi["changes"]] == ["NoChange"]

    az("deployment", "group", "delete", "-g", rg, "-n", "opsDeploy")
    assert az("deployment", "group", "list", "-g", rg) == []
    assert [i["name"] for i in az("identity", "list", "-g", rg)] == ["one"], "deleting a deployment keeps its resources"


# ==========================================================================================
# Bad templates and failures get Azure's answers
# ==========================================================================================


def az_style_body(template_text: str, parameters: dict | None = None) -> bytes:
    """What az sends for --template-file: not JSON, an unquoted `template:` and the file as is
    (az-cli.md §6, azure/cli/command_modules/resource/custom.py JsonCTemplatePolicy)."""
    params = json.dumps(parameters or {})
    return f'{{"properties": {{"parameters": {params}, "mode": "Incremental", template:{template_text}}}}}'.encode()


def put_raw(mimic: MimicServer, rg: str, name: str, body: bytes, action: str = ""):
    return mimic.arm("PUT" if not action else "POST", deployment_id(mimic, rg, name) + action, api_version=DEPLOY_API, data=body,
                     headers={"Content-Type": "application/json"})


def test_syntax_error_is_invalid_template_with_line_and_position(mimic: MimicServer):
    rg = new_rg(mimic, "tplsyntax")
    text = '''{
  "$schema": "%s",
  // comment
  "contentVersion": "1.0.0.0",
  "variables": {"a": "b"}
  "resources": []
}''' % SCHEMA
    for action in ("/validate", ""):
        err = arm_error(put_raw(mimic, rg, "syntax", az_style_body(text), action), 400, "InvalidTemplate")
        # learn.microsoft.com deploy-cli: "Deployment template parse failed: 'After parsing a value an
        # unexpected character was encountered: \". Path 'variables', line 31, position 3.'."
        assert err["message"] == ("Deployment template parse failed: 'After parsing a value an unexpected character was encountered: \". "
                                  "Path 'variables', line 6, position 3.'.")


def test_az_style_body_with_comments_is_accepted(mimic: MimicServer):
    rg = new_rg(mimic, "tplraw")
    text = '{\n  // c\n  "$schema": "%s", /* c */ "contentVersion": "1.0.0.0",\n  "resources": [],\n  "outputs": {"x": {"type": "int", "value": 3,},},\n}' % SCHEMA
    r = put_raw(mimic, rg, "raw", az_style_body(text))
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["provisioningState"] == "Accepted"
    status = mimic.http.get(r.headers["Azure-AsyncOperation"], headers={"Authorization": f"Bearer {mimic.sp_token()}"}, timeout=30).json()
    assert status == {"status": "Succeeded"}
    assert get(mimic, deployment_id(mimic, rg, "raw"), DEPLOY_API)["properties"]["outputs"] == {"x": {"type": "Int", "value": 3}}


def test_unknown_function_and_type_errors(mimic: MimicServer):
    rg = new_rg(mimic, "tplbadfn")

    def template(name_expr: str, output: str = "'ok'") -> str:
        return json.dumps({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
            {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": name_expr, "location": "westus"}],
            "outputs": {"out": {"type": "string", "value": f"[{output}]"}}}, indent=2)

    err = arm_error(put_raw(mimic, rg, "badfn", az_style_body(template("[noSuchFunction('x')]")), "/validate"), 400, "InvalidTemplate")
    assert err["message"].startswith("Deployment template validation failed: 'The template resource '[noSuchFunction('x')]' at line '")
    assert "is not valid: The template function 'noSuchFunction' is not valid. Please see https://aka.ms/arm-functions for usage details." in err["message"]
    (info,) = err["additionalInfo"]
    assert info["type"] == "TemplateViolation" and info["info"]["path"] == "properties.template.resources[0]"
    assert info["info"]["lineNumber"] > 1 and info["info"]["linePosition"] > 0

    err = arm_error(put_raw(mimic, rg, "badtype", az_style_body(template("[toLower(1)]"))), 400, "InvalidTemplate")
    assert ("The template language function 'toLower' expects its parameter to be of type 'String'. The provided value is of type 'Integer'."
            in err["message"]), err
    assert mimic.arm("GET", deployment_id(mimic, rg, "badtype"), api_version=DEPLOY_API).status_code == 404, "refused before it started"

    # Outputs are evaluated after the resources: DeploymentOutputEvaluationFailed (Kingsland notes).
    r = put_raw(mimic, rg, "badout", az_style_body(template("fine", "base64(1)")))
    assert r.status_code == 201, r.text
    d = get(mimic, deployment_id(mimic, rg, "badout"), DEPLOY_API)["properties"]
    assert d["provisioningState"] == "Failed"
    assert d["error"]["code"] == "DeploymentOutputEvaluationFailed"
    assert d["error"]["message"].startswith("Unable to evaluate template outputs: 'out'.")
    assert d["error"]["details"][0]["message"] == (
        "The template output 'out' is not valid: The template language function 'base64' expects its parameter to be of type 'String'. "
        "The provided value is of type 'Integer'. Please see https://aka.ms/arm-template-expressions for usage details..")
    assert uai(mimic, rg, "fine")["name"] == "fine", "the resources were deployed"


def test_dependency_cycle_and_missing_dependency(mimic: MimicServer, az_deployer: Deployer, tmp_path: Path):
    rg = new_rg(mimic, "tplcycle")
    ident = "Microsoft.ManagedIdentity/userAssignedIdentities"
    template = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": ident, "apiVersion": "2023-01-31", "name": "a", "location": "westus", "dependsOn": ["[resourceId('%s', 'b')]" % ident]},
        {"type": ident, "apiVersion": "2023-01-31", "name": "b", "location": "westus", "dependsOn": ["a"]}]}
    f = tmp_path / "cycle.json"
    f.write_text(json.dumps(template))
    res = az_deployer.az.run("deployment", "group", "create", "-g", rg, "--template-file", str(f), check=False)
    assert res.returncode != 0 and "InvalidTemplate" in res.stderr
    assert f"Deployment template validation failed: 'Circular dependency detected on resource: '{rg_id(mimic, rg)}/providers/{ident}/" in res.stderr
    template["resources"][1]["dependsOn"] = ["nothere"]
    template["resources"][0]["dependsOn"] = []
    f.write_text(json.dumps(template))
    res = az_deployer.az.run("deployment", "group", "create", "-g", rg, "--template-file", str(f), check=False)
    assert "The resource 'nothere' is not defined in the template." in res.stderr, res.stderr
    assert az_deployer.az("identity", "list", "-g", rg) == []


def test_failed_deployment_keeps_what_was_deployed(mimic: MimicServer, deployer: Deployer):
    """DeploymentFailed with the provider's error as inner error; what deployed before (and what
    did not depend on the failure) stays, what depends on it is not attempted."""
    rg = new_rg(mimic, "tplfail")
    ident = "Microsoft.ManagedIdentity/userAssignedIdentities"
    bad_principal = str(uuid.uuid4())
    template = json.dumps({"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": ident, "apiVersion": "2023-01-31", "name": "first", "location": "westus"},
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01", "name": "[guid('bad')]",
         "dependsOn": ["first"],
         "properties": {"roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{READER}')]",
                        "principalId": bad_principal}},
        {"type": ident, "apiVersion": "2023-01-31", "name": "after", "location": "westus", "dependsOn": ["[guid('bad')]"]},
        {"type": ident, "apiVersion": "2023-01-31", "name": "independent", "location": "westus"}]})
    name = f"fail-{deployer.client}"
    if deployer.client == "az":
        f = deployer.tmp / "fail.json"
        f.write_text(template)
        res = deployer.az.run("deployment", "group", "create", "-g", rg, "-n", name, "--template-file", str(f), check=False)
        assert res.returncode != 0 and '"code":"DeploymentFailed"' in res.stderr and "PrincipalNotFound" in res.stderr, res.stderr
    else:
        from azure.core.exceptions import HttpResponseError
        with pytest.raises(HttpResponseError) as e:
            deploy_plain(deployer, rg, template, name)
        assert "DeploymentFailed" in str(e.value)
    d = get(mimic, deployment_id(mimic, rg, name), DEPLOY_API)["properties"]
    assert d["provisioningState"] == "Failed"
    assert d["error"]["code"] == "DeploymentFailed"
    assert d["error"]["message"] == ("At least one resource deployment operation failed. Please list deployment operations for details. "
                                     "Please see https://aka.ms/arm-deployment-operations for usage details.")
    assert [x["code"] for x in d["error"]["details"]] == ["PrincipalNotFound"]
    names = sorted(i["name"] for i in deployer_list_identities(mimic, rg))
    assert names == ["first", "independent"]
    ops = get(mimic, deployment_id(mimic, rg, name) + "/operations", DEPLOY_API)["value"]
    by_name = {o["properties"]["targetResource"]["resourceName"]: o["properties"] for o in ops if "targetResource" in o["properties"]}
    assert by_name["first"]["provisioningState"] == "Succeeded" and by_name["independent"]["provisioningState"] == "Succeeded"
    assert by_name[arm_guid("bad")]["provisioningState"] == "Failed" and by_name[arm_guid("bad")]["statusCode"] == "BadRequest"
    assert "after" not in by_name, "what depends on the failure is not attempted"


def deployer_list_identities(mimic: MimicServer, rg: str) -> list[dict]:
    r = mimic.arm("GET", f"{rg_id(mimic, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", api_version="2023-01-31")
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_template_link_is_refused_without_network(mimic: MimicServer):
    rg = new_rg(mimic, "tpllink")
    body = {"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/azuredeploy.json"}}}
    err = arm_error(mimic.arm("PUT", deployment_id(mimic, rg, "link"), api_version=DEPLOY_API, json=body), 400, "InvalidContentLink")
    assert err["message"].startswith("Unable to download deployment content from 'https://example.com/azuredeploy.json'.")


def test_a_deployment_can_do_only_what_its_caller_may_do(mimic: MimicServer, tmp_path: Path):
    """Preflight: the caller's write permission on every resource (InvalidTemplateDeployment
    "Authorization failed for template resource ..."); and each resource goes through the same
    RBAC as a direct call (a Reader may not even start a deployment)."""
    rg = new_rg(mimic, "tplrbac")
    p = mimic.mimic_cli("admin", "sp", "create", "--name", unique("deployer"), "--output", "json")
    if p.returncode != 0 and "unrecognized subcommand" in p.stderr:
        pytest.skip("this mimic has no `mimic admin sp create` yet")
    assert p.returncode == 0, p.stderr
    principal = json.loads(p.stdout)
    tok = mimic.client_credentials(client_id=principal["appId"], secret=principal["secret"]).json()["access_token"]

    template = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "mine", "location": "westus"},
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01", "name": "[guid('r')]",
         "properties": {"roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{READER}')]",
                        "principalId": principal["objectId"]}}]}
    path = deployment_id(mimic, rg, "rbac")
    r = mimic.arm("PUT", path, token=tok, api_version=DEPLOY_API, json={"properties": {"mode": "Incremental", "template": template}})
    err = arm_error(r, 403, "AuthorizationFailed")
    assert "'Microsoft.Resources/deployments/write'" in err["message"]

    assign_role(mimic, principal["objectId"], CONTRIBUTOR, rg_id(mimic, rg))  # may deploy and write identities, not role assignments
    r = mimic.arm("PUT", path, token=tok, api_version=DEPLOY_API, json={"properties": {"mode": "Incremental", "template": template}})
    err = arm_error(r, 400, "InvalidTemplateDeployment")
    oid = principal["objectId"]
    assert err["message"] == (
        f"The template deployment failed with error: 'Authorization failed for template resource '{arm_guid('r')}' of type "
        f"'Microsoft.Authorization/roleAssignments'. The client '{oid}' with object id '{oid}' does not have permission to perform action "
        f"'Microsoft.Authorization/roleAssignments/write' at scope '{rg_id(mimic, rg)}/providers/Microsoft.Authorization/roleAssignments/{arm_guid('r')}'.'.")
    assert deployer_list_identities(mimic, rg) == [], "nothing is written when preflight fails"
    template["resources"].pop()
    r = mimic.arm("PUT", path, token=tok, api_version=DEPLOY_API, json={"properties": {"mode": "Incremental", "template": template}})
    assert r.status_code == 201, r.text
    assert [i["name"] for i in deployer_list_identities(mimic, rg)] == ["mine"]


def test_validation_refuses_a_nested_deployment_into_a_missing_group(mimic: MimicServer, az_deployer: Deployer, tmp_path: Path):
    """A group deployment whose nested deployment targets another resource group: Azure's
    validation answers ResourceGroupNotFound when that group does not exist, and accepts it once
    it does."""
    rg = new_rg(mimic, "tplcross")
    other = unique("tplcross-missing")
    template = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [{
        "type": "Microsoft.Resources/deployments", "apiVersion": "2021-04-01", "name": "intoOther", "resourceGroup": other,
        "properties": {"mode": "Incremental", "template": {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": [
            {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "crossId", "location": "westus"}]}}}]}
    f = tmp_path / "cross.json"
    f.write_text(json.dumps(template))
    res = az_deployer.az.run("deployment", "group", "validate", "-g", rg, "--template-file", str(f), check=False)
    assert res.returncode != 0 and "ResourceGroupNotFound" in res.stderr, res.stderr
    mimic.create_rg(other)
    az_deployer.az("deployment", "group", "validate", "-g", rg, "--template-file", str(f))
    out = az_deployer.az("deployment", "group", "create", "-g", rg, "--template-file", str(f))
    assert out["properties"]["provisioningState"] == "Succeeded"
