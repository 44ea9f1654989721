//! The resource providers Mimic serves, each in its own module, and their registration. A new
//! provider is one module here and one line in [`registry`].

mod authorization;
pub mod compute;
mod deployments;
mod keyvault;
mod msi;
mod network;
mod resources;
mod storage;
// Registered last, to show that a provider is one module and one line in `registry`.
mod mimic;

pub use deployments::recover_interrupted;

use super::core::generic::GenericProvider;
use super::core::Registry;

/// Every provider. The order is the order of the hooks: a group's VMs go (detaching their NICs)
/// before its identities' principals and its public addresses.
pub fn registry() -> Registry {
    Registry::new(vec![
        Box::new(resources::Resources),
        Box::new(deployments::Deployments),
        Box::new(authorization::Authorization),
        Box::new(compute::Compute),
        Box::new(msi::ManagedIdentity),
        Box::new(network::Network),
        Box::new(keyvault::KeyVault),
        Box::new(storage::Storage),
        Box::new(GenericProvider),
        Box::new(mimic::Control),
    ])
}
