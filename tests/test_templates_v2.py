"""Templates with `"languageVersion": "2.0"`, deployed with az.

Azure's rules (learn.microsoft.com, "ARM template syntax" → languageVersion 2.0 and
template-functions-resource): `resources` is an object keyed by symbolic name; `dependsOn`
may name symbolic names; `reference('symbolicName')` reads the declared resource (its
properties; with 'Full' the whole resource); `resourceInfo('symbolicName')` gives its id, name,
type and apiVersion; `"existing": true` declares a resource that is read, not deployed.
"""

from __future__ import annotations

import json
from pathlib import Path

from mimic_harness import READER, Az, MimicServer, unique

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def template() -> dict:
    return {
        "$schema": SCHEMA, "languageVersion": "2.0", "contentVersion": "1.0.0.0",
        "parameters": {"idName": {"type": "string", "defaultValue": "symId"}},
        "resources": {
            # Declared first, deployed second: it depends on `ident` by symbolic name.
            "readerRole": {
                "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
                "name": "[guid(resourceGroup().id, parameters('idName'), 'reader')]",
                "dependsOn": ["ident"],
                "properties": {
                    "roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{READER}')]",
                    "principalId": "[reference('ident').principalId]",
                    "principalType": "ServicePrincipal",
                },
            },
            "ident": {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
                      "name": "[parameters('idName')]", "location": "[resourceGroup().location]"},
            "before": {"existing": True, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",
                       "name": "preexisting"},
        },
        "outputs": {
            "info": {"type": "object", "value": "[resourceInfo('ident')]"},
            "principalId": {"type": "string", "value": "[reference('ident').principalId]"},
            "fullType": {"type": "string", "value": "[reference('ident', '2023-01-31', 'Full').type]"},
            "existingClientId": {"type": "string", "value": "[reference('before').clientId]"},
        },
    }


def test_language_version_2_symbolic_names_with_az(mimic: MimicServer, tmp_path: Path):
    rg = unique("tplv2")
    mimic.create_rg(rg)
    cfg = tmp_path / "az-config"
    cfg.mkdir()
    az = Az(mimic, cfg)
    az.setup_sp()
    pre = az("identity", "create", "-g", rg, "-n", "preexisting")
    f = tmp_path / "v2.json"
    f.write_text(json.dumps(template(), indent=2))
    out = az("deployment", "group", "create", "-g", rg, "-n", "v2", "--template-file", str(f))
    assert out["properties"]["provisioningState"] == "Succeeded"
    outputs = {k: v["value"] for k, v in out["properties"]["outputs"].items()}
    ident = az("identity", "show", "-g", rg, "-n", "symId")
    info = {k: v for k, v in outputs["info"].items() if k != "resourceGroup"}  # az adds it to any object with an id
    assert info == {"id": ident["id"], "name": "symId", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                               "apiVersion": "2023-01-31"}
    assert outputs["principalId"] == ident["principalId"]
    assert outputs["fullType"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert outputs["existingClientId"] == pre["clientId"]
    roles = az("role", "assignment", "list", "--assignee", ident["principalId"], "--all")
    assert [(r["roleDefinitionName"], r["scope"].lower()) for r in roles] == [("Reader", f"/subscriptions/{mimic.subscription_id}/resourcegroups/{rg}".lower())]
    ops = az("deployment", "operation", "group", "list", "-g", rg, "-n", "v2")
    order = [o["properties"]["targetResource"]["resourceType"] for o in ops if o["properties"].get("targetResource")]
    assert order == ["Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.Authorization/roleAssignments"], \
        "dependsOn by symbolic name orders the role assignment after the identity; the existing resource is not deployed"

    bad = template()
    bad["outputs"] = {"x": {"type": "object", "value": "[resourceInfo('nope')]"}}
    f.write_text(json.dumps(bad))
    r = az.run("deployment", "group", "create", "-g", rg, "-n", "v2bad", "--template-file", str(f), check=False)
    assert r.returncode != 0
    assert "nope" in r.stderr, r.stderr
