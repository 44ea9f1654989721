//! Resource Manager's own answers, whatever the provider: request shape and size, api-versions,
//! authentication and authorization, throttling, routing, locations, async operations, the
//! generic resource store and its backing store (docs/azure-behaviour.md §3 unless noted).

use std::fmt::Display;

use axum::http::StatusCode;

use mimic_wire::jsonnet::JsonNetError;

use super::ArmError;
use crate::authn::AuthError;

impl ArmError {
    // ---- the request -------------------------------------------------------------------

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

    /// A body that does not deserialise, quoting Json.NET's error (what went wrong, where).
    pub fn invalid_request_content(e: &JsonNetError) -> Self {
        Self::request_content(&e.render())
    }

    /// A write without a body.
    pub fn empty_request_body() -> Self {
        Self::request_content("The request body is empty.")
    }

    fn request_content(detail: &str) -> Self {
        Self::bad_request("InvalidRequestContent", format!("The request content was invalid and could not be deserialized: '{detail}'."))
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("The content media type '{content_type}' is not supported. Only 'application/json' is supported."),
        )
    }

    // ---- routing -----------------------------------------------------------------------

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

    // ---- authentication ----------------------------------------------------------------

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

    /// A token of `caller_tenant` for a subscription of `tenant` (challenge: `login`'s authority
    /// for that tenant).
    pub fn wrong_subscription_tenant(caller_tenant: impl Display, tenant: impl Display, login: &str) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{caller_tenant}/'. It must match the tenant 'https://sts.windows.net/{tenant}/' \
                 associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{tenant}' to get the token. Note, if the \
                 subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take \
                 time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later."
            ),
        );
        e.challenge = Some(format!("Bearer authorization_uri=\"{login}/{tenant}\", error=\"invalid_token\""));
        e
    }

    // ---- authorization -----------------------------------------------------------------

    /// Azure's 403 for a missing permission (docs/azure-behaviour.md §3).
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

    /// A write or delete a management lock stops (docs/azure-behaviour.md "Management locks"):
    /// `verb` is `write` or `delete`, `locked` the scopes of the locks in the way.
    pub fn scope_locked(scope: &str, verb: &str, locked: &[&str]) -> Self {
        let list = locked.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",");
        Self::new(
            StatusCode::CONFLICT,
            "ScopeLocked",
            format!("The scope '{scope}' cannot perform {verb} operation because following scope(s) are locked: {list}. Please remove the lock and try again."),
        )
    }

    /// Azure's 403 when the caller may write a resource but not act on the resources it links
    /// (docs/azure-behaviour.md §1b: a VM's user-assigned identities need `.../assign/action`).
    pub fn linked_authorization_failed(
        caller: &str,
        object_id: impl Display,
        action: &str,
        scope: &str,
        linked_action: &str,
        linked_scopes: &[&str],
    ) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "LinkedAuthorizationFailed",
            format!(
                "The client '{caller}' with object id '{object_id}' has permission to perform action '{action}' on scope '{scope}'; however, it does not have \
                 permission to perform action '{linked_action}' on the linked scope(s) '{}' or the linked scope(s) are invalid.",
                linked_scopes.join(",")
            ),
        )
    }

    // ---- throttling --------------------------------------------------------------------

    /// Azure's 429 (text as ARM returns it, e.g. velero-io/velero#9171): `kind` is `read`,
    /// `write` or `delete`.
    pub fn subscription_requests_throttled(sub: impl Display, kind: &str, principal: impl Display, retry_after: u64) -> Self {
        Self::throttled("SubscriptionRequestsThrottled", &format!("subscription '{sub}'"), kind, principal, retry_after)
    }

    /// The tenant-level 429, worded by analogy with the subscription's.
    pub fn tenant_requests_throttled(tenant: impl Display, kind: &str, principal: impl Display, retry_after: u64) -> Self {
        Self::throttled("TenantRequestsThrottled", &format!("tenant '{tenant}'"), kind, principal, retry_after)
    }

    fn throttled(code: &str, what: &str, kind: &str, principal: impl Display, retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            format!(
                "Number of '{kind}' requests for {what} actor '{principal}' exceeded. Please try again after '{retry_after}' seconds after additional \
                 tokens are available. Refer to https://aka.ms/arm-throttling for additional information."
            ),
        );
        e.retry_after = Some(retry_after);
        e
    }

    // ---- resources and locations -------------------------------------------------------

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

    pub fn location_required() -> Self {
        Self::bad_request("LocationRequired", "The location property is required for this definition.")
    }

    pub fn location_not_available_for_resource_type(location: &str, resource_type: &str) -> Self {
        Self::bad_request(
            "LocationNotAvailableForResourceType",
            format!("The provided location '{location}' is not available for resource type '{resource_type}'."),
        )
    }

    /// A PUT naming another location than the existing resource's.
    pub fn invalid_resource_location(name: &str, existing: &str, rg: &str, requested: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "InvalidResourceLocation",
            format!(
                "The resource '{name}' already exists in location '{existing}' in resource group '{rg}'. A resource with the same name cannot be created in location '{requested}'. Please select a new resource name."
            ),
        )
    }

    /// A `POST {resource}/{action}` the generic store does not serve (Mimic's wording).
    pub fn unsupported_resource_operation(action: &str, resource_type: &str) -> Self {
        Self::bad_request(
            "InvalidResourceOperation",
            format!("The operation '{action}' is not supported for resource type '{resource_type}' by Mimic."),
        )
    }

    // ---- async operations --------------------------------------------------------------

    pub fn operation_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OperationNotFound", format!("The operation '{id}' could not be found."))
    }

    /// A poll of a failed operation's `Location`: its recorded error (code, message), as a 400.
    pub fn operation_failed(error: Option<(String, String)>) -> Self {
        match error {
            Some((code, message)) => Self::bad_request(&code, message),
            None => Self::bad_request("InternalServerError", "The operation failed."),
        }
    }

    // ---- Mimic's side ------------------------------------------------------------------

    pub fn internal(e: impl Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "An internal error occurred. Please retry the request.")
    }

    /// Concurrent writers kept winning over this one's re-runs (PostgreSQL store): what ARM
    /// answers when a concurrent request changed the resource first.
    pub fn concurrent_conflict() -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", "The request failed due to conflict with a concurrent request.")
    }

    /// ARM's answer when a backend is down for a moment: 503 ServiceUnavailable, retry.
    pub fn service_unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry the request.",
        );
        e.retry_after = Some(crate::STORE_RETRY_AFTER_SECS);
        e
    }
}

fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string()).unwrap_or_default()
}
