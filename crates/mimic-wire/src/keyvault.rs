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
