#!/usr/bin/env bash
# Sets up what the real-client tests need, idempotently:
#   * .venv at the repo root (Python 3.11) with exactly tests/requirements.lock installed
#     (azure-cli, azure-identity, azure-mgmt-*, msal, pytest, ...);
#   * libfaketime from Debian (optional: only the expired-token test uses it; skipped without it);
#   * Chromium from Debian and tests/portal's playwright-core (the portal tests; skipped without them).
# A second run with an unchanged lock does nothing: a stamp in .venv records the lock's hash.
#
# Environment:
#   PYTHON=python3.11         interpreter to build the venv with (default: python3.11, else python3)
#   MIMIC_TEST_VENV=DIR       venv location (default: <repo>/.venv)
#   MIMIC_TEST_NO_APT=1       never call apt-get
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$repo/tests/requirements.lock"
venv="${MIMIC_TEST_VENV:-$repo/.venv}"
stamp="$venv/.mimic-requirements.sha256"
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

want="$( (sha256sum "$lock" | cut -d' ' -f1; echo "python=$pyver") | sha256sum | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$venv/bin/python" -c 'import azure.cli.core, azure.identity, pytest' >/dev/null 2>&1; then
    log "venv up to date ($venv)"
else
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
    log "venv ready in $((SECONDS - start)) s"
fi

# libfaketime lets one test start mimic with a clock in the future (the only black-box way to
# hold a Mimic-signed token that has expired). Optional: that test skips when it is missing.
faketime_lib=""
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 /usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 \
         /usr/lib/faketime/libfaketime.so.1; do
    [[ -e "$f" ]] && faketime_lib="$f" && break
done
if [[ -z "$faketime_lib" && -z "${MIMIC_TEST_NO_APT:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing libfaketime (Debian) for the expired-token test"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 120 apt-get install -y -q --no-install-recommends libfaketime >/dev/null 2>&1; then
        timeout 120 apt-get update -q >/dev/null 2>&1 || true
        timeout 120 apt-get install -y -q --no-install-recommends libfaketime >/dev/null 2>&1 \
            || log "warning: could not install libfaketime; the expired-token test will be skipped"
    fi
fi

# wrk (Debian) drives the bounded load test (tests/test_load.py), as it drives benches/run.sh.
if ! command -v wrk >/dev/null 2>&1 && [[ -z "${MIMIC_TEST_NO_APT:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing wrk (Debian) for the load test"
    export DEBIAN_FRONTEND=noninteractive
    timeout 120 apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 \
        || { timeout 120 apt-get update -q >/dev/null 2>&1 || true; timeout 120 apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1; } \
        || log "warning: could not install wrk; the load test will be skipped"
fi

# Microsoft's JavaScript clients (@azure/identity, @azure/arm-*), exactly as tests/js/package-lock.json pins them.
js="$repo/tests/js"
js_want="$(sha256sum "$js/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$js/node_modules/.mimic-lock.sha256" && "$(cat "$js/node_modules/.mimic-lock.sha256")" == "$js_want" ]]; then
    log "node packages up to date"
elif command -v npm >/dev/null 2>&1; then
    log "installing node packages from tests/js/package-lock.json"
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$js_want" > "$js/node_modules/.mimic-lock.sha256"
else
    log "warning: npm not found; the JavaScript client tests will be skipped"
fi

# The portal tests drive Debian's Chromium with playwright-core (tests/portal/package-lock.json).
if [[ ! -x /usr/bin/chromium && -z "${MIMIC_TEST_NO_APT:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium (Debian) for the portal tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 600 apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; then
        timeout 120 apt-get update -q >/dev/null 2>&1 || true
        timeout 600 apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
            || log "warning: could not install chromium; the portal tests will be skipped"
    fi
fi
portal="$repo/tests/portal"
portal_want="$(sha256sum "$portal/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$portal/node_modules/.mimic-lock.sha256" && "$(cat "$portal/node_modules/.mimic-lock.sha256")" == "$portal_want" ]]; then
    log "portal node packages up to date"
elif command -v npm >/dev/null 2>&1; then
    log "installing portal test packages from tests/portal/package-lock.json"
    (cd "$portal" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$portal_want" > "$portal/node_modules/.mimic-lock.sha256"
else
    log "warning: npm not found; the portal tests will be skipped"
fi

log "done in $((SECONDS - start)) s"
