//! The ARM core every provider builds on: the request context ([`Ctx`]), errors, the typed
//! endpoint, replies, the provider registry, api-versions and the provider catalogue, async
//! operation records, the generic resource store, and management locks' enforcement. Nothing here knows a provider.

pub mod api_versions;
pub mod catalog;
pub mod ctx;
pub mod endpoint;
pub mod error;
pub mod generic;
pub mod locks;
pub mod operations;
pub mod registry;
pub mod reply;

pub use ctx::Ctx;
pub use endpoint::Endpoint;
pub use error::{ArmError, ArmResult};
pub use registry::{Provider, Registry, VmEvent};
pub use reply::{json_response, Reply};
