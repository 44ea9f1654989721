//! Directory lookups several surfaces share (group membership for tokens and RBAC).

use uuid::Uuid;

use crate::state::AppState;

/// Groups the principal belongs to, directly or through nested groups.
pub fn transitive_groups(state: &AppState, tenant: Uuid, principal: Uuid) -> Result<Vec<Uuid>, mimic_store::StoreError> {
    state.store.read(|tx| {
        let mut seen: Vec<Uuid> = Vec::new();
        let mut frontier = vec![principal];
        while let Some(p) = frontier.pop() {
            for g in tx.groups_with_member(tenant, p)? {
                if !seen.contains(&g) {
                    seen.push(g);
                    frontier.push(g);
                }
            }
        }
        Ok(seen)
    })
}
