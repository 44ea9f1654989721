"""The zero-configuration proxy's added latency (issue 9): one authorised ARM read (GET a
resource group) over a kept-alive HTTPS connection, direct to Mimic's ARM listener and through
Mimic's proxy (CONNECT management.azure.com:443, TLS terminated with a certificate for Azure's
host name), interleaved in rounds so both see the same machine. Prints a Markdown section.

Usage: .venv/bin/python benches/proxy_latency.py [--rounds 10] [--per-round 300]
Environment: MIMIC_BIN (default target/release/mimic; see live_mimic.py). Binds 127.0.0.1 only; stops what it starts.
"""
from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

from live_mimic import LiveMimic


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
        mimic = LiveMimic(Path(tmp))
        try:
            endpoints, boot = mimic.endpoints, mimic.bootstrap
            ctx = ssl.create_default_context(cafile=mimic.ca)
            headers = {"Authorization": "Bearer " + mimic.arm_token()}
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
            mimic.stop()
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
