"""Hostile input: no tenant user can crash, brick or take over Mimic with what they send.

Every parser of untrusted text gets input past the shared bounded-input budget
(`mimic-domain/src/limits.rs`: nesting 64, bodies 4 MB), sent by a member user and a
resource-group Contributor where the issue names them: deep JSON bodies on ARM, Graph and the
portal, deployments with deep templates, deep template expressions and values built by
chained variables, OData `$filter`/`$orderby`/`$search`, oversize bodies on every surface,
resource paths with `.`/`..`/`%2e%2e`. Each case asserts a 4xx in that surface's own error
shape (ARM `{"error":{"code","message"}}`, Graph's OData error with `innerError`, the token
service's OAuth2 error with `AADSTS` and `error_codes`) and that the server still serves.
Last, the server is stopped and started on the same data directory (a stored document it
could not read back would stop it starting), and a row written behind its back that it cannot
read is reported, answered with ARM's error, and does not stop it starting.

`pytest -s tests/test_hostile_input.py` prints the number of hostile requests sent.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import ssl
import uuid
from urllib.parse import urlsplit

import pytest

from mimic_harness import (
    AUTHZ_API,
    AZ_ARM_SCOPE,
    CONTRIBUTOR,
    DEPLOY_API,
    MSI_API,
    READER,
    RG_API,
    MimicServer,
    assign_role,
    graph,
    unique,
    wait_deployment,
)

DEPTH = 64  # limits::MAX_DEPTH
MB = 1024 * 1024

SENT = {"hostile": 0}


def nested_array(n: int, leaf: str = "1") -> str:
    return "[" * n + leaf + "]" * n


def nested_object(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


# ---- the server, a member user with Contributor on one resource group ---------------------


#: Every test here on one worker and one server, in order: the last ones restart the server that
#: received all the hostile input (pytest.ini runs xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("hostile_input")

@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = MimicServer(tmp_path_factory.mktemp("hostile"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def member(srv: MimicServer) -> dict:
    """A member user (no directory role) who is Contributor on one resource group only."""
    domain = srv.admin["userName"].split("@")[1]
    upn = f"{unique('mallory')}@{domain}"
    password = "Mal-" + uuid.uuid4().hex + "!A1"
    r = graph(srv, "POST", "/v1.0/users", timeout=60, json={"accountEnabled": True, "displayName": "Mallory", "mailNickname": "mallory",
                                                "userPrincipalName": upn,
                                                "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": False}})
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    rg = unique("hostile")
    srv.create_rg(rg)
    scope = f"/subscriptions/{srv.subscription_id}/resourceGroups/{rg}"
    assign_role(srv, oid, CONTRIBUTOR, scope, principal_type="User")
    arm = srv.ropc(username=upn, password=password, scope=AZ_ARM_SCOPE)
    gr = srv.ropc(username=upn, password=password, scope=srv.graph_url + "//.default")
    assert arm.status_code == 200 and gr.status_code == 200, (arm.text, gr.text)
    return {"upn": upn, "oid": oid, "rg": rg, "scope": scope, "arm": arm.json()["access_token"], "graph": gr.json()["access_token"]}


def raw(srv: MimicServer, base: str, method: str, path: str, *, token: str | None = None, body: bytes | None = None,
        headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request with the path sent byte for byte (requests/urllib3 would remove dot segments)."""
    u = urlsplit(base)
    ctx = ssl.create_default_context(cafile=str(srv.ca_path))
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, dict(r.getheaders()), data
    finally:
        conn.close()


# ---- the error shapes ----------------------------------------------------------------------


def raw_arm_error(status: int, body: bytes | str, code: str | None = None, want: int | tuple = 400) -> dict:
    """ARM's error envelope in a `raw(...)` answer (its status and body), one of the `want` statuses;
    counts a hostile request. (mimic_harness.arm_error checks a requests.Response.)"""
    SENT["hostile"] += 1
    want = want if isinstance(want, tuple) else (want,)
    assert status in want, (status, body[:400])
    err = json.loads(body)["error"]
    assert isinstance(err["code"], str) and isinstance(err["message"], str) and err["message"], err
    if code:
        assert err["code"] == code, err
    return err


def graph_error(r, status: int = 400, code: str | None = None) -> dict:
    SENT["hostile"] += 1
    assert r.status_code == status, (r.status_code, r.text[:400])
    err = r.json()["error"]
    assert isinstance(err["code"], str) and err["message"], err
    assert set(err["innerError"]) >= {"date", "request-id", "client-request-id"}, err
    if code:
        assert err["code"] == code, err
    return err


def oauth_error(r, status: int) -> dict:
    SENT["hostile"] += 1
    assert r.status_code == status, (r.status_code, r.text[:400])
    body = r.json()
    assert body["error"] and body["error_description"].startswith("AADSTS") and body["error_codes"], body
    return body


def assert_serving(srv: MimicServer, member: dict | None = None) -> None:
    """ARM, Graph and the token service still answer, and the process is alive."""
    assert srv.running(), srv.log_tail()
    assert srv.arm("GET", f"/subscriptions/{srv.subscription_id}", api_version=RG_API).status_code == 200
    assert graph(srv, "GET", "/v1.0/organization", timeout=60).status_code == 200
    assert srv.client_credentials().status_code == 200
    if member:
        assert srv.arm("GET", member["scope"], api_version=RG_API, token=member["arm"]).status_code == 200


def deployment_body(template: str) -> bytes:
    return ('{"properties": {"mode": "Incremental", "template": ' + template + "}}").encode()


def template_with_output(value: str) -> str:
    return ('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", '
            '"contentVersion": "1.0.0.0", "resources": [], "outputs": {"o": {"type": "array", "value": ' + value + "}}}")


# ---- ARM: deep JSON bodies -------------------------------------------------------------------


@pytest.mark.parametrize("depth", [DEPTH + 1, 100, 127, 200, 20_000])
def test_arm_resource_body_nested_past_the_budget(srv, member, depth):
    """A Contributor's PUT of a resource whose properties nest past 64 levels: 400
    InvalidRequestContent (100 and 127 are within serde_json's own limit: before the shared
    budget they were stored, and one of them past the store's reader bricked it)."""
    path = f"{member['scope']}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deep{depth}?api-version={MSI_API}"
    body = ('{"location": "westus", "properties": {"x": ' + nested_array(depth) + "}}").encode()
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=body)
    raw_arm_error(status, data, "InvalidRequestContent")
    assert srv.arm("GET", path.split("?")[0], api_version=MSI_API, token=member["arm"]).status_code == 404
    assert_serving(srv, member)


def test_arm_resource_body_within_the_budget_is_stored_and_read_back(srv, member):
    path = f"{member['scope']}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/withinBudget"
    body = {"location": "westus", "tags": {"a": "b"}}
    r = srv.arm("PUT", path, api_version=MSI_API, token=member["arm"], json=body)
    assert r.status_code in (200, 201), r.text
    assert srv.arm("GET", path, api_version=MSI_API, token=member["arm"]).status_code == 200


@pytest.mark.parametrize("depth", [DEPTH + 1, 200, 20_000])
def test_deployment_template_nested_past_the_budget(srv, member, depth):
    """The issue's deployment PUT (20,000 deep crashed the process; 200 deep was accepted and
    bricked the store): 400 in ARM's shape, nothing stored."""
    name = f"deep{depth}"
    path = f"{member['scope']}/providers/Microsoft.Resources/deployments/{name}?api-version={DEPLOY_API}"
    template = template_with_output(nested_array(depth))
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=deployment_body(template))
    err = raw_arm_error(status, data)
    assert "MaxDepth of 64" in json.dumps(err), err
    assert srv.arm("GET", path.split("?")[0], api_version=DEPLOY_API, token=member["arm"]).status_code == 404
    assert_serving(srv, member)


def test_deployment_template_as_a_string_nested_past_the_budget(srv, member):
    path = f"{member['scope']}/providers/Microsoft.Resources/deployments/deepString?api-version={DEPLOY_API}"
    body = json.dumps({"properties": {"mode": "Incremental", "template": template_with_output(nested_array(20_000))}}).encode()
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=body)
    raw_arm_error(status, data)
    assert_serving(srv, member)


@pytest.mark.parametrize("depth", [DEPTH + 2, 3_000])
def test_template_expression_nested_past_the_budget(srv, member, depth):
    """`[concat(concat(...))]` nested 3,000 deep in an output (it overflowed the stack)."""
    expr = "[" + "concat(" * depth + "'a'" + ")" * depth + "]"
    template = template_with_output(json.dumps(expr)).replace('"type": "array"', '"type": "string"')
    path = f"{member['scope']}/providers/Microsoft.Resources/deployments/expr{depth}?api-version={DEPLOY_API}"
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=deployment_body(template))
    if status in (200, 201):
        # Accepted (outputs are evaluated while running): it must end Failed with the reason.
        final = wait_deployment(srv, path.split("?")[0], token=member["arm"], timeout=30)
        SENT["hostile"] += 1
        assert final["properties"]["provisioningState"] == "Failed", final
        assert "levels deep" in json.dumps(final["properties"]["error"]), final
    else:
        err = raw_arm_error(status, data)
        assert "levels deep" in json.dumps(err), err
    assert_serving(srv, member)


def test_template_values_grown_by_chained_variables(srv, member):
    """Variables each wrapping the next in two arrays: no input is deep, the value they build
    is; and 2,000 variables each naming the next recurse as deep as the template is long."""
    for name, count, wrap in (("chainDeep", 40, "createArray(createArray(variables('v{n}')))"),
                              ("chainLong", 2_000, "variables('v{n}')")):
        variables = {f"v{i}": "[" + wrap.format(n=i + 1) + "]" for i in range(count)}
        variables[f"v{count}"] = 1
        template = json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                               "contentVersion": "1.0.0.0", "variables": variables, "resources": [],
                               "outputs": {"o": {"type": "object", "value": "[createObject('v', variables('v0'))]"}}})
        path = f"{member['scope']}/providers/Microsoft.Resources/deployments/{name}?api-version={DEPLOY_API}"
        status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=deployment_body(template))
        if status in (200, 201):
            final = wait_deployment(srv, path.split("?")[0], token=member["arm"], timeout=30)
            SENT["hostile"] += 1
            assert final["properties"]["provisioningState"] == "Failed", final
        else:
            raw_arm_error(status, data)
        assert_serving(srv, member)


def test_json_function_of_a_deep_string(srv, member):
    template = template_with_output(json.dumps("[json('" + nested_array(20_000) + "')]"))
    path = f"{member['scope']}/providers/Microsoft.Resources/deployments/jsonDeep?api-version={DEPLOY_API}"
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=deployment_body(template))
    if status in (200, 201):
        final = wait_deployment(srv, path.split("?")[0], token=member["arm"], timeout=30)
        SENT["hostile"] += 1
        assert final["properties"]["provisioningState"] == "Failed", final
    else:
        raw_arm_error(status, data)
    assert_serving(srv, member)


def test_template_within_the_budget_deploys(srv, member):
    """The control: a template using the budget (an output 60 deep, an expression 60 calls
    deep) deploys and its deployment reads back."""
    expr = "[" + "concat(" * 60 + "'a'" + ")" * 60 + "]"
    template = json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                           "contentVersion": "1.0.0.0", "resources": [],
                           "outputs": {"deep": {"type": "array", "value": json.loads(nested_array(55))},
                                       "expr": {"type": "string", "value": expr}}})
    path = f"{member['scope']}/providers/Microsoft.Resources/deployments/withinBudget"
    status, _, data = raw(srv, srv.arm_url, "PUT", path + f"?api-version={DEPLOY_API}", token=member["arm"], body=deployment_body(template))
    assert status in (200, 201), data
    final = wait_deployment(srv, path, token=member["arm"], timeout=30)
    assert final["properties"]["provisioningState"] == "Succeeded", final
    assert final["properties"]["outputs"]["expr"]["value"] == "a"


# ---- ARM: oversize bodies and dot segments ---------------------------------------------------


@pytest.mark.parametrize("size", [4 * MB + 1, 10 * MB])
def test_arm_body_over_4mb_gets_a_readable_413(srv, member, size):
    """Not a connection reset: ARM's 413 RequestContentTooLarge, read by the client."""
    path = f"{member['scope']}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/big?api-version={MSI_API}"
    body = b'{"location": "westus", "tags": {"a": "' + b"x" * (size - 40) + b'"}}'
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=body)
    err = raw_arm_error(status, data, "RequestContentTooLarge", want=413)
    assert err["message"] == "The request content size exceeds the maximum size of 4 MB."
    assert_serving(srv, member)


def test_arm_body_just_within_4mb_is_read(srv, member):
    """Axum's own 2 MB default no longer cuts bodies ARM accepts."""
    path = f"{member['scope']}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bigButFine?api-version={MSI_API}"
    body = b'{"location": "westus", "properties": {"x": "' + b"x" * (3 * MB) + b'"}}'
    status, _, data = raw(srv, srv.arm_url, "PUT", path, token=member["arm"], body=body)
    assert status in (200, 201), data[:300]


DOT_PATHS = [
    "{scope}/../providers/Microsoft.Authorization/roleAssignments/{name}",
    "{scope}/%2e%2e/providers/Microsoft.Authorization/roleAssignments/{name}",
    "{scope}/%2E%2e/providers/Microsoft.Authorization/roleAssignments/{name}",
    "{scope}/./providers/Microsoft.Authorization/roleAssignments/{name}",
    "/subscriptions/{sub}/resourceGroups/../providers/Microsoft.Authorization/roleAssignments/{name}",
    "/subscriptions/{sub}/resourceGroups/%2e%2e/providers/Microsoft.Authorization/roleAssignments/{name}",
    "{scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/..",
    "{scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x/../y",
    "{scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%2e%2e",
]


@pytest.mark.parametrize("template", DOT_PATHS)
def test_dot_segments_are_refused_and_never_stored(srv, member, template):
    """The issue's role-assignment PUT with `..` (a junk assignment in every list) and its
    percent-encoded forms: 400 in ARM's shape, for the admin as for the Contributor."""
    name = str(uuid.uuid4())
    path = template.format(scope=member["scope"], sub=srv.subscription_id, name=name)
    api = AUTHZ_API if "roleAssignments" in path else MSI_API
    body = json.dumps({"location": "westus", "properties": {
        "roleDefinitionId": f"/subscriptions/{srv.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
        "principalId": member["oid"], "principalType": "User"}}).encode()
    for token in (member["arm"], srv.sp_token()):
        status, _, data = raw(srv, srv.arm_url, "PUT", f"{path}?api-version={api}", token=token, body=body)
        raw_arm_error(status, data, "InvalidRequestUri")
    listed = srv.arm("GET", f"/subscriptions/{srv.subscription_id}/providers/Microsoft.Authorization/roleAssignments", api_version=AUTHZ_API)
    assert listed.status_code == 200 and name not in listed.text
    assert_serving(srv, member)


# ---- Graph ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flt", [
    "(" * 2_000 + "accountEnabled eq true" + ")" * 2_000,           # the 4 KB URL
    "(" * (DEPTH + 1) + "accountEnabled eq true" + ")" * (DEPTH + 1),
    "not " * 5_000 + "accountEnabled eq true",
    "proxyAddresses/any(x:" * 1_000 + "x eq 'a'" + ")" * 1_000,
    "(" * 10_000,
])
def test_graph_filter_nested_past_the_budget(srv, member, flt):
    r = graph(srv, "GET", "/v1.0/users", token=member["graph"], timeout=60, params={"$filter": flt})
    graph_error(r, 400, "BadRequest")
    assert_serving(srv, member)


def test_graph_filter_within_the_budget_and_long_chains(srv, member):
    flt = "(" * DEPTH + "accountEnabled eq true" + ")" * DEPTH
    assert graph(srv, "GET", "/v1.0/users", token=member["graph"], timeout=60, params={"$filter": flt}).status_code == 200
    chain = " or ".join([f"userPrincipalName eq '{member['upn']}'"] * 300)
    r = graph(srv, "GET", "/v1.0/users", token=member["graph"], timeout=60, params={"$filter": chain})
    assert r.status_code == 200 and [u["id"] for u in r.json()["value"]] == [member["oid"]], r.text[:300]


@pytest.mark.parametrize("orderby", ["(" * 5_000 + "displayName", "displayName" + "x" * 20_000, "displayName " + "desc " * 3_000])
def test_graph_orderby_hostile(srv, member, orderby):
    r = graph(srv, "GET", "/v1.0/users", token=member["graph"], timeout=60, params={"$orderby": orderby})
    graph_error(r, 400)
    assert_serving(srv, member)


@pytest.mark.parametrize("search", ['"' + "(" * 10_000 + '"', '"displayName' + "(" * 20_000 + '"', "x" * 30_000])
def test_graph_search_hostile(srv, member, search):
    r = graph(srv, "GET", "/v1.0/users", token=member["graph"], timeout=60, params={"$search": search},
              headers={"ConsistencyLevel": "eventual"})
    graph_error(r, 400)
    assert_serving(srv, member)


@pytest.mark.parametrize("depth", [DEPTH + 1, 100, 20_000])
def test_graph_body_nested_past_the_budget(srv, member, depth):
    body = '{"displayName": "g", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true, "description": ' + nested_object(depth) + "}"
    r = graph(srv, "POST", "/v1.0/groups", timeout=60, data=body, headers={"Content-Type": "application/json"})
    graph_error(r, 400, "BadRequest")
    assert_serving(srv, member)


@pytest.mark.parametrize("who", ["sp", "member"])
def test_graph_body_over_4mb_gets_a_readable_413(srv, member, who):
    token = member["graph"] if who == "member" else None
    body = b'{"displayName": "' + b"x" * (10 * MB) + b'"}'
    r = graph(srv, "POST", "/v1.0/groups", token=token, timeout=60, data=body, headers={"Content-Type": "application/json"})
    err = graph_error(r, 413)
    assert err["message"] == "The maximum request length supported is 4MB."
    assert_serving(srv, member)


# ---- the token service and the portal --------------------------------------------------------


@pytest.mark.parametrize("v1", [False, True])
def test_token_form_over_4mb_gets_a_readable_413(srv, member, v1):
    form = {"grant_type": "client_credentials", "client_id": srv.sp["clientId"], "client_secret": "x" * (10 * MB),
            "scope": "https://management.azure.com/.default"}
    r = srv.token_request(form, v1=v1)
    body = oauth_error(r, 413)
    assert body["error"] == "invalid_request"
    assert_serving(srv, member)


def test_token_form_hostile_values_are_oauth_errors(srv, member):
    """Deeply bracketed and enormous (but within 4 MB) values are just wrong values."""
    for form in ({"grant_type": "client_credentials", "client_id": "[" * 100_000, "client_secret": "x", "scope": "x"},
                 {"grant_type": "password", "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "username": "(" * 100_000,
                  "password": "x", "scope": "https://management.azure.com//.default"},
                 {"grant_type": "x" * (3 * MB)}):
        r = srv.token_request(form)
        SENT["hostile"] += 1
        assert 400 <= r.status_code < 500, r.text[:300]
        assert r.json()["error_description"].startswith("AADSTS"), r.text[:300]
    assert_serving(srv, member)


@pytest.mark.parametrize("surface", ["arm", "graph"])
def test_portal_bff_body_over_4mb(srv, member, surface):
    """The portal's backend-for-frontend answers with the error of the surface it forwards to."""
    path = (f"/api/arm{member['scope']}?api-version={RG_API}" if surface == "arm" else "/api/graph/v1.0/groups")
    status, _, data = raw(srv, srv.endpoints["portal"], "PUT" if surface == "arm" else "POST", path,
                          body=b'{"x": "' + b"x" * (5 * MB) + b'"}', headers={"X-Mimic-Portal": "1"})
    if surface == "arm":
        raw_arm_error(status, data, "RequestContentTooLarge", want=413)
    else:
        SENT["hostile"] += 1
        assert status == 413 and json.loads(data)["error"]["message"] == "The maximum request length supported is 4MB.", data[:300]
    assert_serving(srv, member)


# ---- after all of it: the store reads back everything it accepted -----------------------------


def test_zz_restart_on_the_same_data_directory(srv, member):
    """Stop and start on the same data directory: it starts, and every list the hostile
    requests could have written to reads back."""
    within = f"{member['scope']}/providers/Microsoft.Resources/deployments/withinBudget"
    if srv.arm("GET", within, api_version=DEPLOY_API).status_code == 404:
        # the control ran on another server (a run that split this module across workers)
        test_template_within_the_budget_deploys(srv, member)
    srv.restart()
    assert_serving(srv)
    sub = srv.subscription_id
    for path, api in ((f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments", AUTHZ_API),
                      (f"{member['scope']}/providers/Microsoft.Resources/deployments", DEPLOY_API),
                      (f"{member['scope']}/resources", RG_API),
                      (f"/subscriptions/{sub}/resourcegroups", RG_API)):
        r = srv.arm("GET", path, api_version=api)
        assert r.status_code == 200, (path, r.text[:300])
    r = srv.arm("GET", f"{member['scope']}/providers/Microsoft.Resources/deployments/withinBudget", api_version=DEPLOY_API)
    assert r.status_code == 200 and r.json()["properties"]["provisioningState"] == "Succeeded", r.text[:300]
    print(f"\nhostile input: {SENT['hostile']} hostile requests refused in their surface's error shape, server serving after each")


def test_zz_a_row_it_cannot_read_does_not_stop_it_starting(srv, member):
    """A document written behind the server's back (this test writes SQLite directly) that its
    reader refuses, on the in-progress list so start-up must read it: `mimic serve` still
    starts, logs the key, and the deployment's GET answers ARM's error."""
    if srv.store:
        pytest.skip("writes the SQLite file directly")
    name = "unreadable"
    dep_id = f"{member['scope']}/providers/Microsoft.Resources/deployments/{name}"
    key = dep_id.lower()
    srv.stop()
    db = sqlite3.connect(srv.data_dir / "mimic.db")
    try:
        bad = '{"name": "unreadable", "properties": {"provisioningState": "Running", "x": ' + nested_array(200) + "}}"
        db.execute("INSERT INTO documents(kind, id, doc, expires) VALUES ('deployment', ?, ?, NULL) "
                   "ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc", (key, bad))
        runner = str(srv.data_dir.resolve())
        db.execute("INSERT INTO documents(kind, id, doc, expires) VALUES ('deployment.running', 'all', ?, NULL) "
                   "ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc", (json.dumps({"entries": [{"key": key, "runner": runner}]}),))
        index = db.execute("SELECT doc FROM documents WHERE kind = 'deployment.index' AND id = ?", (member["scope"].lower(),)).fetchone()
        if index:
            keys = json.loads(index[0]).get("keys", [])
            db.execute("UPDATE documents SET doc = ? WHERE kind = 'deployment.index' AND id = ?",
                       (json.dumps({"keys": keys + [key]}), member["scope"].lower()))
        db.commit()
    finally:
        db.close()
    srv.start()
    assert key in srv.log_path.read_text(), srv.log_tail()
    assert_serving(srv)
    r = srv.arm("GET", dep_id, api_version=DEPLOY_API)
    SENT["hostile"] += 1
    assert 400 <= r.status_code < 600 and r.status_code != 404, r.text
    err = r.json()["error"]
    assert err["code"] and err["message"], err
