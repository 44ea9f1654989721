//! The Blob service's errors as Azure Storage answers them: the status, the code in the
//! `x-ms-error-code` header and in an XML body whose message ends with the request id and time
//! ("Status and error codes", "Common REST API error codes", "Blob service error codes",
//! learn.microsoft.com/rest/api/storageservices/).

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use mimic_wire::blob::error_body;
use uuid::Uuid;

pub static ERROR_CODE: HeaderName = HeaderName::from_static("x-ms-error-code");

#[derive(Debug)]
pub struct BlobError {
    pub status: StatusCode,
    pub code: &'static str,
    message: String,
    /// Extra elements of the body (`AuthenticationErrorDetail`, `HeaderName`, `QueryParameterName`, ...).
    details: Vec<(&'static str, String)>,
    /// The bearer challenge of a 401: the authority of the account's tenant.
    challenge: Option<String>,
}

pub type BlobResult<T> = Result<T, BlobError>;

impl BlobError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        BlobError { status, code, message: message.into(), details: vec![], challenge: None }
    }

    fn detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// No credentials on a request that needs them, with the challenge the storage SDKs follow.
    pub fn no_authentication(authority: String) -> Self {
        BlobError {
            challenge: Some(authority),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "NoAuthenticationInformation",
                "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
            )
        }
    }

    /// A bearer token Storage refuses (bad signature, audience, issuer, expiry).
    pub fn invalid_token(authority: String, detail: impl Into<String>) -> Self {
        BlobError {
            challenge: Some(authority),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationInfo",
                "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
            )
            .detail("AuthenticationErrorDetail", detail)
        }
    }

    /// A Shared Key signature that matches no key of the account.
    pub fn signature_mismatch(signature: &str, string_to_sign: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        )
        .detail(
            "AuthenticationErrorDetail",
            format!(
                "The MAC signature found in the HTTP request '{signature}' is not the same as any computed signature. Server used following string to sign: '{string_to_sign}'."
            ),
        )
    }

    pub fn authentication_failed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
        )
        .detail("AuthenticationErrorDetail", detail)
    }

    pub fn key_based_not_permitted() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "KeyBasedAuthenticationNotPermitted",
            "Key based authentication is not permitted on this storage account.",
        )
    }

    pub fn permission_mismatch() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        )
    }

    pub fn public_access_not_permitted() -> Self {
        Self::new(StatusCode::CONFLICT, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")
    }

    pub fn account_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFound", "The specified resource does not exist.")
    }

    pub fn resource_not_found() -> Self {
        Self::account_not_found()
    }

    pub fn container_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ContainerNotFound", "The specified container does not exist.")
    }

    pub fn blob_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "BlobNotFound", "The specified blob does not exist.")
    }

    pub fn container_exists() -> Self {
        Self::new(StatusCode::CONFLICT, "ContainerAlreadyExists", "The specified container already exists.")
    }

    pub fn blob_exists() -> Self {
        Self::new(StatusCode::CONFLICT, "BlobAlreadyExists", "The specified blob already exists.")
    }

    pub fn condition_not_met() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "ConditionNotMet",
            "The condition specified using HTTP conditional header(s) is not met.",
        )
    }

    pub fn invalid_range() -> Self {
        Self::new(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange", "The range specified is invalid for the current size of the resource.")
    }

    pub fn invalid_resource_name() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidResourceName", "The specifed resource name contains invalid characters.")
    }

    pub fn out_of_range_input() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "OutOfRangeInput", "One of the request inputs is out of range.")
    }

    pub fn invalid_uri() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidUri", "The requested URI does not represent any resource on the server.")
    }

    pub fn unsupported_verb() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.")
    }

    pub fn invalid_header(name: &str, value: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.")
            .detail("HeaderName", name)
            .detail("HeaderValue", value)
    }

    pub fn missing_header(name: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.")
            .detail("HeaderName", name)
    }

    pub fn unsupported_header(name: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "UnsupportedHeader", "One of the HTTP headers specified in the request is not supported.")
            .detail("HeaderName", name)
    }

    pub fn invalid_query(name: &str, value: &str, reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid.",
        )
        .detail("QueryParameterName", name)
        .detail("QueryParameterValue", value)
        .detail("Reason", reason)
    }

    pub fn missing_content_length() -> Self {
        Self::new(StatusCode::LENGTH_REQUIRED, "MissingContentLengthHeader", "Content-Length HTTP header is missing")
    }

    pub fn body_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestBodyTooLarge",
            "The request body is too large and exceeds the maximum permissible limit.",
        )
        .detail("MaxLimit", limit.to_string())
    }

    pub fn md5_mismatch(sent: &str, computed: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Md5Mismatch",
            "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
        )
        .detail("UserSpecifiedMd5", sent)
        .detail("ServerCalculatedMd5", computed)
    }

    pub fn invalid_xml() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidXmlDocument", "XML specified is not syntactically valid.")
    }

    pub fn invalid_block_id() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidBlockId", "The specified block ID is invalid. The block ID must be Base64-encoded.")
    }

    pub fn invalid_block_list() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidBlockList", "The specified block list is invalid.")
    }

    pub fn block_count_exceeds_limit() -> Self {
        Self::new(StatusCode::CONFLICT, "BlockCountExceedsLimit", "The uncommitted block count cannot exceed the maximum limit of blocks.")
    }

    pub fn invalid_metadata(code: &'static str) -> Self {
        match code {
            "MetadataTooLarge" => Self::new(
                StatusCode::BAD_REQUEST,
                "MetadataTooLarge",
                "The size of the specified metadata exceeds the maximum size permitted.",
            ),
            _ => Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidMetadata",
                "The metadata specified is invalid. It has characters that are not permitted.",
            ),
        }
    }

    pub fn blob_type_not_supported(kind: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidBlobType",
            format!("Mimic serves block blobs only; x-ms-blob-type {kind} is not served."),
        )
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "The server encountered an internal error. Please retry the request.")
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServerBusy",
            "The server is currently unable to receive requests. Please retry your request.",
        )
    }

    /// The answer, with the request's id and time in the message as Azure writes them.
    pub fn render(self, request_id: Uuid, head: bool) -> Response {
        let now = chrono::Utc::now();
        let time = format!("{}.{:07}Z", now.format("%Y-%m-%dT%H:%M:%S"), now.timestamp_subsec_nanos() / 100);
        let message = format!("{}\nRequestId:{request_id}\nTime:{time}", self.message);
        let details: Vec<(&str, String)> = self.details.iter().map(|(k, v)| (*k, v.clone())).collect();
        let body = if head { String::new() } else { error_body(self.code, &message, &details) };
        let mut r = Response::new(axum::body::Body::from(body));
        *r.status_mut() = self.status;
        let h = r.headers_mut();
        h.insert(&ERROR_CODE, HeaderValue::from_static(self.code));
        if !head {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        }
        if let Some(authority) = self.challenge {
            let v = format!(
                "Bearer authorization_uri={authority}/oauth2/authorize resource_id={}",
                mimic_domain::storage::AUDIENCE.trim_end_matches('/')
            );
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        r
    }
}

impl From<mimic_store::StoreError> for BlobError {
    fn from(e: mimic_store::StoreError) -> Self {
        match e {
            mimic_store::StoreError::Unavailable(_) => BlobError::unavailable(),
            other => {
                tracing::error!(error = %other, "blob store error");
                BlobError::internal()
            }
        }
    }
}
