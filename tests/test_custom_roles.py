"""Custom roles with az 2.91: `az role definition create|list|update|delete`, a custom role's
`dataActions` minus its `notDataActions` deciding on Key Vault's data plane and its `actions` on
ARM, Azure's refusals (a taken name, the root as assignable scope, deleting a role in use).
The rules are in docs/azure-behaviour.md §4.
"""

from __future__ import annotations

import json

from mimic_harness import MimicServer, unique
from test_keyvault_secrets import paz, sp_object_id  # noqa: F401  (paz is a fixture)
from test_proxy import ProxiedAz


def role_file(tmp_path, name: str, scope: str, **permissions) -> str:
    path = tmp_path / f"{unique('role')}.json"
    path.write_text(json.dumps({"Name": name, "IsCustom": True, "Description": "made by a test", "AssignableScopes": [scope],
                                "Actions": [], "NotActions": [], "DataActions": [], "NotDataActions": [], **permissions}))
    return f"@{path}"


def test_a_custom_role_decides_on_arm_and_key_vault_as_its_lists_say(mimic: MimicServer, paz: ProxiedAz, tmp_path):
    sub = f"/subscriptions/{mimic.subscription_id}"
    rg, vault_name, role_name = unique("custom"), unique("kvcr")[:20], unique("Secret getter")
    paz("group", "create", "-n", rg, "-l", "westus")
    vault = paz("keyvault", "create", "-g", rg, "-n", vault_name, "-l", "westus", "--enable-rbac-authorization", "true")
    me = sp_object_id(mimic, paz)
    paz("role", "assignment", "create", "--role", "Key Vault Secrets Officer", "--assignee-object-id", me,
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    paz("keyvault", "secret", "set", "--vault-name", vault_name, "-n", "s", "--value", "v")

    taken = paz.run("role", "definition", "create", "--role-definition", role_file(tmp_path, "Reader", sub), check=False)
    assert taken.returncode != 0 and "RoleDefinitionWithSameNameExists" in taken.stderr + taken.stdout, taken.stderr
    root = paz.run("role", "definition", "create", "--role-definition", role_file(tmp_path, role_name, "/"), check=False)
    assert root.returncode != 0, root.stdout
    role = paz("role", "definition", "create", "--role-definition",
               role_file(tmp_path, role_name, sub, Actions=["Microsoft.Resources/subscriptions/resourceGroups/read"],
                         DataActions=["Microsoft.KeyVault/vaults/secrets/*"],
                         NotDataActions=["Microsoft.KeyVault/vaults/secrets/setSecret/action"]))
    assert role["roleType"] == "CustomRole" or role.get("type") == "CustomRole" or role["roleName"] == role_name
    listed = paz("role", "definition", "list", "--custom-role-only", "true", "--name", role_name)
    assert [r["roleName"] for r in listed] == [role_name]

    # A second principal holding only the custom role.
    p = mimic.mimic_cli("admin", "sp", "create", "--name", unique("custom-sp"), "--output", "json")
    assert p.returncode == 0, p.stderr
    sp = json.loads(p.stdout)
    paz("role", "assignment", "create", "--role", role_name, "--assignee-object-id", sp["objectId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    config = tmp_path / "other"
    config.mkdir()
    other = ProxiedAz(mimic, config)
    other("login", "--service-principal", "-u", sp["appId"], "-p", sp["secret"], "--tenant", mimic.tenant_id)
    assert other("keyvault", "secret", "show", "--vault-name", vault_name, "-n", "s")["value"] == "v"
    refused = other.run("keyvault", "secret", "set", "--vault-name", vault_name, "-n", "s", "--value", "w", check=False)
    assert refused.returncode != 0 and "ForbiddenByRbac" in refused.stderr + refused.stdout, refused.stderr
    # Its ARM action holds at the vault's group only where assigned: the vault scope is below the group.
    assert other.run("group", "show", "-n", rg, check=False).returncode != 0

    # update: the new lists apply at once; a role in use is not deleted.
    group = paz("group", "show", "-n", rg)["id"]
    paz("role", "assignment", "create", "--role", role_name, "--assignee-object-id", sp["objectId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", group)
    assert other("group", "show", "-n", rg)["name"] == rg, "the custom role's ARM action, at the group"
    paz("role", "definition", "update", "--role-definition",
        role_file(tmp_path, role_name, sub, DataActions=["Microsoft.KeyVault/vaults/secrets/*"], NotDataActions=[]))
    assert other("keyvault", "secret", "set", "--vault-name", vault_name, "-n", "s", "--value", "w")["value"] == "w"
    in_use = paz.run("role", "definition", "delete", "--name", role_name, check=False)
    assert "RoleDefinitionHasAssignments" in in_use.stderr + in_use.stdout, in_use.stderr + in_use.stdout
