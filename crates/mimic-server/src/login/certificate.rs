//! Client assertions signed with a certificate registered on the application (`keyCredentials`).

use mimic_domain::directory::Application;

use super::OAuthError;

/// Checks a client assertion the app signed itself (`iss` and `sub` its client id) against
/// the app's certificates and the token endpoint's audiences.
pub(super) fn authenticate(app: &Application, assertion: &str, endpoint_audiences: &[String], now: i64) -> Result<(), OAuthError> {
    let _ = (app, assertion, endpoint_audiences, now);
    Err(OAuthError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid_client", 700027, "Client assertion failed signature validation."))
}
