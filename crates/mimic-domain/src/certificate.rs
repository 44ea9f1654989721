//! Certificate credentials of applications (`keyCredentials`) and client assertions signed
//! with their keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A certificate registered on an application (Graph `keyCredential`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub key_id: Uuid,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The certificate, DER, base64 (Graph's `key`).
    pub key: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}
