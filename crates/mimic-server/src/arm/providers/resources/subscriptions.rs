//! Tenants, subscriptions, locations and resource providers.

use axum::http::StatusCode;
use mimic_domain::directory::Subscription;
use mimic_wire::arm as wire;

use crate::arm::core::catalog::{self as providers, LOCATIONS};
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Registry, Reply};

fn render(s: &Subscription) -> wire::Subscription {
    wire::Subscription {
        id: format!("/subscriptions/{}", s.id),
        authorization_source: "RoleBased",
        managed_by_tenants: vec![],
        subscription_id: s.id.to_string(),
        tenant_id: s.tenant_id.to_string(),
        display_name: s.display_name.clone(),
        state: s.state.clone(),
        subscription_policies: wire::SubscriptionPolicies {
            location_placement_id: "Public_2014-09-01",
            quota_id: "PayAsYouGo_2014-09-01",
            spending_limit: "Off",
        },
    }
}

/// `GET /tenants`: the caller's own tenant.
pub fn list_tenants(ctx: &Ctx) -> ArmResult<Reply> {
    let t = ctx.state.store.read(|tx| tx.tenant(ctx.caller.tenant))?.ok_or_else(|| ArmError::internal("caller's tenant vanished"))?;
    let body = wire::Page {
        value: vec![wire::Tenant {
            id: format!("/tenants/{}", t.id),
            tenant_id: t.id.to_string(),
            country_code: "US",
            display_name: t.display_name.clone(),
            domains: vec![t.default_domain.clone()],
            tenant_category: "Home",
            default_domain: t.default_domain.clone(),
            tenant_type: "AAD",
        }],
        next_link: None,
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /subscriptions`: those of the caller's tenant where the caller holds some role.
pub fn list(ctx: &Ctx) -> ArmResult<Reply> {
    let subs = ctx.state.store.read(|tx| tx.subscriptions(ctx.caller.tenant))?;
    let mut value = Vec::new();
    for s in &subs {
        if ctx.has_any_access_within(&format!("/subscriptions/{}", s.id))? {
            value.push(render(s));
        }
    }
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}

pub fn get(ctx: &Ctx, sub: &str) -> ArmResult<Reply> {
    if ctx.method != axum::http::Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let s = ctx.subscription(sub)?;
    let scope = format!("/subscriptions/{}", s.id);
    if !ctx.has_any_access_within(&scope)? {
        return Err(ArmError::authorization_failed(
            &ctx.caller.display(),
            &ctx.caller.object_id.to_string(),
            "Microsoft.Resources/subscriptions/read",
            &scope,
        ));
    }
    Ok(json_response(StatusCode::OK, &render(&s)))
}

pub fn locations(ctx: &Ctx, sub: &str) -> ArmResult<Reply> {
    let s = ctx.subscription(sub)?;
    ctx.authorize_list("Microsoft.Resources/subscriptions/locations/read", &format!("/subscriptions/{}", s.id))?;
    let value: Vec<wire::Location> = LOCATIONS
        .iter()
        .map(|(name, display)| wire::Location {
            id: format!("/subscriptions/{}/locations/{name}", s.id),
            name: name.to_string(),
            kind: "Region",
            display_name: display.to_string(),
            regional_display_name: display.to_string(),
            metadata: wire::LocationMetadata { region_type: "Physical", region_category: "Recommended" },
        })
        .collect();
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}

fn render_provider(sub: Option<&str>, p: &providers::ProviderInfo) -> wire::Provider {
    let locations: Vec<String> = LOCATIONS.iter().map(|(_, d)| d.to_string()).collect();
    let resource_types = p
        .types
        .iter()
        .map(|t| wire::ProviderResourceType {
            resource_type: t.name.to_string(),
            locations: locations.clone(),
            api_versions: t.api_versions.iter().map(|v| v.to_string()).collect(),
            capabilities: "None",
        })
        .collect();
    let id = match sub {
        Some(s) => format!("/subscriptions/{s}/providers/{}", p.namespace),
        None => format!("/providers/{}", p.namespace),
    };
    wire::Provider {
        id,
        namespace: p.namespace.to_string(),
        registration_state: "Registered",
        registration_policy: "RegistrationRequired",
        resource_types,
    }
}

/// Subscription-level provider reads need this; the tenant-level `/providers` is open to any
/// authenticated caller (Providers_ListAtTenantScope).
const PROVIDERS_READ: &str = "Microsoft.Resources/subscriptions/providers/read";

pub fn providers(ctx: &Ctx, sub: Option<&str>) -> ArmResult<Reply> {
    if let Some(s) = sub {
        let s = ctx.subscription(s)?;
        ctx.authorize_list(PROVIDERS_READ, &format!("/subscriptions/{}", s.id))?;
    }
    let value: Vec<wire::Provider> = Registry::installed().catalog().iter().map(|p| render_provider(sub, p)).collect();
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}

pub fn provider(ctx: &Ctx, sub: Option<&str>, namespace: &str) -> ArmResult<Reply> {
    if let Some(s) = sub {
        let s = ctx.subscription(s)?;
        ctx.authorize_list(PROVIDERS_READ, &format!("/subscriptions/{}", s.id))?;
    }
    let p = Registry::installed().namespace(namespace).ok_or_else(|| ArmError::invalid_resource_namespace(namespace))?;
    if ctx.method == axum::http::Method::POST {
        // `.../providers/{ns}/register`: already registered.
        return Ok(json_response(StatusCode::OK, &render_provider(sub, p)));
    }
    Ok(json_response(StatusCode::OK, &render_provider(sub, p)))
}

/// `GET /providers/{ns}/operations`: the operations the namespace publishes, open to any
/// authenticated caller (Operations_List is a tenant-level read, as `/providers` is). The
/// api-version is the namespace's `operations` line where it registers one.
pub fn provider_operations(ctx: &Ctx, namespace: &str) -> ArmResult<Reply> {
    if ctx.method != axum::http::Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let reg = Registry::installed();
    let p = reg.namespace(namespace).filter(|p| !p.operations.is_empty()).ok_or_else(|| ArmError::invalid_resource_namespace(namespace))?;
    Registry::check_version(ctx, p.namespace, "operations", None)?;
    let value: Vec<wire::ProviderOperation> = p
        .operations
        .iter()
        .map(|o| wire::ProviderOperation {
            name: o.name.to_string(),
            is_data_action: o.data_action,
            display: wire::ProviderOperationDisplay {
                provider: o.provider,
                resource: o.resource,
                operation: o.operation,
                description: o.description,
            },
            origin: o.origin,
        })
        .collect();
    Ok(json_response(StatusCode::OK, &wire::Page { value, next_link: None }))
}
