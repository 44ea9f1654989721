//! Secrets: a version's attributes (its value is stored apart, sealed) and the value's limit.

use serde::{Deserialize, Serialize};

use super::objects::{Lifetime, ObjectRecord, Versioned};

/// Key Vault's size limit of a secret value: 25 KB ("Azure Key Vault service limits").
pub const MAX_SECRET_VALUE_BYTES: usize = 25 * 1024;

/// One version of a secret, without its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVersion {
    /// 32 lower-case hex digits.
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(flatten)]
    pub life: Lifetime,
    #[serde(default)]
    pub tags: serde_json::Map<String, serde_json::Value>,
}

impl Versioned for SecretVersion {
    fn version(&self) -> &str {
        &self.version
    }
}

/// A secret and its versions (store kind `KEYVAULT_SECRET`).
pub type SecretRecord = ObjectRecord<SecretVersion>;
