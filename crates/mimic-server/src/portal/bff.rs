//! The backend-for-frontend: the web app calls `/api/arm/{path}` and `/api/graph/{path}` on its
//! own origin with its session cookie; the portal forwards the call to the ARM or Graph router
//! in-process with the user's bearer token and returns the answer unchanged (status, Azure's
//! error body), so RBAC and every ARM/Graph check apply exactly as for an external client.
//!
//! CSRF: state-changing calls must carry `X-Mimic-Portal: 1` (a cross-site form cannot set a
//! custom header, and the cookie is SameSite=Lax) and, when the browser sends one, this origin.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mimic_domain::directory::AZURE_PORTAL_CLIENT_ID;
use serde_json::json;
use tower::ServiceExt;

use super::csrf::{csrf_ok, csrf_refused};
use super::oidc::token_request;
use super::session::{cookie, Session, Unavailable, SESSION_COOKIE};
use super::{Portal, PortalState, ARM_AUDIENCE};

pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

#[derive(Clone, Copy)]
enum Surface {
    Arm,
    Graph,
}

pub async fn me(State(p): State<PortalState>, headers: HeaderMap) -> Response {
    let Some(id) = cookie(&headers, SESSION_COOKIE) else { return not_signed_in() };
    match p.sessions.get(id).await {
        Err(e) => unavailable(e),
        Ok(None) => not_signed_in(),
        Ok(Some(s)) => Json(json!({"name": s.name, "userPrincipalName": s.upn, "objectId": s.user, "tenantId": s.tenant})).into_response(),
    }
}

pub async fn arm(state: State<PortalState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    forward(state, method, uri, headers, body, Surface::Arm).await
}

pub async fn graph(state: State<PortalState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    forward(state, method, uri, headers, body, Surface::Graph).await
}

async fn forward(State(p): State<PortalState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes, surface: Surface) -> Response {
    let Some(sid) = cookie(&headers, SESSION_COOKIE).map(str::to_string) else {
        return not_signed_in();
    };
    let session = match p.sessions.get(&sid).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_signed_in(),
        Err(e) => return unavailable(e),
    };
    if method != Method::GET && method != Method::HEAD && !csrf_ok(&headers, &p.state.endpoints.portal) {
        return csrf_refused();
    }
    let (prefix, audience, router, base) = match surface {
        Surface::Arm => ("/api/arm", ARM_AUDIENCE, p.arm.clone(), &p.state.endpoints.arm),
        Surface::Graph => ("/api/graph", GRAPH_AUDIENCE, p.graph.clone(), &p.state.endpoints.graph),
    };
    let token = match access_token(&p, &sid, session, audience).await {
        Ok(t) => t,
        Err(TokenError::Store(e)) => return unavailable(e),
        Err(TokenError::Refused(e)) => {
            return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "SessionExpired", "message": e}}))).into_response()
        }
    };
    let path_and_query = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let target = path_and_query.strip_prefix(prefix).unwrap_or(path_and_query);
    let mut req = Request::builder().method(method).uri(if target.is_empty() { "/" } else { target });
    let host = base.split("://").nth(1).unwrap_or_default();
    req = req.header(header::HOST, host).header(header::AUTHORIZATION, format!("Bearer {token}"));
    for name in [header::CONTENT_TYPE, header::ACCEPT, header::IF_MATCH, header::IF_NONE_MATCH] {
        if let Some(v) = headers.get(&name) {
            req = req.header(name, v);
        }
    }
    let Ok(req) = req.body(Body::from(body)) else {
        return (StatusCode::BAD_REQUEST, "bad request path").into_response();
    };
    let res = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (mut parts, body) = res.into_parts();
    // Absolute URLs of the surface are not reachable with the cookie: point them at the BFF.
    for name in ["azure-asyncoperation", "location"] {
        if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            if let Some(rest) = v.strip_prefix(base.as_str()) {
                if let Ok(nv) = HeaderValue::from_str(&format!("{prefix}{rest}")) {
                    parts.headers.insert(name, nv);
                }
            }
        }
    }
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, body)
}

enum TokenError {
    /// The token service refused the refresh (the session has ended).
    Refused(String),
    Store(Unavailable),
}

/// The user's token for `audience`: kept in the session while it has more than a minute left,
/// else one refresh-token grant (which also rotates the session's refresh token), written back
/// to the store so every replica uses the new tokens.
async fn access_token(p: &Portal, sid: &str, mut session: Session, audience: &'static str) -> Result<String, TokenError> {
    let now = chrono::Utc::now().timestamp();
    if let Some((t, exp)) = session.tokens.get(audience) {
        if *exp > now + 60 {
            return Ok(t.clone());
        }
    }
    let form = [
        ("client_id", AZURE_PORTAL_CLIENT_ID.to_string()),
        ("grant_type", "refresh_token".into()),
        ("refresh_token", session.refresh_token.clone()),
        ("scope", format!("{audience}/.default openid profile offline_access")),
    ];
    let v = token_request(p, &form).await.map_err(TokenError::Refused)?;
    let at = v["access_token"].as_str().ok_or_else(|| TokenError::Refused("no access token in the token response".into()))?.to_string();
    if let Some(rt) = v["refresh_token"].as_str() {
        session.refresh_token = rt.to_string();
    }
    session.tokens.insert(audience.to_string(), (at.clone(), now + v["expires_in"].as_i64().unwrap_or(0)));
    p.sessions.update(sid, session).await.map_err(TokenError::Store)?;
    Ok(at)
}

fn unavailable(e: Unavailable) -> Response {
    tracing::error!(error = %e.0, "portal session store unavailable");
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": {"code": "ServiceUnavailable", "message": "The portal cannot reach its session store. Try again in a moment."}}))).into_response()
}

fn not_signed_in() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "NotSignedIn", "message": "Sign in to the portal."}}))).into_response()
}
