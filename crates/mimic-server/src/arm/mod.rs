//! Azure Resource Manager (management.azure.com). Every request: route parsed into a typed
//! [`route::Route`], api-version checked, bearer token verified, then the handler, which asks
//! [`Ctx::authorize`] for the action it performs (RBAC on every call, DESIGN.md §3).

mod api_versions;
mod authorization;
mod compute;
mod ctx;
mod deployments;
mod error;
mod images;
mod metadata;
mod mimic;
mod msi;
mod network;
mod operations;
mod providers;
mod resource_groups;
mod resources;
mod route;
mod subnets;
mod subscriptions;
mod throttle;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::state::SharedState;
pub use ctx::Ctx;
pub use deployments::recover_interrupted as recover_interrupted_deployments;
pub use error::{ArmError, ArmResult};
pub use images::alias_doc as vm_image_alias_doc;
use route::Route;
pub use throttle::{RateLimit, Throttle};

/// ARM accepts tokens for these audiences (DESIGN.md §3), plus its own URL.
pub const AUDIENCES: &[&str] = &["https://management.core.windows.net/", "https://management.azure.com/"];

pub fn router(state: SharedState) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| crate::http::limit_body(|_| ArmError::request_too_large().into_response(), req, next)))
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("arm", req, next)))
}

async fn handle(State(state): State<SharedState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = route::percent_decode(uri.path());
    if mimic_domain::limits::has_dot_segment(uri.path()) || mimic_domain::limits::has_dot_segment(&path) {
        return ArmError::dot_segment(uri.path()).into_response();
    }
    let Some(route) = route::parse(&path) else {
        return ArmError::not_found_route(&path).into_response();
    };
    if route == Route::MetadataEndpoints {
        return metadata::endpoints(&state, uri.query()).into_response();
    }
    if route == Route::MimicVmImageAliases {
        // Open, as the public document az fetches from Azure's blob store is.
        return images::alias_doc();
    }
    let ctx = match Ctx::new(state, method, path, uri.query(), headers, body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let admitted = match ctx.state.arm_throttle.admit(&ctx.method, &ctx.path, ctx.caller.tenant, ctx.caller.object_id) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    // Reads run on the async workers (they take microseconds); writes wait for an fsync, so
    // they go to the blocking pool rather than stall other requests.
    let result = if ctx.method == Method::GET || ctx.method == Method::HEAD {
        dispatch(&ctx, route)
    } else {
        tokio::task::spawn_blocking(move || dispatch(&ctx, route)).await.unwrap_or_else(|e| Err(ArmError::internal(e)))
    };
    let mut res = result.unwrap_or_else(IntoResponse::into_response);
    if let Some(a) = admitted {
        a.apply(res.headers_mut());
    }
    res
}

fn dispatch(ctx: &Ctx, route: Route) -> ArmResult<Response> {
    use api_versions as v;
    match route {
        Route::MetadataEndpoints | Route::MimicVmImageAliases => unreachable!("served before authentication"),
        Route::MimicVmImds => mimic::vm_imds(ctx),
        Route::Tenants => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            subscriptions::list_tenants(ctx)
        }
        Route::Subscriptions => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            subscriptions::list(ctx)
        }
        Route::Subscription { sub } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            subscriptions::get(ctx, &sub)
        }
        Route::Locations { sub } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            subscriptions::locations(ctx, &sub)
        }
        Route::Providers { sub } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            subscriptions::providers(ctx, sub.as_deref())
        }
        Route::Provider { sub, namespace } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            subscriptions::provider(ctx, sub.as_deref(), &namespace)
        }
        Route::ResourceGroups { sub } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            resource_groups::list(ctx, &sub)
        }
        Route::ResourceGroup { sub, rg } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            resource_groups::handle(ctx, &sub, &rg)
        }
        Route::Resources { sub, rg } => {
            v::check(&ctx.api_version, v::RESOURCES)?;
            resources::list_all(ctx, &sub, rg.as_deref())
        }
        Route::OperationResult { sub, id } => operations::result(ctx, &sub, &id),
        Route::RoleDefinitions { scope } => {
            v::check(&ctx.api_version, v::ROLE_DEFINITIONS)?;
            authorization::list_role_definitions(ctx, &scope)
        }
        Route::RoleDefinition { scope, id } => {
            v::check(&ctx.api_version, v::ROLE_DEFINITIONS)?;
            authorization::role_definition(ctx, &scope, &id)
        }
        Route::RoleAssignments { scope } => {
            v::check(&ctx.api_version, v::ROLE_ASSIGNMENTS)?;
            authorization::list_role_assignments(ctx, &scope)
        }
        Route::RoleAssignment { scope, name } => {
            v::check(&ctx.api_version, v::ROLE_ASSIGNMENTS)?;
            authorization::role_assignment(ctx, &scope, &name)
        }
        Route::Permissions { scope } => {
            v::check(&ctx.api_version, v::PERMISSIONS)?;
            authorization::permissions(ctx, &scope)
        }
        // Lists of one type: a caller with no access at or below the list's scope is refused,
        // as Azure does ('Microsoft.Network/networkSecurityGroups/read' over
        // '/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network', Azure/CloudShell#561);
        // the handlers below filter the items for everyone else.
        Route::ResourceCollection { ref parent, ref namespace, ref resource_type }
            if ctx.method == Method::GET && !collection_visible(ctx, parent, namespace, resource_type)? =>
        {
            let scope = format!("{}/providers/{namespace}", parent.render().trim_end_matches('/'));
            Err(ArmError::authorization_failed(
                &ctx.caller.display(),
                &ctx.caller.object_id.to_string(),
                &format!("{namespace}/{resource_type}/read"),
                &scope,
            ))
        }
        // Typed resource types before the generic handler (DESIGN.md §5).
        Route::ResourceCollection { parent, namespace, resource_type } if deployments::is_collection(&namespace, &resource_type) => {
            deployments::list(ctx, &parent)
        }
        Route::Resource { id } if deployments::is_deployment_path(&id) => deployments::handle(ctx, &id),
        Route::ResourceAction { id, action } if deployments::is_deployment_path(&id) => deployments::action(ctx, &id, &action),
        Route::Resource { id } if images::is_image_path(&id) => images::get(ctx, &id),
        Route::ResourceAction { id, action } if images::is_image_listing(&id, &action) => images::list(ctx, &id, &action),
        Route::ResourceCollection { parent, namespace, resource_type } if compute::is_vm_collection(&namespace, &resource_type) => {
            compute::list(ctx, &parent)
        }
        Route::ResourceCollection { parent, namespace, resource_type } if msi::is_user_assigned_collection(&namespace, &resource_type) => {
            msi::list(ctx, &parent)
        }
        Route::ResourceCollection { parent, namespace, resource_type } => {
            resources::list_collection(ctx, &parent, &namespace, &resource_type)
        }
        Route::Resource { id } if compute::is_vm(&id) => compute::handle(ctx, &id),
        Route::Resource { id } if compute::is_operation(&id) => compute::operation(ctx, &id),
        Route::Resource { id } if msi::is_user_assigned(&id) => msi::handle(ctx, &id),
        Route::Resource { id } if msi::system_identity_scope(&id).is_some() => {
            msi::system_assigned_by_scope(ctx, &msi::system_identity_scope(&id).unwrap_or(id))
        }
        Route::Resource { id } if subnets::is_subnet(&id) => subnets::handle(ctx, &id),
        Route::Resource { id } => resources::handle(ctx, &id),
        Route::ResourceAction { id, action } if compute::is_vm_action(&id, &action) => compute::action(ctx, &id, &action),
        Route::ResourceAction { id, action } if subnets::is_collection(&id, &action) => subnets::list(ctx, &id),
        Route::ResourceAction { id, action } => resources::action(ctx, &id, &action),
    }
}

/// Whether the caller may list `{parent}/providers/{namespace}/{resource_type}`: it may read the
/// type there, or holds some role at or below the parent (then it sees what it may read).
fn collection_visible(ctx: &Ctx, parent: &mimic_domain::resource_id::ResourceId, namespace: &str, resource_type: &str) -> ArmResult<bool> {
    let parent = parent.render();
    let scope = format!("{}/providers/{namespace}", parent.trim_end_matches('/'));
    Ok(ctx.allowed(&format!("{namespace}/{resource_type}/read"), &scope)? || ctx.has_any_access_within(&parent)?)
}
