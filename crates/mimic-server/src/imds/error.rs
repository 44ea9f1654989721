//! IMDS's error bodies: `{"error","error_description"}` on the identity endpoints, and the
//! instance endpoint's own `{"error":"Bad request. ..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ImdsError {
    pub status: StatusCode,
    pub body: Value,
}

impl ImdsError {
    pub fn bad_request(error: &str, description: &str) -> Self {
        ImdsError { status: StatusCode::BAD_REQUEST, body: json!({"error": error, "error_description": description}) }
    }
    pub fn identity_not_found() -> Self {
        Self::bad_request("invalid_request", "Identity not found")
    }
    pub fn method_not_allowed() -> Self {
        ImdsError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            body: json!({"error": "method_not_allowed", "error_description": "The requested method is not allowed; IMDS accepts GET only."}),
        }
    }
    pub fn instance(status: StatusCode, message: &str) -> Self {
        ImdsError { status, body: json!({ "error": message }) }
    }
    pub fn internal() -> Self {
        ImdsError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: json!({"error": "server_error", "error_description": "An unexpected error occurred; retry."}),
        }
    }
}

impl From<mimic_store::StoreError> for ImdsError {
    fn from(e: mimic_store::StoreError) -> Self {
        tracing::error!(error = %e, "store failure in IMDS");
        ImdsError::internal()
    }
}

impl IntoResponse for ImdsError {
    fn into_response(self) -> Response {
        super::json_response(self.status, self.body.to_string())
    }
}

pub async fn not_found() -> Response {
    ImdsError::instance(StatusCode::NOT_FOUND, "Not found").into_response()
}
