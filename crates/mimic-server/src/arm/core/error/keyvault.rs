//! Microsoft.KeyVault: vaults, their access policies, soft-deleted vaults. Codes and texts are
//! Azure's as clients print them (docs/azure-behaviour.md §13); statuses are the
//! resource provider's.

use axum::http::StatusCode;

use super::ArmError;

/// Where Azure's soft-delete messages point.
const SOFT_DELETE_LINK: &str = "https://go.microsoft.com/fwlink/?linkid=2149745";

impl ArmError {
    /// A vault name outside Key Vault's rule (3–24 letters, digits, hyphens; a letter first, a
    /// letter or digit last, no `--`). Azure/AI-in-a-Box#104, OfficeDev/microsoft-teams-apps-newemployeeonboarding#28.
    pub fn vault_name_not_valid(name: &str) -> Self {
        Self::bad_request("VaultNameNotValid", vault_name_invalid_message(name))
    }

    /// A vault name taken by a live vault anywhere (any subscription, any tenant) or by a
    /// soft-deleted vault of another subscription. Esri/arcgis-gitops#174 (2025 wording).
    pub fn vault_already_exists(name: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "VaultAlreadyExists", vault_in_use_message(name))
    }

    /// A create naming a vault soft-deleted in the same subscription. Azure/azure-cli#29115.
    pub fn vault_exists_in_deleted_state() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "ConflictError",
            format!(
                "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. \
                 Follow this link {SOFT_DELETE_LINK} for more information on soft delete."
            ),
        )
    }

    /// `createMode: recover` with no soft-deleted vault of that name (in this subscription and
    /// resource group). Wording from a customer log quoted in public Terraform modules.
    pub fn soft_deleted_vault_does_not_exist() -> Self {
        Self::bad_request(
            "SoftDeletedVaultDoesNotExist",
            "A soft deleted vault with the given name does not exist. Ensure that the name for the vault that is being attempted to recover is in a recoverable state.",
        )
    }

    /// A create without `properties.tenantId` (or another tenant than the subscription's).
    /// Wording of Azure's answer to a wrong tenant id (public issue logs); the same for a
    /// missing one [INFERRED].
    pub fn vault_invalid_value(property: &str) -> Self {
        Self::bad_request("BadRequest", format!("An invalid value was provided for '{property}'."))
    }

    /// `enablePurgeProtection: false` once it was true, or on create. Azure/azure-cli#29115.
    pub fn purge_protection_cannot_be_disabled() -> Self {
        Self::bad_request(
            "BadRequest",
            "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
        )
    }

    /// Purging a deleted vault that has purge protection (microsoft/AzureTRE#1446; status [INFERRED]).
    pub fn deleted_vault_purge_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "Operation 'DeletedVaultPurge' is not allowed.")
    }

    /// `GET|POST .../locations/{l}/deletedVaults/{name}` with no such deleted vault (wording [INFERRED]).
    pub fn deleted_vault_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "DeletedVaultNotFound", format!("Deleted vault '{name}' not found."))
    }

    /// `softDeleteRetentionInDays` outside 7–90 (keyvault.json: "It accepts >=7 and <=90"; wording [INFERRED]).
    pub fn vault_retention_out_of_range(days: &str) -> Self {
        Self::bad_request(
            "BadRequest",
            format!("The property \"softDeleteRetentionInDays\" has an invalid value '{days}'. It accepts values between 7 and 90."),
        )
    }

    /// `PUT .../accessPolicies/{kind}` with a kind other than add, replace, remove ([INFERRED]).
    pub fn invalid_access_policy_operation(kind: &str) -> Self {
        Self::bad_request(
            "BadRequest",
            format!("The access policy operation '{kind}' is not valid. It must be one of 'add', 'replace' or 'remove'."),
        )
    }
}

/// The message of `VaultNameNotValid`, also `checkNameAvailability`'s for `AccountNameInvalid`.
pub fn vault_name_invalid_message(name: &str) -> String {
    format!(
        "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, \
         end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742"
    )
}

/// The message of `VaultAlreadyExists`, also `checkNameAvailability`'s for `AlreadyExists`
/// (Test-AzKeyVaultNameAvailability's documented output starts the same).
pub fn vault_in_use_message(name: &str) -> String {
    format!(
        "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. \
         If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted \
         but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need \
         to be purged before reusing the name. For more information about VaultAlreadyExists, soft delete and purging a vault follow \
         this link https://go.microsoft.com/fwlink/?linkid=2147740."
    )
}
