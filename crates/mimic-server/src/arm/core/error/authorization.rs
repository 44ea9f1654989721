//! Microsoft.Authorization: role definitions and role assignments (texts as the Authorization
//! RP returns them; the scope mismatch from MicrosoftDocs/azure-docs #17715 and #62786).

use std::fmt::Display;

use axum::http::StatusCode;

use super::ArmError;

impl ArmError {
    pub fn invalid_scope(scope: &str) -> Self {
        Self::bad_request("InvalidScope", format!("The scope '{scope}' is not valid."))
    }

    /// A `$filter` of role definitions or assignments the RP does not support.
    pub fn invalid_filter(filter: &str) -> Self {
        Self::bad_request("InvalidFilter", format!("The filter '{filter}' is not supported."))
    }

    // ---- management locks --------------------------------------------------------------

    /// `GET`/`PUT` of a lock that does not exist at that scope [INFERRED wording].
    pub fn lock_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "LockNotFound", format!("The lock '{name}' could not be found."))
    }

    /// A lock level other than `CanNotDelete` or `ReadOnly` [INFERRED wording].
    pub fn invalid_lock_level(level: &str) -> Self {
        Self::bad_request(
            "InvalidLockLevel",
            format!("The lock level '{level}' is not valid. The supported levels are 'CanNotDelete' and 'ReadOnly'."),
        )
    }

    /// A lock name breaking locks.json's rule [INFERRED wording].
    pub fn invalid_lock_name(name: &str) -> Self {
        Self::bad_request(
            "InvalidLockName",
            format!("The lock name '{name}' is not valid. It can be at most 260 characters and cannot contain <, >, %, &, :, \\, ?, / or control characters."),
        )
    }

    /// Notes longer than locks.json's 512 characters [INFERRED wording].
    pub fn lock_notes_too_long() -> Self {
        Self::bad_request("LockNotesTooLong", "The lock notes can be at most 512 characters.")
    }

    /// A lock outside a subscription (management groups and the tenant root take none).
    pub fn lock_scope_not_supported(scope: &str) -> Self {
        Self::bad_request("InvalidScope", format!("The scope '{scope}' is not valid for a management lock."))
    }

    // ---- role definitions --------------------------------------------------------------

    /// `GET .../roleDefinitions/{id}` of no role: a 404.
    pub fn role_definition_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RoleDefinitionDoesNotExist", Self::role_definition_text(id))
    }

    /// A role assignment naming no role: the same code and text, as a 400.
    pub fn assigned_role_definition_not_found(id: &str) -> Self {
        Self::bad_request("RoleDefinitionDoesNotExist", Self::role_definition_text(id))
    }

    pub fn invalid_role_definition_id(id: &str) -> Self {
        Self::bad_request(
            "InvalidRoleDefinitionId",
            format!("The role definition ID '{id}' is not valid. The role definition ID must be a GUID."),
        )
    }

    pub fn invalid_role_definition(message: &str) -> Self {
        Self::bad_request("InvalidRoleDefinition", message.to_string())
    }

    pub fn built_in_role_not_modifiable() -> Self {
        Self::bad_request("InvalidRoleDefinition", "Built-in role definitions cannot be created, updated or deleted.")
    }

    /// Another role of the directory (or a built-in one) has the name.
    pub fn role_definition_name_exists() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "RoleDefinitionWithSameNameExists",
            "A role definition cannot be updated with a name that already exists.",
        )
    }

    pub fn role_definition_limit_exceeded() -> Self {
        Self::bad_request("RoleDefinitionLimitExceeded", "Role definition limit exceeded. No more role definitions can be created.")
    }

    pub fn role_definition_has_assignments() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "RoleDefinitionHasAssignments",
            "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).",
        )
    }

    fn role_definition_text(id: &str) -> String {
        format!("The specified role definition with ID '{id}' does not exist.")
    }

    // ---- role assignments --------------------------------------------------------------

    pub fn role_assignment_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RoleAssignmentNotFound", format!("The role assignment '{name}' is not found."))
    }

    pub fn invalid_role_assignment_id(name: &str) -> Self {
        Self::bad_request(
            "InvalidRoleAssignmentId",
            format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
        )
    }

    /// A body `scope` other than the URL's (api-version 2015-07-01 clients, templates).
    pub fn role_assignment_scope_mismatch(name: impl Display, body_scope: &str, uri_scope: &str) -> Self {
        Self::bad_request(
            "InvalidCreateRoleAssignmentRequest",
            format!("The request to create role assignment '{name}' is not valid. Role assignment scope '{body_scope}' must match the scope specified on the URI '{uri_scope}'."),
        )
    }

    /// `principal`: as the request gave it, written by Azure without dashes.
    pub fn principal_not_found(principal: &str, tenant: impl Display) -> Self {
        Self::bad_request(
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this \
                 principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role \
                 assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                principal.replace('-', "")
            ),
        )
    }

    pub fn invalid_principal_type(principal_type: &str) -> Self {
        Self::bad_request("InvalidPrincipalType", format!("The principal type '{principal_type}' is not valid."))
    }

    pub fn role_assignment_update_not_permitted() -> Self {
        Self::bad_request(
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        )
    }

    /// The same principal, role and scope under another assignment name.
    pub fn role_assignment_exists() -> Self {
        Self::new(StatusCode::CONFLICT, "RoleAssignmentExists", "The role assignment already exists.")
    }
}
