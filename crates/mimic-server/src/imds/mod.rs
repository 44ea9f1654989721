//! The Instance Metadata Service (169.254.169.254). Plain HTTP, as in Azure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::state::SharedState;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("imds", req, next)))
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "error_description": "No virtual machine is bound to this IMDS address."}))).into_response()
}
