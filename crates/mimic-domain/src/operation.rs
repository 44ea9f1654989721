//! ARM's asynchronous operations as Mimic records them: the status an `Azure-AsyncOperation`
//! or `Location` poll reports, and the error a failed operation carries (ARM's common
//! `ErrorDetail`: code, message, target, nested details).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What went wrong, as ARM reports it (common-types `ErrorDetail`). Stored with deployments and
/// operations; the server renders it on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<OperationError>,
    /// `{type, info}` entries (a template violation's line and position).
    #[serde(default, rename = "additionalInfo", skip_serializing_if = "Vec::is_empty")]
    pub additional_info: Vec<Value>,
}

impl OperationError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        OperationError { code: code.into(), message: message.into(), ..Default::default() }
    }
}

/// The terminal states of an operation. Mimic applies writes before it answers, so an operation
/// is recorded once it has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationStatus {
    Succeeded,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Succeeded => "Succeeded",
            OperationStatus::Failed => "Failed",
        }
    }
}

/// A finished operation, kept a day for its polls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncOperation {
    /// The subscription it ran in, lower-case: a poll from another subscription finds nothing.
    pub subscription: String,
    pub status: OperationStatus,
    pub start_time: String,
    pub end_time: String,
    #[serde(default)]
    pub error: Option<OperationError>,
}
