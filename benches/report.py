#!/usr/bin/env python3
"""Turns the raw outputs of benches/run.sh (in $OUT) into the results section of BENCHMARKS.md.

The section sits between the two marker comments below; everything else in BENCHMARKS.md is
kept as written. With BENCH_NO_WRITE=1 the section is only printed.
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

BEGIN = "<!-- bench:results:begin (written by benches/run.sh; edit outside these markers) -->"
END = "<!-- bench:results:end -->"

OUT = os.environ["OUT"]
ROOT = os.environ["ROOT"]
NPROC = int(os.environ["NPROC"])
CONC = int(os.environ["CONC"])
WRK_THREADS = int(os.environ["WRK_THREADS"])
SECS = int(os.environ["SECONDS_PER_RUN"])
OPENSSL_SIGN = float(os.environ["OPENSSL_SIGN"])
OPENSSL_SIGN_1 = float(os.environ["OPENSSL_SIGN_1"])
FSYNC = float(os.environ["FSYNC_RATE"])
PEER_VERSION = os.environ["PEER_VERSION"]
MOTO_VERSION = os.environ.get("MOTO_VERSION", "?")
AZURITE_VERSION = os.environ.get("AZURITE_VERSION", "?")
AZURE_BLOB_VERSION = os.environ.get("AZURE_BLOB_VERSION", "?")
IDLE_BUSY = float(os.environ.get("IDLE_BUSY", "0"))
WARMUP = int(os.environ.get("WARMUP_SECONDS", "3"))
PEER_WARMUP = int(os.environ.get("PEER_WARMUP_SECONDS", "5"))
QUICK = os.environ.get("QUICK") == "1"
RUN_SECONDS = int(os.environ.get("RUN_SECONDS", "0"))

TARGET_SIGN_SHARE = 0.80
TARGET_PEER_RATIO = 4.0
TARGET_ARM_READ = 20_000
TARGET_COLD_MS = 200
TARGET_IMDS_VS_MOTO = 50.0
TARGET_IMDS_VS_HYPER = 0.50
TARGET_IMDS_P99_US = 1000
TARGET_FLAT = 1.25  # largest store's p50 at most this many times the 1k store's: "flat"...
FLAT_SLACK_US = 50  # ...or at most this much slower (sub-millisecond p50s move by tens of µs between runs)
LEGACY_IMDS = ("<!-- bench:imds:begin -->", "<!-- bench:imds:end -->")  # the section benches/imds.sh wrote
SCALE_CALLS = {"get": "GET one VM", "patch": "identity PATCH (durable commit)", "imds": "IMDS token, cached"}
BUSY_FLAG = 0.25  # cores of other work during a run above which its row is flagged


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False).stdout.strip()
    except OSError:
        return "?"


def load(name):
    d = json.load(open(f"{OUT}/{name}.json"))
    d["rate"] = d["requests"] / (d["duration_us"] / 1e6)
    d["errors"] = d["non2xx"] + d["err_connect"] + d["err_read"] + d["err_write"] + d["err_timeout"]
    cpu = f"{OUT}/{name}.cpu"
    d["cpu_s"] = float(open(cpu).read()) if os.path.exists(cpu) else None
    b = f"{OUT}/{name}.busy"
    d["busy_s"] = d["wall_s"] = None
    if os.path.exists(b):
        b0, w0, b1, w1 = map(float, open(b).read().split())
        d["busy_s"], d["wall_s"] = b1 - b0, w1 - w0
    wt = f"{OUT}/{name}.wrktime"
    d["wrk_cpu_s"] = sum(float(x) for x in open(wt).read().split()[-2:]) if os.path.exists(wt) else None
    return d


def ms(us):
    return f"{us / 1000:.2f} ms"


def lat(d):
    return f"p50 {ms(d['p50_us'])}, p99 {ms(d['p99_us'])}"


def verdict(ok):
    return "met" if ok else "**missed**"


def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return cpu, mem_kb / 1024 / 1024


def scale_section(verdict):
    """The latency curve against store size, per backend: p50/p99 per call, ratio to the smallest store."""
    path = f"{OUT}/scale.json"
    if not os.path.exists(path):
        return ["Latency against store size: not measured in this run (no `scale.json`)."]
    sc = json.load(open(path))
    sizes = [str(n) for n in sc["sizes"]]
    base = sizes[0]
    lines = [
        f"Latency against the number of VMs in the store (`benches/vm_scale.py`): one connection, "
        f"{sc['seconds']:g} s per call and size after a 1 s warm-up, the calls on one VM while the store holds "
        f"N VMs; ratio = p50 (p99) at N ÷ p50 (p99) at {int(base):,} (flat cost ≈ 1×; target: flat to "
        f"{int(sizes[-1]):,} VMs, read here as a p50 at most {TARGET_FLAT}× the {int(base):,} point's or at most "
        f"{FLAT_SLACK_US} µs above it, for every call). The whole scale "
        f"benchmark took {sc.get('total_s', 0):.0f} s including seeding.",
        "",
        "| Store | VMs | " + " | ".join(f"{label}: p50 / p99 (ratio)" for label in SCALE_CALLS.values()) + " | seeding |",
        "|---|---|" + "---|" * len(SCALE_CALLS) + "---|",
    ]
    verdicts = []
    for backend, data in sc["backends"].items():
        label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(backend, backend)
        b = data["sizes"][base]
        for n in sizes:
            if n not in data["sizes"]:
                continue
            d = data["sizes"][n]
            cells = []
            for call in SCALE_CALLS:
                r50 = d[call]["p50_us"] / max(1, b[call]["p50_us"])
                r99 = d[call]["p99_us"] / max(1, b[call]["p99_us"])
                cells.append(f"{ms(d[call]['p50_us'])} / {ms(d[call]['p99_us'])} (**{r50:.2f}×** / {r99:.2f}×)")
            lines.append(f"| {label} | {int(n):,} | " + " | ".join(cells) + f" | {d['seed_s']:.1f} s |")
        top = data["sizes"].get(sizes[-1])
        if top:
            worst = max(top[c]["p50_us"] / max(1, b[c]["p50_us"]) for c in SCALE_CALLS)
            flat = all(top[c]["p50_us"] <= max(TARGET_FLAT * b[c]["p50_us"], b[c]["p50_us"] + FLAT_SLACK_US) for c in SCALE_CALLS)
            verdicts.append(f"{label}: worst p50 ratio at {int(sizes[-1]):,} VMs {worst:.2f}× ({verdict(flat)})")
    pg_version = f"{OUT}/postgres.version"
    pg = open(pg_version).read().strip() if os.path.exists(pg_version) else "PostgreSQL"
    lines += ["", f"SQLite: Mimic's embedded store (WAL, `synchronous=FULL`) in the data directory. PostgreSQL: {pg}, "
                  "a throwaway cluster on loopback (`scripts/postgres-test-cluster.sh`: default settings but "
                  "`shared_buffers=64MB`, so `fsync` and `synchronous_commit` on), over TCP."]
    if "postgres" not in sc["backends"]:
        lines += ["", "PostgreSQL was not measured in this run (no cluster could be started; see `postgres-start.log`)."]
    lines += ["", "Flat cost: " + "; ".join(verdicts) + "."]
    return lines


def blob_section():
    """Blob throughput and small-blob rates, Mimic beside Azurite in the same run, same client."""
    paths = {k: f"{OUT}/blob-{k}.json" for k in ("mimic", "azurite-https", "azurite-http")}
    if not all(os.path.exists(p) for p in paths.values()):
        return ["Blob throughput: not measured in this run (no `blob-*.json`)."]
    m, a, h = (json.load(open(paths[k])) for k in ("mimic", "azurite-https", "azurite-http"))

    def idle(name):
        f = f"{OUT}/{name}-idle.rss"
        return int(open(f).read()) / 1024 if os.path.exists(f) else float("nan")

    def spread(d, phase):
        v = [r[phase]["mib_s"] for r in d["runs"]]
        return f"**{statistics.median(v):,.0f} MiB/s** ({min(v):,.0f}–{max(v):,.0f})"

    def med(d, phase):
        return statistics.median(r[phase]["mib_s"] for r in d["runs"])

    def cores(rec, who):
        v = rec[f"{who}_cpu_s"]
        return "?" if v is None else f"{v / rec['seconds']:.2f}"

    def large_cores(d, phase, who):
        recs = [r[phase] for r in d["runs"]]
        cpu = [x.get(f"{who}_cpu_s") for x in recs]
        return "?" if None in cpu else f"{sum(cpu) / sum(x['seconds'] for x in recs):.2f}"

    def rest(rec):  # cores busy with neither the client nor the server
        if rec.get("machine_busy_s") is None or rec.get("server_cpu_s") is None:
            return None
        return max(0.0, rec["machine_busy_s"] - rec["client_cpu_s"] - rec["server_cpu_s"]) / rec["seconds"]

    def large_rest(d, phase):
        recs = [r[phase] for r in d["runs"]]
        v = [rest(x) for x in recs]
        return None if None in v else sum(x * r["seconds"] for x, r in zip(v, recs)) / sum(r["seconds"] for r in recs)

    def fmt_rest(v):
        return "?" if v is None else f"{v:.2f}" + (" ⚠" if v >= BUSY_FLAG else "")

    mib, runs, count, threads = m["mib"], len(m["runs"]), m["count"], m["threads"]
    ratio = lambda x, y: f"**{x / y:.2f}×**" if y else "?"
    lines = [
        f"Blob service (`benches/blob_throughput.py`): azure-storage-blob {AZURE_BLOB_VERSION} with the account key "
        f"(Shared Key) against Mimic's Blob service at `https://{{account}}.blob.core.windows.net` through Mimic's proxy "
        f"(`mimic env`: `HTTPS_PROXY` and Mimic's CA; a storage account made through ARM, a fresh server) and against the "
        f"npm peer Azurite {AZURITE_VERSION} (`azurite-blob`'s `main.js`, `devstoreaccount1` with its documented key, "
        f"`--loose --skipApiVersionCheck`, on disk in the same filesystem), over HTTPS with a throwaway RSA-2048 certificate "
        f"(`--cert/--key`, like for like) and over plain HTTP (the same client without TLS; Azurite remains the slower side there, see the CPU table, so it is not the client's ceiling). Large: {mib} MiB of "
        f"non-repeating bytes (AES-CTR keystream, generated while uploading) as a block blob in 4 MiB blocks "
        f"(`max_block_size` = `max_single_put_size` = 4 MiB, `max_concurrency=4`), then downloaded with "
        f"`max_concurrency=4`, SHA-256 checked both ways; median of {runs} runs (min–max). Small: {count:,} × 4 KiB "
        f"Put Blob to new names, then {count:,} Get Blob of them (each checked), {threads} threads with a client each.",
        "",
        f"| Measure | Mimic (HTTPS, through its proxy) | Azurite {AZURITE_VERSION}, HTTPS | Mimic ÷ Azurite (HTTPS) | Azurite, HTTP |",
        "|---|---|---|---|---|",
        f"| Upload {mib} MiB, 4 MiB blocks ×4 concurrent (Put Block, Put Block List) | {spread(m, 'upload')} | "
        f"{spread(a, 'upload')} | {ratio(med(m, 'upload'), med(a, 'upload'))} | {spread(h, 'upload')} |",
        f"| Download {mib} MiB, ×4 concurrent ranged Get Blob | {spread(m, 'download')} | {spread(a, 'download')} | "
        f"{ratio(med(m, 'download'), med(a, 'download'))} | {spread(h, 'download')} |",
        f"| 4 KiB Put Blob, {threads} threads | **{m['small']['put']['ops_s']:,.0f}/s** | {a['small']['put']['ops_s']:,.0f}/s | "
        f"{ratio(m['small']['put']['ops_s'], a['small']['put']['ops_s'])} | {h['small']['put']['ops_s']:,.0f}/s |",
        f"| 4 KiB Get Blob, {threads} threads | **{m['small']['get']['ops_s']:,.0f}/s** | {a['small']['get']['ops_s']:,.0f}/s | "
        f"{ratio(m['small']['get']['ops_s'], a['small']['get']['ops_s'])} | {h['small']['get']['ops_s']:,.0f}/s |",
        f"| Server peak RSS (VmHWM) after the {runs} large uploads and downloads | **{m['server_hwm_kib_after_large'] / 1024:.1f} MiB** "
        f"(idle {idle('blob-mimic'):.1f} MiB) | {a['server_hwm_kib_after_large'] / 1024:.1f} MiB (idle {idle('blob-azurite-https'):.1f} MiB) | "
        f"Azurite ÷ Mimic: {a['server_hwm_kib_after_large'] / m['server_hwm_kib_after_large']:.1f}× | "
        f"{h['server_hwm_kib_after_large'] / 1024:.1f} MiB (idle {idle('blob-azurite-http'):.1f} MiB) |",
        "",
        f"Where the {NPROC} cores went (cores busy over each phase; client: the Python process, all its threads, "
        "from `time.process_time()`; server: user+system from `/proc/PID/stat`; rest: all other busy time from "
        f"`/proc/stat`, the kernel's loopback and disk work and any other process; ⚠ where it reached {BUSY_FLAG} cores):",
        "",
        "| Phase | Mimic: client / server / rest | Azurite HTTPS: client / server / rest | Azurite HTTP: client / server / rest |",
        "|---|---|---|---|",
    ]
    for label, phase in (("Upload", "upload"), ("Download", "download")):
        lines.append(f"| {label} {mib} MiB | " + " | ".join(
            f"{large_cores(d, phase, 'client')} / {large_cores(d, phase, 'server')} / {fmt_rest(large_rest(d, phase))}"
            for d in (m, a, h)) + " |")
    for label, op in (("4 KiB Put Blob", "put"), ("4 KiB Get Blob", "get")):
        lines.append(f"| {label} | " + " | ".join(
            f"{cores(d['small'][op], 'client')} / {cores(d['small'][op], 'server')} / {fmt_rest(rest(d['small'][op]))}"
            for d in (m, a, h)) + " |")

    def per_mib(d, phase):  # server CPU ms per MiB over the large runs
        cpu = [r[phase]["server_cpu_s"] for r in d["runs"]]
        return None if None in cpu else sum(cpu) * 1000 / (d["mib"] * len(d["runs"]))

    def per_op(d, op):  # server CPU µs per small-blob call
        v = d["small"][op]["server_cpu_s"]
        return None if v is None else v * 1e6 / d["count"]

    def pair(x, y, unit):
        if x is None or y is None or not x:
            return "?"
        f = "{:,.1f}" if unit == "ms" else "{:,.0f}"
        return f"Mimic {f.format(x)} {unit}, Azurite {f.format(y)} {unit} (Azurite ÷ Mimic {y / x:.1f}×)"

    lines += ["", "Server CPU for the same work, HTTPS on both sides (independent of which side limited the rate): "
              f"per MiB uploaded {pair(per_mib(m, 'upload'), per_mib(a, 'upload'), 'ms')}; per MiB downloaded "
              f"{pair(per_mib(m, 'download'), per_mib(a, 'download'), 'ms')}; per 4 KiB Put Blob "
              f"{pair(per_op(m, 'put'), per_op(a, 'put'), 'µs')}; per 4 KiB Get Blob {pair(per_op(m, 'get'), per_op(a, 'get'), 'µs')}. "
              "Mimic's durable commits (an `fsync` for every 1 MiB chunk and every committed blob) are waiting time, not CPU."]
    return lines


def main():
    tok = load("mimic-token")
    peer_http = load("peer-token-http")
    peer_https = load("peer-token-https")
    read = load("mimic-arm-read")
    write = load("mimic-arm-write")
    vm_id = load("mimic-vm-identity")
    imds_c, imds_u = load("mimic-imds-cached"), load("mimic-imds-uncached")
    moto_imds, moto_tags, moto_id = load("moto-imds"), load("moto-tags"), load("moto-identity")
    hyper = load("bare-hyper")
    cold = json.load(open(f"{OUT}/coldstart.json"))
    fresh_med, restart_med = statistics.median(cold["fresh"]), statistics.median(cold["restart"])

    def rss(name):
        f = f"{OUT}/{name}.rss"
        return int(open(f).read()) / 1024 if os.path.exists(f) else float("nan")

    peer_cold = cold.get("peer") or [float("nan")]
    peer_cold_med = statistics.median(peer_cold)
    moto_cold = cold.get("moto") or [float("nan")]
    moto_cold_med = statistics.median(moto_cold)
    cpu, mem_gib = machine()
    # The commit and time of the run itself (run.sh records them when it starts).
    commit = os.environ.get("BENCH_COMMIT") or sh("git", "rev-parse", "--short=12", "HEAD")
    dirty = os.environ.get("BENCH_DIRTY")
    if dirty is None:
        dirty = sh("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md", ":!benches")
    dirty = " (with uncommitted changes to the server)" if dirty else ""
    now = os.environ.get("BENCH_DATE") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    openssl_v = sh("openssl", "version")
    node_v = sh("node", "--version")
    wrk_v = (sh("sh", "-c", "wrk --version 2>&1 | head -1").split(" [")[0]) or "wrk"

    openssl_rest = None
    try:
        b0, w0, b1, w1 = map(float, open(f"{OUT}/openssl-speed.busy").read().split())
        own = sum(float(x) for x in open(f"{OUT}/openssl-speed.cputime").read().split()[-2:])
        openssl_rest = max(0.0, (b1 - b0) - own) / (w1 - w0)
    except (OSError, ValueError):
        pass
    sign_share = tok["rate"] / OPENSSL_SIGN
    vs_http = tok["rate"] / peer_http["rate"]
    vs_https = tok["rate"] / peer_https["rate"]
    problems = [n for n, d in [("Mimic token", tok), ("peer HTTP", peer_http), ("peer HTTPS", peer_https),
                               ("ARM read", read), ("ARM write", write), ("VM identity PATCH", vm_id),
                               ("IMDS cached", imds_c), ("IMDS uncached", imds_u), ("moto IMDS", moto_imds),
                               ("moto CreateTags", moto_tags), ("moto identity", moto_id), ("bare hyper", hyper)]
                if d["errors"]]
    vs_moto_imds = imds_c["rate"] / moto_imds["rate"]
    vs_hyper = imds_c["rate"] / hyper["rate"]

    def wall(d):
        return d["wall_s"] or SECS

    def cores(d):
        return f"{d['cpu_s'] / wall(d):.2f}" if d["cpu_s"] is not None else "?"

    def rest_value(d):
        if None in (d["busy_s"], d["cpu_s"], d["wrk_cpu_s"]):
            return None
        return max(0.0, d["busy_s"] - d["cpu_s"] - d["wrk_cpu_s"]) / wall(d)

    def flag(*runs):
        """A warning for the main table when other work took a share of the cores."""
        busy = [r for r in runs if r is not None and r >= BUSY_FLAG]
        return f" ⚠ other work used {max(busy):.1f} cores meanwhile" if busy else ""

    def wrk_cores(d):
        return f"{d['wrk_cpu_s'] / wall(d):.2f}" if d["wrk_cpu_s"] is not None else "?"

    def rest_cores(d):
        r = rest_value(d)
        return "?" if r is None else f"{r:.2f}"

    def per_req_cpu(d):
        return f"{d['cpu_s'] / d['requests'] * 1e6:.0f} µs" if d["cpu_s"] else "?"

    tok_per_cpu_s = tok["requests"] / tok["cpu_s"] if tok["cpu_s"] else float("nan")
    lines = [
        BEGIN,
        f"## Results: {now}, commit `{commit}`{dirty}",
        "",
    ]
    if QUICK:
        lines += ["**Development run (`BENCH_QUICK=1`): short load runs, 1k and 10k VMs only, a 64 MiB blob and 300 small ones. Not for the record.**", ""]
    lines += [
        f"Machine: {NPROC} cores (`nproc`), {cpu}, {mem_gib:.0f} GiB RAM, Linux {platform.release()}; "
        f"{openssl_v}; Node.js {node_v}; {wrk_v}.",
        f"Load: wrk, {WRK_THREADS} thread(s), {CONC} keep-alive connections (4 per core), {SECS} s per run "
        f"after a {WARMUP} s warm-up ({PEER_WARMUP} s for the Node.js peer), on the same machine as the server (loopback). "
        f"The whole command took {RUN_SECONDS / 60:.1f} min. Mimic ran with "
        f"`MIMIC_LOG=warn` (no per-request log lines). Cores busy with other work just before the run: "
        f"{IDLE_BUSY:.2f}{' (the machine was not idle: the figures are low)' if IDLE_BUSY >= 0.15 else ''}.",
        "",
        "| Measure | Mimic | Reference measured in the same run | Ratio | Target | |",
        "|---|---|---|---|---|---|",
        f"| Uncached token issuance: client_credentials, `POST /{{tenant}}/oauth2/v2.0/token`, HTTPS, "
        f"a new RS256 JWT per call | **{tok['rate']:,.0f} tokens/s** ({lat(tok)}) | `openssl speed -multi {NPROC} rsa2048`: "
        f"{OPENSSL_SIGN:,.0f} signs/s | {sign_share:.0%} of the signing rate{flag(openssl_rest, rest_value(tok))} | ≥ 80% | {verdict(sign_share >= TARGET_SIGN_SHARE)} |",
        f"| Same, against the npm peer | {tok['rate']:,.0f} tokens/s (HTTPS) | `oauth2-mock-server` {PEER_VERSION} "
        f"(one Node.js process started by its CLI), same load over plain HTTP: {peer_http['rate']:,.0f} tokens/s ({lat(peer_http)}) | "
        f"**{vs_http:.1f}×**{flag(rest_value(tok), rest_value(peer_http))} | ≥ 4× | {verdict(vs_http >= TARGET_PEER_RATIO)} |",
        f"| Same, peer also over HTTPS (like for like) | {tok['rate']:,.0f} tokens/s | `oauth2-mock-server` with `-c/-k`: "
        f"{peer_https['rate']:,.0f} tokens/s ({lat(peer_https)}) | {vs_https:.1f}×{flag(rest_value(tok), rest_value(peer_https))} | ≥ 4× | {verdict(vs_https >= TARGET_PEER_RATIO)} |",
        f"| Authorised ARM read: `GET /subscriptions/{{sub}}/resourcegroups/benchrg`, bearer token, RBAC check | "
        f"**{read['rate']:,.0f} req/s** ({lat(read)}) | none (target is absolute) | {flag(rest_value(read)).strip()} | ≥ 20,000/s | "
        f"{verdict(read['rate'] >= TARGET_ARM_READ)} |",
        f"| Authorised ARM write: `PATCH` the group's tags, one durable SQLite commit (WAL, `synchronous=FULL`) each | "
        f"**{write['rate']:,.0f} req/s** ({lat(write)}) | 4 KiB overwrite + `fsync` loop in the same filesystem "
        f"(one durable commit's floor): {FSYNC:,.0f}/s | {write['rate'] / FSYNC:.0%} of it{flag(rest_value(write))} | none set | |",
        f"| ARM write against moto: the group's tag `PATCH` (a new tag value each) | {write['rate']:,.0f} req/s ({lat(write)}) | "
        f"moto {MOTO_VERSION} EC2 `CreateTags` on one instance, a new value each, SigV4-signed: {moto_tags['rate']:,.0f} req/s ({lat(moto_tags)}) | "
        f"**{write['rate'] / moto_tags['rate']:.1f}×**{flag(rest_value(write), rest_value(moto_tags))} | none set | |",
        f"| VM identity `PATCH` (`az vm identity assign`/`remove --identities`, in turn; a durable commit each) | "
        f"**{vm_id['rate']:,.0f} req/s** ({lat(vm_id)}) | moto EC2 `ReplaceIamInstanceProfileAssociation`, two profiles in turn: "
        f"{moto_id['rate']:,.0f} req/s ({lat(moto_id)}) | **{vm_id['rate'] / moto_id['rate']:.1f}×**{flag(rest_value(vm_id), rest_value(moto_id))} | none set | |",
        f"| IMDS managed-identity token, cached (`GET /metadata/identity/oauth2/token`, `Metadata: true`, HTTP) | "
        f"**{imds_c['rate']:,.0f} req/s** ({lat(imds_c)}) | moto's instance-metadata credentials "
        f"(`/latest/meta-data/iam/security-credentials/<role>`): {moto_imds['rate']:,.0f} req/s ({lat(moto_imds)}) | "
        f"**{vs_moto_imds:.0f}×**{flag(rest_value(imds_c), rest_value(moto_imds))} | ≥ 50× | {verdict(vs_moto_imds >= TARGET_IMDS_VS_MOTO)} |",
        f"| Same, against a bare server | {imds_c['rate']:,.0f} req/s | bare hyper 1 (benches/bare-hyper), a fixed 1.5 KB JSON: "
        f"{hyper['rate']:,.0f} req/s ({lat(hyper)}) | **{vs_hyper:.0%}**{flag(rest_value(hyper))} | ≥ 50% | {verdict(vs_hyper >= TARGET_IMDS_VS_HYPER)} |",
        f"| Same, latency under that load | p99 **{ms(imds_c['p99_us'])}** | | | < 1 ms | {verdict(imds_c['p99_us'] < TARGET_IMDS_P99_US)} |",
        f"| IMDS token, uncached (`bypass_cache=true`: a new RS256 signature each) | {imds_u['rate']:,.0f} req/s ({lat(imds_u)}) | "
        f"`openssl speed` above: {OPENSSL_SIGN:,.0f} signs/s | {imds_u['rate'] / OPENSSL_SIGN:.0%} of the signing rate | none set | |",
        f"| Cold start to ready, fresh data directory (creates store, principals, signing key, CA) | "
        f"**{fresh_med:.0f} ms** median of {len(cold['fresh'])} (min {min(cold['fresh']):.0f}, max {max(cold['fresh']):.0f}) | | | < 200 ms | "
        f"{verdict(fresh_med < TARGET_COLD_MS)} |",
        f"| Cold start to ready, existing data directory (restart) | **{restart_med:.0f} ms** median of "
        f"{len(cold['restart'])} (min {min(cold['restart']):.0f}, max {max(cold['restart']):.0f}) | | | < 200 ms | "
        f"{verdict(restart_med < TARGET_COLD_MS)} |",
        f"| Start of the peer, spawn to listening (`node` + its CLI, which generates its RSA key) | "
        f"Mimic fresh {fresh_med:.0f} ms, restart {restart_med:.0f} ms | `oauth2-mock-server`: {peer_cold_med:.0f} ms median of {len(peer_cold)} | "
        f"peer ÷ Mimic: {peer_cold_med / fresh_med:.1f}× (fresh), {peer_cold_med / restart_med:.0f}× (restart) | none set | |",
        f"| Start of moto, spawn to accepting connections (`moto_server`) | Mimic fresh {fresh_med:.0f} ms, restart {restart_med:.0f} ms | "
        f"moto {MOTO_VERSION}: {moto_cold_med:.0f} ms median of {len(moto_cold)} | "
        f"moto ÷ Mimic: {moto_cold_med / fresh_med:.1f}× (fresh), {moto_cold_med / restart_med:.0f}× (restart) | none set | |",
        f"| Idle memory, RSS 0.5 s after ready | {rss('mimic-idle'):.1f} MiB ({rss('mimic-loaded'):.1f} MiB after the token load, "
        f"{rss('mimic-after-all'):.1f} MiB after all its loads) | `oauth2-mock-server`: {rss('peer-idle'):.1f} MiB; moto: {rss('moto-idle'):.1f} MiB "
        f"({rss('moto-after-all'):.1f} MiB after its loads) | peer ÷ Mimic: {rss('peer-idle') / rss('mimic-idle'):.1f}×; "
        f"moto ÷ Mimic: {rss('moto-idle') / rss('mimic-idle'):.1f}× | none set | |",
        "",
        f"The two token targets meet only if the peer is slow enough: a server that signs every token "
        f"cannot exceed the machine's signing rate, so on this machine in this run no such server could be "
        f"more than {OPENSSL_SIGN / peer_http['rate']:.1f}× the peer over HTTP "
        f"({OPENSSL_SIGN:,.0f} ÷ {peer_http['rate']:,.0f}) or {OPENSSL_SIGN / peer_https['rate']:.1f}× over HTTPS; "
        f"4× holds where the peer stays at or below {OPENSSL_SIGN * TARGET_SIGN_SHARE / TARGET_PEER_RATIO:,.0f} tokens/s.",
        "",
        f"Where the {NPROC} cores went during each timed run (server: user+system time from `/proc/PID/stat`; "
        "wrk: its own user+system time; rest: all other busy time from `/proc/stat`, that is the kernel's "
        "softirq work for loopback TCP and any other process on the machine; a large rest means "
        "something else was running and the figures are low; rows of the first table measured while other "
        f"work used ≥ {BUSY_FLAG} cores are marked ⚠):",
        "",
        "| Run | Server CPU (cores busy) | Server CPU per request | wrk CPU (cores busy) | Rest (cores busy) |",
        "|---|---|---|---|---|",
        f"| Mimic token issuance | {cores(tok)} | {per_req_cpu(tok)} (one bare RSA-2048 sign: "
        f"{NPROC * 1e6 / OPENSSL_SIGN:.0f} µs with all {NPROC} cores signing, {1e6 / OPENSSL_SIGN_1:.0f} µs with one) | "
        f"{wrk_cores(tok)} | {rest_cores(tok)} |",
        f"| `openssl speed -multi {NPROC}` | {NPROC} processes | | | "
        f"{'?' if openssl_rest is None else f'{openssl_rest:.2f}'} |",
        f"| Peer token issuance, HTTP | {cores(peer_http)} | {per_req_cpu(peer_http)} | {wrk_cores(peer_http)} | {rest_cores(peer_http)} |",
        f"| Peer token issuance, HTTPS | {cores(peer_https)} | {per_req_cpu(peer_https)} | {wrk_cores(peer_https)} | {rest_cores(peer_https)} |",
        f"| Mimic ARM read | {cores(read)} | {per_req_cpu(read)} | {wrk_cores(read)} | {rest_cores(read)} |",
        f"| Mimic ARM write | {cores(write)} | {per_req_cpu(write)} | {wrk_cores(write)} | {rest_cores(write)} |",
    ] + [f"| {label} | {cores(d)} | {per_req_cpu(d)} | {wrk_cores(d)} | {rest_cores(d)} |" for label, d in [
        ("Mimic VM identity PATCH", vm_id), ("moto CreateTags", moto_tags), ("moto ReplaceIamInstanceProfileAssociation", moto_id),
        ("Mimic IMDS cached", imds_c), ("Mimic IMDS uncached", imds_u), ("moto instance credentials", moto_imds),
        ("bare hyper", hyper)]] + [
        "",
        f"Mimic issued {tok_per_cpu_s:,.0f} tokens per second of its own CPU time: "
        f"{tok_per_cpu_s / (OPENSSL_SIGN / NPROC):.0%} of openssl's per-core signing rate with all cores busy "
        f"({OPENSSL_SIGN / NPROC:,.0f}/s), {tok_per_cpu_s / OPENSSL_SIGN_1:.0%} of its rate on one otherwise idle core "
        f"({OPENSSL_SIGN_1:,.0f}/s).",
    ]
    killed = cold.get("killed_by_early_sigterm", 0)
    if killed:
        lines += ["", f"Server bug seen while timing starts: {killed} of the {2 * len(cold['fresh']) + 1} stops died of "
                      "the SIGTERM sent as soon as `endpoints.json` appeared, without shutting down (the file was "
                      "left behind), because `mimic serve` installs its signal handler after announcing readiness. "
                      "The harness deletes a stale `endpoints.json` before each start, so the timings stand."]
    if problems:
        lines += ["", f"**Errors during the run** (non-2xx or socket errors) in: {', '.join(problems)}; "
                      f"see `benches/target/last-run/`. The figures above are not valid."]
    lines += [""] + blob_section() + [""] + scale_section(verdict) + ["", END]
    section = "\n".join(lines) + "\n"

    print(section)
    if os.environ.get("BENCH_NO_WRITE") == "1":
        return
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nRun `benches/run.sh`.\n\n"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    b, e = LEGACY_IMDS
    if b in text and e in text:  # now part of the section above
        text = text[: text.index(b)].rstrip("\n") + "\n\n" + text[text.index(e) + len(e):].lstrip("\n")
    open(path, "w").write(text)
    print(f"[bench] wrote the results section of {path}", file=sys.stderr)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
