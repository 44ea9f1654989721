//! Key Vault's rules, free of HTTP: vault names, and how a vault's own data is authorised
//! (Azure RBAC data actions when `enableRbacAuthorization`, else access policies).
//!
//! Sources: "Key Vault naming" (learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates:
//! 3–24 characters, letters, digits and hyphens, starting with a letter, ending with a letter or
//! digit, no consecutive hyphens); "Azure RBAC for Key Vault data plane operations"
//! (learn.microsoft.com/azure/key-vault/general/rbac-guide); access policies
//! (learn.microsoft.com/azure/key-vault/general/assign-access-policy).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// Key Vault's audience: tokens for the data plane carry it, with or without the slash.
pub const AUDIENCE: &str = "https://vault.azure.net";

/// Vault names: 3–24 characters of letters, digits and `-`, a letter first, a letter or digit
/// last, never `--`. Vault names are global (they are DNS names).
pub fn valid_vault_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=24).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !name.contains("--")
}

/// Where a vault name points, stored under the lower-cased name (store kind `KEYVAULT_NAME`):
/// the live vault's ARM resource id, and the instance its data belongs to (a vault recovered
/// from soft delete keeps its instance and so its secrets; a purged name made anew gets a new one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultName {
    pub resource_id: String,
    pub instance: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names() {
        for ok in ["abc", "myKeyVault1", "kv-1-a", "a23456789012345678901234"] {
            assert!(valid_vault_name(ok), "{ok}");
        }
        for bad in ["ab", "1abc", "abc-", "a--b", "a_b", "a23456789012345678901234x", "kv.1"] {
            assert!(!valid_vault_name(bad), "{bad}");
        }
    }
}
