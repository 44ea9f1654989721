"""A sandbox safe to share (the directory's part): no tenant user can steal a code
through the sign-in page, take over a more privileged administrator through Graph, get a token
for a confidential client without its secret or for a resource that does not exist, or sign
another user out of the portal from a foreign page.

Entra's rules, with their sources:
* Redirect URIs: learn.microsoft.com/entra/identity-platform/reply-url (exact match; for
  `localhost`/`127.0.0.1` only the port may differ; `[::1]` unsupported). AADSTS50011's text as
  Entra shows it (quoted in many public reports, e.g. the "Error AADSTS50011" support article).
* Who may act on which user: learn.microsoft.com/entra/identity/role-based-access-control/
  privileged-roles-permissions, tables "Who can reset passwords" and "Who can perform sensitive
  actions" (also Graph's "Working with users" page); 403 `Authorization_RequestDenied`.
* Role-assignable groups: only Privileged Role / Global Administrators create them and manage
  their members; only they hold directory roles.
* AADSTS7000218 / AADSTS500011: Entra's error reference (the texts in login/token.rs).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests

from mimic_harness import AZ_CLI_CLIENT_ID, MimicServer, graph, make_vm, unique

GA = "62e90394-69f5-4237-9190-012177145e10"
PRA = "e8611ab8-c189-46e8-94e1-60213ab1f814"
PAA = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
AUTH = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
PASSWORD_ADMIN = "966707d0-3269-4727-9be2-8c3a10f19b9d"
GROUPS_ADMIN = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
APP_ADMIN = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
PASSWORD = "Str0ng!Passw0rd"
DENIED = "Insufficient privileges to complete the operation."


# ---- helpers --------------------------------------------------------------------------------


def denied(r: requests.Response) -> None:
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert (err["code"], err["message"]) == ("Authorization_RequestDenied", DENIED), err


def aad_error(r: requests.Response, status: int, error: str, code: int) -> str:
    """Entra's OAuth2 error body; returns the description's first line."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error and body["error_codes"] == [code], body
    assert {"timestamp", "trace_id", "correlation_id", "error_uri"} <= set(body), body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body
    return body["error_description"].split("\r\n")[0]


def new_user(mimic: MimicServer, role: str | None = None, prefix: str = "u") -> dict:
    domain = mimic.admin["userName"].split("@")[1]
    upn = f"{unique(prefix)}@{domain}"
    r = graph(mimic, "POST", "/v1.0/users", json={"accountEnabled": True, "displayName": upn, "mailNickname": upn.split("@")[0],
                                                  "userPrincipalName": upn, "passwordProfile": {"password": PASSWORD}})
    assert r.status_code == 201, r.text
    user = {"id": r.json()["id"], "upn": upn, "password": PASSWORD}
    if role:
        assign(mimic, user["id"], role)
    return user


def assign(mimic: MimicServer, principal: str, role: str, token: str | None = None) -> requests.Response:
    r = graph(mimic, "POST", "/v1.0/roleManagement/directory/roleAssignments", token=token,
              json={"principalId": principal, "roleDefinitionId": role, "directoryScopeId": "/"})
    if token is None:
        assert r.status_code == 201, r.text
    return r


def user_token(mimic: MimicServer, user: dict) -> str:
    r = mimic.ropc(username=user["upn"], password=user["password"], scope=mimic.graph_url + "//.default")
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def can_sign_in(mimic: MimicServer, user: dict) -> bool:
    return mimic.ropc(username=user["upn"], password=user["password"]).status_code == 200


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(mimic: MimicServer, client_id: str, redirect_uri: str, challenge: str | None = None) -> str:
    q = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "scope": "openid offline_access",
         "state": "st4te"}
    if challenge:
        q |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{mimic.login_url}/{mimic.tenant_id}/oauth2/v2.0/authorize?{urlencode(q)}"


def sign_in(mimic: MimicServer, url: str, user: dict | None = None) -> requests.Response:
    """The sign-in page's form as a browser posts it, with the right password."""
    user = user or {"upn": mimic.admin["userName"], "password": mimic.admin["password"]}
    base, _, query = url.partition("?")
    return mimic.http.post(base, data={**dict(parse_qsl(query)), "login": user["upn"], "passwd": user["password"]},
                           allow_redirects=False, timeout=60)


# ---- 1. redirect URIs -------------------------------------------------------------------------

#: What a naive prefix check takes for loopback but a browser sends elsewhere, or what Entra's
#: rules refuse (reply-url: no IPv6 loopback, `http` only for loopback, path must match).
HOSTILE_REDIRECTS = [
    "http://localhost:1@evil.example/cb",
    "http://127.0.0.1:80@evil.example/",
    "http://localhost@evil.example/",
    "http://user:pw@localhost/",
    "http://localhost.evil.example/",
    "http://127.0.0.1.evil.example/",
    "http://evil.example\\@localhost/",
    "http://localhost\\@evil.example/",
    "http://localhost:8400\\@evil.example/",
    "http://localhost/#@evil.example",
    "http://localhost:8400#x",
    "http://%6cocalhost/",
    "http://localhost%2eevil.example/",
    "http://localhost%40evil.example/",
    "http://[::1]:8400/",
    "http://localhost:99999/",
    "http://localhost:8400/cb",
    "http://localhost//evil.example/",
    "https://evil.example/",
    "//evil.example/",
]


@pytest.mark.parametrize("redirect_uri", HOSTILE_REDIRECTS)
def test_az_sign_in_never_redirects_a_code_off_loopback(mimic: MimicServer, redirect_uri: str):
    """AADSTS50011 on an error page (never a redirect), on the GET and on the form's POST with
    the right password: no code is issued, so there is none to steal."""
    _, challenge = pkce()
    url = authorize_url(mimic, AZ_CLI_CLIENT_ID, redirect_uri, challenge)
    for r in (mimic.http.get(url, allow_redirects=False, timeout=30), sign_in(mimic, url)):
        assert r.status_code == 400 and "Location" not in r.headers, (r.status_code, r.headers)
        assert "AADSTS50011: The redirect URI" in r.text and "does not match the redirect URIs configured for the application" in r.text
        assert "aka.ms/redirectUriMismatchError" in r.text


@pytest.mark.parametrize("redirect_uri", ["http://localhost", "http://localhost:8400", "http://localhost:61234/", "http://127.0.0.1:50000"])
def test_az_loopback_redirects_with_any_port_work_end_to_end(mimic: MimicServer, redirect_uri: str):
    """The legitimate flow az (MSAL) runs: any port on loopback; the code redeemed with PKCE."""
    verifier, challenge = pkce()
    r = sign_in(mimic, authorize_url(mimic, AZ_CLI_CLIENT_ID, redirect_uri, challenge))
    assert r.status_code == 302, r.text
    loc = urlsplit(r.headers["Location"])
    assert (loc.scheme, loc.hostname) == ("http", urlsplit(redirect_uri).hostname), r.headers["Location"]
    code = parse_qs(loc.query)["code"][0]
    t = mimic.token_request({"grant_type": "authorization_code", "client_id": AZ_CLI_CLIENT_ID, "code": code,
                             "redirect_uri": redirect_uri, "code_verifier": verifier, "scope": "https://management.core.windows.net//.default"})
    assert t.status_code == 200, t.text


def test_registered_app_redirect_uris_match_exactly(mimic: MimicServer, client_ca: Path):
    """web / publicClient / spa `redirectUris` of an app registration: exact match (case-sensitive
    path, port only free on loopback). A code issued to a web redirect URI is redeemed by the
    confidential client with its secret (MSAL ConfidentialClientApplication); without it,
    AADSTS7000218."""
    import msal

    web, native = "https://app.example/signin-oidc", "http://localhost/native"
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("webapp"), "web": {"redirectUris": [web]},
                                                          "publicClient": {"redirectUris": [native]}})
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["web"]["redirectUris"] == [web] and app["publicClient"]["redirectUris"] == [native]
    secret = graph(mimic, "POST", f"/v1.0/applications/{app['id']}/addPassword", json={}).json()["secretText"]
    for bad in ["https://app.example/SIGNIN-OIDC", "https://app.example:8443/signin-oidc", "https://app.example/signin-oidc/x",
                "https://app.example.evil.example/signin-oidc", "https://app.example@evil.example/signin-oidc",
                "http://app.example/signin-oidc", "http://localhost:5000/other", "http://localhost:5000/native/x"]:
        r = mimic.http.get(authorize_url(mimic, app["appId"], bad), allow_redirects=False, timeout=30)
        assert r.status_code == 400 and "AADSTS50011" in r.text and "Location" not in r.headers, bad
    # Loopback: any port, same path.
    r = mimic.http.get(authorize_url(mimic, app["appId"], "http://localhost:5000/native"), allow_redirects=False, timeout=30)
    assert r.status_code == 200, r.text

    r = sign_in(mimic, authorize_url(mimic, app["appId"], web))
    assert r.status_code == 302 and r.headers["Location"].startswith(web + "?"), r.headers
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "client_id": app["appId"], "code": code, "redirect_uri": web,
            "scope": "https://management.azure.com/.default"}
    assert "'client_assertion' or 'client_secret'" in aad_error(mimic.token_request(form), 401, "invalid_client", 7000218)
    # That failed redemption used the code up (single use); a new one, redeemed by MSAL with the secret.
    r = sign_in(mimic, authorize_url(mimic, app["appId"], web))
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    cca = msal.ConfidentialClientApplication(app["appId"], client_credential=secret, authority=f"{mimic.login_url}/{mimic.tenant_id}",
                                             instance_discovery=False)
    result = cca.acquire_token_by_authorization_code(code, scopes=["https://management.azure.com/.default"], redirect_uri=web)
    assert "access_token" in result, result


def test_portal_client_redirects_only_to_its_own_callback(mimic: MimicServer):
    _, challenge = pkce()
    portal = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
    for bad in [mimic.portal_url + "/signin-oidc/../x", mimic.portal_url + "/signin-oidc#x", mimic.portal_url + "/other",
                "http://localhost:8400", mimic.portal_url.replace("https://", "https://x@") + "/signin-oidc"]:
        r = mimic.http.get(authorize_url(mimic, portal, bad, challenge), allow_redirects=False, timeout=30)
        assert r.status_code == 400 and "AADSTS50011" in r.text, bad


# ---- 2. who may act on which user (Entra's two tables) -----------------------------------------

#: actor role -> (may reset the password of, may disable/delete) for targets holding no role,
#: Helpdesk, User Administrator, Global Administrator (privileged-roles-permissions).
MATRIX = {
    USER_ADMIN:     ({"none", "helpdesk", "useradmin"}, {"none", "helpdesk", "useradmin"}),
    HELPDESK:       ({"none", "helpdesk"}, set()),
    PASSWORD_ADMIN: ({"none"}, set()),
    AUTH:           ({"none"}, {"none"}),
    PAA:            ({"none", "helpdesk", "useradmin", "ga"}, {"none", "helpdesk", "useradmin", "ga"}),
    GROUPS_ADMIN:   (set(), set()),
    APP_ADMIN:      (set(), set()),
}
TARGET_ROLES = {"none": None, "helpdesk": HELPDESK, "useradmin": USER_ADMIN, "ga": GA}


@pytest.fixture(scope="module")
def people(mimic: MimicServer) -> dict:
    actors = {role: new_user(mimic, role, "actor") for role in MATRIX}
    targets = {name: new_user(mimic, role, f"target-{name}") for name, role in TARGET_ROLES.items()}
    tokens = {role: user_token(mimic, u) for role, u in actors.items()}
    return {"actors": actors, "targets": targets, "tokens": tokens}


@pytest.mark.parametrize("actor", list(MATRIX), ids=["user-admin", "helpdesk", "password-admin", "auth-admin", "priv-auth-admin",
                                                     "groups-admin", "app-admin"])
def test_privilege_matrix_for_password_resets_and_sensitive_actions(mimic: MimicServer, people: dict, actor: str):
    may_reset, may_sensitive = MATRIX[actor]
    token = people["tokens"][actor]
    for name, target in people["targets"].items():
        new = f"N3w!{secrets.token_hex(6)}"
        r = graph(mimic, "PATCH", f"/v1.0/users/{target['id']}", token=token,  # as the msgraph SDK sends it
                  json={"@odata.type": "#microsoft.graph.user", "passwordProfile": {"password": new, "forceChangePasswordNextSignIn": False}})
        if name in may_reset:
            assert r.status_code == 204, (name, r.text)
            target["password"] = new
        else:
            denied(r)
        r = graph(mimic, "PATCH", f"/v1.0/users/{target['id']}", token=token, json={"accountEnabled": True})
        if name in may_sensitive:
            assert r.status_code == 204, (name, r.text)
        else:
            denied(r)
        assert can_sign_in(mimic, target), f"{name} keeps a working password"


def test_a_user_administrator_cannot_take_over_a_global_administrator(mimic: MimicServer):
    """The reported takeover: reset the GA's password, then sign in as the GA; also disable and
    delete the GA and give oneself Global Administrator. All 403; the GA is untouched."""
    ua = new_user(mimic, USER_ADMIN, "ua")
    ga = new_user(mimic, GA, "ga")
    token = user_token(mimic, ua)
    denied(graph(mimic, "PATCH", f"/v1.0/users/{ga['id']}", token=token, json={"passwordProfile": {"password": "Pwn3d!Passw0rd"}}))
    assert mimic.ropc(username=ga["upn"], password="Pwn3d!Passw0rd").status_code == 400
    denied(graph(mimic, "PATCH", f"/v1.0/users/{ga['id']}", token=token, json={"accountEnabled": False}))
    denied(graph(mimic, "PATCH", f"/v1.0/users/{ga['id']}", token=token, json={"displayName": "x", "accountEnabled": False}))
    denied(graph(mimic, "DELETE", f"/v1.0/users/{ga['id']}", token=token))
    denied(graph(mimic, "DELETE", f"/v1.0/directoryObjects/{ga['id']}", token=token))
    denied(assign(mimic, ua["id"], GA, token=token))
    denied(graph(mimic, "POST", f"/v1.0/directoryRoles/{GA}/members/$ref", token=token,
                 json={"@odata.id": f"{mimic.graph_url}/v1.0/directoryObjects/{ua['id']}"}))
    assert can_sign_in(mimic, ga)
    # What a User Administrator may do: basic properties of anyone, everything on a plain user.
    assert graph(mimic, "PATCH", f"/v1.0/users/{ga['id']}", token=token, json={"displayName": "Renamed GA"}).status_code == 204
    plain = new_user(mimic)
    assert graph(mimic, "DELETE", f"/v1.0/users/{plain['id']}", token=token).status_code == 204
    # A Privileged Authentication Administrator may reset the GA's password.
    paa = user_token(mimic, new_user(mimic, PAA, "paa"))
    assert graph(mimic, "PATCH", f"/v1.0/users/{ga['id']}", token=paa, json={"passwordProfile": {"password": "Rec0ver!Passw0rd"}}).status_code == 204
    assert mimic.ropc(username=ga["upn"], password="Rec0ver!Passw0rd").status_code == 200


def test_only_privileged_role_administrators_assign_roles(mimic: MimicServer):
    target = new_user(mimic)
    for role in (USER_ADMIN, GROUPS_ADMIN, PAA, HELPDESK, APP_ADMIN):
        denied(assign(mimic, target["id"], DIRECTORY_READERS, token=user_token(mimic, new_user(mimic, role, "nonpra"))))
    pra = user_token(mimic, new_user(mimic, PRA, "pra"))
    assert assign(mimic, target["id"], GA, token=pra).status_code == 201
    assignments = graph(mimic, "GET", "/v1.0/roleManagement/directory/roleAssignments").json()["value"]
    a = next(a for a in assignments if a["principalId"] == target["id"] and a["roleDefinitionId"] == GA)
    denied(graph(mimic, "DELETE", f"/v1.0/roleManagement/directory/roleAssignments/{a['id']}",
                 token=user_token(mimic, new_user(mimic, USER_ADMIN, "ua2"))))
    assert graph(mimic, "DELETE", f"/v1.0/roleManagement/directory/roleAssignments/{a['id']}", token=pra).status_code == 204


def test_role_assignable_groups_are_for_privileged_role_administrators(mimic: MimicServer):
    """A User or Groups Administrator can neither create a role-assignable group nor change its
    members (that would hand out the group's roles); its members hold its roles and are, as
    targets, protected like administrators."""
    ua = user_token(mimic, new_user(mimic, USER_ADMIN, "ua"))
    gadm = user_token(mimic, new_user(mimic, GROUPS_ADMIN, "gadm"))
    body = {"displayName": unique("rag"), "mailEnabled": False, "mailNickname": "rag", "securityEnabled": True, "isAssignableToRole": True}
    for t in (ua, gadm):
        denied(graph(mimic, "POST", "/v1.0/groups", token=t, json=body))
    r = graph(mimic, "POST", "/v1.0/groups", json=body)
    assert r.status_code == 201 and r.json()["isAssignableToRole"] is True, r.text
    rag = r.json()["id"]
    assign(mimic, rag, GA)
    # An ordinary group takes no directory role.
    plain = graph(mimic, "POST", "/v1.0/groups", json={**body, "isAssignableToRole": False, "displayName": unique("plain")}).json()
    r = assign(mimic, plain["id"], DIRECTORY_READERS, token=mimic.sp_token(mimic.graph_url + "/.default"))
    assert r.status_code == 400, r.text

    me = new_user(mimic, USER_ADMIN, "climber")
    ref = {"@odata.id": f"{mimic.graph_url}/v1.0/directoryObjects/{me['id']}"}
    for t in (ua, gadm, user_token(mimic, me)):
        denied(graph(mimic, "POST", f"/v1.0/groups/{rag}/members/$ref", token=t, json=ref))
        denied(graph(mimic, "PATCH", f"/v1.0/groups/{rag}", token=t, json={"description": "mine"}))
        denied(graph(mimic, "DELETE", f"/v1.0/groups/{rag}", token=t))
    assert graph(mimic, "POST", f"/v1.0/groups/{plain['id']}/members/$ref", token=gadm, json=ref).status_code == 204

    # A Privileged Role Administrator adds a member, who then holds Global Administrator.
    pra = user_token(mimic, new_user(mimic, PRA, "pra"))
    member = new_user(mimic, None, "ragmember")
    assert graph(mimic, "POST", f"/v1.0/groups/{rag}/members/$ref", token=pra,
                 json={"@odata.id": f"{mimic.graph_url}/v1.0/directoryObjects/{member['id']}"}).status_code == 204
    member_token = user_token(mimic, member)
    assert graph(mimic, "POST", "/v1.0/groups", token=member_token, json={**body, "displayName": unique("bymember")}).status_code == 201
    # ...and as a target is out of a User Administrator's reach.
    denied(graph(mimic, "PATCH", f"/v1.0/users/{member['id']}", token=ua, json={"passwordProfile": {"password": "Pwn3d!Passw0rd"}}))
    denied(graph(mimic, "DELETE", f"/v1.0/users/{member['id']}", token=ua))


def test_application_writes_need_an_application_role(mimic: MimicServer):
    ua = user_token(mimic, new_user(mimic, USER_ADMIN, "ua"))
    appadm = user_token(mimic, new_user(mimic, APP_ADMIN, "appadm"))
    denied(graph(mimic, "POST", "/v1.0/applications", token=ua, json={"displayName": "x"}))
    r = graph(mimic, "POST", "/v1.0/applications", token=appadm, json={"displayName": unique("byappadm")})
    assert r.status_code == 201, r.text
    app = r.json()
    denied(graph(mimic, "POST", f"/v1.0/applications/{app['id']}/addPassword", token=ua, json={}))
    denied(graph(mimic, "PATCH", f"/v1.0/applications/{app['id']}", token=ua, json={"web": {"redirectUris": ["https://evil.example/cb"]}}))
    denied(graph(mimic, "POST", "/v1.0/servicePrincipals", token=ua, json={"appId": app["appId"]}))
    assert graph(mimic, "POST", "/v1.0/servicePrincipals", token=appadm, json={"appId": app["appId"]}).status_code == 201
    # And user writes need a user role.
    denied(graph(mimic, "POST", "/v1.0/users", token=appadm, json={"accountEnabled": True, "displayName": "x", "mailNickname": "x",
                                                                    "userPrincipalName": "x@" + mimic.admin["userName"].split("@")[1],
                                                                    "passwordProfile": {"password": PASSWORD}}))


# ---- 3. client authentication and resources ---------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ROPC, on purpose
def test_password_grant_through_a_confidential_client_needs_its_secret(mimic: MimicServer, client_ca: Path, monkeypatch):
    """azure-identity's UsernamePasswordCredential (a public client) with a registered app's id:
    AADSTS7000218 unless the app allows public-client flows (`isFallbackPublicClient`)."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import UsernamePasswordCredential
    from msal.authority import Authority

    monkeypatch.setattr(Authority, "_domains_without_user_realm_discovery", {"127.0.0.1"})
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("confidential")})
    assert r.status_code == 201, r.text
    app = r.json()
    assert graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": app["appId"]}).status_code == 201
    user = new_user(mimic)
    cred = UsernamePasswordCredential(app["appId"], user["upn"], user["password"], tenant_id=mimic.tenant_id,
                                      authority=mimic.login_url, disable_instance_discovery=True)
    with pytest.raises(ClientAuthenticationError) as e:
        cred.get_token("https://management.azure.com/.default")
    assert "AADSTS7000218" in str(e.value) and "'client_assertion' or 'client_secret'" in str(e.value)
    raw = mimic.ropc(username=user["upn"], password=user["password"], client_id=app["appId"], tenant=mimic.tenant_id)
    aad_error(raw, 401, "invalid_client", 7000218)
    # With its secret, the confidential client may (MSAL ConfidentialClientApplication).
    import msal

    secret = graph(mimic, "POST", f"/v1.0/applications/{app['id']}/addPassword", json={}).json()["secretText"]
    cca = msal.ConfidentialClientApplication(app["appId"], client_credential=secret, authority=f"{mimic.login_url}/{mimic.tenant_id}",
                                             instance_discovery=False)
    result = cca.acquire_token_by_username_password(user["upn"], user["password"], scopes=["https://management.azure.com/.default"])
    assert "access_token" in result, result
    # Refreshing that token needs the secret too.
    rt = result["refresh_token"]
    aad_error(mimic.token_request({"grant_type": "refresh_token", "client_id": app["appId"], "refresh_token": rt,
                                   "scope": "https://management.azure.com/.default"}), 401, "invalid_client", 7000218)
    # A wrong secret is AADSTS7000215.
    bad = msal.ConfidentialClientApplication(app["appId"], client_credential="not-it", authority=f"{mimic.login_url}/{mimic.tenant_id}",
                                             instance_discovery=False)
    assert 7000215 in bad.acquire_token_by_username_password(user["upn"], user["password"], scopes=["https://management.azure.com/.default"])["error_codes"]
    # Marked a public client, the app may use ROPC without a credential.
    assert graph(mimic, "PATCH", f"/v1.0/applications/{app['id']}", json={"isFallbackPublicClient": True}).status_code == 204
    assert cred.get_token("https://management.azure.com/.default").token


def test_tokens_for_a_resource_that_does_not_exist_are_refused(mimic: MimicServer, client_ca: Path):
    """AADSTS500011 for client credentials (azure-identity ClientSecretCredential) and the
    password grant; the tenant's own apps (`{appId}`, `api://{appId}`) and Microsoft's APIs are
    found."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"], authority=mimic.login_url,
                                  disable_instance_discovery=True)
    with pytest.raises(ClientAuthenticationError) as e:
        cred.get_token("https://nothere.example/.default")
    assert "AADSTS500011" in str(e.value)
    line = aad_error(mimic.client_credentials(scope="https://nothere.example/.default"), 400, "invalid_resource", 500011)
    assert line == (f"AADSTS500011: The resource principal named https://nothere.example was not found in the tenant named {mimic.tenant_id}. "
                    "This can happen if the application has not been installed by the administrator of the tenant or consented to by any "
                    "user in the tenant. You might have sent your authentication request to the wrong tenant.")
    aad_error(mimic.client_credentials(scope=f"api://{secrets.token_hex(4)}-0000-0000-0000-000000000000/.default"), 400, "invalid_resource", 500011)
    aad_error(mimic.ropc(scope="https://nothere.example/user_impersonation"), 400, "invalid_resource", 500011)
    app = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("api")}).json()
    for scope in (f"{app['appId']}/.default", f"api://{app['appId']}/.default", "https://vault.azure.net/.default",
                  "https://graph.microsoft.com/.default", mimic.graph_url + "/.default", mimic.arm_url + "/.default"):
        assert cred.get_token(scope).token, scope


def test_imds_refuses_a_resource_that_does_not_exist(mimic: MimicServer):
    """A VM's managed identity asks IMDS for a token: the same AADSTS500011 for a resource the
    tenant has no principal for, found for Microsoft's APIs and the tenant's apps."""
    import json


    rg = unique("hostile")
    mimic.create_rg(rg)
    vm = make_vm(mimic, rg, unique("vm"), {"type": "SystemAssigned"}, linux=True, read_back=True)
    p = mimic.mimic_cli("vm", "env", f"{rg}/{vm['name']}", "--output", "json")
    assert p.returncode == 0, p.stderr
    base = json.loads(p.stdout)["imds"]

    def ask(resource: str) -> requests.Response:
        return mimic.http.get(f"{base}/metadata/identity/oauth2/token", params={"api-version": "2018-02-01", "resource": resource},
                              headers={"Metadata": "true"}, timeout=10)

    r = ask("https://nothere.example/")
    assert r.status_code == 400 and r.json()["error"] == "invalid_resource", r.text
    assert r.json()["error_description"].startswith("AADSTS500011: The resource principal named https://nothere.example/ was not found")
    app = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("api")}).json()
    for resource in ("https://management.azure.com/", "https://vault.azure.net", f"api://{app['appId']}"):
        assert ask(resource).status_code == 200, resource


# ---- 4. portal sign-out -----------------------------------------------------------------------


def test_portal_sign_out_is_a_post_with_the_csrf_check(mimic: MimicServer):
    from test_portal_sessions import SESSION_COOKIE, SUBSCRIPTIONS, browser, portal_get, portal_sign_in

    session = portal_sign_in(mimic)
    b = browser(mimic)
    # A link or image on any page (GET), a cross-site form (no header, a foreign Origin): no effect.
    assert b.get(mimic.portal_url + "/signout", cookies={SESSION_COOKIE: session}, allow_redirects=False, timeout=30).status_code == 405
    assert b.post(mimic.portal_url + "/signout", cookies={SESSION_COOKIE: session}, allow_redirects=False, timeout=30).status_code == 403
    r = b.post(mimic.portal_url + "/signout", cookies={SESSION_COOKIE: session}, allow_redirects=False, timeout=30,
               headers={"X-Mimic-Portal": "1", "Origin": "https://evil.example"})
    assert r.status_code == 403
    assert portal_get(mimic, session, SUBSCRIPTIONS).status_code == 200, "still signed in"
    r = b.post(mimic.portal_url + "/signout", cookies={SESSION_COOKIE: session}, allow_redirects=False, timeout=30,
               headers={"X-Mimic-Portal": "1", "Origin": mimic.portal_url})
    assert r.status_code == 303
    assert portal_get(mimic, session, SUBSCRIPTIONS).status_code == 401
