"""Mimic for a benchmark. `MimicApi` talks to a running `mimic serve` through its data directory
(endpoints.json, bootstrap.json, ca.pem): an ARM token of the bootstrap service principal, ARM
calls, and the objects the benchmarks use (a resource group, a user-assigned identity, a VM,
its IMDS address). `LiveMimic` also starts and stops the server: every listener on a free
loopback port, ready when endpoints.json appears.
Shared by benches/run.sh (through mimic_setup.py), proxy_latency.py and vm_scale.py."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SURFACES = ("arm", "login", "graph", "portal", "imds", "proxy")
RG_API, VM_API, MSI_API, NET_API = "2021-04-01", "2024-11-01", "2023-01-31", "2024-05-01"
ARM_SCOPE = "https://management.azure.com/.default"
IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"


class MimicApi:
    def __init__(self, data: Path):
        self.data = Path(data)
        self.endpoints = json.loads((self.data / "endpoints.json").read_text())
        self.bootstrap = json.loads((self.data / "bootstrap.json").read_text())
        self.ca = str(self.data / "ca.pem")
        self.arm = self.endpoints["arm"]
        self.s = requests.Session()
        self.s.trust_env = False  # no proxy or CA bundle from the environment
        self.s.verify = self.ca
        self._token: str | None = None

    def arm_token(self) -> str:
        b = self.bootstrap
        r = self.s.post(f"{self.endpoints['login']}/{b['tenantId']}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": b["servicePrincipal"]["clientId"],
            "client_secret": b["servicePrincipal"]["clientSecret"], "scope": ARM_SCOPE})
        r.raise_for_status()
        return r.json()["access_token"]

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.arm_token()
        return self._token

    def call(self, method: str, path: str, api: str, body: dict | None = None) -> requests.Response:
        r = self.s.request(method, f"{self.arm}{path}?api-version={api}", json=body,
                           headers={"Authorization": "Bearer " + self.token})
        if r.status_code not in (200, 201, 202):
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r

    def rg(self, name: str) -> str:
        path = f"/subscriptions/{self.bootstrap['subscriptionId']}/resourceGroups/{name}"
        self.call("PUT", path, RG_API, {"location": "westus"})
        return path

    def user_identity(self, rg: str, name: str) -> str:
        path = f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        self.call("PUT", path, MSI_API, {"location": "westus"})
        return path

    def vm(self, rg: str, name: str, system_identity: bool) -> tuple[str, requests.Response]:
        """Creates a VM (and the NIC it needs), as `az vm create` ends up writing it."""
        nic = f"{rg}/providers/Microsoft.Network/networkInterfaces/nic"
        self.call("PUT", nic, NET_API, {"location": "westus", "properties": {}})
        body = {"location": "westus", "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"},
                "networkProfile": {"networkInterfaces": [{"id": nic}]}}}
        if system_identity:
            body["identity"] = {"type": "SystemAssigned"}
        path = f"{rg}/providers/Microsoft.Compute/virtualMachines/{name}"
        return path, self.call("PUT", path, VM_API, body)

    def imds(self, vm: str) -> str:
        """The VM's IMDS base URL (Mimic's per-VM metadata listener)."""
        r = self.s.post(f"{self.arm}/mimic/vm-imds?api-version={VM_API}", json={"vmId": vm},
                        headers={"Authorization": "Bearer " + self.token})
        r.raise_for_status()
        return r.json()["imds"]


def identity_patch_bodies(uai: str) -> list[str]:
    """What `az vm identity assign --identities UAI` and `az vm identity remove --identities UAI`
    PATCH on a VM whose system-assigned identity is on (docs/azure-behaviour.md §11.6): sent in
    turn, every PATCH attaches or detaches the user-assigned identity; the system identity (and
    so the VM's IMDS token) stays."""
    return [json.dumps({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {uai: {}}}}),
            json.dumps({"identity": {"type": "SystemAssigned", "userAssignedIdentities": None}})]


class LiveMimic(MimicApi):
    def __init__(self, data: Path, store: str | None = None, log: str = "warn"):
        data = Path(data)
        data.mkdir(parents=True, exist_ok=True)
        binary = os.environ.get("MIMIC_BIN") or str(ROOT / "target" / "release" / "mimic")
        args = [binary, "serve", "--data-dir", str(data)]
        if store:
            args += ["--store", store]
            if not store.startswith("sqlite"):
                # A PostgreSQL store needs a master key (storage account keys are sealed under it);
                # one per data directory, kept across the restarts on that store.
                key = data / "bench-master.key"
                if not key.exists():
                    key.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
                    key.chmod(0o600)
                args += ["--master-key-file", str(key)]
        for surface in SURFACES:
            args += [f"--{surface}", "127.0.0.1:0"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=dict(os.environ, MIMIC_LOG=log))
        deadline = time.monotonic() + 30
        while not (data / "endpoints.json").exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise SystemExit("mimic serve did not become ready")
            time.sleep(0.02)
        super().__init__(data)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
