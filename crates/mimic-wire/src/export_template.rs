//! A resource group exported as a template (resources.json `ResourceGroups_ExportTemplate`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::arm::ErrorDetail;

/// `ExportTemplateRequest`: `resources` are ids or `["*"]`; `options` a comma-separated list of
/// `IncludeParameterDefaultValue`, `IncludeComments`, `SkipResourceNameParameterization`,
/// `SkipAllParameterization`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportTemplateRequest {
    #[serde(default)]
    pub resources: Option<Vec<String>>,
    #[serde(default)]
    pub options: Option<String>,
    #[serde(default)]
    pub output_format: Option<String>,
}

/// `ResourceGroupExportResult`.
#[derive(Debug, Serialize)]
pub struct ResourceGroupExportResult {
    pub template: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}
