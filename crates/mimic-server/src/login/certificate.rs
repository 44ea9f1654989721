//! Client assertions signed with a certificate registered on the application (`keyCredentials`),
//! and Entra's AADSTS answers when one is refused.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use mimic_domain::certificate::{self, AssertionError, KeyCredential, Thumbprint};
use mimic_domain::federation::external_token::UnverifiedToken;
use uuid::Uuid;

use super::error::{assertion_token_error, malformed_assertion};
use super::OAuthError;

/// Checks a client assertion the app signed itself (`iss` its client id) against its
/// certificates (the application's and its service principal's) and the token endpoint's
/// audiences.
pub(super) fn authenticate(
    app_id: Uuid,
    certificates: &[KeyCredential],
    assertion: &str,
    endpoint_audiences: &[String],
    now: DateTime<Utc>,
) -> Result<(), OAuthError> {
    let token = UnverifiedToken::parse(assertion).map_err(|_| malformed_assertion())?;
    let client_id = app_id.to_string();
    certificate::verify_assertion(certificates, &token, &client_id, endpoint_audiences, now)
        .map(|_| ())
        .map_err(|e| refusal(e, &client_id, &token))
}

fn invalid_client(code: u32, message: String) -> OAuthError {
    OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
}

/// Entra's texts (public error reports quote them; the trailing guidance is abridged).
fn refusal(e: AssertionError, app_id: &str, token: &UnverifiedToken) -> OAuthError {
    let thumbprint = |t: &Thumbprint| format!("Thumbprint of key used by client: '{}', ", t.hex());
    let see_keys = format!(
        "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'. Review the \
         documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and \
         https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as \
         'https://graph.microsoft.com/beta/applications/{app_id}']"
    );
    match e {
        AssertionError::NotRegistered(t) => invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key \
                 was not found., {}{see_keys}",
                t.as_ref().map(thumbprint).unwrap_or_default()
            ),
        ),
        AssertionError::Expired { thumbprint: t, start, end } => invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is expired on application. [Reason - The key used is \
                 expired., {}Found key 'Start={}, End={}', {see_keys}",
                thumbprint(&t),
                start.format("%m/%d/%Y %H:%M:%S"),
                end.format("%m/%d/%Y %H:%M:%S")
            ),
        ),
        AssertionError::Token(e) => assertion_token_error(e, || {
            let t = Thumbprint::of(token).map(|t| thumbprint(&t)).unwrap_or_default();
            invalid_client(
                700027,
                format!(
                    "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected \
                     signature value., {t}{see_keys}"
                ),
            )
        }),
        AssertionError::Subject => invalid_client(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .".into()),
        AssertionError::Audience(_) => invalid_client(700023, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .".into()),
    }
}
