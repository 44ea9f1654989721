"""Hostile HTTP input: schemathesis generates valid and invalid requests from
Azure's official OpenAPI files (tests/specs/, copied from Azure/azure-rest-api-specs, see
tests/specs/README.md) for the operations Mimic serves, sends them to a live Mimic ARM with a
valid bearer token, and checks that nothing answers 5xx and that every response conforms to the
operation's documented responses (ARM's CloudError shape for errors included).

Bounded: a fixed number of examples per operation and a time budget per spec file; each spec
file is its own test so pytest-xdist spreads them. `MIMIC_SCHEMATHESIS_EXAMPLES` / `MIMIC_SCHEMATHESIS_SECONDS`
raise the bounds for a longer local run.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mimic_harness import REPO_ROOT, MimicServer, _clean_env

SPECS = Path(__file__).resolve().parent / "specs" / "specification"
EXAMPLES = int(os.environ.get("MIMIC_SCHEMATHESIS_EXAMPLES", "15"))
SECONDS = int(os.environ.get("MIMIC_SCHEMATHESIS_SECONDS", "40"))

# (spec file, operations Mimic serves in it as a path regex). The regexes name Azure's paths as
# the spec spells them.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# compute.json (2021-03-01) documents no error response at all for virtual machines (no
# `default`), though Azure answers 400/404 like every RP: the status-code check would flag every
# error Azure itself returns, so it is left out there; error bodies are still checked elsewhere.
CHECKS_WITHOUT_ERRORS_DOCUMENTED = "not_a_server_error,content_type_conformance,response_schema_conformance"
TARGETS = {
    "resource-groups": (
        "resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json",
        r"^/subscriptions/\{subscriptionId\}/resourcegroups(/\{resourceGroupName\})?$",
    ),
    "user-assigned-identities": (
        "msi/resource-manager/Microsoft.ManagedIdentity/stable/2018-11-30/ManagedIdentity.json",
        r"userAssignedIdentities|identities/default",
    ),
    "virtual-machines": (
        "compute/resource-manager/Microsoft.Compute/stable/2021-03-01/compute.json",
        r"/virtualMachines(/\{vmName\}(/(instanceView|start|powerOff|restart|deallocate))?)?$",
        CHECKS_WITHOUT_ERRORS_DOCUMENTED,
    ),
    "role-assignments": (
        "authorization/resource-manager/Microsoft.Authorization/preview/2020-10-01-preview/authorization-RoleAssignmentsCalls.json",
        r"roleAssignments",
    ),
    "role-definitions": (
        "authorization/resource-manager/Microsoft.Authorization/stable/2015-07-01/authorization-RoleDefinitionsCalls.json",
        r"roleDefinitions",
    ),
}


def st_binary() -> Path:
    return REPO_ROOT / ".venv" / "bin" / "st"


@pytest.mark.timeout(SECONDS + 120)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_schemathesis_finds_no_5xx_and_no_response_contradicting_the_spec(mimic: MimicServer, tmp_path: Path, target: str):
    if not st_binary().exists():
        pytest.fail(f"{st_binary()} missing: run scripts/test-setup.sh (tests/requirements.lock pins schemathesis)")
    spec, path_regex, *checks = TARGETS[target]
    # The real subscription id, so generated requests reach the handlers and not only
    # "subscription not found". Every other parameter (names, bodies, scopes, query) is
    # generated, valid and invalid.
    (tmp_path / "schemathesis.toml").write_text(
        "[parameters]\n"
        f'subscriptionId = "{mimic.subscription_id}"\n'
        "[output.sanitization]\nenabled = false\n"
    )
    report = tmp_path / "report"
    cmd = [
        str(st_binary()), "run", str(SPECS / spec),
        "--url", mimic.arm_url,
        "--include-path-regex", path_regex,
        "-H", f"Authorization: Bearer {mimic.sp_token()}",
        "--tls-verify", str(mimic.ca_path),
        "--checks", checks[0] if checks else CHECKS,
        "--max-examples", str(EXAMPLES),
        "--max-time", str(SECONDS),
        "--phases", "coverage,fuzzing",
        "--workers", "1",  # more threads trip a CPython 3.11 ast.parse race inside hypothesis
        "--request-timeout", "20",
        "--suppress-health-check", "all",
        "--warnings", "off",
        "--no-color",
        "--seed", os.environ.get("MIMIC_SCHEMATHESIS_SEED", "11"),
        "--report", "ndjson", "--report-dir", str(report),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 100, cwd=tmp_path,
                       env=_clean_env())  # schemathesis reads schemathesis.toml from its working directory
    requests_sent, server_errors = count(report)
    print(f"\nschemathesis {target}: {requests_sent} requests, {server_errors} answered 5xx")
    assert p.returncode == 0, f"schemathesis found problems ({requests_sent} requests, {server_errors} 5xx):\n{p.stdout[-12000:]}\n{p.stderr[-3000:]}"
    assert server_errors == 0
    assert requests_sent >= 20, f"too few requests to mean anything:\n{p.stdout[-4000:]}"


def count(report: Path) -> tuple[int, int]:
    """(requests sent, 5xx answers) from schemathesis' ndjson event log."""
    sent = errors = 0
    for f in report.glob("*.ndjson"):
        for line in f.read_text().splitlines():
            for status in _statuses(json.loads(line)):
                sent += 1
                errors += status >= 500
    return sent, errors


def _statuses(event, depth: int = 0):
    """Every HTTP response status recorded in one event (interactions nest in scenario events)."""
    if depth > 12:
        return
    if isinstance(event, dict):
        resp = event.get("response")
        if isinstance(resp, dict) and isinstance(resp.get("status_code"), int) and "request" in event:
            yield resp["status_code"]
            return
        for v in event.values():
            yield from _statuses(v, depth + 1)
    elif isinstance(event, list):
        for v in event:
            yield from _statuses(v, depth + 1)
