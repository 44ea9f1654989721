//! Microsoft.KeyVault: the vault as ARM stores and returns it (azure-rest-api-specs
//! specification/keyvault/resource-manager, `Vault`, `VaultProperties`, `AccessPolicyEntry`), and
//! the Key Vault data plane's secret bodies (specification/keyvault/data-plane, `SecretBundle`,
//! `SecretSetParameters`, `DeletedSecretBundle`, `KeyVaultError`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `VaultProperties`, the members the data plane reads; the rest are kept as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultProperties {
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_rbac_authorization: Option<bool>,
    #[serde(default)]
    pub access_policies: Vec<AccessPolicyEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `AccessPolicyEntry`: who (object id, with an application id for a compound identity) may do
/// what with the vault's data.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicyEntry {
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub object_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    #[serde(default)]
    pub permissions: Permissions,
}

/// `Permissions`: lists of operation names (`get`, `list`, `set`, `all`, ...), any casing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage: Vec<String>,
}

/// `SecretAttributes` (times in Unix seconds).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recoverable_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_level: Option<String>,
}

/// `SecretSetParameters`: the body of `PUT /secrets/{name}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSetParameters {
    pub value: Option<String>,
    /// The members a set shares with an update.
    #[serde(flatten)]
    pub properties: SecretUpdateParameters,
}

/// `SecretUpdateParameters`: the body of `PATCH /secrets/{name}/{version}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretUpdateParameters {
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub attributes: Option<SecretAttributes>,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
}

/// `SecretBundle`, and `DeletedSecretBundle` when the deletion members are set. `value` is absent
/// from answers that carry no value (update, recover, list items).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretBundle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub attributes: SecretAttributes,
    pub tags: Map<String, Value>,
    /// Set on deleted objects (`Deleted*Bundle`, `Deleted*Item`).
    #[serde(flatten)]
    pub deletion: DeletionInfo,
}

/// What a deleted object's bundle and list item add: where it is recovered from, when it was
/// deleted and when it is purged (all absent on live objects).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<i64>,
}

/// `SecretListResult` / `DeletedSecretListResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretList {
    pub value: Vec<SecretBundle>,
    #[serde(rename = "nextLink")]
    pub next_link: Option<String>,
}

/// `BackupSecretResult`/`BackupKeyResult` and `SecretRestoreParameters`/`KeyRestoreParameters`
/// (`value`: the base64url backup blob).
#[derive(Debug, Serialize, Deserialize)]
pub struct BackupBlob {
    pub value: String,
}

/// A key's attributes (`KeyAttributes`): a secret's, by the same names.
pub type KeyAttributes = SecretAttributes;

/// A key's public JSON Web Key members, base64url without padding (RSA: `n`, `e`; EC: `crv`,
/// `x`, `y`). Also the stored form of a key version's public half.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// `JsonWebKey` as Key Vault returns it: the public members only.
#[derive(Debug, Serialize)]
pub struct JsonWebKey {
    pub kid: String,
    pub kty: String,
    pub key_ops: Vec<String>,
    #[serde(flatten)]
    pub public: PublicJwk,
}

/// `KeyCreateParameters`: the body of `POST /keys/{name}/create`.
#[derive(Debug, Deserialize)]
pub struct KeyCreateParameters {
    pub kty: Option<String>,
    #[serde(default)]
    pub key_size: Option<u32>,
    #[serde(default)]
    pub public_exponent: Option<u64>,
    #[serde(default)]
    pub key_ops: Option<Vec<String>>,
    #[serde(default)]
    pub attributes: Option<KeyAttributes>,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
    #[serde(default)]
    pub crv: Option<String>,
}

/// `KeyUpdateParameters`: the body of `PATCH /keys/{name}/{version}`.
#[derive(Debug, Deserialize)]
pub struct KeyUpdateParameters {
    #[serde(default)]
    pub key_ops: Option<Vec<String>>,
    #[serde(default)]
    pub attributes: Option<KeyAttributes>,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
}

/// `KeyBundle`, and `DeletedKeyBundle` when the deletion members are set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyBundle {
    pub key: JsonWebKey,
    pub attributes: KeyAttributes,
    pub tags: Map<String, Value>,
    /// Set on deleted objects (`Deleted*Bundle`, `Deleted*Item`).
    #[serde(flatten)]
    pub deletion: DeletionInfo,
}

/// `KeyItem` / `DeletedKeyItem`: a list entry, without the key material.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyItem {
    pub kid: String,
    pub attributes: KeyAttributes,
    pub tags: Map<String, Value>,
    /// Set on deleted objects (`Deleted*Bundle`, `Deleted*Item`).
    #[serde(flatten)]
    pub deletion: DeletionInfo,
}

/// `KeyListResult` / `DeletedKeyListResult`.
#[derive(Debug, Serialize)]
pub struct KeyList {
    pub value: Vec<KeyItem>,
    #[serde(rename = "nextLink")]
    pub next_link: Option<String>,
}

/// `KeyOperationsParameters` (encrypt, decrypt, wrapKey, unwrapKey) and `KeySignParameters`:
/// `alg` and the base64url `value` (plaintext, ciphertext, key or digest).
#[derive(Debug, Deserialize)]
pub struct KeyOperationsParameters {
    pub alg: Option<String>,
    pub value: Option<String>,
}

/// `KeyVerifyParameters`: the digest and the signature to check.
#[derive(Debug, Deserialize)]
pub struct KeyVerifyParameters {
    pub alg: Option<String>,
    pub digest: Option<String>,
    pub value: Option<String>,
}

/// `KeyOperationResult`: the key version used and the base64url result.
#[derive(Debug, Serialize)]
pub struct KeyOperationResult {
    pub kid: String,
    pub value: String,
}

/// `KeyVerifyResult`.
#[derive(Debug, Serialize)]
pub struct KeyVerifyResult {
    pub value: bool,
}

/// `KeyVaultError`: `{"error": {"code", "message", "innererror"?: {"code"}}}`.
#[derive(Debug, Serialize)]
pub struct KeyVaultError {
    pub error: KeyVaultErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct KeyVaultErrorDetail {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub innererror: Option<InnerError>,
}

#[derive(Debug, Serialize)]
pub struct InnerError {
    pub code: &'static str,
}

/// `VaultCreateOrUpdateParameters` (PUT) and `VaultPatchParameters` (PATCH, no location): the
/// envelope typed, `properties` kept as JSON for the provider to check member by member.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultWrite {
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
    #[serde(default)]
    pub properties: Option<Value>,
}

/// `Vault` as ARM returns it: the tracked resource with its `VaultProperties` (as stored).
#[derive(Debug, Clone, Serialize)]
pub struct Vault {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: String,
    pub tags: Map<String, Value>,
    pub properties: Value,
}

/// `VaultAccessPolicyParameters`: the body of `PUT .../accessPolicies/{add|replace|remove}` and
/// its answer (`id`, `name`, `type` are read-only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAccessPolicyParameters {
    #[serde(default, skip_deserializing, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_deserializing, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "type", default, skip_deserializing, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    pub properties: VaultAccessPolicyProperties,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAccessPolicyProperties {
    #[serde(default)]
    pub access_policies: Vec<AccessPolicyEntry>,
}

/// `DeletedVault`.
#[derive(Debug, Clone, Serialize)]
pub struct DeletedVault {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub properties: DeletedVaultProperties,
}

/// `DeletedVaultProperties` (dates as ISO 8601 UTC).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVaultProperties {
    pub vault_id: String,
    pub location: String,
    pub deletion_date: String,
    pub scheduled_purge_date: String,
    pub tags: Map<String, Value>,
    pub purge_protection_enabled: bool,
}
