"""PostgreSQL mode under faults: replicas that never panic.

* two replicas over one empty database start in either order and both exit 0 on SIGTERM;
* PostgreSQL stopped and started again under a bounded write load (a private cluster, so other
  tests' servers are not disturbed): during the outage every call gets a 5xx with `Retry-After`
  in bounded time (no hang), afterwards both replicas serve without a restart, and every write
  that was acknowledged reads back from both;
* one replica killed -9 under load while the other keeps serving every request.

Needs PostgreSQL: `MIMIC_TEST_POSTGRES=postgres://...` (scripts/test starts one with
scripts/postgres-test-cluster.sh); skipped with that message when it is unset.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from mimic_harness import RG_API, MimicServer, new_postgres_database, replica_of, unique

pytestmark = pytest.mark.skipif(
    not os.environ.get("MIMIC_TEST_POSTGRES"),
    reason="MIMIC_TEST_POSTGRES is unset: start a cluster with scripts/postgres-test-cluster.sh start DIR and export its URL",
)

REPO = Path(__file__).resolve().parent.parent
CLUSTER_SCRIPT = REPO / "scripts" / "postgres-test-cluster.sh"
#: Bounds of the load: writes per writer, and how long any one call may take before it counts
#: as a hang.
MAX_WRITES = 300
CALL_TIMEOUT = 30
RECOVERY_DEADLINE = 90


def serves(server: MimicServer) -> bool:
    r = server.arm("GET", f"/subscriptions/{server.subscription_id}/resourcegroups", api_version=RG_API)
    return r.status_code == 200


def test_two_replicas_start_in_either_order_and_exit_0_on_sigterm(mimic_factory):
    a = mimic_factory(store=new_postgres_database())
    b = replica_of(mimic_factory, a)
    assert serves(a) and serves(b)
    assert b.stop() == 0, b.log_tail()
    assert a.stop() == 0, a.log_tail()
    # The other order over the same (now bootstrapped) database.
    b.start()
    a.start()
    assert serves(a) and serves(b)
    assert a.stop() == 0, a.log_tail()
    assert b.stop() == 0, b.log_tail()
    for s in (a, b):
        assert "panicked" not in s.log_path.read_text()


# ---- load --------------------------------------------------------------------------------


class Load:
    """Writers creating resource groups through the given replicas in turn; records what was
    acknowledged and every answer that was neither a success nor a 5xx with Retry-After."""

    def __init__(self, replicas: list[MimicServer], writers: int = 2, tolerate_down: MimicServer | None = None):
        self.replicas = replicas
        self.tokens = {id(s): s.sp_token() for s in replicas}
        self.acked: list[str] = []
        self.unavailable = 0
        self.failures: list[str] = []
        self.tolerate_down = tolerate_down
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(writers)]

    def __enter__(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(CALL_TIMEOUT + 10)

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def wait_for(self, n: int, deadline: float = RECOVERY_DEADLINE) -> None:
        end = time.monotonic() + deadline
        while self.acked_count() < n and time.monotonic() < end and not self.stop.is_set():
            time.sleep(0.1)
        assert self.acked_count() >= n, f"{self.acked_count()} writes acknowledged, wanted {n}; failures: {self.failures[:5]}"

    def _run(self, i: int) -> None:
        session = requests.Session()
        session.trust_env = False
        for n in range(MAX_WRITES):
            if self.stop.is_set():
                return
            server = self.replicas[(n + i) % len(self.replicas)]
            name = unique(f"rg-load{i}")
            url = f"{server.arm_url}/subscriptions/{server.subscription_id}/resourcegroups/{name}?api-version={RG_API}"
            try:
                r = session.put(url, json={"location": "westeurope", "tags": {"n": str(n)}}, verify=str(server.ca_path),
                                headers={"Authorization": f"Bearer {self.tokens[id(server)]}"}, timeout=CALL_TIMEOUT)
            except requests.Timeout:
                with self.lock:
                    self.failures.append(f"{name}: no answer within {CALL_TIMEOUT} s")
                continue
            except requests.ConnectionError as e:
                if server is self.tolerate_down and not server.running():
                    continue
                with self.lock:
                    self.failures.append(f"{name}: {e}")
                continue
            with self.lock:
                if r.status_code in (200, 201):
                    self.acked.append(name)
                elif r.status_code >= 500 and r.headers.get("Retry-After", "").isdigit():
                    self.unavailable += 1
                else:
                    self.failures.append(f"{name}: {r.status_code} {r.headers.get('Retry-After')!r} {r.text[:200]}")
            if r.status_code >= 500:
                time.sleep(0.2)


def read_back(server: MimicServer, names: list[str]) -> list[str]:
    missing = []
    for name in names:
        r = server.arm("GET", f"/subscriptions/{server.subscription_id}/resourcegroups/{name}", api_version=RG_API)
        if r.status_code != 200:
            missing.append(f"{name}: {r.status_code}")
    return missing


# ---- a private cluster to restart ------------------------------------------------------------


class PrivateCluster:
    """A cluster of its own (scripts/postgres-test-cluster.sh), stopped and started by the test."""

    def __init__(self) -> None:
        # Under /tmp directly: as root the cluster runs as `postgres`, which must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="mimic-pg-faults-"))
        out = subprocess.run([str(CLUSTER_SCRIPT), "start", str(self.dir)], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        self.url = out.stdout.strip().splitlines()[-1]
        self.port = self.url.rsplit(":", 1)[1].split("/")[0]
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[-2].split(".") if x.isdigit()])[-1]

    def pg_ctl(self, *args: str) -> None:
        cmd = [f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-w", "-t", "60", *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        # The options the script started it with (pg_ctl start does not remember them).
        self.pg_ctl("-l", str(self.dir / "server.log"), "-o",
                    f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=400 -c shared_buffers=64MB", "start")

    def new_database(self) -> str:
        name = unique("mimic_faults").replace("-", "_")
        subprocess.run(["psql", self.url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def remove(self) -> None:
        subprocess.run([str(CLUSTER_SCRIPT), "stop", str(self.dir)], capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", str(self.dir)], timeout=60)


@pytest.fixture
def private_cluster():
    cluster = PrivateCluster()
    yield cluster
    cluster.remove()


def unavailable_in_bounded_time(server: MimicServer) -> requests.Response:
    """A write through `server` while PostgreSQL is down: it answers (within CALL_TIMEOUT, or
    requests raises) with a 5xx carrying Retry-After."""
    r = server.arm("PUT", f"/subscriptions/{server.subscription_id}/resourcegroups/{unique('rg-outage')}", api_version=RG_API,
                   json={"location": "westeurope"})
    assert r.status_code >= 500 and r.headers.get("Retry-After", "").isdigit(), (r.status_code, r.headers, r.text)
    return r


def test_postgres_restarted_under_write_load_loses_no_acknowledged_write(mimic_factory, private_cluster):
    a = mimic_factory(store=private_cluster.new_database())
    b = replica_of(mimic_factory, a)
    with Load([a, b]) as load:
        load.wait_for(10)
        private_cluster.stop()
        for s in (a, b):
            r = unavailable_in_bounded_time(s)
            assert r.status_code == 503 and r.json()["error"]["code"] == "ServiceUnavailable", r.text
            reads = s.arm("GET", f"/subscriptions/{s.subscription_id}/resourcegroups", api_version=RG_API)
            assert reads.status_code == 503 and reads.headers.get("Retry-After", "").isdigit(), reads.text
        private_cluster.start()
        before = load.acked_count()
        load.wait_for(before + 20)  # both replicas take writes again, neither restarted
    assert a.running() and b.running()
    assert load.failures == [], load.failures[:10]
    for s in (a, b):
        assert serves(s)
        assert read_back(s, load.acked) == []
    print(f"\nPostgreSQL restart: {len(load.acked)} writes acknowledged, 0 lost; {load.unavailable} answered 5xx with Retry-After; 0 hangs")
    assert a.stop() == 0 and b.stop() == 0


def test_one_replica_killed_under_load_while_the_other_keeps_serving(mimic_factory):
    a = mimic_factory(store=new_postgres_database())
    b = replica_of(mimic_factory, a)
    survivor = Load([b])
    victim = Load([a], tolerate_down=a)
    with survivor, victim:
        survivor.wait_for(10)
        victim.wait_for(5)
        a.proc.kill()  # SIGKILL: no shutdown, its connections just vanish
        a.proc.wait(10)
        before = survivor.acked_count()
        survivor.wait_for(before + 30)
    assert survivor.failures == [] and survivor.unavailable == 0, survivor.failures[:10]
    assert read_back(b, survivor.acked + victim.acked) == []
    print(f"\nkill -9: survivor {len(survivor.acked)} writes acknowledged, 0 failed; victim {len(victim.acked)} acknowledged before the kill, 0 lost")
    a.start()  # the killed replica comes back over the same store
    assert read_back(a, survivor.acked[-5:]) == []
    assert a.stop() == 0 and b.stop() == 0
