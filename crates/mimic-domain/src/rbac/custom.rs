//! Custom roles: role definitions a tenant writes (`PUT .../roleDefinitions/{guid}`), checked
//! exactly as built-in ones wherever a role is looked up (ARM's actions, a data plane's
//! `dataActions`).
//!
//! Rules ("Azure custom roles", learn.microsoft.com/azure/role-based-access-control/custom-roles;
//! "Understand role definitions", .../role-definitions#assignablescopes): a custom role belongs to
//! one directory; its name is unique there (built-in names included); `assignableScopes` lists at
//! least one subscription, resource group or resource, never the root `/`; it can be assigned
//! only at or below one of them; a directory holds at most 5,000 custom roles (Mimic: 500, so
//! one directory's roles stay a document of a few megabytes at most).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{builtin_role, builtin_roles, RoleDefinition};
use crate::resource_id::ResourceId;

/// Custom roles per directory: Azure's limit is 5,000; Mimic keeps 500.
pub const MAX_CUSTOM_ROLES: usize = 500;
/// Mimic's bound on one role's pattern lists (all four together), each pattern's length, and its
/// assignable scopes, so a directory's roles stay a bounded document (Azure documents no count).
pub const MAX_PATTERNS: usize = 100;
pub const MAX_PATTERN_CHARS: usize = 256;
/// Permission blocks per role (Azure's roles have one; a few are allowed).
pub const MAX_PERMISSION_BLOCKS: usize = 10;
pub const MAX_ASSIGNABLE_SCOPES: usize = 50;
/// Longest role name and description Mimic keeps.
pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A directory's custom roles (store kind `CUSTOM_ROLES`, by tenant id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRoles {
    #[serde(default)]
    pub roles: Vec<RoleDefinition>,
}

impl CustomRoles {
    pub fn get(&self, id: Uuid) -> Option<&RoleDefinition> {
        self.roles.iter().find(|r| r.name == id)
    }

    /// The role `id`: built-in, or one of this directory's.
    pub fn role(&self, id: Uuid) -> Option<&RoleDefinition> {
        builtin_role(id).or_else(|| self.get(id))
    }

    /// Another role (built-in or custom) of the same name, compared case-insensitively.
    pub fn name_taken(&self, name: &str, except: Uuid) -> bool {
        builtin_roles().iter().chain(&self.roles).any(|r| r.name != except && r.role_name.eq_ignore_ascii_case(name))
    }

    /// Adds or replaces `role`.
    pub fn put(&mut self, role: RoleDefinition) {
        match self.roles.iter_mut().find(|r| r.name == role.name) {
            Some(slot) => *slot = role,
            None => self.roles.push(role),
        }
    }

    pub fn remove(&mut self, id: Uuid) -> Option<RoleDefinition> {
        let i = self.roles.iter().position(|r| r.name == id)?;
        Some(self.roles.remove(i))
    }
}

/// Why a custom role is refused, before any store is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomRoleError {
    #[error("The role name is required and at most {MAX_NAME_CHARS} characters long.")]
    Name,
    #[error("The description is at most {MAX_DESCRIPTION_CHARS} characters long.")]
    Description,
    #[error("A custom role needs at least one assignable scope, at most {MAX_ASSIGNABLE_SCOPES}.")]
    NoAssignableScopes,
    #[error("The assignable scope '{0}' is not valid: a custom role is assignable at subscriptions, resource groups or resources, not the root scope.")]
    AssignableScope(String),
    #[error("A role holds at most {MAX_PERMISSION_BLOCKS} permission blocks and {MAX_PATTERNS} action patterns in Mimic.")]
    TooManyPatterns,
    #[error("The action '{0}' is not valid.")]
    Pattern(String),
}

/// Checks a custom role's own shape (name, description, scopes, patterns).
pub fn validate(role: &RoleDefinition) -> Result<(), CustomRoleError> {
    let name = role.role_name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(CustomRoleError::Name);
    }
    if role.description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(CustomRoleError::Description);
    }
    if role.assignable_scopes.is_empty() || role.assignable_scopes.len() > MAX_ASSIGNABLE_SCOPES {
        return Err(CustomRoleError::NoAssignableScopes);
    }
    for s in &role.assignable_scopes {
        let ok = ResourceId::parse(s).is_ok_and(|id| id.subscription.is_some());
        if !ok {
            return Err(CustomRoleError::AssignableScope(s.clone()));
        }
    }
    let patterns: Vec<&String> = role
        .permissions
        .iter()
        .flat_map(|p| p.actions.iter().chain(&p.not_actions).chain(&p.data_actions).chain(&p.not_data_actions))
        .collect();
    if patterns.len() > MAX_PATTERNS || role.permissions.len() > MAX_PERMISSION_BLOCKS {
        return Err(CustomRoleError::TooManyPatterns);
    }
    if let Some(bad) =
        patterns.iter().find(|p| p.is_empty() || p.len() > MAX_PATTERN_CHARS || p.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(CustomRoleError::Pattern(bad.to_string()));
    }
    Ok(())
}

/// Whether `role` may be assigned at `scope` (at or below one of its assignable scopes).
pub fn assignable_at(role: &RoleDefinition, scope: &str) -> bool {
    role.assignable_scopes.iter().any(|s| super::scope_contains(s, scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{ids, Permission, RoleType};

    fn role(name: &str, scopes: &[&str]) -> RoleDefinition {
        RoleDefinition {
            name: Uuid::new_v4(),
            role_name: name.into(),
            description: String::new(),
            role_type: RoleType::CustomRole,
            permissions: vec![Permission { data_actions: vec!["Microsoft.KeyVault/vaults/secrets/*".into()], ..Default::default() }],
            assignable_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            created_on: None,
            updated_on: None,
            created_by: None,
            updated_by: None,
        }
    }

    #[test]
    fn rules_of_custom_roles() {
        let sub = "/subscriptions/00000000-0000-0000-0000-000000000001";
        let r = role("Secret reader", &[sub]);
        assert_eq!(validate(&r), Ok(()));
        assert_eq!(validate(&role(" ", &[sub])), Err(CustomRoleError::Name));
        assert_eq!(validate(&role("x", &[])), Err(CustomRoleError::NoAssignableScopes));
        assert!(matches!(validate(&role("x", &["/"])), Err(CustomRoleError::AssignableScope(_))));
        let mut many = role("x", &[sub]);
        many.permissions = vec![Permission::default(); MAX_PERMISSION_BLOCKS + 1];
        assert_eq!(validate(&many), Err(CustomRoleError::TooManyPatterns), "empty blocks are bounded too");
        assert!(assignable_at(&r, &format!("{sub}/resourceGroups/rg")));
        assert!(!assignable_at(&r, "/subscriptions/00000000-0000-0000-0000-000000000002"));
        let mut all = CustomRoles::default();
        all.put(r.clone());
        assert!(all.name_taken("SECRET READER", Uuid::new_v4()));
        assert!(!all.name_taken("Secret reader", r.name), "its own name");
        assert!(all.name_taken("Owner", r.name), "built-in names are taken");
        assert_eq!(all.role(r.name), Some(&r));
        assert_eq!(all.role(ids::OWNER).map(|o| o.role_name.as_str()), Some("Owner"));
        assert_eq!(all.remove(r.name), Some(r));
        assert!(all.roles.is_empty());
    }
}
