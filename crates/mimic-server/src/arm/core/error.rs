//! ARM's error envelope `{"error":{"code","message"}}` with Azure's codes, statuses and texts
//! (FACTS.md §3). Every ARM failure is one of these; nothing else renders ARM errors.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mimic_wire::arm::{ErrorBody, ErrorResponse};

use super::reply::Reply;
use crate::authn::AuthError;

#[derive(Debug)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub target: Option<String>,
    /// `WWW-Authenticate` for 401s.
    pub challenge: Option<String>,
    /// `Retry-After` (seconds) for 429s and 503s.
    pub retry_after: Option<u64>,
}

pub type ArmResult<T> = Result<T, ArmError>;

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ArmError { status, code: code.to_string(), message: message.into(), target: None, challenge: None, retry_after: None }
    }
    /// A body over ARM's 4 MB request limit (Azure/avdaccelerator#632 and
    /// Azure/azure-api-management-devops-resource-kit#594 quote ARM's answer).
    pub fn request_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "RequestContentTooLarge", "The request content size exceeds the maximum size of 4 MB.")
    }

    /// A path with `.` or `..` segments (plain or percent-encoded): it names something other
    /// than what it spells, so ARM never routes nor stores it.
    pub fn dot_segment(path: &str) -> Self {
        Self::bad_request(
            "InvalidRequestUri",
            format!("The request URI '{path}' is not valid: the path segments '.' and '..' are not allowed."),
        )
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn with_target(mut self, target: &str) -> Self {
        self.target = Some(target.to_string());
        self
    }

    pub fn missing_api_version() -> Self {
        Self::bad_request("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
    }

    pub fn invalid_api_version(version: &str, supported: &[&str]) -> Self {
        Self::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{version}' is invalid. The supported versions are '{}'.", supported.join(",")),
        )
    }

    pub fn no_registered_provider(location: &str, version: &str, resource_type: &str, supported: &[&str], locations: &[&str]) -> Self {
        Self::bad_request(
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{location}' and API version '{version}' for type '{resource_type}'. \
                 The supported api-versions are '{}'. The supported locations are '{}'.",
                supported.join(", "),
                locations.join(", ")
            ),
        )
    }

    pub fn subscription_not_found(sub: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "SubscriptionNotFound", format!("The subscription '{sub}' could not be found."))
    }

    pub fn resource_group_not_found(rg: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceGroupNotFound", format!("Resource group '{rg}' could not be found."))
    }

    /// `resource_type` like `Microsoft.Compute/virtualMachines`.
    pub fn resource_not_found(resource_type: &str, name: &str, rg: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource '{resource_type}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    pub fn invalid_request_content(detail: &str) -> Self {
        Self::bad_request("InvalidRequestContent", format!("The request content was invalid and could not be deserialized: '{detail}'."))
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("The content media type '{content_type}' is not supported. Only 'application/json' is supported."),
        )
    }

    /// Azure's 403 for a missing permission (FACTS.md §3).
    pub fn authorization_failed(caller: &str, object_id: &str, action: &str, scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{caller}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' \
                 or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        )
    }

    pub fn not_found_route(path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("The requested resource '{path}' was not found."))
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The HTTP method '{method}' is not supported at scope '{path}'."),
        )
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "An internal error occurred. Please retry the request.")
    }

    pub fn from_auth(e: AuthError, login: &str) -> Self {
        if let AuthError::Unavailable(reason) = e {
            return mimic_store::StoreError::Unavailable(reason).into();
        }
        let (code, message) = match &e {
            AuthError::Missing => ("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.".to_string()),
            AuthError::BadScheme => (
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.".to_string(),
            ),
            AuthError::Invalid(_) => ("InvalidAuthenticationToken", "The access token is invalid.".to_string()),
            AuthError::Expired { exp, now } => (
                "ExpiredAuthenticationToken",
                format!(
                    "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                    fmt_time(*exp),
                    fmt_time(*now)
                ),
            ),
            AuthError::WrongAudience(aud) => (
                "InvalidAuthenticationTokenAudience",
                format!(
                    "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {}.",
                    mimic_domain::cloud::arm_allowed_audiences_text()
                ),
            ),
            AuthError::WrongIssuer | AuthError::Unavailable(_) => ("InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer.".to_string()),
            AuthError::WrongTenant => ("InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer. It must match a tenant associated with this Mimic.".to_string()),
        };
        let mut err = Self::new(StatusCode::UNAUTHORIZED, code, message.clone());
        let description = match e {
            AuthError::Missing => "The authentication failed because of missing 'Authorization' header.".to_string(),
            _ => message.replace('"', "'"),
        };
        err.challenge =
            Some(format!("Bearer authorization_uri=\"{login}/\", error=\"invalid_token\", error_description=\"{description}\""));
        err
    }
}

fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string()).unwrap_or_default()
}

impl From<mimic_store::StoreError> for ArmError {
    fn from(e: mimic_store::StoreError) -> Self {
        match e {
            // Concurrent writers kept winning over this one's re-runs (PostgreSQL store): what
            // ARM answers when a concurrent request changed the resource first.
            mimic_store::StoreError::Conflict => {
                ArmError::new(StatusCode::CONFLICT, "Conflict", "The request failed due to conflict with a concurrent request.".to_string())
            }
            // ARM's answer when a backend is down for a moment: 503 ServiceUnavailable, retry.
            mimic_store::StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "store unavailable");
                let mut err = ArmError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The service is temporarily unavailable. Please retry the request.".to_string(),
                );
                err.retry_after = Some(crate::STORE_RETRY_AFTER_SECS);
                err
            }
            other => ArmError::internal(other),
        }
    }
}

impl ArmError {
    /// ARM's error envelope for this error.
    pub fn envelope(&self) -> ErrorResponse {
        ErrorResponse {
            error: ErrorBody { code: self.code.clone(), message: self.message.clone(), target: self.target.clone(), details: vec![] },
        }
    }

    /// The error as a reply: status, envelope, and its `WWW-Authenticate`/`Retry-After` headers.
    pub fn into_reply(self) -> Reply {
        let mut res = Reply::json(self.status, &self.envelope());
        let h = res.headers_mut();
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::FORBIDDEN || self.status == StatusCode::UNAUTHORIZED {
            h.insert("x-ms-failure-cause", HeaderValue::from_static("gateway"));
        }
        res
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        self.into_reply().into_response()
    }
}
