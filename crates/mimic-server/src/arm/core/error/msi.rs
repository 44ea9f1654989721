//! Microsoft.ManagedIdentity: user-assigned identities and system-assigned identity lookups.

use axum::http::StatusCode;

use super::ArmError;

impl ArmError {
    /// Name rule of docs/azure-behaviour.md §2 (message [INFERRED]: Azure's exact text was not found).
    pub fn invalid_identity_name(name: &str) -> Self {
        Self::bad_request(
            "InvalidResourceName",
            format!(
                "Resource name '{name}' is invalid. The name can be between 3 and 128 characters long, must start with a letter or number, \
                 and can contain only letters, numbers, underscores (_) and hyphens (-)."
            ),
        )
    }

    /// `GET {scope}/providers/Microsoft.ManagedIdentity/identities/default` of a resource
    /// without a system-assigned identity.
    pub fn system_identity_not_found(scope: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("The system assigned identity of resource '{scope}' was not found."))
    }

    /// A `$orderby` of `listAssociatedResources` other than by name ([INFERRED] wording).
    pub fn invalid_order_by(order_by: &str) -> Self {
        Self::bad_request("InvalidOrderBy", format!("The $orderby '{order_by}' is not supported: use 'name asc' or 'name desc'."))
    }

    /// A `$skip` or `$top` that is not a non-negative integer ([INFERRED] wording).
    pub fn invalid_paging_parameter(name: &str, value: &str) -> Self {
        Self::bad_request("InvalidParameter", format!("The value '{value}' of {name} is not a non-negative integer."))
    }

    /// A federated identity credential Entra's rules refuse (`mimic_domain::federation`); the
    /// messages are Mimic's ([INFERRED]: the resource provider's exact texts were not found).
    pub fn invalid_federated_credential(e: &mimic_domain::federation::CredentialError) -> Self {
        use mimic_domain::federation::CredentialError as E;
        let code = match e {
            E::Name(_) => "InvalidResourceName",
            E::TooMany => "MaxFederatedIdentityCredentialsReached",
            E::Duplicate { .. } => "Conflict",
            _ => "BadRequest",
        };
        Self::bad_request(code, e.to_string())
    }
}
