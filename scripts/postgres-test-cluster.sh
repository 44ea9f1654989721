#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests (Debian's packages).
#
#   scripts/postgres-test-cluster.sh start DIR   install postgresql if missing (root, apt), initdb
#                                                an empty cluster in DIR, start it on 127.0.0.1 on a free port and
#                                                print its URL (postgres://USER@127.0.0.1:PORT/postgres)
#   scripts/postgres-test-cluster.sh stop DIR    stop it (DIR is kept for its log; delete it freely)
#
# initdb refuses to run as root, so as root the cluster belongs to Debian's `postgres` user.
# Trust authentication, loopback only: nothing but this machine's processes can reach it.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
log() { echo "postgres-test-cluster: $*" >&2; }

bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$d" && -x "$d/pg_ctl" ]] && echo "$d"
}

as_owner() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    if ! bindir >/dev/null; then
        [[ "$(id -u)" == 0 ]] || { log "PostgreSQL server binaries missing and not root: apt-get install postgresql"; exit 1; }
        log "installing postgresql (Debian)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 300 apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1 \
            || { timeout 120 apt-get update -q >/dev/null 2>&1 || true
                 timeout 300 apt-get install -y -q --no-install-recommends postgresql >/dev/null; }
    fi
    bin="$(bindir)"
    user="$(id -un)"; [[ "$user" == root ]] && user=postgres
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
    # Throwaway: a cluster left by an interrupted run is stopped and replaced by an empty one.
    if [[ -f "$dir/data/PG_VERSION" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
        rm -rf "$dir/data"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    # Many test servers, each with a small pool: room for them all.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c shared_buffers=64MB" start >/dev/null
    echo "postgres://$user@127.0.0.1:$port/postgres"
    ;;
stop)
    bin="$(bindir)" || exit 0
    [[ -f "$dir/data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
