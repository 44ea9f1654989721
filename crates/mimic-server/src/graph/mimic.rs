//! Mimic's own control calls on the Graph listener, under `/mimic/` (outside Graph's URL space),
//! authenticated like every Graph call and authorised by directory role.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use mimic_domain::directory::GLOBAL_ADMINISTRATOR;
use serde_json::json;

use super::ctx::Ctx;
use super::error::{GraphError, GraphResult};

pub fn route(ctx: &Ctx) -> GraphResult<Response> {
    let path: Vec<String> = ctx.segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    match path.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["signing-keys", "rotate"] => rotate_signing_keys(ctx),
        _ => Err(GraphError::segment_not_found(ctx.segments.first().map(String::as_str).unwrap_or("mimic"))),
    }
}

/// `POST /mimic/signing-keys/rotate` → `{"kid": new, "keys": [published kids, signing first]}`.
///
/// Only a Global Administrator of the home tenant (the one bootstrap created, which `mimic
/// admin` acts in) may rotate: the keys sign tokens for every tenant of this Mimic, and in
/// Entra their rollover is the platform operator's act, not any one tenant's, so no narrower
/// directory role (Privileged Role Administrator, Application Administrator) and no role in
/// another tenant is enough.
fn rotate_signing_keys(ctx: &Ctx) -> GraphResult<Response> {
    if ctx.method != Method::POST {
        return Err(GraphError::new(StatusCode::METHOD_NOT_ALLOWED, "Request_BadRequest", format!("The HTTP method '{}' is not allowed for this resource.", ctx.method)));
    }
    if ctx.tenant_id() != ctx.state.default_tenant || !ctx.roles()?.contains(&GLOBAL_ADMINISTRATOR) {
        return Err(GraphError::forbidden());
    }
    let kid = ctx.state.keys.rotate().map_err(GraphError::internal)?;
    let keys: Vec<String> = ctx.state.keys.keys().iter().map(|k| k.kid.clone()).collect();
    Ok(ctx.respond(StatusCode::OK, json!({ "kid": kid, "keys": keys })))
}
