//! Microsoft Graph (graph.microsoft.com) for the directory: `/v1.0/` users, groups,
//! applications, service principals, directory objects and directory roles, with OData query
//! options and Graph's error shape.
//!
//! Every call carries a token for Graph's audience (`https://graph.microsoft.com/`, its app id,
//! or Mimic's own Graph URL, which is what az asks for: the cloud's `microsoftGraphResourceId`).
//! Authorization is Entra's for the directory: directory roles (Global Administrator, ...), held
//! by the bootstrap administrator and service principal from the first start; member users
//! read the directory; other principals get `Authorization_RequestDenied` (see
//! `mimic_domain::directory::directory_allows`).
//!
//! Layout: `mod.rs` authenticates and routes, `ctx.rs` is the request context and the response
//! builders, `odata.rs` the query options, `objects.rs` the JSON of each object type, one module
//! per collection, `error.rs` Graph's errors, `mimic.rs`
//! Mimic's own control calls under `/mimic/` (signing-key rotation).

mod application_properties;
mod applications;
mod consent;
mod credentials;
mod ctx;
mod deleted_items;
mod directory_objects;
mod directory_roles;
mod error;
mod federated_credentials;
mod groups;
mod mimic;
mod objects;
pub mod odata;
mod owners;

mod service_principals;
mod users;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};

use mimic_domain::percent;

use crate::authn;
use crate::http::RequestId;
use crate::state::SharedState;
pub use ctx::Ctx;
pub use error::{GraphError, GraphResult};

pub const AUDIENCES: &[&str] = &["https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"];

pub fn router(state: SharedState) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| crate::http::limit_body(too_large, req, next)))
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("graph", req, next)))
}

/// Kept for callers that render a one-off Graph error without a request context.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    GraphError::new(status, code, message).render(&uuid::Uuid::new_v4().to_string(), &uuid::Uuid::new_v4().to_string())
}

/// Graph's answer to a body over its 4 MB limit, with the ids every Graph error carries.
pub fn too_large(parts: &axum::http::request::Parts) -> Response {
    let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.to_string()).unwrap_or_default();
    let client =
        parts.headers.get("client-request-id").and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or_else(|| request_id.clone());
    GraphError::request_too_large().render(&request_id, &client)
}

async fn handle(
    State(state): State<SharedState>,
    Extension(rid): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = rid.0.to_string();
    let client_request_id = headers
        .get("client-request-id")
        .or_else(|| headers.get("x-ms-client-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let mut res = match prepare(state, method, &uri, headers, body) {
        Ok(ctx) => {
            // Reads take microseconds on the async workers; writes wait for an fsync (and
            // user creation for argon2), so they go to the blocking pool.
            let result = if ctx.method == Method::GET || ctx.method == Method::HEAD {
                dispatch(&ctx)
            } else {
                tokio::task::spawn_blocking(move || dispatch(&ctx)).await.unwrap_or_else(|e| Err(GraphError::internal(e)))
            };
            result.unwrap_or_else(|e| e.render(&request_id, &client_request_id))
        }
        Err(e) => e.render(&request_id, &client_request_id),
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        h.insert("client-request-id", v);
    }
    res
}

fn prepare(state: SharedState, method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> GraphResult<Ctx> {
    let mut audiences: Vec<&str> = AUDIENCES.to_vec();
    audiences.push(&state.endpoints.graph);
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = authn::authenticate(&state, auth, &audiences).map_err(|e| GraphError::from_auth(e, &state.endpoints.login))?;
    let mut segments: Vec<String> =
        uri.path().split('/').filter(|s| !s.is_empty()).map(|s| percent::decode_lossy(s, percent::Plus::Literal)).collect();
    if segments.is_empty() {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", "Invalid version."));
    }
    let version = segments.remove(0);
    // `/mimic/...`: Mimic's own control calls (graph/mimic.rs), outside Graph's versions.
    if version != "v1.0" && version != "beta" && version != "mimic" {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Invalid version: {version}")));
    }
    let query: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    Ctx::new(state, method, version, segments, query, headers, body, caller)
}

/// Splits `servicePrincipals(appId='x')` / `users('x')` into the name and its key.
pub(crate) fn split_key(segment: &str) -> (String, Option<(Option<String>, String)>) {
    let Some(open) = segment.find('(') else { return (segment.to_string(), None) };
    if !segment.ends_with(')') {
        return (segment.to_string(), None);
    }
    let name = segment[..open].to_string();
    let inner = &segment[open + 1..segment.len() - 1];
    let (prop, value) = match inner.split_once('=') {
        Some((p, v)) => (Some(p.trim().to_string()), v.trim()),
        None => (None, inner.trim()),
    };
    let value = value.trim_matches('\'').replace("''", "'");
    (name, Some((prop, value)))
}

fn dispatch(ctx: &Ctx) -> GraphResult<Response> {
    if ctx.version == "mimic" {
        return mimic::route(ctx);
    }
    let Some(first) = ctx.segments.first() else {
        return Err(GraphError::segment_not_found(&ctx.version));
    };
    let (name, key) = split_key(first);
    let rest = &ctx.segments[1..];
    match name.to_ascii_lowercase().as_str() {
        "me" if key.is_none() => users::me(ctx, rest),
        "users" => users::route(ctx, key, rest),
        "groups" => groups::route(ctx, key, rest),
        "serviceprincipals" => service_principals::route(ctx, key, rest),
        "applications" => applications::route(ctx, key, rest),
        "directoryobjects" => directory_objects::route(ctx, key, rest),
        "directoryroles" => directory_roles::directory_roles(ctx, key, rest),
        "rolemanagement" => directory_roles::role_management(ctx, rest),
        "organization" => directory_objects::organization(ctx, rest),
        "directory" if key.is_none() => deleted_items::route(ctx, rest),
        "oauth2permissiongrants" if key.is_none() => consent::grants_route(ctx, rest),
        _ => Err(GraphError::segment_not_found(first)),
    }
}

/// A listener whose surface is not part of this build: it answers every request with a clear
/// error instead of pretending.
pub fn not_built_router(surface: &'static str) -> Router {
    Router::new().fallback(move || async move {
        (StatusCode::NOT_IMPLEMENTED, format!("The Mimic {surface} surface is not available in this version.\n")).into_response()
    })
}
