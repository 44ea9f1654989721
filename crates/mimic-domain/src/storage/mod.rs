//! Azure Storage's rules, free of HTTP: account and container names, the account's endpoints,
//! and what the ARM provider (`Microsoft.Storage`) and the Blob service share in the store.
//!
//! The contract between them: a live account is a `Resource` of type [`ACCOUNT_TYPE`]; the
//! store document `STORAGE_NAME` under its lower-cased name ([`AccountName`]) points at its
//! resource id and the `instance` its blobs are filed under (a new account of a once-used name
//! gets a new instance); `STORAGE_KEYS` under the instance holds its two access keys sealed
//! under the master key ([`AccountKeys`]). A container is a `Resource` of type
//! [`CONTAINER_TYPE`] at `{account id}/blobServices/default/containers/{name}` whose
//! `properties` read as [`ContainerProperties`], whichever surface made it; its blobs are
//! the store's blob rows under [`container_key`], their bytes chunk rows under [`data_prefix`].
//!
//! Sources: "Storage account name" rules (learn.microsoft.com/azure/storage/common/storage-account-overview#storage-account-name:
//! 3–24 characters, numbers and lower-case letters only, unique within Azure); "Naming and
//! referencing containers, blobs, and metadata" (learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub mod blob;
pub mod shared_key;

pub const ACCOUNT_TYPE: &str = "Microsoft.Storage/storageAccounts";
pub const BLOB_SERVICE_TYPE: &str = "Microsoft.Storage/storageAccounts/blobServices";
pub const CONTAINER_TYPE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers";

/// The host suffix of the Blob service (`{account}.blob.core.windows.net`).
pub const BLOB_HOST_SUFFIX: &str = ".blob.core.windows.net";

/// Storage's token audience (its first-party resource).
pub const AUDIENCE: &str = "https://storage.azure.com/";
/// Azure Storage's first-party application id: tokens may carry it as their audience.
pub const APP_ID: &str = "e406a681-f3d4-42a8-90b6-c2b029497af1";

/// 3–24 characters, lower-case letters and digits only.
pub fn valid_account_name(name: &str) -> bool {
    (3..=24).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The key of an account name in the global index `STORAGE_NAME`.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The account's Blob endpoint as ARM reports it (`primaryEndpoints.blob`).
pub fn blob_endpoint(name: &str) -> String {
    format!("https://{}{BLOB_HOST_SUFFIX}/", name.to_ascii_lowercase())
}

/// Whether `resource` names one account's Blob service (`https://{account}.blob.core.windows.net`),
/// which Entra accepts as Storage's resource as well as [`AUDIENCE`].
pub fn is_account_resource(resource: &str) -> bool {
    let host = resource.strip_prefix("https://").unwrap_or_default().trim_end_matches('/');
    host.strip_suffix(BLOB_HOST_SUFFIX).is_some_and(valid_account_name)
}

/// A container name: 3–63 characters, lower-case letters, digits and hyphens, starting and
/// ending with a letter or digit, no consecutive hyphens; or `$root`, `$web`, `$logs`.
pub fn valid_container_name(name: &str) -> bool {
    if matches!(name, "$root" | "$web" | "$logs") {
        return true;
    }
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !name.contains("--")
}

/// The container resource's id under account `account_id`.
pub fn container_id(account_id: &str, container: &str) -> String {
    format!("{account_id}/blobServices/default/containers/{container}")
}

/// A live account's entry in the global name index (store kind `STORAGE_NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountName {
    pub resource_id: String,
    pub instance: Uuid,
}

/// An account's two access keys (store kind `STORAGE_KEYS`, by instance), each 64 random bytes
/// in base64 as `listKeys` answers them, sealed under the master key for [`key_purpose`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountKeys {
    pub key1: String,
    pub key2: String,
    pub key1_created: DateTime<Utc>,
    pub key2_created: DateTime<Utc>,
}

/// What a sealed key is sealed for: its account instance and its name (`key1`, `key2`).
pub fn key_purpose(instance: Uuid, key_name: &str) -> String {
    format!("storage/keys/{instance}/{key_name}")
}

/// Where an account instance's containers file their blobs: `{instance}/{container}`.
pub fn container_key(instance: Uuid, container: &str) -> String {
    format!("{instance}/{container}")
}

/// The prefix of every chunk row of a container's blobs (`{instance}/{container}/`), or of a
/// whole account instance's (`{instance}/`) when `container` is `None`.
pub fn data_prefix(instance: Uuid, container: Option<&str>) -> String {
    match container {
        Some(c) => format!("{instance}/{c}/"),
        None => format!("{instance}/"),
    }
}

/// A container's `properties` as ARM renders them and the Blob service reads them (one stored
/// form for both surfaces); members Mimic does not model are kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProperties {
    /// `None`, `Container` or `Blob`.
    #[serde(default = "no_public_access")]
    pub public_access: String,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    pub last_modified_time: DateTime<Utc>,
    /// The container's ETag, quoted (`"0x8DC..."`), changed by every write of its properties.
    #[serde(default)]
    pub etag: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn no_public_access() -> String {
    "None".into()
}

impl ContainerProperties {
    pub fn new(now: DateTime<Utc>, public_access: &str, metadata: Map<String, Value>) -> Self {
        let mut extra = Map::new();
        for (k, v) in [
            ("leaseStatus", Value::from("Unlocked")),
            ("leaseState", "Available".into()),
            ("hasImmutabilityPolicy", false.into()),
            ("hasLegalHold", false.into()),
            ("defaultEncryptionScope", "$account-encryption-key".into()),
            ("denyEncryptionScopeOverride", false.into()),
            ("deleted", false.into()),
            ("remainingRetentionDays", 0.into()),
        ] {
            extra.insert(k.into(), v);
        }
        ContainerProperties { public_access: public_access.into(), metadata, last_modified_time: now, etag: etag(now), extra }
    }
}

/// An ETag as Azure Storage writes them: `"0x{hex of .NET ticks}"` (100 ns since 0001-01-01).
pub fn etag(t: DateTime<Utc>) -> String {
    const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
    let ticks = UNIX_EPOCH_TICKS + t.timestamp() * 10_000_000 + i64::from(t.timestamp_subsec_nanos() / 100);
    format!("\"0x{ticks:X}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_follow_azure() {
        for ok in ["abc", "mimicstorage01", "a23456789012345678901234"] {
            assert!(valid_account_name(ok), "{ok}");
        }
        for bad in ["ab", "Abc", "a-b-c", "a_bc", "a234567890123456789012345", "abc.d", ""] {
            assert!(!valid_account_name(bad), "{bad}");
        }
    }

    #[test]
    fn account_urls_are_storage_resources() {
        assert!(is_account_resource("https://mimicstore1.blob.core.windows.net"));
        assert!(is_account_resource("https://mimicstore1.blob.core.windows.net/"));
        assert!(!is_account_resource("https://a.b.blob.core.windows.net"));
        assert!(!is_account_resource("http://mimicstore1.blob.core.windows.net"));
    }

    #[test]
    fn container_names_follow_azure() {
        for ok in ["abc", "my-container", "$root", "$logs", "a1-b2", &"a".repeat(63)] {
            assert!(valid_container_name(ok), "{ok}");
        }
        for bad in ["ab", "-abc", "abc-", "a--b", "ABC", "a_b", "$other", &"a".repeat(64)] {
            assert!(!valid_container_name(bad), "{bad}");
        }
    }

    #[test]
    fn etags_are_net_ticks() {
        let t = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(etag(t), "\"0x8D78E4D8B7C0000\"");
    }
}
