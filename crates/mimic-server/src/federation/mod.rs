//! Workload identity federation on the server: the keys of the issuers federated identity
//! credentials trust (`cache.rs`: fetched with `fetch.rs`; `hosted.rs`: issuers Mimic hosts),
//! and a user-assigned identity's credentials as ARM stores them.

pub mod cache;
pub mod fetch;
pub mod hosted;

pub use cache::{Issuers, KeysError};

/// The ARM type of a user-assigned identity's federated identity credentials.
pub const USER_ASSIGNED_CREDENTIAL_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";

/// The federated identity credentials of the user-assigned identity `identity_id` (child
/// resources the ARM provider validated when they were written).
pub fn user_assigned_credentials(
    tx: &mut dyn mimic_store::Tx,
    identity_id: &str,
) -> Result<Vec<mimic_domain::federation::FederatedCredential>, mimic_store::StoreError> {
    use mimic_domain::resource_id::{self, ResourceId};
    let Ok(parsed) = ResourceId::parse(identity_id) else { return Ok(vec![]) };
    let (Some(sub), Some(rg)) = (parsed.subscription, parsed.resource_group) else { return Ok(vec![]) };
    let (sub, rg) = (sub.to_ascii_lowercase(), rg.to_ascii_lowercase());
    let ty = USER_ASSIGNED_CREDENTIAL_TYPE.to_ascii_lowercase();
    let prefix = format!("{}/", resource_id::key(&format!("{identity_id}/federatedIdentityCredentials")));
    let children = tx.resources(&mimic_store::ResourceFilter {
        subscription: &sub,
        resource_group: Some(&rg),
        resource_type: Some(&ty),
        limit: 10_000,
        ..Default::default()
    })?;
    Ok(children
        .iter()
        .filter(|r| resource_id::key(&r.id).starts_with(&prefix))
        .filter_map(|r| mimic_domain::federation::FederatedCredential::from_arm_properties(&r.name, &r.properties).ok())
        .collect())
}
