"""The zero-configuration proxy's added latency, direct to Mimic's ARM listener against through
Mimic's proxy (CONNECT management.azure.com:443, TLS terminated with a certificate for Azure's
host name), interleaved in rounds so both see the same machine. Two clients:

- http.client, one authorised ARM read (GET a resource group) over a kept-alive connection;
- Python `requests`, as az sends its writes: a `requests.Session` with `proxies` (urllib3's
  CONNECT tunnel), PUT of a resource group with a JSON body. A body sent in a second segment is
  what once met Nagle and a delayed ACK on a proxy hop (+42 ms per write); this row shows it is gone.

Prints Markdown tables.

Usage: .venv/bin/python benches/proxy_latency.py [--rounds 10] [--per-round 300] [--puts-per-round 50]
Environment: MIMIC_BIN (default target/release/mimic; see live_mimic.py). Binds 127.0.0.1 only; stops what it starts.
"""
from __future__ import annotations

import argparse
import requests
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


def timed_requests(session: requests.Session, url: str, headers: dict, n: int) -> list[float]:
    """PUT the resource group n times with `requests`, as az's writes are sent."""
    body = json.dumps({"location": "westus", "tags": {"bench": "proxy"}})
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = session.put(url, data=body, headers=headers)
        r.content
        out.append(time.perf_counter() - t0)
        if r.status_code not in (200, 201):
            raise SystemExit(f"unexpected status {r.status_code}: {r.text[:200]}")
    return out


def requests_session(endpoints: dict, ca: str, proxied: bool) -> tuple[requests.Session, str]:
    s = requests.Session()
    s.verify = ca
    s.trust_env = False
    if proxied:
        s.proxies = {"https": endpoints["proxy"]}
        return s, "https://management.azure.com"
    return s, endpoints["arm"].rstrip("/")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--per-round", type=int, default=300)
    ap.add_argument("--puts-per-round", type=int, default=50)
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
            # requests PUTs: fewer per round (each is an fsync'd write).
            put_headers = {**headers, "Content-Type": "application/json"}
            (ds, dbase), (ps, pbase) = requests_session(endpoints, mimic.ca, False), requests_session(endpoints, mimic.ca, True)
            timed_requests(ds, dbase + path, put_headers, 20)
            timed_requests(ps, pbase + path, put_headers, 20)
            put_direct, put_proxied = [], []
            for _ in range(a.rounds):
                put_direct += timed_requests(ds, dbase + path, put_headers, a.puts_per_round)
                put_proxied += timed_requests(ps, pbase + path, put_headers, a.puts_per_round)
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
    w50, x50 = statistics.median(put_direct), statistics.median(put_proxied)
    w99, x99 = pct(put_direct, 0.99), pct(put_proxied, 0.99)
    print(f"""
| path (Python requests PUT resource group with a JSON body, one Session, {len(put_direct)} calls each, interleaved) | p50 | p99 |
|---|---|---|
| direct to the ARM listener (custom cloud) | {us(w50)} | {us(w99)} |
| through the proxy as management.azure.com (`proxies=`, urllib3's CONNECT tunnel) | {us(x50)} | {us(x99)} |
| **proxied − direct** | **{(x50 - w50) * 1e3:+.2f} ms** ({x50 / w50:.2f}×) | {(x99 - w99) * 1e3:+.2f} ms |""")


if __name__ == "__main__":
    main()
