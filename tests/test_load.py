"""Load: a bounded closed-loop load with wrk on loopback, as BENCHMARKS.md
measures it (wrk, 1 thread, 8 keep-alive connections, HTTPS, a bearer token, RBAC on every
call), answered without a single error and losing nothing: every write acknowledged with a 2xx
is readable afterwards. Then ARM throttling: a server started with `--arm-rate-limit` answers 429
`SubscriptionRequestsThrottled` with `Retry-After` once the caller's bucket is empty.

What holds on any machine, busy or idle, is asserted; the rate and latency figures are printed
(they depend on the machine: BENCHMARKS.md has them, measured by benches/run.sh against peers in
the same run). scripts/test runs this file on its own after the parallel suite, since the load
would slow the other tests down. wrk comes from Debian (scripts/test-setup.sh installs it);
without it the load tests are skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mimic_harness import NET_API, RG_API, MimicServer

LUA = Path(__file__).resolve().parent / "lua" / "load.lua"
SECONDS = 8


def wrk(server: MimicServer, connections: int, env: dict) -> dict:
    exe = shutil.which("wrk")
    if exe is None:
        pytest.skip("wrk not installed (scripts/test-setup.sh installs Debian's wrk)")
    p = subprocess.run([exe, "-t1", f"-c{connections}", f"-d{SECONDS}s", "--timeout", "10s", "-s", str(LUA), server.arm_url],
                       capture_output=True, text=True, timeout=SECONDS + 60,
                       env={"PATH": "/usr/bin:/bin", "LOAD_AUTH": f"Bearer {server.sp_token()}", **env})
    line = next((l for l in p.stdout.splitlines() if l.startswith("LOAD_JSON ")), None)
    assert p.returncode == 0 and line, f"wrk failed:\n{p.stdout}\n{p.stderr}"
    result = json.loads(line[len("LOAD_JSON "):])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def summary(kind: str, r: dict) -> str:
    return (f"{kind}: {r['requests']} requests, {r['rate']:.0f} req/s, p50 {r['p50_us'] / 1000:.2f} ms, "
            f"p99 {r['p99_us'] / 1000:.2f} ms, max {r['max_us'] / 1000:.1f} ms")


def assert_no_errors(kind: str, r: dict) -> None:
    print("\nload " + summary(kind, r))
    assert r["requests"] > 0, summary(kind, r)
    errors = {k: r[k] for k in ("non2xx", "err_connect", "err_read", "err_write", "err_timeout") if r[k]}
    assert not errors, f"{summary(kind, r)}: {errors}"


@pytest.fixture
def quiet_server(mimic_factory) -> MimicServer:
    # as BENCHMARKS.md ran it: no line per request
    return mimic_factory(env={"MIMIC_LOG": "warn"})


def test_arm_reads_under_load_answer_every_request(quiet_server: MimicServer):
    server = quiet_server
    server.create_rg("loadrg")
    r = wrk(server, 8, {"LOAD_METHOD": "GET", "LOAD_PATH": server.rg_path("loadrg"), "LOAD_QUERY": f"api-version={RG_API}"})
    assert_no_errors("ARM read", r)
    # The server is still itself afterwards.
    got = server.arm("GET", server.rg_path("loadrg"), api_version=RG_API)
    assert got.status_code == 200 and got.json()["name"] == "loadrg", got.text


def test_arm_writes_under_load_lose_nothing(quiet_server: MimicServer):
    server = quiet_server
    server.create_rg("loadrg")
    collection = f"{server.rg_path('loadrg')}/providers/Microsoft.Network/networkSecurityGroups"
    r = wrk(server, 8, {"LOAD_METHOD": "PUT", "LOAD_PATH": collection, "LOAD_QUERY": f"api-version={NET_API}"})
    assert_no_errors("ARM write", r)
    listed = server.arm("GET", collection, api_version=NET_API)
    assert listed.status_code == 200, listed.text
    names = {x["name"] for x in listed.json()["value"]}
    print(f"load ARM write: {r['ok2xx']} writes acknowledged, {len(names)} readable afterwards")
    # Every acknowledged write is there; at most the requests still in flight when wrk stopped
    # may be there too.
    assert r["ok2xx"] > 0
    assert r["ok2xx"] <= len(names) <= r["started"], (r, len(names))
    # ... and stays there across a restart (acknowledged means durable). Requests still in flight
    # at the first list may have landed since.
    server.restart()
    again = server.arm("GET", collection, api_version=NET_API)
    assert again.status_code == 200, again.text
    after = {x["name"] for x in again.json()["value"]}
    assert names <= after and len(after) <= r["started"], (len(names), len(after), sorted(names - after)[:20])


def test_arm_throttling_answers_429_with_retry_after_as_azure(mimic_factory):
    """`--arm-rate-limit 5/1`: a bucket of 5 requests refilled at 1 per second per principal,
    subscription and kind (Azure's algorithm with smaller numbers, so the test is quick)."""
    server = mimic_factory(extra_args=["--arm-rate-limit", "5/1"])
    rg = server.rg_path("throttled")
    put = server.arm("PUT", rg, api_version=RG_API, json={"location": "westus"})
    assert put.status_code in (200, 201), put.text
    assert put.headers["x-ms-ratelimit-remaining-subscription-writes"] == "4"
    remaining = []
    for _ in range(5):
        r = server.arm("GET", rg, api_version=RG_API)
        assert r.status_code == 200, r.text
        remaining.append(r.headers["x-ms-ratelimit-remaining-subscription-reads"])
    assert remaining == ["4", "3", "2", "1", "0"]
    r = server.arm("GET", rg, api_version=RG_API)
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    err = r.json()["error"]
    # Real text: velero-io/velero#9171 (429, SubscriptionRequestsThrottled).
    assert err["code"] == "SubscriptionRequestsThrottled", err
    assert err["message"] == (
        f"Number of 'read' requests for subscription '{server.subscription_id}' actor '{server.sp['objectId']}' exceeded. "
        f"Please try again after '{r.headers['Retry-After']}' seconds after additional tokens are available. "
        "Refer to https://aka.ms/arm-throttling for additional information.")
    # Writes have their own bucket; tenant-level reads too.
    assert server.arm("PATCH", rg, api_version=RG_API, json={"tags": {"a": "b"}}).status_code == 200
    t = server.arm("GET", "/tenants", api_version=RG_API)
    assert t.status_code == 200 and t.headers["x-ms-ratelimit-remaining-tenant-reads"] == "4", t.headers
    # The bucket refills: after Retry-After the caller is served again.
    time.sleep(int(r.headers["Retry-After"]) + 0.2)
    assert server.arm("GET", rg, api_version=RG_API).status_code == 200
    # Unauthenticated calls are refused before throttling, and the open document is never throttled.
    for _ in range(8):
        assert server.arm("GET", "/metadata/endpoints", token=None, api_version="2022-09-01").status_code == 200


def test_azure_sdk_retries_after_a_throttled_answer(mimic_factory, monkeypatch):
    """azure-mgmt-resource honours Retry-After on 429 (azure-core's RetryPolicy) and succeeds."""
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource import ResourceManagementClient

    server = mimic_factory(extra_args=["--arm-rate-limit", "2/2"])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
    cred = ClientSecretCredential(server.tenant_id, server.sp["clientId"], server.sp["clientSecret"],
                                  authority=server.login_url, disable_instance_discovery=True)
    client = ResourceManagementClient(cred, server.subscription_id, base_url=server.arm_url,
                                      credential_scopes=["https://management.azure.com/.default"])
    client.resource_groups.create_or_update("sdkthrottled", {"location": "westus"})
    t0 = time.monotonic()
    names = [client.resource_groups.get("sdkthrottled").name for _ in range(4)]
    assert names == ["sdkthrottled"] * 4
    assert time.monotonic() - t0 >= 0.5, "four reads from a bucket of two must have waited for a refill"
