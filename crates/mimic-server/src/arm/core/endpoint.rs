//! Parses an ARM request path into a typed [`Endpoint`] before any handler runs: what it names
//! (scope, provider namespace, resource type, action) decides which provider answers it
//! ([`super::registry::Registry::provider_for`]). ARM matches
//! keyword segments case-insensitively (`resourcegroups` = `resourceGroups`), and az sends
//! `//metadata/endpoints` when the registered endpoint ends in `/`.

use mimic_domain::resource_id::ResourceId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    MetadataEndpoints,
    /// `POST /mimic/vm-imds`: Mimic's own control call, outside Azure's URL space: the IMDS
    /// address of a VM, for `mimic vm run`.
    MimicVmImds,
    /// `GET /mimic/vm-image-aliases`: the image alias document `vmImageAliasDoc` names.
    MimicVmImageAliases,
    Tenants,
    Subscriptions,
    Subscription {
        sub: String,
    },
    Locations {
        sub: String,
    },
    /// `/providers` or `/subscriptions/{s}/providers`.
    Providers {
        sub: Option<String>,
    },
    Provider {
        sub: Option<String>,
        namespace: String,
    },
    /// `GET /providers/{ns}/operations`: the operations a provider publishes.
    ProviderOperations {
        namespace: String,
    },
    /// `POST /subscriptions/{s}/providers/{ns}/register`
    Register {
        sub: String,
        namespace: String,
    },
    ResourceGroups {
        sub: String,
    },
    ResourceGroup {
        sub: String,
        rg: String,
    },
    /// `/subscriptions/{s}[/resourceGroups/{rg}]/resources`
    Resources {
        sub: String,
        rg: Option<String>,
    },
    /// `/subscriptions/{s}/operationresults/{id}`: results of async operations.
    OperationResult {
        sub: String,
        id: String,
    },
    /// `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{id}]`
    RoleDefinitions {
        scope: String,
    },
    RoleDefinition {
        scope: String,
        id: String,
    },
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]`
    RoleAssignments {
        scope: String,
    },
    RoleAssignment {
        scope: String,
        name: String,
    },
    /// `{scope}/providers/Microsoft.Authorization/permissions`: the caller's effective permissions.
    Permissions {
        scope: String,
    },
    /// `{scope}/providers/Microsoft.Authorization/locks[/{name}]`: management locks.
    Locks {
        scope: String,
    },
    Lock {
        scope: String,
        name: String,
    },
    /// `{scope}/providers/Microsoft.Resources/tags/default`: the Tags API at a subscription,
    /// resource group or resource.
    Tags {
        scope: String,
    },
    /// `/subscriptions/{s}/tagNames[/{name}[/tagValues/{value}]]`: predefined tags.
    TagNames {
        sub: String,
    },
    TagName {
        sub: String,
        name: String,
    },
    TagValue {
        sub: String,
        name: String,
        value: String,
    },
    /// `POST /subscriptions/{s}/resourcegroups/{rg}/exportTemplate`.
    ExportTemplate {
        sub: String,
        rg: String,
    },
    /// `POST /subscriptions/{s}/resourceGroups/{rg}/moveResources|validateMoveResources`.
    MoveResources {
        sub: String,
        rg: String,
        validate_only: bool,
    },
    /// Resources of one type: `/subscriptions/{s}[/resourceGroups/{rg}]/providers/{ns}/{type}`
    /// (and child collections `.../{type}/{name}/{childType}`).
    ResourceCollection {
        parent: ResourceId,
        namespace: String,
        resource_type: String,
    },
    /// One resource by id.
    Resource {
        id: ResourceId,
    },
    /// `POST {id}/{action}`
    ResourceAction {
        id: ResourceId,
        action: String,
    },
}

impl Endpoint {
    /// The provider namespace that serves this endpoint: for an extension resource
    /// (`{resource}/providers/{ns}/{type}/{name}`), the extension's namespace.
    pub fn namespace(&self) -> &str {
        use Endpoint::*;
        match self {
            MetadataEndpoints | MimicVmImds | MimicVmImageAliases => MIMIC_NAMESPACE,
            Tenants
            | Subscriptions
            | Subscription { .. }
            | Locations { .. }
            | Providers { .. }
            | Provider { .. }
            | ProviderOperations { .. }
            | Register { .. } => RESOURCES_NAMESPACE,
            ResourceGroups { .. }
            | ResourceGroup { .. }
            | Resources { .. }
            | OperationResult { .. }
            | ExportTemplate { .. }
            | MoveResources { .. } => RESOURCES_NAMESPACE,
            Tags { .. } | TagNames { .. } | TagName { .. } | TagValue { .. } => RESOURCES_NAMESPACE,
            RoleDefinitions { .. }
            | RoleDefinition { .. }
            | RoleAssignments { .. }
            | RoleAssignment { .. }
            | Permissions { .. }
            | Locks { .. }
            | Lock { .. } => AUTHORIZATION_NAMESPACE,
            ResourceCollection { namespace, .. } => namespace,
            Resource { id } | ResourceAction { id, .. } => extension(id).0,
        }
    }

    /// The top-level resource type below [`Self::namespace`] (`virtualMachines` for a VM, its
    /// actions and its children), if the endpoint names one.
    pub fn resource_type(&self) -> Option<&str> {
        use Endpoint::*;
        match self {
            MetadataEndpoints | MimicVmImds | MimicVmImageAliases => None,
            Tenants => Some("tenants"),
            Subscriptions | Subscription { .. } | Locations { .. } => Some("subscriptions"),
            Providers { .. } | Provider { .. } | ProviderOperations { .. } | Register { .. } => Some("providers"),
            ResourceGroups { .. } | ResourceGroup { .. } | ExportTemplate { .. } | MoveResources { .. } => Some("resourceGroups"),
            Tags { .. } => Some("tags"),
            TagNames { .. } | TagName { .. } | TagValue { .. } => Some("tagNames"),
            Locks { .. } | Lock { .. } => Some("locks"),
            Resources { .. } => Some("resources"),
            OperationResult { .. } => Some("operationresults"),
            RoleDefinitions { .. } | RoleDefinition { .. } => Some("roleDefinitions"),
            RoleAssignments { .. } | RoleAssignment { .. } => Some("roleAssignments"),
            Permissions { .. } => Some("permissions"),
            ResourceCollection { resource_type, .. } => Some(resource_type),
            Resource { id } | ResourceAction { id, .. } => extension(id).1,
        }
    }
}

pub const MIMIC_NAMESPACE: &str = "Mimic";
pub const RESOURCES_NAMESPACE: &str = "Microsoft.Resources";
pub const AUTHORIZATION_NAMESPACE: &str = "Microsoft.Authorization";

/// The namespace and first type of the innermost provider segment of `id`:
/// `.../virtualMachines/vm/providers/Microsoft.ManagedIdentity/identities/default` is
/// (`Microsoft.ManagedIdentity`, `identities`).
fn extension(id: &ResourceId) -> (&str, Option<&str>) {
    match id.types.iter().rposition(|(t, _)| eq(t, "providers")) {
        Some(i) => (id.types[i].1.as_str(), id.types.get(i + 1).map(|(t, _)| t.as_str())),
        None => (id.namespace.as_deref().unwrap_or(RESOURCES_NAMESPACE), id.types.first().map(|(t, _)| t.as_str())),
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

pub fn parse(path: &str) -> Option<Endpoint> {
    let trimmed = path.trim_matches('/');
    let all: Vec<&str> = if trimmed.is_empty() { vec![] } else { trimmed.split('/').collect() };
    // The management SDKs build a resource's lock path with an empty `parentResourcePath`
    // (`.../providers/Microsoft.Network//virtualNetworks/v/providers/Microsoft.Authorization/locks`),
    // which ARM reads as if the empty segment were not there; elsewhere one is no route.
    let segs: Vec<&str> = all.iter().copied().filter(|s| !s.is_empty()).collect();
    let authorization =
        (0..segs.len().saturating_sub(1)).rev().find(|&i| eq(segs[i], "providers") && eq(segs[i + 1], "Microsoft.Authorization"));
    if segs.len() != all.len() && authorization.is_none() {
        return None;
    }
    if let Some(scope) = tags_scope(&segs) {
        return Some(Endpoint::Tags { scope });
    }
    // Microsoft.Authorization at any scope.
    if let Some(i) = authorization {
        let scope = if i == 0 { "/".to_string() } else { scope_of(&segs[..i]) };
        ResourceId::parse(&scope).ok()?;
        let rest = &segs[i + 2..];
        return match rest {
            [t] if eq(t, "roleDefinitions") => Some(Endpoint::RoleDefinitions { scope }),
            [t, id] if eq(t, "roleDefinitions") => Some(Endpoint::RoleDefinition { scope, id: id.to_string() }),
            [t] if eq(t, "roleAssignments") => Some(Endpoint::RoleAssignments { scope }),
            [t, name] if eq(t, "roleAssignments") => Some(Endpoint::RoleAssignment { scope, name: name.to_string() }),
            [t] if eq(t, "permissions") => Some(Endpoint::Permissions { scope }),
            [t] if eq(t, "locks") => Some(Endpoint::Locks { scope }),
            [t, name] if eq(t, "locks") => Some(Endpoint::Lock { scope, name: name.to_string() }),
            [t] if i == 0 && eq(t, "operations") => Some(Endpoint::ProviderOperations { namespace: segs[1].to_string() }),
            _ => None,
        };
    }
    match segs.as_slice() {
        [m, e] if eq(m, "metadata") && eq(e, "endpoints") => Some(Endpoint::MetadataEndpoints),
        [m, v] if *m == "mimic" && *v == "vm-imds" => Some(Endpoint::MimicVmImds),
        [m, v] if *m == "mimic" && *v == "vm-image-aliases" => Some(Endpoint::MimicVmImageAliases),
        [t] if eq(t, "tenants") => Some(Endpoint::Tenants),
        [p] if eq(p, "providers") => Some(Endpoint::Providers { sub: None }),
        [p, ns] if eq(p, "providers") => Some(Endpoint::Provider { sub: None, namespace: ns.to_string() }),
        [p, ns, o] if eq(p, "providers") && eq(o, "operations") => Some(Endpoint::ProviderOperations { namespace: ns.to_string() }),
        [s] if eq(s, "subscriptions") => Some(Endpoint::Subscriptions),
        [s, sub, rest @ ..] if eq(s, "subscriptions") => subscription_route(sub, rest),
        _ => None,
    }
}

/// The scope of `{scope}/providers/Microsoft.Resources/tags/default`, if `segs` name one under a subscription.
fn tags_scope(segs: &[&str]) -> Option<String> {
    let [scope @ .., p, ns, t, d] = segs else { return None };
    if !(eq(p, "providers") && eq(ns, "Microsoft.Resources") && eq(t, "tags") && eq(d, "default")) {
        return None;
    }
    let scope = scope_of(scope);
    ResourceId::parse(&scope).ok()?.subscription?;
    Some(scope)
}

/// The scope that `segs` spell in front of an extension route. Some SDKs send the scope as one
/// percent-encoded path parameter (azure-mgmt-resource's ManagementLockClient 2016-09-01:
/// `/%2Fsubscriptions%2F{s}%2FresourceGroups%2F{rg}/providers/Microsoft.Authorization/locks/{name}`),
/// which ARM takes as the scope it encodes; an encoded `/` anywhere else stays in its segment.
fn scope_of(segs: &[&str]) -> String {
    let joined = segs.join("/").replace("%2F", "/").replace("%2f", "/");
    let parts: Vec<&str> = joined.split('/').filter(|p| !p.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

fn subscription_route(sub: &str, rest: &[&str]) -> Option<Endpoint> {
    let sub = sub.to_string();
    match rest {
        [] => Some(Endpoint::Subscription { sub }),
        [l] if eq(l, "locations") => Some(Endpoint::Locations { sub }),
        [r] if eq(r, "resources") => Some(Endpoint::Resources { sub, rg: None }),
        [o, id] if eq(o, "operationresults") => Some(Endpoint::OperationResult { sub, id: id.to_string() }),
        [r] if eq(r, "resourceGroups") => Some(Endpoint::ResourceGroups { sub }),
        [r, rg] if eq(r, "resourceGroups") => Some(Endpoint::ResourceGroup { sub, rg: rg.to_string() }),
        [r, rg, x] if eq(r, "resourceGroups") && eq(x, "resources") => Some(Endpoint::Resources { sub, rg: Some(rg.to_string()) }),
        [r, rg, x] if eq(r, "resourceGroups") && eq(x, "exportTemplate") => Some(Endpoint::ExportTemplate { sub, rg: rg.to_string() }),
        [r, rg, x] if eq(r, "resourceGroups") && (eq(x, "moveResources") || eq(x, "validateMoveResources")) => {
            Some(Endpoint::MoveResources { sub, rg: rg.to_string(), validate_only: eq(x, "validateMoveResources") })
        }
        [t] if eq(t, "tagNames") => Some(Endpoint::TagNames { sub }),
        [t, name] if eq(t, "tagNames") => Some(Endpoint::TagName { sub, name: name.to_string() }),
        [t, name, v, value] if eq(t, "tagNames") && eq(v, "tagValues") => {
            Some(Endpoint::TagValue { sub, name: name.to_string(), value: value.to_string() })
        }
        [r, rg, p, tail @ ..] if eq(r, "resourceGroups") && eq(p, "providers") => provider_route(sub, Some(rg.to_string()), tail),
        // Deployment operations keep their legacy path without `providers` (resources.json
        // `DeploymentOperations_List`): `.../resourcegroups/{rg}/deployments/{name}/operations[/{id}]`.
        [r, rg, d, name, o, rest @ ..] if eq(r, "resourceGroups") && eq(d, "deployments") && eq(o, "operations") && rest.len() <= 1 => {
            let mut tail = vec!["Microsoft.Resources", "deployments", name, "operations"];
            tail.extend(rest.iter().copied());
            provider_route(sub, Some(rg.to_string()), &tail)
        }
        [p] if eq(p, "providers") => Some(Endpoint::Providers { sub: Some(sub) }),
        [p, ns] if eq(p, "providers") => Some(Endpoint::Provider { sub: Some(sub), namespace: ns.to_string() }),
        [p, ns, r] if eq(p, "providers") && eq(r, "register") => Some(Endpoint::Register { sub, namespace: ns.to_string() }),
        [p, tail @ ..] if eq(p, "providers") => provider_route(sub, None, tail),
        _ => None,
    }
}

/// `tail` = `{ns}/{type}[/{name}[/{childType}[/{childName}...]]][/{action}]`
fn provider_route(sub: String, rg: Option<String>, tail: &[&str]) -> Option<Endpoint> {
    let [ns, rest @ ..] = tail else { return None };
    if rest.is_empty() {
        return None;
    }
    let pairs = rest.len() / 2;
    let types: Vec<(String, String)> = rest[..pairs * 2].chunks(2).map(|c| (c[0].to_string(), c[1].to_string())).collect();
    let id = ResourceId { subscription: Some(sub), resource_group: rg, namespace: Some(ns.to_string()), types };
    if rest.len() % 2 == 0 {
        return Some(Endpoint::Resource { id });
    }
    // Odd: a collection of `last` under `id` (GET), or an action on `id` (POST); the handler
    // tells them apart by method.
    let last = rest[rest.len() - 1].to_string();
    if id.types.is_empty() {
        let parent = ResourceId { namespace: None, ..id };
        return Some(Endpoint::ResourceCollection { parent, namespace: ns.to_string(), resource_type: last });
    }
    Some(Endpoint::ResourceAction { id, action: last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_shape_az_sends() {
        let s = "00000000-0000-0000-0000-000000000001";
        let cases: Vec<(String, &str)> = vec![
            ("/metadata/endpoints".into(), "MetadataEndpoints"),
            ("//metadata/endpoints".into(), "MetadataEndpoints"),
            ("/tenants".into(), "Tenants"),
            ("/subscriptions".into(), "Subscriptions"),
            (format!("/subscriptions/{s}"), "Subscription"),
            (format!("/subscriptions/{s}/resourcegroups"), "ResourceGroups"),
            (format!("/subscriptions/{s}/resourceGroups/myRG"), "ResourceGroup"),
            (format!("/subscriptions/{s}/providers/Microsoft.Authorization/roleAssignments"), "RoleAssignments"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/abc"), "RoleAssignment"),
            ("/providers/Microsoft.Authorization/roleDefinitions".into(), "RoleDefinitions"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments"), "RoleAssignments"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"), "Resource"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"), "ResourceCollection"),
            (format!("/subscriptions/{s}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"), "ResourceCollection"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/start"), "ResourceAction"),
            (format!("/subscriptions/{s}/providers/Microsoft.Compute"), "Provider"),
            (format!("/subscriptions/{s}/providers/Microsoft.Compute/register"), "Register"),
            ("/providers/Microsoft.ManagedIdentity/operations".into(), "ProviderOperations"),
            ("/providers/Microsoft.Authorization/operations".into(), "ProviderOperations"),
            (format!("/subscriptions/{s}/operationresults/xyz"), "OperationResult"),
            (format!("/subscriptions/{s}/resourcegroups/rg/deployments/d/operations"), "ResourceAction"),
            (format!("/subscriptions/{s}/resourcegroups/rg/deployments/d/operations/0123"), "Resource"),
            (format!("/subscriptions/{s}/providers/Microsoft.Authorization/locks"), "Locks"),
            (format!("/subscriptions/{s}/resourcegroups/rg/providers/Microsoft.Network//virtualNetworks/v/providers/Microsoft.Authorization/locks/l"), "Lock"),
            (format!("/subscriptions/{s}/providers/Microsoft.Resources/tags/default"), "Tags"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Resources/tags/default"), "Tags"),
            (format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/providers/Microsoft.Resources/tags/default"), "Tags"),
            (format!("/subscriptions/{s}/tagNames"), "TagNames"),
            (format!("/subscriptions/{s}/tagNames/env"), "TagName"),
            (format!("/subscriptions/{s}/tagNames/env/tagValues/dev"), "TagValue"),
            (format!("/subscriptions/{s}/resourcegroups/rg/exportTemplate"), "ExportTemplate"),
            (format!("/%2Fsubscriptions%2F{s}%2FresourceGroups%2Frg/providers/Microsoft.Authorization/locks/l"), "Lock"),
            (format!("/subscriptions/{s}/resourceGroups/rg/moveResources"), "MoveResources"),
            (format!("/subscriptions/{s}/resourceGroups/rg/validateMoveResources"), "MoveResources"),
        ];
        for (path, want) in cases {
            let got = parse(&path).unwrap_or_else(|| panic!("no route for {path}"));
            assert!(format!("{got:?}").starts_with(want), "{path}: {got:?}");
        }
        assert_eq!(parse("/nothing/here"), None);
        assert_eq!(parse(&format!("/subscriptions/{s}//resourceGroups/rg")), None);
        let lock = parse(&format!(
            "/subscriptions/{s}/resourcegroups/rg/providers/Microsoft.Network//virtualNetworks/v/providers/Microsoft.Authorization/locks/l"
        ));
        assert_eq!(
            lock,
            Some(Endpoint::Lock {
                scope: format!("/subscriptions/{s}/resourcegroups/rg/providers/Microsoft.Network/virtualNetworks/v"),
                name: "l".into()
            })
        );
        let encoded = parse(&format!("/%2Fsubscriptions%2F{s}%2FresourceGroups%2Frg/providers/Microsoft.Authorization/locks/l"));
        assert_eq!(encoded, Some(Endpoint::Lock { scope: format!("/subscriptions/{s}/resourceGroups/rg"), name: "l".into() }));
        assert_eq!(
            parse(&format!("/subscriptions/{s}/resourceGroups/a%2Fb")),
            Some(Endpoint::ResourceGroup { sub: s.to_string(), rg: "a%2Fb".into() })
        );
        let ext = parse(&format!(
            "/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.ManagedIdentity/identities/default"
        ))
        .unwrap();
        assert_eq!((ext.namespace(), ext.resource_type()), ("Microsoft.ManagedIdentity", Some("identities")));
        let vm = parse(&format!("/subscriptions/{s}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/start")).unwrap();
        assert_eq!((vm.namespace(), vm.resource_type()), ("Microsoft.Compute", Some("virtualMachines")));
        assert_eq!(parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/unknown"), None);
    }
}
