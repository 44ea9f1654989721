//! Azure Resource Manager (management.azure.com). Every request: route parsed into a typed
//! [`route::Endpoint`], api-version checked, bearer token verified, then the handler, which asks
//! [`Ctx::authorize`] for the action it performs (RBAC on every call, docs/ARCHITECTURE.md "Contract").

//! Layers: this edge (routing, authentication, throttling, rendering) → [`providers`] (one
//! module per resource provider, registered once) → [`core`] (context, errors, endpoint,
//! replies, registry, generic store). Providers depend on the core, never on one another.

pub mod core;
mod metadata;
mod providers;
mod provisioning;
mod throttle;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::state::SharedState;
pub use core::ArmError;
use core::{endpoint, Ctx, Endpoint, Registry};
pub use providers::compute::images::alias_doc as vm_image_alias_doc;
pub use providers::recover_interrupted as recover_interrupted_deployments;
pub use provisioning::ProvisioningDelay;
pub use throttle::{RateLimit, Throttle};

/// The providers, built once.
fn registry() -> &'static Registry {
    Registry::install(providers::registry)
}

/// Every registered namespace with its types and api-versions, as `GET /providers` lists them.
pub fn catalog() -> &'static [core::catalog::ProviderInfo] {
    registry().catalog()
}

/// What ARM's handler holds: the shared state, and the throttle that direct and proxied ARM
/// requests share.
#[derive(Clone)]
struct ArmService {
    state: SharedState,
    throttle: Arc<Throttle>,
}

pub fn router(state: SharedState, throttle: Arc<Throttle>) -> Router {
    registry();
    Router::new()
        .fallback(handle)
        .with_state(ArmService { state, throttle })
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| crate::http::limit_body(|_| ArmError::request_too_large().into_response(), req, next)))
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("arm", req, next)))
}

async fn handle(
    State(ArmService { state, throttle }): State<ArmService>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Clients encode path parameters (`rg%28x%29` is `rg(x)`); an encoded `/` stays in its segment.
    let path = mimic_domain::percent::decode_path(uri.path());
    if mimic_domain::limits::has_dot_segment(uri.path()) || mimic_domain::limits::has_dot_segment(&path) {
        return ArmError::dot_segment(uri.path()).into_response();
    }
    let Some(endpoint) = endpoint::parse(&path) else {
        return ArmError::not_found_route(&path).into_response();
    };
    if endpoint == Endpoint::MetadataEndpoints {
        return metadata::endpoints(&state, uri.query()).into_response();
    }
    if endpoint == Endpoint::MimicVmImageAliases {
        // Open, as the public document az fetches from Azure's blob store is.
        return vm_image_alias_doc();
    }
    let ctx = match Ctx::new(state, method, path, uri.query(), headers, body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let admitted = match throttle.admit(&ctx.method, &ctx.path, ctx.caller.tenant, ctx.caller.object_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    // Reads run on the async workers (they take microseconds); writes wait for an fsync, so
    // they go to the blocking pool rather than stall other requests.
    let result = if ctx.method == Method::GET || ctx.method == Method::HEAD {
        Registry::installed().dispatch(&ctx, &endpoint)
    } else {
        tokio::task::spawn_blocking(move || Registry::installed().dispatch(&ctx, &endpoint))
            .await
            .unwrap_or_else(|e| Err(ArmError::internal(e)))
    };
    let mut res = result.map(IntoResponse::into_response).unwrap_or_else(IntoResponse::into_response);
    if let Some(a) = admitted {
        a.apply(res.headers_mut());
    }
    res
}
