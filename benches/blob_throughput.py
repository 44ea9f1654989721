"""Blob throughput of one Blob service with azure-storage-blob and the account key (Shared Key).

Large: uploads MIB MiB of non-repeating bytes (an AES-128-CTR keystream, generated 4 MiB at a
time while the upload reads it; the client never holds the blob) as a block blob in 4 MiB blocks
(`max_block_size` = `max_single_put_size` = 4 MiB, `max_concurrency=4`: Put Block ×N, Put Block
List), then downloads it (`max_concurrency=4`, the SDK's default 32 MiB first GET and 4 MiB
ranges) into a sink that hashes it in order; the SHA-256 of what was sent and of what came back
must match, and so must the size the service reports. RUNS times, each to a new blob; MiB/s per
run. Then, with SERVER_PID, the server's peak RSS (VmHWM).
Small: COUNT Put Blob of 4 KiB, each to a new name, then COUNT Get Blob of them (each checked),
on a pool of THREADS threads with one client (its own pipeline and connection pool) each.

Where the time goes: the client's own CPU (this process, all threads) and, with SERVER_PID, the
server's, and all the machine's busy time (/proc/stat), for every phase.

Usage: blob_throughput.py --url URL --key KEY [--ca PEM] [--mib 256] [--runs 3] [--count 2000]
       [--threads 4] [--server-pid PID] [--deadline SECONDS]
       blob_throughput.py --mimic-data DATA_DIR ... (makes a storage account through ARM first,
       and reaches https://{account}.blob.core.windows.net through the proxy of `mimic env`,
       with --env-json FILE, the output of `mimic env --data-dir DATA_DIR --output json`)
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import statistics
import sys
import threading
import time

from azure.storage.blob import BlobServiceClient, ContainerClient
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MIB = 1 << 20
BLOCK = 4 * MIB
SMALL = 4096
STORAGE_API = "2025-08-01"
CONTAINER = "bench"


def keystream(seed: int):
    """Non-repeating bytes: AES-128-CTR of zeros under a key made from the seed."""
    key = hashlib.sha256(b"mimic-bench-%d" % seed).digest()[:16]
    enc = Cipher(algorithms.AES(key), modes.CTR(b"\0" * 16)).encryptor()
    zeros = bytes(BLOCK)
    return lambda n: enc.update(zeros[:n])


class HashingSink:
    """A seekable writer for the parallel download: hashes the chunks in blob order as soon as
    they are contiguous, holding only the ones that arrive early."""

    def __init__(self):
        self.h = hashlib.sha256()
        self.done = 0  # bytes hashed
        self.pos = 0
        self.early: dict[int, bytes] = {}
        self.max_held = 0

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, pos, whence=0):
        self.pos = pos
        return pos

    def write(self, data):
        data = bytes(data)
        self.early[self.pos] = data
        self.pos += len(data)
        while self.done in self.early:
            chunk = self.early.pop(self.done)
            self.h.update(chunk)
            self.done += len(chunk)
        self.max_held = max(self.max_held, sum(map(len, self.early.values())))
        return len(data)


def proc_cpu(pid: int) -> float:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all cores have been busy so far (all but idle and iowait, /proc/stat)."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class Phase:
    """Wall time, this process's CPU and the server's CPU over a block of work."""

    def __init__(self, server_pid: int | None):
        self.pid = server_pid

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.s0 = proc_cpu(self.pid) if self.pid else None
        self.b0 = machine_busy()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.client_cpu = time.process_time() - self.c0
        self.server_cpu = proc_cpu(self.pid) - self.s0 if self.pid else None
        self.busy = machine_busy() - self.b0

    def record(self, **extra):
        return dict(extra, seconds=self.wall, client_cpu_s=self.client_cpu, server_cpu_s=self.server_cpu,
                    machine_busy_s=self.busy)


def mimic_account(data_dir: str) -> tuple[str, str]:
    """A storage account made through ARM as the bootstrap service principal; its URL and key1."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from live_mimic import MimicApi

    api = MimicApi(data_dir)
    rg = api.rg("benchblob")
    name = "benchblob%d" % (os.getpid() % 100000)
    account = f"{rg}/providers/Microsoft.Storage/storageAccounts/{name}"
    r = api.call("PUT", account, STORAGE_API, {"location": "westus", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})
    if r.status_code not in (200, 202):
        raise SystemExit(f"storage account create: {r.status_code}")
    keys = api.call("POST", f"{account}/listKeys", STORAGE_API).json()["keys"]
    return f"https://{name}.blob.core.windows.net", keys[0]["value"]


def service(url: str, key: str, ca: str | None) -> BlobServiceClient:
    kw = {"connection_verify": ca} if ca else {}
    if url.startswith("https://127.0.0.1") or url.startswith("http://127.0.0.1"):
        # Azurite's path-style URL: account name in the path, the key given with it.
        account = url.rstrip("/").rsplit("/", 1)[1]
        cred = {"account_name": account, "account_key": key}
    else:
        cred = key
    return BlobServiceClient(url, credential=cred, max_block_size=BLOCK, max_single_put_size=BLOCK, **kw)


def large(svc: BlobServiceClient, mib: int, run: int, pid: int | None) -> dict:
    blob = svc.get_blob_client(CONTAINER, f"large-{run}.bin")
    gen = keystream(run)
    sent = hashlib.sha256()

    def chunks():
        left = mib * MIB
        while left:
            c = gen(min(BLOCK, left))
            sent.update(c)
            left -= len(c)
            yield c

    with Phase(pid) as up:
        blob.upload_blob(chunks(), length=mib * MIB, overwrite=True, max_concurrency=4)
    sink = HashingSink()
    with Phase(pid) as down:
        n = blob.download_blob(max_concurrency=4).readinto(sink)
    size = blob.get_blob_properties().size
    if n != mib * MIB or size != mib * MIB or sink.done != mib * MIB or sink.h.hexdigest() != sent.hexdigest():
        raise SystemExit(f"large blob {run}: sent {mib * MIB} bytes sha256 {sent.hexdigest()}, "
                         f"service says {size}, got {n} ({sink.done} hashed) sha256 {sink.h.hexdigest()}")
    return {"upload": up.record(mib_s=mib / up.wall), "download": down.record(mib_s=mib / down.wall),
            "sha256": sent.hexdigest(), "download_max_held_bytes": sink.max_held}


def small(url: str, key: str, ca: str | None, count: int, threads: int, pid: int | None) -> dict:
    local = threading.local()
    clients: list[ContainerClient] = []
    lock = threading.Lock()

    def client() -> ContainerClient:
        if not hasattr(local, "c"):
            local.c = service(url, key, ca).get_container_client(CONTAINER)
            with lock:
                clients.append(local.c)
        return local.c

    def body(i: int) -> bytes:
        return i.to_bytes(8, "big") * (SMALL // 8)

    def put(i: int):
        client().get_blob_client(f"small/{i:06d}").upload_blob(body(i), overwrite=True)

    def get(i: int):
        got = client().get_blob_client(f"small/{i:06d}").download_blob().readall()
        if got != body(i):
            raise SystemExit(f"small blob {i}: {len(got)} bytes, not what was put")

    out = {}
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, range(threads * 4)))  # warm-up: every thread's client and connection
        for name, fn in (("put", put), ("get", get)):
            with Phase(pid) as ph:
                list(pool.map(fn, range(count)))
            out[name] = ph.record(ops_s=count / ph.wall)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--key")
    ap.add_argument("--mimic-data")
    ap.add_argument("--ca")
    ap.add_argument("--env-json", help="`mimic env --output json`: its variables go into this process's environment")
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--deadline", type=float, default=600, help="give up after this many seconds")
    a = ap.parse_args()
    started = time.monotonic()
    if a.env_json:
        os.environ.update(json.load(open(a.env_json))["variables"])
    if a.mimic_data:
        url, key = mimic_account(a.mimic_data)
    else:
        url, key = a.url, a.key
    svc = service(url, key, a.ca)
    svc.get_container_client(CONTAINER).create_container()
    setup_s = time.monotonic() - started
    pid = a.server_pid
    hwm_start = vm_hwm_kib(pid) if pid else None
    runs = []
    for run in range(a.runs):
        runs.append(large(svc, a.mib, run, pid))
        print(f"[blob] {url}: {a.mib} MiB up {runs[-1]['upload']['mib_s']:.0f} MiB/s, "
              f"down {runs[-1]['download']['mib_s']:.0f} MiB/s", file=sys.stderr)
        if time.monotonic() - started > a.deadline:
            raise SystemExit(f"deadline of {a.deadline:.0f} s passed after {run + 1} large runs")
    hwm_large = vm_hwm_kib(pid) if pid else None
    sm = small(url, key, a.ca, a.count, a.threads, pid)
    print(f"[blob] {url}: 4 KiB put {sm['put']['ops_s']:.0f}/s, get {sm['get']['ops_s']:.0f}/s", file=sys.stderr)
    print(json.dumps({
        "url": url, "mib": a.mib, "runs": runs, "count": a.count, "threads": a.threads,
        "upload_mib_s": statistics.median(r["upload"]["mib_s"] for r in runs),
        "download_mib_s": statistics.median(r["download"]["mib_s"] for r in runs),
        "small": sm, "server_hwm_kib_start": hwm_start, "server_hwm_kib_after_large": hwm_large,
        "server_hwm_kib_end": vm_hwm_kib(pid) if pid else None, "setup_s": setup_s, "total_s": time.monotonic() - started,
    }))


if __name__ == "__main__":
    main()
