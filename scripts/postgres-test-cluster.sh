#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests (Debian's packages).
#
#   scripts/postgres-test-cluster.sh start       install postgresql if missing (root, apt), initdb
#                                                an empty cluster in a new directory of its own under
#                                                the system's temporary directory, start it on
#                                                127.0.0.1 on a free port and print, for `eval`, `export`s of
#                                                MIMIC_TEST_POSTGRES=<its URL> (postgres://USER@127.0.0.1:PORT/postgres)
#                                                and MIMIC_TEST_POSTGRES_DIR=<the directory>
#   scripts/postgres-test-cluster.sh stop        stop the cluster in $MIMIC_TEST_POSTGRES_DIR and remove it
#   scripts/postgres-test-cluster.sh start DIR   the same in DIR, printing only the URL
#   scripts/postgres-test-cluster.sh stop DIR    stop it (DIR is kept for its log; delete it freely)
#
#   eval "$(scripts/postgres-test-cluster.sh start)"   # as scripts/test does; exports both
#
# initdb refuses to run as root, so as root the cluster belongs to Debian's `postgres` user, who
# may not be able to enter the caller's checkout (a clone in root's 0700 home, or in any
# `mktemp -d` directory): hence the directory of its own, and the owner's commands run from `/`.
# A DIR that user cannot reach is refused with one line.
# Trust authentication, loopback only: nothing but this machine's processes can reach it.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"; own_dir=""
[[ -n "$cmd" ]] || { echo "usage: $0 start|stop [DIR]" >&2; exit 2; }
if [[ -z "$dir" ]]; then
    case "$cmd" in
    start) own_dir=1 ;;
    stop) dir="${MIMIC_TEST_POSTGRES_DIR:-}"; own_dir=1
          [[ -n "$dir" ]] || { echo "$0 stop: give DIR or set MIMIC_TEST_POSTGRES_DIR (as start printed it)" >&2; exit 2; } ;;
    esac
fi
log() { echo "postgres-test-cluster: $*" >&2; }

bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$d" && -x "$d/pg_ctl" ]] && echo "$d"
}

as_owner() {
    if [[ "$(id -u)" == 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
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
    [[ -z "$own_dir" ]] || dir="$(mktemp -d "${TMPDIR:-/tmp}/mimic-pg-test.XXXXXX")"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$dir"
        # Fail here with one clear line rather than with initdb's "Permission denied".
        as_owner test -w "$dir" -a -x "$dir" \
            || { log "$dir is not reachable by the postgres user (a parent directory is private?): use a directory of its own, e.g. \$(mktemp -d)"; exit 1; }
    fi
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
    url="postgres://$user@127.0.0.1:$port/postgres"
    if [[ -n "$own_dir" ]]; then
        printf 'export MIMIC_TEST_POSTGRES=%q\nexport MIMIC_TEST_POSTGRES_DIR=%q\n' "$url" "$dir"
    else
        echo "$url"
    fi
    ;;
stop)
    if bin="$(bindir)" && [[ -f "$dir/data/PG_VERSION" ]]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    fi
    # Only a directory this script made itself (start without DIR) is removed.
    [[ -z "$own_dir" || "$(basename "$dir")" != mimic-pg-test.* ]] || rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
