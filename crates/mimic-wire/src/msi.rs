//! Microsoft.ManagedIdentity bodies (azure-rest-api-specs specification/msi 2018-11-30 and later, docs/azure-behaviour.md §2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `UserAssignedIdentityProperties` (all read-only).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentityProperties {
    pub tenant_id: String,
    pub principal_id: String,
    pub client_id: String,
    /// Only in the oldest api-version's answers (seed 002 output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_url: Option<String>,
    /// 2024-11-30 and later, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation_scope: Option<String>,
}

/// A user-assigned identity (`Identity`, a tracked resource).
#[derive(Debug, Serialize)]
pub struct UserAssignedIdentity {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: String,
    pub tags: Map<String, Value>,
    pub properties: UserAssignedIdentityProperties,
}

/// Body of `PUT`/`PATCH` on a user-assigned identity (`Identity` / `IdentityUpdate`).
#[derive(Debug, Deserialize)]
pub struct IdentityWrite {
    pub location: Option<String>,
    pub tags: Option<Map<String, Value>>,
    pub properties: Option<Value>,
}

/// `SystemAssignedIdentityProperties`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemAssignedIdentityProperties {
    pub tenant_id: String,
    pub principal_id: String,
    pub client_id: String,
    pub client_secret_url: String,
}

/// `SystemAssignedIdentity` (`GET {scope}/providers/Microsoft.ManagedIdentity/identities/default`).
#[derive(Debug, Serialize)]
pub struct SystemAssignedIdentity {
    pub id: String,
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    pub properties: SystemAssignedIdentityProperties,
}

/// One entry of `POST .../userAssignedIdentities/{name}/listAssociatedResources`
/// (2022-01-31-preview `AzureResource`): the type lower-cased, as Azure Resource Graph answers it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedResource {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub resource_group: String,
    pub subscription_id: String,
    pub subscription_display_name: String,
}

/// The list answer (`AssociatedResourcesListResult`): the count before `$skip`/`$top`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedResources {
    pub total_count: usize,
    pub value: Vec<AssociatedResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}
