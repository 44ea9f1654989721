"""IMDS and workloads on VMs: code on a VM gets its identity's tokens from IMDS with no
credentials anywhere, through `mimic vm run`, and those tokens work against Mimic's ARM with RBAC
on the identity's principalId. Azure's behaviour: docs/azure-behaviour.md §5-6, §11.5."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mimic_harness import (
    READER,
    REPO_ROOT,
    VM_API,
    MimicServer,
    assign_role,
    jwt_parts,
    make_uai,
    make_vm,
    rg_id,
    unique,
)

VENV_PY = str(REPO_ROOT / ".venv" / "bin" / "python")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def vm_run(mimic: MimicServer, vm: str, *command: str, env: dict | None = None, timeout: float = 120,
           credentials: Path | None = None) -> subprocess.CompletedProcess:
    """`mimic vm run`, as the bootstrap principal or the one in a `credentials` file."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    full_env.update(env or {})
    acting = ["--credentials", str(credentials)] if credentials else []
    return subprocess.run([str(mimic.binary), "vm", "run", "--data-dir", str(mimic.data_dir), *acting, vm, "--", *command],
                          capture_output=True, text=True, timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)


def vm_imds(mimic: MimicServer, vm: str) -> str:
    p = mimic.mimic_cli("vm", "env", vm, "--output", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["imds"]


def py_workload(code: str) -> list[str]:
    return [VENV_PY, "-c", code]


@pytest.fixture(scope="module")
def world(mimic: MimicServer):
    """Two VMs: A with system-assigned + one user-assigned identity, B with its own UAI."""
    rg = unique("imds")
    mimic.create_rg(rg)
    uai_a = make_uai(mimic, rg, "uaiA")
    uai_b = make_uai(mimic, rg, "uaiB")
    vm_a = make_vm(mimic, rg, "vmA", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_a["id"]: {}}},
                   linux=True, read_back=True)
    vm_b = make_vm(mimic, rg, "vmB", {"type": "UserAssigned", "userAssignedIdentities": {uai_b["id"]: {}}}, linux=True, read_back=True)
    return {"rg": rg, "uai_a": uai_a, "uai_b": uai_b, "vm_a": vm_a, "vm_b": vm_b}


def imds_get(mimic: MimicServer, base: str, path: str, headers: dict | None = None, method: str = "GET"):
    return mimic.http.request(method, base + path, headers=headers if headers is not None else {"Metadata": "true"}, timeout=10)


def test_imds_token_for_system_assigned_has_azure_claims(mimic, world):
    base = vm_imds(mimic, f"{world['rg']}/vmA")
    r = imds_get(mimic, base, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
    assert r.status_code == 200, r.text
    body = r.json()
    for k in ("access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"):
        assert isinstance(body[k], str), k  # IMDS renders every value as a string
    assert body["resource"] == "https://management.azure.com/" and body["token_type"] == "Bearer"
    _, claims, _ = jwt_parts(body["access_token"])
    principal = world["vm_a"]["identity"]["principalId"]
    assert claims["oid"] == principal and claims["sub"] == principal
    assert claims["aud"] == "https://management.azure.com/"
    assert claims["iss"] == f"https://sts.windows.net/{mimic.tenant_id}/"
    assert claims["idtyp"] == "app" and claims["tid"] == mimic.tenant_id and claims["appid"] == body["client_id"]
    assert "/resourcegroups/" in claims["xms_mirid"] and claims["xms_mirid"].endswith("/virtualMachines/vmA")
    # A second request is served from IMDS's cache: the very same token.
    again = imds_get(mimic, base, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/").json()
    assert again["access_token"] == body["access_token"]


def test_imds_user_assigned_selectors(mimic, world):
    base = vm_imds(mimic, f"{world['rg']}/vmA")
    uai = world["uai_a"]
    q = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"
    for sel in (f"&client_id={uai['properties']['clientId']}", f"&object_id={uai['properties']['principalId']}",
                f"&msi_res_id={uai['id']}", f"&mi_res_id={uai['id']}"):
        r = imds_get(mimic, base, q + sel)
        assert r.status_code == 200, (sel, r.text)
        _, claims, _ = jwt_parts(r.json()["access_token"])
        assert claims["oid"] == uai["properties"]["principalId"], sel
        assert claims["xms_mirid"].lower() == uai["id"].lower()


def test_imds_errors_as_azure(mimic, world):
    base = vm_imds(mimic, f"{world['rg']}/vmA")
    q = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"
    r = imds_get(mimic, base, q, headers={})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert r.json()["error_description"] == "Required metadata header not specified"
    r = imds_get(mimic, base, "/metadata/identity/oauth2/token?api-version=2018-02-01")
    assert r.status_code == 400 and r.json()["error_description"] == "Required audience parameter not specified"
    r = imds_get(mimic, base, q, method="POST")
    assert r.status_code == 405
    r = imds_get(mimic, base, q, headers={"Metadata": "true", "X-Forwarded-For": "10.0.0.1"})
    assert r.status_code == 400
    # VM A asking for VM B's identity: Azure's "Identity not found".
    r = imds_get(mimic, base, q + f"&client_id={world['uai_b']['properties']['clientId']}")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "Identity not found"}


def test_imds_instance_metadata(mimic, world):
    base = vm_imds(mimic, f"{world['rg']}/vmB")
    r = imds_get(mimic, base, "/metadata/instance")
    assert r.status_code == 400 and "api-version was not specified" in r.json()["error"]
    r = imds_get(mimic, base, "/metadata/instance?api-version=2021-02-01")
    assert r.status_code == 200, r.text
    compute = r.json()["compute"]
    assert compute["name"] == "vmB" and compute["resourceGroupName"] == world["rg"]
    assert compute["subscriptionId"] == mimic.subscription_id and compute["location"] == "westus"
    assert compute["resourceId"].lower() == world["vm_b"]["id"].lower()
    assert compute["vmSize"] == "Standard_B1s" and compute["osType"] == "Linux"


def test_unmodified_azure_identity_in_vm_run(mimic, world):
    """ManagedIdentityCredential (system, client_id, resource id) and DefaultAzureCredential,
    unmodified, inside `mimic vm run`: no credentials in the code."""
    uai = world["uai_a"]
    code = f"""
import json, jwt
from azure.identity import ManagedIdentityCredential, DefaultAzureCredential
scope = "https://management.azure.com/.default"
out = {{}}
out["system"] = jwt.decode(ManagedIdentityCredential().get_token(scope).token, options={{"verify_signature": False}})["oid"]
out["client"] = jwt.decode(ManagedIdentityCredential(client_id="{uai['properties']['clientId']}").get_token(scope).token, options={{"verify_signature": False}})["oid"]
out["resource"] = jwt.decode(ManagedIdentityCredential(identity_config={{"resource_id": "{uai['id']}"}}).get_token(scope).token, options={{"verify_signature": False}})["oid"]
out["default"] = jwt.decode(DefaultAzureCredential().get_token(scope).token, options={{"verify_signature": False}})["oid"]
print(json.dumps(out))
"""
    p = vm_run(mimic, f"{world['rg']}/vmA", *py_workload(code))
    assert p.returncode == 0, p.stderr + p.stdout
    got = json.loads(p.stdout.strip().splitlines()[-1])
    sa = world["vm_a"]["identity"]["principalId"]
    assert got == {"system": sa, "client": uai["properties"]["principalId"], "resource": uai["properties"]["principalId"], "default": sa}


@pytest.mark.skipif(not IS_ROOT, reason="the 169.254.169.254 namespace needs root (Linux)")
def test_curl_hardcoded_imds_address_in_vm_run(mimic, world):
    """Azure's documented curl, verbatim, inside `mimic vm run`."""
    p = vm_run(mimic, f"{world['rg']}/vmA", "curl", "-s", "-H", "Metadata:true",
               "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    _, claims, _ = jwt_parts(body["access_token"])
    assert claims["oid"] == world["vm_a"]["identity"]["principalId"]


def test_vm_identity_rbac_end_to_end(mimic, world):
    """A VM identity with Reader on a resource group lists it and gets 403 writing; after the
    assignment is deleted a fresh token is refused; after system-assigned is disabled, IMDS
    answers as Azure does for a missing identity."""
    rg = unique("mirbac")
    mimic.create_rg(rg)
    vm = make_vm(mimic, rg, "vmR", {"type": "SystemAssigned"}, linux=True, read_back=True)
    principal = vm["identity"]["principalId"]
    rg_scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    assignment = assign_role(mimic, principal, READER, rg_scope)
    code = f"""
import json, sys
from azure.identity import ManagedIdentityCredential
from azure.mgmt.resource import ResourceManagementClient
from azure.core.exceptions import HttpResponseError
import os
cred = ManagedIdentityCredential()
client = ResourceManagementClient(cred, "{mimic.subscription_id}", base_url=os.environ["MIMIC_ARM_URL"], credential_scopes=["https://management.azure.com/.default"])
out = {{"read": client.resource_groups.get("{rg}").name}}
try:
    client.resource_groups.create_or_update("{rg}-new", {{"location": "westus"}})
    out["write"] = "allowed"
except HttpResponseError as e:
    out["write"] = e.error.code
print(json.dumps(out))
"""
    p = vm_run(mimic, f"{rg}/vmR", *py_workload(code))
    assert p.returncode == 0, p.stderr + p.stdout
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {"read": rg, "write": "AuthorizationFailed"}

    r = mimic.arm("DELETE", assignment, api_version="2022-04-01")
    assert r.status_code == 200, r.text
    base = vm_imds(mimic, f"{rg}/vmR")
    fresh = imds_get(mimic, base, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&bypass_cache=true").json()["access_token"]
    r = mimic.arm("GET", rg_scope, api_version="2021-04-01", token=fresh)
    assert r.status_code == 403 and r.json()["error"]["code"] == "AuthorizationFailed"

    r = mimic.arm("PATCH", vm["id"], api_version=VM_API, json={"identity": {"type": "None"}})
    assert r.status_code == 200, r.text
    r = imds_get(mimic, base, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
    assert r.status_code == 400 and r.json()["error_description"] == "Identity not found"


def test_az_login_identity_in_vm_run(mimic, world, tmp_path):
    """`az login --identity` (system, --client-id, --resource-id) then `az group list`."""
    rg = world["rg"]
    assign_role(mimic, world["vm_a"]["identity"]["principalId"], READER, rg_id(mimic, rg), exists_ok=True)
    assign_role(mimic, world["uai_a"]["properties"]["principalId"], READER, rg_id(mimic, rg), exists_ok=True)
    config = tmp_path / "az"
    config.mkdir()
    env = {"AZURE_CONFIG_DIR": str(config), "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_NO_COLOR": "1"}
    az = str(REPO_ROOT / ".venv" / "bin" / "az")

    def run(*args):
        p = vm_run(mimic, f"{rg}/vmA", az, *args, "--output", "json", env=env)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else None

    run("cloud", "register", "--name", "Mimic", "--endpoint-resource-manager", mimic.arm_url)
    run("cloud", "set", "--name", "Mimic")
    for extra in ([], ["--client-id", world["uai_a"]["properties"]["clientId"]], ["--resource-id", world["uai_a"]["id"]]):
        accounts = run("login", "--identity", *extra)
        assert accounts[0]["id"] == mimic.subscription_id and accounts[0]["tenantId"] == mimic.tenant_id
        groups = run("group", "list")
        assert [g["name"] for g in groups] == [rg]


JS_DIR = REPO_ROOT / "tests" / "js"


@pytest.mark.skipif(not (JS_DIR / "node_modules" / "@azure" / "identity").exists(), reason="node packages not installed (scripts/test-setup.sh)")
def test_javascript_managed_identity_in_vm_run(mimic, world):
    """@azure/identity ManagedIdentityCredential (system and clientId) and
    DefaultAzureCredential, unmodified, inside `mimic vm run`; the token then lists resource
    groups through @azure/arm-resources."""
    rg = world["rg"]
    assign_role(mimic, world["vm_a"]["identity"]["principalId"], READER, rg_id(mimic, rg), exists_ok=True)
    uai = world["uai_a"]
    script = JS_DIR / "mi_workload.mjs"
    script.write_text(f"""
import {{ ManagedIdentityCredential, DefaultAzureCredential }} from "@azure/identity";
import {{ ResourceManagementClient }} from "@azure/arm-resources";
const scope = "https://management.azure.com/.default";
const oid = (t) => JSON.parse(Buffer.from(t.token.split(".")[1], "base64url").toString()).oid;
const out = {{}};
out.system = oid(await new ManagedIdentityCredential().getToken(scope));
out.client = oid(await new ManagedIdentityCredential({{ clientId: "{uai['properties']['clientId']}" }}).getToken(scope));
out.default = oid(await new DefaultAzureCredential().getToken(scope));
const client = new ResourceManagementClient(new ManagedIdentityCredential(), "{mimic.subscription_id}",
  {{ endpoint: process.env.MIMIC_ARM_URL, credentialScopes: [scope] }});
out.groups = [];
for await (const g of client.resourceGroups.list()) out.groups.push(g.name);
console.log(JSON.stringify(out));
""")
    p = vm_run(mimic, f"{rg}/vmA", "node", str(script))
    assert p.returncode == 0, p.stderr + p.stdout
    got = json.loads(p.stdout.strip().splitlines()[-1])
    sa = world["vm_a"]["identity"]["principalId"]
    assert got == {"system": sa, "client": uai["properties"]["principalId"], "default": sa, "groups": [rg]}
