//! VM sizes from `mimic_domain::catalog` (its vm_sizes.json): `GET
//! /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/vmSizes` (`az vm list-sizes`,
//! Ansible's azure_rm_virtualmachine size check), `GET
//! /subscriptions/{s}/providers/Microsoft.Compute/skus` (`az vm list-skus`), and the size check of
//! a VM write (`hardwareProfile.vmSize` must be a size of its location).
//!
//! Sources: compute.json `VirtualMachineSizes_List` (`{"value": [VirtualMachineSize]}`, not
//! paged); skus.json `ResourceSkus_List` (`{"value": [ResourceSku]}`, one entry per size and
//! location, `$filter=location eq '{l}'` the only filter Azure supports, as az's aaz help for
//! `--filter` says); the Compute RP's `InvalidParameter` error for an unknown size (its text as
//! relayed in public deployment failures, docs/azure-behaviour.md's catalogue section).

use axum::http::{Method, StatusCode};
use mimic_domain::catalog as data;
use mimic_domain::resource_id::ResourceId;
use serde_json::{json, Value};

use crate::arm::core::catalog::LOCATIONS;
use crate::arm::core::{catalog, json_response, ArmError, ArmResult, Ctx, Registry, Reply};

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}` + action `vmSizes`.
pub fn is_vm_sizes(id: &ResourceId, action: &str) -> bool {
    id.resource_group.is_none()
        && id.namespace.as_deref().is_some_and(|n| eq(n, "Microsoft.Compute"))
        && id.types.len() == 1
        && eq(&id.types[0].0, "locations")
        && eq(action, "vmSizes")
}

/// `/subscriptions/{s}/providers/Microsoft.Compute/skus`.
pub fn is_skus(parent: &ResourceId, resource_type: &str) -> bool {
    parent.resource_group.is_none() && parent.types.is_empty() && eq(resource_type, "skus")
}

fn read_scope(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<()> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    ctx.authorize(action, &format!("/subscriptions/{}", sub.id))
}

/// `GET .../locations/{l}/vmSizes`: every size of the catalogue (each location has them all).
pub fn list_vm_sizes(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    read_scope(ctx, id, "Microsoft.Compute/locations/vmSizes/read")?;
    Registry::check_version(ctx, "Microsoft.Compute", "locations", None)?;
    let l = &id.types[0].1;
    catalog::normalize_location(l).map_err(|_| {
        let locations: Vec<&str> = LOCATIONS.iter().map(|(_, d)| *d).collect();
        ArmError::no_registered_provider(l, &ctx.api_version, "locations/vmSizes", &[&ctx.api_version], &locations)
    })?;
    Ok(json_response(StatusCode::OK, &json!({"value": data::vm_sizes()})))
}

/// The location of `$filter=location eq 'westus'` (case-insensitive keywords, either quote).
fn location_filter(filter: &str) -> Option<String> {
    let f = filter.trim();
    let (key, rest) = f.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    if !eq(key, "location") || !eq(op, "eq") {
        return None;
    }
    let v = value.trim().trim_matches(|c| c == '\'' || c == '"');
    Some(v.to_owned())
}

/// `GET /subscriptions/{s}/providers/Microsoft.Compute/skus[?$filter=location eq '{l}']`: one
/// resource SKU per size and location (only the location filter is applied, as Azure's).
pub fn list_skus(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    read_scope(ctx, parent, "Microsoft.Compute/skus/read")?;
    Registry::check_version(ctx, "Microsoft.Compute", "skus", None)?;
    let wanted = ctx.q("$filter").and_then(location_filter).map(|l| l.replace(' ', "").to_ascii_lowercase());
    let mut value: Vec<Value> = Vec::new();
    for (l, _) in LOCATIONS.iter().filter(|(l, _)| wanted.as_deref().is_none_or(|w| eq(w, l))) {
        for s in data::resource_skus(l) {
            value.push(serde_json::to_value(s).unwrap_or_default());
        }
    }
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

/// A VM write's `hardwareProfile.vmSize`, when given, must be one of its location's sizes.
pub fn check_vm_size(properties: &Value) -> ArmResult<()> {
    let Some(size) = properties.pointer("/hardwareProfile/vmSize").and_then(Value::as_str) else { return Ok(()) };
    if data::vm_size(size).is_some() {
        return Ok(());
    }
    let available: Vec<&str> = data::vm_sizes().iter().map(|s| s.name.as_str()).collect();
    Err(ArmError::vm_size_not_available(size, &available))
}

#[cfg(test)]
mod tests {
    use super::location_filter;

    #[test]
    fn location_filters() {
        assert_eq!(location_filter("location eq 'westus'").as_deref(), Some("westus"));
        assert_eq!(location_filter("Location  EQ \"West US\"").as_deref(), Some("West US"));
        assert_eq!(location_filter("name eq 'x'"), None);
    }
}
