"""The zero-configuration proxy's added latency (issue 9): one authorised ARM read (GET a
resource group) over a kept-alive HTTPS connection, direct to Mimic's ARM listener and through
Mimic's proxy (CONNECT management.azure.com:443, TLS terminated with a certificate for Azure's
host name), interleaved in rounds so both see the same machine. Prints a Markdown section.

Usage: python3 benches/proxy_latency.py [--rounds 10] [--per-round 300]
Environment: MIMIC_BIN (default target/release/mimic). Binds 127.0.0.1 only; stops what it starts.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import ssl
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(data: Path) -> subprocess.Popen:
    binary = os.environ.get("MIMIC_BIN") or str(ROOT / "target" / "release" / "mimic")
    args = [binary, "serve", "--data-dir", str(data)]
    for surface in ("arm", "login", "graph", "portal", "imds", "proxy"):
        args += [f"--{surface}", "127.0.0.1:0"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (data / "endpoints.json").exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("mimic serve did not become ready")
        time.sleep(0.02)
    return proc


def token(endpoints: dict, boot: dict, ctx: ssl.SSLContext) -> str:
    body = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": boot["servicePrincipal"]["clientId"],
        "client_secret": boot["servicePrincipal"]["clientSecret"], "scope": "https://management.azure.com/.default"}).encode()
    req = urllib.request.Request(f"{endpoints['login']}/{boot['tenantId']}/oauth2/v2.0/token", data=body)
    with urllib.request.urlopen(req, context=ctx) as r:
        return json.load(r)["access_token"]


def connection(endpoints: dict, ctx: ssl.SSLContext, proxied: bool) -> http.client.HTTPSConnection:
    if proxied:
        proxy = urllib.parse.urlsplit(endpoints["proxy"])
        conn = http.client.HTTPSConnection(proxy.hostname, proxy.port, context=ctx)
        conn.set_tunnel("management.azure.com", 443)
    else:
        arm = urllib.parse.urlsplit(endpoints["arm"])
        conn = http.client.HTTPSConnection(arm.hostname, arm.port, context=ctx)
    return conn


def timed(conn: http.client.HTTPSConnection, path: str, headers: dict, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        out.append(time.perf_counter() - t0)
        if r.status != 200:
            raise SystemExit(f"unexpected status {r.status}")
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--per-round", type=int, default=300)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mimic-proxy-bench.") as tmp:
        data = Path(tmp)
        proc = start(data)
        try:
            endpoints = json.loads((data / "endpoints.json").read_text())
            boot = json.loads((data / "bootstrap.json").read_text())
            ctx = ssl.create_default_context(cafile=str(data / "ca.pem"))
            headers = {"Authorization": "Bearer " + token(endpoints, boot, ctx)}
            path = f"/subscriptions/{boot['subscriptionId']}/resourcegroups/bench?api-version=2021-04-01"
            put = connection(endpoints, ctx, False)
            put.request("PUT", path, body=json.dumps({"location": "westus"}), headers={**headers, "Content-Type": "application/json"})
            assert put.getresponse().read() is not None
            direct_conn, proxied_conn = connection(endpoints, ctx, False), connection(endpoints, ctx, True)
            timed(direct_conn, path, headers, 100)  # warm both paths (TLS, caches)
            timed(proxied_conn, path, headers, 100)
            direct, proxied = [], []
            for _ in range(a.rounds):
                direct += timed(direct_conn, path, headers, a.per_round)
                proxied += timed(proxied_conn, path, headers, a.per_round)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    d50, p50 = statistics.median(direct), statistics.median(proxied)
    d99, p99 = pct(direct, 0.99), pct(proxied, 0.99)
    us = lambda s: f"{s * 1e6:.0f} µs"
    print(f"""| path (GET resource group, one kept-alive HTTPS connection, {len(direct)} calls each, interleaved) | p50 | p99 |
|---|---|---|
| direct to the ARM listener (custom cloud) | {us(d50)} | {us(d99)} |
| through the proxy as management.azure.com (zero-config) | {us(p50)} | {us(p99)} |
| **proxied / direct** | **{p50 / d50:.2f}×** (+{us(p50 - d50)}) | {p99 / d99:.2f}× |""")


if __name__ == "__main__":
    main()
