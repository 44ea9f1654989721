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

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(OPERATIONS)
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
            ProviderOperations { namespace } => subscriptions::provider_operations(ctx, namespace),
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

/// `GET /providers/Microsoft.Resources/operations`: the actions this provider checks, with the display texts of
/// Azure's list (learn.microsoft.com "Azure resource provider operations", Microsoft.Resources).
/// One table for the namespace: the deployments provider shares it.
const OPERATIONS: crate::arm::core::catalog::Operations =
    crate::arm::core::catalog::Operations { provider: "Microsoft Resources", origin: None, entries: RESOURCES_OPERATIONS };

#[rustfmt::skip]
static RESOURCES_OPERATIONS: &[crate::arm::core::catalog::Operation] = {
    use crate::arm::core::catalog::{op};
    &[
        op("Microsoft.Resources/checkResourceName/action", "Check Resource Name", "Check Resource Name", "Check the resource name for validity."),
        op("Microsoft.Resources/subscriptions/read", "Subscription", "Get Subscription", "Gets the list of subscriptions."),
        op("Microsoft.Resources/subscriptions/locations/read", "Location", "Get Available Locations", "Gets the list of locations supported."),
        op("Microsoft.Resources/subscriptions/providers/read", "Providers", "Get Resource Providers", "Gets or lists resource providers."),
        op("Microsoft.Resources/subscriptions/operationresults/read", "Subscription Operation Results", "Get Subscription Operation Results", "Get the subscription operation results."),
        op("Microsoft.Resources/subscriptions/resources/read", "Subscription Resources", "Get Subscription Resources", "Gets resources of a subscription."),
        op("Microsoft.Resources/subscriptions/resourceGroups/read", "Resource Group", "Get Resource Group", "Gets or lists resource groups."),
        op("Microsoft.Resources/subscriptions/resourceGroups/write", "Resource Group", "Create Resource Group", "Creates or updates a resource group."),
        op("Microsoft.Resources/subscriptions/resourceGroups/delete", "Resource Group", "Delete Resource Group", "Deletes a resource group and all its resources."),
        op("Microsoft.Resources/subscriptions/resourceGroups/resources/read", "Resource Group Resources", "Get Resource Group Resources", "Gets the resources for the resource group."),
        op("Microsoft.Resources/subscriptions/resourceGroups/exportTemplate/action", "Resource Group", "Export Resource Group Template", "Export template for a resource group."),
        op("Microsoft.Resources/subscriptions/tagNames/read", "Tag Name", "Get Tag Name", "Gets or lists subscription tags."),
        op("Microsoft.Resources/subscriptions/tagNames/write", "Tag Name", "Create Tag Name", "Adds a subscription tag."),
        op("Microsoft.Resources/subscriptions/tagNames/delete", "Tag Name", "Delete Tag Name", "Deletes a subscription tag."),
        op("Microsoft.Resources/subscriptions/tagNames/tagValues/read", "Tag Value", "Get Tag Value", "Gets or lists subscription tag values."),
        op("Microsoft.Resources/subscriptions/tagNames/tagValues/write", "Tag Value", "Create Tag Value", "Adds a subscription tag value."),
        op("Microsoft.Resources/subscriptions/tagNames/tagValues/delete", "Tag Value", "Delete Tag Value", "Deletes a subscription tag value."),
        op("Microsoft.Resources/tags/read", "Tags", "Get Tags", "Gets all the tags on a resource."),
        op("Microsoft.Resources/tags/write", "Tags", "Update Tags", "Updates the tags on a resource by replacing or merging existing tags with a new set of tags, or removing existing tags."),
        op("Microsoft.Resources/tags/delete", "Tags", "Delete Tags", "Removes all the tags on a resource."),
        op("Microsoft.Resources/deployments/read", "Deployment", "Get Deployment", "Gets or lists deployments."),
        op("Microsoft.Resources/deployments/write", "Deployment", "Create Deployment", "Creates or updates an deployment."),
        op("Microsoft.Resources/deployments/delete", "Deployment", "Delete Deployment", "Deletes a deployment."),
        op("Microsoft.Resources/deployments/cancel/action", "Deployment", "Cancel Deployment", "Cancels a deployment."),
        op("Microsoft.Resources/deployments/validate/action", "Deployment", "Validate Deployment", "Validates an deployment."),
        op("Microsoft.Resources/deployments/whatIf/action", "Deployment", "Predict Deployment Changes", "Predicts template deployment changes."),
        op("Microsoft.Resources/deployments/exportTemplate/action", "Deployment", "Export Deployment Template", "Export template for a deployment"),
        op("Microsoft.Resources/deployments/operations/read", "Deployment Operation", "Get Deployment Operation", "Gets or lists deployment operations."),
        op("Microsoft.Resources/deployments/operationstatuses/read", "Deployment Operation Status", "Get Deployment Operation Status", "Gets or lists deployment operation statuses."),
    ]
};
