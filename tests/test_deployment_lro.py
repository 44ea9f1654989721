"""Template deployments as real long-running operations: the PUT answers 201
`Accepted` with `Azure-AsyncOperation` and the deployment runs afterwards, as the caller.

Azure's behaviour, with sources:
* PUT .../deployments/{name} → 201, `provisioningState: Accepted`, `Azure-AsyncOperation`; GET of
  the deployment shows Running then Succeeded/Failed/Canceled; deployment operations appear as
  resources finish; the async-operation URL reports Running then the end state
  (resources.json 2021-04-01 `Deployments_CreateOrUpdate` x-ms-long-running-operation,
  learn.microsoft.com "Track asynchronous Azure operations"; docs/azure-behaviour.md §3).
* A second PUT of the same name while one runs: 409 `DeploymentActive` (Azure/azure-dev#7248,
  "Unable to edit or replace deployment ...: previous deployment from ... is still active").
* `POST .../cancel`: 204 while running (state Canceled), 409 `DeploymentCannotBeCancelled`
  otherwise (resources.json `Deployments_Cancel`: "You can cancel a deployment only if the
  provisioningState is Accepted or Running").
* `az deployment group create --no-wait` returns at once; `az deployment group wait --created`
  polls the deployment until it has succeeded.
* On Azure resources take time to provision, and ARM runs a template's independent resources in
  parallel, each once what it `dependsOn` has finished ("Define the order for deploying
  resources in ARM templates", learn.microsoft.com: "Resource Manager deploys resources in
  parallel when they don't depend on each other"); a cancel stops the deployment before the
  resources whose turn has not come (`az deployment group cancel` after `--no-wait`, azure-cli's
  own `test_group_deployment` scenario).
Mimic's own rules (docs/ARCHITECTURE.md): a deployment running when the server stopped ends
`Failed` with `DeploymentInterrupted` at the next start; what it had written stays. Each resource
provisions for `--provisioning-delay` (default 1 s; the suite's servers run with it off unless a
test sets it), cut short when the server stops gracefully.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from mimic_harness import DEPLOY_API, Az, MimicServer, deployment_id, unique, wait_deployment

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def many_identities(count: int) -> dict:
    """A template whose deployment takes a while: `count` identities by a `copy` loop, each one
    written (durably) by its own ARM call."""
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "resources": [{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
                           "name": "[concat('id', copyIndex())]", "location": "westus",
                           "copy": {"name": "ids", "count": count}}]}


def put(mimic: MimicServer, rg: str, name: str, template: dict):
    return mimic.arm("PUT", deployment_id(mimic, rg, name), api_version=DEPLOY_API, json={"properties": {"mode": "Incremental", "template": template}})


def show(mimic: MimicServer, rg: str, name: str) -> dict:
    r = mimic.arm("GET", deployment_id(mimic, rg, name), api_version=DEPLOY_API)
    assert r.status_code == 200, r.text
    return r.json()


def poll(mimic: MimicServer, url: str):
    r = mimic.http.get(url, headers={"Authorization": f"Bearer {mimic.sp_token()}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r


def identities(mimic: MimicServer, rg: str) -> list[str]:
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
                  api_version="2023-01-31")
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["value"]]


def test_put_answers_accepted_and_the_deployment_runs_afterwards(mimic: MimicServer):
    rg = unique("lro")
    mimic.create_rg(rg)
    count = 800
    t0 = time.monotonic()
    r = put(mimic, rg, "slow", many_identities(count))
    answered = time.monotonic() - t0
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["provisioningState"] == "Accepted"
    status_url = r.headers["Azure-AsyncOperation"]
    assert "/providers/Microsoft.Resources/deployments/slow/operationStatuses/" in status_url

    running = show(mimic, rg, "slow")
    assert running["properties"]["provisioningState"] == "Running", (answered, running["properties"])
    assert "outputResources" not in running["properties"] or not running["properties"]["outputResources"]
    s = poll(mimic, status_url)
    assert s.json() == {"status": "Running"} and s.headers["Retry-After"] == "1"

    # While it runs, a second deployment of the same name is refused.
    again = put(mimic, rg, "slow", many_identities(1))
    assert again.status_code == 409, again.text
    err = again.json()["error"]
    assert err["code"] == "DeploymentActive"
    assert err["message"].startswith("Unable to edit or replace deployment 'slow': previous deployment from '")
    assert err["message"].endswith("' is still active. Please see https://aka.ms/arm-deploy for usage details.")

    # ... and it cannot be deleted (resources.json Deployments_Delete: "A template deployment
    # that is currently running cannot be deleted").
    gone = mimic.arm("DELETE", deployment_id(mimic, rg, "slow"), api_version=DEPLOY_API)
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "DeploymentActive", gone.text

    # Operations appear as resources finish.
    seen = []
    end = time.monotonic() + 60
    while time.monotonic() < end:
        ops = mimic.arm("GET", deployment_id(mimic, rg, "slow") + "/operations", api_version=DEPLOY_API).json()["value"]
        seen.append(len(ops))
        if show(mimic, rg, "slow")["properties"]["provisioningState"] != "Running":
            break
        time.sleep(0.05)
    done = wait_deployment(mimic, deployment_id(mimic, rg, "slow"))
    assert done["properties"]["provisioningState"] == "Succeeded", done["properties"].get("error")
    assert any(0 < n < count for n in seen), f"no partial progress seen: {seen[:20]}"
    assert seen == sorted(seen)
    assert len(done["properties"]["outputResources"]) == count
    assert poll(mimic, status_url).json() == {"status": "Succeeded"}
    assert "Retry-After" not in poll(mimic, status_url).headers
    assert len(identities(mimic, rg)) == count
    print(f"\n{count} resources: PUT answered in {answered * 1000:.0f} ms; deployment took {done['properties']['duration']}")

    # Cancelling a finished deployment is refused; the same name may now be deployed again.
    c = mimic.arm("POST", deployment_id(mimic, rg, "slow") + "/cancel", api_version=DEPLOY_API)
    assert c.status_code == 409 and c.json()["error"]["code"] == "DeploymentCannotBeCancelled", c.text
    assert c.json()["error"]["message"] == "The deployment 'slow' cannot be cancelled because it is in a terminal state 'Succeeded'."
    r = put(mimic, rg, "slow", many_identities(1))
    assert r.status_code == 200, r.text
    assert wait_deployment(mimic, deployment_id(mimic, rg, "slow"))["properties"]["provisioningState"] == "Succeeded"
    assert mimic.arm("DELETE", deployment_id(mimic, rg, "slow"), api_version=DEPLOY_API).status_code == 202


def test_cancel_stops_a_running_deployment(mimic: MimicServer):
    rg = unique("lrocancel")
    mimic.create_rg(rg)
    count = 800
    r = put(mimic, rg, "tocancel", many_identities(count))
    assert r.status_code == 201, r.text
    c = mimic.arm("POST", deployment_id(mimic, rg, "tocancel") + "/cancel", api_version=DEPLOY_API)
    assert c.status_code == 204, c.text
    done = wait_deployment(mimic, deployment_id(mimic, rg, "tocancel"))
    assert done["properties"]["provisioningState"] == "Canceled"
    assert poll(mimic, r.headers["Azure-AsyncOperation"]).json()["status"] == "Canceled"
    made = len(identities(mimic, rg))
    assert made < count, "a canceled deployment writes no further resources"
    ops = mimic.arm("GET", deployment_id(mimic, rg, "tocancel") + "/operations", api_version=DEPLOY_API).json()["value"]
    assert len(ops) == made, "what it wrote before the cancel stays, with its operations"


def test_az_no_wait_then_wait_created(mimic: MimicServer, tmp_path: Path):
    rg = unique("lroaz")
    mimic.create_rg(rg)
    cfg = tmp_path / "az-config"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    f = tmp_path / "t.json"
    f.write_text(json.dumps(many_identities(40)))
    t0 = time.monotonic()
    out = az("deployment", "group", "create", "-g", rg, "-n", "nowait", "--template-file", str(f), "--no-wait")
    assert out is None, "--no-wait prints nothing"
    first = show(mimic, rg, "nowait")["properties"]["provisioningState"]
    assert first in ("Accepted", "Running", "Succeeded")
    az("deployment", "group", "wait", "-g", rg, "-n", "nowait", "--created")
    shown = az("deployment", "group", "show", "-g", rg, "-n", "nowait")
    assert shown["properties"]["provisioningState"] == "Succeeded"
    assert len(shown["properties"]["outputResources"]) == 40
    print(f"\naz --no-wait: state right after: {first}; create + wait took {time.monotonic() - t0:.1f} s")


def test_a_deployment_running_when_the_server_stops_ends_failed_at_start(mimic_factory):
    server: MimicServer = mimic_factory()
    rg = unique("lrokill")
    server.create_rg(rg)
    count = 800
    r = put(server, rg, "interrupted", many_identities(count))
    assert r.status_code == 201, r.text
    assert show(server, rg, "interrupted")["properties"]["provisioningState"] == "Running"
    server.proc.kill()  # SIGKILL: the deployment's task dies with the process
    server.proc.wait(5)
    server.kill()
    server.start()
    d = show(server, rg, "interrupted")
    assert d["properties"]["provisioningState"] == "Failed"
    assert d["properties"]["error"]["code"] == "DeploymentInterrupted"
    assert d["properties"]["error"]["message"] == (
        "The deployment 'interrupted' was interrupted because the Mimic server stopped while it was running. "
        "Resources it had already deployed remain; deploy again to complete it.")
    s = poll(server, r.headers["Azure-AsyncOperation"].replace(r.headers["Azure-AsyncOperation"].split("/subscriptions/")[0], server.arm_url))
    assert s.json()["status"] == "Failed" and s.json()["error"]["code"] == "DeploymentInterrupted"
    made = len(identities(server, rg))
    assert made < count
    # The name is free again, and a new deployment runs to the end.
    r = put(server, rg, "interrupted", many_identities(3))
    assert r.status_code == 200, r.text
    assert wait_deployment(server, deployment_id(server, rg, "interrupted"))["properties"]["provisioningState"] == "Succeeded"


def test_a_graceful_stop_lets_a_running_deployment_finish(mimic_factory):
    server: MimicServer = mimic_factory()
    rg = unique("lroterm")
    server.create_rg(rg)
    count = 800
    r = put(server, rg, "finishes", many_identities(count))
    assert r.status_code == 201, r.text
    assert show(server, rg, "finishes")["properties"]["provisioningState"] == "Running"
    assert server.stop() == 0  # SIGTERM: in-flight work drains, the deployment's task included
    server.start()
    d = show(server, rg, "finishes")
    assert d["properties"]["provisioningState"] == "Succeeded", d["properties"].get("error")
    assert len(identities(server, rg)) == count


def chain(*levels: list[str]) -> dict:
    """Network security groups in `levels`: each depends on every group of the level before."""
    resources, before = [], []
    for level in levels:
        for name in level:
            resources.append({"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-04-01", "name": name,
                              "location": "westus", "dependsOn": list(before)})
        before = level
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "resources": resources}


def nsgs(mimic: MimicServer, rg: str) -> set[str]:
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups",
                  api_version="2023-04-01")
    assert r.status_code == 200, r.text
    return {n["name"] for n in r.json()["value"]}


def test_provisioning_runs_independent_resources_together_and_a_cancel_stops_the_rest(mimic_factory):
    # A long delay, so that the cancel surely arrives while the first level provisions.
    server: MimicServer = mimic_factory(env={"MIMIC_PROVISIONING_DELAY": "60s"})
    rg = unique("lrolevels")
    server.create_rg(rg)
    r = put(server, rg, "levels", chain(["a", "b"], ["c"]))
    assert r.status_code == 201, r.text
    assert show(server, rg, "levels")["properties"]["provisioningState"] in ("Accepted", "Running")
    c = server.arm("POST", deployment_id(server, rg, "levels") + "/cancel", api_version=DEPLOY_API)
    assert c.status_code == 204, c.text
    done = wait_deployment(server, deployment_id(server, rg, "levels"))
    assert done["properties"]["provisioningState"] == "Canceled"
    assert nsgs(server, rg) == {"a", "b"}, "both independent resources started at once; the one waiting on them never did"


def test_az_no_wait_then_cancel_ends_canceled(mimic_factory, tmp_path: Path):
    # azure-cli's own test_group_deployment: create --no-wait, cancel, wait for Canceled, show.
    server: MimicServer = mimic_factory(env={"MIMIC_PROVISIONING_DELAY": "20s"})
    cfg = tmp_path / "az-config"
    cfg.mkdir()
    az = Az(server, cfg)
    az.setup_sp()
    rg = unique("lroazcancel")
    az("group", "create", "-n", rg, "-l", "westus")
    f = tmp_path / "t.json"
    f.write_text(json.dumps(chain(["first"], ["second"])))
    az("deployment", "group", "create", "-g", rg, "-n", "tocancel", "--template-file", str(f), "--no-wait")
    az("deployment", "group", "cancel", "-n", "tocancel", "-g", rg)
    az("deployment", "group", "wait", "-n", "tocancel", "-g", rg, "--custom", "provisioningState==Canceled")
    assert az("deployment", "group", "show", "-n", "tocancel", "-g", rg)["properties"]["provisioningState"] == "Canceled"
    err = az.run("deployment", "group", "cancel", "-n", "tocancel", "-g", rg, check=False)
    assert err.returncode != 0 and "DeploymentCannotBeCancelled" in err.stderr, err.stderr


def test_sdk_polls_a_provisioning_deployment_to_its_end(mimic_factory, monkeypatch):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource import ResourceManagementClient

    server: MimicServer = mimic_factory(env={"MIMIC_PROVISIONING_DELAY": "1s"})  # the default
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_path))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    sp = server.sp
    cred = ClientSecretCredential(server.tenant_id, sp["clientId"], sp["clientSecret"], authority=server.login_url,
                                  disable_instance_discovery=True)
    client = ResourceManagementClient(cred, server.subscription_id, base_url=server.arm_url,
                                      credential_scopes=["https://management.azure.com/.default"])
    rg = unique("lrosdk")
    client.resource_groups.create_or_update(rg, {"location": "westus"})
    poller = client.deployments.begin_create_or_update(rg, "polled", {"properties": {"mode": "Incremental", "template": chain(["x"], ["y"])}})
    assert not poller.done(), "the PUT answers Accepted: the deployment is still provisioning"
    result = poller.result()
    assert result.properties.provisioning_state == "Succeeded"
    assert sorted(o.id.rsplit("/", 1)[1] for o in result.properties.output_resources) == ["x", "y"]


def test_a_graceful_stop_cuts_provisioning_short(mimic_factory):
    server: MimicServer = mimic_factory(env={"MIMIC_PROVISIONING_DELAY": "600s"})
    rg = unique("lroterm2")
    server.create_rg(rg)
    r = put(server, rg, "stopping", chain(["p"], ["q"]))
    assert r.status_code == 201, r.text
    assert server.stop() == 0  # SIGTERM: the delay ends, the deployment finishes its resources
    server.start()
    assert show(server, rg, "stopping")["properties"]["provisioningState"] == "Succeeded"
    assert nsgs(server, rg) == {"p", "q"}


# ---- onErrorDeployment ---------------------------------------------------------------------
# learn.microsoft.com "Rollback on error to successful deployment": on failure ARM redeploys the
# last successful deployment (or a named one) of the group, in complete mode, exactly as it ran
# (same template and parameters); resource-group deployments only; a named deployment that is not
# in the history makes the rollback fail. resources.json `OnErrorDeploymentExtended`:
# `{provisioningState, type, deploymentName}` on the failed deployment.

def failing(*names: str) -> dict:
    """NSGs `names` and a NIC on a subnet that does not exist, which fails the deployment."""
    t = chain(list(names))
    t["resources"].append({"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-04-01", "name": "broken", "location": "westus",
                           "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                               "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'missing', 'default')]"}}}]}})
    return t


def test_az_rollback_on_error_redeploys_the_last_successful_deployment(mimic: MimicServer, tmp_path: Path):
    cfg = tmp_path / "az-config"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    rg = unique("rollback")
    az("group", "create", "-n", rg, "-l", "westus")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(chain(["kept"])))
    bad.write_text(json.dumps(failing("added")))
    az("deployment", "group", "create", "-g", rg, "-n", "first", "--template-file", str(good))
    out = az.run("deployment", "group", "create", "-g", rg, "-n", "second", "--template-file", str(bad), "--rollback-on-error", check=False)
    assert out.returncode != 0 and "DeploymentFailed" in out.stderr, out.stderr
    second = az("deployment", "group", "show", "-g", rg, "-n", "second")["properties"]
    assert second["provisioningState"] == "Failed"
    assert second["onErrorDeployment"] == {"type": "LastSuccessful", "deploymentName": "first", "provisioningState": "Succeeded"}
    first = az("deployment", "group", "show", "-g", rg, "-n", "first")["properties"]
    assert first["mode"] == "Complete", "the earlier deployment ran again, in complete mode"
    assert nsgs(mimic, rg) == {"kept"}, "complete mode removed what the failed deployment had added"

    # A named deployment (`--rollback-on-error NAME`: SpecificDeployment).
    az("deployment", "group", "create", "-g", rg, "-n", "third", "--template-file", str(bad), "--rollback-on-error", "first", check=False)
    third = az("deployment", "group", "show", "-g", rg, "-n", "third")["properties"]
    assert third["onErrorDeployment"] == {"type": "SpecificDeployment", "deploymentName": "first", "provisioningState": "Succeeded"}
    assert nsgs(mimic, rg) == {"kept"}


def test_rollback_to_a_deployment_not_in_the_history_fails_and_sub_scope_refuses_it(mimic: MimicServer):
    rg = unique("rollbackbad")
    mimic.create_rg(rg)
    body = {"properties": {"mode": "Incremental", "template": failing("x"),
                           "onErrorDeployment": {"type": "SpecificDeployment", "deploymentName": "never-deployed"}}}
    r = mimic.arm("PUT", deployment_id(mimic, rg, "orphan"), api_version=DEPLOY_API, json=body)
    assert r.status_code == 201, r.text
    done = wait_deployment(mimic, deployment_id(mimic, rg, "orphan"))["properties"]
    assert done["provisioningState"] == "Failed"
    assert done["onErrorDeployment"] == {"type": "SpecificDeployment", "deploymentName": "never-deployed", "provisioningState": "Failed"}
    assert nsgs(mimic, rg) == {"x"}, "no rollback ran"

    body["properties"]["onErrorDeployment"] = {"type": "SpecificDeployment"}
    r = mimic.arm("PUT", deployment_id(mimic, rg, "noname"), api_version=DEPLOY_API, json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidOnErrorDeployment", r.text

    body["properties"]["onErrorDeployment"] = {"type": "Sometimes"}
    r = mimic.arm("PUT", deployment_id(mimic, rg, "badtype"), api_version=DEPLOY_API, json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequestContent", r.text

    sub_body = {"location": "westus", "properties": {"mode": "Incremental", "template": chain([]), "onErrorDeployment": {"type": "LastSuccessful"}}}
    r = mimic.arm("PUT", f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Resources/deployments/{unique('subroll')}",
                  api_version=DEPLOY_API, json=sub_body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidOnErrorDeployment", r.text
