//! Management locks (locks.json, api-versions 2016-09-01 and 2020-05-01: the same body).

use serde::{Deserialize, Serialize};

/// Body of `PUT {scope}/providers/Microsoft.Authorization/locks/{name}`.
#[derive(Debug, Deserialize)]
pub struct ManagementLockWrite {
    pub properties: Option<ManagementLockWriteProperties>,
}

#[derive(Debug, Deserialize)]
pub struct ManagementLockWriteProperties {
    pub level: Option<String>,
    pub notes: Option<String>,
    pub owners: Option<Vec<ManagementLockOwner>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementLockOwner {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

/// `ManagementLockObject` as ARM returns it.
#[derive(Debug, Serialize)]
pub struct ManagementLock {
    pub properties: ManagementLockProperties,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct ManagementLockProperties {
    pub level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<ManagementLockOwner>,
}
