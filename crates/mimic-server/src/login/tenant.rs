//! The `{tenant}` path segment: a tenant id, a verified domain, or one of Entra's aliases.

use mimic_domain::directory::Tenant;
use uuid::Uuid;

use crate::state::AppState;

pub enum TenantRef {
    Tenant(Tenant),
    /// `common`, `organizations`, `consumers`: the tenant comes from the user signing in.
    Multi(String),
}

pub fn is_alias(t: &str) -> bool {
    matches!(t.to_ascii_lowercase().as_str(), "common" | "organizations" | "consumers")
}

pub fn resolve(state: &AppState, tenant: &str) -> Option<TenantRef> {
    try_resolve(state, tenant).ok().flatten()
}

/// As `resolve`, telling a store that cannot answer (the token endpoint's 503) from "no such tenant".
pub fn try_resolve(state: &AppState, tenant: &str) -> Result<Option<TenantRef>, mimic_store::StoreError> {
    if is_alias(tenant) {
        return Ok(Some(TenantRef::Multi(tenant.to_ascii_lowercase())));
    }
    if let Ok(id) = tenant.parse::<Uuid>() {
        let generation = state.store.generation();
        return Ok(state.caches.tenants.get_or_load(generation, &id, || state.store.read(|tx| tx.tenant(id)))?.map(TenantRef::Tenant));
    }
    let tenants = state.store.read(|tx| tx.tenants())?;
    Ok(tenants.into_iter().find(|t| t.default_domain.eq_ignore_ascii_case(tenant)).map(TenantRef::Tenant))
}

pub fn by_domain(state: &AppState, domain: &str) -> Option<Tenant> {
    let tenants = state.store.read(|tx| tx.tenants()).ok()?;
    tenants.into_iter().find(|t| t.default_domain.eq_ignore_ascii_case(domain))
}
