//! Azure Resource Manager bodies (resources.json, authorization specs, common-types v2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// ARM's error envelope (common-types `ErrorResponse`): `{"error": ErrorDetail}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

/// ARM's error (common-types `ErrorDetail`): code and message, a `target`, nested `details`
/// and `additionalInfo` (deployments' `TemplateViolation`); empty parts are left out, as Azure
/// leaves them out of simple errors. Every ARM error Mimic renders, top-level or nested, is one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    #[serde(rename = "additionalInfo", default, skip_serializing_if = "Vec::is_empty")]
    pub additional_info: Vec<AdditionalInfo>,
}

impl ErrorDetail {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorDetail { code: code.into(), message: message.into(), ..Default::default() }
    }
}

/// One entry of an error's `additionalInfo` (common-types `ErrorAdditionalInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdditionalInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub info: Value,
}

/// A page of a list (`x-ms-pageable`).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub value: Vec<T>,
    #[serde(rename = "nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: String,
    pub tenant_id: String,
    pub country_code: &'static str,
    pub display_name: String,
    pub domains: Vec<String>,
    pub tenant_category: &'static str,
    pub default_domain: String,
    pub tenant_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPolicies {
    pub location_placement_id: &'static str,
    pub quota_id: &'static str,
    pub spending_limit: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub authorization_source: &'static str,
    pub managed_by_tenants: Vec<Value>,
    pub subscription_id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub state: String,
    pub subscription_policies: SubscriptionPolicies,
}

/// Body of `PUT`/`PATCH` on a resource group.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroupWrite {
    pub location: Option<String>,
    pub tags: Option<Map<String, Value>>,
    pub managed_by: Option<String>,
    pub properties: Option<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningState {
    pub provisioning_state: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    pub properties: ProvisioningState,
}

/// Any tracked resource (docs/ARCHITECTURE.md "Contract"), as ARM renders it.
#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GenericResource {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    /// kind, sku, plan, zones, managedBy, extendedLocation, etag...
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    pub role_name: String,
    #[serde(rename = "type")]
    pub role_type: &'static str,
    pub description: String,
    pub assignable_scopes: Vec<String>,
    pub permissions: Vec<Permission>,
    pub created_on: String,
    pub updated_on: String,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
}

/// Body of `PUT {scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}` (a custom role).
#[derive(Debug, Deserialize)]
pub struct RoleDefinitionCreate {
    #[serde(default)]
    pub name: Option<String>,
    pub properties: RoleDefinitionCreateProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionCreateProperties {
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub role_type: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RoleDefinition {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub properties: RoleDefinitionProperties,
}

/// Body of `PUT .../roleAssignments/{name}` (every api-version az and the SDKs send).
#[derive(Debug, Deserialize)]
pub struct RoleAssignmentCreate {
    pub properties: RoleAssignmentCreateProperties,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentCreateProperties {
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: Option<String>,
    pub description: Option<String>,
    pub condition: Option<String>,
    pub condition_version: Option<String>,
    /// Sent by api-version 2015-07-01 clients; must equal the URL's scope.
    pub scope: Option<String>,
    pub delegated_managed_identity_resource_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    pub role_definition_id: String,
    pub principal_id: String,
    pub principal_type: String,
    pub scope: String,
    pub condition: Option<String>,
    pub condition_version: Option<String>,
    pub created_on: String,
    pub updated_on: String,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    pub delegated_managed_identity_resource_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RoleAssignment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub properties: RoleAssignmentProperties,
}

/// Status resource of an async operation (`Azure-AsyncOperation`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    pub id: String,
    pub name: String,
    pub status: String,
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// A location of `GET /subscriptions/{s}/locations` (subscriptions.json `Location`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub display_name: String,
    pub regional_display_name: String,
    pub metadata: LocationMetadata,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationMetadata {
    pub region_type: &'static str,
    pub region_category: &'static str,
}

/// A resource provider registration (resources.json `Provider`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    pub id: String,
    pub namespace: String,
    pub registration_state: &'static str,
    pub registration_policy: &'static str,
    pub resource_types: Vec<ProviderResourceType>,
}

/// An entry of a provider's operation list (`GET /providers/{namespace}/operations`,
/// common-types v2 `Operation`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderOperation {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_data_action: Option<bool>,
    pub display: ProviderOperationDisplay,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ProviderOperationDisplay {
    pub provider: &'static str,
    pub resource: &'static str,
    pub operation: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderResourceType {
    pub resource_type: String,
    pub locations: Vec<String>,
    pub api_versions: Vec<String>,
    pub capabilities: &'static str,
}

/// A provider's `checkNameAvailability` body (Key Vault's `VaultCheckNameAvailabilityParameters`,
/// Storage's `StorageAccountCheckNameAvailabilityParameters`: the same two members).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckNameAvailabilityParameters {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// Its answer (`CheckNameAvailabilityResult` of both): `reason` (`AccountNameInvalid` |
/// `AlreadyExists`) and `message` only when the name is not available.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckNameAvailabilityResult {
    pub name_available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
