"""A `mimic serve` for a benchmark: every listener on a free loopback port, a fresh data
directory, ready when endpoints.json appears; an ARM token of the bootstrap service principal.
Shared by benches/proxy_latency.py and benches/vm_identity_scale.py."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SURFACES = ("arm", "login", "graph", "portal", "imds", "proxy")


class LiveMimic:
    def __init__(self, data: Path):
        data.mkdir(parents=True, exist_ok=True)
        binary = os.environ.get("MIMIC_BIN") or str(ROOT / "target" / "release" / "mimic")
        args = [binary, "serve", "--data-dir", str(data)]
        for surface in SURFACES:
            args += [f"--{surface}", "127.0.0.1:0"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (data / "endpoints.json").exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise SystemExit("mimic serve did not become ready")
            time.sleep(0.02)
        self.endpoints = json.loads((data / "endpoints.json").read_text())
        self.bootstrap = json.loads((data / "bootstrap.json").read_text())
        self.ca = str(data / "ca.pem")

    def arm_token(self) -> str:
        b = self.bootstrap
        s = requests.Session()
        s.trust_env = False  # no proxy or CA bundle from the environment
        r = s.post(f"{self.endpoints['login']}/{b['tenantId']}/oauth2/v2.0/token", verify=self.ca, data={
            "grant_type": "client_credentials", "client_id": b["servicePrincipal"]["clientId"],
            "client_secret": b["servicePrincipal"]["clientSecret"], "scope": "https://management.azure.com/.default"})
        r.raise_for_status()
        return r.json()["access_token"]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
