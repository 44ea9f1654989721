//! Key Vault's errors: `{"error": {"code", "message", "innererror"?: {"code"}}}` with Key
//! Vault's codes and texts, and the bearer challenge on every 401 (docs/azure-behaviour.md §13).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mimic_wire::keyvault::{InnerError, KeyVaultError, KeyVaultErrorDetail};

#[derive(Debug)]
pub struct KvError {
    status: StatusCode,
    code: &'static str,
    message: String,
    inner: Option<&'static str>,
    /// `authorization="{login}/{tenant}"` of a 401's challenge.
    challenge: Option<String>,
}

pub type KvResult<T> = Result<T, KvError>;

impl KvError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        KvError { status, code, message: message.into(), inner: None, challenge: None }
    }

    fn inner(mut self, code: &'static str) -> Self {
        self.inner = Some(code);
        self
    }

    /// 401 with the challenge azure-keyvault's policy answers: the vault's tenant authority
    /// and Key Vault's resource.
    pub fn unauthorized(message: impl Into<String>, authority: String) -> Self {
        KvError { challenge: Some(authority), ..Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message) }
    }

    pub fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadParameter", message)
    }

    pub fn missing_api_version() -> Self {
        Self::bad_parameter("The request is missing the required api-version query parameter.")
    }

    pub fn invalid_name(name: &str) -> Self {
        Self::bad_parameter(format!(
            "The request URI contains an invalid name: {name}. Names may only contain alphanumeric characters and dashes and be at most 127 characters long."
        ))
    }

    pub fn value_too_large() -> Self {
        Self::bad_parameter(format!("The secret value is larger than {} bytes.", mimic_domain::keyvault::secrets::MAX_SECRET_VALUE_BYTES))
    }

    pub fn tags_too_large() -> Self {
        Self::bad_parameter(format!(
            "An object holds at most {} tags, each name and value a string of at most {} characters, and a content type of at most {} characters.",
            mimic_domain::keyvault::objects::MAX_TAGS,
            mimic_domain::keyvault::objects::MAX_TAG_CHARS,
            mimic_domain::keyvault::objects::MAX_CONTENT_TYPE_CHARS
        ))
    }

    pub fn not_found_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "The requested operation is not supported by this vault.")
    }

    pub fn vault_not_found(vault: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "VaultNotFound", format!("No key vault named '{vault}' exists."))
    }

    pub fn new_not_found(code: &'static str, message: String) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// `SecretNotFound` / `KeyNotFound` for a live object (or version) that does not exist.
    pub fn object_not_found(code: &'static str, title: &str, name: &str) -> Self {
        let noun = title.to_ascii_lowercase();
        Self::new_not_found(
            code,
            format!(
                "A {noun} with (name/id) {name} was not found in this key vault. If you recently deleted this {noun} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
        )
    }

    pub fn deleted_but_recoverable(title: &str, name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "{title} {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the {} can only be recovered or purged.",
                title.to_ascii_lowercase()
            ),
        )
        .inner("ObjectIsDeletedButRecoverable")
    }

    /// A restore whose name is taken in the vault (live or deleted).
    pub fn already_exists(title: &str, name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("{title} {name} already exists in this vault; a backup restores only into a free name."),
        )
    }

    pub fn disabled(title: &str, op: &str) -> Self {
        let code = if title == "Key" { "KeyDisabled" } else { "SecretDisabled" };
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("Operation {op} is not allowed on a disabled {}.", title.to_ascii_lowercase()),
        )
        .inner(code)
    }

    /// The key's `key_ops` do not list the operation.
    pub fn key_operation_forbidden(op: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", format!("Operation {op} is not permitted on this key."))
            .inner("KeyOperationForbidden")
    }

    /// Key Vault's throttling answer ("Azure Key Vault throttling guidance"): the SDKs retry
    /// after `Retry-After`.
    pub fn throttled(reason: &str) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Throttled",
            format!("Request was not processed because too many requests were received. Reason: {reason}"),
        )
    }

    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadParameter", message)
    }

    /// Azure RBAC refused the data action (the vault uses the RBAC permission model).
    pub fn forbidden_by_rbac(caller: &str, action: &str, resource: &str, vault: &str, location: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {caller}\r\nAction: '{action}'\r\nResource: '{}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: {vault};location={location}\r\n",
                resource.to_ascii_lowercase()
            ),
        )
        .inner("ForbiddenByRbac")
    }

    /// No access policy grants the permission (the vault uses the access-policy model).
    pub fn forbidden_by_policy(caller: &str, kind: &str, permission: &str, vault: &str, location: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "The user, group or application '{caller}' does not have {kind} {permission} permission on key vault '{vault};location={location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
            ),
        )
        .inner("AccessDenied")
    }

    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The service is temporarily unavailable. Please retry.")
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "The server encountered an internal error. Please retry.")
    }
}

impl From<mimic_store::StoreError> for KvError {
    fn from(e: mimic_store::StoreError) -> Self {
        match e {
            mimic_store::StoreError::Unavailable(_) => KvError::unavailable(),
            other => {
                tracing::error!(error = %other, "key vault store error");
                KvError::internal()
            }
        }
    }
}

impl IntoResponse for KvError {
    fn into_response(self) -> Response {
        let body = KeyVaultError {
            error: KeyVaultErrorDetail { code: self.code, message: self.message, innererror: self.inner.map(|code| InnerError { code }) },
        };
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(authority) = self.challenge {
            let v = format!("Bearer authorization=\"{authority}\", resource=\"{}\"", mimic_domain::keyvault::AUDIENCE);
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}
