//! Microsoft.Resources/deployments (resources.json 2021-04-01 `DeploymentExtended`,
//! `DeploymentOperation`, `WhatIfOperationResult`; common-types `ErrorDetail`).

use serde::Serialize;
use serde_json::{Map, Value};

/// ARM's one error type and envelope.
pub use crate::arm::{AdditionalInfo, ErrorDetail, ErrorResponse};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    pub properties: DeploymentProperties,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentProperties {
    pub template_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
    pub mode: String,
    pub provisioning_state: String,
    pub timestamp: String,
    pub duration: String,
    pub correlation_id: String,
    pub providers: Vec<Value>,
    pub dependencies: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_resources: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validated_resources: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_error_deployment: Option<OnErrorDeploymentExtended>,
}

/// resources.json `OnErrorDeploymentExtended`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnErrorDeploymentExtended {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOperation {
    pub id: String,
    pub operation_id: String,
    pub properties: Value,
}

/// What `Azure-AsyncOperation` of a deployment reports.
#[derive(Debug, Serialize)]
pub struct OperationStatus {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub value: Vec<T>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfChange {
    pub resource_id: String,
    pub change_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delta: Vec<Value>,
}

#[derive(Debug, Serialize)]
pub struct WhatIfResult {
    pub status: String,
    pub properties: WhatIfProperties,
}

#[derive(Debug, Serialize)]
pub struct WhatIfProperties {
    pub changes: Vec<WhatIfChange>,
}

/// `POST .../exportTemplate`.
#[derive(Debug, Serialize)]
pub struct ExportedTemplate {
    pub template: Value,
}
