//! Microsoft.Resources: tenants, subscriptions and their locations, the provider catalogue,
//! resource groups, the resource lists, operation results, the Tags API, group export and moves.
//! (Deployments, in the same namespace, are their own provider.)

mod export_template;
mod moves;
mod resource_groups;
mod subscriptions;
mod tags;

use axum::http::Method;

use crate::arm::core::api_versions::{self as v, RESOURCES};
use crate::arm::core::catalog::ResourceType;
use crate::arm::core::{generic, operations, ArmError, ArmResult, Ctx, Endpoint, Provider, Reply};

pub struct Resources;

impl Provider for Resources {
    fn namespace(&self) -> &'static str {
        crate::arm::core::endpoint::RESOURCES_NAMESPACE
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "resourceGroups", api_versions: RESOURCES },
            ResourceType { name: "subscriptions", api_versions: RESOURCES },
            ResourceType { name: "tenants", api_versions: RESOURCES },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        use Endpoint::*;
        match endpoint {
            OperationResult { sub, id } => operations::result(ctx, sub, id),
            Tags { scope } => tags::at_scope(ctx, scope),
            TagNames { sub } => tags::names(ctx, sub),
            TagName { sub, name } => tags::name(ctx, sub, name),
            TagValue { sub, name, value } => tags::value(ctx, sub, name, value),
            ExportTemplate { sub, rg } => export_template::export_group(ctx, sub, rg),
            MoveResources { sub, rg, validate_only } => moves::handle(ctx, sub, rg, *validate_only),
            // Registration takes the namespace's own api-version (az sends Microsoft.Resources').
            Register { sub, namespace } if ctx.method == Method::POST => {
                let s = ctx.subscription(sub)?;
                subscriptions::provider(ctx, Some(&s.id.to_string()), namespace)
            }
            Register { .. } => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
            Resource { .. } | ResourceAction { .. } | ResourceCollection { .. } => generic::serve(ctx, endpoint, &generic::Plain),
            _ => {
                v::check(&ctx.api_version, RESOURCES)?;
                match endpoint {
                    Tenants => subscriptions::list_tenants(ctx),
                    Subscriptions => subscriptions::list(ctx),
                    Subscription { sub } => subscriptions::get(ctx, sub),
                    Locations { sub } => subscriptions::locations(ctx, sub),
                    Providers { sub } => subscriptions::providers(ctx, sub.as_deref()),
                    Provider { sub, namespace } => subscriptions::provider(ctx, sub.as_deref(), namespace),
                    ResourceGroups { sub } => resource_groups::list(ctx, sub),
                    ResourceGroup { sub, rg } => resource_groups::handle(ctx, sub, rg),
                    Resources { sub, rg } => generic::list_all(ctx, sub, rg.as_deref()),
                    _ => Err(ArmError::not_found_route(&ctx.path)),
                }
            }
        }
    }
}
