//! The web portal (portal.azure.com): a small Azure-like web app, served from files embedded in
//! the binary, and the server half it needs.
//!
//! * `oidc.rs`: sign-in as an OIDC client of Mimic's own token service (authorization code +
//!   PKCE, as the Azure portal's first-party client), sign-out.
//! * `session.rs`: server-side sessions behind an `HttpOnly; Secure; SameSite=Lax` cookie, kept
//!   in the store (sealed under the cookie) so every replica serves them and restarts keep
//!   them; the browser never sees the tokens.
//! * `bff.rs`: the backend-for-frontend: `/api/arm/...` and `/api/graph/...` forwarded to the ARM
//!   and Graph routers in-process with the signed-in user's bearer token, so every call is
//!   authenticated and authorised (RBAC) exactly like an external client's.
//! * `web/`: the app itself (plain HTML, CSS and ES module; no build step, no external fetches).

mod bff;
mod csrf;
mod oidc;
mod session;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;

use crate::state::SharedState;

/// What the portal's handlers share: the app state and in-process routers of the surfaces it
/// calls on the user's behalf.
pub struct Portal {
    pub state: SharedState,
    pub login: Router,
    pub arm: Router,
    pub graph: Router,
    pub sessions: session::Sessions,
}

pub type PortalState = Arc<Portal>;

/// The audience of the ARM tokens the portal holds for its user.
pub const ARM_AUDIENCE: &str = mimic_domain::cloud::ARM_AUDIENCES[0];

/// `arm` is the server's ARM router (the portal calls it in-process, under its throttle).
pub fn router(state: SharedState, arm: Router) -> Router {
    let portal = Arc::new(Portal {
        login: crate::login::router(state.clone()),
        arm,
        graph: crate::graph::router(state.clone()),
        sessions: session::Sessions::new(state.store.clone()),
        state,
    });
    Router::new()
        .route("/", get(|| async { asset("text/html; charset=utf-8", include_str!("web/index.html")) }))
        .route("/app.js", get(|| async { asset("text/javascript; charset=utf-8", include_str!("web/app.js")) }))
        .route("/app.css", get(|| async { asset("text/css; charset=utf-8", include_str!("web/app.css")) }))
        .route("/signin", get(oidc::signin))
        .route("/signin-oidc", get(oidc::callback))
        .route("/signout", post(oidc::signout))
        .route("/api/me", get(bff::me))
        .route("/api/arm/{*path}", any(bff::arm))
        .route("/api/graph/{*path}", any(bff::graph))
        .with_state(portal)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| crate::http::limit_body(too_large, req, next)))
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("portal", req, next)))
}

/// The portal forwards `/api/graph/...` to Graph and everything else it takes bodies for to
/// ARM, so an oversize body gets the error of the surface it was meant for.
fn too_large(parts: &axum::http::request::Parts) -> Response {
    if parts.uri.path().starts_with("/api/graph/") {
        crate::graph::too_large(parts)
    } else {
        crate::arm::ArmError::request_too_large().into_response()
    }
}

/// An embedded file, with headers that keep the app same-origin only.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    );
    res
}
