"""Load (issue 11, part 5): a bounded closed-loop load with wrk on loopback, as BENCHMARKS.md
measures it (wrk, 1 thread, 8 keep-alive connections, HTTPS, a bearer token, RBAC on every
call), keeps p99 within 5x p50 and loses nothing: every write acknowledged with a 2xx is
readable afterwards. Then ARM throttling: a server started with `--arm-rate-limit` answers 429
`SubscriptionRequestsThrottled` with `Retry-After` once the caller's bucket is empty.

Latency figures only mean something on an otherwise quiet machine, so scripts/test runs this
file on its own after the parallel suite (it is excluded there). wrk runs on a CPU of its own and
the server on the others: on two cores, three busy threads (wrk and two workers) would make the
tail the scheduler's time slice (EEVDF's 1.5 ms on 2 CPUs), not the server's. wrk comes from Debian
(scripts/test-setup.sh installs it); without it the load test is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from mimic_harness import RG_API, MimicServer

LUA = Path(__file__).resolve().parent / "lua" / "load.lua"
SECONDS = 8
NET_API = "2024-05-01"
#: BENCHMARKS.md (idle 2-core machine, run C): ARM read 27,484 req/s, ARM write 2,911 req/s. The floors
#: below are a quarter of that, for a CI machine that is slower or not quite idle; what the test
#: holds the server to is the latency spread and losing nothing.
READ_FLOOR = 27_484 / 4
WRITE_FLOOR = 2_911 / 4


_CPUS = sorted(os.sched_getaffinity(0))
#: The last CPU for wrk, the rest for the server (all of them on a one-CPU machine).
WRK_CPUS, SERVER_CPUS = ({_CPUS[-1]}, set(_CPUS[:-1])) if len(_CPUS) > 1 else (None, None)


def busy_cores(seconds: float = 1.0) -> float:
    """Cores busy (all but idle and iowait, /proc/stat) over `seconds`."""
    def busy() -> float:
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")
    b0, t0 = busy(), time.monotonic()
    time.sleep(seconds)
    return (busy() - b0) / (time.monotonic() - t0)


def wait_for_quiet(limit: float = 60) -> float:
    """Waits (up to `limit` seconds) until other work leaves the machine, as benches/run.sh does:
    a build or test run beside the load shows its own tail, not the server's. Returns the last
    reading, which the test prints."""
    deadline = time.monotonic() + limit
    while True:
        b = busy_cores()
        if b < 0.25 or time.monotonic() > deadline:
            return b


def wrk(server: MimicServer, connections: int, env: dict) -> dict:
    exe = shutil.which("wrk")
    if exe is None:
        pytest.skip("wrk not installed (scripts/test-setup.sh installs Debian's wrk)")
    busy_before = wait_for_quiet()
    p = subprocess.run([exe, "-t1", f"-c{connections}", f"-d{SECONDS}s", "--timeout", "5s", "-s", str(LUA), server.arm_url],
                       capture_output=True, text=True, timeout=SECONDS + 30,
                       preexec_fn=(lambda: os.sched_setaffinity(0, WRK_CPUS)) if WRK_CPUS else None,
                       env={"PATH": "/usr/bin:/bin", "LOAD_AUTH": f"Bearer {server.sp_token()}", **env})
    line = next((l for l in p.stdout.splitlines() if l.startswith("LOAD_JSON ")), None)
    assert p.returncode == 0 and line, f"wrk failed:\n{p.stdout}\n{p.stderr}"
    result = json.loads(line[len("LOAD_JSON "):])
    result["busy_before"] = busy_before
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


#: Other work on the machine (a build, another test run) can only lengthen the tail, never
#: shorten it, so the spread is judged on the best of a few runs, as benchmarks are.
ATTEMPTS = 3


def summary(kind: str, r: dict) -> str:
    return (f"{kind}: {r['rate']:.0f} req/s, p50 {r['p50_us'] / 1000:.2f} ms, p99 {r['p99_us'] / 1000:.2f} ms, "
            f"max {r['max_us'] / 1000:.1f} ms (cores busy before: {r['busy_before']:.2f})")


def assert_no_errors(kind: str, r: dict) -> None:
    print("\nload " + summary(kind, r))
    errors = {k: r[k] for k in ("non2xx", "err_connect", "err_read", "err_write", "err_timeout") if r[k]}
    assert not errors, f"{summary(kind, r)}: {errors}"


def held(kind: str, r: dict, floor: float) -> bool:
    return r["p99_us"] <= 5 * r["p50_us"] and r["rate"] >= floor


@pytest.fixture
def quiet_server(mimic_factory) -> MimicServer:
    # as BENCHMARKS.md ran it: no line per request
    return mimic_factory(env={"MIMIC_LOG": "warn"}, cpus=SERVER_CPUS)


def test_arm_reads_under_load_keep_p99_within_5x_p50(quiet_server: MimicServer):
    server = quiet_server
    server.create_rg("loadrg")
    runs = []
    for _ in range(ATTEMPTS):
        r = wrk(server, 8, {"LOAD_METHOD": "GET", "LOAD_PATH": server.rg_path("loadrg"), "LOAD_QUERY": f"api-version={RG_API}"})
        assert_no_errors("ARM read", r)
        runs.append(r)
        if held("ARM read", r, READ_FLOOR):
            return
    pytest.fail("no run kept p99 within 5x p50 at a quarter of the benchmarked rate or more:\n"
                + "\n".join(summary("ARM read", r) for r in runs))


def test_arm_writes_under_load_keep_p99_within_5x_p50_and_lose_nothing(quiet_server: MimicServer):
    server = quiet_server
    runs = []
    for attempt in range(ATTEMPTS):
        server.create_rg(f"loadrg{attempt}")
        collection = f"{server.rg_path(f'loadrg{attempt}')}/providers/Microsoft.Network/networkSecurityGroups"
        r = wrk(server, 8, {"LOAD_METHOD": "PUT", "LOAD_PATH": collection, "LOAD_QUERY": f"api-version={NET_API}"})
        assert_no_errors("ARM write", r)
        listed = server.arm("GET", collection, api_version=NET_API)
        assert listed.status_code == 200, listed.text
        names = {x["name"] for x in listed.json()["value"]}
        print(f"load ARM write: {r['ok2xx']} writes acknowledged, {len(names)} readable afterwards")
        # Every acknowledged write is there; at most the requests still in flight when wrk
        # stopped may be there too.
        assert r["ok2xx"] <= len(names) <= r["started"], (r, len(names))
        runs.append(r)
        if held("ARM write", r, WRITE_FLOOR):
            return
    pytest.fail("no run kept p99 within 5x p50 at a quarter of the benchmarked rate or more:\n"
                + "\n".join(summary("ARM write", r) for r in runs))


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
