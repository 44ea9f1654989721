//! Graph's error envelope and the codes, statuses and texts Microsoft Graph answers with for
//! directory objects. Every Graph failure is a [`GraphError`]; nothing else renders them.
//!
//! Texts are Graph's own, as seen in public reports (cited per constructor). Where no public
//! report was found the text is marked "unverified" and kept in Graph's style.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mimic_wire::graph::{ErrorBody, ErrorDetail, ErrorResponse, InnerError};

use crate::authn::AuthError;

#[derive(Debug)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Vec<(String, String)>,
    /// `WWW-Authenticate` for 401s.
    pub challenge: Option<String>,
}

pub type GraphResult<T> = Result<T, GraphError>;

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        GraphError { status, code: code.to_string(), message: message.into(), details: vec![], challenge: None }
    }

    pub fn with_detail(mut self, target: &str, code: &str) -> Self {
        self.details.push((target.to_string(), code.to_string()));
        self
    }

    /// 404 for an object id, upn or app id that is not in the tenant
    /// (microsoftgraph/microsoft-graph-docs-contrib#6431, msgraph-sdk-dotnet#1793).
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    /// 403 for a caller whose directory roles do not allow the operation
    /// (microsoftgraph/python-sample-auth#12, Azure-Samples/ms-identity-python-daemon#8).
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    }

    /// Graph's generic 400 (`Request_BadRequest`) with a message.
    /// A body over Graph's 4 MB request limit (Graph's words in
    /// microsoftgraph/microsoft-graph-docs#11806).
    pub fn request_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "BadRequest", "The maximum request length supported is 4MB.")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// A `$filter` Graph cannot parse (microsoftgraph/microsoft-graph-docs#3044:
    /// `BadRequest` "Invalid filter clause"; the detail after the colon is OData's parser text).
    pub fn invalid_filter(detail: &str) -> Self {
        let message = if detail.is_empty() { "Invalid filter clause".to_string() } else { format!("Invalid filter clause: {detail}") };
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A query Graph parses but does not serve (microsoftgraph/microsoft-graph-docs-contrib#3157,
    /// #3042: `Request_UnsupportedQuery`).
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// An unknown property in `$select` (microsoftgraph/msgraph-sdk-powershell#2103).
    pub fn unknown_select(property: &str, type_name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Parsing OData Select and Expand failed: Could not find a property named '{property}' on type 'microsoft.graph.{type_name}'."),
        )
    }

    /// An unknown property in a request body: the OData reader's message, which Graph returns as
    /// is (seen for other Graph types, e.g. "The property 'saveToSentItems' does not exist on
    /// type 'microsoft.graph.message'. Make sure to only use property names ...").
    pub fn unknown_property(property: &str, type_name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "The property '{property}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names \
                 that are defined by the type or mark the type as open type."
            ),
        )
    }

    /// A request body that is not the JSON the operation takes.
    pub fn invalid_body(detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Write requests (excluding DELETE) must contain the Content-Type header declaration.".to_string()
        } else {
            detail.to_string()
        };
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A required property missing or of the wrong type on create ("Invalid value specified
    /// for property 'mailNickname' of resource 'User'.").
    pub fn invalid_value(property: &str, resource: &str) -> Self {
        Self::bad_request(format!("Invalid value specified for property '{property}' of resource '{resource}'."))
    }

    /// An id in a path that is neither a GUID nor (for users) a UPN.
    pub fn invalid_object_id(id: &str) -> Self {
        Self::bad_request(format!("Invalid object identifier '{id}'."))
    }

    /// An unknown path segment (Graph's OData router).
    pub fn segment_not_found(segment: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Resource not found for the segment '{segment}'."))
    }

    /// A known path with a method it does not take (unverified text).
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "An internal server error occurred. Please retry the request.")
    }

    /// 401 with Graph's texts for a token Graph refuses.
    pub fn from_auth(e: AuthError, login: &str) -> Self {
        if let AuthError::Unavailable(reason) = e {
            return mimic_store::StoreError::Unavailable(reason).into();
        }
        let message = match e {
            AuthError::Missing => "Access token is empty.",
            AuthError::BadScheme => "Access token validation failure. Invalid authentication scheme.",
            AuthError::Expired { .. } => "Lifetime validation failed, the token is expired.",
            AuthError::WrongAudience(_) => "Access token validation failure. Invalid audience.",
            AuthError::WrongIssuer | AuthError::WrongTenant | AuthError::Unavailable(_) => {
                "Access token validation failure. Invalid issuer."
            }
            AuthError::Invalid(_) => "Access token validation failure.",
        };
        let mut err = Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
        err.challenge = Some(format!(
            "Bearer realm=\"\", authorization_uri=\"{login}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\""
        ));
        err
    }

    /// The response, with the request's ids in `innerError` and the headers Graph sends.
    pub fn render(self, request_id: &str, client_request_id: &str) -> Response {
        let body = ErrorResponse {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                inner_error: InnerError {
                    date: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    request_id: request_id.to_string(),
                    client_request_id: client_request_id.to_string(),
                },
                details: self.details.into_iter().map(|(target, code)| ErrorDetail { target, code }).collect(),
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::STORE_RETRY_AFTER_SECS));
        }
        res
    }
}

impl From<mimic_store::StoreError> for GraphError {
    fn from(e: mimic_store::StoreError) -> Self {
        match e {
            // Graph's 503 (with Retry-After, added in `into_response`), as its error-handling
            // guide documents for a service temporarily unavailable.
            mimic_store::StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "store unavailable");
                GraphError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Retry the request after the time in the Retry-After header.",
                )
            }
            other => GraphError::internal(other),
        }
    }
}
