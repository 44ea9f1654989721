//! The JSON of every surface, per Azure's own shapes. Handlers map domain types to these and
//! back; nothing else in Mimic defines a wire format.

pub mod arm;
pub mod blob;
pub mod compute;
pub mod deployments;
pub mod export_template;
pub mod graph;
pub mod jsonnet;
pub mod keyvault;
pub mod locks;
pub mod moves;
pub mod msi;
pub mod oauth;
pub mod storage;
pub mod tags;
pub mod vm_extensions;
