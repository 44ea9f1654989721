//! Sign-in and sign-out: the portal is an OIDC client of Mimic's token service, as Azure's portal
//! is of Entra: authorization code with PKCE S256, `state` bound to the browser by a cookie,
//! `nonce` checked in the id_token, then a server-side session.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mimic_domain::authorization_code::s256_challenge;
use mimic_domain::directory::AZURE_PORTAL_CLIENT_ID;
use mimic_domain::token::{opaque, peek_claims};
use serde_json::Value;
use std::collections::HashMap;
use tower::ServiceExt;

use super::session::{cookie, set_cookie, Pending, Session, Unavailable, SESSION_COOKIE, SIGNIN_COOKIE};
use super::{Portal, PortalState};
use crate::login::authorize_escape as escape;

/// The first token the portal asks for is ARM's, as Azure's portal does: the scopes it asks for,
/// `https://management.core.windows.net//user_impersonation` first.
fn scopes() -> String {
    format!("{}/user_impersonation openid profile offline_access", super::ARM_AUDIENCE)
}
/// Users sign in to their own tenant: the tenant comes from the user name.
const AUTHORITY_TENANT: &str = "organizations";

pub fn redirect_uri(p: &Portal) -> String {
    format!("{}/signin-oidc", p.state.endpoints.portal)
}

pub async fn signin(State(p): State<PortalState>) -> Response {
    // 48 random bytes → a 64-character verifier (RFC 7636 §4.1 allows 43–128).
    let verifier = URL_SAFE_NO_PAD.encode((0..48).map(|_| rand::random::<u8>()).collect::<Vec<u8>>());
    let (state, nonce) = (opaque(32), opaque(32));
    let query = serde_urlencoded::to_string([
        ("client_id", AZURE_PORTAL_CLIENT_ID.to_string()),
        ("response_type", "code".into()),
        ("redirect_uri", redirect_uri(&p)),
        ("scope", scopes()),
        ("response_mode", "query".into()),
        ("state", state.clone()),
        ("nonce", nonce.clone()),
        ("code_challenge", s256_challenge(&verifier)),
        ("code_challenge_method", "S256".into()),
    ])
    .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = p.sessions.begin(state.clone(), Pending { verifier, nonce, created: now }).await {
        return unavailable(e);
    }
    let location = format!("{}/{AUTHORITY_TENANT}/oauth2/v2.0/authorize?{query}", p.state.endpoints.login);
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, &state, "/signin-oidc", Some(600)))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_default()
}

pub async fn callback(State(p): State<PortalState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(e) = q.get("error") {
        return failure(&format!("{e}: {}", q.get("error_description").map(String::as_str).unwrap_or("")));
    }
    let (Some(code), Some(state)) = (q.get("code"), q.get("state")) else {
        return failure("The sign-in response has no code or state.");
    };
    // The state must be the one this browser started with (login CSRF), and used once.
    if cookie(&headers, SIGNIN_COOKIE) != Some(state.as_str()) {
        return failure("The sign-in response does not belong to this browser session. Sign in again.");
    }
    let pending = match p.sessions.take_pending(state).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return failure("The sign-in request has expired. Sign in again."),
        Err(e) => return unavailable(e),
    };
    let form = [
        ("client_id", AZURE_PORTAL_CLIENT_ID.to_string()),
        ("grant_type", "authorization_code".into()),
        ("code", code.clone()),
        ("redirect_uri", redirect_uri(&p)),
        ("code_verifier", pending.verifier),
        ("scope", scopes()),
    ];
    let tokens = match token_request(&p, &form).await {
        Ok(t) => t,
        Err(e) => return failure(&e),
    };
    // The id_token comes straight from the in-process token service; its nonce ties it to this
    // sign-in.
    let claims = tokens["id_token"].as_str().and_then(peek_claims).unwrap_or_default();
    let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    if claim("nonce") != pending.nonce {
        return failure("The id_token's nonce does not match the sign-in request.");
    }
    let (Ok(tenant), Ok(user), Some(rt)) = (claim("tid").parse(), claim("oid").parse(), tokens["refresh_token"].as_str()) else {
        return failure("The token response lacks the user's identity or a refresh token.");
    };
    let mut session = Session {
        tenant,
        user,
        upn: claim("preferred_username"),
        name: claim("name"),
        refresh_token: rt.to_string(),
        tokens: Default::default(),
        created: chrono::Utc::now().timestamp(),
    };
    if let Some(at) = tokens["access_token"].as_str() {
        let exp = chrono::Utc::now().timestamp() + tokens["expires_in"].as_i64().unwrap_or(0);
        session.tokens.insert(super::ARM_AUDIENCE.to_string(), (at.to_string(), exp));
    }
    let id = match p.sessions.create(session).await {
        Ok(id) => id,
        Err(e) => return unavailable(e),
    };
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, "/")
        .header(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &id, "/", None))
        .header(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, "", "/signin-oidc", Some(0)))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_default()
}

/// `POST /signout` with the portal's CSRF check: a GET, or a POST another page could make,
/// must not end a session.
pub async fn signout(State(p): State<PortalState>, headers: HeaderMap) -> Response {
    if !super::csrf::csrf_ok(&headers, &p.state.endpoints.portal) {
        return super::csrf::csrf_refused();
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = p.sessions.remove(id).await {
            return unavailable(e);
        }
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/")
        .header(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", "/", Some(0)))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_default()
}

/// One call to the token endpoint, in-process through the login router (the same handler and
/// checks as over HTTPS). Returns the JSON body, or Entra's error description.
pub async fn token_request(p: &Portal, form: &[(&str, String)]) -> Result<Value, String> {
    let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
    let req = Request::post(format!("/{AUTHORITY_TENANT}/oauth2/v2.0/token"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let res = p.login.clone().oneshot(req).await.map_err(|e| e.to_string())?;
    let ok = res.status().is_success();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if ok {
        Ok(v)
    } else {
        Err(v["error_description"].as_str().unwrap_or("the token service refused the request").to_string())
    }
}

fn failure(message: &str) -> Response {
    page(StatusCode::BAD_REQUEST, message)
}

/// The store holding sessions cannot be reached: a retryable failure, not a sign-out.
fn unavailable(e: Unavailable) -> Response {
    tracing::error!(error = %e.0, "portal session store unavailable");
    page(StatusCode::SERVICE_UNAVAILABLE, "The portal cannot reach its session store. Try again in a moment.")
}

fn page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed - Microsoft Azure</title>\
<link rel=\"stylesheet\" href=\"/app.css\"></head><body><main class=\"landing\"><h1>Sign-in failed</h1>\
<p role=\"alert\">{}</p><p><a href=\"/signin\">Sign in again</a></p></main></body></html>",
        escape(message)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}
