"""Crash consistency: writers hammer ARM from several threads while
`mimic serve` is killed with SIGKILL at random moments; after each restart on the same data
directory every acknowledged write (a 2xx received) is present and intact, and no write is
half-present: no user-assigned identity or system-assigned VM identity without its service
principal, no managed-identity service principal without its resource, no resource group with
some of its tags.

docs/ARCHITECTURE.md "Contract": "Every acknowledged write is durable (committed transaction) before the response
is sent"; ARCHITECTURE.md: an identity change, its service principals and the resource write
happen in one transaction.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from mimic_harness import AUTHZ_API, GRAPH_SCOPE, MSI_API, NET_API, READER, RG_API, VM_API, MimicServer

ROUNDS = 3
WRITERS = 6


@dataclass
class Write:
    kind: str  # rg | rg-tags | uai | role | nic | vm
    path: str
    body: dict
    api: str
    acked: bool = False


@dataclass
class Journal:
    writes: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, w: Write) -> Write:
        with self.lock:
            self.writes.append(w)
        return w


def writer(server: MimicServer, token: str, journal: Journal, stop: threading.Event, tag: str, seed: int) -> None:
    try:
        write_until_killed(server, token, journal, stop, tag, seed)
    except BaseException as e:  # noqa: BLE001 - reported by the test thread
        journal.errors.append(f"{tag}: {e!r}")


def write_until_killed(server: MimicServer, token: str, journal: Journal, stop: threading.Event, tag: str, seed: int) -> None:
    """One client: resource group → tags update → user-assigned identity → role assignment for
    it, and every third round a NIC and a VM with a system-assigned identity; until the server
    dies under it."""
    rnd = random.Random(seed)
    s = requests.Session()
    s.trust_env = False
    s.verify = str(server.ca_path)
    s.headers["Authorization"] = f"Bearer {token}"
    sub = server.subscription_id
    base = server.arm_url

    def put(w: Write) -> dict | None:
        journal.add(w)
        try:
            r = s.put(base + w.path, params={"api-version": w.api}, json=w.body, timeout=10)
        except requests.RequestException:
            stop.set()  # the server is gone: what was in flight is unacknowledged
            return None
        if 200 <= r.status_code < 300:
            w.acked = True
            return r.json()
        raise AssertionError(f"{w.kind} {w.path}: {r.status_code} {r.text[:500]}")

    i = 0
    while not stop.is_set():
        i += 1
        rg = f"crash-{tag}-{i}"
        rg_path = f"/subscriptions/{sub}/resourcegroups/{rg}"
        tags = {f"t{k}": f"{tag}-{i}-{k}" for k in range(rnd.randint(1, 6))}
        if put(Write("rg", rg_path, {"location": "westus", "tags": tags}, RG_API)) is None:
            return
        new_tags = {f"u{k}": f"{tag}-{i}-u{k}" for k in range(rnd.randint(1, 6))}
        if put(Write("rg-tags", rg_path, {"location": "westus", "tags": new_tags}, RG_API)) is None:
            return
        uai_path = f"{rg_path}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id{i}"
        uai = put(Write("uai", uai_path, {"location": "westus", "tags": {"w": tag}}, MSI_API))
        if uai is None:
            return
        ra_path = f"{rg_path}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        ra = {"properties": {"roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                             "principalId": uai["properties"]["principalId"], "principalType": "ServicePrincipal"}}
        if put(Write("role", ra_path, ra, AUTHZ_API)) is None:
            return
        if i % 3 == 0:
            nic = f"{rg_path}/providers/Microsoft.Network/networkInterfaces/nic{i}"
            if put(Write("nic", nic, {"location": "westus", "properties": {"ipConfigurations": [
                    {"name": "c", "properties": {"privateIPAllocationMethod": "Dynamic"}}]}}, NET_API)) is None:
                return
            vm = {"location": "westus", "identity": {"type": "SystemAssigned"}, "properties": {
                "hardwareProfile": {"vmSize": "Standard_B1s"},
                "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                                       "sku": "22_04-lts-gen2", "version": "latest"},
                                   "osDisk": {"createOption": "FromImage", "osType": "Linux"}},
                "osProfile": {"computerName": f"vm{i}", "adminUsername": "azureuser", "adminPassword": "Crash-Pass-1234!"},
                "networkProfile": {"networkInterfaces": [{"id": nic}]}}}
            if put(Write("vm", f"{rg_path}/providers/Microsoft.Compute/virtualMachines/vm{i}", vm, VM_API)) is None:
                return


def check(server: MimicServer, journal: Journal) -> tuple[int, list[str]]:
    """After a restart: (acknowledged writes checked, problems found)."""
    problems: list[str] = []
    graph_token = server.sp_token(GRAPH_SCOPE)

    def get(path: str, api: str):
        return server.arm("GET", path, api_version=api)

    def sp_exists(object_id: str) -> bool:
        r = server.http.get(f"{server.graph_url}/v1.0/servicePrincipals/{object_id}",
                            headers={"Authorization": f"Bearer {graph_token}"}, timeout=30)
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200

    # The last write of each resource group's tags that was acknowledged must be what is stored;
    # an unacknowledged later write may or may not have landed, but whole.
    by_path: dict[str, list[Write]] = {}
    for w in journal.writes:
        by_path.setdefault(w.path.lower(), []).append(w)
    acked = 0
    for path, ws in by_path.items():
        r = get(ws[0].path, ws[0].api)
        last_acked = max((k for k, w in enumerate(ws) if w.acked), default=None)
        acked += sum(w.acked for w in ws)
        if r.status_code == 404:
            if last_acked is not None:
                problems.append(f"LOST: {ws[last_acked].kind} {path} was acknowledged but is gone")
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        allowed = ws[last_acked:] if last_acked is not None else ws
        if ws[0].kind in ("rg", "rg-tags", "uai"):
            if not any((body.get("tags") or {}) == w.body.get("tags", {}) for w in allowed):
                problems.append(f"TORN: {path} has tags {body.get('tags')}, none of the writes it could hold")
        if ws[0].kind == "role":
            want = ws[0].body["properties"]
            got = body["properties"]
            if got["principalId"] != want["principalId"] or not got["roleDefinitionId"].lower().endswith(READER):
                problems.append(f"TORN: role assignment {path}: {got}")

    # No half-present identity, whatever was acknowledged: every identity has its principal and
    # every managed-identity principal has its resource.
    sub = server.subscription_id
    uais = get(f"/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities", MSI_API).json()["value"]
    vms = get(f"/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines", VM_API).json()["value"]
    resource_ids = {x["id"].lower() for x in uais + vms}
    for u in uais:
        if not sp_exists(u["properties"]["principalId"]):
            problems.append(f"HALF: identity {u['id']} has no service principal")
    for v in vms:
        pid = (v.get("identity") or {}).get("principalId")
        if not pid or not sp_exists(pid):
            problems.append(f"HALF: VM {v['id']} has no system-assigned principal ({v.get('identity')})")
    r = server.http.get(f"{server.graph_url}/v1.0/servicePrincipals",
                        params={"$filter": "servicePrincipalType eq 'ManagedIdentity'", "$top": "999"},
                        headers={"Authorization": f"Bearer {graph_token}"}, timeout=30)
    assert r.status_code == 200, r.text
    for sp in r.json()["value"]:
        owners = [n.lower() for n in sp.get("alternativeNames", []) if n.startswith("/")]
        if owners and not any(o in resource_ids for o in owners):
            problems.append(f"HALF: managed-identity principal {sp['id']} outlived its resource {owners}")
    return acked, problems


def test_sigkill_during_concurrent_writes_loses_no_acknowledged_write(mimic_factory):
    server: MimicServer = mimic_factory()
    token = server.sp_token()
    journal = Journal()
    rnd = random.Random()
    kills = 0
    for round_no in range(ROUNDS):
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(server, token, journal, stop, f"r{round_no}w{t}", rnd.random()),
                                    daemon=True) for t in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.8, 2.5))
        server.proc.kill()  # SIGKILL: no graceful shutdown, no flush
        server.proc.wait(5)
        kills += 1
        stop.set()
        for t in threads:
            t.join(15)
            assert not t.is_alive(), "a writer did not stop after the kill"
        assert not journal.errors, journal.errors
        server.kill()  # closes the log file of the dead process
        server.start()
        token = server.sp_token()
        acked, problems = check(server, journal)
        assert not problems, "\n".join(problems[:30])
    acked, problems = check(server, journal)
    assert not problems
    total = len(journal.writes)
    assert acked >= 50, f"too few writes to mean anything: {acked}"
    print(f"\ncrash consistency: {acked} writes acknowledged, 0 lost, {total - acked} in flight at {kills} SIGKILLs; "
          f"no half-present identity")
