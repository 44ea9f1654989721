//! A directory's custom role definitions as every authorisation check reads them: loaded once
//! per store generation and tenant (ARM's actions and the data planes' `dataActions` look roles
//! up through [`CustomRoles::role`], built-in first).

use std::sync::Arc;

use mimic_domain::rbac::custom::CustomRoles;
use mimic_store::documents::{Docs, CUSTOM_ROLES};
use uuid::Uuid;

use crate::state::AppState;

pub fn of_tenant(state: &AppState, tenant: Uuid) -> mimic_store::Result<Arc<CustomRoles>> {
    let generation = state.store.generation();
    state.caches.custom_roles.get_or_load(generation, &tenant, || {
        Ok(Arc::new(state.store.read(|tx| tx.get(CUSTOM_ROLES, &tenant.to_string()))?.unwrap_or_default()))
    })
}
