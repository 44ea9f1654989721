//! ARM's error envelope `{"error":{"code","message","target"?,"details"?}}` with Azure's codes,
//! statuses and texts (docs/azure-behaviour.md §3). Every ARM failure is one of these, and every one is made by
//! a named constructor of this module tree — the exact code and message of each error live here,
//! grouped by who answers it in Azure:
//!
//! - `arm`: Resource Manager itself (request shape, api-versions, authentication, authorization,
//!   throttling, routing, locations, async operations, the generic resource store);
//! - `resources`: subscriptions, resource providers and resource groups (Microsoft.Resources);
//! - `deployments`: the deployment engine (Microsoft.Resources/deployments);
//! - `authorization`: role definitions and assignments (Microsoft.Authorization);
//! - `compute`, `network`, `msi`, `keyvault`, `storage`: those resource providers;
//! - `mimic`: Mimic's own provider.
//!
//! Nothing else renders ARM errors; `ArmError::new`, `ArmError::bad_request` and `with_target` are this
//! module's own helpers.

mod arm;
mod authorization;
mod compute;
mod deployments;
pub mod keyvault;
mod mimic;
mod msi;
mod network;
mod resources;
pub mod storage;

pub use deployments::DeniedResource;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mimic_wire::arm::{ErrorDetail, ErrorResponse};

use super::reply::Reply;

#[derive(Debug)]
pub struct ArmError {
    pub status: StatusCode,
    /// The envelope's `error`: code, message, and the `target`, `details` and `additionalInfo`
    /// some errors carry (left out of the JSON when empty, as Azure leaves them out). Boxed: an
    /// `ArmResult` stays small.
    pub error: Box<ErrorDetail>,
    /// `WWW-Authenticate` for 401s.
    pub challenge: Option<String>,
    /// `Retry-After` (seconds) for 429s and 503s.
    pub retry_after: Option<u64>,
}

pub type ArmResult<T> = Result<T, ArmError>;

impl ArmError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ArmError { status, error: Box::new(ErrorDetail::new(code, message)), challenge: None, retry_after: None }
    }

    fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn with_target(mut self, target: impl Into<String>) -> Self {
        self.error.target = Some(target.into());
        self
    }

    /// Nested errors, rendered as the envelope's `details`.
    pub fn with_details(mut self, details: Vec<ErrorDetail>) -> Self {
        self.error.details = details;
        self
    }

    pub fn code(&self) -> &str {
        &self.error.code
    }

    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// The error as a nested detail of another (a deployment's operations and `details`).
    pub fn into_detail(self) -> ErrorDetail {
        *self.error
    }

    /// ARM's error envelope for this error.
    pub fn envelope(&self) -> ErrorResponse {
        ErrorResponse { error: (*self.error).clone() }
    }

    /// The error as a reply: status, envelope, and its `WWW-Authenticate`/`Retry-After` headers.
    pub fn into_reply(self) -> Reply {
        let mut res = Reply::json(self.status, &self.envelope());
        let h = res.headers_mut();
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::FORBIDDEN || self.status == StatusCode::UNAUTHORIZED {
            h.insert("x-ms-failure-cause", HeaderValue::from_static("gateway"));
        }
        res
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        self.into_reply().into_response()
    }
}

impl From<mimic_store::StoreError> for ArmError {
    fn from(e: mimic_store::StoreError) -> Self {
        match e {
            mimic_store::StoreError::Conflict => ArmError::concurrent_conflict(),
            mimic_store::StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "store unavailable");
                ArmError::service_unavailable()
            }
            other => ArmError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(e: &ArmError) -> String {
        serde_json::to_string(&e.envelope()).unwrap()
    }

    #[test]
    fn simple_errors_render_code_and_message_only() {
        let e = ArmError::subscription_not_found("s1");
        assert_eq!(body(&e), r#"{"error":{"code":"SubscriptionNotFound","message":"The subscription 's1' could not be found."}}"#);
    }

    #[test]
    fn a_resource_providers_target_follows_the_message_and_details_nest() {
        let e = ArmError::property_change_not_allowed("computerName").with_details(vec![ErrorDetail::new("Inner", "inner text")]);
        assert_eq!(
            body(&e),
            r#"{"error":{"code":"PropertyChangeNotAllowed","message":"Changing property 'osProfile.computerName' is not allowed.","target":"osProfile.computerName","details":[{"code":"Inner","message":"inner text"}]}}"#
        );
    }

    #[test]
    fn a_deployment_error_names_its_target() {
        let d = ArmError::deployment_failed("/subscriptions/s/deployments/d", vec![]);
        let text = serde_json::to_string(&d).unwrap();
        assert!(text.starts_with(r#"{"code":"DeploymentFailed","message":"At least one"#), "{text}");
        assert!(text.ends_with(r#","target":"/subscriptions/s/deployments/d"}"#), "{text}");
        // And it reads back (stored deployments) as it was written.
        let back: ErrorDetail = serde_json::from_value(json!({"code": "C", "target": "T", "message": "M"})).unwrap();
        assert_eq!((back.code.as_str(), back.target.as_deref(), back.message.as_str()), ("C", Some("T"), "M"));
    }
}
