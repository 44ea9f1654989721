//! Documents clients read before they ask for tokens: OIDC configuration (v2 and v1), JWKS,
//! MSAL's instance discovery and user realm.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::tenant::{self, TenantRef};
use super::OAuthError;
use crate::state::SharedState;

/// The tenant id to print in documents: the real one, or Entra's `{tenantid}` template for
/// the multi-tenant aliases.
fn tenant_for_docs(state: &SharedState, t: &str) -> Result<(String, String), OAuthError> {
    match tenant::resolve(state, t) {
        Some(TenantRef::Tenant(ten)) => Ok((ten.id.to_string(), ten.id.to_string())),
        Some(TenantRef::Multi(alias)) => Ok(("{tenantid}".into(), alias)),
        None => Err(OAuthError::tenant_not_found(t)),
    }
}

fn cached(v: Value) -> Response {
    let mut r = Json(v).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, "max-age=86400, private".parse().expect("static header"));
    r
}

pub async fn openid_configuration_v2(State(state): State<SharedState>, Path(t): Path<String>) -> Result<Response, OAuthError> {
    let (issuer_tenant, path_tenant) = tenant_for_docs(&state, &t)?;
    let login = &state.endpoints.login;
    Ok(cached(json!({
        "token_endpoint": format!("{login}/{path_tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{login}/{path_tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{login}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/oidc/userinfo", state.endpoints.graph),
        "authorization_endpoint": format!("{login}/{path_tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{login}/{path_tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{login}/{path_tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
            "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{login}/{path_tenant}/kerberos"),
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })))
}

pub async fn openid_configuration_v1(State(state): State<SharedState>, Path(t): Path<String>) -> Result<Response, OAuthError> {
    let (issuer_tenant, path_tenant) = tenant_for_docs(&state, &t)?;
    let login = &state.endpoints.login;
    Ok(cached(json!({
        "token_endpoint": format!("{login}/{path_tenant}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{login}/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": format!("https://sts.windows.net/{issuer_tenant}/"),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{login}/{path_tenant}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{login}/{path_tenant}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{login}/{path_tenant}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name",
            "nickname"],
        "check_session_iframe": format!("{login}/{path_tenant}/oauth2/checksession"),
        "userinfo_endpoint": format!("{login}/{path_tenant}/openid/userinfo"),
        "kerberos_endpoint": format!("{login}/{path_tenant}/kerberos"),
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })))
}

/// JWKS: every published key (the signing key and those kept after a rotation).
pub async fn keys(State(state): State<SharedState>, Path(t): Path<String>) -> Result<Response, OAuthError> {
    let (issuer_tenant, _) = tenant_for_docs(&state, &t)?;
    let issuer = format!("{}/{issuer_tenant}/v2.0", state.endpoints.login);
    let keys: Vec<Value> = state.keys.keys().iter().map(|k| k.jwk(&issuer)).collect();
    Ok(cached(json!({ "keys": keys })))
}

/// MSAL's instance discovery: this host is its own (only) alias.
pub async fn instance(State(state): State<SharedState>, Path(t): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    let host = state.endpoints.login.trim_start_matches("https://").to_string();
    let tenant =
        q.get("authorization_endpoint").and_then(|a| a.trim_start_matches("https://").split('/').nth(1).map(str::to_string)).unwrap_or(t);
    cached(json!({
        "tenant_discovery_endpoint": format!("{}/{tenant}/v2.0/.well-known/openid-configuration", state.endpoints.login),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
}

/// Home realm discovery: every Mimic user is a cloud-only ("Managed") account.
pub async fn user_realm(State(state): State<SharedState>, Path(user): Path<String>) -> Response {
    let domain = user.rsplit('@').next().unwrap_or_default().to_string();
    let known = tenant::by_domain(&state, &domain).is_some();
    let body = if known {
        json!({"ver": "1.0", "account_type": "Managed", "domain_name": domain, "cloud_instance_name": "microsoftonline.com",
               "cloud_audience_urn": "urn:federation:MicrosoftOnline"})
    } else {
        json!({"ver": "1.0", "account_type": "Unknown", "cloud_instance_name": "microsoftonline.com"})
    };
    (StatusCode::OK, Json(body)).into_response()
}
