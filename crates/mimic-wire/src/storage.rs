//! Microsoft.Storage in ARM: the storage account as ARM returns it and the bodies clients send
//! (azure-rest-api-specs specification/storage/resource-manager/Microsoft.Storage/stable/2025-06-01
//! storage.json: `StorageAccount`, `StorageAccountCreateParameters`, `StorageAccountUpdateParameters`,
//! `StorageAccountListKeysResult`, `StorageAccountRegenerateKeyParameters`,
//! `StorageAccountCheckNameAvailabilityParameters`, `CheckNameAvailabilityResult`; blob.json:
//! `BlobContainer`, `BlobServiceProperties`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `StorageAccountCreateParameters` (PUT) and `StorageAccountUpdateParameters` (PATCH): every
/// member optional here, the handler decides what each verb requires.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageAccountWrite {
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub sku: Option<SkuWrite>,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
    #[serde(default)]
    pub identity: Option<Value>,
    #[serde(default)]
    pub properties: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SkuWrite {
    #[serde(default)]
    pub name: Option<String>,
}

/// `Sku` as returned: `{name, tier}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sku {
    pub name: String,
    pub tier: String,
}

/// `StorageAccount` as ARM returns it.
#[derive(Debug, Clone, Serialize)]
pub struct StorageAccount {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind_of_resource: &'static str,
    pub location: String,
    pub tags: Map<String, Value>,
    pub kind: Value,
    pub sku: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
    pub properties: Value,
}

/// One entry of `StorageAccountListKeysResult.keys`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountKey {
    pub creation_time: String,
    pub key_name: &'static str,
    pub value: String,
    pub permissions: &'static str,
}

/// `StorageAccountListKeysResult`.
#[derive(Debug, Clone, Serialize)]
pub struct ListKeysResult {
    pub keys: Vec<AccountKey>,
}

/// `StorageAccountRegenerateKeyParameters`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegenerateKeyParameters {
    #[serde(default)]
    pub key_name: Option<String>,
}

/// `BlobContainer` (PUT and PATCH bodies): only `properties` is read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BlobContainerWrite {
    #[serde(default)]
    pub properties: Option<Value>,
}

/// `BlobServiceProperties` (PUT body): only `properties` is read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BlobServiceWrite {
    #[serde(default)]
    pub properties: Option<Value>,
}

/// `BlobServiceProperties` as returned.
#[derive(Debug, Clone, Serialize)]
pub struct BlobService {
    pub id: String,
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub sku: Value,
    pub properties: Value,
}
