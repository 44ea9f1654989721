//! `GET /metadata/endpoints`: the cloud description `az cloud register` and the SDKs read to
//! find the login endpoint, token audiences, Graph and the rest. Open, as in Azure. The
//! document is rendered from the server's one description of its cloud (`mimic_domain::cloud`),
//! which the template function `environment()` renders too.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::state::AppState;

pub fn endpoints(state: &AppState, query: Option<&str>) -> Response {
    let cloud = state.endpoints.cloud();
    let legacy = query.unwrap_or("").contains("api-version=2015-01-01");
    let body = if legacy { cloud.metadata_endpoints_legacy() } else { cloud.metadata_endpoints() };
    (StatusCode::OK, Json(body)).into_response()
}
