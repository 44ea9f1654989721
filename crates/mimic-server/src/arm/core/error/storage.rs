//! Microsoft.Storage: storage accounts, their keys and blob containers. Codes and texts are the
//! storage resource provider's as clients print them (docs/azure-behaviour.md "Storage
//! accounts"); where no public source quotes one, the entry says [INFERRED].

use axum::http::StatusCode;

use super::ArmError;

impl ArmError {
    /// A name outside 3–24 lower-case letters and digits (AccountNameInvalid, the message
    /// checkNameAvailability also gives).
    pub fn storage_account_name_invalid(name: &str) -> Self {
        Self::bad_request("AccountNameInvalid", storage_name_invalid_message(name))
    }

    /// The name is used by a live account anywhere (any resource group, subscription or tenant).
    pub fn storage_account_already_taken(name: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "StorageAccountAlreadyTaken", storage_name_taken_message(name))
    }

    /// A request member outside the values storage.json allows (sku name, kind, keyName,
    /// publicAccess) or missing where required. [INFERRED wording of the RP's generic code]
    pub fn storage_invalid_parameter(parameter: &str) -> Self {
        Self::bad_request("InvalidValuesForRequestParameters", format!("Values for request parameters are invalid: {parameter}."))
    }

    /// A managed identity on a storage account: Mimic does not model it (Mimic's wording).
    pub fn storage_identity_not_supported(kind: &str) -> Self {
        Self::bad_request(
            "InvalidValuesForRequestParameters",
            format!(
                "Values for request parameters are invalid: identity.type. Mimic does not support '{kind}' identities on storage accounts."
            ),
        )
    }

    /// A container name outside the Blob service's rule (characters).
    pub fn container_name_invalid_characters() -> Self {
        Self::bad_request("ContainerOperationFailure", "The specified resource name contains invalid characters.")
    }

    /// A container name outside the Blob service's rule (length 3–63).
    pub fn container_name_invalid_length() -> Self {
        Self::bad_request("ContainerOperationFailure", "The specified resource name length is not within the permissible limits.")
    }

    /// Container metadata whose names are not C# identifiers or whose values are not strings.
    pub fn container_metadata_invalid() -> Self {
        Self::bad_request("ContainerOperationFailure", "The metadata specified is invalid. It has characters that are not permitted.")
    }

    /// `publicAccess` Container or Blob on an account with `allowBlobPublicAccess: false`.
    pub fn public_access_not_permitted() -> Self {
        Self::new(StatusCode::CONFLICT, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")
    }

    /// GET, PATCH of a container that does not exist.
    pub fn container_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ContainerNotFound", "The specified container does not exist.")
    }

    /// `blobServices/{name}` other than `default`. [INFERRED]
    pub fn blob_service_name_invalid(name: &str) -> Self {
        Self::bad_request(
            "InvalidValuesForRequestParameters",
            format!("Values for request parameters are invalid: BlobServicesName '{name}'."),
        )
    }

    /// A poll of an async operation Mimic has no record of (or of another subscription).
    pub fn storage_operation_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OperationNotFound", format!("The operation '{id}' could not be found."))
    }
}

/// The message of `AccountNameInvalid`, also checkNameAvailability's.
pub fn storage_name_invalid_message(name: &str) -> String {
    format!(
        "{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
    )
}

/// The message of `StorageAccountAlreadyTaken`, also checkNameAvailability's `AlreadyExists`.
pub fn storage_name_taken_message(name: &str) -> String {
    format!("The storage account named {name} is already taken.")
}
