"""Applications, service principals and groups as the Azure CLI's own Graph scenario tests use
them (azure-cli `role/tests/latest/test_graph.py`, run here with az's own commands): an
application's full property set kept and returned, App ID URIs (resolution, uniqueness, verified
domains), credentials listed newest first, owners on applications, service principals and groups,
and password profiles that only force a change.
"""

from __future__ import annotations

import json

from mimic_harness import MimicServer, graph, unique

APP_ROLES = [
    {"allowedMemberTypes": ["User"], "displayName": "Writer", "id": "d1c2ade8-0000-0000-0000-6d06b947c66f", "isEnabled": True,
     "description": "Writers can create tasks.", "value": "Writer"},
    {"allowedMemberTypes": ["Application"], "displayName": "ConsumerApps", "id": "47fbb575-0000-0000-0000-0f7a6c30beac",
     "isEnabled": True, "description": "Consumer apps read consumer data.", "value": "Consumer"},
]
OPTIONAL_CLAIMS = {"idToken": [{"name": "auth_time", "essential": False}], "accessToken": [{"name": "ipaddr", "essential": False}],
                   "saml2Token": [{"name": "upn", "essential": False}]}
REQUIRED_RESOURCE_ACCESS = [
    {"resourceAccess": [{"id": "41094075-9dad-400e-a0bd-54e686782033", "type": "Scope"}],
     "resourceAppId": "797f4846-ba00-4fd7-ba43-dac1f8f63013"},
    {"resourceAccess": [{"id": "c79f8feb-a9db-4090-85f9-90d820caa0eb", "type": "Scope"},
                        {"id": "18a4783c-866b-4cc7-a460-3d5e5662c884", "type": "Role"}],
     "resourceAppId": "00000003-0000-0000-c000-000000000000"},
]
PASSWORD = "Gr4ph-Scenario-Passw0rd!"


def property_args() -> list[str]:
    return ["--is-fallback-public-client", "True",
            "--web-home-page-url", "https://myapp.com/",
            "--web-redirect-uris", "http://localhost/webtest1", "http://localhost/webtest2",
            "--enable-access-token-issuance", "true", "--enable-id-token-issuance", "true",
            "--public-client-redirect-uris", "http://localhost/publicclienttest1", "http://localhost/publicclienttest2",
            "--app-roles", json.dumps(APP_ROLES), "--optional-claims", json.dumps(OPTIONAL_CLAIMS),
            "--required-resource-accesses", json.dumps(REQUIRED_RESOURCE_ACCESS)]


def check_properties(app: dict, name: str, uri: str) -> None:
    assert app["displayName"] == name and app["identifierUris"] == [uri], app
    assert app["isFallbackPublicClient"] is True
    assert app["web"]["homePageUrl"] == "https://myapp.com/"
    assert sorted(app["web"]["redirectUris"]) == ["http://localhost/webtest1", "http://localhost/webtest2"]
    assert app["web"]["implicitGrantSettings"] == {"enableIdTokenIssuance": True, "enableAccessTokenIssuance": True}
    assert len(app["publicClient"]["redirectUris"]) == 2
    assert app["appRoles"] == APP_ROLES
    assert len(app["optionalClaims"]) == 3 and app["requiredResourceAccess"] == REQUIRED_RESOURCE_ACCESS


def new_user(mimic: MimicServer) -> dict:
    domain = mimic.admin["userName"].split("@")[1]
    upn = f"{unique('owner')}@{domain}"
    r = graph(mimic, "POST", "/v1.0/users", json={"accountEnabled": True, "displayName": upn, "mailNickname": upn.split("@")[0],
                                                  "userPrincipalName": upn, "passwordProfile": {"password": PASSWORD}})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_application_keeps_its_properties_on_create_and_update(mimic: MimicServer, az_sp):
    name = unique("azure-cli-test")
    uri = f"api://{name}"
    app = az_sp("ad", "app", "create", "--display-name", name, "--identifier-uris", uri, "--sign-in-audience", "AzureADMultipleOrgs",
                *property_args())
    check_properties(app, name, uri)
    assert app["signInAudience"] == "AzureADMultipleOrgs"
    az_sp("ad", "app", "delete", "--id", app["appId"])
    assert az_sp.run("ad", "app", "show", "--id", app["appId"], check=False).returncode != 0

    # Create, then update: PATCH keeps what it does not name.
    app = az_sp("ad", "app", "create", "--display-name", unique("azure-cli-test"))
    name3 = unique("azure-cli-test")
    az_sp("ad", "app", "update", "--id", app["appId"], "--display-name", name3, "--identifier-uris", f"api://{name3}",
          *property_args(), output=None)
    shown = az_sp("ad", "app", "show", "--id", app["appId"])
    check_properties(shown, name3, f"api://{name3}")
    az_sp("ad", "app", "update", "--id", app["appId"], "--web-home-page-url", "https://other.example/", output=None)
    shown = az_sp("ad", "app", "show", "--id", app["appId"])
    assert shown["web"]["homePageUrl"] == "https://other.example/" and len(shown["web"]["redirectUris"]) == 2, shown["web"]
    assert shown["web"]["implicitGrantSettings"]["enableIdTokenIssuance"] is True
    assert shown["appRoles"] == APP_ROLES

    # Shapes Graph refuses.
    for body in ({"signInAudience": "Everyone"}, {"appRoles": [{"value": "x"}]}, {"appRoles": [APP_ROLES[0], APP_ROLES[0]]},
                 {"tags": "one"}, {"web": "https://x"}):
        r = graph(mimic, "PATCH", f"/v1.0/applications/{app['id']}", json=body)
        assert r.status_code == 400, (body, r.text)


def test_app_id_uris_resolve_apps_and_principals_and_are_unique(mimic: MimicServer, az_sp):
    name = unique("azure-cli-test")
    uri = f"api://{name}"
    app = az_sp("ad", "app", "create", "--display-name", name, "--identifier-uris", uri)
    assert az_sp("ad", "app", "show", "--id", uri)["appId"] == app["appId"]
    sp = az_sp("ad", "sp", "create", "--id", app["appId"])
    assert sp["servicePrincipalNames"][0] == app["appId"] and uri in sp["servicePrincipalNames"], sp
    assert sp["appDisplayName"] == name
    assert az_sp("ad", "sp", "show", "--id", uri)["id"] == sp["id"]

    # Another application cannot take the URI.
    other = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("dup"), "identifierUris": [uri]})
    assert other.status_code == 400, other.text
    assert other.json()["error"]["message"] == "Another object with the same value for property identifierUris already exists."
    # A URI off the tenant's domains is refused; one on it is not.
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("web"), "identifierUris": ["https://contoso.example/api"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "HostNameNotOnVerifiedDomain", r.text
    domain = mimic.admin["userName"].split("@")[1]
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("web"), "identifierUris": [f"https://{domain}/api"]})
    assert r.status_code == 201, r.text

    # Renaming the URI renames the principal.
    renamed = f"api://{unique('renamed')}"
    az_sp("ad", "app", "update", "--id", app["appId"], "--identifier-uris", renamed, output=None)
    assert az_sp("ad", "sp", "show", "--id", renamed)["id"] == sp["id"]
    assert az_sp.run("ad", "sp", "show", "--id", uri, check=False).returncode != 0


def credential_scenario(az_sp, kind: str, app_id: str) -> None:
    """azure-cli's `_test_credential`, step by step."""
    az_sp("ad", kind, "credential", "reset", "--id", app_id, "--append", "--years", "2", "--display-name", "key1")
    listed = az_sp("ad", kind, "credential", "list", "--id", app_id)
    assert len(listed) == 1, listed
    key_id = listed[0]["keyId"]
    az_sp("ad", kind, "credential", "reset", "--id", app_id, "--append", "--display-name", "key2")
    listed = az_sp("ad", kind, "credential", "list", "--id", app_id)
    assert [c["displayName"] for c in listed] == ["key2", "key1"], listed  # Graph lists newest first
    az_sp("ad", kind, "credential", "delete", "--id", app_id, "--key-id", key_id, output=None)
    assert len(az_sp("ad", kind, "credential", "list", "--id", app_id)) == 1
    az_sp("ad", kind, "credential", "reset", "--id", app_id, "--end-date", "2100-12-31T11:59:59+00:00")
    assert az_sp("ad", kind, "credential", "list", "--id", app_id)[0]["endDateTime"] == "2100-12-31T11:59:59Z"
    az_sp("ad", kind, "credential", "reset", "--id", app_id, "--end-date", "2100-12-31")
    assert az_sp("ad", kind, "credential", "list", "--id", app_id)[0]["endDateTime"] == "2100-12-31T00:00:00Z"


def test_application_and_service_principal_credentials(mimic: MimicServer, az_sp):
    app = az_sp("ad", "app", "create", "--display-name", unique("azure-cli-test"))
    credential_scenario(az_sp, "app", app["appId"])
    app2 = az_sp("ad", "app", "create", "--display-name", unique("azure-cli-test"))
    az_sp("ad", "sp", "create", "--id", app2["appId"])
    credential_scenario(az_sp, "sp", app2["appId"])


def test_owners_of_applications_principals_and_groups(mimic: MimicServer, az_sp):
    user = new_user(mimic)
    app = az_sp("ad", "app", "create", "--display-name", unique("azure-cli-test"))
    az_sp("ad", "app", "owner", "add", "--owner-object-id", user["id"], "--id", app["appId"], output=None)
    az_sp("ad", "app", "owner", "add", "--owner-object-id", user["id"], "--id", app["appId"], output=None)  # idempotent in az
    owners = az_sp("ad", "app", "owner", "list", "--id", app["appId"])
    assert [o["userPrincipalName"] for o in owners] == [user["userPrincipalName"]], owners
    # Graph itself refuses a second add.
    r = graph(mimic, "POST", f"/v1.0/applications/{app['id']}/owners/$ref",
              json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"})
    assert r.status_code == 400 and "already exist" in r.text, r.text
    owned = graph(mimic, "GET", f"/v1.0/users/{user['id']}/ownedObjects").json()["value"]
    assert [o["id"] for o in owned] == [app["id"]], owned
    az_sp("ad", "app", "owner", "remove", "--owner-object-id", user["id"], "--id", app["appId"], output=None)
    assert az_sp("ad", "app", "owner", "list", "--id", app["appId"]) == []

    az_sp("ad", "sp", "create", "--id", app["appId"])
    assert az_sp("ad", "sp", "owner", "list", "--id", app["appId"]) == []

    group = unique("testgroup")
    g = az_sp("ad", "group", "create", "--display-name", group, "--mail-nickname", group, "--description", group)
    assert az_sp("ad", "group", "owner", "list", "-g", g["id"]) == []
    user2 = new_user(mimic)
    az_sp("ad", "group", "owner", "add", "-g", g["id"], "--owner-object-id", user["id"], output=None)
    az_sp("ad", "group", "owner", "add", "-g", g["id"], "--owner-object-id", user2["id"], output=None)
    assert len(az_sp("ad", "group", "owner", "list", "-g", g["id"])) == 2
    az_sp("ad", "group", "owner", "remove", "-g", g["id"], "--owner-object-id", user["id"], output=None)
    assert [o["id"] for o in az_sp("ad", "group", "owner", "list", "-g", g["id"])] == [user2["id"]]
    # A group is no owner, and removing a non-owner is a 404.
    r = graph(mimic, "POST", f"/v1.0/groups/{g['id']}/owners/$ref",
              json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{g['id']}"})
    assert r.status_code == 400, r.text
    assert graph(mimic, "DELETE", f"/v1.0/groups/{g['id']}/owners/{user['id']}/$ref").status_code == 404


def test_a_password_profile_may_only_force_a_change(mimic: MimicServer, az_sp):
    domain = mimic.admin["userName"].split("@")[1]
    name = unique("graphusertest")
    user = az_sp("ad", "user", "create", "--display-name", name, "--mail-nickname", name, "--password", PASSWORD,
                 "--force-change-password-next-sign-in", "true", "--user-principal-name", f"{name}@{domain}")
    az_sp("ad", "user", "update", "--id", user["id"], "--display-name", name + "x", "--account-enabled", "false",
          "--password", PASSWORD, "--force-change-password-next-sign-in", "true", output=None)
    assert az_sp("ad", "user", "show", "--id", f"{name}@{domain}")["displayName"] == name + "x"
    r = graph(mimic, "PATCH", f"/v1.0/users/{user['id']}", json={"passwordProfile": {"forceChangePasswordNextSignIn": True}})
    assert r.status_code == 204, r.text
    r = graph(mimic, "PATCH", f"/v1.0/users/{user['id']}", json={"passwordProfile": {"forceChangePasswordNextSignIn": "yes"}})
    assert r.status_code == 400, r.text


def test_deleted_items_are_restorable_and_purgeable(mimic: MimicServer, az_sp):
    from mimic_harness import ARM_SCOPE
    uri = f"api://{unique('bin')}"
    app = az_sp("ad", "app", "create", "--display-name", unique("bin"), "--identifier-uris", uri)
    sp = az_sp("ad", "sp", "create", "--id", app["appId"])
    secret = graph(mimic, "POST", f"/v1.0/applications/{app['id']}/addPassword", json={}).json()["secretText"]

    def sign_in() -> int:
        return mimic.token_request({"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": secret,
                                    "scope": ARM_SCOPE}).status_code

    assert sign_in() == 200
    az_sp("ad", "app", "delete", "--id", app["appId"], output=None)
    assert sign_in() == 400
    apps = graph(mimic, "GET", "/v1.0/directory/deletedItems/microsoft.graph.application").json()["value"]
    deleted = next(a for a in apps if a["id"] == app["id"])
    assert deleted["deletedDateTime"] and deleted["identifierUris"] == [uri], deleted
    sps = graph(mimic, "GET", "/v1.0/directory/deletedItems/microsoft.graph.servicePrincipal").json()["value"]
    assert sp["id"] in [s["id"] for s in sps]
    assert graph(mimic, "GET", f"/v1.0/directory/deletedItems/{app['id']}").json()["displayName"] == app["displayName"]
    # Its App ID URI stays taken while it can be restored.
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("taker"), "identifierUris": [uri]})
    assert r.status_code == 400, r.text
    # The principal cannot come back before its application.
    assert graph(mimic, "POST", f"/v1.0/directory/deletedItems/{sp['id']}/restore").status_code == 400

    r = graph(mimic, "POST", f"/v1.0/directory/deletedItems/{app['id']}/restore")
    assert r.status_code == 200 and r.json()["id"] == app["id"], r.text
    assert graph(mimic, "POST", f"/v1.0/directory/deletedItems/{sp['id']}/restore").status_code == 200
    assert sign_in() == 200
    assert az_sp("ad", "app", "show", "--id", uri)["id"] == app["id"]

    # Deleted again and purged, as az's own tests clean up.
    az_sp("ad", "app", "delete", "--id", app["appId"], output=None)
    assert graph(mimic, "DELETE", f"/v1.0/directory/deletedItems/{app['id']}").status_code == 204
    assert graph(mimic, "GET", f"/v1.0/directory/deletedItems/{app['id']}").status_code == 404
    assert graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("taker"), "identifierUris": [uri]}).status_code == 201

    # Users come back; security groups are gone at once.
    user = new_user(mimic)
    assert graph(mimic, "DELETE", f"/v1.0/users/{user['id']}").status_code == 204
    assert graph(mimic, "GET", f"/v1.0/users/{user['id']}").status_code == 404
    assert graph(mimic, "POST", f"/v1.0/directory/deletedItems/{user['id']}/restore").status_code == 200
    assert graph(mimic, "GET", f"/v1.0/users/{user['id']}").status_code == 200
    g = graph(mimic, "POST", "/v1.0/groups", json={"displayName": "g", "mailEnabled": False, "mailNickname": unique("g"),
                                                   "securityEnabled": True}).json()
    assert graph(mimic, "DELETE", f"/v1.0/groups/{g['id']}").status_code == 204
    assert graph(mimic, "GET", f"/v1.0/directory/deletedItems/{g['id']}").status_code == 404
    assert graph(mimic, "GET", "/v1.0/directory/deletedItems").status_code == 400


GRAPH_APP = "00000003-0000-0000-c000-000000000000"
ARM_APP = "797f4846-ba00-4fd7-ba43-dac1f8f63013"


def permission_id(sp: dict, collection: str, value: str) -> str:
    return next(p["id"] for p in sp[collection] if p["value"] == value)


def test_microsoft_apis_publish_permissions_that_apps_request_and_are_granted(mimic: MimicServer, az_sp):
    """azure-cli's `test_app_permission` and `test_app_permission_grant`, and an application
    permission granted as an app role assignment showing in the app's token (`roles`)."""
    graph_sp = az_sp("ad", "sp", "show", "--id", GRAPH_APP)
    assert graph_sp["displayName"] == "Microsoft Graph" and graph_sp["appOwnerOrganizationId"] == "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
    scope = permission_id(graph_sp, "oauth2PermissionScopes", "Application.Read.All")
    role = permission_id(graph_sp, "appRoles", "Application.ReadWrite.OwnedBy")
    arm_sp = az_sp("ad", "sp", "show", "--id", ARM_APP)
    impersonation = permission_id(arm_sp, "oauth2PermissionScopes", "user_impersonation")

    created = az_sp("ad", "sp", "create-for-rbac", "--name", unique("cli-app-"))
    app_id = created["appId"]
    az_sp("ad", "app", "permission", "add", "--id", app_id, "--api", GRAPH_APP, "--api-permissions", f"{scope}=Scope", f"{role}=Role",
          output=None)
    az_sp("ad", "app", "permission", "add", "--id", app_id, "--api", ARM_APP, "--api-permissions", f"{impersonation}=Scope", output=None)
    permissions = az_sp("ad", "app", "permission", "list", "--id", app_id)
    graph_access = next(p for p in permissions if p["resourceAppId"] == GRAPH_APP)
    assert graph_access["resourceAccess"] == [{"id": scope, "type": "Scope"}, {"id": role, "type": "Role"}], permissions
    az_sp("ad", "app", "permission", "delete", "--id", app_id, "--api", GRAPH_APP, "--api-permissions", scope, output=None)
    graph_access = next(p for p in az_sp("ad", "app", "permission", "list", "--id", app_id) if p["resourceAppId"] == GRAPH_APP)
    assert graph_access["resourceAccess"] == [{"id": role, "type": "Role"}]

    # Delegated consent.
    az_sp("ad", "app", "permission", "grant", "--id", app_id, "--api", GRAPH_APP, "--scope", "Directory.Read.All")
    grants = az_sp("ad", "app", "permission", "list-grants", "--id", app_id, "--show-resource-name")
    assert len(grants) == 1 and grants[0]["resourceId"] == graph_sp["id"], grants
    assert grants[0]["resourceDisplayName"] == "Microsoft Graph" and grants[0]["scope"] == "Directory.Read.All"
    az_sp("ad", "app", "permission", "grant", "--id", app_id, "--api", GRAPH_APP, "--scope", "Directory.Read.All", "Application.Read.All")
    grants = az_sp("ad", "app", "permission", "list-grants", "--id", app_id)
    assert len(grants) == 1 and grants[0]["scope"] == "Directory.Read.All Application.Read.All", grants

    # Application permission: an app role assignment on Microsoft Graph, then in the token.
    client_sp = az_sp("ad", "sp", "show", "--id", app_id)

    def app_token_roles() -> list | None:
        r = mimic.token_request({"grant_type": "client_credentials", "client_id": app_id, "client_secret": created["password"],
                                 "scope": "https://graph.microsoft.com/.default"})
        assert r.status_code == 200, r.text
        from mimic_harness import jwt_parts
        return jwt_parts(r.json()["access_token"])[1].get("roles")

    assert app_token_roles() is None
    r = graph(mimic, "POST", f"/v1.0/servicePrincipals/{client_sp['id']}/appRoleAssignments",
              json={"principalId": client_sp["id"], "resourceId": graph_sp["id"], "appRoleId": role})
    assert r.status_code == 201, r.text
    assignment = r.json()
    assert assignment["resourceDisplayName"] == "Microsoft Graph" and assignment["appRoleId"] == role, assignment
    assert app_token_roles() == ["Application.ReadWrite.OwnedBy"]
    assigned_to = graph(mimic, "GET", f"/v1.0/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo").json()["value"]
    assert assignment["id"] in [a["id"] for a in assigned_to]
    # A role the resource does not publish, and the same role twice, are refused.
    for role_id in ("11111111-2222-3333-4444-555555555555", role):
        r = graph(mimic, "POST", f"/v1.0/servicePrincipals/{client_sp['id']}/appRoleAssignments",
                  json={"principalId": client_sp["id"], "resourceId": graph_sp["id"], "appRoleId": role_id})
        assert r.status_code == 400, r.text
    assert graph(mimic, "DELETE", f"/v1.0/servicePrincipals/{client_sp['id']}/appRoleAssignments/{assignment['id']}").status_code == 204
    assert app_token_roles() is None
    # Microsoft's principals are not the tenant's to change.
    assert graph(mimic, "POST", f"/v1.0/servicePrincipals/{graph_sp['id']}/addPassword", json={}).status_code == 400
    assert graph(mimic, "DELETE", f"/v1.0/servicePrincipals/{graph_sp['id']}").status_code == 400


def graph_token(mimic: MimicServer, app_id: str, secret: str) -> str:
    r = mimic.client_credentials(client_id=app_id, secret=secret, scope="https://graph.microsoft.com/.default")
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_an_app_only_caller_is_authorised_by_its_graph_application_permissions(mimic: MimicServer, az_sp):
    """Graph's "Permissions" tables: an app-only token's `roles` decide what it may do (List
    applications — Application: Application.Read.All ...; Create application —
    Application.ReadWrite.All; List users — User.Read.All ...); without any, 403
    Authorization_RequestDenied "Insufficient privileges to complete the operation."."""
    graph_sp = az_sp("ad", "sp", "show", "--id", GRAPH_APP)
    created = az_sp("ad", "sp", "create-for-rbac", "--name", unique("graph-caller-"))
    caller_sp = az_sp("ad", "sp", "show", "--id", created["appId"])

    def as_caller(method: str, path: str, **kw):
        return graph(mimic, method, path, token=graph_token(mimic, created["appId"], created["password"]), **kw)

    denied = as_caller("GET", "/v1.0/applications")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied", denied.text

    def grant(value: str) -> None:
        r = graph(mimic, "POST", f"/v1.0/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
                  json={"principalId": caller_sp["id"], "resourceId": graph_sp["id"], "appRoleId": permission_id(graph_sp, "appRoles", value)})
        assert r.status_code == 201, r.text

    grant("Application.ReadWrite.All")
    assert as_caller("GET", "/v1.0/applications").status_code == 200
    made = as_caller("POST", "/v1.0/applications", json={"displayName": unique("made-by-app")})
    assert made.status_code == 201, made.text
    assert as_caller("GET", "/v1.0/users").status_code == 403, "Application.ReadWrite.All does not read users"
    assert as_caller("POST", "/v1.0/groups", json={"displayName": "g", "mailEnabled": False, "mailNickname": "g",
                                                   "securityEnabled": True}).status_code == 403
    grant("User.Read.All")
    assert as_caller("GET", "/v1.0/users").status_code == 200
    assert as_caller("POST", "/v1.0/users", json={"accountEnabled": True, "displayName": "x", "mailNickname": "x",
                                                  "userPrincipalName": f"x{unique('u')}@{mimic.admin['userName'].split('@')[1]}",
                                                  "passwordProfile": {"password": PASSWORD}}).status_code == 403


def test_delegated_grants_are_the_scopes_of_user_tokens(mimic: MimicServer, az_sp):
    """An `oauth2PermissionGrant` from a client to an API puts its scopes in users' tokens for
    that API (`scp`; the v2 response's `scope` names them under the API), for every user
    (`AllPrincipals`) or one (`Principal`) — learn.microsoft.com "Overview of permissions and
    consent"; without one Mimic issues `user_impersonation`."""
    api_app_uri = f"api://{unique('orders')}"
    api = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("orders-api"), "identifierUris": [api_app_uri]}).json()
    api_sp = graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": api["appId"]}).json()
    client = az_sp("ad", "sp", "create-for-rbac", "--name", unique("orders-client-"))
    client_sp = az_sp("ad", "sp", "show", "--id", client["appId"])
    user, other = new_user(mimic), new_user(mimic)

    def user_token(who: dict) -> tuple[dict, str]:
        r = mimic.token_request({"grant_type": "password", "client_id": client["appId"], "client_secret": client["password"],
                                 "username": who["userPrincipalName"], "password": PASSWORD, "scope": f"{api_app_uri}/.default"})
        assert r.status_code == 200, r.text
        from mimic_harness import jwt_parts
        return jwt_parts(r.json()["access_token"])[1], r.json().get("scope", "")

    assert user_token(user)[0]["scp"] == "user_impersonation"
    r = graph(mimic, "POST", "/v1.0/oauth2PermissionGrants", json={"clientId": client_sp["id"], "consentType": "AllPrincipals",
                                                                  "resourceId": api_sp["id"], "scope": "Orders.Read Orders.Write"})
    assert r.status_code == 201, r.text
    everyone = r.json()
    claims, scope = user_token(user)
    assert claims["scp"] == "Orders.Read Orders.Write" and claims["aud"] == api_app_uri
    assert scope.split() == [f"{api_app_uri}/Orders.Read", f"{api_app_uri}/Orders.Write"]
    assert graph(mimic, "DELETE", f"/v1.0/oauth2PermissionGrants/{everyone['id']}").status_code == 204
    r = graph(mimic, "POST", "/v1.0/oauth2PermissionGrants", json={"clientId": client_sp["id"], "consentType": "Principal",
                                                                  "principalId": user["id"], "resourceId": api_sp["id"], "scope": "Orders.Read"})
    assert r.status_code == 201, r.text
    assert user_token(user)[0]["scp"] == "Orders.Read"
    assert user_token(other)[0]["scp"] == "user_impersonation", "one user's consent is not another's"


def test_app_roles_assigned_to_users_and_groups_are_the_roles_of_their_tokens(mimic: MimicServer, az_sp):
    """Graph `appRoleAssignment` to a user (`POST /users/{id}/appRoleAssignments`) or a group
    (`POST /servicePrincipals/{id}/appRoleAssignedTo`): the role must allow the `User` member type;
    the values are the `roles` of the user's tokens for that API, a group's for its members
    (learn.microsoft.com "Add app roles to your application and receive them in the token")."""
    uri = f"api://{unique('tasks')}"
    api = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("tasks-api"), "identifierUris": [uri],
                                                           "appRoles": APP_ROLES}).json()
    api_sp = graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": api["appId"]}).json()
    client = az_sp("ad", "sp", "create-for-rbac", "--name", unique("tasks-client-"))
    writer, reader = APP_ROLES[0]["id"], APP_ROLES[1]["id"]
    direct, via_group = new_user(mimic), new_user(mimic)
    group = graph(mimic, "POST", "/v1.0/groups", json={"displayName": unique("tasks-writers"), "mailEnabled": False,
                                                       "mailNickname": unique("tw"), "securityEnabled": True}).json()
    r = graph(mimic, "POST", f"/v1.0/groups/{group['id']}/members/$ref",
              json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{via_group['id']}"})
    assert r.status_code == 204, r.text

    def roles_of(who: dict):
        r = mimic.token_request({"grant_type": "password", "client_id": client["appId"], "client_secret": client["password"],
                                 "username": who["userPrincipalName"], "password": PASSWORD, "scope": f"{uri}/.default"})
        assert r.status_code == 200, r.text
        from mimic_harness import jwt_parts
        return jwt_parts(r.json()["access_token"])[1].get("roles")

    assert roles_of(direct) is None
    r = graph(mimic, "POST", f"/v1.0/users/{direct['id']}/appRoleAssignments",
              json={"principalId": direct["id"], "resourceId": api_sp["id"], "appRoleId": writer})
    assert r.status_code == 201 and r.json()["principalType"] == "User", r.text
    to_user = r.json()
    assert roles_of(direct) == ["Writer"]
    bad = graph(mimic, "POST", f"/v1.0/users/{direct['id']}/appRoleAssignments",
                json={"principalId": direct["id"], "resourceId": api_sp["id"], "appRoleId": reader})
    assert bad.status_code == 400, "an Application-only role is not for users"
    r = graph(mimic, "POST", f"/v1.0/servicePrincipals/{api_sp['id']}/appRoleAssignedTo",
              json={"principalId": group["id"], "resourceId": api_sp["id"], "appRoleId": writer})
    assert r.status_code == 201 and r.json()["principalType"] == "Group", r.text
    to_group = r.json()
    assert roles_of(via_group) == ["Writer"], "a group's app role is its members'"
    assigned = graph(mimic, "GET", f"/v1.0/servicePrincipals/{api_sp['id']}/appRoleAssignedTo").json()["value"]
    assert {(a["principalId"], a["principalType"]) for a in assigned} == {(direct["id"], "User"), (group["id"], "Group")}
    mine = graph(mimic, "GET", f"/v1.0/users/{direct['id']}/appRoleAssignments").json()["value"]
    assert [a["id"] for a in mine] == [to_user["id"]]
    assert graph(mimic, "DELETE", f"/v1.0/users/{direct['id']}/appRoleAssignments/{to_user['id']}").status_code == 204
    assert graph(mimic, "DELETE", f"/v1.0/servicePrincipals/{api_sp['id']}/appRoleAssignedTo/{to_group['id']}").status_code == 204
    assert roles_of(direct) is None and roles_of(via_group) is None
