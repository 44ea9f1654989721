//! Who a Blob request is from, checked as Azure Storage checks it, and what they may do.
//!
//! - `Authorization: Bearer`: a token of Mimic's token service for Storage (`https://storage.azure.com/`,
//!   its application id, or the account's own URL), of the account's tenant; refused with 401
//!   `InvalidAuthenticationInfo` and the bearer challenge.
//! - `Authorization: SharedKey {account}:{signature}`: HMAC-SHA256 of the request under one of
//!   the account's keys (403 `AuthenticationFailed` with the string the server signed), or 403
//!   `KeyBasedAuthenticationNotPermitted` when `allowSharedKeyAccess` is false.
//! - none: anonymous, which only a container's public access (when the account allows it) lets
//!   read; anything else is 401 `NoAuthenticationInformation` with the challenge.
//!
//! Authorisation: containers by Azure RBAC `actions` (`.../blobServices/containers/{read,write,delete}`),
//! blobs by `dataActions` (`.../containers/blobs/{read,write,delete,add/action}`), at the
//! container's scope and every parent ("Authorize access to blobs using Microsoft Entra ID",
//! learn.microsoft.com/azure/storage/blobs/authorize-access-azure-active-directory; "Permissions
//! for calling data operations", learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory).

use axum::http::{header, request::Parts};
use mimic_domain::storage::{self as st, shared_key};
use uuid::Uuid;

use super::{BlobError, BlobResult, Req, Who};
use crate::authn::{self, AuthError};
use crate::state::SharedState;
use crate::storage_accounts::{self, Account};

pub const BLOB_READ: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
pub const BLOB_WRITE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";
pub const BLOB_ADD: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action";
pub const BLOB_DELETE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete";
pub const CONTAINER_READ: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/read";
pub const CONTAINER_WRITE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/write";
pub const CONTAINER_DELETE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/delete";

/// The tenant the account belongs to (its subscription's).
fn tenant_of(state: &SharedState, account: &Account) -> BlobResult<Uuid> {
    let sub: Uuid = account.subscription().parse().map_err(|_| BlobError::internal())?;
    // The hot-path cache ARM's subscription checks use: no store read per request.
    let generation = state.store.generation();
    let s = state.caches.subscriptions.get_or_load(generation, &sub, || state.store.read(|tx| tx.subscription(sub)))?;
    Ok(s.ok_or_else(BlobError::account_not_found)?.tenant_id)
}

pub fn authenticate(state: &SharedState, parts: &Parts, account: &Account, endpoint: &str) -> BlobResult<Who> {
    let tenant = tenant_of(state, account)?;
    let authority = format!("{}/{tenant}", state.endpoints.login);
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else { return Ok(Who::Anonymous) };
    let value = value.to_str().map_err(|_| BlobError::invalid_token(authority.clone(), "The Authorization header is not valid."))?;
    if let Some((name, signature)) = shared_key::parse_authorization(value) {
        return shared_key_check(state, parts, account, name, signature).map(|()| Who::Key);
    }
    let account_url = endpoint.trim_end_matches('/').to_string();
    let audiences = [st::AUDIENCE, st::APP_ID, &account_url];
    let caller = authn::authenticate(state, Some(value), &audiences).map_err(|e| match e {
        AuthError::Unavailable(_) => BlobError::unavailable(),
        AuthError::Missing | AuthError::BadScheme => {
            BlobError::invalid_token(authority.clone(), "Authentication scheme is not supported: use Bearer or SharedKey.")
        }
        AuthError::Expired { .. } => BlobError::invalid_token(authority.clone(), "Lifetime validation failed. The token is expired."),
        AuthError::WrongAudience(_) => BlobError::invalid_token(authority.clone(), "Audience validation failed. Audience did not match."),
        AuthError::WrongIssuer | AuthError::WrongTenant => {
            BlobError::invalid_token(authority.clone(), "Issuer validation failed. Issuer did not match.")
        }
        AuthError::Invalid(_) => BlobError::invalid_token(authority.clone(), "Signature validation failed. Signature is invalid."),
    })?;
    if caller.tenant != tenant {
        return Err(BlobError::invalid_token(authority, "Issuer validation failed. Issuer did not match."));
    }
    Ok(Who::Token(caller))
}

fn shared_key_check(state: &SharedState, parts: &Parts, account: &Account, name: &str, signature: &str) -> BlobResult<()> {
    if !account.shared_key_allowed() {
        return Err(BlobError::key_based_not_permitted());
    }
    if !name.eq_ignore_ascii_case(account.name()) {
        return Err(BlobError::authentication_failed(format!(
            "The account name '{name}' in the Authorization header is not this account's."
        )));
    }
    let master = state.keys.master_key();
    let keys = state
        .store
        .read(|tx| storage_accounts::open_keys(tx, master, account.instance).map_err(|_| BlobError::internal()))?
        .ok_or_else(BlobError::internal)?;
    let headers: Vec<(String, String)> =
        parts.headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))).collect();
    let signed = shared_key::SignedRequest {
        method: parts.method.as_str(),
        headers: &headers,
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
    };
    let string_to_sign = shared_key::string_to_sign(&signed, account.name());
    if shared_key::verify(&[&keys[0], &keys[1]], &string_to_sign, signature) {
        Ok(())
    } else {
        Err(BlobError::signature_mismatch(signature, &string_to_sign))
    }
}

impl Req {
    /// Allows a container operation needing `action`, or answers Azure's refusal.
    pub fn allow_action(&self, action: &str, scope: &str) -> BlobResult<()> {
        match &self.who {
            Who::Key => Ok(()),
            Who::Token(c) => {
                if crate::access::allowed(&self.state, c.tenant, c.object_id, action, scope)? {
                    Ok(())
                } else {
                    Err(BlobError::permission_mismatch())
                }
            }
            Who::Anonymous => Err(self.anonymous_refused()),
        }
    }

    /// Allows a blob operation needing `data_action` on the request's container, or answers
    /// Azure's refusal. `public` says whether the container's public access covers it for an
    /// anonymous caller.
    pub fn allow_data(&self, data_action: &str, public: bool) -> BlobResult<()> {
        match &self.who {
            Who::Key => Ok(()),
            Who::Token(c) => {
                if crate::access::data_allowed(&self.state, c.tenant, c.object_id, data_action, &self.container_id())? {
                    Ok(())
                } else {
                    Err(BlobError::permission_mismatch())
                }
            }
            Who::Anonymous if public && self.public_access_allowed() => Ok(()),
            Who::Anonymous => Err(self.anonymous_refused()),
        }
    }

    /// `allowBlobPublicAccess`: false unless set (the default of new accounts since 2023).
    pub fn public_access_allowed(&self) -> bool {
        self.account.resource.properties.get("allowBlobPublicAccess").and_then(serde_json::Value::as_bool) == Some(true)
    }

    /// Azure answers an anonymous request it does not serve as if the resource were not there
    /// when the account allows public access, and with the bearer challenge otherwise.
    pub fn anonymous_refused(&self) -> BlobError {
        if self.public_access_allowed() {
            return BlobError::resource_not_found();
        }
        let tenant = tenant_of(&self.state, &self.account).unwrap_or_default();
        BlobError::no_authentication(format!("{}/{tenant}", self.state.endpoints.login))
    }
}
