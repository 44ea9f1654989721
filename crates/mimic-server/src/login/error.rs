//! Entra's OAuth2 error body (`error`, `error_description` with the AADSTS code and trace
//! lines, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mimic_domain::federation::external_token::ExternalTokenError;
use uuid::Uuid;

#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    pub message: String,
    pub trace_id: Uuid,
    pub correlation_id: Option<String>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        OAuthError { status, error, code, message: message.into(), trace_id: Uuid::new_v4(), correlation_id: None }
    }

    /// A form over the shared 4 MB body limit. Entra documents no code of its own for it;
    /// AADSTS9002313 is its generic "malformed or invalid" request error.
    pub fn request_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid.")
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub fn tenant_not_found(tenant: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. \
                 Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    /// Ties the error to the request id and the client's correlation id, as Entra does.
    pub fn traced(mut self, trace_id: Uuid, correlation: Option<String>) -> Self {
        self.trace_id = trace_id;
        self.correlation_id = correlation;
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let now = chrono::Utc::now();
        let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let correlation = self.correlation_id.unwrap_or_else(|| Uuid::new_v4().to_string());
        let body = mimic_wire::oauth::OAuthError {
            error: self.error.to_string(),
            error_description: format!(
                "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
                self.code, self.message, self.trace_id, correlation, timestamp
            ),
            error_codes: vec![self.code],
            timestamp,
            trace_id: self.trace_id.to_string(),
            correlation_id: correlation,
            error_uri: Some(format!("https://login.microsoftonline.com/error?code={}", self.code)),
        };
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store, no-cache".parse().expect("static header"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, crate::STORE_RETRY_AFTER_SECS.into());
        }
        res
    }
}

pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": "not_found", "error_description": "The requested endpoint does not exist on the token service."})),
    )
        .into_response()
}

pub(super) fn store_err(e: mimic_store::StoreError) -> OAuthError {
    tracing::error!(error = %e, "store failure in token service");
    // The store down for a moment: the OAuth2 `temporarily_unavailable` with a 503 (and
    // Retry-After, added in `into_response`), which MSAL and azure-identity retry.
    let status = match e {
        mimic_store::StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let error = if status == StatusCode::SERVICE_UNAVAILABLE { "temporarily_unavailable" } else { "server_error" };
    OAuthError::new(status, error, 90033, "A transient error has occurred. Please try again.")
}

pub(super) fn unknown_client(client_id: &str, tenant: &mimic_domain::directory::Tenant) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has \
             not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your \
             authentication request to the wrong tenant.",
            tenant.display_name
        ),
    )
}

pub(super) fn malformed_assertion() -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", 50027, "JWT token is invalid or malformed.")
}

/// Entra's answer to a client assertion (federated or certificate-signed) refused for its form,
/// algorithm or lifetime; `signature` says why no key verified it, which differs between the two.
pub(super) fn assertion_token_error(e: ExternalTokenError, signature: impl FnOnce() -> OAuthError) -> OAuthError {
    match e {
        ExternalTokenError::Malformed => malformed_assertion(),
        ExternalTokenError::Algorithm(alg) => OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            5002738,
            format!("Invalid JWT token. '{alg}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, RS384, RS512, PS256, PS384, PS512'"),
        ),
        ExternalTokenError::Signature => signature(),
        ExternalTokenError::Lifetime { now, nbf, exp } => OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                iso(Some(now)),
                iso(nbf),
                iso(exp)
            ),
        ),
    }
}

fn iso(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default()
}
