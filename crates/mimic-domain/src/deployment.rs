//! Template deployments as Mimic records them: the deployment (its request, state, outputs and
//! operations), the per-scope index of deployment names and the list of deployments in
//! progress. The template engine is `template`; ARM binds both in the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::operation::OperationError;

/// `properties.provisioningState` of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisioningState {
    Accepted,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl ProvisioningState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisioningState::Accepted => "Accepted",
            ProvisioningState::Running => "Running",
            ProvisioningState::Succeeded => "Succeeded",
            ProvisioningState::Failed => "Failed",
            ProvisioningState::Canceled => "Canceled",
        }
    }

    /// In progress: it may be cancelled, and blocks a new deployment of the same name.
    pub fn is_active(self) -> bool {
        matches!(self, ProvisioningState::Accepted | ProvisioningState::Running)
    }
}

fn incremental() -> String {
    "Incremental".into()
}

fn zero_duration() -> String {
    "PT0S".into()
}

/// What ARM reports in a deployment's `properties`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentState {
    #[serde(default)]
    pub template_hash: String,
    /// The parameters as evaluated (secure ones blanked).
    #[serde(default)]
    pub parameters: Map<String, Value>,
    #[serde(default = "incremental")]
    pub mode: String,
    pub provisioning_state: ProvisioningState,
    #[serde(default)]
    pub timestamp: String,
    #[serde(default = "zero_duration")]
    pub duration: String,
    #[serde(default)]
    pub correlation_id: String,
    /// `{namespace, resourceTypes: [{resourceType, locations}]}` entries.
    #[serde(default)]
    pub providers: Vec<Value>,
    #[serde(default)]
    pub dependencies: Vec<Value>,
    #[serde(default)]
    pub outputs: Option<Map<String, Value>>,
    #[serde(default)]
    pub output_resources: Option<Vec<Value>>,
    #[serde(default)]
    pub error: Option<OperationError>,
    /// What runs if this deployment fails (`properties.onErrorDeployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error_deployment: Option<OnErrorDeployment>,
}

/// `onErrorDeployment`: on failure, redeploy an earlier successful deployment of the same
/// resource group, in complete mode with its own template and parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OnErrorDeployment {
    /// `LastSuccessful` or `SpecificDeployment`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The deployment to redeploy: given for `SpecificDeployment`, found for `LastSuccessful`
    /// when the rollback runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
    /// The redeployment's state, once it has run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// One deployment, as stored under its resource key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
    /// When it was made: one older than its resource group belongs to a deleted group of the
    /// same name and is not shown.
    pub created: DateTime<Utc>,
    /// The id of its `operationStatuses/{id}` poll; a redeployment gets a new one.
    pub status_id: String,
    /// Set by `POST .../cancel` (on any replica); the runner stops before its next resource.
    #[serde(default)]
    pub cancel_requested: bool,
    /// The template as sent (for `exportTemplate`).
    pub template: Value,
    #[serde(default)]
    pub operations: Vec<DeploymentOperation>,
    pub properties: DeploymentState,
}

impl DeploymentRecord {
    /// False for history of a deleted resource group of the same name (`group_created`: when the
    /// deployment's group was made; `None` at subscription scope).
    pub fn is_current(&self, group_created: Option<DateTime<Utc>>) -> bool {
        group_created.is_none_or(|g| self.created >= g)
    }

    pub fn is_active(&self) -> bool {
        self.properties.provisioning_state.is_active()
    }
}

/// A deployment operation (`GET .../deployments/{d}/operations`): one resource written or
/// deleted, or the outputs evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOperation {
    pub operation_id: String,
    #[serde(flatten)]
    pub properties: OperationProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationProperties {
    /// `Create`, `Delete`, `EvaluateDeploymentOutput`.
    pub provisioning_operation: String,
    pub provisioning_state: String,
    pub timestamp: String,
    pub duration: String,
    pub tracking_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
    /// The HTTP status's name (`OK`, `Created`, `BadRequest`).
    pub status_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_resource: Option<TargetResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<StatusMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub id: String,
    pub resource_type: String,
    pub resource_name: String,
    pub api_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusMessage {
    pub status: String,
    pub error: OperationError,
}

/// The deployments of one scope (resource group or subscription), oldest first: their keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentIndex {
    #[serde(default)]
    pub keys: Vec<String>,
}

impl DeploymentIndex {
    /// Puts `key` last (a redeployment moves to the end).
    pub fn push(&mut self, key: &str) {
        self.remove(key);
        self.keys.push(key.to_string());
    }

    pub fn remove(&mut self, key: &str) {
        self.keys.retain(|k| k != key);
    }
}

/// A deployment in progress and the server running it (its data directory), so a server that
/// stopped mid-deployment can end its own deployments `Failed` at the next start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningDeployment {
    pub key: String,
    pub runner: String,
}

/// Every deployment Accepted or Running, store-wide.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunningDeployments {
    #[serde(default)]
    pub entries: Vec<RunningDeployment>,
}

impl RunningDeployments {
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|e| e.key != key);
    }

    pub fn add(&mut self, key: &str, runner: &str) {
        self.remove(key);
        self.entries.push(RunningDeployment { key: key.to_string(), runner: runner.to_string() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Records written before they were typed read back unchanged.
    #[test]
    fn reads_the_stored_form() {
        let doc = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Resources/deployments/d", "name": "d",
            "location": null, "tags": null, "created": "2026-12-01T10:00:00.123456789+00:00", "statusId": "0858",
            "template": {"resources": []},
            "operations": [{"operationId": "A1", "provisioningOperation": "EvaluateDeploymentOutput", "provisioningState": "Succeeded",
                "timestamp": "t", "duration": "PT0S", "trackingId": "x", "statusCode": "OK"}],
            "properties": {"templateHash": "1", "parameters": {}, "mode": "Incremental", "provisioningState": "Succeeded",
                "timestamp": "t", "duration": "PT1S", "correlationId": "c", "providers": [], "dependencies": [],
                "outputs": null, "outputResources": [], "error": null},
        });
        let r: DeploymentRecord = serde_json::from_value(doc).unwrap();
        assert_eq!(r.properties.provisioning_state, ProvisioningState::Succeeded);
        assert!(!r.is_active() && !r.cancel_requested);
        assert_eq!(r.operations[0].properties.target_resource, None);
        let back = serde_json::to_value(&r.operations[0]).unwrap();
        assert_eq!(back["operationId"], "A1");
        assert!(back.get("targetResource").is_none());
        let group_made_later = "2026-12-02T00:00:00Z".parse().unwrap();
        assert!(!r.is_current(Some(group_made_later)));
        assert!(r.is_current(None));
    }

    #[test]
    fn index_and_running_list_keep_one_entry_per_key() {
        let mut i = DeploymentIndex::default();
        i.push("a");
        i.push("b");
        i.push("a");
        assert_eq!(i.keys, ["b", "a"]);
        let mut r = RunningDeployments::default();
        r.add("a", "x");
        r.add("a", "y");
        assert_eq!(r.entries, [RunningDeployment { key: "a".into(), runner: "y".into() }]);
        r.remove("a");
        assert!(r.entries.is_empty());
    }
}
