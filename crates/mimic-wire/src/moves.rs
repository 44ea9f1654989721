//! Moving resources between resource groups (resources.json `Resources_MoveResources`,
//! `Resources_ValidateMoveResources`).

use serde::Deserialize;

/// `ResourcesMoveInfo`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesMoveInfo {
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub target_resource_group: Option<String>,
}
