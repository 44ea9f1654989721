//! Microsoft Graph (graph.microsoft.com) for the directory. Every call is authenticated with
//! a token for Graph's audience; unknown paths answer in Graph's own error shape.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::authn;
use crate::state::SharedState;

pub const AUDIENCES: &[&str] = &["https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"];

pub fn router(state: SharedState) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("graph", req, next)))
}

pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let body = json!({"error": {"code": code, "message": message,
        "innerError": {"date": now, "request-id": uuid::Uuid::new_v4(), "client-request-id": uuid::Uuid::new_v4()}}});
    (status, Json(body)).into_response()
}

async fn handle(State(state): State<SharedState>, uri: Uri, headers: HeaderMap) -> Response {
    let mut audiences: Vec<&str> = AUDIENCES.to_vec();
    audiences.push(&state.endpoints.graph);
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Err(e) = authn::authenticate(&state, auth, &audiences) {
        let message = match e {
            authn::AuthError::Missing => "Access token is empty.",
            authn::AuthError::Expired { .. } => "Lifetime validation failed, the token is expired.",
            authn::AuthError::WrongAudience => "Invalid audience.",
            _ => "Access token validation failure. Invalid audience.",
        };
        let mut r = graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
        r.headers_mut().insert(header::WWW_AUTHENTICATE, format!("Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\"", state.endpoints.login).parse().expect("valid header"));
        return r;
    }
    graph_error(StatusCode::BAD_REQUEST, "BadRequest", &format!("Resource not found for the segment '{}'.", uri.path().rsplit('/').next().unwrap_or("")))
}

/// A listener whose surface is not part of this build: it answers every request with a clear
/// error instead of pretending.
pub fn not_built_router(surface: &'static str) -> Router {
    Router::new().fallback(move || async move {
        (StatusCode::NOT_IMPLEMENTED, format!("The Mimic {surface} surface is not available in this version.\n")).into_response()
    })
}
