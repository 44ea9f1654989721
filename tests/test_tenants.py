"""Several tenants in one Mimic (docs/ARCHITECTURE.md "Contract": "Several tenants and subscriptions can exist;
nothing is shared between tenants"). `mimic admin tenant create` makes a second tenant with its
own directory, administrator, service principal and subscription; its principals see only their
own tenant through az, the token service, ARM, Graph and IMDS, as two Entra tenants do.

Azure's answers for crossing tenants: InvalidAuthenticationTokenTenant (docs/azure-behaviour.md §3, sourced in
test_foundation.py), AADSTS700016 for an application asked for at another tenant's authority,
PrincipalNotFound for a role assignment naming an object of another directory, Graph's
Request_ResourceNotFound for another tenant's object."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from mimic_harness import GRAPH_SCOPE, READER, RG_API, Az, MimicServer, assign_role, jwt_parts, make_vm, unique
from test_imds import py_workload, vm_run


def create_tenant(server: MimicServer, *args: str) -> dict:
    p = server.mimic_cli("admin", "tenant", "create", *args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def contoso(mimic: MimicServer, tmp_path_factory) -> dict:
    """A second tenant in the shared server, with its credentials file for `--credentials`."""
    b = create_tenant(mimic, "--name", "Contoso")
    path = tmp_path_factory.mktemp("contoso") / "contoso.json"
    path.write_text(json.dumps(b))
    return {**b, "file": path}


class Tenant:
    """Calls as one tenant's bootstrap service principal."""

    def __init__(self, server: MimicServer, b: dict):
        self.server, self.b = server, b
        self.sub = b["subscriptionId"]

    def token(self, scope: str = "https://management.azure.com/.default") -> str:
        sp = self.b["servicePrincipal"]
        r = self.server.client_credentials(client_id=sp["clientId"], secret=sp["clientSecret"], tenant=self.b["tenantId"], scope=scope)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def arm(self, method: str, path: str, **kw):
        return self.server.arm(method, path, token=self.token(), **kw)

    def graph(self, path: str):
        return self.server.http.get(self.server.graph_url + "/v1.0" + path, headers={"Authorization": f"Bearer {self.token(GRAPH_SCOPE)}"}, timeout=30)


def test_tenant_create_prints_its_secrets_in_bootstrap_shape_and_needs_the_platform_operator(mimic: MimicServer, contoso: dict):
    assert set(contoso) - {"file"} == {"tenantId", "subscriptionId", "admin", "servicePrincipal"}
    assert contoso["tenantId"] != mimic.tenant_id and contoso["subscriptionId"] != mimic.subscription_id
    assert contoso["admin"]["userName"].endswith(f"@mimic{contoso['tenantId'][:8]}.onmicrosoft.com")
    b = Tenant(mimic, contoso)
    claims = jwt_parts(b.token())[1]
    assert claims["tid"] == contoso["tenantId"] and claims["iss"] == f"https://sts.windows.net/{contoso['tenantId']}/"
    assert claims["oid"] == contoso["servicePrincipal"]["objectId"]
    # A Global Administrator of the new tenant is not the platform's operator.
    r = mimic.http.post(mimic.graph_url + "/mimic/tenants", json={}, headers={"Authorization": f"Bearer {b.token(GRAPH_SCOPE)}"}, timeout=30)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied", r.text
    # Ids are unique.
    p = mimic.mimic_cli("admin", "tenant", "create", "--tenant-id", contoso["tenantId"])
    assert p.returncode == 1 and f"A tenant with id '{contoso['tenantId']}' already exists." in p.stderr, p.stderr
    p = mimic.mimic_cli("admin", "tenant", "create", "--subscription-id", mimic.subscription_id)
    assert p.returncode == 1 and "already exists" in p.stderr, p.stderr


def test_tokens_and_arm_stay_in_their_tenant(mimic: MimicServer, contoso: dict):
    b = Tenant(mimic, contoso)
    # The home service principal does not exist in Contoso's directory.
    r = mimic.client_credentials(tenant=contoso["tenantId"])
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client" and r.json()["error_codes"] == [700016], r.text
    assert "was not found in the directory 'Contoso'" in r.json()["error_description"]
    # Each tenant's token is refused on the other's subscription, with the tenant to ask.
    for token, sub, owner in ((b.token(), mimic.subscription_id, mimic.tenant_id), (mimic.sp_token(), contoso["subscriptionId"], contoso["tenantId"])):
        r = mimic.arm("GET", f"/subscriptions/{sub}/resourcegroups", api_version=RG_API, token=token)
        assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationTokenTenant", r.text
        assert f"It must match the tenant 'https://sts.windows.net/{owner}/' associated with this subscription." in r.json()["error"]["message"]
        assert f"/{owner}\"" in r.headers["WWW-Authenticate"]
    # Each sees its own tenant and subscription only.
    for token, tid, sub in ((b.token(), contoso["tenantId"], contoso["subscriptionId"]), (mimic.sp_token(), mimic.tenant_id, mimic.subscription_id)):
        tenants = mimic.arm("GET", "/tenants", api_version=RG_API, token=token).json()["value"]
        assert [t["tenantId"] for t in tenants] == [tid]
        subs = mimic.arm("GET", "/subscriptions", api_version=RG_API, token=token).json()["value"]
        assert [s["subscriptionId"] for s in subs] == [sub]
    # A role assignment cannot name an object of another directory.
    r = mimic.arm("PUT", f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
                  api_version="2022-04-01", json={"properties": {
                      "roleDefinitionId": f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                      "principalId": contoso["servicePrincipal"]["objectId"]}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "PrincipalNotFound", r.text
    assert f"does not exist in the directory {mimic.tenant_id}" in r.json()["error"]["message"]


def test_graph_directories_share_nothing(mimic: MimicServer, contoso: dict):
    b = Tenant(mimic, contoso)
    users = b.graph("/users").json()["value"]
    assert [u["id"] for u in users] == [contoso["admin"]["objectId"]]
    sps = {s["id"] for s in b.graph("/servicePrincipals").json()["value"]}
    assert contoso["servicePrincipal"]["objectId"] in sps and mimic.sp["objectId"] not in sps
    for path in (f"/users/{mimic.admin['objectId']}", f"/servicePrincipals/{mimic.sp['objectId']}", f"/directoryObjects/{mimic.admin['objectId']}"):
        r = b.graph(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "Request_ResourceNotFound", (path, r.text)
    home = mimic.http.get(f"{mimic.graph_url}/v1.0/users/{contoso['admin']['objectId']}",
                          headers={"Authorization": f"Bearer {mimic.sp_token(GRAPH_SCOPE)}"}, timeout=30)
    assert home.status_code == 404, home.text
    # `mimic admin --credentials` administers the other tenant's directory.
    p = mimic.mimic_cli("admin", "--credentials", str(contoso["file"]), "sp", "create", "--name", "contoso-app", "--output", "json")
    assert p.returncode == 0, p.stderr
    created = json.loads(p.stdout)
    assert created["appId"] in {s["appId"] for s in b.graph("/servicePrincipals").json()["value"]}
    assert created["tenantId"] == contoso["tenantId"]
    r = mimic.client_credentials(client_id=created["appId"], secret=created["secret"], tenant=contoso["tenantId"])
    assert r.status_code == 200 and jwt_parts(r.json()["access_token"])[1]["tid"] == contoso["tenantId"], r.text


def test_az_in_the_second_tenant_sees_only_its_subscription(mimic: MimicServer, contoso: dict, tmp_path: Path):
    config = tmp_path / "azure-config"
    config.mkdir()
    az = Az(mimic, config)
    az.register_cloud()
    az("cloud", "set", "--name", "Mimic")
    sp = contoso["servicePrincipal"]
    accounts = az("login", "--service-principal", "-u", sp["clientId"], "-p", sp["clientSecret"], "--tenant", contoso["tenantId"])
    assert [a["id"] for a in accounts] == [contoso["subscriptionId"]] and accounts[0]["tenantId"] == contoso["tenantId"]
    rg = unique("contoso")
    assert az("group", "create", "-n", rg, "-l", "westus")["id"] == f"/subscriptions/{contoso['subscriptionId']}/resourceGroups/{rg}"
    bad = az.run("group", "list", "--subscription", mimic.subscription_id, check=False)
    assert bad.returncode != 0
    # The administrator by password through `organizations`, as MSAL sends it for `az login -u`
    # (whose user-realm call needs port 443: test_proxy.py does that one): the token is for the
    # user's own tenant, and sees its subscription only.
    r = mimic.ropc(username=contoso["admin"]["userName"], password=contoso["admin"]["password"])
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert jwt_parts(token)[1]["tid"] == contoso["tenantId"]
    subs = mimic.arm("GET", "/subscriptions", api_version=RG_API, token=token).json()["value"]
    assert [s["subscriptionId"] for s in subs] == [contoso["subscriptionId"]]
    groups = mimic.arm("GET", f"/subscriptions/{contoso['subscriptionId']}/resourcegroups", api_version=RG_API, token=token).json()["value"]
    assert rg in {g["name"] for g in groups}


def test_vm_identity_in_the_second_tenant_gets_its_tenant_tokens(mimic: MimicServer, contoso: dict):
    b = Tenant(mimic, contoso)
    home_server = mimic

    class AsContoso:
        """make_vm/assign_role take a server; this one calls ARM as Contoso in its subscription."""
        subscription_id = contoso["subscriptionId"]

        def arm(self, method, path, **kw):
            return b.arm(method, path, **kw)

    rg = unique("contosovm")
    r = b.arm("PUT", f"/subscriptions/{b.sub}/resourcegroups/{rg}", api_version=RG_API, json={"location": "westus"})
    assert r.status_code == 201, r.text
    vm = make_vm(AsContoso(), rg, "vm1", {"type": "SystemAssigned"}, linux=True, read_back=True)
    principal = vm["identity"]["principalId"]
    assert vm["identity"]["tenantId"] == contoso["tenantId"]
    assign_role(AsContoso(), principal, READER, f"/subscriptions/{b.sub}/resourceGroups/{rg}", exists_ok=True)
    # The VM's service principal lives in Contoso's directory, not the home one.
    assert b.graph(f"/servicePrincipals/{principal}").status_code == 200
    # The home principal may not place a workload on Contoso's VM; Contoso's may.
    denied = home_server.mimic_cli("vm", "env", "--subscription", b.sub, f"{rg}/vm1")
    assert denied.returncode == 1 and "The access token is from the wrong issuer" in denied.stderr, denied.stderr
    code = f"""
import json, jwt
from azure.identity import ManagedIdentityCredential
from azure.mgmt.resource import ResourceManagementClient
cred = ManagedIdentityCredential()
claims = jwt.decode(cred.get_token("https://management.azure.com/.default").token, options={{"verify_signature": False}})
import os
client = ResourceManagementClient(cred, "{b.sub}", base_url=os.environ["MIMIC_ARM_URL"],
                                  credential_scopes=["https://management.azure.com/.default"])
print(json.dumps({{"tid": claims["tid"], "oid": claims["oid"], "rg": client.resource_groups.get("{rg}").name}}))
"""
    p = vm_run(home_server, f"{rg}/vm1", *py_workload(code), credentials=contoso["file"])
    assert p.returncode == 0, p.stderr + p.stdout
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got == {"tid": contoso["tenantId"], "oid": principal, "rg": rg}


def test_second_tenant_survives_restart(mimic_factory):
    server = mimic_factory()
    b = create_tenant(server, "--name", "Fabrikam")
    server.restart()
    assert jwt_parts(Tenant(server, b).token())[1]["tid"] == b["tenantId"]
    subs = Tenant(server, b).arm("GET", "/subscriptions", api_version=RG_API).json()["value"]
    assert [(s["subscriptionId"], s["displayName"]) for s in subs] == [(b["subscriptionId"], "Fabrikam Subscription")]
