//! Mimic's surfaces, one module each (arm, login, graph, imds, portal), and the wiring that serves
//! them: TLS from the local CA, request ids, listeners, graceful shutdown.

pub mod access;
pub mod arm;
pub mod authn;
pub mod blob;
pub mod bootstrap;
pub mod ca_bundle;
pub mod cache;
pub mod custom_roles;
pub mod data_dir;
pub mod data_dir_lock;
pub mod directory;
pub mod federation;
pub mod graph;
pub mod http;
pub mod imds;
pub mod keys;
pub mod keyvault;
pub mod login;
pub mod master_key;
pub mod portal;
pub mod progress;
pub mod proxy;
pub mod serve;
pub mod state;
pub mod storage_accounts;
pub mod tls;

pub use serve::{serve, Listeners, ServeConfig};

/// `Retry-After` (seconds) on the 503s answered while the store is unavailable (PostgreSQL down
/// or restarting): about how long a restart takes to accept connections again.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;
