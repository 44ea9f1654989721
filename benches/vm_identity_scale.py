"""VM identity PATCH cost against store size (issue 4): two Mimics side by side, a small one
(100 VMs, 100 user-assigned identities) and a large one (10,000 VMs, 1,000 identities), and the
same PATCH sequence on one VM of each, interleaved in rounds so both see the same machine. Each
PATCH is what `az vm identity assign/remove` sends (api-version 2024-11-01): add one
user-assigned identity, then remove it with `null`, then enable/disable system-assigned
(a service principal created and deleted). Prints a Markdown section: latency and throughput
per store, and the large/small ratio (flat cost means ≈ 1).

Usage: python3 benches/vm_identity_scale.py [--vms 10000] [--identities 1000] [--rounds 6] [--per-round 40]
Environment: MIMIC_BIN (default target/release/mimic). Binds 127.0.0.1 only; stops what it starts.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import tempfile
import time
from pathlib import Path

import requests

from live_mimic import LiveMimic
VM_API, MSI_API, NET_API = "2024-11-01", "2023-01-31", "2024-05-01"


class Mimic(LiveMimic):
    def __init__(self, data: Path):
        super().__init__(data)
        self.arm = self.endpoints["arm"]
        self.s = requests.Session()
        self.s.verify = self.ca
        self.s.trust_env = False
        self.s.headers["Authorization"] = "Bearer " + self.arm_token()
        self.rg = f"/subscriptions/{self.bootstrap['subscriptionId']}/resourceGroups/scale"

    def call(self, method: str, path: str, api: str, body: dict | None = None, session=None) -> dict:
        r = (session or self.s).request(method, f"{self.arm}{path}?api-version={api}", json=body)
        if r.status_code not in (200, 201, 202):
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else {}

    def populate(self, vms: int, identities: int) -> None:
        self.call("PUT", self.rg, "2021-04-01", {"location": "westus"})
        nic = f"{self.rg}/providers/Microsoft.Network/networkInterfaces/nic"
        self.call("PUT", nic, NET_API, {"location": "westus", "properties": {}})
        body = {"location": "westus", "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"},
                "networkProfile": {"networkInterfaces": [{"id": nic}]}}}
        jobs = [(f"{self.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id{i}", MSI_API, {"location": "westus"})
                for i in range(identities)]
        jobs += [(f"{self.rg}/providers/Microsoft.Compute/virtualMachines/vm{i}", VM_API, body) for i in range(vms)]

        def put(chunk):
            s = requests.Session()
            s.verify, s.trust_env, s.headers = self.s.verify, False, dict(self.s.headers)
            for path, api, b in chunk:
                self.call("PUT", path, api, b, session=s)
        chunks = [jobs[i::8] for i in range(8)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(put, chunks))

    def patches(self, n: int) -> list[float]:
        """n identity PATCHes on vm0, cycling through the four changes the seeds make."""
        vm = f"{self.rg}/providers/Microsoft.Compute/virtualMachines/vm0"
        ident = f"{self.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id0"
        cycle = [{"identity": {"type": "UserAssigned", "userAssignedIdentities": {ident: {}}}},
                 {"identity": {"type": "SystemAssigned, UserAssigned"}},
                 {"identity": {"type": "UserAssigned"}},
                 {"identity": {"type": "None"}}]
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            self.call("PATCH", vm, VM_API, cycle[i % len(cycle)])
            out.append(time.perf_counter() - t0)
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--identities", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--per-round", type=int, default=40)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mimic-scale-bench.") as tmp:
        small = large = None
        try:
            small, large = Mimic(Path(tmp, "small")), Mimic(Path(tmp, "large"))
            t0 = time.monotonic()
            small.populate(100, 100)
            large.populate(a.vms, a.identities)
            fill = time.monotonic() - t0
            small.patches(20), large.patches(20)  # warm-up
            s_lat, l_lat = [], []
            for _ in range(a.rounds):
                s_lat += small.patches(a.per_round)
                l_lat += large.patches(a.per_round)
        finally:
            for m in (small, large):
                if m:
                    m.stop()
    ms = lambda x: f"{x * 1e3:.2f} ms"
    p99 = lambda xs: sorted(xs)[min(len(xs) - 1, int(0.99 * len(xs)))]
    s50, l50 = statistics.median(s_lat), statistics.median(l_lat)
    print(f"""| store (one VM's identity PATCHed, sequential, {len(s_lat)} calls each, interleaved) | p50 | p99 | calls/s (1 client) |
|---|---|---|---|
| small: 100 VMs, 100 identities | {ms(s50)} | {ms(p99(s_lat))} | {1 / statistics.mean(s_lat):.0f} |
| large: {a.vms:,} VMs, {a.identities:,} identities | {ms(l50)} | {ms(p99(l_lat))} | {1 / statistics.mean(l_lat):.0f} |
| **large / small** | **{l50 / s50:.2f}×** | {p99(l_lat) / p99(s_lat):.2f}× | |

(populating both stores through ARM took {fill:.0f} s)""")


if __name__ == "__main__":
    main()
