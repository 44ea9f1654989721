//! The token service (login.microsoftonline.com): OIDC discovery, JWKS, instance discovery,
//! user realm, the sign-in page of the authorization-code flow (`authorize`), and the OAuth2
//! token endpoints (v2.0 and v1).

mod authorize;
mod certificate;
mod discovery;
mod error;
mod federated;
mod tenant;
mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::SharedState;

pub use authorize::escape as authorize_escape;
pub use error::OAuthError;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_configuration_v2))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery::openid_configuration_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
        .route("/{tenant}/discovery/keys", get(discovery::keys))
        .route("/{tenant}/discovery/instance", get(discovery::instance))
        .route("/common/userrealm/{user}", get(discovery::user_realm))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::page).post(authorize::submit))
        .route("/{tenant}/oauth2/authorize", get(authorize::page).post(authorize::submit))
        .route("/{tenant}/oauth2/v2.0/token", post(token::token_v2))
        .route("/{tenant}/oauth2/token", post(token::token_v1))
        .fallback(error::not_found)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| {
            crate::http::limit_body(
                |parts| {
                    let trace = parts.extensions.get::<crate::http::RequestId>().map(|r| r.0).unwrap_or_else(uuid::Uuid::new_v4);
                    let correlation = parts.headers.get("client-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
                    axum::response::IntoResponse::into_response(OAuthError::request_too_large().traced(trace, correlation))
                },
                req,
                next,
            )
        }))
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("login", req, next)))
}
