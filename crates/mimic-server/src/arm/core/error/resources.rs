//! Microsoft.Resources: subscriptions, resource providers and resource groups (texts as ARM
//! returns them, docs/azure-behaviour.md §3 unless noted).

use axum::http::StatusCode;

use super::ArmError;

impl ArmError {
    // ---- subscriptions and providers ---------------------------------------------------

    pub fn invalid_subscription_id(sub: &str) -> Self {
        Self::bad_request("InvalidSubscriptionId", format!("The provided subscription identifier '{sub}' is malformed or invalid."))
    }

    pub fn subscription_not_found(sub: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "SubscriptionNotFound", format!("The subscription '{sub}' could not be found."))
    }

    pub fn invalid_resource_namespace(namespace: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "InvalidResourceNamespace", format!("The resource namespace '{namespace}' is invalid."))
    }

    // ---- moves (resources.json `Resources_MoveResources`; codes and texts [INFERRED]) ------

    /// A move request Azure refuses outright: no resources, too many, a child resource, a
    /// resource of another group, a target that is the source or not a resource group.
    pub fn invalid_move_request(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidResourceMoveRequest", message)
    }

    /// A type Mimic cannot move yet (its provider keeps state under the resource's id).
    pub fn resource_move_not_supported(resource_type: &str) -> Self {
        Self::bad_request(
            "ResourceMoveNotSupported",
            format!("Resource move is not supported for resource type '{resource_type}' in Mimic yet (docs/compatibility.md)."),
        )
    }

    /// A resource that something outside the request depends on or that depends on it (a NIC
    /// attached to a VM that is not moved with it).
    pub fn missing_move_dependent_resources(missing: &[String]) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "MissingMoveDependentResources",
            format!(
                "The move resources request does not contain all the dependent resources. Please check error details for missing resource identifiers: {}",
                missing.join(", ")
            ),
        )
    }

    pub fn move_target_exists(id: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "ResourceExistsInTargetResourceGroup",
            format!("A resource with id '{id}' already exists in the target resource group."),
        )
    }

    // ---- resource groups ---------------------------------------------------------------

    pub fn resource_group_not_found(rg: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceGroupNotFound", format!("Resource group '{rg}' could not be found."))
    }

    /// A resource group name breaking ARM's rule (too long, ending with a period, or with
    /// characters other than letters, digits, `-`, `.`, `(`, `)` and `_`), in ARM's words for
    /// which rule it breaks.
    pub fn invalid_resource_group_name(rg: &str) -> Self {
        let bad: String = rg.chars().filter(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))).collect();
        let message = if rg.chars().count() > 90 {
            format!("The provided resource group name '{rg}' exceeds the maximum length of 90 characters.")
        } else if bad.is_empty() {
            format!("The provided resource group name '{rg}' must not end with a period. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.")
        } else {
            format!("The provided resource group name '{rg}' has these invalid characters: '{bad}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.")
        };
        Self::bad_request("InvalidResourceGroup", message)
    }

    /// `locations`: every region, in the order ARM lists them.
    pub fn location_not_available_for_resource_group(location: &str, locations: &[&str]) -> Self {
        Self::bad_request(
            "LocationNotAvailableForResourceGroup",
            format!(
                "The provided location '{location}' is not available for resource group. List of available regions is '{}'.",
                locations.join(",")
            ),
        )
    }

    /// A PUT naming another location than the existing group's.
    pub fn invalid_resource_group_location(requested: &str, existing: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "InvalidResourceGroupLocation",
            format!("Invalid resource group location '{requested}'. The Resource group already exists in location '{existing}'."),
        )
    }

    pub fn invalid_resource_group_filter(filter: &str) -> Self {
        Self::bad_request(
            "InvalidFilterInQueryString",
            format!("The filter '{filter}' is not supported. Supported filters are tagName and tagValue."),
        )
    }

    // ---- tags ---------------------------------------------------------------------------

    /// A Tags API PATCH whose `operation` is not `Merge`, `Replace` or `Delete` [INFERRED wording].
    pub fn invalid_tags_operation(op: &str) -> Self {
        Self::bad_request(
            "InvalidTagOperation",
            format!("The tag operation '{op}' is not valid. The supported operations are 'Merge', 'Replace' and 'Delete'."),
        )
    }

    /// A predefined tag name with a reserved prefix or over 512 characters (resources.json
    /// `Tags_CreateOrUpdate`) [INFERRED code and wording].
    pub fn invalid_tag_name(name: &str) -> Self {
        Self::bad_request(
            "InvalidTagName",
            format!("The tag name '{name}' is not valid. Tag names can have at most 512 characters and cannot start with 'microsoft', 'azure' or 'windows'."),
        )
    }

    /// Deleting a predefined name some resource carries (resources.json `Tags_Delete`) [INFERRED code and wording].
    pub fn tag_name_in_use(name: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "TagNameInUse", format!("The tag name '{name}' is in use by resources and cannot be deleted."))
    }

    /// Deleting a predefined name whose values are still defined (resources.json `Tags_Delete`) [INFERRED code and wording].
    pub fn tag_name_has_values(name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "TagNameHasValues",
            format!("The tag name '{name}' has predefined values; delete them before deleting the name."),
        )
    }

    // ---- export ---------------------------------------------------------------------------

    /// An `exportTemplate` option ARM does not know [INFERRED code and wording].
    pub fn invalid_export_option(option: &str) -> Self {
        Self::bad_request(
            "InvalidExportTemplateOptions",
            format!("The export template option '{option}' is not valid. The supported options are 'IncludeParameterDefaultValue', 'IncludeComments', 'SkipResourceNameParameterization' and 'SkipAllParameterization'."),
        )
    }
}
