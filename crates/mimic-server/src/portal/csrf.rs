//! The portal's CSRF check for state-changing calls (the BFF's and sign-out's).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The `X-Mimic-Portal: 1` header, which a cross-site form or navigation cannot set, and an
/// `Origin`, when sent, that is the portal's own.
pub fn csrf_ok(headers: &HeaderMap, portal: &str) -> bool {
    let origin_ok = headers.get(header::ORIGIN).is_none_or(|o| o.as_bytes() == portal.as_bytes());
    headers.get("x-mimic-portal").map(HeaderValue::as_bytes) == Some(b"1") && origin_ok
}

pub fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(
            json!({"error": {"code": "CsrfCheckFailed", "message": "State-changing portal calls must come from the portal's own pages."}}),
        ),
    )
        .into_response()
}
