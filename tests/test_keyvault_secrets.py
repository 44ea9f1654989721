"""The workload uses its identity on Key Vault: code on a VM, under `mimic vm run`, reads a secret
with azure-keyvault-secrets and DefaultAzureCredential (no credential anywhere), refused with
403 ForbiddenByRbac until the VM's identity holds Key Vault Secrets User on the vault and again
after the assignment is deleted; the same with an access-policy vault. The vault and its
secrets are driven by az 2.91 with the default AzureCloud through Mimic's proxy
(`az keyvault create`, `az role assignment create --role "Key Vault Secrets User"`,
`az keyvault secret set/show/list/delete/recover/purge`, `az keyvault set-policy`). The same read in
JavaScript (@azure/keyvault-secrets with @azure/identity, tests/js/keyvault_read_secret.mjs).

Tokens Key Vault refuses (none, ARM's audience, an altered signature, another tenant's) are sent
with plain requests through the proxy.

Key Vault's behaviour (the challenge, `ForbiddenByRbac`/`AccessDenied`, soft delete) is in
docs/azure-behaviour.md §13-14.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from mimic_harness import ARM_SCOPE, JS_DIR, MimicServer, js_clients_installed, jwt_parts, make_uai, make_vm, unique
from test_imds import py_workload, vm_run
from test_proxy import ProxiedAz
from test_tenants import Tenant, create_tenant

SECRETS_USER = "Key Vault Secrets User"
SECRETS_OFFICER = "Key Vault Secrets Officer"
KV_SCOPE = "https://vault.azure.net/.default"
KV_ARM_API = "2024-11-01"

READ_SECRET = """
import json, sys
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from azure.core.exceptions import HttpResponseError
cred = ManagedIdentityCredential(client_id=sys.argv[2]) if len(sys.argv) > 2 else DefaultAzureCredential()
try:
    print(json.dumps({"value": SecretClient(sys.argv[1], cred).get_secret("db-password").value}))
except HttpResponseError as e:
    print(json.dumps({"status": e.status_code, "code": e.error.code if e.error else None,
                      "inner": (e.error.innererror or {}).get("code") if e.error else None}))
"""


@pytest.fixture
def paz(mimic: MimicServer, tmp_path) -> ProxiedAz:
    config = tmp_path / "azure-config"
    config.mkdir()
    az = ProxiedAz(mimic, config)
    az("login", "--service-principal", "-u", mimic.sp["clientId"], "-p", mimic.sp["clientSecret"], "--tenant", mimic.tenant_id)
    return az


def read_on_vm(mimic: MimicServer, vm: str, vault_url: str, client_id: str | None = None) -> dict:
    args = [vault_url] + ([client_id] if client_id else [])
    p = vm_run(mimic, vm, *py_workload(READ_SECRET), *args)
    assert p.returncode == 0, p.stderr + p.stdout
    return json.loads(p.stdout.strip().splitlines()[-1])


def js_read_on_vm(mimic: MimicServer, vm: str, vault_url: str, client_id: str | None = None) -> dict:
    """tests/js/keyvault_read_secret.mjs under `mimic vm run`: only what the VM gives a workload
    (its IMDS, HTTPS_PROXY/NO_PROXY, NODE_EXTRA_CA_CERTS), no credential and no endpoint setting."""
    args = [vault_url, "db-password"] + ([client_id] if client_id else [])
    p = vm_run(mimic, vm, "node", str(JS_DIR / "keyvault_read_secret.mjs"), *args)
    assert p.returncode == 0, p.stderr + p.stdout
    return json.loads(p.stdout.strip().splitlines()[-1])


def sp_object_id(mimic: MimicServer, paz: ProxiedAz) -> str:
    return paz("ad", "sp", "show", "--id", mimic.sp["clientId"])["id"]


def test_vm_identity_reads_a_secret_only_while_it_holds_secrets_user(mimic: MimicServer, paz: ProxiedAz):
    rg = unique("kvvm")
    name = unique("kv")[:20]
    paz("group", "create", "-n", rg, "-l", "westus")
    uai = make_uai(mimic, rg, "kvuai")
    vm = make_vm(mimic, rg, "kvvm", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai["id"]: {}}},
                 linux=True, read_back=True)
    vault = paz("keyvault", "create", "-g", rg, "-n", name, "-l", "westus", "--enable-rbac-authorization", "true")
    url = vault["properties"]["vaultUri"]
    assert url == f"https://{name}.vault.azure.net/"
    # The subscription's Owner has no data access until it holds a data role.
    paz("role", "assignment", "create", "--role", SECRETS_OFFICER, "--assignee-object-id", sp_object_id(mimic, paz),
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    paz("keyvault", "secret", "set", "--vault-name", name, "--name", "db-password", "--value", "s3cret")
    assert paz("keyvault", "secret", "show", "--vault-name", name, "--name", "db-password")["value"] == "s3cret"

    where = f"{rg}/kvvm"
    assert read_on_vm(mimic, where, url) == {"status": 403, "code": "Forbidden", "inner": "ForbiddenByRbac"}
    system = vm["identity"]["principalId"]
    assignment = paz("role", "assignment", "create", "--role", SECRETS_USER, "--assignee-object-id", system,
                     "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    assert read_on_vm(mimic, where, url) == {"value": "s3cret"}
    # The user-assigned identity, chosen by client id, is its own principal: refused until granted.
    client_id = uai["properties"]["clientId"]
    assert read_on_vm(mimic, where, url, client_id)["inner"] == "ForbiddenByRbac"
    paz("role", "assignment", "create", "--role", SECRETS_USER, "--assignee-object-id", uai["properties"]["principalId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", f"{vault['id']}/secrets/db-password")
    assert read_on_vm(mimic, where, url, client_id) == {"value": "s3cret"}

    paz("role", "assignment", "delete", "--ids", assignment["id"])
    assert read_on_vm(mimic, where, url) == {"status": 403, "code": "Forbidden", "inner": "ForbiddenByRbac"}


def test_access_policy_vault_and_the_secret_lifecycle(mimic: MimicServer, paz: ProxiedAz):
    rg = unique("kvpol")
    name = unique("kvp")[:20]
    paz("group", "create", "-n", rg, "-l", "westus")
    vm = make_vm(mimic, rg, "polvm", {"type": "SystemAssigned"}, linux=True, read_back=True)
    vault = paz("keyvault", "create", "-g", rg, "-n", name, "-l", "westus", "--enable-rbac-authorization", "false")
    url = vault["properties"]["vaultUri"]
    # az's create gives its own caller every permission by access policy.
    paz("keyvault", "secret", "set", "--vault-name", name, "--name", "db-password", "--value", "v1")
    paz("keyvault", "secret", "set", "--vault-name", name, "--name", "db-password", "--value", "v2")
    versions = paz("keyvault", "secret", "list-versions", "--vault-name", name, "--name", "db-password")
    assert len(versions) == 2
    assert [s["name"] for s in paz("keyvault", "secret", "list", "--vault-name", name)] == ["db-password"]

    assert read_on_vm(mimic, f"{rg}/polvm", url) == {"status": 403, "code": "Forbidden", "inner": "AccessDenied"}
    paz("keyvault", "set-policy", "-n", name, "--object-id", vm["identity"]["principalId"], "--secret-permissions", "get")
    assert read_on_vm(mimic, f"{rg}/polvm", url) == {"value": "v2"}
    paz("keyvault", "delete-policy", "-n", name, "--object-id", vm["identity"]["principalId"])
    assert read_on_vm(mimic, f"{rg}/polvm", url)["inner"] == "AccessDenied"

    # Soft delete, recover, delete again, purge.
    paz("keyvault", "secret", "delete", "--vault-name", name, "--name", "db-password")
    deleted = paz("keyvault", "secret", "list-deleted", "--vault-name", name)
    assert [d["name"] for d in deleted] == ["db-password"]
    paz("keyvault", "secret", "recover", "--vault-name", name, "--name", "db-password")
    for _ in range(50):
        shown = paz.run("keyvault", "secret", "show", "--vault-name", name, "--name", "db-password", check=False)
        if shown.returncode == 0:
            break
        time.sleep(0.2)
    assert json.loads(shown.stdout)["value"] == "v2"
    paz("keyvault", "secret", "delete", "--vault-name", name, "--name", "db-password")
    for _ in range(50):
        if paz.run("keyvault", "secret", "show-deleted", "--vault-name", name, "--name", "db-password", check=False).returncode == 0:
            break
        time.sleep(0.2)
    paz("keyvault", "secret", "purge", "--vault-name", name, "--name", "db-password")
    assert paz("keyvault", "secret", "list-deleted", "--vault-name", name) == []


@pytest.mark.skipif(not js_clients_installed(), reason="node packages not installed (scripts/test-setup.sh)")
def test_javascript_workload_reads_a_secret_only_while_it_holds_secrets_user(mimic: MimicServer, paz: ProxiedAz):
    """The issue's JavaScript route: `SecretClient(vaultUrl, new DefaultAzureCredential()).getSecret(...)`
    (and `ManagedIdentityCredential({clientId})`) on an RBAC vault, refused with 403
    ForbiddenByRbac until Key Vault Secrets User is assigned on the vault (docs/azure-behaviour.md §14)."""
    rg = unique("kvjs")
    name = unique("kvjs")[:20]
    paz("group", "create", "-n", rg, "-l", "westus")
    uai = make_uai(mimic, rg, "jsuai")
    vm = make_vm(mimic, rg, "jsvm", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai["id"]: {}}},
                 linux=True, read_back=True)
    vault = paz("keyvault", "create", "-g", rg, "-n", name, "-l", "westus", "--enable-rbac-authorization", "true")
    url = vault["properties"]["vaultUri"]
    paz("role", "assignment", "create", "--role", SECRETS_OFFICER, "--assignee-object-id", sp_object_id(mimic, paz),
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    paz("keyvault", "secret", "set", "--vault-name", name, "--name", "db-password", "--value", "js-s3cret")

    where = f"{rg}/jsvm"
    assert js_read_on_vm(mimic, where, url) == {"status": 403, "code": "Forbidden", "inner": "ForbiddenByRbac"}
    paz("role", "assignment", "create", "--role", SECRETS_USER, "--assignee-object-id", vm["identity"]["principalId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    assert js_read_on_vm(mimic, where, url) == {"value": "js-s3cret"}
    # The user-assigned identity by client id is another principal, with no role on the vault yet.
    client_id = uai["properties"]["clientId"]
    assert js_read_on_vm(mimic, where, url, client_id) == {"status": 403, "code": "Forbidden", "inner": "ForbiddenByRbac"}
    paz("role", "assignment", "create", "--role", SECRETS_USER, "--assignee-object-id", uai["properties"]["principalId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    assert js_read_on_vm(mimic, where, url, client_id) == {"value": "js-s3cret"}


def proxied(mimic: MimicServer) -> requests.Session:
    """requests as a shell after `mimic env`: Azure's host names through the proxy, Mimic's CA trusted."""
    s = requests.Session()
    s.trust_env = False
    s.proxies = {"https": mimic.proxy_url}
    s.verify = str(mimic.ca_path)
    return s


def refused(r: requests.Response, tenant: str) -> str:
    """Key Vault's 401: `{"error": {"code": "Unauthorized", "message"}}` and the bearer challenge
    naming the vault's tenant and Key Vault's resource (docs/azure-behaviour.md §14); returns the message."""
    assert r.status_code == 401, f"{r.status_code} {r.text}"
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == "Unauthorized", r.text
    challenge = r.headers.get("WWW-Authenticate", "")
    m = re.fullmatch(r'Bearer authorization="([^"]+)", resource="([^"]+)"', challenge)
    assert m, challenge
    assert m.group(1) == f"https://login.microsoftonline.com/{tenant}", challenge
    assert m.group(2) == "https://vault.azure.net", challenge
    return body["error"]["message"]


def test_data_plane_refuses_wrong_tokens_with_401_and_the_vaults_challenge(mimic: MimicServer):
    """No token, a token of ARM's audience, one whose signature was altered, and a token of Key
    Vault's audience from another tenant: each 401 Unauthorized with the challenge for the
    vault's own tenant (docs/azure-behaviour.md §14; AKV10000, AKV10022, AKV10032)."""
    rg = unique("kvtok")
    mimic.create_rg(rg)
    name = unique("kvtok")[:20]
    r = mimic.arm("PUT", f"{mimic.rg_path(rg)}/providers/Microsoft.KeyVault/vaults/{name}", api_version=KV_ARM_API,
                  json={"location": "westus", "properties": {"tenantId": mimic.tenant_id, "sku": {"family": "A", "name": "standard"},
                                                             "enableRbacAuthorization": True}})
    assert r.status_code == 200, r.text
    url = f"https://{name}.vault.azure.net/secrets/db-password?api-version=7.5"
    s = proxied(mimic)
    get = lambda token: s.get(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=30)  # noqa: E731

    assert refused(get(None), mimic.tenant_id) == "AKV10000: Request is missing a Bearer or PoP token."

    arm_token = mimic.sp_token(ARM_SCOPE)
    aud = jwt_parts(arm_token)[1]["aud"]
    assert aud.rstrip("/") == "https://management.azure.com"
    assert refused(get(arm_token), mimic.tenant_id).startswith(f"AKV10022: Invalid audience. Expected https://vault.azure.net, found: {aud}")

    kv_token = mimic.sp_token(KV_SCOPE)
    head, payload, sig = kv_token.split(".")
    i = len(sig) // 2  # a character in the middle: every bit of it is signature (the last one may be padding)
    altered = f"{head}.{payload}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1:]}"
    refused(get(altered), mimic.tenant_id)

    other = Tenant(mimic, create_tenant(mimic, "--name", "Fabrikam"))
    other_token = other.token(KV_SCOPE)
    claims = jwt_parts(other_token)[1]
    assert claims["tid"] == other.b["tenantId"] != mimic.tenant_id and claims["aud"].rstrip("/") == "https://vault.azure.net"
    assert refused(get(other_token), mimic.tenant_id).startswith("AKV10032: Invalid issuer.")

    # The same principal's untouched token gets past authentication: it is refused by RBAC instead.
    r = get(kv_token)
    assert r.status_code == 403 and r.json()["error"]["innererror"]["code"] == "ForbiddenByRbac", r.text
