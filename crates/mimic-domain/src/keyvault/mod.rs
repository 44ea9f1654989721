//! Key Vault's rules, free of HTTP: vault names, and how a vault's own data is authorised
//! (Azure RBAC data actions when `enableRbacAuthorization`, else access policies).
//!
//! Sources: "Key Vault naming" (learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates:
//! 3–24 characters, letters, digits and hyphens, starting with a letter, ending with a letter or
//! digit, no consecutive hyphens); "Azure RBAC for Key Vault data plane operations"
//! (learn.microsoft.com/azure/key-vault/general/rbac-guide); access policies
//! (learn.microsoft.com/azure/key-vault/general/assign-access-policy).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub mod keys;
pub mod objects;
pub mod secrets;

pub use objects::{new_version, valid_object_name, Deletion, ObjectIndex, ObjectRecord, Versioned};
pub use secrets::{SecretRecord, SecretVersion};

pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";
pub const DELETED_VAULT_TYPE: &str = "Microsoft.KeyVault/deletedVaults";
pub const ACCESS_POLICY_TYPE: &str = "Microsoft.KeyVault/vaults/accessPolicies";

/// `softDeleteRetentionInDays` when a vault does not set it, and its bounds ("It accepts >=7 and
/// <=90", keyvault.json `VaultProperties.softDeleteRetentionInDays`).
pub const DEFAULT_RETENTION_DAYS: i64 = 90;
pub const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 7..=90;

/// The vault's data-plane address as ARM reports it (`vaultUri`).
pub fn vault_uri(name: &str) -> String {
    format!("https://{}.vault.azure.net/", name.to_ascii_lowercase())
}

/// The key of a vault name in the global indexes (`KEYVAULT_NAME`, `KEYVAULT_DELETED`).
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// A soft-deleted vault (store kind `KEYVAULT_DELETED`, by the lower-cased name): what a recover
/// brings back (id, location, tags, properties, and the `instance` its data is filed under) and
/// when Azure would purge it on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVault {
    /// The vault's ARM resource id, as created.
    pub resource_id: String,
    pub name: String,
    /// The subscription id, lower-cased (the deleted vault is listed there).
    pub subscription: String,
    pub location: String,
    #[serde(default)]
    pub tags: Map<String, Value>,
    pub properties: Value,
    pub deletion_date: DateTime<Utc>,
    pub scheduled_purge_date: DateTime<Utc>,
    pub instance: Uuid,
}

impl DeletedVault {
    /// Whether purge protection forbids purging it before its scheduled date.
    pub fn purge_protected(&self) -> bool {
        self.properties.get("enablePurgeProtection").and_then(Value::as_bool) == Some(true)
    }

    /// Whether its retention has run out at `now` (Azure purges it then).
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.scheduled_purge_date
    }
}

/// The scheduled purge date of a vault deleted at `deleted` with `retention_days`.
pub fn scheduled_purge(deleted: DateTime<Utc>, retention_days: i64) -> DateTime<Utc> {
    deleted + Duration::days(retention_days)
}

/// The names of a subscription's soft-deleted vaults (store kind `KEYVAULT_DELETED_IN`, by the
/// lower-cased subscription id), for `GET .../deletedVaults`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedVaultIndex {
    #[serde(default)]
    pub names: Vec<String>,
}

impl DeletedVaultIndex {
    pub fn add(&mut self, name_key: &str) {
        self.remove(name_key);
        self.names.push(name_key.to_string());
    }

    pub fn remove(&mut self, name_key: &str) {
        self.names.retain(|n| n != name_key);
    }
}

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

/// The data action Azure RBAC checks for each operation on a vault's objects ("Azure RBAC for
/// Key Vault data plane operations", learn.microsoft.com/azure/key-vault/general/rbac-guide;
/// the Microsoft.KeyVault provider operations list).
pub mod data_actions {
    pub mod secrets {
        pub const GET: &str = "Microsoft.KeyVault/vaults/secrets/getSecret/action";
        pub const SET: &str = "Microsoft.KeyVault/vaults/secrets/setSecret/action";
        pub const READ_METADATA: &str = "Microsoft.KeyVault/vaults/secrets/readMetadata/action";
        pub const UPDATE: &str = "Microsoft.KeyVault/vaults/secrets/update/action";
        pub const DELETE: &str = "Microsoft.KeyVault/vaults/secrets/delete";
        pub const RECOVER: &str = "Microsoft.KeyVault/vaults/secrets/recover/action";
        pub const PURGE: &str = "Microsoft.KeyVault/vaults/secrets/purge/action";
        pub const BACKUP: &str = "Microsoft.KeyVault/vaults/secrets/backup/action";
        pub const RESTORE: &str = "Microsoft.KeyVault/vaults/secrets/restore/action";
    }
    pub mod keys {
        /// List keys, read a key's properties and public material.
        pub const READ: &str = "Microsoft.KeyVault/vaults/keys/read";
        pub const CREATE: &str = "Microsoft.KeyVault/vaults/keys/create/action";
        pub const UPDATE: &str = "Microsoft.KeyVault/vaults/keys/update/action";
        pub const DELETE: &str = "Microsoft.KeyVault/vaults/keys/delete";
        pub const RECOVER: &str = "Microsoft.KeyVault/vaults/keys/recover/action";
        pub const PURGE: &str = "Microsoft.KeyVault/vaults/keys/purge/action";
        pub const BACKUP: &str = "Microsoft.KeyVault/vaults/keys/backup/action";
        pub const RESTORE: &str = "Microsoft.KeyVault/vaults/keys/restore/action";
        pub const SIGN: &str = "Microsoft.KeyVault/vaults/keys/sign/action";
        pub const VERIFY: &str = "Microsoft.KeyVault/vaults/keys/verify/action";
        pub const ENCRYPT: &str = "Microsoft.KeyVault/vaults/keys/encrypt/action";
        pub const DECRYPT: &str = "Microsoft.KeyVault/vaults/keys/decrypt/action";
        pub const WRAP: &str = "Microsoft.KeyVault/vaults/keys/wrap/action";
        pub const UNWRAP: &str = "Microsoft.KeyVault/vaults/keys/unwrap/action";
    }
}

/// Who is calling, as access policies match it.
pub struct PolicyCaller<'a> {
    pub tenant: Uuid,
    pub object_id: Uuid,
    /// The groups the caller belongs to (directly or nested): a policy may name a group.
    pub groups: &'a [Uuid],
    pub app_id: Option<Uuid>,
}

/// Does an access policy let the caller do `permission` (`get`, `list`, `set`, ...) on the
/// vault's `kind` (`secrets`, `keys`, `certificates`)? A policy names an object (user,
/// service principal, group) of the vault's tenant; one with an `applicationId` is a compound
/// identity and applies only when that application calls on the object's behalf. `all` grants
/// every permission; names compare case-insensitively.
pub fn policy_allows(
    policies: &[mimic_wire::keyvault::AccessPolicyEntry],
    caller: &PolicyCaller<'_>,
    kind: &str,
    permission: &str,
) -> bool {
    let is = |s: &str, u: Uuid| s.parse::<Uuid>().ok() == Some(u);
    policies.iter().any(|p| {
        let who = is(&p.object_id, caller.object_id) || caller.groups.iter().any(|g| is(&p.object_id, *g));
        let app = match p.application_id.as_deref().filter(|a| !a.is_empty()) {
            None => true,
            Some(a) => caller.app_id.is_some_and(|id| is(a, id)),
        };
        let list = match kind {
            "secrets" => &p.permissions.secrets,
            "keys" => &p.permissions.keys,
            "certificates" => &p.permissions.certificates,
            _ => &p.permissions.storage,
        };
        is(&p.tenant_id, caller.tenant)
            && who
            && app
            && list.iter().any(|x| x.eq_ignore_ascii_case(permission) || x.eq_ignore_ascii_case("all"))
    })
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
        assert!(valid_object_name("my-Secret-1") && !valid_object_name("a_b") && !valid_object_name(""));
    }

    #[test]
    fn access_policies_match_object_group_and_compound_identity() {
        use mimic_wire::keyvault::{AccessPolicyEntry, Permissions};
        let (t, oid, grp, app) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let entry = |object: Uuid, application: Option<Uuid>, secrets: &[&str]| AccessPolicyEntry {
            tenant_id: t.to_string(),
            object_id: object.to_string(),
            application_id: application.map(|a| a.to_string()),
            permissions: Permissions { secrets: secrets.iter().map(|s| s.to_string()).collect(), ..Default::default() },
        };
        let caller = PolicyCaller { tenant: t, object_id: oid, groups: &[grp], app_id: Some(Uuid::from_u128(9)) };
        assert!(policy_allows(&[entry(oid, None, &["Get", "list"])], &caller, "secrets", "get"));
        assert!(!policy_allows(&[entry(oid, None, &["list"])], &caller, "secrets", "get"));
        assert!(policy_allows(&[entry(grp, None, &["all"])], &caller, "secrets", "set"), "through a group");
        assert!(!policy_allows(&[entry(oid, Some(app), &["get"])], &caller, "secrets", "get"), "compound: another app");
        assert!(!policy_allows(&[entry(oid, None, &["get"])], &caller, "keys", "get"));
        let other_tenant = PolicyCaller { tenant: Uuid::from_u128(7), ..caller };
        assert!(!policy_allows(&[entry(oid, None, &["get"])], &other_tenant, "secrets", "get"));
    }

    #[test]
    fn uris_keys_and_the_deleted_index() {
        assert_eq!(vault_uri("MyVault"), "https://myvault.vault.azure.net/");
        assert_eq!(name_key("MyVault"), "myvault");
        let mut i = DeletedVaultIndex::default();
        i.add("a");
        i.add("b");
        i.add("a");
        assert_eq!(i.names, ["b", "a"]);
        i.remove("b");
        assert_eq!(i.names, ["a"]);
        let t = Utc::now();
        assert_eq!(scheduled_purge(t, 90) - t, Duration::days(90));
    }
}
