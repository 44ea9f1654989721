//! Workload identity federation's exchange: `client_credentials` whose `client_assertion` is a
//! token from another issuer, for an application's client id or a user-assigned identity's.
//! Entra's checks in its order: the assertion parses (AADSTS50027), some credential of the
//! client trusts its issuer (AADSTS700211: before any key is fetched, so an assertion cannot
//! make Mimic fetch from an issuer no credential names), the issuer's key verifies it, it is
//! within its lifetime (AADSTS700024), and a credential matches subject (AADSTS70021) and
//! audience (AADSTS700212).
//!
//! Credentials are read on every exchange, not cached: a deleted credential stops the next
//! exchange, and a replayed assertion with it.

use axum::http::StatusCode;
use mimic_domain::directory::{DirectoryObject, ServicePrincipalType, Tenant};
use std::sync::Arc;

use mimic_domain::federation::external_token::{Jwks, UnverifiedToken};
use mimic_domain::federation::{self, FederatedCredential, NoMatch};
use mimic_domain::token::Subject;
use serde_json::Value;
use uuid::Uuid;

use super::error::{assertion_token_error, malformed_assertion, store_err, unknown_client};
use super::OAuthError;
use crate::federation::KeysError;
use crate::state::AppState;

/// Who a federated assertion signed in.
#[derive(Debug, Clone)]
pub enum Federated {
    /// The application whose credential matched; the token is its service principal's.
    App,
    /// A user-assigned identity; the token is the identity's, as IMDS would give it.
    ManagedIdentity(Subject),
}

/// The client's federated credentials and who signs in through them.
struct Owner {
    credentials: Vec<FederatedCredential>,
    federated: Federated,
}

/// Whether `assertion` is for the federated exchange rather than a certificate: an app signs its
/// own assertions (`iss` its client id, RFC 7523 §3); an external token has another issuer.
pub(super) fn is_external(assertion: &str, client_id: &str) -> bool {
    mimic_domain::token::peek_claims(assertion).and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string)).as_deref()
        != Some(client_id)
}

pub(super) async fn authenticate(state: &AppState, tenant: &Tenant, client_id: &str, assertion: &str) -> Result<Federated, OAuthError> {
    let token = UnverifiedToken::parse(assertion).map_err(|_| malformed_assertion())?;
    let owner = owner(state, tenant, client_id)?;
    let issuer = token.claim_str("iss").unwrap_or_default().to_string();
    if !owner.credentials.iter().any(|c| c.issuer == issuer) {
        return Err(no_match(&NoMatch::Issuer, &token));
    }
    let keys = issuer_keys(state, &issuer, token.kid()).await.map_err(|e| match e {
        KeysError::Unreachable => {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", 50166, "Request to External OIDC endpoint failed.")
        }
        KeysError::Store(e) => store_err(e),
    })?;
    token.verify(&keys, chrono::Utc::now().timestamp()).map_err(|e| {
        assertion_token_error(e, || {
            OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                format!(
                    "Client assertion failed signature validation. [Reason - The key was not found., Key id: '{}']",
                    token.kid().unwrap_or_default()
                ),
            )
        })
    })?;
    federation::find_match(&owner.credentials, &token.claims).map_err(|m| no_match(&m, &token))?;
    Ok(owner.federated)
}

/// The keys of `issuer`: a hosted one's from the store, any other's published JWKS.
async fn issuer_keys(state: &AppState, issuer: &str, kid: Option<&str>) -> Result<Arc<Jwks>, KeysError> {
    match federation::hosted::name_of(issuer) {
        Some(name) => crate::federation::hosted::jwks(state, name).map_err(KeysError::Store)?.ok_or(KeysError::Unreachable),
        None => state.issuers.keys(issuer, kid).await,
    }
}

/// The application, or else the user-assigned identity, whose client id is `client_id`.
fn owner(state: &AppState, tenant: &Tenant, client_id: &str) -> Result<Owner, OAuthError> {
    let unknown = || unknown_client(client_id, tenant);
    let app_id: Uuid = client_id.parse().map_err(|_| unknown())?;
    state
        .store
        .read(|tx| {
            if let Some(DirectoryObject::Application(app)) = tx.directory_object_by_app_id(tenant.id, "application", app_id)? {
                return Ok(Some(Owner { credentials: app.federated_identity_credentials, federated: Federated::App }));
            }
            let Some(DirectoryObject::ServicePrincipal(sp)) = tx.directory_object_by_app_id(tenant.id, "servicePrincipal", app_id)? else {
                return Ok(None);
            };
            let explicit = sp.alternative_names.first().is_some_and(|n| n.eq_ignore_ascii_case("isExplicit=True"));
            let (true, ServicePrincipalType::ManagedIdentity, Some(resource_id)) =
                (explicit, sp.service_principal_type, sp.alternative_names.get(1).cloned())
            else {
                return Ok(None);
            };
            let credentials = crate::federation::user_assigned_credentials(tx, &resource_id)?;
            let subject = Subject::ManagedIdentity { object_id: sp.id, client_id: app_id, resource_id };
            Ok::<_, mimic_store::StoreError>(Some(Owner { credentials, federated: Federated::ManagedIdentity(subject) }))
        })
        .map_err(store_err)?
        .ok_or_else(unknown)
}

fn no_match(why: &NoMatch, token: &UnverifiedToken) -> OAuthError {
    let claim = |c: &str| match token.claims.get(c) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        _ => String::new(),
    };
    let (iss, sub, aud) = (claim("iss"), claim("sub"), claim("aud"));
    let (code, message) = match why {
        NoMatch::Issuer => (
            700211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'. Please note that the matching is done \
                 using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the \
                 presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ),
        NoMatch::Subject => (
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: \
                 '{sub}'. Assertion Audience: '{aud}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ),
        NoMatch::Audience => (
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{aud}'. Please note that the matching is \
                 done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against \
                 the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
            ),
        ),
    };
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
}
