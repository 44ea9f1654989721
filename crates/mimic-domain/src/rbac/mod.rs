//! Azure RBAC (`Microsoft.Authorization`) as plain data and functions:
//! role definitions, role assignments, the built-in role catalogue and the
//! permission check ARM runs on every request. See docs/azure-behaviour.md §4.
//!
//! Evaluation model (docs/azure-behaviour.md §4, learn.microsoft.com role-definitions
//! #actions / #notactions): a principal may perform an operation at a scope if
//! some role assignment at that scope or an ancestor names a role one of whose
//! permission blocks has an `actions` pattern matching the operation and no
//! `notActions` pattern of *that same block* matching it. `notActions` is a
//! subtraction inside the role, not a deny: another assignment can still grant
//! the operation. Data actions work the same way with `dataActions` /
//! `notDataActions`. Deny assignments and ABAC conditions are not evaluated.

pub mod custom;
mod matching;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use matching::{action_matches, scope_contains};

/// One permission block of a role definition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

impl Permission {
    /// Some `actions` pattern matches and no `notActions` pattern of this block does.
    pub fn allows(&self, action: &str) -> bool {
        any_match(&self.actions, action) && !any_match(&self.not_actions, action)
    }

    /// Some `dataActions` pattern matches and no `notDataActions` pattern of this block does.
    pub fn allows_data(&self, data_action: &str) -> bool {
        any_match(&self.data_actions, data_action) && !any_match(&self.not_data_actions, data_action)
    }
}

fn any_match(patterns: &[String], action: &str) -> bool {
    patterns.iter().any(|p| action_matches(p, action))
}

/// `properties.type` of a role definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RoleType {
    BuiltInRole,
    CustomRole,
}

impl RoleType {
    /// The wire spelling: `"BuiltInRole"` or `"CustomRole"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RoleType::BuiltInRole => "BuiltInRole",
            RoleType::CustomRole => "CustomRole",
        }
    }
}

impl std::fmt::Display for RoleType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role definition (`Microsoft.Authorization/roleDefinitions`), built-in or custom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    /// The role's GUID (the resource `name`).
    pub name: Uuid,
    pub role_name: String,
    pub description: String,
    pub role_type: RoleType,
    pub permissions: Vec<Permission>,
    pub assignable_scopes: Vec<String>,
    /// When and by whom a custom role was written (built-in roles carry none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<Uuid>,
}

/// A role assignment (`Microsoft.Authorization/roleAssignments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// The assignment's GUID (the resource `name`).
    pub name: Uuid,
    /// The scope it was created at, e.g. `/subscriptions/{sub}/resourceGroups/{rg}`.
    pub scope: String,
    /// GUID of the role definition (the last segment of `roleDefinitionId`).
    pub role_definition_id: Uuid,
    pub principal_id: Uuid,
    /// `User`, `Group`, `ServicePrincipal`, `ForeignGroup` or `Device`.
    pub principal_type: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub condition_version: Option<String>,
    pub created_on: DateTime<Utc>,
    pub updated_on: DateTime<Utc>,
    #[serde(default)]
    pub created_by: Option<Uuid>,
    #[serde(default)]
    pub updated_by: Option<Uuid>,
}

/// Well-known built-in role GUIDs (all present in [`builtin_roles`]).
pub mod ids {
    use uuid::Uuid;

    pub const OWNER: Uuid = Uuid::from_u128(0x8e3af657_a8ff_443c_a75c_2fe8c4bcb635);
    pub const CONTRIBUTOR: Uuid = Uuid::from_u128(0xb24988ac_6180_42a0_ab88_20f7382dd24c);
    pub const READER: Uuid = Uuid::from_u128(0xacdd72a7_3385_48ef_bd42_f606fba81ae7);
    pub const USER_ACCESS_ADMINISTRATOR: Uuid = Uuid::from_u128(0x18d7d88d_d35e_4fb5_a5c3_7773c20a72d9);
    pub const ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR: Uuid = Uuid::from_u128(0xf58310d9_a9f6_439a_9e8d_f62e7b41a168);
    pub const VIRTUAL_MACHINE_CONTRIBUTOR: Uuid = Uuid::from_u128(0x9980e02c_c2be_4d73_94e8_173b1dc7cf3c);
    pub const VIRTUAL_MACHINE_ADMINISTRATOR_LOGIN: Uuid = Uuid::from_u128(0x1c0163c0_47e6_4577_8991_ea5c82e286e4);
    pub const VIRTUAL_MACHINE_USER_LOGIN: Uuid = Uuid::from_u128(0xfb879df8_f326_4884_b1cf_06f3ad86be52);
    pub const MANAGED_IDENTITY_CONTRIBUTOR: Uuid = Uuid::from_u128(0xe40ec5ca_96e0_45a2_b4ff_59039f2c2b59);
    pub const MANAGED_IDENTITY_OPERATOR: Uuid = Uuid::from_u128(0xf1a07417_d97a_45cb_824c_7a7467783830);
    pub const NETWORK_CONTRIBUTOR: Uuid = Uuid::from_u128(0x4d97b98b_1d4f_4787_a291_c67834d212e7);
    pub const STORAGE_ACCOUNT_CONTRIBUTOR: Uuid = Uuid::from_u128(0x17d1049b_9a84_46fb_8f53_869881c3d3ab);
    pub const STORAGE_BLOB_DATA_CONTRIBUTOR: Uuid = Uuid::from_u128(0xba92f5b4_2d11_453d_a403_e96b0029c9fe);
    pub const STORAGE_BLOB_DATA_OWNER: Uuid = Uuid::from_u128(0xb7e6dc6d_f1e8_4753_8033_0f276bb0955b);
    pub const STORAGE_BLOB_DATA_READER: Uuid = Uuid::from_u128(0x2a2b9908_6ea1_4ae2_8e65_a410df84e7d1);
    pub const KEY_VAULT_SECRETS_OFFICER: Uuid = Uuid::from_u128(0xb86a8fe4_44ce_4948_aee5_eccb2c155cd7);
    pub const KEY_VAULT_SECRETS_USER: Uuid = Uuid::from_u128(0x4633458b_17de_408a_b874_0445c86b69e6);
    pub const KEY_VAULT_ADMINISTRATOR: Uuid = Uuid::from_u128(0x00482a5a_887f_4fb3_b363_3b7fe8e74483);
    pub const KEY_VAULT_READER: Uuid = Uuid::from_u128(0x21090545_7ca7_4776_b22c_e363652d74d2);
    pub const KEY_VAULT_CRYPTO_OFFICER: Uuid = Uuid::from_u128(0x14b46e9e_c2b7_41b4_b07b_48a6ebf60603);
    pub const KEY_VAULT_CRYPTO_USER: Uuid = Uuid::from_u128(0x12338af0_0e69_4776_bea7_57ae8d297424);
    pub const KEY_VAULT_CERTIFICATES_OFFICER: Uuid = Uuid::from_u128(0xa4417e6f_fecd_4de8_b567_7b0420556985);
}

/// Shape of one entry of `builtin_roles.json` (roleType and assignableScopes
/// are the same for every built-in and are filled in here).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BuiltinEntry {
    name: Uuid,
    role_name: String,
    description: String,
    permissions: Vec<Permission>,
}

/// All built-in role definitions Mimic knows, parsed once from
/// `builtin_roles.json` (copied from Azure's published definitions).
pub fn builtin_roles() -> &'static [RoleDefinition] {
    static ROLES: OnceLock<Vec<RoleDefinition>> = OnceLock::new();
    ROLES.get_or_init(|| {
        let entries: Vec<BuiltinEntry> =
            serde_json::from_str(include_str!("builtin_roles.json")).expect("rbac/builtin_roles.json is valid (checked by unit tests)");
        entries
            .into_iter()
            .map(|e| RoleDefinition {
                name: e.name,
                role_name: e.role_name,
                description: e.description,
                role_type: RoleType::BuiltInRole,
                permissions: e.permissions,
                assignable_scopes: vec!["/".to_owned()],
                created_on: None,
                updated_on: None,
                created_by: None,
                updated_by: None,
            })
            .collect()
    })
}

/// The built-in role with this GUID.
pub fn builtin_role(name: Uuid) -> Option<&'static RoleDefinition> {
    builtin_roles().iter().find(|r| r.name == name)
}

/// The built-in role with this `roleName`, compared case-insensitively.
pub fn builtin_role_by_name(role_name: &str) -> Option<&'static RoleDefinition> {
    builtin_roles().iter().find(|r| r.role_name.eq_ignore_ascii_case(role_name))
}

/// Does the role grant the control-plane operation `action`? True if some
/// permission block has a matching `actions` pattern and no matching
/// `notActions` pattern in that same block.
pub fn role_allows(def: &RoleDefinition, action: &str) -> bool {
    def.permissions.iter().any(|p| p.allows(action))
}

/// Does the role grant the data-plane operation `data_action`? Same rule as
/// [`role_allows`] with `dataActions` / `notDataActions`.
pub fn role_allows_data(def: &RoleDefinition, data_action: &str) -> bool {
    def.permissions.iter().any(|p| p.allows_data(data_action))
}

/// May the holder of `assignments` perform control-plane `action` at `scope`?
/// True if any assignment whose scope contains `scope` names a role (resolved
/// through `role`) that allows `action`. Assignments whose role does not
/// resolve grant nothing. Assignment conditions are not evaluated.
///
/// The assignments and the role definitions have independent lifetimes, so
/// `builtin_role` (which returns `&'static`) can be passed directly alongside
/// borrowed, short-lived assignments.
pub fn is_allowed<'a, 'r>(
    action: &str,
    scope: &str,
    assignments: impl IntoIterator<Item = &'a RoleAssignment>,
    role: impl Fn(Uuid) -> Option<&'r RoleDefinition>,
) -> bool {
    assignments.into_iter().any(|a| scope_contains(&a.scope, scope) && role(a.role_definition_id).is_some_and(|d| role_allows(d, action)))
}

/// Data-plane counterpart of [`is_allowed`] (uses `dataActions` / `notDataActions`).
pub fn is_data_allowed<'a, 'r>(
    data_action: &str,
    scope: &str,
    assignments: impl IntoIterator<Item = &'a RoleAssignment>,
    role: impl Fn(Uuid) -> Option<&'r RoleDefinition>,
) -> bool {
    assignments
        .into_iter()
        .any(|a| scope_contains(&a.scope, scope) && role(a.role_definition_id).is_some_and(|d| role_allows_data(d, data_action)))
}

#[cfg(test)]
mod tests {
    //! Table-driven checks of docs/azure-behaviour.md §4 (RBAC): built-in role contents,
    //! wildcard matching, NotActions-as-subtraction, scope inheritance.
    use super::*;

    const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

    fn role(id: Uuid) -> &'static RoleDefinition {
        builtin_role(id).unwrap_or_else(|| panic!("built-in role {id} missing"))
    }

    fn assignment(scope: &str, role: Uuid) -> RoleAssignment {
        let now = Utc::now();
        RoleAssignment {
            name: Uuid::new_v4(),
            scope: scope.to_owned(),
            role_definition_id: role,
            principal_id: Uuid::from_u128(0x42),
            principal_type: "ServicePrincipal".to_owned(),
            description: None,
            condition: None,
            condition_version: None,
            created_on: now,
            updated_on: now,
            created_by: None,
            updated_by: None,
        }
    }

    // §4 "Built-in role definitions": GUID ↔ roleName as Azure publishes them.
    #[test]
    fn builtin_catalogue_guids_and_names() {
        let table: &[(&str, &str)] = &[
            ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
            ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
            ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader"),
            ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"),
            ("f58310d9-a9f6-439a-9e8d-f62e7b41a168", "Role Based Access Control Administrator"),
            ("9980e02c-c2be-4d73-94e8-173b1dc7cf3c", "Virtual Machine Contributor"),
            ("1c0163c0-47e6-4577-8991-ea5c82e286e4", "Virtual Machine Administrator Login"),
            ("fb879df8-f326-4884-b1cf-06f3ad86be52", "Virtual Machine User Login"),
            ("e40ec5ca-96e0-45a2-b4ff-59039f2c2b59", "Managed Identity Contributor"),
            ("f1a07417-d97a-45cb-824c-7a7467783830", "Managed Identity Operator"),
            ("4d97b98b-1d4f-4787-a291-c67834d212e7", "Network Contributor"),
            ("17d1049b-9a84-46fb-8f53-869881c3d3ab", "Storage Account Contributor"),
            ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor"),
            ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner"),
            ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader"),
            ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer"),
            ("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User"),
            ("00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator"),
            ("21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader"),
            ("14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer"),
            ("12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User"),
            ("a4417e6f-fecd-4de8-b567-7b0420556985", "Key Vault Certificates Officer"),
        ];
        assert_eq!(builtin_roles().len(), table.len());
        for (guid, name) in table {
            let id = Uuid::parse_str(guid).unwrap();
            let def = role(id);
            assert_eq!(def.role_name, *name, "{guid}");
            assert_eq!(def.role_type, RoleType::BuiltInRole);
            assert_eq!(def.assignable_scopes, vec!["/".to_owned()]);
            assert!(!def.description.is_empty());
            assert!(!def.permissions.is_empty());
            assert_eq!(builtin_role_by_name(name).map(|d| d.name), Some(id));
            assert_eq!(builtin_role_by_name(&name.to_ascii_uppercase()).map(|d| d.name), Some(id));
        }
        assert!(builtin_role(Uuid::nil()).is_none());
        assert!(builtin_role_by_name("Nope").is_none());
        for c in [
            ids::OWNER,
            ids::CONTRIBUTOR,
            ids::READER,
            ids::USER_ACCESS_ADMINISTRATOR,
            ids::ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR,
            ids::VIRTUAL_MACHINE_CONTRIBUTOR,
            ids::VIRTUAL_MACHINE_ADMINISTRATOR_LOGIN,
            ids::VIRTUAL_MACHINE_USER_LOGIN,
            ids::MANAGED_IDENTITY_CONTRIBUTOR,
            ids::MANAGED_IDENTITY_OPERATOR,
            ids::NETWORK_CONTRIBUTOR,
            ids::STORAGE_ACCOUNT_CONTRIBUTOR,
            ids::STORAGE_BLOB_DATA_CONTRIBUTOR,
            ids::STORAGE_BLOB_DATA_OWNER,
            ids::STORAGE_BLOB_DATA_READER,
            ids::KEY_VAULT_SECRETS_OFFICER,
            ids::KEY_VAULT_SECRETS_USER,
            ids::KEY_VAULT_ADMINISTRATOR,
            ids::KEY_VAULT_READER,
            ids::KEY_VAULT_CRYPTO_OFFICER,
            ids::KEY_VAULT_CRYPTO_USER,
            ids::KEY_VAULT_CERTIFICATES_OFFICER,
        ] {
            role(c);
        }
        assert_eq!(RoleType::BuiltInRole.as_str(), "BuiltInRole");
        assert_eq!(RoleType::CustomRole.as_str(), "CustomRole");
    }

    // §4 "wildcard `*` matches any run of characters … matching is case-insensitive".
    #[test]
    fn action_matches_table() {
        let table: &[(&str, &str, bool)] = &[
            ("*", "Microsoft.Compute/virtualMachines/write", true),
            ("*", "", true),
            ("*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", true),
            ("*/read", "Microsoft.Compute/virtualMachines/write", false),
            ("*/read", "Microsoft.Compute/virtualMachines/readiness", false),
            ("Microsoft.Compute/*", "Microsoft.Compute/virtualMachines/write", true),
            ("Microsoft.Compute/*", "Microsoft.ComputeX/virtualMachines/write", false),
            ("Microsoft.Compute/*", "Microsoft.Network/virtualNetworks/write", false),
            ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true),
            ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/read", false),
            ("Microsoft.Authorization/*/Delete", "microsoft.authorization/roledefinitions/DELETE", true),
            // A whole-segment '*' may also stand for no segment (how Azure
            // evaluates Managed Identity Operator / VM User Login).
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
                true,
            ),
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "microsoft.managedidentity/USERASSIGNEDIDENTITIES/assign/action",
                true,
            ),
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/assign/action",
                true,
            ),
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                false,
            ),
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.ManagedIdentity/userAssignedIdentitiesX/assign/action",
                false,
            ),
            (
                "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.ManagedIdentity/userAssignedIdentities/xassign/action",
                false,
            ),
            ("Microsoft.Compute/virtualMachines/*/read", "Microsoft.Compute/virtualMachines/read", true),
            ("Microsoft.Compute/virtualMachines/*/read", "Microsoft.Compute/virtualMachines/instanceView/read", true),
            ("Microsoft.Compute/virtualMachines/*/read", "Microsoft.Compute/virtualMachines/write", false),
            ("Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/virtualMachines", false),
            ("Microsoft.Compute/virtualMachines/write", "Microsoft.Compute/virtualMachines/write", true),
            ("Microsoft.Compute/virtualMachines/write", "Microsoft.Compute/virtualMachines/writex", false),
            ("Microsoft.Compute/virtualMachines/write", "Microsoft.Compute/virtualMachines/writ", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("a**c", "abc", true),
            ("", "", true),
            ("", "x", false),
        ];
        for (pattern, action, want) in table {
            assert_eq!(action_matches(pattern, action), *want, "{pattern:?} vs {action:?}");
        }
    }

    /// Naive exponential reference for `action_matches`: `*` = any run; a
    /// whole-segment `/*/` may also match a single `/`.
    fn reference(p: &[u8], t: &[u8]) -> bool {
        fn go(p: &[u8], pi: usize, t: &[u8], ti: usize) -> bool {
            if pi == p.len() {
                return ti == t.len();
            }
            if p[pi] == b'*' {
                let mut end = pi;
                while end < p.len() && p[end] == b'*' {
                    end += 1;
                }
                let segment = pi > 0 && p[pi - 1] == b'/' && end < p.len() && p[end] == b'/';
                if segment && go(p, end + 1, t, ti) {
                    return true;
                }
                return (ti..=t.len()).any(|k| go(p, end, t, k));
            }
            ti < t.len() && p[pi].eq_ignore_ascii_case(&t[ti]) && go(p, pi + 1, t, ti + 1)
        }
        go(p, 0, t, 0)
    }

    #[test]
    fn action_matches_agrees_with_reference_exhaustively() {
        fn all(alphabet: &[u8], max: usize) -> Vec<Vec<u8>> {
            let mut out = vec![vec![]];
            let mut frontier = vec![vec![]];
            for _ in 0..max {
                let mut next = Vec::new();
                for w in &frontier {
                    for &c in alphabet {
                        let mut w2: Vec<u8> = w.clone();
                        w2.push(c);
                        next.push(w2);
                    }
                }
                out.extend(next.iter().cloned());
                frontier = next;
            }
            out
        }
        let patterns = all(b"a/*B", 5);
        let texts = all(b"ab/", 6);
        for p in &patterns {
            for t in &texts {
                let (ps, ts) = (std::str::from_utf8(p).unwrap(), std::str::from_utf8(t).unwrap());
                assert_eq!(action_matches(ps, ts), reference(p, t), "{ps:?} vs {ts:?}");
            }
        }
    }

    // §4 built-in role table + "NotActions is not a deny, it subtracts from the same role".
    #[test]
    fn role_allows_table() {
        let table: &[(Uuid, &str, bool)] = &[
            (ids::OWNER, "Microsoft.Compute/virtualMachines/write", true),
            (ids::OWNER, "Microsoft.Authorization/roleAssignments/write", true),
            (ids::OWNER, "Microsoft.Authorization/roleAssignments/delete", true),
            (ids::OWNER, "Anything.At/all/action", true),
            (ids::CONTRIBUTOR, "Microsoft.Compute/virtualMachines/write", true),
            (ids::CONTRIBUTOR, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", true),
            (ids::CONTRIBUTOR, "Microsoft.Authorization/roleAssignments/write", false),
            (ids::CONTRIBUTOR, "Microsoft.Authorization/roleAssignments/delete", false),
            (ids::CONTRIBUTOR, "microsoft.authorization/ROLEASSIGNMENTS/WRITE", false),
            (ids::CONTRIBUTOR, "Microsoft.Authorization/roleDefinitions/write", false),
            (ids::CONTRIBUTOR, "Microsoft.Authorization/elevateAccess/Action", false),
            (ids::CONTRIBUTOR, "Microsoft.Authorization/roleAssignments/read", true),
            (ids::READER, "Microsoft.Resources/subscriptions/resourceGroups/read", true),
            (ids::READER, "Microsoft.Compute/virtualMachines/read", true),
            (ids::READER, "Microsoft.Compute/virtualMachines/write", false),
            (ids::READER, "Microsoft.Resources/subscriptions/resourceGroups/write", false),
            (ids::READER, "Microsoft.Compute/virtualMachines/delete", false),
            (ids::READER, "Microsoft.Authorization/roleAssignments/write", false),
            (ids::USER_ACCESS_ADMINISTRATOR, "Microsoft.Authorization/roleAssignments/write", true),
            (ids::USER_ACCESS_ADMINISTRATOR, "Microsoft.Authorization/roleAssignments/delete", true),
            (ids::USER_ACCESS_ADMINISTRATOR, "Microsoft.Compute/virtualMachines/read", true),
            (ids::USER_ACCESS_ADMINISTRATOR, "Microsoft.Compute/virtualMachines/write", false),
            (ids::ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR, "Microsoft.Authorization/roleAssignments/write", true),
            (ids::ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR, "Microsoft.Authorization/roleDefinitions/write", false),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Compute/virtualMachines/write", true),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Compute/virtualMachines/start/action", true),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Network/networkInterfaces/write", true),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Network/virtualNetworks/subnets/join/action", true),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Network/virtualNetworks/write", false),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", false),
            (ids::VIRTUAL_MACHINE_CONTRIBUTOR, "Microsoft.Authorization/roleAssignments/write", false),
            (ids::MANAGED_IDENTITY_OPERATOR, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", true),
            (ids::MANAGED_IDENTITY_OPERATOR, "Microsoft.ManagedIdentity/userAssignedIdentities/read", true),
            (ids::MANAGED_IDENTITY_OPERATOR, "Microsoft.ManagedIdentity/userAssignedIdentities/write", false),
            (ids::MANAGED_IDENTITY_OPERATOR, "Microsoft.Compute/virtualMachines/write", false),
            (ids::MANAGED_IDENTITY_CONTRIBUTOR, "Microsoft.ManagedIdentity/userAssignedIdentities/write", true),
            (ids::MANAGED_IDENTITY_CONTRIBUTOR, "Microsoft.ManagedIdentity/userAssignedIdentities/delete", true),
            (ids::MANAGED_IDENTITY_CONTRIBUTOR, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", false),
            (ids::NETWORK_CONTRIBUTOR, "Microsoft.Network/virtualNetworks/write", true),
            (ids::NETWORK_CONTRIBUTOR, "Microsoft.Compute/virtualMachines/write", false),
            (ids::STORAGE_ACCOUNT_CONTRIBUTOR, "Microsoft.Storage/storageAccounts/write", true),
            (ids::STORAGE_ACCOUNT_CONTRIBUTOR, "Microsoft.Storage/storageAccounts/listKeys/action", true),
            (ids::VIRTUAL_MACHINE_USER_LOGIN, "Microsoft.Compute/virtualMachines/read", true),
            (ids::VIRTUAL_MACHINE_USER_LOGIN, "Microsoft.Compute/virtualMachines/write", false),
            (ids::KEY_VAULT_SECRETS_USER, "Microsoft.KeyVault/vaults/read", false),
        ];
        for (id, action, want) in table {
            let def = role(*id);
            assert_eq!(role_allows(def, action), *want, "{} / {action}", def.role_name);
        }
    }

    #[test]
    fn role_allows_data_table() {
        let blob_read = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
        let blob_write = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";
        let table: &[(Uuid, &str, bool)] = &[
            (ids::STORAGE_BLOB_DATA_READER, blob_read, true),
            (ids::STORAGE_BLOB_DATA_READER, blob_write, false),
            (ids::STORAGE_BLOB_DATA_CONTRIBUTOR, blob_read, true),
            (ids::STORAGE_BLOB_DATA_CONTRIBUTOR, blob_write, true),
            (ids::STORAGE_BLOB_DATA_OWNER, blob_write, true),
            // Owner's `*` is in `actions`, not `dataActions`: no data access.
            (ids::OWNER, blob_read, false),
            (ids::CONTRIBUTOR, blob_read, false),
            (ids::STORAGE_ACCOUNT_CONTRIBUTOR, blob_read, false),
            (ids::VIRTUAL_MACHINE_USER_LOGIN, "Microsoft.Compute/virtualMachines/login/action", true),
            (ids::VIRTUAL_MACHINE_USER_LOGIN, "Microsoft.Compute/virtualMachines/loginAsAdmin/action", false),
            (ids::VIRTUAL_MACHINE_ADMINISTRATOR_LOGIN, "Microsoft.Compute/virtualMachines/loginAsAdmin/action", true),
            (ids::KEY_VAULT_SECRETS_USER, "Microsoft.KeyVault/vaults/secrets/getSecret/action", true),
            (ids::KEY_VAULT_SECRETS_USER, "Microsoft.KeyVault/vaults/secrets/setSecret/action", false),
            (ids::KEY_VAULT_SECRETS_OFFICER, "Microsoft.KeyVault/vaults/secrets/setSecret/action", true),
            (ids::KEY_VAULT_ADMINISTRATOR, "Microsoft.KeyVault/vaults/secrets/getSecret/action", true),
            (ids::KEY_VAULT_READER, "Microsoft.KeyVault/vaults/secrets/readMetadata/action", true),
            (ids::KEY_VAULT_READER, "Microsoft.KeyVault/vaults/secrets/getSecret/action", false),
            (ids::KEY_VAULT_CRYPTO_USER, "Microsoft.KeyVault/vaults/secrets/getSecret/action", false),
        ];
        for (id, action, want) in table {
            let def = role(*id);
            assert_eq!(role_allows_data(def, action), *want, "{} / {action}", def.role_name);
        }
        // Storage Blob Data Reader has no control-plane write.
        assert!(!role_allows(role(ids::STORAGE_BLOB_DATA_READER), "Microsoft.Storage/storageAccounts/blobServices/containers/write"));
    }

    // NotActions subtract within their own permission block only.
    #[test]
    fn not_actions_are_per_block() {
        let def = RoleDefinition {
            name: Uuid::from_u128(1),
            role_name: "two blocks".into(),
            description: String::new(),
            role_type: RoleType::CustomRole,
            permissions: vec![
                Permission {
                    actions: vec!["*".into()],
                    not_actions: vec!["Microsoft.Authorization/*/Write".into()],
                    ..Permission::default()
                },
                Permission { actions: vec!["Microsoft.Authorization/roleAssignments/write".into()], ..Permission::default() },
            ],
            assignable_scopes: vec![SUB.into()],
            created_on: None,
            updated_on: None,
            created_by: None,
            updated_by: None,
        };
        assert!(role_allows(&def, "Microsoft.Authorization/roleAssignments/write"));
        assert!(!role_allows(&def, "Microsoft.Authorization/roleDefinitions/write"));
        assert!(role_allows(&def, "Microsoft.Compute/virtualMachines/write"));
    }

    // §4 "Scope inheritance: an assignment at scope S applies to S and every child scope".
    #[test]
    fn scope_contains_table() {
        let rg = format!("{SUB}/resourceGroups/rg");
        let rg2 = format!("{SUB}/resourceGroups/rg2");
        let vm = format!("{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1");
        let rg_slash = format!("{rg}/");
        let rg_upper = rg.to_ascii_uppercase();
        let table: Vec<(&str, String, bool)> = vec![
            ("/", SUB.to_owned(), true),
            ("/", vm.clone(), true),
            ("/", "/".to_owned(), true),
            ("", vm.clone(), true),
            (SUB, SUB.to_owned(), true),
            (SUB, rg.clone(), true),
            (SUB, vm.clone(), true),
            (&rg, rg.clone(), true),
            (&rg, vm.clone(), true),
            (&rg, rg2.clone(), false),
            (&rg2, rg.clone(), false),
            (&rg, SUB.to_owned(), false),
            (&vm, rg.clone(), false),
            (&rg, "/".to_owned(), false),
            (SUB, "/subscriptions/00000000-0000-0000-0000-0000000000012".to_owned(), false),
            (SUB, "/subscriptions/00000000-0000-0000-0000-000000000002".to_owned(), false),
            // trailing '/' ignored, either side
            ("/subscriptions/00000000-0000-0000-0000-000000000001/", rg.clone(), true),
            (&rg, format!("{rg}/"), true),
            (&rg_slash, rg2.clone(), false),
            // case-insensitive: resourceGroups vs resourcegroups, GUID case, names
            ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/resourcegroups/RG", vm.clone(), true),
            (&rg, vm.to_ascii_lowercase(), true),
            (&rg_upper, rg2.to_ascii_lowercase(), false),
        ];
        for (parent, child, want) in &table {
            assert_eq!(scope_contains(parent, child), *want, "{parent:?} ⊇ {child:?}");
        }
    }

    #[test]
    fn is_allowed_scenarios() {
        let rg = format!("{SUB}/resourceGroups/rg");
        let rg2_vm = format!("{SUB}/resourceGroups/rg2/providers/Microsoft.Compute/virtualMachines/vm1");
        let vm = format!("{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1");
        let uai = format!("{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1");
        let other_uai = format!("{uai}x");
        let vm_lower = vm.to_ascii_lowercase();
        let vm_write = "Microsoft.Compute/virtualMachines/write";
        let uai_assign = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";
        let ra_write = "Microsoft.Authorization/roleAssignments/write";

        let contributor_on_rg = vec![assignment(&rg, ids::CONTRIBUTOR)];
        let reader_on_sub = vec![assignment(SUB, ids::READER)];
        let vmc_on_rg = vec![assignment(&rg, ids::VIRTUAL_MACHINE_CONTRIBUTOR)];
        let vmc_and_mio = vec![assignment(&rg, ids::VIRTUAL_MACHINE_CONTRIBUTOR), assignment(&uai, ids::MANAGED_IDENTITY_OPERATOR)];
        let contributor_and_uaa = vec![assignment(SUB, ids::CONTRIBUTOR), assignment(&rg, ids::USER_ACCESS_ADMINISTRATOR)];
        let owner_on_sub_lower = vec![assignment(&SUB.to_ascii_uppercase(), ids::OWNER)];
        let unknown_role = vec![assignment(SUB, Uuid::from_u128(7))];

        let table: Vec<(&str, &Vec<RoleAssignment>, &str, &str, bool)> = vec![
            ("inherited from rg", &contributor_on_rg, vm_write, &vm, true),
            ("rg/rg2 prefix trap", &contributor_on_rg, vm_write, &rg2_vm, false),
            ("not upward", &contributor_on_rg, vm_write, SUB, false),
            ("contributor notActions", &contributor_on_rg, ra_write, &vm, false),
            ("reader reads rg", &reader_on_sub, "Microsoft.Resources/subscriptions/resourceGroups/read", &rg, true),
            ("reader no write", &reader_on_sub, vm_write, &vm, false),
            ("vmc writes vm", &vmc_on_rg, vm_write, &vm, true),
            ("vmc cannot assign uai", &vmc_on_rg, uai_assign, &uai, false),
            ("mi operator on uai", &vmc_and_mio, uai_assign, &uai, true),
            ("mi operator not elsewhere", &vmc_and_mio, uai_assign, &other_uai, false),
            ("notActions is not a deny", &contributor_and_uaa, ra_write, &vm, true),
            ("uaa only below its scope", &contributor_and_uaa, ra_write, SUB, false),
            ("case-insensitive scope+action", &owner_on_sub_lower, "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", &vm_lower, true),
            ("unresolved role grants nothing", &unknown_role, "Microsoft.Compute/virtualMachines/read", &vm, false),
        ];
        for (what, assignments, action, scope, want) in table {
            assert_eq!(is_allowed(action, scope, assignments.iter(), builtin_role), want, "{what}");
        }
        assert!(!is_allowed(vm_write, &vm, std::iter::empty(), builtin_role));

        // Data plane: Owner cannot read blobs, Storage Blob Data Reader can.
        let blob_read = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
        let sa = format!("{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa");
        let owner = [assignment(SUB, ids::OWNER)];
        let reader = [assignment(&rg, ids::STORAGE_BLOB_DATA_READER)];
        assert!(!is_data_allowed(blob_read, &sa, owner.iter(), builtin_role));
        assert!(is_data_allowed(blob_read, &sa, reader.iter(), builtin_role));
        assert!(!is_data_allowed(blob_read, &rg2_vm, reader.iter(), builtin_role));
    }

    #[test]
    fn serde_round_trip() {
        let a = assignment(SUB, ids::READER);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["roleDefinitionId"], ids::READER.to_string());
        assert_eq!(json["principalType"], "ServicePrincipal");
        let back: RoleAssignment = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);

        let def = role(ids::CONTRIBUTOR).clone();
        let json = serde_json::to_value(&def).unwrap();
        assert_eq!(json["roleType"], "BuiltInRole");
        assert_eq!(json["permissions"][0]["notActions"][1], "Microsoft.Authorization/*/Write");
        let back: RoleDefinition = serde_json::from_value(json).unwrap();
        assert_eq!(back, def);
    }
}
