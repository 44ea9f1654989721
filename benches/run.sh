#!/usr/bin/env bash
# Mimic's benchmarks, side by side with their peers, in one run:
#   1. the machine's RSA-2048 signing rate (openssl speed, all cores)
#   2. uncached token issuance (client_credentials over HTTPS, every call signs a new RS256 JWT)
#   3. the same load against the npm peer oauth2-mock-server (pinned in benches/package.json)
#   4. an authorised ARM read (GET resource group) and write (PATCH its tags, a durable commit)
#   5. cold start to ready (spawn -> endpoints.json), fresh and existing data directory
# and writes the results section of BENCHMARKS.md. Usage: benches/run.sh
# Environment: MIMIC_BIN (measure this binary, skip the build), BENCH_SECONDS (each load run, default 8, at most 10), BENCH_NO_WRITE=1 (print the
# section, leave BENCHMARKS.md alone), BENCH_COLD_RUNS (default 5).
# Everything binds 127.0.0.1; every server started here is stopped here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/benches"
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
(( SECONDS_PER_RUN > 10 )) && SECONDS_PER_RUN=10
WARMUP_SECONDS=2
COLD_RUNS="${BENCH_COLD_RUNS:-5}"
NPROC="$(nproc)"
CONC=$(( 4 * NPROC ))            # concurrency for every load run: 4 connections per core
WRK_THREADS=$(( NPROC / 2 )); (( WRK_THREADS < 1 )) && WRK_THREADS=1   # leave cores to the server
OUT="$BENCH/target/last-run"     # raw outputs of the last run (gitignored)
WORK="$(mktemp -d /tmp/mimic-bench.XXXXXX)"
PIDS=()

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
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

if [[ -n "${MIMIC_BIN:-}" ]]; then
  MIMIC="$MIMIC_BIN"; log "using $MIMIC as built (MIMIC_BIN set: no build)"
else
  log "building mimic (cargo build --release)"
  (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
  MIMIC="$ROOT/target/release/mimic"
fi
[[ -x "$MIMIC" ]] || die "no mimic binary at $MIMIC"

log "installing the peer (npm ci in benches/)"
(cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
PEER_VERSION="$(node -p "require('$BENCH/node_modules/oauth2-mock-server/package.json').version")"

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); 
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$@"; }
urlenc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

wait_for_file() { # path pid seconds
  local i=0
  until [[ -s "$1" ]]; do
    kill -0 "$2" 2>/dev/null || die "process $2 exited before $1 appeared"
    (( i++ > $3 * 100 )) && die "$1 did not appear within $3 s"
    sleep 0.01
  done
}

# run_wrk NAME URL [env assignments for benches/lua/request.lua...]: a warm-up, then the timed run.
# With CPU_PID set, also records that process's CPU seconds during the timed run in NAME.cpu.
run_wrk() {
  local name="$1" url="$2"; shift 2
  env "$@" wrk -t"$WRK_THREADS" -c"$CONC" -d"${WARMUP_SECONDS}s" -s "$BENCH/lua/request.lua" "$url" >"$OUT/$name.warmup.txt" 2>&1
  local cpu0=""; [[ -n "${CPU_PID:-}" ]] && cpu0="$(cpu_seconds "$CPU_PID")"
  local busy0; busy0="$(machine_busy_seconds)"
  # bash's `time` gives wrk's own CPU (user+system seconds): the load generator's share of the cores.
  local TIMEFORMAT='%U %S'
  { time env "$@" wrk -t"$WRK_THREADS" -c"$CONC" -d"${SECONDS_PER_RUN}s" --timeout 5s -s "$BENCH/lua/request.lua" "$url" >"$OUT/$name.txt" 2>&1 ; } 2>"$OUT/$name.wrktime"
  echo "$busy0 $(machine_busy_seconds)" >"$OUT/$name.busy"   # busy0 wall0 busy1 wall1
  # CPU seconds the server spent in the timed run: tells the server's cost from the client's.
  [[ -n "$cpu0" ]] && python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$cpu0" "$(cpu_seconds "$CPU_PID")" >"$OUT/$name.cpu"
  grep '^BENCH_JSON ' "$OUT/$name.txt" | sed 's/^BENCH_JSON //' >"$OUT/$name.json" || die "wrk gave no result for $name (see $OUT/$name.txt)"
  log "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.0f/s p50 %.2f ms p99 %.2f ms non-2xx %d" % (d["requests"]/(d["duration_us"]/1e6), d["p50_us"]/1000, d["p99_us"]/1000, d["non2xx"]))' "$OUT/$name.json")"
}

# Resident memory of a process, KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# CPU seconds all cores have been busy so far (everything but idle and iowait, from /proc/stat).
# Printed with the wall clock: "BUSY WALL".
machine_busy_seconds() { python3 -c 'import os, time; f=[int(x) for x in open("/proc/stat").readline().split()[1:]]; print((sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK"), time.time())'; }
# Cores busy between two machine_busy_seconds readings.
busy_between() { python3 -c 'import sys; b0, w0, b1, w1 = map(float, sys.argv[1:5]); print("%.2f" % ((b1 - b0) / (w1 - w0)))' $1 $2; }
# CPU seconds (user+system) a process has used so far.
cpu_seconds() { python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"; }

# --- is the machine quiet? ---------------------------------------------------------------------
# Other work on the machine (a build, a test run) takes cores from both the server and the
# references. Wait up to 60 s for it to end; the busy figure goes into the results either way.
busy_cores_now() { local b0; b0="$(machine_busy_seconds)"; sleep 1; busy_between "$b0" "$(machine_busy_seconds)"; }
IDLE_BUSY="$(busy_cores_now)"
for _ in $(seq 1 20); do
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.15 else 1)' "$IDLE_BUSY" && break
  log "machine busy before the run ($IDLE_BUSY cores in use by other processes); waiting for it to settle"
  sleep 2; IDLE_BUSY="$(busy_cores_now)"
done
log "cores busy before the run: $IDLE_BUSY"

# --- 1. the machine's RSA-2048 signing rate ----------------------------------------------------
log "openssl speed -multi $NPROC -seconds 3 rsa2048"
openssl speed -multi "$NPROC" -seconds 3 rsa2048 >"$OUT/openssl-speed.txt" 2>&1
OPENSSL_SIGN="$(awk '/^rsa 2048 bits/ {print $(NF-1)}' "$OUT/openssl-speed.txt" | tail -1)"
[[ -n "$OPENSSL_SIGN" ]] || die "could not read openssl's sign/s (see $OUT/openssl-speed.txt)"
openssl speed -seconds 2 rsa2048 >"$OUT/openssl-speed-1core.txt" 2>&1
OPENSSL_SIGN_1="$(awk '/^rsa 2048 bits/ {print $(NF-1)}' "$OUT/openssl-speed-1core.txt" | tail -1)"
log "openssl: $OPENSSL_SIGN sign/s on $NPROC cores, $OPENSSL_SIGN_1 on one"

# Durable-commit reference: overwrite 4 KiB in a preallocated file + fsync (what an SQLite WAL
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

# Sanity: one token, then the resource group the ARM benchmarks read and write.
TOKEN="$(curl -sS --fail --cacert "$CA" -X POST "$LOGIN$TOKEN_PATH" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data "$TOKEN_FORM" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
RG_PATH="/subscriptions/$SUB/resourcegroups/benchrg?api-version=2021-04-01"
code="$(curl -sS -o "$OUT/rg-create.json" -w '%{http_code}' --cacert "$CA" -X PUT "$ARM$RG_PATH" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data '{"location":"westus"}')"
[[ "$code" == 200 || "$code" == 201 ]] || die "creating the resource group answered $code: $(cat "$OUT/rg-create.json")"
code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" -X PATCH "$ARM$RG_PATH" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data '{"tags":{"bench":"probe"}}')"
[[ "$code" == 200 ]] || die "PATCH of the resource group answered $code"

# --- 2. uncached token issuance ----------------------------------------------------------------
log "token issuance: POST $TOKEN_PATH over HTTPS, $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-token "$LOGIN" BENCH_METHOD=POST BENCH_PATH="$TOKEN_PATH" BENCH_BODY="$TOKEN_FORM" \
  BENCH_CONTENT_TYPE=application/x-www-form-urlencoded

rss_kib "$MIMIC_PID" >"$OUT/mimic-loaded.rss"

# --- 4. authorised ARM read and write ----------------------------------------------------------
log "ARM read: GET resource group with a bearer token, $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-arm-read "$ARM" BENCH_METHOD=GET BENCH_PATH="$RG_PATH" BENCH_AUTH="Bearer $TOKEN"
log "ARM write: PATCH the group's tags (durable commit each), $CONC connections, ${SECONDS_PER_RUN}s"
CPU_PID="$MIMIC_PID" run_wrk mimic-arm-write "$ARM" BENCH_METHOD=PATCH BENCH_PATH="$RG_PATH" BENCH_AUTH="Bearer $TOKEN" \
  BENCH_CONTENT_TYPE=application/json BENCH_BODY='{"tags":{"bench":"0"}}' BENCH_VARY_TAG=1
curl -sS --fail --cacert "$CA" "$ARM$RG_PATH" -H "Authorization: Bearer $TOKEN" >"$OUT/rg-after.json" || die "reading the group back failed"

kill -TERM "$MIMIC_PID"; wait "$MIMIC_PID" || true; PIDS=()

# --- 3. the peer: oauth2-mock-server, same load ------------------------------------------------
PEER_CLI="$BENCH/node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs"
PEER_FORM="grant_type=client_credentials&client_id=bench&client_secret=bench&scope=$(urlenc https://management.azure.com/.default)"
start_peer() { # NAME [extra CLI args...]; sets PEER_PID and PEER_PORT
  local name="$1"; shift
  node "$PEER_CLI" -a 127.0.0.1 -p 0 "$@" >"$OUT/$name.log" 2>&1 &
  PEER_PID=$!; PIDS+=("$PEER_PID")
  local i=0
  until grep -q 'listening on' "$OUT/$name.log"; do
    kill -0 "$PEER_PID" 2>/dev/null || die "$name exited: $(cat "$OUT/$name.log")"
    (( i++ > 1000 )) && die "$name did not start"
    sleep 0.01
  done
  PEER_PORT="$(sed -n 's/.*listening on https\{0,1\}:\/\/[^ ]*:\([0-9]*\).*/\1/p' "$OUT/$name.log" | head -1)"
}
stop_peer() { kill -TERM "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null || true; PIDS=(); }

log "peer oauth2-mock-server $PEER_VERSION over HTTP"
start_peer peer-http
sleep 0.5; rss_kib "$PEER_PID" >"$OUT/peer-idle.rss"
curl -sS --fail -X POST "http://127.0.0.1:$PEER_PORT/token" --data "$PEER_FORM" | grep -q access_token || die "peer gave no token"
CPU_PID="$PEER_PID" run_wrk peer-token-http "http://127.0.0.1:$PEER_PORT" BENCH_METHOD=POST BENCH_PATH=/token BENCH_BODY="$PEER_FORM" \
  BENCH_CONTENT_TYPE=application/x-www-form-urlencoded
stop_peer

log "peer oauth2-mock-server $PEER_VERSION over HTTPS (its -c/-k options, a throwaway RSA-2048 certificate)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$WORK/peer-key.pem" -out "$WORK/peer-cert.pem" >/dev/null 2>&1
start_peer peer-https -c "$WORK/peer-cert.pem" -k "$WORK/peer-key.pem"
curl -sS --fail --cacert "$WORK/peer-cert.pem" -X POST "https://127.0.0.1:$PEER_PORT/token" --data "$PEER_FORM" | grep -q access_token \
  || die "peer over HTTPS gave no token"
CPU_PID="$PEER_PID" run_wrk peer-token-https "https://127.0.0.1:$PEER_PORT" BENCH_METHOD=POST BENCH_PATH=/token BENCH_BODY="$PEER_FORM" \
  BENCH_CONTENT_TYPE=application/x-www-form-urlencoded
stop_peer

# --- 5. cold start to ready --------------------------------------------------------------------
log "cold start: $COLD_RUNS fresh, $COLD_RUNS restarts, $COLD_RUNS starts of the peer"
python3 "$BENCH/coldstart.py" "$MIMIC" "$WORK/cold" "$COLD_RUNS" "$PEER_CLI" >"$OUT/coldstart.json"

# --- results -----------------------------------------------------------------------------------
export IDLE_BUSY OUT ROOT NPROC CONC WRK_THREADS SECONDS_PER_RUN OPENSSL_SIGN OPENSSL_SIGN_1 FSYNC_RATE PEER_VERSION
python3 "$BENCH/report.py"
