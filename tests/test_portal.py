"""The portal seeds (000, 001, 003: "Configure managed identities on a VM using the Azure portal")
followed step by step in headless Chromium (Debian's, driven by playwright-core from
tests/portal/portal_flow.mjs), each checked against `az vm identity show` on the same VM; and the
portal path of "give the VM access" on a key vault (its Access control (IAM) blade assigns Key
Vault Secrets User to the VM's identity picked by name), checked against ARM and by the VM reading
a secret.

Screenshots of every blade state are written to artifacts/portal/ (not committed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import uuid
from pathlib import Path

import pytest

from mimic_harness import AUTHZ_API, REPO_ROOT, MimicServer, assign_role, make_uai, make_vm, unique

PORTAL_DIR = Path(__file__).resolve().parent / "portal"
CHROMIUM = os.environ.get("MIMIC_CHROMIUM", "/usr/bin/chromium")
SHOTS = REPO_ROOT / "artifacts" / "portal"

pytestmark = pytest.mark.skipif(
    not (PORTAL_DIR / "node_modules" / "playwright-core").exists() or not Path(CHROMIUM).exists() or not shutil.which("node"),
    reason="Chromium or playwright-core not installed (scripts/test-setup.sh)",
)


def spki_pins(mimic: MimicServer) -> list[str]:
    """SHA-256 of the server certificates' public keys, for Chromium's
    --ignore-certificate-errors-spki-list: Mimic's certificate is trusted, nothing else is."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pins = set()
    for surface in ("portal", "login"):
        host, port = mimic.endpoints[surface].split("//")[1].split(":")
        ctx = ssl.create_default_context(cafile=str(mimic.ca_path))  # verified against ca.pem first
        with socket.create_connection((host, int(port)), timeout=10) as s, ctx.wrap_socket(s, server_hostname=host) as t:
            der = t.getpeercert(binary_form=True)
        spki = x509.load_der_x509_certificate(der).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        pins.add(base64.b64encode(hashlib.sha256(spki).digest()).decode())
    return sorted(pins)


def portal(mimic: MimicServer, action: str, *, user: tuple[str, str] | None = None, **kw) -> dict:
    username, password = user or (mimic.admin["userName"], mimic.admin["password"])
    args = {"portal": mimic.portal_url, "username": username, "password": password, "action": action,
            "shots": str(SHOTS), "spki": spki_pins(mimic), **kw}
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"))}
    p = subprocess.run(["node", "portal_flow.mjs", json.dumps(args)], capture_output=True, text=True, timeout=180,
                       cwd=PORTAL_DIR, env=env)
    assert p.returncode == 0, f"portal {action} failed (see {SHOTS}/{action}-failure.png):\n{p.stderr}\n{p.stdout}"
    return json.loads(p.stdout.strip().splitlines()[-1])


def identity_show(az_sp, rg: str, vm: str) -> dict:
    return az_sp("vm", "identity", "show", "-g", rg, "-n", vm) or {}


def test_seed_enable_then_disable_system_assigned_on_existing_vm(mimic: MimicServer, az_sp):
    """Seeds 000/001/003: Identity > System assigned > Status On > Save (Yes), then Off > Save."""
    rg = unique("portalsys")
    mimic.create_rg(rg)
    make_vm(mimic, rg, "vmPortal", linux=True)
    assert identity_show(az_sp, rg, "vmPortal") == {}

    shown = portal(mimic, "enable_system", rg=rg, vm="vmPortal")
    ident = identity_show(az_sp, rg, "vmPortal")
    assert ident["type"] == "SystemAssigned"
    assert shown["principalId"] == ident["principalId"] and shown["objectIdLabel"]
    assert not shown["readOnlyNote"]  # the admin (Owner) may change it

    shown = portal(mimic, "disable_system", rg=rg, vm="vmPortal")
    assert shown == {"status": "Off", "principalShown": False}
    assert identity_show(az_sp, rg, "vmPortal") == {}


def test_seed_add_then_remove_user_assigned_on_existing_vm(mimic: MimicServer, az_sp):
    """Seeds: Identity > User assigned > +Add, pick the identity (from another resource group), Add;
    then select it, Remove, Yes."""
    rg, other = unique("portaluai"), unique("portalids")
    mimic.create_rg(rg)
    mimic.create_rg(other)
    make_vm(mimic, rg, "vmUser", linux=True)
    name = unique("id")
    uai = make_uai(mimic, other, name)

    shown = portal(mimic, "add_user", rg=rg, vm="vmUser", identity=name)
    ident = identity_show(az_sp, rg, "vmUser")
    assert ident["type"] == "UserAssigned"
    assigned = {k.lower(): v for k, v in ident["userAssignedIdentities"].items()}
    assert list(assigned) == [uai["id"].lower()]
    assert assigned[uai["id"].lower()]["principalId"] == uai["properties"]["principalId"]
    assert shown["userAssigned"] == [name]

    shown = portal(mimic, "remove_user", rg=rg, vm="vmUser", identity=name)
    assert shown["userAssigned"] == []
    assert identity_show(az_sp, rg, "vmUser") == {}


def test_seed_enable_system_assigned_during_vm_creation(mimic: MimicServer, az_sp):
    """Seed 003: create a VM, Management tab, Identity: Enable system assigned managed identity."""
    rg = unique("portalnew")
    mimic.create_rg(rg)
    shown = portal(mimic, "create_vm", rg=rg, vm="vmCreated")
    ident = identity_show(az_sp, rg, "vmCreated")
    assert ident["type"] == "SystemAssigned"
    assert shown == {"status": "On", "principalId": ident["principalId"]}


def test_reader_cannot_save_and_sees_authorization_failed(mimic: MimicServer, az_sp):
    """A user with only Reader sees the blade but Save fails with ARM's AuthorizationFailed text
    (docs/azure-behaviour.md §3), shown as the notification, and nothing changes."""
    rg = unique("portalread")
    mimic.create_rg(rg)
    vm_id = make_vm(mimic, rg, "vmRead", linux=True)["id"]
    upn_name, password = unique("reader"), "Reader-" + uuid.uuid4().hex[:12] + "!A1"
    p = mimic.mimic_cli("admin", "user", "create", "--name", upn_name, "--password", password, "--output", "json")
    assert p.returncode == 0, p.stderr
    user = json.loads(p.stdout)
    az_sp("role", "assignment", "create", "--assignee", user["userPrincipalName"], "--role", "Reader",
          "--scope", f"/subscriptions/{mimic.subscription_id}")

    shown = portal(mimic, "reader_save", rg=rg, vm="vmRead", user=(user["userPrincipalName"], password))
    assert (f"The client '{user['userPrincipalName']}' with object id '{user['objectId']}' does not have authorization to perform "
            f"action 'Microsoft.Compute/virtualMachines/write' over scope '{vm_id}' or the scope is invalid.") in shown["error"]
    assert shown["readOnlyNote"]  # the blade says it is read-only before the attempt
    assert not shown["principalShown"]
    assert identity_show(az_sp, rg, "vmRead") == {}


SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"  # Key Vault Secrets User
SECRETS_OFFICER_ROLE = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"  # Key Vault Secrets Officer


def test_key_vault_iam_gives_a_vms_identity_secrets_user_by_name(mimic: MimicServer):
    """Key vaults > the vault > Access control (IAM) > + Add > Add role assignment: Key Vault
    Secrets User, Assign access to: Managed identity, Virtual machine, the VM by name (the Azure
    portal's Members tab); the assignment is the VM's principal at the vault's scope, and the VM
    then reads a secret under `mimic vm run`."""
    import requests

    from test_keyvault_secrets import read_on_vm

    rg = unique("portalkv")
    mimic.create_rg(rg)
    vm_name = unique("vmkv")
    principal = make_vm(mimic, rg, vm_name, {"type": "SystemAssigned"}, linux=True, read_back=True)["identity"]["principalId"]
    vault = unique("pkv")[:20]
    vault_id = f"{mimic.rg_path(rg)}/providers/Microsoft.KeyVault/vaults/{vault}"
    r = mimic.arm("PUT", vault_id, api_version="2023-07-01", json={"location": "westus", "properties": {
        "tenantId": mimic.tenant_id, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": True}})
    assert r.status_code == 200, r.text
    vault_id = r.json()["id"]

    shown = portal(mimic, "vault_access", vault=vault, vm=vm_name, role="Key Vault Secrets User")
    essentials = shown["essentials"]
    assert essentials["Vault URI"] == f"https://{vault}.vault.azure.net/"
    assert essentials["Permission model"] == "Azure role-based access control"
    assert essentials["Resource group"] == rg and essentials["Location"] == "westus"
    assert essentials["Directory ID"] == mimic.tenant_id
    assert {"role": "Key Vault Secrets User", "principal": principal, "type": "ServicePrincipal", "scope": "This resource"} in shown["assignments"]

    r = mimic.arm("GET", f"{vault_id}/providers/Microsoft.Authorization/roleAssignments", api_version=AUTHZ_API,
                  params={"$filter": f"principalId eq '{principal}'"})
    assert r.status_code == 200, r.text
    [a] = r.json()["value"]
    assert a["properties"]["scope"].lower() == vault_id.lower()
    assert a["properties"]["roleDefinitionId"].endswith(f"/roleDefinitions/{SECRETS_USER_ROLE}")
    assert a["properties"]["principalType"] == "ServicePrincipal"

    # A secret set by the bootstrap principal (given Secrets Officer), read on the VM with its identity.
    assign_role(mimic, mimic.sp["objectId"], SECRETS_OFFICER_ROLE, vault_id)
    s = requests.Session()
    s.trust_env, s.proxies, s.verify = False, {"https": mimic.proxy_url}, str(mimic.ca_path)
    r = s.put(f"https://{vault}.vault.azure.net/secrets/db-password?api-version=7.5", json={"value": "from-the-portal"},
              headers={"Authorization": f"Bearer {mimic.sp_token('https://vault.azure.net/.default')}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert read_on_vm(mimic, f"{rg}/{vm_name}", f"https://{vault}.vault.azure.net/") == {"value": "from-the-portal"}


def test_sign_out_button_ends_the_session(mimic: MimicServer):
    """The portal's "Sign out" is a button that POSTs /signout with the portal's CSRF header (a
    GET no longer signs anyone out); afterwards the portal shows its landing page."""
    assert portal(mimic, "sign_out")["signedOut"]


# ---- The protocol under the sign-in, over raw HTTP (RFC 6749 §4.1, RFC 7636) ----------------------

PORTAL_APP = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"  # the Azure portal's first-party app id


def authorize(mimic: MimicServer, **params):
    from urllib.parse import parse_qs, urlsplit

    verifier = base64.urlsafe_b64encode(os.urandom(48)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = {"client_id": PORTAL_APP, "response_type": "code", "redirect_uri": mimic.portal_url + "/signin-oidc",
         "scope": "https://management.core.windows.net//user_impersonation openid offline_access", "state": "st8",
         "nonce": "n0nce", "code_challenge": challenge, "code_challenge_method": "S256", **params}
    url = f"{mimic.login_url}/organizations/oauth2/v2.0/authorize"
    page = mimic.http.get(url, params=q, allow_redirects=False)
    if page.status_code != 200:
        return page, None, verifier
    r = mimic.http.post(url, data={**q, "login": mimic.admin["userName"], "passwd": mimic.admin["password"]}, allow_redirects=False)
    assert r.status_code == 302, r.text
    back = parse_qs(urlsplit(r.headers["Location"]).query)
    assert back["state"] == ["st8"]
    return r, back["code"][0], verifier


def redeem(mimic: MimicServer, code: str, verifier: str, redirect: str | None = None):
    return mimic.token_request({"client_id": PORTAL_APP, "grant_type": "authorization_code", "code": code,
                                "redirect_uri": redirect or mimic.portal_url + "/signin-oidc", "code_verifier": verifier,
                                "scope": "https://management.core.windows.net//user_impersonation openid offline_access"},
                               tenant="organizations")


def test_authorization_code_with_pkce_is_single_use_and_checks_verifier_and_redirect(mimic: MimicServer):
    _, code, verifier = authorize(mimic)
    bad = redeem(mimic, code, "x" * 64)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    _, code, verifier = authorize(mimic)
    assert redeem(mimic, code, verifier, redirect="https://127.0.0.1:1/elsewhere").json()["error"] == "invalid_grant"
    _, code, verifier = authorize(mimic)
    ok = redeem(mimic, code, verifier)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    from mimic_harness import jwt_parts
    assert jwt_parts(body["id_token"])[1]["nonce"] == "n0nce"
    assert jwt_parts(body["access_token"])[1]["appid"] == PORTAL_APP
    assert body["refresh_token"]
    again = redeem(mimic, code, verifier)  # a code is single use
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_authorize_errors_never_redirect_to_an_unregistered_uri(mimic: MimicServer):
    r, _, _ = authorize(mimic, redirect_uri="https://attacker.example/cb")
    assert r.status_code == 400 and "Location" not in r.headers and "AADSTS50011" in r.text
    r, _, _ = authorize(mimic, client_id=str(uuid.uuid4()))
    assert r.status_code == 400 and "Location" not in r.headers and "AADSTS700016" in r.text
    r, _, _ = authorize(mimic, response_type="token")
    assert r.status_code == 302 and "error=unsupported_response_type" in r.headers["Location"] and "state=st8" in r.headers["Location"]
    r, _, _ = authorize(mimic, code_challenge=None, code_challenge_method=None)
    assert r.status_code == 302 and "error=invalid_request" in r.headers["Location"]


def test_portal_api_needs_a_session_and_cookies_are_httponly_secure_samesite(mimic: MimicServer):
    r = mimic.http.get(mimic.portal_url + f"/api/arm/subscriptions?api-version=2022-12-01")
    assert r.status_code == 401
    r = mimic.http.get(mimic.portal_url + "/signin", allow_redirects=False)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    r = mimic.http.put(mimic.portal_url + "/api/arm" + mimic.rg_path("nope") + "?api-version=2021-04-01",
                       json={"location": "westus"}, cookies={"mimic_portal_session": "forged"})
    assert r.status_code == 401
