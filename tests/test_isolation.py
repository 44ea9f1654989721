"""Isolation: nothing Azure keeps closed is open, one VM's IMDS never yields
another VM's token, and secrets are never logged or echoed.

* Every ARM route (each `Endpoint` variant of crates/mimic-server/src/arm/core/endpoint.rs, checked below so
  a new route cannot be forgotten) without a token is 401, except the two documents Azure serves
  to anyone; with a valid token of a principal holding no role it is 403 AuthorizationFailed,
  except what Azure shows every authenticated caller (its own tenants, the subscriptions it can
  see, the tenant-level provider catalogue, built-in role definitions, its own permissions).
* Graph without a token is 401 InvalidAuthenticationToken; an application without a directory
  role cannot write the directory (Authorization_RequestDenied).
* IMDS: each VM's listener serves that VM's identities only.
* Secrets (client secrets, user passwords, a VM's adminPassword) never reach the log or a
  later response.

"One tenant never sees another's objects" is tests/test_tenants.py's, with a second tenant.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from mimic_harness import (
    AUTHZ_API,
    GRAPH_SCOPE,
    MSI_API,
    NET_API,
    READER,
    RG_API,
    VM_API,
    MimicServer,
    jwt_parts,
    make_uai,
    make_vm,
    unique,
)
from test_imds import vm_imds

DEPLOY_API = "2021-04-01"
ROUTE_RS = Path(__file__).resolve().parent.parent / "crates" / "mimic-server" / "src" / "arm" / "core" / "endpoint.rs"

OPEN_TO_ALL = "open"  # no token needed (Azure serves these to anyone)
AUTHENTICATED = "authenticated"  # any valid token; the answer shows only the caller's own
CLOSED = "closed"  # 403 AuthorizationFailed without a role


def arm_routes(sub: str, rg: str) -> list[tuple[str, str, str, str, str, dict | None]]:
    """(Route variant, method, path, api-version, expectation for a principal without roles, body)."""
    rgp = f"/subscriptions/{sub}/resourceGroups/{rg}"
    vm = f"{rgp}/providers/Microsoft.Compute/virtualMachines/vm1"
    uai = f"{rgp}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1"
    ra = f"{rgp}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    role = {"properties": {"roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                           "principalId": str(uuid.uuid4()), "principalType": "ServicePrincipal"}}
    loc = {"location": "westus"}
    return [
        # Azure: the cloud metadata document and the image alias document are public.
        ("MetadataEndpoints", "GET", "/metadata/endpoints", "2022-09-01", OPEN_TO_ALL, None),
        ("MimicVmImageAliases", "GET", "/mimic/vm-image-aliases", "2022-09-01", OPEN_TO_ALL, None),
        ("MimicVmImds", "POST", "/mimic/vm-imds", "2022-09-01", CLOSED, {"vmId": vm}),
        # Tenants_List and Subscriptions_List show the caller's own, so any token reads them.
        ("Tenants", "GET", "/tenants", RG_API, AUTHENTICATED, None),
        ("Subscriptions", "GET", "/subscriptions", RG_API, AUTHENTICATED, None),
        ("Subscription", "GET", f"/subscriptions/{sub}", RG_API, CLOSED, None),
        ("Locations", "GET", f"/subscriptions/{sub}/locations", RG_API, CLOSED, None),
        # Providers_ListAtTenantScope: the catalogue, readable by any authenticated caller;
        # at subscription scope it needs Microsoft.Resources/subscriptions/providers/read
        # (hashicorp/terraform-provider-azurerm#2678).
        ("Providers", "GET", "/providers", RG_API, AUTHENTICATED, None),
        ("Provider", "GET", "/providers/Microsoft.Compute", RG_API, AUTHENTICATED, None),
        ("Providers", "GET", f"/subscriptions/{sub}/providers", RG_API, CLOSED, None),
        ("Provider", "GET", f"/subscriptions/{sub}/providers/Microsoft.Compute", RG_API, CLOSED, None),
        ("Register", "POST", f"/subscriptions/{sub}/providers/Microsoft.Compute/register", RG_API, CLOSED, None),
        ("ResourceGroups", "GET", f"/subscriptions/{sub}/resourcegroups", RG_API, CLOSED, None),
        ("ResourceGroup", "GET", rgp, RG_API, CLOSED, None),
        ("ResourceGroup", "HEAD", rgp, RG_API, CLOSED, None),
        ("ResourceGroup", "PUT", rgp, RG_API, CLOSED, loc),
        ("ResourceGroup", "PATCH", rgp, RG_API, CLOSED, {"tags": {"a": "b"}}),
        ("ResourceGroup", "DELETE", rgp, RG_API, CLOSED, None),
        ("Resources", "GET", f"/subscriptions/{sub}/resources", RG_API, CLOSED, None),
        ("Resources", "GET", f"{rgp}/resources", RG_API, CLOSED, None),
        # Built-in role definitions at the root scope are the public catalogue; the caller's own
        # effective permissions are what Permissions_ListForResourceGroup is for.
        ("RoleDefinitions", "GET", "/providers/Microsoft.Authorization/roleDefinitions", AUTHZ_API, AUTHENTICATED, None),
        ("RoleDefinitions", "GET", f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions", AUTHZ_API, CLOSED, None),
        ("RoleDefinition", "GET", f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}", AUTHZ_API, CLOSED, None),
        ("RoleAssignments", "GET", f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments", AUTHZ_API, CLOSED, None),
        ("RoleAssignment", "GET", ra, AUTHZ_API, CLOSED, None),
        ("RoleAssignment", "PUT", ra, AUTHZ_API, CLOSED, role),
        ("RoleAssignment", "DELETE", ra, AUTHZ_API, CLOSED, None),
        ("Permissions", "GET", f"{rgp}/providers/Microsoft.Authorization/permissions", AUTHZ_API, AUTHENTICATED, None),
        ("Locks", "GET", f"{rgp}/providers/Microsoft.Authorization/locks", "2016-09-01", CLOSED, None),
        ("Lock", "GET", f"{rgp}/providers/Microsoft.Authorization/locks/l1", "2016-09-01", CLOSED, None),
        ("Lock", "PUT", f"{rgp}/providers/Microsoft.Authorization/locks/l1", "2016-09-01", CLOSED, {"properties": {"level": "ReadOnly"}}),
        ("Lock", "DELETE", f"{rgp}/providers/Microsoft.Authorization/locks/l1", "2016-09-01", CLOSED, None),
        ("Tags", "GET", f"{rgp}/providers/Microsoft.Resources/tags/default", RG_API, CLOSED, None),
        ("Tags", "PUT", f"{rgp}/providers/Microsoft.Resources/tags/default", RG_API, CLOSED, {"properties": {"tags": {"a": "b"}}}),
        ("Tags", "DELETE", f"/subscriptions/{sub}/providers/Microsoft.Resources/tags/default", RG_API, CLOSED, None),
        ("TagNames", "GET", f"/subscriptions/{sub}/tagNames", RG_API, CLOSED, None),
        ("TagName", "PUT", f"/subscriptions/{sub}/tagNames/iso", RG_API, CLOSED, None),
        ("TagValue", "PUT", f"/subscriptions/{sub}/tagNames/iso/tagValues/v", RG_API, CLOSED, None),
        ("ExportTemplate", "POST", f"{rgp}/exportTemplate", RG_API, CLOSED, {"resources": ["*"]}),
        ("MoveResources", "POST", f"{rgp}/moveResources", RG_API, CLOSED,
         {"resources": [f"{rgp}/providers/Microsoft.Network/networkSecurityGroups/x"], "targetResourceGroup": rgp}),
        ("MoveResources", "POST", f"{rgp}/validateMoveResources", RG_API, CLOSED,
         {"resources": [f"{rgp}/providers/Microsoft.Network/networkSecurityGroups/x"], "targetResourceGroup": rgp}),
        ("ProviderOperations", "GET", "/providers/Microsoft.ManagedIdentity/operations", "2023-01-31", AUTHENTICATED, None),
        ("ResourceCollection", "GET", f"{rgp}/providers/Microsoft.Compute/virtualMachines", VM_API, CLOSED, None),
        ("ResourceCollection", "GET", f"/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", MSI_API, CLOSED, None),
        ("ResourceCollection", "GET", f"{rgp}/providers/Microsoft.Network/virtualNetworks", NET_API, CLOSED, None),
        ("ResourceCollection", "GET", f"{rgp}/providers/Microsoft.Resources/deployments", DEPLOY_API, CLOSED, None),
        ("Resource", "GET", vm, VM_API, CLOSED, None),
        ("Resource", "PUT", vm, VM_API, CLOSED, loc),
        ("Resource", "PATCH", vm, VM_API, CLOSED, {"tags": {}}),
        ("Resource", "DELETE", vm, VM_API, CLOSED, None),
        ("Resource", "GET", uai, MSI_API, CLOSED, None),
        ("Resource", "PUT", uai, MSI_API, CLOSED, loc),
        ("Resource", "DELETE", uai, MSI_API, CLOSED, None),
        ("Resource", "GET", f"{vm}/providers/Microsoft.ManagedIdentity/identities/default", MSI_API, CLOSED, None),
        ("Resource", "GET", f"{rgp}/providers/Microsoft.Network/virtualNetworks/v1", NET_API, CLOSED, None),
        ("Resource", "PUT", f"{rgp}/providers/Microsoft.Network/virtualNetworks/v1", NET_API, CLOSED, loc),
        ("Resource", "PUT", f"{rgp}/providers/Microsoft.Resources/deployments/d1", DEPLOY_API, CLOSED,
         {"properties": {"mode": "Incremental", "template": {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                                                             "contentVersion": "1.0.0.0", "resources": []}}}),
        ("ResourceAction", "POST", f"{vm}/start", VM_API, CLOSED, None),
        ("ResourceAction", "POST", f"{vm}/powerOff", VM_API, CLOSED, None),
        ("ResourceAction", "POST", f"{rgp}/providers/Microsoft.Resources/deployments/d1/validate", DEPLOY_API, CLOSED,
         {"properties": {"mode": "Incremental", "template": {"contentVersion": "1.0.0.0", "resources": []}}}),
        ("OperationResult", "GET", f"/subscriptions/{sub}/operationresults/{uuid.uuid4()}", RG_API, CLOSED, None),
    ]


def route_variants() -> set[str]:
    text = ROUTE_RS.read_text()
    body = text[text.index("pub enum Endpoint {"):]
    body = body[: body.index("\n}\n")]
    return set(re.findall(r"^    ([A-Z]\w*)\b", body, re.M))


@pytest.fixture(scope="module")
def roleless(mimic: MimicServer) -> dict:
    """A service principal with no role anywhere and no directory role."""
    p = mimic.mimic_cli("admin", "sp", "create", "--name", unique("roleless"), "--output", "json")
    assert p.returncode == 0, p.stderr
    sp = json.loads(p.stdout)
    arm = mimic.client_credentials(client_id=sp["appId"], secret=sp["secret"])
    graph = mimic.client_credentials(client_id=sp["appId"], secret=sp["secret"], scope=GRAPH_SCOPE)
    assert arm.status_code == 200 and graph.status_code == 200, (arm.text, graph.text)
    return {**sp, "arm": arm.json()["access_token"], "graph": graph.json()["access_token"]}


def test_the_walk_covers_every_arm_route(mimic: MimicServer):
    walked = {r[0] for r in arm_routes("s", "rg")}
    missing = route_variants() - walked
    assert not missing, f"arm_routes() has no case for Endpoint::{missing} (crates/mimic-server/src/arm/core/endpoint.rs)"


def test_every_arm_route_without_a_token_is_401_except_what_azure_leaves_open(mimic: MimicServer):
    rg = unique("iso")
    mimic.create_rg(rg)
    for variant, method, path, api, expect, body in arm_routes(mimic.subscription_id, rg):
        r = mimic.arm(method, path, token=None, api_version=api, json=body)
        if expect == OPEN_TO_ALL:
            assert r.status_code == 200, (method, path, r.status_code, r.text[:300])
            continue
        assert r.status_code == 401, (variant, method, path, r.status_code, r.text[:300])
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), (method, path, r.headers)
        if method != "HEAD":
            assert r.json()["error"]["code"] == "AuthenticationFailed", (method, path, r.text)


def test_every_arm_route_with_a_token_lacking_roles_is_403_except_the_callers_own(mimic: MimicServer, roleless: dict):
    rg = unique("iso")
    mimic.create_rg(rg)
    oid = roleless["objectId"]
    for variant, method, path, api, expect, body in arm_routes(mimic.subscription_id, rg):
        r = mimic.arm(method, path, token=roleless["arm"], api_version=api, json=body)
        where = (variant, method, path, r.status_code, r.text[:400])
        if expect in (OPEN_TO_ALL, AUTHENTICATED):
            assert r.status_code == 200, where
            continue
        assert r.status_code == 403, where
        if method == "HEAD":
            continue
        err = r.json()["error"]
        assert err["code"] == "AuthorizationFailed", where
        assert err["message"].startswith(f"The client '{oid}' with object id '{oid}' does not have authorization to perform action '"), where
    # What the open lists show is the caller's own: no subscription, no assignment of others.
    subs = mimic.arm("GET", "/subscriptions", token=roleless["arm"], api_version=RG_API).json()["value"]
    assert subs == [], subs
    perms = mimic.arm("GET", f"{mimic.rg_path(rg)}/providers/Microsoft.Authorization/permissions", token=roleless["arm"],
                      api_version=AUTHZ_API).json()["value"]
    assert all(not p.get("actions") for p in perms), perms


GRAPH_PATHS = ["/v1.0/users", "/v1.0/me", "/v1.0/groups", "/v1.0/servicePrincipals", "/v1.0/applications",
               f"/v1.0/directoryObjects/{uuid.uuid4()}", "/v1.0/directoryRoles", "/v1.0/organization",
               "/v1.0/roleManagement/directory/roleAssignments", "/beta/users"]


def test_every_graph_route_without_a_token_is_401(mimic: MimicServer):
    for path in GRAPH_PATHS:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            r = mimic.http.request(method, mimic.graph_url + path, json={} if method in ("POST", "PATCH") else None, timeout=30)
            assert r.status_code == 401, (method, path, r.status_code, r.text[:300])
            assert r.json()["error"]["code"] == "InvalidAuthenticationToken", (method, path, r.text)


def test_graph_writes_by_an_application_without_a_directory_role_are_denied(mimic: MimicServer, roleless: dict):
    h = {"Authorization": f"Bearer {roleless['graph']}"}
    writes = [
        ("POST", "/v1.0/users", {"accountEnabled": True, "displayName": "x", "mailNickname": "x",
                                  "userPrincipalName": f"x{uuid.uuid4().hex[:6]}@example.com",
                                  "passwordProfile": {"password": "Aa1!" + uuid.uuid4().hex}}),
        ("POST", "/v1.0/groups", {"displayName": "g", "mailEnabled": False, "mailNickname": "g", "securityEnabled": True}),
        ("POST", "/v1.0/applications", {"displayName": "a"}),
        ("DELETE", f"/v1.0/servicePrincipals/{mimic.sp['objectId']}", None),
        ("PATCH", f"/v1.0/users/{mimic.admin['objectId']}", {"displayName": "pwned"}),
    ]
    for method, path, body in writes:
        r = mimic.http.request(method, mimic.graph_url + path, json=body, headers=h, timeout=30)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "Authorization_RequestDenied", (method, path, r.text)


# ---- IMDS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_vms(mimic: MimicServer) -> dict:
    rg = unique("isoimds")
    mimic.create_rg(rg)
    uai_a = make_uai(mimic, rg, "isoA")
    uai_b = make_uai(mimic, rg, "isoB")
    vm_a = make_vm(mimic, rg, "vmA", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_a["id"]: {}}},
                   linux=True, read_back=True)
    vm_b = make_vm(mimic, rg, "vmB", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai_b["id"]: {}}},
                   linux=True, read_back=True)
    return {"rg": rg, "a": (vm_a, uai_a, vm_imds(mimic, f"{rg}/vmA")), "b": (vm_b, uai_b, vm_imds(mimic, f"{rg}/vmB"))}


def _token(mimic: MimicServer, base: str, selector: str = ""):
    return mimic.http.get(base + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/" + selector,
                          headers={"Metadata": "true"}, timeout=30)


def test_each_vm_imds_yields_only_its_own_identities(mimic: MimicServer, two_vms: dict):
    for me, other in (("a", "b"), ("b", "a")):
        vm, uai, base = two_vms[me]
        other_vm, other_uai, _ = two_vms[other]
        own = {vm["identity"]["principalId"], uai["properties"]["principalId"]}
        r = _token(mimic, base)
        assert r.status_code == 200, r.text
        assert jwt_parts(r.json()["access_token"])[1]["oid"] == vm["identity"]["principalId"]
        r = _token(mimic, base, f"&client_id={uai['properties']['clientId']}")
        assert r.status_code == 200 and jwt_parts(r.json()["access_token"])[1]["oid"] in own, r.text
        # Every way of naming the other VM's identities: Azure's 400 "Identity not found".
        for sel in (f"&client_id={other_uai['properties']['clientId']}", f"&object_id={other_uai['properties']['principalId']}",
                    f"&msi_res_id={other_uai['id']}", f"&mi_res_id={other_uai['id']}",
                    f"&object_id={other_vm['identity']['principalId']}", f"&msi_res_id={other_vm['id']}"):
            r = _token(mimic, base, sel)
            assert r.status_code == 400, (me, sel, r.text)
            assert r.json() == {"error": "invalid_request", "error_description": "Identity not found"}, (me, sel)
        # The instance document is this VM's.
        r = mimic.http.get(base + "/metadata/instance?api-version=2021-02-01", headers={"Metadata": "true"}, timeout=30)
        assert r.status_code == 200 and r.json()["compute"]["name"] == vm["name"], r.text


def test_the_default_imds_listener_serves_no_vm(mimic: MimicServer, two_vms: dict):
    _, uai, _ = two_vms["a"]
    for sel in ("", f"&client_id={uai['properties']['clientId']}"):
        r = _token(mimic, mimic.imds_url, sel)
        assert r.status_code == 400 and r.json()["error_description"] == "Identity not found", r.text


# ---- secrets ------------------------------------------------------------------------------


def test_secrets_are_never_logged_or_echoed(mimic: MimicServer, two_vms: dict):
    graph = {"Authorization": f"Bearer {mimic.sp_token(GRAPH_SCOPE)}"}
    secrets: list[str] = []

    # A client secret: Graph returns it once, in addPassword's answer, and never again.
    r = mimic.http.post(mimic.graph_url + "/v1.0/applications", json={"displayName": unique("secretapp")}, headers=graph, timeout=30)
    assert r.status_code == 201, r.text
    app = r.json()
    r = mimic.http.post(f"{mimic.graph_url}/v1.0/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "s"}},
                        headers=graph, timeout=30)
    assert r.status_code == 200, r.text
    secret = r.json()["secretText"]
    secrets.append(secret)
    r = mimic.http.post(mimic.graph_url + "/v1.0/servicePrincipals", json={"appId": app["appId"]}, headers=graph, timeout=30)
    assert r.status_code == 201, r.text
    assert mimic.client_credentials(client_id=app["appId"], secret=secret).status_code == 200  # used, so logged if ever
    assert mimic.client_credentials(client_id=app["appId"], secret=secret + "x").status_code == 401  # a wrong one too
    for path in (f"/v1.0/applications/{app['id']}", f"/v1.0/applications/{app['id']}?$select=passwordCredentials"):
        r = mimic.http.get(mimic.graph_url + path, headers=graph, timeout=30)
        assert r.status_code == 200 and secret not in r.text, r.text
        for cred in r.json().get("passwordCredentials", []):
            assert cred.get("secretText") is None, cred

    # A user's password: accepted at creation, never shown, used in a password grant.
    password = "Pw-" + uuid.uuid4().hex + "!A1"
    secrets.append(password)
    upn = f"{unique('secretuser')}@{mimic.admin['userName'].split('@')[1]}"
    r = mimic.http.post(mimic.graph_url + "/v1.0/users", headers=graph, timeout=30, json={
        "accountEnabled": True, "displayName": "Secret User", "mailNickname": upn.split("@")[0], "userPrincipalName": upn,
        "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": False}})
    assert r.status_code == 201 and password not in r.text, r.text
    user = r.json()
    r = mimic.http.get(f"{mimic.graph_url}/v1.0/users/{user['id']}", headers=graph, timeout=30)
    assert r.status_code == 200 and password not in r.text, r.text
    assert mimic.ropc(username=upn, password=password).status_code == 200
    assert mimic.ropc(username=upn, password=password + "x").status_code == 400

    # A VM's adminPassword: Azure never returns it (osProfile.adminPassword is write-only).
    vm, _, _ = two_vms["a"]
    admin_password = "Vm-" + uuid.uuid4().hex + "!A1"
    secrets.append(admin_password)
    rg = two_vms["rg"]
    body = mimic.arm("GET", vm["id"], api_version=VM_API).json()
    body["properties"]["osProfile"]["adminPassword"] = admin_password
    for ro in ("provisioningState", "vmId", "instanceView", "timeCreated"):
        body["properties"].pop(ro, None)
    r = mimic.arm("PUT", vm["id"], api_version=VM_API, json=body)
    assert r.status_code in (200, 201) and admin_password not in r.text, r.text
    for path in (vm["id"], f"{vm['id']}/instanceView", f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines"):
        r = mimic.arm("GET", path, api_version=VM_API)
        assert r.status_code == 200 and admin_password not in r.text, (path, r.text[:500])
        assert "adminPassword" not in r.text, (path, r.text[:500])

    log = mimic.log_path.read_text(errors="replace")
    for s in secrets:
        assert s not in log, "a secret reached the server log"
