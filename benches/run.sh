#!/usr/bin/env bash
# Mimic's benchmark suite, every figure side by side with its reference or peer in one run:
#   - the machine's RSA-2048 signing rate (openssl speed, all cores), then at once
#   - uncached token issuance (client_credentials over HTTPS, every call signs a new RS256 JWT),
#     then the same load against the npm peer oauth2-mock-server (pinned in
#     benches/package-lock.json), over HTTP and over HTTPS
#   - an authorised ARM read (GET a resource group) and the writes: the group's tag PATCH and a
#     VM identity PATCH (what `az vm identity assign/remove` sends), beside the filesystem's
#     write+fsync rate and beside moto's EC2 equivalents (CreateTags,
#     ReplaceIamInstanceProfileAssociation, SigV4-signed)
#   - the IMDS managed-identity token, cached and uncached, beside moto's instance-metadata
#     credentials and a bare hyper server (benches/bare-hyper)
#   - blob upload and download throughput (a large block blob in 4 MiB blocks) and 4 KiB Put/Get
#     Blob rates with azure-storage-blob and Shared Key, Mimic's Blob service through its proxy
#     beside the npm peer Azurite (pinned in benches/package-lock.json) over HTTPS and over HTTP,
#     with each server's peak RSS (benches/blob_throughput.py)
#   - cold start to ready and idle memory, beside oauth2-mock-server and moto
#   - latency against store size (1k/10k/100k VMs) on SQLite and PostgreSQL (vm_scale.py)
# and writes the results section of BENCHMARKS.md (between its marker comments).
#
# Usage: benches/run.sh
# Environment: BENCH_QUICK=1 (development: 2 s load runs, 1 s warm-ups, 2 cold starts, 1k and
# 10k VMs, a 64 MiB blob and 300 small ones; not for the record); MIMIC_BIN=path (measure that binary, no build); BENCH_SECONDS
# (each load run, default 8, at most 10); BENCH_COLD_RUNS (default 5); BENCH_SCALE_SIZES (default
# 1000,10000,100000); BENCH_NO_WRITE=1 (print the section, leave BENCHMARKS.md alone).
# Raw outputs of the last run: benches/target/last-run/. Peers are installed under benches/
# (node_modules, target/moto-venv). Everything binds 127.0.0.1; every process started here is
# stopped here, by its pid (and the throwaway PostgreSQL cluster by its pg_ctl).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/benches"
QUICK="${BENCH_QUICK:-0}"
RUN_START="$(date +%s)"
if [[ "$QUICK" == 1 ]]; then
  SECONDS_PER_RUN="${BENCH_SECONDS:-2}"; WARMUP_SECONDS=1; PEER_WARMUP_SECONDS=1
  COLD_RUNS="${BENCH_COLD_RUNS:-2}"; SCALE_SIZES="${BENCH_SCALE_SIZES:-1000,10000}"; SCALE_SECONDS=1
  BLOB_MIB=64; BLOB_COUNT=300
else
  SECONDS_PER_RUN="${BENCH_SECONDS:-8}"; WARMUP_SECONDS=3
  PEER_WARMUP_SECONDS=5          # Node.js needs longer for its JIT to settle
  COLD_RUNS="${BENCH_COLD_RUNS:-5}"; SCALE_SIZES="${BENCH_SCALE_SIZES:-1000,10000,100000}"; SCALE_SECONDS=3
  BLOB_MIB=256; BLOB_COUNT=2000
fi
BLOB_RUNS=3; BLOB_THREADS=4      # large blob: median of 3 runs; small blobs: a pool of 4 threads
(( SECONDS_PER_RUN > 10 )) && SECONDS_PER_RUN=10
MOTO_VERSION=5.2.5               # the peer in moto's server mode, in its own venv
BENCH_VENV="$BENCH/target/moto-venv"
BPY="$BENCH_VENV/bin/python"     # the helpers' Python (requests, boto3 and botocore come with moto)
AZURE_BLOB_VERSION=12.29.0b1     # azure-storage-blob, the blob benchmark's client (in the same venv)
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # Azurite's documented devstoreaccount1 key
NPROC="$(nproc)"
CONC=$(( 4 * NPROC ))            # every load run: 4 keep-alive connections per core
WRK_THREADS=$(( NPROC / 2 )); (( WRK_THREADS < 1 )) && WRK_THREADS=1   # leave the cores to the server
OUT="$BENCH/target/last-run"     # gitignored
WORK="$(mktemp -d /tmp/mimic-bench.XXXXXX)"
PIDS=()
PG_DIR=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

stop_pid() { # pid [signal]
  kill -"${2:-TERM}" "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]:-}"; do [[ -n "$p" && "$p" != "$1" ]] && keep+=("$p"); done
  PIDS=("${keep[@]:-}")
}
stop_pid_grace() { # pid seconds: SIGTERM, then SIGKILL if it has not exited within that many seconds
  kill -TERM "$1" 2>/dev/null || true
  local i=0
  while kill -0 "$1" 2>/dev/null && (( i++ < $2 * 10 )); do sleep 0.1; done
  kill -0 "$1" 2>/dev/null && { log "process $1 still running $2 s after SIGTERM: SIGKILL"; echo "$1" >>"$OUT/sigkilled.pids"; }
  stop_pid "$1" KILL
}
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && stop_pid_grace "$p" 10; done
  if [[ -n "$PG_DIR" ]]; then "$ROOT/scripts/postgres-test-cluster.sh" stop "$PG_DIR" || true; rm -rf "$PG_DIR"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- tools -------------------------------------------------------------------------------------
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v curl >/dev/null || need_apt+=(curl)
if (( ${#need_apt[@]} )); then
  log "installing ${need_apt[*]} from Debian"
  apt-get install -y "${need_apt[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need_apt[@]}" >/dev/null; }
fi
command -v python3 >/dev/null || die "python3 is needed"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for the peer"

rm -rf "$OUT"; mkdir -p "$OUT"
BENCH_COMMIT="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
# Uncommitted changes outside the benchmark's own files mean the server measured is not the commit.
BENCH_DIRTY="$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!BENCHMARKS.md' ':!benches' 2>/dev/null | head -1)"
BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"

if [[ -n "${MIMIC_BIN:-}" ]]; then
  MIMIC="$MIMIC_BIN"; log "measuring $MIMIC (MIMIC_BIN set: no build)"
else
  log "building mimic (cargo build --release)"
  (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
  MIMIC="$ROOT/target/release/mimic"
fi
[[ -x "$MIMIC" ]] || die "no mimic binary at $MIMIC"

# The npm peer, as pinned by benches/package-lock.json. `npm ci` only when the installed version
# is not the pinned one, and never through a symlinked node_modules (a worktree sharing another
# checkout's install: npm ci would empty the shared directory).
pinned() { node -p "require('$BENCH/package-lock.json').packages['node_modules/$1'].version"; }
installed() { node -p "try { require('$BENCH/node_modules/$1/package.json').version } catch (e) { '' }"; }
PEER_PINNED="$(pinned oauth2-mock-server)"; AZURITE_PINNED="$(pinned azurite)"
if [[ "$(installed oauth2-mock-server)" != "$PEER_PINNED" || "$(installed azurite)" != "$AZURITE_PINNED" ]]; then
  [[ -L "$BENCH/node_modules" ]] && die "benches/node_modules is a symlink to an install without oauth2-mock-server $PEER_PINNED and azurite $AZURITE_PINNED; not running npm ci through it"
  log "installing the npm peers (npm ci in benches/)"
  (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
PEER_CLI="$BENCH/node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs"
PEER_VERSION="$(installed oauth2-mock-server)"
[[ "$PEER_VERSION" == "$PEER_PINNED" ]] || die "oauth2-mock-server $PEER_PINNED is not installed in benches/node_modules"
AZURITE_CLI="$BENCH/node_modules/azurite/dist/src/blob/main.js"   # what its azurite-blob bin runs
AZURITE_VERSION="$(installed azurite)"
[[ "$AZURITE_VERSION" == "$AZURITE_PINNED" ]] || die "azurite $AZURITE_PINNED is not installed in benches/node_modules"

if [[ "$("$BENCH_VENV/bin/pip" show moto 2>/dev/null | awk '/^Version:/ {print $2}')" != "$MOTO_VERSION" ]]; then
  log "installing moto[server]==$MOTO_VERSION into $BENCH_VENV"
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION" >"$BENCH/target/moto-install.log" 2>&1 \
    || die "pip install moto failed (see benches/target/moto-install.log)"
fi
MOTO_SERVER="$BENCH_VENV/bin/moto_server"
if [[ "$("$BENCH_VENV/bin/pip" show azure-storage-blob 2>/dev/null | awk '/^Version:/ {print $2}')" != "$AZURE_BLOB_VERSION" ]]; then
  log "installing azure-storage-blob==$AZURE_BLOB_VERSION into $BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q "azure-storage-blob==$AZURE_BLOB_VERSION" >"$BENCH/target/azure-blob-install.log" 2>&1 \
    || die "pip install azure-storage-blob failed (see benches/target/azure-blob-install.log)"
fi

log "building the bare hyper reference (benches/bare-hyper)"
BARE_HYPER="$BENCH/target/bare-hyper/release/bare-hyper"
cargo build -q --release --offline --manifest-path "$BENCH/bare-hyper/Cargo.toml" --target-dir "$BENCH/target/bare-hyper" 2>/dev/null \
  || cargo build -q --release --manifest-path "$BENCH/bare-hyper/Cargo.toml" --target-dir "$BENCH/target/bare-hyper" \
  || die "building benches/bare-hyper failed"

# --- helpers -----------------------------------------------------------------------------------
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$@"; }
urlenc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for_http() { # url pid seconds: until the URL answers at all (any status)
  local i=0
  until curl -s -o /dev/null "$1"; do
    kill -0 "$2" 2>/dev/null || die "process $2 exited before $1 answered"
    (( i++ > $3 * 100 )) && die "$1 did not answer within $3 s"
    sleep 0.01
  done
}

wait_for_file() { # path pid seconds
  local i=0
  until [[ -s "$1" ]]; do
    kill -0 "$2" 2>/dev/null || die "process $2 exited before $1 appeared"
    (( i++ > $3 * 100 )) && die "$1 did not appear within $3 s"
    sleep 0.01
  done
}

# Resident memory of a process, KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# Peak resident memory of a process so far (VmHWM), KiB.
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# CPU seconds (user+system) a process has used so far.
cpu_seconds() { python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"; }
# CPU seconds all cores have been busy so far (all but idle and iowait, /proc/stat), and the
# wall clock: "BUSY WALL".
machine_busy_seconds() { python3 -c 'import os, time; f=[int(x) for x in open("/proc/stat").readline().split()[1:]]; print((sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK"), time.time())'; }
busy_cores_now() { # cores busy over the next second
  local b0; b0="$(machine_busy_seconds)"; sleep 1
  python3 -c 'import sys; b0, w0, b1, w1 = map(float, sys.argv[1:5]); print("%.2f" % ((b1 - b0) / (w1 - w0)))' $b0 $(machine_busy_seconds)
}

# run_wrk NAME URL [VAR=value for benches/lua/request.lua...]: a warm-up (WARMUP seconds, default
# WARMUP_SECONDS), then the timed run.
# Records NAME.json (wrk's summary), NAME.wrktime (wrk's own CPU), NAME.busy (machine busy time
# over the run) and, with CPU_PID set, NAME.cpu (that process's CPU seconds over the run).
run_wrk() {
  local name="$1" url="$2"; shift 2
  env "$@" wrk -t"$WRK_THREADS" -c"$CONC" -d"${WARMUP:-$WARMUP_SECONDS}s" -s "$BENCH/lua/request.lua" "$url" >"$OUT/$name.warmup.txt" 2>&1
  local cpu0=""; [[ -n "${CPU_PID:-}" ]] && cpu0="$(cpu_seconds "$CPU_PID")"
  local busy0; busy0="$(machine_busy_seconds)"
  local TIMEFORMAT='%U %S'
  { time env "$@" wrk -t"$WRK_THREADS" -c"$CONC" -d"${SECONDS_PER_RUN}s" --timeout 5s -s "$BENCH/lua/request.lua" "$url" >"$OUT/$name.txt" 2>&1 ; } 2>"$OUT/$name.wrktime"
  echo "$busy0 $(machine_busy_seconds)" >"$OUT/$name.busy"
  if [[ -n "$cpu0" ]]; then
    python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$cpu0" "$(cpu_seconds "$CPU_PID")" >"$OUT/$name.cpu"
  fi
  grep '^BENCH_JSON ' "$OUT/$name.txt" | sed 's/^BENCH_JSON //' >"$OUT/$name.json" || die "wrk gave no result for $name (see $OUT/$name.txt)"
  log "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.0f/s p50 %.2f ms p99 %.2f ms non-2xx %d" % (d["requests"]/(d["duration_us"]/1e6), d["p50_us"]/1000, d["p99_us"]/1000, d["non2xx"]))' "$OUT/$name.json")"
}

# --- is the machine quiet? ---------------------------------------------------------------------
# Other work (a build, a test run) takes cores from the server and the references alike. Wait up
# to 60 s for it to end; how busy the machine was goes into the results either way.
IDLE_BUSY="$(busy_cores_now)"
WAIT_ROUNDS=20; [[ "$QUICK" == 1 ]] && WAIT_ROUNDS=0   # development runs do not wait
for _ in $(seq 1 "$WAIT_ROUNDS"); do
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.15 else 1)' "$IDLE_BUSY" && break
  log "machine busy before the run ($IDLE_BUSY cores in use); waiting for it to settle"
  sleep 2; IDLE_BUSY="$(busy_cores_now)"
done
log "cores busy before the run: $IDLE_BUSY"

# --- start Mimic -------------------------------------------------------------------------------
DATA="$WORK/data"
mkdir -p "$DATA"
log "starting mimic serve (MIMIC_LOG=warn: per-request logs off)"
MIMIC_LOG=warn "$MIMIC" serve --data-dir "$DATA" --arm 127.0.0.1:0 --login 127.0.0.1:0 --graph 127.0.0.1:0 \
  --portal 127.0.0.1:0 --imds 127.0.0.1:0 --proxy 127.0.0.1:0 --log-format json >"$OUT/mimic.stdout" 2>"$OUT/mimic.log" &
MIMIC_PID=$!
PIDS+=("$MIMIC_PID")
wait_for_file "$DATA/endpoints.json" "$MIMIC_PID" 20
sleep 0.5; rss_kib "$MIMIC_PID" >"$OUT/mimic-idle.rss"
LOGIN="$(json "$DATA/endpoints.json" login)"
ARM="$(json "$DATA/endpoints.json" arm)"
TENANT="$(json "$DATA/bootstrap.json" tenantId)"
SUB="$(json "$DATA/bootstrap.json" subscriptionId)"
CLIENT_ID="$(json "$DATA/bootstrap.json" servicePrincipal.clientId)"
CLIENT_SECRET="$(json "$DATA/bootstrap.json" servicePrincipal.clientSecret)"
CA="$DATA/ca.pem"
TOKEN_FORM="grant_type=client_credentials&client_id=$(urlenc "$CLIENT_ID")&client_secret=$(urlenc "$CLIENT_SECRET")&scope=$(urlenc https://management.azure.com/.default)"
TOKEN_PATH="/$TENANT/oauth2/v2.0/token"

# Sanity: one token, then what the ARM and IMDS benchmarks read and write (benches/mimic_setup.py).
TOKEN="$(curl -sS --fail --cacert "$CA" -X POST "$LOGIN$TOKEN_PATH" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "$TOKEN_FORM" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
(cd "$BENCH" && "$BPY" mimic_setup.py "$DATA") >"$OUT/mimic-setup.json" || die "setting up the benchmark's objects failed"
RG_PATH="$(json "$OUT/mimic-setup.json" rgPath)"
VM_PATH="$(json "$OUT/mimic-setup.json" vmPath)"
MIMIC_IMDS="$(json "$OUT/mimic-setup.json" imds)"
python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["identityBodies"]))' "$OUT/mimic-setup.json" >"$OUT/mimic-identity.bodies"
IMDS_PATH="/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"
curl -sS --fail -H 'Metadata: true' "$MIMIC_IMDS$IMDS_PATH" | grep -q access_token || die "no IMDS token from Mimic"

# --- the machine's RSA-2048 signing rate, then token issuance, then the peer ------------------
log "openssl speed -multi $NPROC -seconds 3 rsa2048"
busy0="$(machine_busy_seconds)"
{ TIMEFORMAT='%U %S'; time openssl speed -multi "$NPROC" -seconds 3 rsa2048 >"$OUT/openssl-speed.txt" 2>&1 ; } 2>"$OUT/openssl-speed.cputime"
echo "$busy0 $(machine_busy_seconds)" >"$OUT/openssl-speed.busy"
OPENSSL_SIGN="$(awk '/^rsa 2048 bits/ {print $(NF-1)}' "$OUT/openssl-speed.txt" | tail -1)"
[[ -n "$OPENSSL_SIGN" ]] || die "could not read openssl's sign/s (see $OUT/openssl-speed.txt)"
openssl speed -seconds 2 rsa2048 >"$OUT/openssl-speed-1core.txt" 2>&1
OPENSSL_SIGN_1="$(awk '/^rsa 2048 bits/ {print $(NF-1)}' "$OUT/openssl-speed-1core.txt" | tail -1)"
log "openssl: $OPENSSL_SIGN sign/s on $NPROC cores, $OPENSSL_SIGN_1 on one"

log "token issuance: POST $TOKEN_PATH over HTTPS, $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-token "$LOGIN" BENCH_METHOD=POST BENCH_PATH="$TOKEN_PATH" BENCH_BODY="$TOKEN_FORM" \
  BENCH_CONTENT_TYPE=application/x-www-form-urlencoded
rss_kib "$MIMIC_PID" >"$OUT/mimic-loaded.rss"

PEER_FORM="grant_type=client_credentials&client_id=bench&client_secret=bench&scope=$(urlenc https://management.azure.com/.default)"
start_peer() { # NAME [extra CLI args...]; sets PEER_PID and PEER_PORT
  local name="$1"; shift
  : >"$OUT/$name.log"
  node "$PEER_CLI" -a 127.0.0.1 -p 0 "$@" >>"$OUT/$name.log" 2>&1 &
  PEER_PID=$!; PIDS+=("$PEER_PID")
  local i=0
  until grep -q 'listening on' "$OUT/$name.log"; do
    kill -0 "$PEER_PID" 2>/dev/null || die "$name exited: $(cat "$OUT/$name.log")"
    (( i++ > 1000 )) && die "$name did not start"
    sleep 0.01
  done
  PEER_PORT="$(sed -n 's/.*listening on https\{0,1\}:\/\/[^ ]*:\([0-9]*\).*/\1/p' "$OUT/$name.log" | head -1)"
}

log "peer oauth2-mock-server $PEER_VERSION over HTTP"
start_peer peer-http
sleep 0.5; rss_kib "$PEER_PID" >"$OUT/peer-idle.rss"
curl -sS --fail -X POST "http://127.0.0.1:$PEER_PORT/token" --data "$PEER_FORM" | grep -q access_token || die "peer gave no token"
WARMUP=$PEER_WARMUP_SECONDS CPU_PID="$PEER_PID" run_wrk peer-token-http "http://127.0.0.1:$PEER_PORT" BENCH_METHOD=POST BENCH_PATH=/token BENCH_BODY="$PEER_FORM" \
  BENCH_CONTENT_TYPE=application/x-www-form-urlencoded
stop_pid "$PEER_PID"

log "peer oauth2-mock-server $PEER_VERSION over HTTPS (its -c/-k options, a throwaway RSA-2048 certificate)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$WORK/peer-key.pem" -out "$WORK/peer-cert.pem" >/dev/null 2>&1
start_peer peer-https -c "$WORK/peer-cert.pem" -k "$WORK/peer-key.pem"
curl -sS --fail --cacert "$WORK/peer-cert.pem" -X POST "https://127.0.0.1:$PEER_PORT/token" --data "$PEER_FORM" | grep -q access_token \
  || die "peer over HTTPS gave no token"
WARMUP=$PEER_WARMUP_SECONDS CPU_PID="$PEER_PID" run_wrk peer-token-https "https://127.0.0.1:$PEER_PORT" BENCH_METHOD=POST BENCH_PATH=/token BENCH_BODY="$PEER_FORM" \
  BENCH_CONTENT_TYPE=application/x-www-form-urlencoded
stop_pid "$PEER_PID"

# --- authorised ARM read and write -------------------------------------------------------------
log "ARM read: GET resource group with a bearer token, $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-arm-read "$ARM" BENCH_METHOD=GET BENCH_PATH="$RG_PATH" BENCH_AUTH="Bearer $TOKEN"

# Durable-commit reference: overwrite 4 KiB in a preallocated file + fsync (what one SQLite WAL
# commit with synchronous=FULL costs at least), in the data directory's filesystem, 2 s.
FSYNC_RATE="$(python3 - "$WORK" <<'EOF'
import os, sys, time
p = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"\0" * (256 * 4096)); os.fsync(fd)
n, t0, buf = 0, time.perf_counter(), b"x" * 4096
while time.perf_counter() - t0 < 2.0:
    os.pwrite(fd, buf, (n % 256) * 4096); os.fsync(fd); n += 1
print(f"{n / (time.perf_counter() - t0):.0f}")
os.close(fd); os.unlink(p)
EOF
)"
log "durable-write reference: $FSYNC_RATE write+fsync/s"

log "ARM write: PATCH the group's tags (durable commit each), $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-arm-write "$ARM" BENCH_METHOD=PATCH BENCH_PATH="$RG_PATH" BENCH_AUTH="Bearer $TOKEN" \
  BENCH_CONTENT_TYPE=application/json BENCH_BODY='{"tags":{"bench":"{n}"}}'
curl -sS --fail --cacert "$CA" "$ARM$RG_PATH" -H "Authorization: Bearer $TOKEN" >"$OUT/rg-after.json" || die "reading the group back failed"

log "ARM write: VM identity PATCH (attach, detach a user-assigned identity in turn), $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-vm-identity "$ARM" BENCH_METHOD=PATCH BENCH_PATH="$VM_PATH" BENCH_AUTH="Bearer $TOKEN" \
  BENCH_CONTENT_TYPE=application/json BENCH_BODIES_FILE="$OUT/mimic-identity.bodies"

# --- IMDS (plain HTTP, as on a VM) ---------------------------------------------------------------
log "IMDS token, cached and uncached (bypass_cache=true), $CONC connections, ${SECONDS_PER_RUN}s each"
CPU_PID="$MIMIC_PID" run_wrk mimic-imds-cached "$MIMIC_IMDS" BENCH_PATH="$IMDS_PATH" BENCH_HEADERS="Metadata: true"
CPU_PID="$MIMIC_PID" run_wrk mimic-imds-uncached "$MIMIC_IMDS" BENCH_PATH="$IMDS_PATH&bypass_cache=true" BENCH_HEADERS="Metadata: true"
rss_kib "$MIMIC_PID" >"$OUT/mimic-after-all.rss"
stop_pid "$MIMIC_PID"

# --- moto (server mode): instance credentials, EC2 writes, idle memory ---------------------------
log "peer moto $MOTO_VERSION (server mode)"
MOTO_PORT="$(free_port)"
"$MOTO_SERVER" -H 127.0.0.1 -p "$MOTO_PORT" >"$OUT/moto.log" 2>&1 &
MOTO_PID=$!; PIDS+=("$MOTO_PID")
MOTO="http://127.0.0.1:$MOTO_PORT"
wait_for_http "$MOTO/" "$MOTO_PID" 30
sleep 0.5; rss_kib "$MOTO_PID" >"$OUT/moto-idle.rss"
(cd "$BENCH" && "$BPY" moto_ec2.py "$MOTO") >"$OUT/moto-setup.json" || die "setting up moto's EC2 objects failed"
moto_request() { # KIND: BENCH_* variables for run_wrk from moto-setup.json
  python3 - "$OUT/moto-setup.json" "$1" "$OUT/moto-$1.bodies" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))[sys.argv[2]]
open(sys.argv[3], "w").write("\n".join(r["bodies"]) + "\n")
print("BENCH_METHOD=" + r["method"])
print("BENCH_PATH=" + r["path"])
print("BENCH_BODIES_FILE=" + sys.argv[3])
EOF
}
moto_headers() { python3 -c 'import json,sys; print("\n".join(f"{k}: {v}" for k, v in json.load(open(sys.argv[1]))[sys.argv[2]]["headers"].items()))' "$OUT/moto-setup.json" "$1"; }
MOTO_CREDS="/latest/meta-data/iam/security-credentials/default-role"
curl -sS --fail "$MOTO$MOTO_CREDS" | grep -q AccessKeyId || die "moto gave no instance credentials"
log "moto: instance-metadata credentials, CreateTags, ReplaceIamInstanceProfileAssociation"
CPU_PID="$MOTO_PID" run_wrk moto-imds "$MOTO" BENCH_PATH="$MOTO_CREDS" BENCH_HEADERS="Metadata: true"
mapfile -t tag_vars < <(moto_request tags)
CPU_PID="$MOTO_PID" run_wrk moto-tags "$MOTO" "${tag_vars[@]}" BENCH_HEADERS="$(moto_headers tags)"
mapfile -t id_vars < <(moto_request identity)
CPU_PID="$MOTO_PID" run_wrk moto-identity "$MOTO" "${id_vars[@]}" BENCH_HEADERS="$(moto_headers identity)"
rss_kib "$MOTO_PID" >"$OUT/moto-after-all.rss"
stop_pid "$MOTO_PID"

# --- bare hyper: the floor of an HTTP answer on this machine --------------------------------------
HYPER_PORT="$(free_port)"
"$BARE_HYPER" "127.0.0.1:$HYPER_PORT" >"$OUT/bare-hyper.log" 2>&1 &
HYPER_PID=$!; PIDS+=("$HYPER_PID")
wait_for_http "http://127.0.0.1:$HYPER_PORT/" "$HYPER_PID" 10
log "bare hyper: fixed 1.5 KB JSON"
CPU_PID="$HYPER_PID" run_wrk bare-hyper "http://127.0.0.1:$HYPER_PORT" BENCH_PATH="$IMDS_PATH" BENCH_HEADERS="Metadata: true"
stop_pid "$HYPER_PID"

# --- blob throughput: Mimic (through its proxy) and Azurite, the same client ---------------------
# A fresh Mimic (so its peak RSS is the blob work's), a storage account made through ARM, the
# client at https://{account}.blob.core.windows.net with `mimic env`'s proxy and CA. Then
# Azurite, started by its own CLI with the throwaway certificate made for oauth2-mock-server (both
# sides pay TLS), and once more over plain HTTP (the same client without TLS). Every
# side: BLOB_RUNS uploads and downloads of BLOB_MIB MiB, then BLOB_COUNT 4 KiB Put and Get Blob.
blob_run() { # NAME PID [blob_throughput.py args...]: bounded by the helper's deadline and by timeout(1)
  local name="$1" pid="$2"; shift 2
  (cd "$BENCH" && timeout 900 "$BPY" blob_throughput.py --mib "$BLOB_MIB" --runs "$BLOB_RUNS" --count "$BLOB_COUNT" \
    --threads "$BLOB_THREADS" --server-pid "$pid" --deadline 600 "$@") >"$OUT/$name.json" 2>"$OUT/$name.log" \
    || die "the blob benchmark against $name failed (see $OUT/$name.log)"
  log "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("up %.0f MiB/s, down %.0f MiB/s (median of %d, %d MiB); 4 KiB put %.0f/s, get %.0f/s; peak RSS %.0f MiB" % (d["upload_mib_s"], d["download_mib_s"], len(d["runs"]), d["mib"], d["small"]["put"]["ops_s"], d["small"]["get"]["ops_s"], d["server_hwm_kib_after_large"] / 1024))' "$OUT/$name.json")"
}
log "blob throughput: $BLOB_RUNS × $BLOB_MIB MiB up and down, $BLOB_COUNT × 4 KiB put and get, azure-storage-blob $AZURE_BLOB_VERSION"
BDATA="$WORK/blob-data"; mkdir -p "$BDATA"
MIMIC_LOG=warn "$MIMIC" serve --data-dir "$BDATA" --arm 127.0.0.1:0 --login 127.0.0.1:0 --graph 127.0.0.1:0 \
  --portal 127.0.0.1:0 --imds 127.0.0.1:0 --proxy 127.0.0.1:0 --log-format json >"$OUT/blob-mimic.stdout" 2>"$OUT/blob-mimic.serve.log" &
BMIMIC_PID=$!; PIDS+=("$BMIMIC_PID")
wait_for_file "$BDATA/endpoints.json" "$BMIMIC_PID" 20
sleep 0.5; rss_kib "$BMIMIC_PID" >"$OUT/blob-mimic-idle.rss"
"$MIMIC" env --data-dir "$BDATA" --output json >"$OUT/blob-mimic-env.json" || die "mimic env failed"
blob_run blob-mimic "$BMIMIC_PID" --mimic-data "$BDATA" --env-json "$OUT/blob-mimic-env.json"
stop_pid "$BMIMIC_PID"

start_azurite() { # NAME [extra CLI args...]; sets AZ_PID and AZ_PORT
  local name="$1"; shift
  AZ_PORT="$(free_port)"; mkdir -p "$WORK/$name"
  : >"$OUT/$name.serve.log"
  node "$AZURITE_CLI" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --location "$WORK/$name" --silent \
    --skipApiVersionCheck --loose "$@" >>"$OUT/$name.serve.log" 2>&1 &
  AZ_PID=$!; PIDS+=("$AZ_PID")
  local i=0
  until grep -q 'successfully listens' "$OUT/$name.serve.log"; do
    kill -0 "$AZ_PID" 2>/dev/null || die "$name exited: $(cat "$OUT/$name.serve.log")"
    (( i++ > 3000 )) && die "$name did not start"
    sleep 0.01
  done
  sleep 0.5; rss_kib "$AZ_PID" >"$OUT/$name-idle.rss"
}
log "peer Azurite $AZURITE_VERSION over HTTPS (its --cert/--key, the throwaway certificate)"
start_azurite blob-azurite-https --cert "$WORK/peer-cert.pem" --key "$WORK/peer-key.pem"
blob_run blob-azurite-https "$AZ_PID" --url "https://127.0.0.1:$AZ_PORT/devstoreaccount1" --key "$AZURITE_KEY" --ca "$WORK/peer-cert.pem"
stop_pid_grace "$AZ_PID" 5   # Azurite 3.37.0 says it has closed on SIGTERM but its process lingers
log "peer Azurite $AZURITE_VERSION over HTTP (the same client without TLS)"
start_azurite blob-azurite-http
blob_run blob-azurite-http "$AZ_PID" --url "http://127.0.0.1:$AZ_PORT/devstoreaccount1" --key "$AZURITE_KEY"
stop_pid_grace "$AZ_PID" 5

# --- cold start to ready -----------------------------------------------------------------------
log "cold start: $COLD_RUNS fresh, $COLD_RUNS restarts, $COLD_RUNS starts of the peer"
python3 "$BENCH/coldstart.py" "$MIMIC" "$WORK/cold" "$COLD_RUNS" "$PEER_CLI" "$MOTO_SERVER" >"$OUT/coldstart.json"

# --- latency against store size, SQLite and PostgreSQL -------------------------------------------
# Its own directory: as root the cluster runs as Debian's `postgres` user, who cannot enter $WORK (mode 700).
PG_DIR="$(mktemp -d /tmp/mimic-bench-pg.XXXXXX)"; chmod 755 "$PG_DIR"
if PG_URL="$("$ROOT/scripts/postgres-test-cluster.sh" start "$PG_DIR" 2>"$OUT/postgres-start.log")"; then
  PG_ARGS=(--postgres "$PG_URL")
  "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/postgres" --version >"$OUT/postgres.version" 2>/dev/null || true
else
  log "no PostgreSQL cluster (see $OUT/postgres-start.log): the scale curve is SQLite only"
  PG_ARGS=(); rm -rf "$PG_DIR"; PG_DIR=""
fi
log "store scale: $SCALE_SIZES VMs, SQLite${PG_ARGS:+ and PostgreSQL}"
(cd "$BENCH" && MIMIC_BIN="$MIMIC" "$BPY" vm_scale.py --out "$OUT/scale.json" --sizes "$SCALE_SIZES" --seconds "$SCALE_SECONDS" "${PG_ARGS[@]}") \
  || die "the store-scale benchmark failed"
[[ -n "$PG_DIR" ]] && { "$ROOT/scripts/postgres-test-cluster.sh" stop "$PG_DIR"; rm -rf "$PG_DIR"; PG_DIR=""; }

# --- results -----------------------------------------------------------------------------------
RUN_SECONDS=$(( $(date +%s) - RUN_START ))
log "the run took ${RUN_SECONDS}s"
VARS=(BENCH_COMMIT BENCH_DIRTY BENCH_DATE IDLE_BUSY NPROC CONC WRK_THREADS SECONDS_PER_RUN WARMUP_SECONDS PEER_WARMUP_SECONDS OPENSSL_SIGN OPENSSL_SIGN_1
      FSYNC_RATE PEER_VERSION MOTO_VERSION AZURITE_VERSION AZURE_BLOB_VERSION QUICK RUN_SECONDS)
export "${VARS[@]}" OUT ROOT
for v in "${VARS[@]}"; do
  printf '%s=%q\n' "$v" "${!v}"
done >"$OUT/env.sh"   # to rebuild the section from these raw outputs: set -a; . env.sh; OUT=... ROOT=... report.py
python3 "$BENCH/report.py"
