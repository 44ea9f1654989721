"""Foundation: cloud registration, login, resource groups, RBAC, the token service, bad input,
token validation, restart persistence — driven with az, azure-identity/azure-mgmt-resource, MSAL
and raw HTTP for what clients never send.

Expectations are Azure's documented/observed behaviour, not Mimic's implementation. Sources:
docs/azure-behaviour.md (§3 ARM conventions, §4 RBAC, §6 tokens, §11 az,
§12 identity libraries), and public issue threads cited next to each assertion
("verified" = real Azure response text seen in the cited thread; "unverified" = best knowledge).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mimic_harness import (
    ARM_AUDIENCES,
    ARM_SCOPE,
    AUTHZ_API,
    AZ_ARM_SCOPE,
    AZ_CLI_CLIENT_ID,
    READER,
    RG_API,
    VM_CONTRIBUTOR,
    Az,
    AzError,
    MimicError,
    MimicServer,
    arm_error,
    assign_role,
    b64url,
    b64url_decode,
    jwt_parts,
    unique,
    unsigned_jwt,
)

AAD_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$")  # "2023-05-06 06:03:00Z"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# ---- helpers ------------------------------------------------------------------------------


def aad_error(r, status: int, error: str | tuple[str, ...], aadsts: int) -> dict:
    """Asserts Entra's OAuth2 error shape (reference-error-codes sample response; bodies quoted in
    MicrosoftDocs/azure-docs#43780, OfficeDev/microsoft-365-agents-toolkit#8621)."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:2000]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    errors = (error,) if isinstance(error, str) else error
    assert body.get("error") in errors, body
    desc = body.get("error_description", "")
    assert desc.startswith(f"AADSTS{aadsts}: "), body
    # error_description ends with "\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ..."
    assert "Trace ID: " in desc and "Correlation ID: " in desc and "Timestamp: " in desc, desc
    assert body.get("error_codes") == [aadsts], body
    assert AAD_TIMESTAMP.match(body.get("timestamp", "")), body
    assert GUID.match(body.get("trace_id", "")), body
    assert GUID.match(body.get("correlation_id", "")), body
    assert body.get("error_uri", "").endswith(f"/error?code={aadsts}"), body
    return body


def prop(obj: dict, key: str):
    """az prints some models flattened and some with `properties`; read either."""
    if key in obj:
        return obj[key]
    return (obj.get("properties") or {}).get(key)


def assert_bearer_challenge(r) -> None:
    # ARM's challenge: Bearer authorization_uri="https://login.windows.net/", error="invalid_token",
    # error_description="..." (quoted in Azure/azure-sdk-for-go azcore tests, docs/azure-behaviour.md §3).
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer"), f"WWW-Authenticate: {challenge!r}"
    assert 'authorization_uri="' in challenge and 'error="invalid_token"' in challenge, challenge


@pytest.fixture(scope="module")
def other_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# ==========================================================================================
# Cloud metadata, az cloud register/set, az login --service-principal
# ==========================================================================================


@pytest.mark.parametrize("path", ["/metadata/endpoints", "//metadata/endpoints"])
def test_metadata_endpoints_is_open_and_describes_mimic(mimic: MimicServer, path: str):
    """`az cloud register --endpoint-resource-manager X` GETs X/metadata/endpoints (X/ → //metadata);
    no Authorization header (az-cli.md §1). Required keys: name, authentication.loginEndpoint,
    authentication.audiences[0], suffixes."""
    r = mimic.arm("GET", path, token=None, api_version="2022-09-01")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert isinstance(doc.get("name"), str) and doc["name"]
    auth = doc["authentication"]
    assert auth["audiences"] == ["https://management.core.windows.net/", "https://management.azure.com/"]
    assert auth["loginEndpoint"].rstrip("/") == mimic.login_url
    assert doc["resourceManager"].rstrip("/") == mimic.arm_url
    assert doc["microsoftGraphResourceId"] == mimic.graph_url + "/"
    assert isinstance(doc["suffixes"], dict)


def test_az_cloud_register_set_login_sp_and_account_show(az, mimic: MimicServer):
    az.register_cloud()
    cloud = az("cloud", "show", "--name", "Mimic")
    ep = cloud["endpoints"]
    assert ep["resourceManager"].rstrip("/") == mimic.arm_url
    assert ep["activeDirectory"].rstrip("/") == mimic.login_url
    # audiences[0] becomes both the AAD resource id and `management` (az-cli.md §1 mapping)
    assert ep["activeDirectoryResourceId"] == "https://management.core.windows.net/"
    assert ep["management"] == "https://management.core.windows.net/"
    assert ep["microsoftGraphResourceId"] == mimic.graph_url + "/"

    az("cloud", "set", "--name", "Mimic")
    assert az("cloud", "show")["name"] == "Mimic"

    subs = az.login_sp()
    assert [s["id"] for s in subs] == [mimic.subscription_id]
    sub = subs[0]
    assert sub["tenantId"] == mimic.tenant_id
    assert sub["user"] == {"name": mimic.sp["clientId"], "type": "servicePrincipal"}
    assert sub["state"] == "Enabled"
    assert sub["isDefault"] is True
    assert sub["cloudName"] == "Mimic"

    account = az("account", "show")
    assert account["id"] == mimic.subscription_id
    assert account["tenantId"] == mimic.tenant_id
    assert account["user"]["type"] == "servicePrincipal"
    assert account["user"]["name"] == mimic.sp["clientId"]
    assert account["environmentName"] == "Mimic"


def test_az_get_access_token_then_raw_arm_call(az_sp, mimic: MimicServer):
    """A token from `az account get-access-token` works for a hand-written request."""
    tok = az_sp("account", "get-access-token")
    assert tok["tokenType"] == "Bearer"
    assert tok["subscription"] == mimic.subscription_id
    assert tok["tenant"] == mimic.tenant_id
    # az asks for audiences[0] + "/.default" → aud is that resource exactly (docs/azure-behaviour.md §6)
    _, claims, _ = jwt_parts(tok["accessToken"])
    assert claims["aud"] == "https://management.core.windows.net/"
    assert claims["tid"] == mimic.tenant_id

    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourceGroups", token=tok["accessToken"],
                  api_version="2021-04-01")
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["value"], list)


# ==========================================================================================
# Resource groups with az (verbatim seed command) and raw HTTP
# ==========================================================================================


def test_az_group_create_verbatim_list_show_delete(az_sp, mimic: MimicServer):
    # Verbatim from the seeds (seeds 002, 004: docs/azure-behaviour.md).
    rg = az_sp("group", "create", "--name", "myResourceGroup", "--location", "westus")
    assert rg["name"] == "myResourceGroup"
    assert rg["location"] == "westus"
    assert rg["id"].lower() == f"/subscriptions/{mimic.subscription_id}/resourcegroups/myresourcegroup"
    assert rg["id"].endswith("/myResourceGroup"), "ARM returns the name with the casing given at creation"
    assert rg["type"] == "Microsoft.Resources/resourceGroups"
    assert rg["properties"]["provisioningState"] == "Succeeded"

    listed = {g["name"]: g for g in az_sp("group", "list")}
    assert "myResourceGroup" in listed and listed["myResourceGroup"]["location"] == "westus"

    shown = az_sp("group", "show", "--name", "myResourceGroup")
    assert shown["id"] == rg["id"]
    assert az_sp("group", "exists", "--name", "myResourceGroup") is True  # HEAD → 204

    # DELETE is a long-running operation (202 + Location); az polls until done.
    assert az_sp("group", "delete", "--name", "myResourceGroup", "--yes") is None

    with pytest.raises(AzError) as e:
        az_sp("group", "show", "--name", "myResourceGroup")
    assert "ResourceGroupNotFound" in e.value.result.stderr
    assert "Resource group 'myResourceGroup' could not be found." in e.value.result.stderr
    assert az_sp("group", "exists", "--name", "myResourceGroup") is False  # HEAD → 404


def test_raw_group_delete_is_202_with_location_then_gone(mimic: MimicServer):
    name = unique("lro")
    created = mimic.arm("PUT", mimic.rg_path(name), json={"location": "westus"}, api_version=RG_API)
    assert created.status_code == 201, created.text  # 201 when created, 200 when updated
    again = mimic.arm("PUT", mimic.rg_path(name), json={"location": "westus"}, api_version=RG_API)
    assert again.status_code == 200, again.text

    r = mimic.arm("DELETE", mimic.rg_path(name), api_version=RG_API)
    assert r.status_code == 202, r.text  # resources.json ResourceGroups_Delete: LRO, 202 + Location
    location = r.headers.get("Location")
    assert location and location.startswith(mimic.arm_url + "/"), r.headers
    deadline = time.monotonic() + 30
    while True:
        poll = mimic.arm("GET", location)
        if poll.status_code in (200, 204):
            break
        assert poll.status_code == 202, poll.text
        assert time.monotonic() < deadline, "delete did not finish in 30 s"
        time.sleep(min(float(poll.headers.get("Retry-After", "1")), 2))

    gone = mimic.arm("GET", mimic.rg_path(name), api_version=RG_API)
    err = arm_error(gone, 404, "ResourceGroupNotFound")
    assert err["message"] == f"Resource group '{name}' could not be found."


# ==========================================================================================
# RBAC with az
# ==========================================================================================


def test_az_role_definition_list_virtual_machine_contributor(az_sp):
    defs = az_sp("role", "definition", "list", "--name", "Virtual Machine Contributor")
    assert len(defs) == 1, defs
    d = defs[0]
    assert prop(d, "roleName") == "Virtual Machine Contributor"
    assert d["name"] == VM_CONTRIBUTOR
    assert d["type"] == "Microsoft.Authorization/roleDefinitions"
    assert prop(d, "roleType") == "BuiltInRole"
    assert d["id"].endswith(f"/providers/Microsoft.Authorization/roleDefinitions/{VM_CONTRIBUTOR}")
    perms = prop(d, "permissions")
    actions = perms[0]["actions"]
    # built-in-roles.md, verbatim (docs/azure-behaviour.md §4)
    for a in ("Microsoft.Compute/virtualMachines/*", "Microsoft.Authorization/*/read",
              "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Network/networkInterfaces/*"):
        assert a in actions, actions
    assert not any(a.startswith("Microsoft.ManagedIdentity/") for a in actions)
    assert perms[0].get("notActions") == []


def test_az_role_assignment_create_list_delete(az_sp, mimic: MimicServer):
    """create with --assignee-object-id/--assignee-principal-type: no Graph calls (az-cli.md §6).
    list --scope X --assignee-object-id Y sends GET X/providers/Microsoft.Authorization/roleAssignments
    ?$filter=atScope() and filters by principal client-side (azure-cli role/custom.py
    _search_role_assignments); --fill-principal-name false keeps Graph out of it."""
    rg = unique("rbac")
    az_sp("group", "create", "--name", rg, "--location", "westus")
    scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    oid = mimic.sp["objectId"]

    ra = az_sp("role", "assignment", "create", "--assignee-object-id", oid,
               "--assignee-principal-type", "ServicePrincipal", "--role", "Reader", "--scope", scope)
    assert prop(ra, "principalId") == oid
    assert prop(ra, "principalType") == "ServicePrincipal"
    assert prop(ra, "roleDefinitionId").lower() == (
        f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}".lower())
    assert prop(ra, "scope").lower() == scope.lower()
    assert ra["type"] == "Microsoft.Authorization/roleAssignments"
    assert GUID.match(ra["name"])
    assert ra["id"].lower() == f"{scope}/providers/Microsoft.Authorization/roleAssignments/{ra['name']}".lower()

    listed = az_sp("role", "assignment", "list", "--scope", scope, "--assignee-object-id", oid,
                   "--fill-principal-name", "false")
    assert [x["name"] for x in listed] == [ra["name"]]
    assert listed[0]["roleDefinitionName"] == "Reader"

    # `az role assignment update` PUTs the listed assignment back with its edits: the description
    # changes (the azure-cli `role` module's own scenario test does this).
    edited = dict(listed[0], description="updated by az")
    updated = az_sp("role", "assignment", "update", "--role-assignment", json.dumps(edited))
    assert prop(updated, "description") == "updated by az"
    again = az_sp("role", "assignment", "list", "--scope", scope, "--assignee-object-id", oid, "--fill-principal-name", "false")
    assert [prop(x, "description") for x in again] == ["updated by az"]

    assert az_sp("role", "assignment", "delete", "--assignee-object-id", oid, "--role", "Reader",
                 "--scope", scope) is None
    assert az_sp("role", "assignment", "list", "--scope", scope, "--assignee-object-id", oid,
                 "--fill-principal-name", "false") == []


# ==========================================================================================
# RBAC enforcement: Reader on one resource group for the admin user
# ==========================================================================================


def test_rbac_reader_on_rg_lets_admin_read_but_not_write(mimic_factory):
    """The admin user with only Reader on one resource group. Mimic's bootstrap may make the admin
    Owner of the subscription (as Azure does for the account that creates it), so this runs on its own
    server and first deletes the admin's subscription-level assignments with the bootstrap SP."""
    mimic = mimic_factory()
    sub = mimic.subscription_id
    sub_scope = f"/subscriptions/{sub}"
    listed = mimic.arm("GET", f"{sub_scope}/providers/Microsoft.Authorization/roleAssignments", api_version=AUTHZ_API,
                       params={"$filter": f"principalId eq '{mimic.admin['objectId']}'"})
    assert listed.status_code == 200, listed.text
    for existing in listed.json()["value"]:
        assert existing["properties"]["principalId"] == mimic.admin["objectId"], existing
        d = mimic.arm("DELETE", existing["id"], api_version=AUTHZ_API)
        assert d.status_code == 200, d.text  # 200 with the deleted assignment as body (docs/azure-behaviour.md §4)
        assert d.json()["id"] == existing["id"]
    rg, other = unique("reader"), unique("noaccess")
    mimic.create_rg(rg)
    mimic.create_rg(other)
    admin_oid, upn = mimic.admin["objectId"], mimic.admin["userName"]

    assignment = str(uuid.uuid4())
    r = mimic.arm(
        "PUT", f"{mimic.rg_path(rg)}/providers/Microsoft.Authorization/roleAssignments/{assignment}",
        api_version=AUTHZ_API,
        json={"properties": {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            "principalId": admin_oid, "principalType": "User"}},
    )
    assert r.status_code == 201, r.text

    token = mimic.admin_token()  # password grant as MSAL sends it for az
    read = mimic.arm("GET", mimic.rg_path(rg), token=token, api_version=RG_API)
    assert read.status_code == 200, read.text
    assert read.json()["name"] == rg

    def denied(resp, action: str, path: str) -> None:
        # docs/azure-behaviour.md §3 (Azure/ARO-RP#66, nccgroup/ScoutSuite#1343): users are named by UPN.
        err = arm_error(resp, 403, "AuthorizationFailed")
        msg = err["message"]
        assert msg.startswith("The client '"), msg
        assert msg.startswith(f"The client '{upn}' with object id '{admin_oid}' does not have authorization"), msg
        prefix = f"does not have authorization to perform action '{action}' over scope '"
        assert prefix in msg, msg
        scope = msg.split(prefix, 1)[1].split("'", 1)[0]
        assert scope.lower() == path.lower(), msg
        assert msg.endswith("or the scope is invalid. If access was recently granted, please refresh your credentials."), msg

    tag = mimic.arm("PUT", mimic.rg_path(rg), token=token, api_version=RG_API,
                    json={"location": "westus", "tags": {"owner": "admin"}})
    denied(tag, "Microsoft.Resources/subscriptions/resourceGroups/write", mimic.rg_path(rg))

    new_rg = unique("denied")
    create = mimic.arm("PUT", mimic.rg_path(new_rg), token=token, api_version=RG_API, json={"location": "westus"})
    denied(create, "Microsoft.Resources/subscriptions/resourceGroups/write", mimic.rg_path(new_rg))

    read_other = mimic.arm("GET", mimic.rg_path(other), token=token, api_version=RG_API)
    denied(read_other, "Microsoft.Resources/subscriptions/resourceGroups/read", mimic.rg_path(other))

    # Nothing was written by the denied calls.
    assert mimic.arm("GET", mimic.rg_path(rg), api_version=RG_API).json().get("tags") in (None, {})
    arm_error(mimic.arm("GET", mimic.rg_path(new_rg), api_version=RG_API), 404, "ResourceGroupNotFound")


def test_second_service_principal_with_reader_only(mimic: MimicServer, tmp_path: Path):
    """A second service principal with only Reader on one resource group reads it (az and raw
    ARM) and gets Azure's 403 AuthorizationFailed for writes; with no token, 401."""
    p = mimic.mimic_cli("admin", "sp", "create", "--name", unique("reader-sp"), "--output", "json")
    assert p.returncode == 0, p.stderr
    sp = json.loads(p.stdout)
    rg = unique("readeronly")
    mimic.create_rg(rg)
    scope = f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    assign_role(mimic, sp["objectId"], READER, scope)
    token_response = mimic.client_credentials(client_id=sp["appId"], secret=sp["secret"])
    assert token_response.status_code == 200, token_response.text
    token = token_response.json()["access_token"]
    assert mimic.arm("GET", scope, api_version=RG_API, token=token).status_code == 200
    r = mimic.arm("PATCH", scope, api_version=RG_API, token=token, json={"tags": {"a": "b"}})
    err = arm_error(r, 403, "AuthorizationFailed")
    assert err["message"] == (
        f"The client '{sp['objectId']}' with object id '{sp['objectId']}' does not have authorization to perform action "
        f"'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '{scope}' or the scope is invalid. "
        "If access was recently granted, please refresh your credentials.")
    other = unique("notmine")
    r = mimic.arm("PUT", f"/subscriptions/{mimic.subscription_id}/resourcegroups/{other}", api_version=RG_API, token=token, json={"location": "westus"})
    arm_error(r, 403, "AuthorizationFailed")
    assert mimic.arm("GET", scope, api_version=RG_API, token=None).status_code == 401

    # The same principal through az: it sees only its group.
    config = tmp_path / "az-reader"
    config.mkdir()
    az = Az(mimic, config)
    az.register_cloud()
    az("cloud", "set", "--name", "Mimic")
    az("login", "--service-principal", "-u", sp["appId"], "-p", sp["secret"], "--tenant", mimic.tenant_id)
    assert [g["name"] for g in az("group", "list")] == [rg]
    failed = az.run("group", "update", "--name", rg, "--set", "tags.x=y", check=False)
    assert failed.returncode != 0 and "AuthorizationFailed" in failed.stderr


def test_no_token_is_401_with_bearer_challenge(mimic: MimicServer):
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=None, api_version=RG_API)
    err = arm_error(r, 401, "AuthenticationFailed")
    assert err["message"] == "Authentication failed. The 'Authorization' header is missing."  # docs/azure-behaviour.md §3
    assert_bearer_challenge(r)


# ==========================================================================================
# Python SDKs: azure-identity ClientSecretCredential + azure-mgmt-resource
# ==========================================================================================


def test_python_sdk_client_secret_credential_manages_resource_groups(mimic: MimicServer, client_ca: Path):
    from azure.core.exceptions import ResourceNotFoundError
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource import ResourceManagementClient

    # docs/azure-behaviour.md §12.5/§12.6: custom authority needs disable_instance_discovery; mgmt clients
    # need base_url + credential_scopes; the CA comes from REQUESTS_CA_BUNDLE (client_ca fixture).
    cred = ClientSecretCredential(mimic.tenant_id, mimic.sp["clientId"], mimic.sp["clientSecret"],
                                  authority=mimic.login_url, disable_instance_discovery=True)
    client = ResourceManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url,
                                      credential_scopes=[ARM_SCOPE])
    name = unique("sdk")
    rg = client.resource_groups.create_or_update(name, {"location": "westus", "tags": {"team": "mimic"}})
    assert rg.name == name
    assert rg.location == "westus"
    assert rg.tags == {"team": "mimic"}
    assert rg.properties.provisioning_state == "Succeeded"
    assert rg.id == f"/subscriptions/{mimic.subscription_id}/resourceGroups/{name}"

    assert name in [g.name for g in client.resource_groups.list()]
    assert client.resource_groups.get(name).tags == {"team": "mimic"}
    assert client.resource_groups.check_existence(name) is True

    # ARMPolling waits Retry-After (or 30 s without it) between polls, so the 202 must carry a
    # short one (a time is not asserted: the header is what makes the SDK quick).
    other = unique("sdk")
    client.resource_groups.create_or_update(other, {"location": "westus"})
    raw = mimic.arm("DELETE", mimic.rg_path(other), api_version=RG_API)
    assert raw.status_code == 202 and "Location" in raw.headers, raw.headers
    assert 0 <= int(raw.headers["Retry-After"]) <= 15, raw.headers
    client.resource_groups.begin_delete(name).result()
    assert client.resource_groups.check_existence(name) is False
    with pytest.raises(ResourceNotFoundError) as e:
        client.resource_groups.get(name)
    assert e.value.error.code == "ResourceGroupNotFound"


# ==========================================================================================
# Entra token service: discovery, JWKS, claims, grants, errors
# ==========================================================================================


def test_oidc_discovery_v2(mimic: MimicServer):
    tid, login = mimic.tenant_id, mimic.login_url
    r = mimic.http.get(f"{login}/{tid}/v2.0/.well-known/openid-configuration")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["issuer"] == f"{login}/{tid}/v2.0"  # docs/azure-behaviour.md §6 (login.microsoftonline.com/{tid}/v2.0 on Azure)
    assert doc["token_endpoint"] == f"{login}/{tid}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{login}/{tid}/oauth2/v2.0/authorize"
    assert doc["jwks_uri"] == f"{login}/{tid}/discovery/v2.0/keys"
    assert "RS256" in doc.get("id_token_signing_alg_values_supported", [])
    keys = mimic.http.get(doc["jwks_uri"])
    assert keys.status_code == 200 and keys.json()["keys"], keys.text


def test_oidc_discovery_v1(mimic: MimicServer):
    tid, login = mimic.tenant_id, mimic.login_url
    r = mimic.http.get(f"{login}/{tid}/.well-known/openid-configuration")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["issuer"] == f"https://sts.windows.net/{tid}/"  # docs/azure-behaviour.md §6
    assert doc["token_endpoint"] == f"{login}/{tid}/oauth2/token"
    assert doc["authorization_endpoint"] == f"{login}/{tid}/oauth2/authorize"
    keys = mimic.http.get(doc["jwks_uri"])
    assert keys.status_code == 200 and keys.json()["keys"], keys.text


def test_oidc_discovery_unknown_tenant_is_invalid_tenant(mimic: MimicServer):
    # Real body (azure-cli#22145, 2022; james-gould/azure-keyvault-emulator#324, 2025):
    # 400 {"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '<t>' not found. ..."}
    t = str(uuid.uuid4())
    r = mimic.http.get(f"{mimic.login_url}/{t}/v2.0/.well-known/openid-configuration")
    body = aad_error(r, 400, "invalid_tenant", 90002)
    assert body["error_description"].startswith(f"AADSTS90002: Tenant '{t}' not found."), body


def test_client_credentials_token_is_v1_with_azure_claims_and_verifies_against_jwks(mimic: MimicServer):
    tid = mimic.tenant_id
    r = mimic.client_credentials()
    assert r.status_code == 200, r.text
    resp = r.json()
    assert resp["token_type"] == "Bearer"
    assert isinstance(resp["expires_in"], int) and 300 < resp["expires_in"] <= 86400, resp
    assert "ext_expires_in" in resp
    assert "refresh_token" not in resp  # never for client credentials
    token = resp["access_token"]

    header, claims, _ = jwt_parts(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert header["kid"] and header["x5t"] == header["kid"], header

    jwks = mimic.http.get(f"{mimic.login_url}/{tid}/discovery/v2.0/keys").json()
    matching = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert len(matching) == 1, jwks
    jwk = matching[0]
    assert jwk["kty"] == "RSA" and jwk["use"] == "sig" and jwk["x5t"] == jwk["kid"], jwk
    assert jwk.get("issuer") == f"{mimic.login_url}/{tid}/v2.0", jwk
    public_key = jwt.PyJWK(jwk, algorithm="RS256").key
    verified = jwt.decode(token, public_key, algorithms=["RS256"], audience=claims["aud"],
                          issuer=f"https://sts.windows.net/{tid}/")
    assert verified == claims

    # v1 claim set (ARM's accessTokenAcceptedVersion is 1) — docs/azure-behaviour.md §6
    now = time.time()
    assert claims["aud"] == "https://management.azure.com", "aud = the resource as requested"
    assert claims["iss"] == f"https://sts.windows.net/{tid}/"
    assert claims["idp"] == f"https://sts.windows.net/{tid}/"
    assert claims["tid"] == tid
    assert claims["oid"] == mimic.sp["objectId"]
    assert claims["sub"] == mimic.sp["objectId"]
    assert claims["appid"] == mimic.sp["clientId"]
    assert claims["appidacr"] == "1"  # client secret
    assert claims["idtyp"] == "app"
    assert claims["ver"] == "1.0"
    assert isinstance(claims["uti"], str) and claims["uti"]
    assert all(isinstance(claims[c], int) for c in ("iat", "nbf", "exp"))
    assert claims["iat"] <= now + 5 and claims["nbf"] <= now + 5 and claims["exp"] > now + 300
    assert "scp" not in claims and "azp" not in claims


def test_v1_token_endpoint_with_resource(mimic: MimicServer):
    """ADAL-style v1 grant: `resource` instead of `scope`; v1 responses carry strings."""
    r = mimic.token_request({"grant_type": "client_credentials", "client_id": mimic.sp["clientId"],
                             "client_secret": mimic.sp["clientSecret"],
                             "resource": "https://management.core.windows.net/"}, v1=True)
    assert r.status_code == 200, r.text
    resp = r.json()
    assert resp["token_type"] == "Bearer"
    assert resp["resource"] == "https://management.core.windows.net/"
    for f in ("expires_in", "expires_on", "not_before"):
        assert str(resp[f]).isdigit(), resp
    _, claims, _ = jwt_parts(resp["access_token"])
    assert claims["aud"] == "https://management.core.windows.net/"  # trailing slash kept
    ok = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=resp["access_token"],
                   api_version=RG_API)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("scope", [
    "https://management.azure.com/.default",
    "https://management.core.windows.net//.default",  # az's form (az-cli.md §3)
    "https://management.azure.com//.default",
    "MIMIC_ARM_URL/.default",  # classic JS arm-* clients ask for `${endpoint}/.default` (docs/azure-behaviour.md §12.6)
])
def test_arm_accepts_tokens_for_each_arm_audience(mimic: MimicServer, scope: str):
    scope = scope.replace("MIMIC_ARM_URL", mimic.arm_url)
    token = mimic.sp_token(scope)
    r = _rg_list(mimic, token)
    assert r.status_code == 200, f"token for {scope} (aud {jwt_parts(token)[1]['aud']}): {r.status_code} {r.text}"


def test_wrong_secret_is_401_invalid_client_7000215(mimic: MimicServer):
    # Real: 401 {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.
    # Ensure the secret being sent in the request is the client secret value, not the client secret ID,
    # for a secret added to app '<appId>'.\r\nTrace ID..","error_codes":[7000215],...}
    # (OfficeDev/microsoft-365-agents-toolkit#8621, 2023)
    r = mimic.client_credentials(secret="not-the-secret")
    body = aad_error(r, 401, "invalid_client", 7000215)
    desc = body["error_description"]
    assert desc.startswith("AADSTS7000215: Invalid client secret provided."), desc
    assert f"for a secret added to app '{mimic.sp['clientId']}'" in desc, desc


def test_unknown_client_is_400_unauthorized_client_700016(mimic: MimicServer):
    # "AADSTS700016: Application with identifier '<id>' was not found in the directory '<dir>'. This can
    # happen if the application has not been installed by the administrator of the tenant or consented to
    # by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    # error "unauthorized_client" (AzureADQuickStarts/AppModelv2-WebApp-OpenIDConnect-DotNet#50; the
    # error value as quoted by public Entra mocks) — status 400 (unverified).
    cid = str(uuid.uuid4())
    r = mimic.client_credentials(client_id=cid, secret="whatever")
    body = aad_error(r, 400, "unauthorized_client", 700016)
    assert body["error_description"].startswith(
        f"AADSTS700016: Application with identifier '{cid}' was not found in the directory '"), body


def test_unknown_tenant_is_400_aadsts90002(mimic: MimicServer):
    # Token endpoint, unknown tenant: "AADSTS90002: Tenant '<t>' not found. ..." with error_codes [90002].
    # The `error` value: invalid_request in 2018 traces (microsoftarchive/BatchAI#31), invalid_tenant
    # in 2022-2025 traces (azure-cli#22145, at discovery). Either is accepted here.
    t = str(uuid.uuid4())
    r = mimic.client_credentials(tenant=t)
    body = aad_error(r, 400, ("invalid_request", "invalid_tenant"), 90002)
    assert body["error_description"].startswith(f"AADSTS90002: Tenant '{t}' not found."), body


def test_unsupported_grant_type_is_400_aadsts70003(mimic: MimicServer):
    # "AADSTS70003: The app requested an unsupported grant type '<g>'." error unsupported_grant_type
    # (AzureAD/microsoft-authentication-library-for-dotnet#3023; 2014 body with error_codes [70003] in
    # AzureAD/azure-activedirectory-library-for-android#132) — status 400.
    r = mimic.token_request({"grant_type": "urn:mimic:nonsense", "client_id": mimic.sp["clientId"],
                             "client_secret": mimic.sp["clientSecret"], "scope": ARM_SCOPE})
    body = aad_error(r, 400, "unsupported_grant_type", 70003)
    assert body["error_description"].startswith(
        "AADSTS70003: The app requested an unsupported grant type 'urn:mimic:nonsense'."), body


def test_admin_password_grant_as_msal_sends_it_then_refresh_token(mimic: MimicServer):
    """`az login -u -p` (ROPC) cannot be run verbatim against a login endpoint on a port other than
    443: MSAL's userrealm call drops the port (az-cli.md §4). So this sends the exact form MSAL 1.39
    sends for az, then the refresh-token grant az does per tenant."""
    tid, oid, upn = mimic.tenant_id, mimic.admin["objectId"], mimic.admin["userName"]
    r = mimic.ropc()
    assert r.status_code == 200, r.text
    resp = r.json()
    assert resp["token_type"] == "Bearer"
    for f in ("access_token", "refresh_token", "id_token", "client_info", "expires_in", "scope"):
        assert resp.get(f), f"{f} missing: {resp}"
    client_info = json.loads(b64url_decode(resp["client_info"]))
    assert client_info == {"uid": oid, "utid": tid}

    _, idt, _ = jwt_parts(resp["id_token"])
    assert idt["aud"] == AZ_CLI_CLIENT_ID
    assert idt["tid"] == tid and idt["oid"] == oid and idt["sub"]
    assert idt["preferred_username"] == upn
    assert idt["ver"] == "2.0"
    assert idt["iss"] == f"{mimic.login_url}/{tid}/v2.0"

    _, at, _ = jwt_parts(resp["access_token"])
    assert at["aud"] == "https://management.core.windows.net/"
    assert at["iss"] == f"https://sts.windows.net/{tid}/"
    assert at["tid"] == tid and at["oid"] == oid
    assert at["appid"] == AZ_CLI_CLIENT_ID
    assert at["upn"] == upn and at["unique_name"] == upn  # v1 user token
    assert at["ver"] == "1.0"
    assert at.get("scp")

    subs = mimic.arm("GET", "/subscriptions", token=resp["access_token"], api_version="2022-12-01")
    assert subs.status_code == 200, subs.text

    r2 = mimic.refresh(resp["refresh_token"], tenant=tid, anchor=f"Oid:{oid}@{tid}")
    assert r2.status_code == 200, r2.text
    resp2 = r2.json()
    assert resp2["access_token"] != resp["access_token"]
    assert resp2.get("refresh_token"), resp2
    _, at2, _ = jwt_parts(resp2["access_token"])
    assert at2["oid"] == oid and at2["tid"] == tid
    again = mimic.arm("GET", "/tenants", token=resp2["access_token"], api_version="2022-12-01")
    assert again.status_code == 200, again.text
    assert tid in [t["tenantId"] for t in again.json()["value"]]


def test_admin_wrong_password_is_400_invalid_grant(mimic: MimicServer):
    # Real (2025 capture quoted in a public write-up): 400 {"error":"invalid_grant","error_description":
    # "AADSTS50126: Error validating credentials due to invalid username or password. Trace ID: ...",
    # "error_codes":[50126],...,"error_uri":"https://login.microsoftonline.com/error?code=50126"}
    r = mimic.ropc(password="wrong-password")
    aad_error(r, 400, "invalid_grant", 50126)


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")  # ROPC, on purpose
def test_msal_library_username_password_and_silent_refresh(mimic: MimicServer, client_ca: Path, monkeypatch):
    """The real MSAL client, with its userrealm discovery pre-marked as absent for 127.0.0.1 (it would
    go to port 443, az-cli.md §4): a 404 there makes MSAL do exactly this by itself."""
    import msal
    from msal.authority import Authority

    if not hasattr(Authority, "_domains_without_user_realm_discovery"):
        pytest.skip("this MSAL version has no _domains_without_user_realm_discovery")
    monkeypatch.setattr(Authority, "_domains_without_user_realm_discovery", {"127.0.0.1"})
    # CA via REQUESTS_CA_BUNDLE (client_ca): requests lets that variable override MSAL's `verify=`.
    app = msal.PublicClientApplication(AZ_CLI_CLIENT_ID, authority=f"{mimic.login_url}/{mimic.tenant_id}",
                                       instance_discovery=False)
    result = app.acquire_token_by_username_password(mimic.admin["userName"], mimic.admin["password"],
                                                    scopes=[AZ_ARM_SCOPE])
    assert "access_token" in result, result
    assert result["id_token_claims"]["oid"] == mimic.admin["objectId"]
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == [mimic.admin["userName"]]
    silent = app.acquire_token_silent([AZ_ARM_SCOPE], account=accounts[0], force_refresh=True)
    assert silent and "access_token" in silent, silent
    assert silent["access_token"] != result["access_token"]


# ==========================================================================================
# Bad input on ARM
# ==========================================================================================


def test_malformed_json_body_is_400_invalid_request_content(mimic: MimicServer):
    name = unique("badjson")
    r = mimic.arm("PUT", mimic.rg_path(name), api_version=RG_API, data='{"location": "westus"',
                  headers={"Content-Type": "application/json"})
    err = arm_error(r, 400, "InvalidRequestContent")
    # "The request content was invalid and could not be deserialized: '<json.net message>'." (docs/azure-behaviour.md §3)
    assert err["message"].startswith("The request content was invalid and could not be deserialized: "), err
    arm_error(mimic.arm("GET", mimic.rg_path(name), api_version=RG_API), 404, "ResourceGroupNotFound")


def test_wrong_content_type_is_415_unsupported_media_type(mimic: MimicServer):
    # "The content media type 'text/plain' is not supported. Only 'application/json' is supported."
    # (ARM RP front ends, e.g. Azure/ARO-RP frontend; Chaos Studio troubleshooting docs) — partially verified.
    name = unique("ctype")
    r = mimic.arm("PUT", mimic.rg_path(name), api_version=RG_API, data='{"location": "westus"}',
                  headers={"Content-Type": "text/plain"})
    err = arm_error(r, 415, "UnsupportedMediaType")
    assert err["message"] == "The content media type 'text/plain' is not supported. Only 'application/json' is supported."
    arm_error(mimic.arm("GET", mimic.rg_path(name), api_version=RG_API), 404, "ResourceGroupNotFound")


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_missing_api_version_is_400(mimic: MimicServer, method: str):
    body = {"location": "westus"} if method == "PUT" else None
    r = mimic.arm(method, mimic.rg_path(unique("nover")), json=body)
    err = arm_error(r, 400, "MissingApiVersionParameter")
    assert err["message"] == "The api-version query parameter (?api-version=) is required for all requests."


def test_unknown_api_version_is_400_invalid_api_version(mimic: MimicServer):
    # "The api-version '<v>' is invalid. The supported versions are '<list>'." (Azure/azure-rest-api-specs#11711)
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", api_version="1999-01-01")
    err = arm_error(r, 400, "InvalidApiVersionParameter")
    assert err["message"].startswith("The api-version '1999-01-01' is invalid. The supported versions are '"), err
    assert "2021-04-01" in err["message"]


@pytest.mark.parametrize("name", ["a" * 91, "ends-with-dot.", "has space", "bang!"], ids=["91-chars", "trailing-dot", "space", "bang"])
def test_invalid_resource_group_name_is_400_invalid_resource_group(mimic: MimicServer, name: str):
    # Code InvalidResourceGroup (not InvalidResourceGroupName): "The provided resource group name '<n>' has
    # these invalid characters: '<c>'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'."
    # (azure-cli#14481, 2022); over-long: "... has a length of '<n>' which exceeds the maximum length of
    # '90'." (quoted in test-kitchen/kitchen-azurerm code). Pattern ^[-\w._()]+$, 1-90, no trailing '.'.
    from urllib.parse import quote
    r = mimic.arm("PUT", mimic.rg_path(quote(name)), json={"location": "westus"}, api_version=RG_API)
    err = arm_error(r, 400, "InvalidResourceGroup")
    assert err["message"].startswith(f"The provided resource group name '{name}' "), err


def test_az_group_create_with_parentheses_in_name(az_sp, mimic: MimicServer):
    """Names may hold '(' ')' '.' '_' '-' (pattern ^[-\\w._()]+$); azure-core percent-encodes path
    parameters (quote(safe='')), so ARM must decode them: `rg(1)` arrives as `rg%281%29`."""
    name = f"rg(paren).{uuid.uuid4().hex[:6]}_x-y"
    rg = az_sp("group", "create", "--name", name, "--location", "westus")
    assert rg["name"] == name
    assert rg["id"] == f"/subscriptions/{mimic.subscription_id}/resourceGroups/{name}"
    assert az_sp("group", "show", "--name", name)["name"] == name
    assert name in [g["name"] for g in az_sp("group", "list")]
    az_sp("group", "delete", "--name", name, "--yes")


def test_resource_group_name_of_90_chars_is_fine(mimic: MimicServer):
    name = ("rg90-" + uuid.uuid4().hex * 3)[:90]
    r = mimic.arm("PUT", mimic.rg_path(name), json={"location": "westus"}, api_version=RG_API)
    assert r.status_code == 201, r.text


def test_unknown_route_is_404_in_arm_error_shape(mimic: MimicServer):
    # Only the status and envelope are asserted; ARM's code for an unknown path was not verified.
    r = mimic.arm("GET", "/this/route/does/not/exist", api_version=RG_API)
    arm_error(r, 404)


# ==========================================================================================
# Token validation on ARM (401 codes: docs/azure-behaviour.md §3)
# ==========================================================================================


def _rg_list(mimic: MimicServer, token: str):
    return mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=token, api_version=RG_API)


def _invalid_token(mimic: MimicServer, token: str) -> dict:
    r = _rg_list(mimic, token)
    err = arm_error(r, 401, "InvalidAuthenticationToken")
    assert_bearer_challenge(r)
    return err


def test_garbage_bearer_token_is_401_invalid_authentication_token(mimic: MimicServer):
    _invalid_token(mimic, "not-a-jwt")


def test_alg_none_token_is_401(mimic: MimicServer):
    header, claims, _ = jwt_parts(mimic.sp_token())
    _invalid_token(mimic, unsigned_jwt({"typ": "JWT", "alg": "none"}, claims))
    _invalid_token(mimic, unsigned_jwt({**header, "alg": "none"}, claims))


@pytest.mark.parametrize("same_kid", [True, False], ids=["mimics-kid", "own-kid"])
def test_token_signed_by_another_rsa_key_is_401(mimic: MimicServer, other_rsa_key, same_kid: bool):
    header, claims, _ = jwt_parts(mimic.sp_token())
    kid = header["kid"] if same_kid else b64url(uuid.uuid4().bytes)
    forged = jwt.encode(claims, other_rsa_key, algorithm="RS256", headers={"kid": kid, "x5t": kid})
    _invalid_token(mimic, forged)


def test_tampered_claims_with_original_signature_is_401(mimic: MimicServer):
    token = mimic.sp_token()
    h, _, s = token.split(".")
    _, claims, _ = jwt_parts(token)
    claims["oid"] = claims["sub"] = mimic.admin["objectId"]
    _invalid_token(mimic, f"{h}.{b64url(json.dumps(claims).encode())}.{s}")


def test_token_for_another_audience_is_401_invalid_audience(mimic: MimicServer):
    # Real: "The access token has been obtained for wrong audience or resource '<aud>'. It should exactly
    # match with one of the allowed audiences 'https://management.core.windows.net/',
    # 'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
    # (Azure-Samples/active-directory-dotnetcore-daemon-v2#145, hashicorp/go-azure-helpers#51)
    graph_token = mimic.sp_token("https://graph.microsoft.com/.default")
    aud = jwt_parts(graph_token)[1]["aud"]
    assert aud.rstrip("/") == "https://graph.microsoft.com"
    r = _rg_list(mimic, graph_token)
    err = arm_error(r, 401, "InvalidAuthenticationTokenAudience")
    assert err["message"].startswith(f"The access token has been obtained for wrong audience or resource '{aud}'."), err
    for allowed in ARM_AUDIENCES:
        assert f"'{allowed}'" in err["message"], err
    assert_bearer_challenge(r)


def test_token_from_another_tenant_is_401_invalid_tenant(mimic: MimicServer):
    # Expected (Azure/azure-sdk-for-python#38382, Azure/pcs-cli#357): InvalidAuthenticationTokenTenant
    # "The access token is from the wrong issuer 'https://sts.windows.net/<tid>/'. It must match the tenant
    # 'https://sts.windows.net/<sub tenant>/' associated with this subscription. Please use the authority
    # (URL) 'https://login.windows.net/<sub tenant>' to get the token. ..."
    p = mimic.mimic_cli("admin", "tenant", "create", "--name", "Other")
    assert p.returncode == 0, p.stderr
    other = json.loads(p.stdout)
    r = mimic.client_credentials(client_id=other["servicePrincipal"]["clientId"], secret=other["servicePrincipal"]["clientSecret"],
                                 tenant=other["tenantId"])
    assert r.status_code == 200, r.text
    r = _rg_list(mimic, r.json()["access_token"])
    err = arm_error(r, 401, "InvalidAuthenticationTokenTenant")
    assert err["message"].startswith(
        f"The access token is from the wrong issuer 'https://sts.windows.net/{other['tenantId']}/'. It must match the tenant "
        f"'https://sts.windows.net/{mimic.tenant_id}/' associated with this subscription. Please use the authority (URL) "
        f"'https://login.windows.net/{mimic.tenant_id}' to get the token."), err
    assert_bearer_challenge(r)


FAKETIME_LIBS = [Path(p) for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                                   "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                                   "/usr/lib/faketime/libfaketime.so.1")]


def test_expired_token_is_401_expired_authentication_token(mimic_factory):
    """A Mimic-signed token past its `exp`: mint one, then restart the same data dir with the
    server's clock two days ahead (libfaketime), so the token is expired for the server."""
    lib = next((p for p in FAKETIME_LIBS if p.exists()), None)
    if lib is None:
        pytest.skip("libfaketime not installed (scripts/test-setup.sh installs Debian's libfaketime)")
    server = mimic_factory()
    token = server.sp_token()
    server.stop()
    try:
        server.start(env={"LD_PRELOAD": str(lib), "FAKETIME": "+2d", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    except MimicError as e:
        pytest.skip(f"mimic does not start under libfaketime here: {str(e)[:500]}")
    fresh_iat = jwt_parts(server.sp_token())[1]["iat"]
    if fresh_iat < time.time() + 86400:
        pytest.skip("libfaketime did not move mimic's clock (statically linked or different time source?)")

    r = _rg_list(server, token)
    err = arm_error(r, 401, "ExpiredAuthenticationToken")
    # "The access token expiry UTC time '6/15/2026 8:22:51 AM' is earlier than current UTC time
    # '6/15/2026 9:27:25 AM'." (microsoft/foundry-dev-tools#461)
    assert re.fullmatch(r"The access token expiry UTC time '.+' is earlier than current UTC time '.+'\.",
                        err["message"]), err
    assert_bearer_challenge(r)


# ==========================================================================================
# Restart persistence
# ==========================================================================================


def test_restart_on_same_data_dir_keeps_state_ids_and_signing_keys(mimic_factory):
    server = mimic_factory()
    token = server.sp_token()
    name = unique("persist")
    server.create_rg(name, token=token)
    bootstrap = dict(server.bootstrap)
    ca = server.ca_path.read_bytes()

    code = server.stop()
    assert code is not None and code != -9, "mimic did not stop on SIGTERM within 10 s"
    server.start()

    assert server.bootstrap == bootstrap, "bootstrap.json (ids, secrets) must survive a restart"
    assert server.ca_path.read_bytes() == ca, "the CA must survive a restart (clients trust it)"
    r = server.arm("GET", server.rg_path(name), token=token, api_version=RG_API)  # old token, old key
    assert r.status_code == 200, r.text
    assert r.json()["name"] == name
    fresh = server.client_credentials()
    assert fresh.status_code == 200, fresh.text


# ==========================================================================================
# mimic env
# ==========================================================================================


def test_mimic_env_prints_shell_setup(mimic: MimicServer):
    p = mimic.mimic_cli("env")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "REQUESTS_CA_BUNDLE" in out and str(mimic.ca_path) in out, out
    register = [line for line in out.splitlines() if "az cloud register" in line]
    assert register, out
    assert mimic.arm_url in register[0], register[0]

    # The export lines are valid bash and set the CA bundle.
    exports = "\n".join(line for line in out.splitlines() if line.startswith("export "))
    probe = subprocess.run(["bash", "-c", exports + '\nprintf %s "$REQUESTS_CA_BUNDLE"'],
                           capture_output=True, text=True, timeout=10)
    assert probe.returncode == 0, probe.stderr
    # the machine's own roots with Mimic's CA after them, so tunnelled sites verify too
    bundle = mimic.data_dir / "ca-bundle.pem"
    assert probe.stdout == str(bundle)
    assert bundle.read_text().rstrip().endswith(mimic.ca_path.read_text().strip())
