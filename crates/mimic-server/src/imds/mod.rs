//! The Instance Metadata Service (169.254.169.254), plain HTTP as in Azure.
//!
//! IMDS tells VMs apart by where a call arrives, never by what the caller sends: each VM gets
//! its own listener (bound on demand by [`ImdsRegistry::endpoint_for`], which `mimic vm run`
//! reaches through ARM with VM run-command rights), and that listener only ever serves its VM.
//! The default IMDS listener belongs to no VM.

mod error;
mod instance;
mod token;

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::header::{CONTENT_TYPE, SERVER as SERVER_HEADER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

use crate::state::{SharedState, VmMetadataEndpoints};
pub use error::ImdsError;
pub use token::TokenCache;

/// Which VM a listener serves (its ARM id key), or none for the default listener, and the
/// managed-identity tokens every listener has handed out.
#[derive(Clone)]
pub struct VmBinding {
    pub state: SharedState,
    pub vm_key: Option<Arc<str>>,
    pub tokens: Arc<TokenCache>,
}

fn vm_router(binding: VmBinding) -> Router {
    Router::new()
        .route("/metadata/identity/oauth2/token", any(token::token))
        .route("/metadata/identity/oauth2/token/", any(token::token))
        .route("/metadata/identity/info", any(token::info))
        .route("/metadata/instance", any(instance::instance))
        .route("/metadata/instance/", any(instance::instance))
        .fallback(error::not_found)
        .with_state(binding)
        .layer(axum::middleware::from_fn(|req, next| crate::http::log_request("imds", req, next)))
}

/// The query's pairs, percent-decoded, borrowing the query where nothing needed decoding.
pub type QueryPairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

pub fn parse_query(raw: Option<&str>) -> QueryPairs<'_> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).collect()).unwrap_or_default()
}

/// A query parameter's value; empty counts as absent, as IMDS treats it.
pub fn param<'a>(q: &'a QueryPairs<'_>, name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref()).filter(|v| !v.is_empty())
}

/// What every IMDS endpoint checks first (docs/azure-behaviour.md §5): GET only, `Metadata: true`, and no
/// `X-Forwarded-For` (IMDS refuses proxied calls, against SSRF).
pub fn check_request(method: &Method, headers: &HeaderMap) -> Result<(), ImdsError> {
    if method != Method::GET {
        return Err(ImdsError::method_not_allowed());
    }
    if headers.contains_key("x-forwarded-for") {
        return Err(ImdsError::bad_request("invalid_request", "Request with X-Forwarded-For header is not allowed"));
    }
    match headers.get("metadata").and_then(|v| v.to_str().ok()) {
        Some("true") => Ok(()),
        _ => Err(ImdsError::bad_request("invalid_request", "Required metadata header not specified")),
    }
}

/// Serves an IMDS listener: plain HTTP, and TCP_NODELAY so that a small answer leaves at once
/// (IMDS is on every token refresh's critical path).
pub fn serve(
    listener: std::net::TcpListener,
    shutdown: axum_server::Handle,
    app: Router,
) -> impl std::future::Future<Output = std::io::Result<()>> {
    axum_server::from_tcp(listener).acceptor(axum_server::accept::NoDelayAcceptor).handle(shutdown).serve(app.into_make_service())
}

/// A JSON answer with the headers IMDS sends (docs/azure-behaviour.md §5: `Content-Type: application/json;
/// charset=utf-8`, `Server: IMDS/...`).
pub fn json_response(status: StatusCode, body: String) -> Response {
    static SERVER: HeaderValue = HeaderValue::from_static("IMDS/150.870.65.1854");
    static JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, JSON.clone());
    h.insert(SERVER_HEADER, SERVER.clone());
    r
}

/// Per-VM IMDS listeners, bound on first request and kept for the server's life, and the token
/// cache they share.
pub struct ImdsRegistry {
    listeners: Mutex<HashMap<String, SocketAddr>>,
    shutdown: axum_server::Handle,
    host: String,
    tokens: Arc<TokenCache>,
}

impl ImdsRegistry {
    pub fn new(shutdown: axum_server::Handle, host: String) -> Self {
        ImdsRegistry { listeners: Mutex::new(HashMap::new()), shutdown, host, tokens: Default::default() }
    }

    /// The default listener's router: it belongs to no VM.
    pub fn router(&self, state: SharedState) -> Router {
        vm_router(VmBinding { state, vm_key: None, tokens: self.tokens.clone() })
    }
}

impl VmMetadataEndpoints for ImdsRegistry {
    /// Binds the VM's listener if needed. Needs a Tokio runtime.
    fn endpoint_for(&self, state: &SharedState, vm_key: &str) -> std::io::Result<SocketAddr> {
        let mut map = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = map.get(vm_key) {
            return Ok(*a);
        }
        let listener = std::net::TcpListener::bind((self.host.as_str(), 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = vm_router(VmBinding { state: state.clone(), vm_key: Some(vm_key.into()), tokens: self.tokens.clone() });
        let server = serve(listener, self.shutdown.clone(), app);
        tokio::runtime::Handle::current().spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "per-VM IMDS listener failed");
            }
        });
        tracing::info!(vm = vm_key, %addr, "bound IMDS for VM");
        map.insert(vm_key.to_string(), addr);
        Ok(addr)
    }
}
