"""Latency against the number of VMs in the store, for SQLite and PostgreSQL.

For each backend one store grows through the sizes (1k, 10k, 100k VMs by default); at each size
`mimic serve` is restarted on it and three calls are timed with wrk, one connection (latency,
not throughput), a warm-up first:
  get    GET one VM (api-version 2024-11-01), bearer token, RBAC check
  patch  the identity PATCH `az vm identity assign/remove --identities` sends, in turn (attach and
         detach a user-assigned identity; one durable commit each)
  imds   the VM's IMDS managed-identity token, cached (`Metadata: true`)
all on one VM ("target", made through ARM with a system-assigned identity), while the store
holds N VMs. A flat cost means the same latency at every size.

Seeding: the VMs that fill the store are clones of one VM created through ARM ("clonesource",
no identity, same NIC): with the server stopped, its rows are copied with a new name and a new
`vmId` (the `resources` row with its index columns `key`, `subscription`, `resource_group`,
`type_key`; its power-state document; its async-operation document, with a new operation id)
and written in one transaction (SQLite: sqlite3; PostgreSQL: psql `\\copy`, then `ANALYZE`
as autovacuum would, and the store generation advanced as a committed write does). The rows are
the server's own serialisation with two strings replaced, so they are what the server writes
for a VM PUT, byte for byte apart from the name, ids and the creation time it shares with
the source.

Usage: vm_scale.py --out FILE [--sizes 1000,10000,100000] [--seconds 3] [--postgres URL]
(without --postgres only SQLite is measured). Environment: MIMIC_BIN. Binds 127.0.0.1 only;
stops what it starts; prints progress on stderr.
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

from live_mimic import IMDS_TOKEN_PATH, VM_API, LiveMimic, identity_patch_bodies

BENCH = Path(__file__).resolve().parent
TEMPLATE = "clonesource"
POWER_DOC, OPERATION_DOC = "compute.vm.power", "operation"
RES_COLS = ("key", "subscription", "resource_group", "type_key", "doc")
DOC_COLS = ("kind", "id", "doc", "expires")


def log(msg: str) -> None:
    print(f"[bench] scale: {msg}", file=sys.stderr, flush=True)


def wrk(url: str, seconds: int, env: dict) -> dict:
    """One connection, one thread: a warm-up second, then the timed run; wrk's JSON summary."""
    lua = str(BENCH / "lua" / "request.lua")
    env = dict(os.environ, **env)
    subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", lua, url], env=env, capture_output=True, check=True)
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--timeout", "5s", "-s", lua, url], env=env,
                         capture_output=True, text=True, check=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result for {url}: {out}")
    d = json.loads(line[len("BENCH_JSON "):])
    if d["non2xx"] or d["err_connect"] or d["err_read"] or d["err_timeout"]:
        raise SystemExit(f"errors during the run against {url}: {d}")
    return d


class Clones:
    """The template VM's rows and their copies under new names."""

    def __init__(self, resource: tuple, power: tuple, operation: tuple):
        self.resource, self.power, self.operation = resource, power, operation
        doc = json.loads(resource[4])
        self.vm_uuid = doc["properties"]["vmId"]
        if resource[4].count(TEMPLATE) != 2 or resource[0].count(TEMPLATE) != 1:
            raise SystemExit(f"unexpected template row: {resource}")

    def rows(self, start: int, end: int):
        key, sub, rg, type_key, doc = self.resource
        for i in range(start, end):
            name = f"vm{i}"
            k = key.replace(TEMPLATE, name)
            yield "resources", (k, sub, rg, type_key, doc.replace(TEMPLATE, name).replace(self.vm_uuid, str(uuid.uuid4())))
            yield "documents", (POWER_DOC, k, self.power[2], self.power[3])
            yield "documents", (OPERATION_DOC, str(uuid.uuid4()), self.operation[2], self.operation[3])


class SqliteStore:
    name, label = "sqlite", "SQLite"

    def __init__(self, data: Path):
        self.db = data / "mimic.db"

    def url(self):
        return None

    def query(self, sql: str, args=()) -> list[tuple]:
        with sqlite3.connect(self.db) as c:
            return c.execute(sql, args).fetchall()

    def insert(self, rows) -> None:
        c = sqlite3.connect(self.db)
        try:
            with c:  # one transaction
                for table, row in rows:
                    cols = RES_COLS if table == "resources" else DOC_COLS
                    c.execute(f"INSERT INTO {table}({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", row)
        finally:
            c.close()


class PostgresStore:
    name, label = "postgres", "PostgreSQL"

    def __init__(self, url: str, work: Path):
        self._url, self.work = url, work
        found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1:]), None)
        if not found:
            raise SystemExit("psql not found (Debian's postgresql package)")
        self.psql = [found, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]

    def url(self):
        return self._url

    def sql(self, script: str) -> str:
        return subprocess.run(self.psql + ["-A", "-t", "-F", "\t", "-c", script], capture_output=True, text=True, check=True).stdout

    def query(self, sql: str, args=()) -> list[tuple]:
        # Only for the harness's own lookups, with values it made itself (no quotes in them).
        for a in args:
            sql = sql.replace("?", "'" + str(a).replace("'", "''") + "'", 1)
        out = self.sql(sql)
        return [tuple(None if v == "" else v for v in line.split("\t")) for line in out.splitlines() if line]

    def insert(self, rows) -> None:
        files = {t: self.work / f"seed-{t}.csv" for t in ("resources", "documents")}
        handles = {t: open(p, "w", newline="") for t, p in files.items()}
        writers = {t: csv.writer(h) for t, h in handles.items()}
        for table, row in rows:
            writers[table].writerow(["" if v is None else v for v in row])
        for h in handles.values():
            h.close()
        script = (f"BEGIN;\n\\copy resources({','.join(RES_COLS)}) FROM '{files['resources']}' WITH (FORMAT csv)\n"
                  f"\\copy documents({','.join(DOC_COLS)}) FROM '{files['documents']}' WITH (FORMAT csv)\n"
                  "SELECT nextval('mimic_generation');\nCOMMIT;\nANALYZE resources;\nANALYZE documents;\n")
        subprocess.run(self.psql, input=script, text=True, capture_output=True, check=True)
        for p in files.values():
            p.unlink()


def measure_backend(store, data: Path, sizes: list[int], seconds: int) -> dict:
    result = {"sizes": {}}
    mimic = LiveMimic(data, store=store.url())
    try:
        rg = mimic.rg("scale")
        uai = mimic.user_identity(rg, "scaleidentity")
        target, _ = mimic.vm(rg, "target", system_identity=True)
        source, created = mimic.vm(rg, TEMPLATE, system_identity=False)
        op = urllib.parse.urlsplit(created.headers["Azure-AsyncOperation"]).path.rsplit("/", 1)[-1]
    finally:
        mimic.stop()
    source_key = source.lower()
    res = store.query("SELECT key, subscription, resource_group, type_key, doc FROM resources WHERE key = ?", (source_key,))
    power = store.query("SELECT kind, id, doc, expires FROM documents WHERE kind = ? AND id = ?", (POWER_DOC, source_key))
    oper = store.query("SELECT kind, id, doc, expires FROM documents WHERE kind = ? AND id = ?", (OPERATION_DOC, op))
    if not (res and power and oper):
        raise SystemExit(f"{store.label}: the source VM's rows were not found ({len(res)}, {len(power)}, {len(oper)})")
    clones = Clones(res[0], power[0], oper[0])
    bodies = data / "identity-bodies.txt"
    bodies.write_text("\n".join(identity_patch_bodies(uai)) + "\n")
    have = 2  # target and the source
    for n in sizes:
        t0 = time.monotonic()
        store.insert(clones.rows(have, n))
        seed_s = time.monotonic() - t0
        count = int(store.query("SELECT count(*) FROM resources WHERE type_key = 'microsoft.compute/virtualmachines'")[0][0])
        if count != n:
            raise SystemExit(f"{store.label}: {count} VMs in the store, expected {n}")
        have = n
        log(f"{store.label}: {n:,} VMs (seeded in {seed_s:.1f} s); measuring")
        t0 = time.monotonic()
        mimic = LiveMimic(data, store=store.url())
        start_ms = (time.monotonic() - t0) * 1000
        try:
            # The newest clone reads back through ARM as the VM it claims to be.
            last = f"{rg}/providers/Microsoft.Compute/virtualMachines/vm{n - 1}"
            got = mimic.call("GET", last, VM_API).json()
            if got["name"] != f"vm{n - 1}" or got["id"].lower() != last.lower() or got["properties"]["vmId"] == clones.vm_uuid:
                raise SystemExit(f"{store.label}: clone vm{n - 1} reads back wrong: {got}")
            auth = "Bearer " + mimic.token
            vm_url = f"{mimic.arm}{target}?api-version={VM_API}"
            imds = mimic.imds(target)
            base = {"BENCH_AUTH": auth}
            split = urllib.parse.urlsplit(vm_url)
            path = f"{split.path}?{split.query}"
            origin = f"{split.scheme}://{split.netloc}"
            result["sizes"][str(n)] = {
                "seed_s": seed_s, "restart_ms": start_ms,
                "get": wrk(origin, seconds, {**base, "BENCH_METHOD": "GET", "BENCH_PATH": path}),
                "patch": wrk(origin, seconds, {**base, "BENCH_METHOD": "PATCH", "BENCH_PATH": path,
                                               "BENCH_CONTENT_TYPE": "application/json", "BENCH_BODIES_FILE": str(bodies)}),
                "imds": wrk(imds, seconds, {"BENCH_PATH": IMDS_TOKEN_PATH, "BENCH_HEADERS": "Metadata: true"}),
            }
        finally:
            mimic.stop()
        r = result["sizes"][str(n)]
        log(f"{store.label} {n:,}: " + ", ".join(f"{k} p50 {r[k]['p50_us'] / 1000:.2f} ms p99 {r[k]['p99_us'] / 1000:.2f} ms"
                                              for k in ("get", "patch", "imds")))
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    t0 = time.monotonic()
    out = {"sizes": sizes, "seconds": a.seconds, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="mimic-scale-bench.") as tmp:
        stores = [SqliteStore(Path(tmp, "sqlite"))]
        if a.postgres:
            stores.append(PostgresStore(a.postgres, Path(tmp)))
        for store in stores:
            data = Path(tmp, store.name)
            data.mkdir()
            out["backends"][store.name] = measure_backend(store, data, sizes, a.seconds)
    out["total_s"] = time.monotonic() - t0
    Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
