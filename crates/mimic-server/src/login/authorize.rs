//! `GET/POST /{tenant}/oauth2/v2.0/authorize` (and v1 `/oauth2/authorize`): the sign-in page of
//! the authorization-code flow. GET validates the request and renders the page; POST checks the
//! password (the same check as the password grant, `token::sign_in`), stores a one-time code and
//! redirects to the client's redirect URI with `code` and `state`.
//!
//! As Entra does, a request whose client or redirect URI cannot be trusted is answered with an
//! error page and never redirected; other errors go back to the redirect URI (RFC 6749 §4.1.2.1).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use mimic_domain::authorization_code::{self as ac, AuthorizationCode};
use mimic_domain::directory::{self, DirectoryObject, AZURE_PORTAL_CLIENT_ID};
use mimic_domain::redirect_uri;
use mimic_store::documents::{Docs, AUTHORIZATION_CODE};
use uuid::Uuid;

use super::error::store_err;
use super::tenant::{self, TenantRef};
use super::token::sign_in;
use crate::state::{AppState, SharedState};

type Params = HashMap<String, String>;

pub async fn page(State(state): State<SharedState>, Path(t): Path<String>, Query(q): Query<Params>) -> Response {
    match validate(&state, &t, &q) {
        Err(r) => *r,
        Ok(_) => sign_in_page(&t, &q, None, StatusCode::OK),
    }
}

pub async fn submit(State(state): State<SharedState>, Path(t): Path<String>, Form(form): Form<Params>) -> Response {
    let req = match validate(&state, &t, &form) {
        Err(r) => return *r,
        Ok(v) => v,
    };
    let (username, password) = (form.get("login").cloned().unwrap_or_default(), form.get("passwd").cloned().unwrap_or_default());
    if username.is_empty() || password.is_empty() {
        return sign_in_page(&t, &form, Some("Enter your user name and password."), StatusCode::BAD_REQUEST);
    }
    let tref = tenant::resolve(&state, &t);
    let st = state.clone();
    // argon2 verification: off the async workers.
    let checked = tokio::task::spawn_blocking(move || {
        let tref = tref.ok_or(())?;
        sign_in(&st, tref, "organizations", &username, &password, |_| Ok(())).map_err(|_| ())
    })
    .await
    .unwrap_or(Err(()));
    let Ok((tenant, user)) = checked else {
        // Entra's own wording on its password page (AADSTS50126).
        return sign_in_page(&t, &form, Some("Your account or password is incorrect."), StatusCode::OK);
    };
    let code = format!("1.{}", mimic_domain::token::opaque(160));
    let grant = AuthorizationCode {
        tenant: tenant.id,
        user: user.id,
        client: req.client,
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: form.get("code_challenge").cloned(),
        nonce: form.get("nonce").cloned().filter(|n| !n.is_empty()),
        scope: form.get("scope").or(form.get("resource")).cloned().unwrap_or_default(),
        expires: chrono::Utc::now().timestamp() + ac::CODE_LIFETIME_SECS,
    };
    let key = ac::storage_key(&code);
    let stored = state.store.write(|tx| tx.put(AUTHORIZATION_CODE, &key, &grant, Some(grant.expires))).map_err(store_err);
    if stored.is_err() {
        return redirect_error(&req, "server_error", "AADSTS90033: A transient error has occurred. Please try again.");
    }
    redirect(
        &req.redirect_uri,
        &[("code", Some(code.as_str())), ("state", req.state.as_deref()), ("session_state", Some(&Uuid::new_v4().to_string()))],
    )
}

/// What a request needs before anything may be redirected back to it.
struct Trusted {
    client: Uuid,
    redirect_uri: String,
    state: Option<String>,
}

fn validate(state: &AppState, t: &str, q: &Params) -> Result<Trusted, Box<Response>> {
    let Some(client_id) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(Box::new(error_page("AADSTS900144: The request body must contain the following parameter: 'client_id'.")));
    };
    let Some(tref @ (TenantRef::Tenant(_) | TenantRef::Multi(_))) = tenant::resolve(state, t) else {
        return Err(Box::new(error_page(&format!("AADSTS90002: Tenant '{t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."))));
    };
    let not_found = || {
        error_page(&format!(
            "AADSTS700016: Application with identifier '{client_id}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant."
        ))
    };
    let client: Uuid = client_id.parse().map_err(|_| Box::new(not_found()))?;
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    let allowed = if directory::is_first_party_public_client(client) {
        first_party_redirect_allowed(state, client, &redirect_uri)
    } else {
        // A registered application: single-tenant, so only under its own tenant.
        let TenantRef::Tenant(tenant) = tref else { return Err(Box::new(not_found())) };
        let app = state
            .store
            .read(|tx| tx.directory_object_by_app_id(tenant.id, "application", client))
            .map_err(|_| Box::new(error_page("AADSTS90033: A transient error has occurred. Please try again.")))?;
        let Some(DirectoryObject::Application(app)) = app else { return Err(Box::new(not_found())) };
        redirect_uri::matches_any(app.redirect_uris(), &redirect_uri)
    };
    if !allowed {
        return Err(Box::new(error_page(&format!(
            "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
        ))));
    }
    let trusted = Trusted { client, redirect_uri, state: q.get("state").cloned() };
    match q.get("response_type").map(String::as_str) {
        Some("code") => {}
        None | Some("") => {
            return Err(Box::new(redirect_error(
                &trusted,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'response_type'.",
            )))
        }
        Some(other) => {
            return Err(Box::new(redirect_error(
                &trusted,
                "unsupported_response_type",
                &format!("AADSTS700054: response_type '{other}' is not enabled for the application."),
            )))
        }
    }
    if let Some(mode) = q.get("response_mode").filter(|m| *m != "query") {
        return Err(Box::new(redirect_error(
            &trusted,
            "invalid_request",
            &format!("AADSTS900144: response_mode '{mode}' is not supported by Mimic; use 'query'."),
        )));
    }
    match (q.get("code_challenge"), q.get("code_challenge_method").map(String::as_str)) {
        (Some(c), Some("S256")) if ac::valid_challenge(c) => {}
        // The portal is a public client: PKCE is required (Entra requires it for SPAs).
        (None, _) if client != AZURE_PORTAL_CLIENT_ID => {}
        (None, _) => {
            return Err(Box::new(redirect_error(
                &trusted,
                "invalid_request",
                "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
            )))
        }
        _ => {
            return Err(Box::new(redirect_error(
                &trusted,
                "invalid_request",
                "AADSTS501491: Invalid size of Code_Challenge parameter, or code_challenge_method is not 'S256'.",
            )))
        }
    }
    Ok(trusted)
}

/// The portal's one redirect URI is its callback on the listener it is bound to; the native
/// first-party clients (az, PowerShell) have loopback ones, any port (`redirect_uri.rs`).
fn first_party_redirect_allowed(state: &AppState, client: Uuid, uri: &str) -> bool {
    if client == AZURE_PORTAL_CLIENT_ID {
        let portal = format!("{}/signin-oidc", state.endpoints.portal);
        return uri == portal && redirect_uri::matches_any([portal.as_str()], uri);
    }
    redirect_uri::matches_any(directory::NATIVE_FIRST_PARTY_REDIRECT_URIS.iter().copied(), uri)
}

fn redirect(base: &str, params: &[(&str, Option<&str>)]) -> Response {
    let query = serde_urlencoded::to_string(params.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect::<Vec<_>>()).unwrap_or_default();
    let sep = if base.contains('?') { '&' } else { '?' };
    (StatusCode::FOUND, [(header::LOCATION, format!("{base}{sep}{query}")), (header::CACHE_CONTROL, "no-store".into())]).into_response()
}

fn redirect_error(t: &Trusted, error: &str, description: &str) -> Response {
    redirect(&t.redirect_uri, &[("error", Some(error)), ("error_description", Some(description)), ("state", t.state.as_deref())])
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const STYLE: &str = "body{margin:0;font-family:'Segoe UI',system-ui,-apple-system,sans-serif;background:#f2f2f2;color:#1b1b1b}\
main{max-width:440px;margin:10vh auto;background:#fff;box-shadow:0 2px 6px rgba(0,0,0,.2);padding:44px}\
.brand{font-weight:600;color:#737373;font-size:15px;margin-bottom:16px}h1{font-size:24px;font-weight:600;margin:0 0 16px}\
label{display:block;font-size:15px;margin-top:12px}input[type=text],input[type=password]{width:100%;box-sizing:border-box;\
border:0;border-bottom:1px solid #666;padding:6px 0;font-size:15px}input:focus{outline:2px solid #0067b8;outline-offset:2px}\
.err{color:#e81123;margin:8px 0}button{margin-top:24px;float:right;background:#0067b8;color:#fff;border:0;padding:8px 32px;font-size:15px;cursor:pointer}\
button:focus{outline:2px solid #000;outline-offset:2px}form::after{content:'';display:block;clear:both}";

fn sign_in_page(t: &str, q: &Params, error: Option<&str>, status: StatusCode) -> Response {
    const CARRIED: &[&str] = &[
        "client_id",
        "response_type",
        "redirect_uri",
        "scope",
        "resource",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
        "prompt",
        "login_hint",
    ];
    let hidden: String =
        CARRIED.iter().filter_map(|k| q.get(*k).map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", escape(v)))).collect();
    let login = q.get("login").or(q.get("login_hint")).map(|s| escape(s)).unwrap_or_default();
    let err = error.map(|e| format!("<p class=\"err\" id=\"err\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let described = if error.is_some() { " aria-describedby=\"err\" aria-invalid=\"true\"" } else { "" };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>Sign in to your account</title><style>{STYLE}</style></head><body><main>\
<div class=\"brand\" aria-hidden=\"true\">Mimic</div><h1>Sign in</h1>{err}\
<form method=\"post\" action=\"/{}/oauth2/v2.0/authorize\">{hidden}\
<label for=\"login\">Email, phone, or Skype</label><input type=\"text\" id=\"login\" name=\"login\" autocomplete=\"username\" required value=\"{login}\"{described}>\
<label for=\"passwd\">Password</label><input type=\"password\" id=\"passwd\" name=\"passwd\" autocomplete=\"current-password\" required{described}>\
<button type=\"submit\">Sign in</button></form></main></body></html>",
        escape(t)
    );
    let mut res = (status, Html(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    h.insert("x-frame-options", "DENY".parse().expect("static header"));
    h.insert(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".parse().expect("static header"),
    );
    res
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account</title><style>{STYLE}</style></head>\
<body><main><div class=\"brand\" aria-hidden=\"true\">Mimic</div><h1>Sorry, but we’re having trouble signing you in.</h1>\
<p role=\"alert\">{}</p></main></body></html>",
        escape(message)
    );
    let mut res = (StatusCode::BAD_REQUEST, Html(body)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    res
}
