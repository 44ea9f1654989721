"""Microsoft Graph and the directory: `az ad ...`, `az role assignment ... --assignee`
resolving through Graph, `az ad sp create-for-rbac` then logging in with its output, the
PowerShell seed's group flow by its REST equivalents, plain azure-identity + requests against
Graph, `mimic admin`, Graph's authorization (directory roles) and Graph's own errors.

Azure's behaviour: docs/azure-behaviour.md §7, §11.6, the learn.microsoft.com/graph pages
named next to the assertions, and the public reports cited in crates/mimic-server/src/graph/error.rs.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from mimic_harness import READER, RG_API, Az, MimicServer, assign_role, graph, jwt_parts, make_vm, unique

GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"


# ---- helpers --------------------------------------------------------------------------------


def graph_error(r, status: int, code: str, message: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    if message is not None:
        assert err["message"] == message, err
    inner = err["innerError"]
    assert set(inner) >= {"date", "request-id", "client-request-id"}
    return err


def admin_cli(mimic: MimicServer, *args: str) -> dict | list | None:
    p = mimic.mimic_cli("admin", *args, "--output", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout) if p.stdout.strip() else None


def imds_token(mimic: MimicServer, vm: str, resource: str = "https://management.azure.com/") -> str:
    p = mimic.mimic_cli("vm", "env", vm, "--output", "json")
    assert p.returncode == 0, p.stderr
    base = json.loads(p.stdout)["imds"]
    r = mimic.http.get(f"{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}&bypass_cache=true",
                       headers={"Metadata": "true"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def vm_world(mimic: MimicServer) -> dict:
    rg = unique("graph")
    mimic.create_rg(rg)
    name = unique("myVM")
    vm = make_vm(mimic, rg, name, {"type": "SystemAssigned"}, linux=True, read_back=True)
    return {"rg": rg, "name": name, "vm": vm, "principal": vm["identity"]["principalId"],
            "rg_scope": f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"}


# ---- az ad sp ---------------------------------------------------------------------------------


def test_az_ad_sp_list_display_name_and_show_vm_principal(az_sp: Az, mimic: MimicServer, vm_world):
    """`az ad sp list --display-name myVM` finds the VM's system-assigned principal with what az
    and the seeds read (docs/azure-behaviour.md §7); `az ad sp show --id` by object id and by app id."""
    found = az_sp("ad", "sp", "list", "--display-name", vm_world["name"])
    assert len(found) == 1
    sp = found[0]
    assert sp["id"] == vm_world["principal"]
    assert sp["servicePrincipalType"] == "ManagedIdentity"
    assert sp["displayName"] == vm_world["name"]
    assert sp["accountEnabled"] is True
    assert sp["alternativeNames"][0] == "isExplicit=False"
    assert sp["alternativeNames"][1].lower() == vm_world["vm"]["id"].lower()
    assert "/resourcegroups/" in sp["alternativeNames"][1]
    assert sp["servicePrincipalNames"][0] == sp["appId"]
    assert any(n.startswith("https://identity.azure.net/") for n in sp["servicePrincipalNames"])
    for ident in (sp["id"], sp["appId"]):
        shown = az_sp("ad", "sp", "show", "--id", ident)
        assert shown["id"] == sp["id"] and shown["appId"] == sp["appId"]


def test_az_ad_sp_list_filter_managed_identity(az_sp: Az, vm_world):
    found = az_sp("ad", "sp", "list", "--filter", "servicePrincipalType eq 'ManagedIdentity'")
    assert vm_world["principal"] in {s["id"] for s in found}
    assert {s["servicePrincipalType"] for s in found} == {"ManagedIdentity"}


def test_az_ad_sp_show_unknown_is_graph_404(az_sp: Az):
    ghost = str(uuid.uuid4())
    r = az_sp.run("ad", "sp", "show", "--id", ghost, check=False)
    assert r.returncode != 0
    assert f"Resource '{ghost}' does not exist or one of its queried reference-property objects are not present." in r.stderr


def test_az_ad_app_create_sp_create_and_delete(az_sp: Az):
    name = unique("app")
    app = az_sp("ad", "app", "create", "--display-name", name)
    assert app["displayName"] == name and app["appId"]
    sp = az_sp("ad", "sp", "create", "--id", app["appId"])
    assert sp["appId"] == app["appId"] and sp["servicePrincipalType"] == "Application"
    r = az_sp.run("ad", "sp", "create", "--id", app["appId"], check=False)
    assert r.returncode != 0 and "is already in use" in r.stderr
    az_sp("ad", "app", "delete", "--id", app["appId"])
    # Deleting the application deletes its service principal (Entra).
    assert az_sp("ad", "sp", "list", "--spn", app["appId"]) == []


# ---- groups ------------------------------------------------------------------------------------


def test_az_ad_group_member_flow_and_group_rbac_through_imds(az_sp: Az, mimic: MimicServer, vm_world):
    """`az ad group create`, `az ad group member add --group myGroup --member-id <principalId>`,
    `member list`, `member check`; then Reader assigned to the group lets the VM's IMDS token
    read the resource group (not write), and the token carries the group in `groups`."""
    group_name = unique("myGroup")
    grp = az_sp("ad", "group", "create", "--display-name", group_name, "--mail-nickname", group_name)
    assert grp["displayName"] == group_name and grp["securityEnabled"] is True and grp["mailEnabled"] is False
    # idempotent, as az makes it (filter on displayName and mailNickname)
    assert az_sp("ad", "group", "create", "--display-name", group_name, "--mail-nickname", group_name)["id"] == grp["id"]
    az_sp("ad", "group", "member", "add", "--group", group_name, "--member-id", vm_world["principal"], output=None)
    members = az_sp("ad", "group", "member", "list", "--group", group_name)
    assert [m["id"] for m in members] == [vm_world["principal"]]
    assert members[0]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert az_sp("ad", "group", "member", "check", "--group", grp["id"], "--member-id", vm_world["principal"]) == {"value": True}
    again = az_sp.run("ad", "group", "member", "add", "--group", grp["id"], "--member-id", vm_world["principal"], check=False)
    assert again.returncode != 0
    assert "One or more added object references already exist for the following modified properties: 'members'." in again.stderr

    rg = vm_world["rg"]
    before = imds_token(mimic, f"{rg}/{vm_world['name']}")
    assert mimic.arm("GET", vm_world["rg_scope"], api_version=RG_API, token=before).status_code == 403
    az_sp("role", "assignment", "create", "--assignee-object-id", grp["id"], "--assignee-principal-type", "Group",
          "--role", "Reader", "--scope", vm_world["rg_scope"])
    token = imds_token(mimic, f"{rg}/{vm_world['name']}")
    assert grp["id"] in jwt_parts(token)[1].get("groups", [])
    assert mimic.arm("GET", vm_world["rg_scope"], api_version=RG_API, token=token).status_code == 200
    w = mimic.arm("PUT", mimic.rg_path(rg + "-x"), api_version=RG_API, token=token, json={"location": "westus"})
    assert w.status_code == 403 and w.json()["error"]["code"] == "AuthorizationFailed"

    az_sp("ad", "group", "member", "remove", "--group", grp["id"], "--member-id", vm_world["principal"], output=None)
    assert az_sp("ad", "group", "member", "list", "--group", grp["id"]) == []
    token = imds_token(mimic, f"{rg}/{vm_world['name']}")
    assert mimic.arm("GET", vm_world["rg_scope"], api_version=RG_API, token=token).status_code == 403
    az_sp("ad", "group", "delete", "--group", grp["id"], output=None)
    assert az_sp("ad", "group", "list", "--display-name", group_name) == []


def test_seed_group_flow_by_rest(mimic: MimicServer, vm_world):
    """What `Get-AzADServicePrincipal -DisplayName`, `Get-AzADGroup -SearchString` and
    `New-MgGroupMember` send (docs/azure-behaviour.md §7), verbatim URLs with graph.microsoft.com references."""
    r = graph(mimic, "GET", f"/v1.0/servicePrincipals?$filter=displayName eq '{vm_world['name']}'")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#servicePrincipals")
    sp_id = body["value"][0]["id"]
    assert sp_id == vm_world["principal"]

    name = unique("myGroup")
    r = graph(mimic, "POST", "/v1.0/groups", json={"displayName": name, "mailEnabled": False, "mailNickname": name, "securityEnabled": True})
    assert r.status_code == 201, r.text
    assert r.json()["@odata.context"].endswith("/v1.0/$metadata#groups/$entity")
    r = graph(mimic, "GET", f"/v1.0/groups?$filter=startswith(displayName,'{name}')")
    gid = r.json()["value"][0]["id"]
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{sp_id}"}
    r = graph(mimic, "POST", f"/v1.0/groups/{gid}/members/$ref", json=ref)
    assert r.status_code == 204, r.text
    graph_error(graph(mimic, "POST", f"/v1.0/groups/{gid}/members/$ref", json=ref), 400, "Request_BadRequest",
                "One or more added object references already exist for the following modified properties: 'members'.")
    r = graph(mimic, "POST", f"/v1.0/servicePrincipals/{sp_id}/checkMemberGroups", json={"groupIds": [gid, str(uuid.uuid4())]})
    assert r.status_code == 200 and r.json()["value"] == [gid]
    r = graph(mimic, "GET", f"/v1.0/servicePrincipals/{sp_id}/transitiveMemberOf")
    assert gid in [g["id"] for g in r.json()["value"]]
    assert graph(mimic, "DELETE", f"/v1.0/groups/{gid}/members/{sp_id}/$ref").status_code == 204
    graph_error(graph(mimic, "DELETE", f"/v1.0/groups/{gid}/members/{sp_id}/$ref"), 404, "Request_ResourceNotFound")
    ghost = str(uuid.uuid4())
    graph_error(graph(mimic, "POST", f"/v1.0/groups/{gid}/members/$ref",
                      json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ghost}"}),
                404, "Request_ResourceNotFound",
                f"Resource '{ghost}' does not exist or one of its queried reference-property objects are not present.")


def test_nested_groups_grant_transitively(mimic: MimicServer, vm_world):
    """A role assigned to an outer group reaches members of an inner group (Entra's transitive
    membership; ARM evaluates it)."""
    def mk(n):
        r = graph(mimic, "POST", "/v1.0/groups", json={"displayName": n, "mailEnabled": False, "mailNickname": n, "securityEnabled": True})
        assert r.status_code == 201, r.text
        return r.json()["id"]
    outer, inner = mk(unique("outer")), mk(unique("inner"))
    rg = unique("nested")
    mimic.create_rg(rg)
    vm = make_vm(mimic, rg, "vmN", {"type": "SystemAssigned"}, linux=True, read_back=True)
    principal = vm["identity"]["principalId"]
    for g, m in ((outer, inner), (inner, principal)):
        r = graph(mimic, "POST", f"/v1.0/groups/{g}/members/$ref", json={"@odata.id": f"{mimic.graph_url}/v1.0/directoryObjects/{m}"})
        assert r.status_code == 204, r.text
    r = graph(mimic, "GET", f"/v1.0/groups/{outer}/transitiveMembers")
    assert {o["id"] for o in r.json()["value"]} == {inner, principal}
    r = graph(mimic, "POST", f"/v1.0/directoryObjects/{principal}/getMemberGroups", json={"securityEnabledOnly": True})
    assert set(r.json()["value"]) == {outer, inner}
    scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    assign_role(mimic, outer, READER, scope, principal_type="Group")
    token = imds_token(mimic, f"{rg}/vmN")
    assert mimic.arm("GET", scope, api_version=RG_API, token=token).status_code == 200


# ---- users -------------------------------------------------------------------------------------


def test_az_ad_user_create_list_show_then_user_signs_in(az_sp: Az, mimic: MimicServer):
    domain = mimic.admin["userName"].split("@")[1]
    upn = f"{unique('alice')}@{domain}"
    password = "Str0ng!Passw0rd"
    user = az_sp("ad", "user", "create", "--display-name", "Alice", "--password", password, "--user-principal-name", upn)
    assert user["userPrincipalName"] == upn and user["displayName"] == "Alice" and user["id"]
    listed = az_sp("ad", "user", "list", "--upn", upn)
    assert [u["id"] for u in listed] == [user["id"]]
    assert az_sp("ad", "user", "show", "--id", upn)["id"] == user["id"]
    assert user["id"] in {u["id"] for u in az_sp("ad", "user", "list")}
    r = mimic.ropc(username=upn, password=password)
    assert r.status_code == 200, r.text
    assert jwt_parts(r.json()["access_token"])[1]["oid"] == user["id"]
    dup = az_sp.run("ad", "user", "create", "--display-name", "Alice", "--password", password, "--user-principal-name", upn, check=False)
    assert dup.returncode != 0 and "Another object with the same value for property userPrincipalName already exists." in dup.stderr


def test_user_create_errors(mimic: MimicServer):
    domain = mimic.admin["userName"].split("@")[1]
    base = {"accountEnabled": True, "displayName": "Bob", "mailNickname": "bob", "passwordProfile": {"password": "Str0ng!Passw0rd"}}
    graph_error(graph(mimic, "POST", "/v1.0/users", json={**base, "userPrincipalName": "bob@elsewhere.example"}), 400, "Request_BadRequest",
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
    graph_error(graph(mimic, "POST", "/v1.0/users", json={**base, "userPrincipalName": f"bob@{domain}", "passwordProfile": {"password": "weak"}}),
                400, "Request_BadRequest",
                "The specified password does not comply with password complexity requirements. Please provide a different password.")
    graph_error(graph(mimic, "POST", "/v1.0/users", json={k: v for k, v in base.items() if k != "mailNickname"} | {"userPrincipalName": f"bob@{domain}"}),
                400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'.")
    graph_error(graph(mimic, "POST", "/v1.0/users", json={**base, "userPrincipalName": f"bob@{domain}", "favouriteColour": "blue"}),
                400, "BadRequest")


def test_me_and_member_user_permissions(mimic: MimicServer):
    """A member user reads the directory (`/me`, lists) but cannot write without a directory
    role; the admin (Global Administrator) can. App-only tokens have no `/me`."""
    domain = mimic.admin["userName"].split("@")[1]
    upn = f"{unique('carol')}@{domain}"
    r = graph(mimic, "POST", "/v1.0/users", json={"accountEnabled": True, "displayName": "Carol", "mailNickname": "carol",
                                                  "userPrincipalName": upn, "passwordProfile": {"password": "Str0ng!Passw0rd"}})
    assert r.status_code == 201, r.text
    carol = mimic.ropc(username=upn, password="Str0ng!Passw0rd", scope=mimic.graph_url + "//.default").json()["access_token"]
    me = graph(mimic, "GET", "/v1.0/me", token=carol)
    assert me.status_code == 200 and me.json()["userPrincipalName"] == upn
    assert me.json()["@odata.context"].endswith("/v1.0/$metadata#users/$entity")
    assert graph(mimic, "GET", "/v1.0/servicePrincipals", token=carol).status_code == 200
    graph_error(graph(mimic, "POST", "/v1.0/groups", token=carol,
                      json={"displayName": "x", "mailEnabled": False, "mailNickname": "x", "securityEnabled": True}),
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    admin = mimic.admin_token(scope=mimic.graph_url + "//.default")
    r = graph(mimic, "POST", "/v1.0/groups", token=admin, json={"displayName": unique("adm"), "mailEnabled": False,
                                                                  "mailNickname": "adm", "securityEnabled": True})
    assert r.status_code == 201, r.text
    graph_error(graph(mimic, "GET", "/v1.0/me"), 400, "BadRequest", "/me request is only valid with delegated authentication flow.")


# ---- role assignments through Graph -----------------------------------------------------------


def test_az_role_assignment_create_with_appid_and_upn_then_list_names_them(az_sp: Az, mimic: MimicServer):
    """`--assignee <appId>` resolves via `servicePrincipals?$filter=servicePrincipalNames/any(...)`,
    `--assignee <upn>` via `users?$filter=userPrincipalName eq`, `--assignee <objectId>` via
    getByIds; `az role assignment list` names principals through getByIds (az-cli.md §6)."""
    rg = unique("ra")
    mimic.create_rg(rg)
    scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    sp = admin_cli(mimic, "sp", "create", "--name", unique("assignee"))
    ra = az_sp("role", "assignment", "create", "--assignee", sp["appId"], "--role", "Reader", "--scope", scope)
    assert ra["principalId"] == sp["objectId"] and ra["principalType"] == "ServicePrincipal"
    user = admin_cli(mimic, "user", "create", "--name", unique("dave"))
    ra = az_sp("role", "assignment", "create", "--assignee", user["userPrincipalName"], "--role", "Reader", "--scope", scope)
    assert ra["principalId"] == user["objectId"] and ra["principalType"] == "User"
    grp = admin_cli(mimic, "group", "create", "--name", unique("grp"))
    ra = az_sp("role", "assignment", "create", "--assignee", grp["objectId"], "--role", "Reader", "--scope", scope)
    assert ra["principalId"] == grp["objectId"] and ra["principalType"] == "Group"
    listed = {a["principalId"]: a for a in az_sp("role", "assignment", "list", "--scope", scope)}
    assert listed[sp["objectId"]]["principalName"] == sp["appId"]  # servicePrincipalNames[0]
    assert listed[user["objectId"]]["principalName"] == user["userPrincipalName"]
    assert listed[grp["objectId"]]["principalName"] == grp["displayName"]
    assert {a["roleDefinitionName"] for a in listed.values()} == {"Reader"}
    r = az_sp.run("role", "assignment", "create", "--assignee", str(uuid.uuid4()), "--role", "Reader", "--scope", scope, check=False)
    assert r.returncode != 0 and "Cannot find user or service principal in graph database" in r.stderr


def test_az_ad_sp_create_for_rbac_then_login_with_its_output(az_sp: Az, mimic: MimicServer, tmp_path: Path):
    rg = unique("rbac")
    mimic.create_rg(rg)
    scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    name = unique("cfr")
    out = az_sp("ad", "sp", "create-for-rbac", "--name", name, "--role", "Reader", "--scopes", scope)
    assert set(out) == {"appId", "password", "displayName", "tenant"}
    assert out["displayName"] == name and out["tenant"] == mimic.tenant_id
    # Running it again patches the same application with a new secret (az's idempotence).
    again = az_sp("ad", "sp", "create-for-rbac", "--name", name, "--role", "Reader", "--scopes", scope)
    assert again["appId"] == out["appId"] and again["password"] != out["password"]

    config = tmp_path / "other-az"
    config.mkdir()
    other = Az(mimic, config)
    other.register_cloud()
    other("cloud", "set", "--name", "Mimic")
    other("login", "--service-principal", "-u", again["appId"], "-p", again["password"], "--tenant", again["tenant"])
    assert other("group", "show", "--name", rg)["name"] == rg
    denied = other.run("group", "create", "--name", rg + "-no", "--location", "westus", check=False)
    assert denied.returncode != 0 and "AuthorizationFailed" in denied.stderr
    # The old secret was removed by the second run.
    r = mimic.client_credentials(client_id=out["appId"], secret=out["password"])
    assert r.status_code == 401


# ---- mimic admin and Graph authorization ------------------------------------------------------


def test_mimic_admin_sp_create_gives_a_working_principal_without_directory_access(mimic: MimicServer):
    sp = admin_cli(mimic, "sp", "create", "--name", unique("reader-sp"))
    assert {"appId", "objectId", "secret"} <= set(sp)
    r = mimic.client_credentials(client_id=sp["appId"], secret=sp["secret"], scope=mimic.graph_url + "/.default")
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    # An application without directory roles (or Graph application permissions) reads nothing.
    graph_error(graph(mimic, "GET", "/v1.0/servicePrincipals", token=token), 403, "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.")
    admin_cli(mimic, "role", "assign", "--role", "Directory Readers", "--principal", sp["objectId"])
    assert graph(mimic, "GET", "/v1.0/servicePrincipals", token=token).status_code == 200
    graph_error(graph(mimic, "POST", "/v1.0/applications", token=token, json={"displayName": "nope"}), 403, "Authorization_RequestDenied")
    roles = admin_cli(mimic, "role", "list")
    assert {"principalId": sp["objectId"], "roleDefinitionName": "Directory Readers"}.items() <= \
        next(a for a in roles if a["principalId"] == sp["objectId"]).items()
    assert {a["principalId"] for a in roles if a["roleDefinitionId"] == GLOBAL_ADMINISTRATOR} >= \
        {mimic.admin["objectId"], mimic.sp["objectId"]}
    # A second secret, then delete: the application and its principal are gone.
    extra = admin_cli(mimic, "sp", "secret", "add", "--id", sp["appId"])
    assert mimic.client_credentials(client_id=sp["appId"], secret=extra["secret"]).status_code == 200
    p = mimic.mimic_cli("admin", "sp", "delete", "--id", sp["objectId"])
    assert p.returncode == 0, p.stderr
    graph_error(graph(mimic, "GET", f"/v1.0/servicePrincipals/{sp['objectId']}"), 404, "Request_ResourceNotFound")


def test_mimic_admin_groups_and_clear_errors(mimic: MimicServer, vm_world):
    name = unique("admgrp")
    grp = admin_cli(mimic, "group", "create", "--name", name)
    admin_cli(mimic, "group", "member", "add", "--group", name, "--member-id", vm_world["principal"])
    members = admin_cli(mimic, "group", "member", "list", "--group", name)
    assert [m["id"] for m in members] == [vm_world["principal"]]
    p = mimic.mimic_cli("admin", "group", "member", "add", "--group", grp["objectId"], "--member-id", vm_world["principal"])
    assert p.returncode == 1 and p.stderr.strip().count("\n") == 0 and "already exist" in p.stderr
    p = mimic.mimic_cli("admin", "sp", "delete", "--id", vm_world["principal"])
    assert p.returncode == 1 and "managed identity" in p.stderr


# ---- plain azure-identity + requests ----------------------------------------------------------


def test_python_azure_identity_and_requests_against_graph(mimic: MimicServer, client_ca: Path, vm_world):
    """No Graph SDK: azure-identity for the token (scope = Mimic's Graph URL), requests for the
    seed's calls."""
    import requests
    from azure.identity import ClientSecretCredential

    # docs/azure-behaviour.md §12.5/§12.6: a custom authority needs disable_instance_discovery.
    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    token = cred.get_token(mimic.graph_url + "/.default").token
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    r = s.get(f"{mimic.graph_url}/v1.0/servicePrincipals", params={"$filter": f"displayName eq '{vm_world['name']}'"})
    assert r.status_code == 200, r.text
    sp_id = r.json()["value"][0]["id"]
    name = unique("pygroup")
    gid = s.post(f"{mimic.graph_url}/v1.0/groups", json={"displayName": name, "mailEnabled": False, "mailNickname": name,
                                                         "securityEnabled": True}).json()["id"]
    r = s.post(f"{mimic.graph_url}/v1.0/groups/{gid}/members/$ref",
               json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{sp_id}"})
    assert r.status_code == 204, r.text
    assert [m["id"] for m in s.get(f"{mimic.graph_url}/v1.0/groups/{gid}/members").json()["value"]] == [sp_id]


# ---- OData and Graph's errors -----------------------------------------------------------------


def test_get_by_ids_types_and_shapes(mimic: MimicServer, vm_world):
    ghost = str(uuid.uuid4())
    ids = [vm_world["principal"], mimic.admin["objectId"], ghost]
    r = graph(mimic, "POST", "/v1.0/directoryObjects/getByIds",
              json={"ids": ids, "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#directoryObjects")
    by_id = {o["id"]: o for o in body["value"]}
    assert set(by_id) == {vm_world["principal"], mimic.admin["objectId"]}
    assert by_id[vm_world["principal"]]["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert by_id[mimic.admin["objectId"]]["@odata.type"] == "#microsoft.graph.user"
    assert by_id[mimic.admin["objectId"]]["userPrincipalName"] == mimic.admin["userName"]
    r = graph(mimic, "POST", "/v1.0/directoryObjects/getByIds", json={"ids": ids, "types": ["user"]})
    assert [o["id"] for o in r.json()["value"]] == [mimic.admin["objectId"]]
    graph_error(graph(mimic, "POST", "/v1.0/directoryObjects/getByIds", json={"ids": ["not-a-guid"]}), 400, "Request_BadRequest",
                "Invalid object identifier 'not-a-guid'.")


def test_select_top_paging_and_count(mimic: MimicServer):
    prefix = unique("page")
    for i in range(5):
        r = graph(mimic, "POST", "/v1.0/groups", json={"displayName": f"{prefix}-{i}", "mailEnabled": False,
                                                        "mailNickname": f"{prefix}{i}", "securityEnabled": True})
        assert r.status_code == 201
    url = f"/v1.0/groups?$filter=startswith(displayName,'{prefix}')&$top=2&$select=displayName,id"
    names, pages = [], 0
    while url:
        r = graph(mimic, "GET", url)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["@odata.context"].endswith("/v1.0/$metadata#groups(displayName,id)")
        assert all(set(g) == {"displayName", "id"} for g in body["value"])
        names += [g["displayName"] for g in body["value"]]
        url = body.get("@odata.nextLink")
        pages += 1
    assert sorted(names) == [f"{prefix}-{i}" for i in range(5)] and pages == 3
    r = graph(mimic, "GET", f"/v1.0/groups?$filter=startswith(displayName,'{prefix}')&$count=true", headers={"ConsistencyLevel": "eventual"})
    assert r.json()["@odata.count"] == 5
    r = graph(mimic, "GET", f"/v1.0/groups/$count?$filter=startswith(displayName,'{prefix}')", headers={"ConsistencyLevel": "eventual"})
    assert r.status_code == 200 and r.text == "5"
    graph_error(graph(mimic, "GET", "/v1.0/groups/$count"), 400, "Request_UnsupportedQuery")
    graph_error(graph(mimic, "GET", "/v1.0/groups?$count=true"), 400, "Request_BadRequest", "$count is not currently supported.")
    r = graph(mimic, "GET", f"/v1.0/groups?$search=\"displayName:{prefix}\"", headers={"ConsistencyLevel": "eventual"})
    assert len(r.json()["value"]) == 5
    graph_error(graph(mimic, "GET", "/v1.0/groups?$top=1000"), 400, "Request_BadRequest")


@pytest.mark.parametrize("query,status,code,message", [
    ("$filter=displayName eq", 400, "BadRequest", "Invalid filter clause: Syntax error at position 14 in 'displayName eq'."),
    ("$filter=colour eq 'x'", 400, "BadRequest", "Invalid filter clause: Could not find a property named 'colour' on type 'microsoft.graph.servicePrincipal'."),
    ("$filter=displayName ne 'x'", 400, "Request_UnsupportedQuery", "Unsupported property filter clause operator 'NotEqualsMatch'."),
    ("$filter=alternativeNames eq 'x'", 400, "Request_UnsupportedQuery",
     "Unsupported or invalid query filter clause specified for property 'alternativeNames' of resource 'ServicePrincipal'."),
    ("$filter=endswith(displayName,'x')", 400, "Request_UnsupportedQuery", "Unsupported Query."),
    ("$select=colour", 400, "BadRequest", "Parsing OData Select and Expand failed: Could not find a property named 'colour' on type 'microsoft.graph.servicePrincipal'."),
])
def test_bad_queries_get_graph_errors(mimic: MimicServer, query, status, code, message):
    graph_error(graph(mimic, "GET", f"/v1.0/servicePrincipals?{query}"), status, code, message)


def test_advanced_filter_with_consistency_level(mimic: MimicServer):
    r = graph(mimic, "GET", "/v1.0/servicePrincipals?$filter=displayName ne 'x'&$count=true", headers={"ConsistencyLevel": "eventual"})
    assert r.status_code == 200 and r.json()["@odata.count"] >= 1


def test_unknown_segment_and_object_and_missing_token(mimic: MimicServer):
    graph_error(graph(mimic, "GET", "/v1.0/widgets"), 400, "BadRequest", "Resource not found for the segment 'widgets'.")
    ghost = str(uuid.uuid4())
    for coll in ("users", "groups", "servicePrincipals", "applications"):
        graph_error(graph(mimic, "GET", f"/v1.0/{coll}/{ghost}"), 404, "Request_ResourceNotFound",
                    f"Resource '{ghost}' does not exist or one of its queried reference-property objects are not present.")
    r = mimic.http.get(mimic.graph_url + "/v1.0/users", timeout=10)
    graph_error(r, 401, "InvalidAuthenticationToken")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    arm_token = mimic.sp_token()
    graph_error(graph(mimic, "GET", "/v1.0/users", token=arm_token), 401, "InvalidAuthenticationToken")
    # A token for graph.microsoft.com (what SDKs written for Azure ask for) is accepted.
    assert graph(mimic, "GET", "/v1.0/users", token=mimic.sp_token("https://graph.microsoft.com/.default")).status_code == 200


def test_application_add_and_remove_password(mimic: MimicServer):
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("pw")})
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["passwordCredentials"] == []
    r = graph(mimic, "POST", f"/v1.0/applications/{app['id']}/addPassword", json={"passwordCredential": {"displayName": "ci"}})
    assert r.status_code == 200, r.text
    cred = r.json()
    assert cred["@odata.context"].endswith("/v1.0/$metadata#microsoft.graph.passwordCredential")
    assert cred["secretText"] and cred["hint"] == cred["secretText"][:3] and cred["displayName"] == "ci"
    listed = graph(mimic, "GET", f"/v1.0/applications/{app['id']}").json()["passwordCredentials"]
    assert [c["keyId"] for c in listed] == [cred["keyId"]] and listed[0]["secretText"] is None
    r = graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": app["appId"]})
    assert r.status_code == 201, r.text
    assert mimic.client_credentials(client_id=app["appId"], secret=cred["secretText"]).status_code == 200
    assert graph(mimic, "POST", f"/v1.0/applications/{app['id']}/removePassword", json={"keyId": cred["keyId"]}).status_code == 204
    assert mimic.client_credentials(client_id=app["appId"], secret=cred["secretText"]).status_code == 401
    graph_error(graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": str(uuid.uuid4())}), 400, "Request_BadRequest")
    graph_error(graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": app["appId"]}), 409, "Request_MultipleObjectsWithSameKeyValue")


# ---- JavaScript: @azure/identity + fetch ------------------------------------------------------

JS_DIR = Path(__file__).resolve().parent / "js"


@pytest.mark.skipif(not (JS_DIR / "node_modules" / "@azure" / "identity").exists(), reason="node packages not installed (scripts/test-setup.sh)")
def test_javascript_identity_and_fetch_group_flow_then_group_rbac(mimic: MimicServer, vm_world):
    """The seed's group flow from Node: @azure/identity's ClientSecretCredential for a Graph
    token, plain fetch for the Graph calls; then Reader on the group lets the VM read."""
    rg = unique("jsrbac")
    mimic.create_rg(rg)
    vm = make_vm(mimic, rg, "vmJ", {"type": "SystemAssigned"}, linux=True, read_back=True)
    group = unique("jsGroup")
    script = JS_DIR / f"graph_flow_{uuid.uuid4().hex[:8]}.mjs"
    script.write_text(f"""
import {{ ClientSecretCredential }} from "@azure/identity";
const graph = {json.dumps(mimic.graph_url)};
const cred = new ClientSecretCredential({json.dumps(mimic.tenant_id)}, {json.dumps(mimic.sp["clientId"])},
  {json.dumps(mimic.sp["clientSecret"])}, {{ authorityHost: {json.dumps(mimic.login_url)}, disableInstanceDiscovery: true }});
const {{ token }} = await cred.getToken(graph + "/.default");
const call = async (method, path, body) => {{
  const r = await fetch(graph + path, {{ method, headers: {{ Authorization: "Bearer " + token, "Content-Type": "application/json" }},
    body: body ? JSON.stringify(body) : undefined }});
  return {{ status: r.status, body: r.status === 204 ? null : await r.json() }};
}};
const sp = await call("GET", "/v1.0/servicePrincipals?$filter=" + encodeURIComponent("displayName eq 'vmJ'"));
const principal = sp.body.value.find((s) => s.alternativeNames[1].includes({json.dumps(rg.lower())})).id;
const g = await call("POST", "/v1.0/groups", {{ displayName: {json.dumps(group)}, mailEnabled: false, mailNickname: {json.dumps(group)}, securityEnabled: true }});
const add = await call("POST", `/v1.0/groups/${{g.body.id}}/members/$ref`, {{ "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${{principal}}` }});
const members = await call("GET", `/v1.0/groups/${{g.body.id}}/members`);
console.log(JSON.stringify({{ principal, group: g.body.id, add: add.status, members: members.body.value.map((m) => m.id) }}));
""")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "HTTP", "HTTPS"))}
        env["NODE_EXTRA_CA_CERTS"] = str(mimic.ca_path)
        p = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60, env=env, cwd=JS_DIR)
    finally:
        script.unlink(missing_ok=True)
    assert p.returncode == 0, p.stderr + p.stdout
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["principal"] == vm["identity"]["principalId"]
    assert got["add"] == 204 and got["members"] == [got["principal"]]
    scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    assign_role(mimic, got["group"], READER, scope, principal_type="Group")
    assert mimic.arm("GET", scope, api_version=RG_API, token=imds_token(mimic, f"{rg}/vmJ")).status_code == 200
