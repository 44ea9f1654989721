"""Mimic over PostgreSQL: no lost update under concurrent PATCHes, and several `mimic serve`
replicas over one database behaving as one Mimic, with requests alternating between them.

Needs the test cluster: `MIMIC_TEST_POSTGRES=postgres://...` (scripts/test starts one with
scripts/postgres-test-cluster.sh); skipped with that message when it is unset.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from mimic_harness import (
    ARM_SCOPE,
    AUTHZ_API,
    GRAPH_SCOPE,
    RG_API,
    VM_API,
    Az,
    MimicServer,
    get_vm,
    jwt_parts,
    make_uai,
    make_vm,
    replica_of,
    uai_id,
    unique,
    vm_id,
)
from test_portal_sessions import SESSION_COOKIE, SUBSCRIPTIONS, browser, portal_callback, portal_get, portal_sign_in, signed_in_as
from test_vm_identity import MSI_API  # what the msi SDKs send (not mimic_harness.MSI_API)

pytestmark = pytest.mark.skipif(
    not os.environ.get("MIMIC_TEST_POSTGRES"),
    reason="MIMIC_TEST_POSTGRES is unset: start a cluster with scripts/postgres-test-cluster.sh start DIR and export its URL",
)

PARALLEL_PATCHES = 50


def test_fifty_parallel_patches_of_one_vms_identities_lose_no_update(mimic_factory):
    """50 PATCHes of one VM, each attaching a different user-assigned identity, sent at once:
    every acknowledged one is in the final identity block (serializable writes, re-run on
    conflict), and any refused one was answered with ARM's error, never silently dropped."""
    mimic = mimic_factory(store="postgres")
    rg = unique("patches")
    mimic.create_rg(rg)
    make_vm(mimic, rg, "vm", identity={"type": "SystemAssigned"})
    uais = [uai_id(mimic, rg, f"id{i}") for i in range(PARALLEL_PATCHES)]
    for i in range(PARALLEL_PATCHES):
        make_uai(mimic, rg, f"id{i}", api=MSI_API)
    token = mimic.sp_token()
    url = mimic.arm_url + vm_id(mimic, rg, "vm")

    def patch(uai: str) -> requests.Response:
        body = {"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai: {}}}}
        return requests.patch(url, params={"api-version": VM_API}, json=body, headers={"Authorization": f"Bearer {token}"},
                              verify=str(mimic.ca_path), timeout=120)

    with ThreadPoolExecutor(PARALLEL_PATCHES) as pool:
        responses = list(pool.map(patch, uais))
    acknowledged = {u.lower() for u, r in zip(uais, responses) if r.status_code in (200, 202)}
    for r in responses:
        if r.status_code not in (200, 202):
            assert r.json()["error"]["code"], r.text  # refused in ARM's shape
    final = {k.lower() for k in get_vm(mimic, rg, "vm")["identity"]["userAssignedIdentities"]}
    assert acknowledged <= final, f"lost updates: {sorted(acknowledged - final)}"
    assert len(acknowledged) == PARALLEL_PATCHES, [r.text for r in responses if r.status_code not in (200, 202)]


def test_concurrent_first_start_of_two_replicas_bootstraps_once(mimic_factory):
    """Two replicas started at the same moment on an empty store: one tenant, one set of
    secrets, one signing key set and one CA between them."""
    a = mimic_factory(store="postgres", start=False)
    b = mimic_factory(store=a.store, start=False)
    errors: list[BaseException] = []

    def start(s: MimicServer) -> None:
        # The replica that loses the bootstrap has no bootstrap.json; checked below instead.
        s.bootstrap = {"pending": True}
        try:
            s.start(timeout=30)
        except Exception as e:  # noqa: BLE001 - collected and asserted on
            errors.append(e)

    threads = [threading.Thread(target=start, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    winners = [s for s in (a, b) if (s.data_dir / "bootstrap.json").exists()]
    assert len(winners) == 1, "exactly one replica created the tenant and wrote its secrets"
    for s in (a, b):
        s.bootstrap = winners[0].bootstrap
    assert a.ca_path.read_text() == b.ca_path.read_text(), "both present certificates from one CA"
    kids = [[k["kid"] for k in requests.get(f"{s.login_url}/{s.tenant_id}/discovery/v2.0/keys", verify=str(s.ca_path), timeout=30).json()["keys"]]
            for s in (a, b)]
    assert kids[0] == kids[1] and len(kids[0]) == 1
    for s in (a, b):
        tenants = s.arm("GET", "/tenants", api_version=RG_API).json()["value"]
        assert [t["tenantId"] for t in tenants] == [s.tenant_id]


def test_two_replicas_alternating_requests_behave_as_one(mimic_factory, tmp_path: Path):
    """az logs in against replica A; its token creates a group on B; a role assignment made on A
    applies on B at once; a VM created on B is polled to completion on A; a user's refresh token
    from B redeems on A."""
    a = mimic_factory(store="postgres")
    b = replica_of(mimic_factory, a)
    assert a.ca_path.read_text() == b.ca_path.read_text()

    config = tmp_path / "az"
    config.mkdir()
    az = Az(a, config)
    az.setup_sp()
    token_a = az("account", "get-access-token")["accessToken"]

    # Group create on B with A's token; A sees it.
    rg = unique("replicas")
    r = b.arm("PUT", b.rg_path(rg), api_version=RG_API, token=token_a, json={"location": "westus"})
    assert r.status_code == 201, r.text
    assert az("group", "show", "--name", rg)["name"] == rg

    # A second principal; Reader on the group granted through A applies on B for the next request.
    p = a.mimic_cli("admin", "sp", "create", "--name", unique("replica-sp"), "--output", "json")
    assert p.returncode == 0, p.stderr
    sp = json.loads(p.stdout)
    token_sp = b.client_credentials(client_id=sp["appId"], secret=sp["secret"]).json()["access_token"]
    scope = f"/subscriptions/{a.subscription_id}/resourceGroups/{rg}"
    assert b.arm("GET", scope, api_version=RG_API, token=token_sp).status_code == 403
    assignment = az("role", "assignment", "create", "--assignee-object-id", sp["objectId"],
                    "--assignee-principal-type", "ServicePrincipal", "--role", "Reader", "--scope", scope)
    assert b.arm("GET", scope, api_version=RG_API, token=token_sp).status_code == 200, "B sees A's role assignment at once"
    r = b.arm("DELETE", f"{assignment['id']}", api_version=AUTHZ_API, token=token_a)
    assert r.status_code == 200, r.text
    assert a.arm("GET", scope, api_version=RG_API, token=token_sp).status_code == 403, "and A sees B's removal at once"

    # A VM with identities written through B; its async operation polled on A.
    uai = make_uai(b, rg, "shared-id", api=MSI_API)
    vm = make_vm(b, rg, "vm1", identity={"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai["id"]: {}}})
    on_a = get_vm(a, rg, "vm1")
    assert on_a["identity"]["principalId"] == vm["identity"]["principalId"]
    r = b.arm("PATCH", vm_id(b, rg, "vm1"), api_version=VM_API, json={"tags": {"via": "b"}})
    assert r.status_code in (200, 202), r.text
    poll = r.headers.get("Azure-AsyncOperation") or r.headers.get("Location")
    if poll:
        status = a.arm("GET", poll.replace(b.arm_url, a.arm_url))
        assert status.status_code == 200, status.text
        assert status.json().get("status", "Succeeded") == "Succeeded"

    # A user signs in on B; the refresh token is redeemed on A.
    first = b.ropc()
    assert first.status_code == 200, first.text
    refreshed = a.refresh(first.json()["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    r = b.arm("GET", b.rg_path(rg), api_version=RG_API, token=refreshed.json()["access_token"])
    assert r.status_code == 200, r.text

    # The user-assigned identity's token works through either replica's ARM (same keys).
    assert a.arm("GET", uai_id(a, rg, "shared-id"), api_version=MSI_API, token=az("account", "get-access-token")["accessToken"]).status_code == 200


def test_a_portal_session_started_on_one_replica_serves_calls_on_the_other(mimic_factory):
    """A browser behind one address whose requests alternate between replicas: signed in through
    A, its portal API calls answered by B (which refreshes the session's tokens and stores them
    back for A), and a sign-out through B ends the session on A too."""
    a = mimic_factory(store="postgres")
    b = replica_of(mimic_factory, a)
    session = portal_sign_in(a)
    user = a.admin["userName"]
    assert signed_in_as(b, session) == user
    r = portal_get(b, session, SUBSCRIPTIONS)
    assert r.status_code == 200 and [s["subscriptionId"] for s in r.json()["value"]] == [a.subscription_id], r.text
    for replica in (b, a, b):  # B refreshes for Graph; A and B then share the stored tokens
        r = portal_get(replica, session, "/api/graph/v1.0/me")
        assert r.status_code == 200 and r.json()["userPrincipalName"].lower() == user.lower(), r.text
    a.restart()
    assert signed_in_as(a, session) == user, "a restarted replica keeps the session"
    r = browser(b).post(b.portal_url + "/signout", cookies={SESSION_COOKIE: session}, headers={"X-Mimic-Portal": "1"},
                        allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert signed_in_as(a, session) is None and signed_in_as(b, session) is None

    # A sign-in started on A whose callback reaches B: B finds the pending sign-in (state, nonce,
    # PKCE verifier) in the store. It then fails only because each replica's portal has its own
    # redirect URI here (its own port); behind one address the two are the same.
    r = portal_callback(a, b)
    assert r.status_code == 400 and "expired" not in r.text and "redirect_uri" in r.text, r.text


def jwks_kids(s: MimicServer) -> list[str]:
    r = s.http.get(f"{s.login_url}/{s.tenant_id}/discovery/v2.0/keys", timeout=30)
    assert r.status_code == 200, r.text
    return [k["kid"] for k in r.json()["keys"]]


def new_token(s: MimicServer, scope: str = ARM_SCOPE) -> str:
    r = s.client_credentials(scope=scope)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_key_rotation_on_one_replica_applies_on_every_replica(mimic_factory):
    """`mimic admin keys rotate` through replica A: B publishes both keys at once, signs new
    tokens with the new kid, and accepts tokens of the old key and of the new one (as Entra keeps
    its previous key in JWKS through a rollover)."""
    a = mimic_factory(store="postgres")
    b = replica_of(mimic_factory, a)
    [old_kid] = jwks_kids(b)
    old_token = new_token(b)
    assert jwt_parts(old_token)[0]["kid"] == old_kid

    p = a.mimic_cli("admin", "keys", "rotate", "--output", "json")
    assert p.returncode == 0, p.stderr
    rotated = json.loads(p.stdout)
    new_kid = rotated["kid"]
    assert new_kid != old_kid and rotated["keys"] == [new_kid, old_kid]
    for s in (a, b):
        assert jwks_kids(s) == [new_kid, old_kid], "the new key signs, the old one still verifies"
        fresh = new_token(s)
        assert jwt_parts(fresh)[0]["kid"] == new_kid, "tokens minted after the rotation use the new key on every replica"
        for token in (old_token, fresh, new_token(a if s is b else b)):
            r = s.arm("GET", "/subscriptions", api_version=RG_API, token=token)
            assert r.status_code == 200, r.text
    # The portal's in-process token requests use the new key too.
    session = portal_sign_in(b)
    assert portal_get(a, session, SUBSCRIPTIONS).status_code == 200


def test_key_rotation_needs_a_global_administrator_of_the_home_tenant(mimic_factory):
    a = mimic_factory(store="postgres")
    url = f"{a.graph_url}/mimic/signing-keys/rotate"
    p = a.mimic_cli("admin", "sp", "create", "--name", unique("not-admin"), "--output", "json")
    assert p.returncode == 0, p.stderr
    sp = json.loads(p.stdout)
    graph_token = a.client_credentials(client_id=sp["appId"], secret=sp["secret"], scope=GRAPH_SCOPE).json()["access_token"]
    r = a.http.post(url, headers={"Authorization": f"Bearer {graph_token}"}, timeout=30)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied", r.text
    assert a.http.post(url, timeout=30).status_code == 401
    admin = a.sp_token(scope=GRAPH_SCOPE)
    r = a.http.get(url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert r.status_code == 405, r.text
    assert len(jwks_kids(a)) == 1, "nothing was rotated"
