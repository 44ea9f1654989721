//! Azure's rules as plain types and functions. Nothing here knows HTTP or SQL: surfaces
//! (mimic-server) parse and render the wire, the store (mimic-store) persists these types.

pub mod authorization_code;
pub mod catalog;
pub mod certificate;
pub mod cloud;
pub mod compute;
pub mod deployment;
pub mod directory;
pub mod federation;
pub mod first_party_apis;
pub mod identity;
pub mod imds;
pub mod keyvault;
pub mod limits;
pub mod lock;
pub mod network;
pub mod odata_filter;
pub mod operation;
pub mod patch;
pub mod percent;
pub mod rbac;
pub mod redirect_uri;
pub mod resource;
pub mod resource_id;
pub mod resource_move;
pub mod sealed;
pub mod secrets;
pub mod storage;
pub mod tags;
pub mod template;
pub mod token;
