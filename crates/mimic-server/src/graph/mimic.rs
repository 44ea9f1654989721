//! Mimic's own control calls on the Graph listener, under `/mimic/` (outside Graph's URL space),
//! authenticated like every Graph call and authorised by directory role.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use mimic_domain::directory::GLOBAL_ADMINISTRATOR;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::ctx::Ctx;
use super::error::{GraphError, GraphResult};

pub fn route(ctx: &Ctx) -> GraphResult<Response> {
    let path: Vec<String> = ctx.segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    match path.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["signing-keys", "rotate"] => rotate_signing_keys(ctx),
        ["tenants"] => create_tenant(ctx),
        ["oidc-issuers", _, "token"] => mint_oidc_token(ctx, &ctx.segments[1]),
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
    require_platform_operator(ctx)?;
    let kid = ctx.state.keys.rotate().map_err(GraphError::internal)?;
    let keys: Vec<String> = ctx.state.keys.keys().iter().map(|k| k.kid.clone()).collect();
    Ok(ctx.respond(StatusCode::OK, json!({ "kid": kid, "keys": keys })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MintRequest {
    subject: String,
    audience: Option<String>,
    #[serde(default)]
    claims: serde_json::Map<String, serde_json::Value>,
}

/// `POST /mimic/oidc-issuers/{name}/token` `{"subject", "audience"?, "claims"?}` →
/// `{"token", "issuer"}`: a token of the hosted issuer `name` (`crate::federation::hosted`),
/// which the caller's tenant owns or, on first use, comes to own. Minting lets its holder sign
/// in wherever a credential trusts the issuer, so it takes what managing app registrations
/// takes (Application Administrator or above, `DirectoryAction::ManageApplications`).
fn mint_oidc_token(ctx: &Ctx, name: &str) -> GraphResult<Response> {
    use crate::federation::hosted::{self, MintError};
    if ctx.method != Method::POST {
        return Err(GraphError::method_not_allowed());
    }
    ctx.require(mimic_domain::directory::DirectoryAction::ManageApplications)?;
    let req: MintRequest = ctx.json()?;
    let audience = req.audience.unwrap_or_else(|| mimic_domain::federation::DEFAULT_AUDIENCE.to_string());
    let token = hosted::mint(&ctx.state, ctx.tenant_id(), name, &req.subject, &audience, &req.claims).map_err(|e| match e {
        MintError::NotOwner(_) => GraphError::new(StatusCode::FORBIDDEN, "Authorization_RequestDenied", e.to_string()),
        MintError::Store(s) => s.into(),
        MintError::Internal(m) => GraphError::internal(m),
        other => GraphError::bad_request(other.to_string()),
    })?;
    let issuer = mimic_domain::federation::hosted::issuer_url(name);
    Ok(ctx.respond(StatusCode::OK, json!({ "token": token, "issuer": issuer })))
}

/// What only the platform's operator may do: a `POST` by a Global Administrator of the home
/// tenant (the one bootstrap created, which `mimic admin` acts in).
fn require_platform_operator(ctx: &Ctx) -> GraphResult<()> {
    if ctx.method != Method::POST {
        return Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            format!("The HTTP method '{}' is not allowed for this resource.", ctx.method),
        ));
    }
    if ctx.tenant_id() != ctx.state.default_tenant || !ctx.roles()?.contains(&GLOBAL_ADMINISTRATOR) {
        return Err(GraphError::forbidden());
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TenantRequest {
    tenant_id: Option<Uuid>,
    subscription_id: Option<Uuid>,
    display_name: Option<String>,
}

/// `POST /mimic/tenants` → 201 with the new tenant's ids and secrets, in `bootstrap.json`'s shape
/// and shown only this once. A tenant is created, in Entra, by a signed-in person outside any
/// tenant's API; here the platform operator does it. The new tenant shares nothing with the
/// others (docs/ARCHITECTURE.md "Contract"): its own directory, administrator, service principal (Owner of its
/// first subscription) and subscription.
fn create_tenant(ctx: &Ctx) -> GraphResult<Response> {
    require_platform_operator(ctx)?;
    let req: TenantRequest = if ctx.body.iter().all(u8::is_ascii_whitespace) { TenantRequest::default() } else { ctx.json()? };
    let name = req.display_name.as_deref().map(str::trim).unwrap_or("Mimic");
    if name.is_empty() || name.len() > 256 {
        return Err(GraphError::invalid_value("displayName", "tenant"));
    }
    let new = crate::bootstrap::NewTenant::new(req.tenant_id, req.subscription_id, name);
    let taken = ctx
        .state
        .store
        .write(|tx| {
            let ids = &new.secrets;
            let taken = if tx.tenant(ids.tenant_id)?.is_some() {
                Some(format!("A tenant with id '{}' already exists.", ids.tenant_id))
            } else if tx.subscription(ids.subscription_id)?.is_some() {
                Some(format!("A subscription with id '{}' already exists.", ids.subscription_id))
            } else if tx.tenants()?.iter().any(|t| t.default_domain.eq_ignore_ascii_case(new.domain())) {
                Some(format!("The domain '{}' is already in use; choose another tenant id.", new.domain()))
            } else {
                None
            };
            if taken.is_none() {
                new.write(tx)?;
            }
            Ok::<_, anyhow::Error>(taken)
        })
        .map_err(GraphError::internal)?;
    if let Some(message) = taken {
        return Err(GraphError::new(StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue", message));
    }
    let body = serde_json::to_value(&new.secrets).map_err(GraphError::internal)?;
    Ok(ctx.respond(StatusCode::CREATED, body))
}
