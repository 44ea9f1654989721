#!/usr/bin/env bash
# Sets up what the real-client tests need, idempotently:
#   * .venv at the repo root (Python 3.11) with exactly tests/requirements.lock installed
#     (azure-cli, azure-identity, azure-mgmt-*, msal, pytest, ...);
#   * .venv-az278 with tests/requirements-az278.lock (azure-cli 2.78.0, for the seed's
#     `az vm update --set identity.type=...` lines, which today's az no longer runs);
#   * libfaketime from Debian (optional: only the expired-token test uses it; skipped without it);
#   * wrk from Debian (the load test), tests/js's pinned Azure JavaScript clients;
#   * Chromium from Debian and tests/portal's playwright-core (the portal tests; skipped without them).
# A second run with an unchanged lock does nothing: a stamp in each venv records its lock's hash.
#
# Environment:
#   PYTHON=python3.11         interpreter to build the venv with (default: python3.11, else python3)
#   MIMIC_TEST_VENV=DIR       venv location (default: <repo>/.venv)
#   MIMIC_TEST_VENV_AZ278=DIR the older az's venv (default: <repo>/.venv-az278)
#   MIMIC_TEST_NO_APT=1       never call apt-get
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${MIMIC_TEST_VENV:-$repo/.venv}"
start=$SECONDS

log() { printf 'test-setup: %s\n' "$*" >&2; }

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    if command -v python3.11 >/dev/null 2>&1; then echo python3.11; return; fi
    echo python3
}
py="$(pick_python)"
pyver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$pyver" != "3.11" ]]; then
    log "warning: $py is Python $pyver; the lock was made with 3.11 and may not install"
fi

# A venv holding exactly a lock's packages; a stamp of the lock's hash (and the Python version)
# makes a second run with an unchanged lock do nothing.
python_venv() { # venv-dir, lock, modules-that-must-import
    local venv="$1" lock="$2" stamp="$1/.mimic-requirements.sha256" want t0=$SECONDS
    want="$( (sha256sum "$lock" | cut -d' ' -f1; echo "python=$pyver") | sha256sum | cut -d' ' -f1)"
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
        && "$venv/bin/python" -c "import $3" >/dev/null 2>&1; then
        log "venv up to date ($venv)"
        return
    fi
    if [[ -x "$venv/bin/python" ]] \
        && [[ "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" == "$pyver" ]]; then
        log "updating venv $venv from $lock"
    else
        log "creating venv $venv with $py ($pyver)"
        rm -rf "$venv"
        "$py" -m venv "$venv"
    fi
    rm -f "$stamp"
    # The lock pins every package (pip freeze), so no resolution is needed: --no-deps, then
    # `pip check` proves the set is complete and consistent. Byte-compiling is done afterwards on
    # every core (pip compiles serially: ~110 s in all against ~80 s this way on 2 cores); it matters
    # because each `az` call imports hundreds of modules and PYTHONDONTWRITEBYTECODE may be set.
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        --no-compile --no-deps -r "$lock"
    "$venv/bin/python" -m pip check
    "$venv/bin/python" -W ignore -m compileall -q -j 0 "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null \
        || log "warning: some files did not byte-compile (harmless)"
    echo "$want" > "$stamp"
    log "venv $venv ready in $((SECONDS - t0)) s"
}

python_venv "$venv" "$repo/tests/requirements.lock" "azure.cli.core, azure.identity, pytest"
# A second, older az for the CLI seed's `az vm update --set identity.type=...` lines
# (tests/requirements-az278.txt says why); the tests that need it skip without it.
python_venv "${MIMIC_TEST_VENV_AZ278:-$repo/.venv-az278}" "$repo/tests/requirements-az278.lock" "azure.cli.core"

# Optional Debian packages: installed when root and apt is there; their tests skip without them.
apt_optional() { # package, what-needs-it, seconds
    [[ -z "${MIMIC_TEST_NO_APT:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 || return 0
    log "installing $1 (Debian) for $2"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout "$3" apt-get install -y -q --no-install-recommends "$1" >/dev/null 2>&1; then
        timeout 120 apt-get update -q >/dev/null 2>&1 || true
        timeout "$3" apt-get install -y -q --no-install-recommends "$1" >/dev/null 2>&1 \
            || log "warning: could not install $1; $2 will be skipped"
    fi
}

# A pinned npm project (npm ci from its package-lock.json); a stamp of the lock's hash in
# node_modules makes a second run with an unchanged lock do nothing.
npm_project() { # dir, what-needs-it
    local dir="$repo/$1" want
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$dir/node_modules/.mimic-lock.sha256" && "$(cat "$dir/node_modules/.mimic-lock.sha256")" == "$want" ]]; then
        log "node packages of $1 up to date"
    elif command -v npm >/dev/null 2>&1; then
        log "installing node packages from $1/package-lock.json"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        echo "$want" > "$dir/node_modules/.mimic-lock.sha256"
    else
        log "warning: npm not found; $2 will be skipped"
    fi
}

# libfaketime lets one test start mimic with a clock in the future (the only black-box way to
# hold a Mimic-signed token that has expired).
faketime_lib=""
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 /usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 \
         /usr/lib/faketime/libfaketime.so.1; do
    [[ -e "$f" ]] && faketime_lib="$f" && break
done
[[ -n "$faketime_lib" ]] || apt_optional libfaketime "the expired-token test" 120

# wrk (Debian) drives the bounded load test (tests/test_load.py), as it drives benches/run.sh.
command -v wrk >/dev/null 2>&1 || apt_optional wrk "the load test" 120

# Microsoft's JavaScript clients (@azure/identity, @azure/arm-*), exactly as pinned.
npm_project tests/js "the JavaScript client tests"

# The portal tests drive Debian's Chromium with playwright-core (pinned in tests/portal).
[[ -x /usr/bin/chromium ]] || apt_optional chromium "the portal tests" 600
npm_project tests/portal "the portal tests"

log "done in $((SECONDS - start)) s"
