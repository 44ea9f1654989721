//! The zero-configuration proxy: an HTTP proxy that answers `CONNECT` for Azure's
//! public host names by terminating TLS with a certificate from Mimic's CA and serving the
//! matching surface, so clients written for Azure need no endpoint or cloud settings — only
//! `HTTPS_PROXY` and the CA. Behind the proxy the surfaces name Azure's real hosts (tokens,
//! discovery documents, `/metadata/endpoints`), so MSAL's authority and issuer checks pass.
//!
//! A person puts this proxy in their shell (`mimic env`), so every other host is tunnelled
//! unchanged (plain `CONNECT`, nothing decrypted) and plain-HTTP requests are forwarded
//! (forward.rs), never to this machine's own addresses (destination.rs); `--proxy-others
//! refuse` refuses them instead (403), and nothing leaves the machine.

mod destination;
mod documents;
mod forward;
mod quickack;

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio_rustls::TlsAcceptor;

use crate::state::{AppState, Endpoints, SharedState};

/// What the proxy does with hosts Mimic does not serve (`--proxy-others`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Others {
    /// Tunnel `CONNECT`s and forward plain-HTTP requests, as any proxy in a shell does.
    #[default]
    Tunnel,
    /// Refuse them (403): no request leaves the machine.
    Refuse,
}

impl std::str::FromStr for Others {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tunnel" => Ok(Others::Tunnel),
            "refuse" => Ok(Others::Refuse),
            other => Err(format!("'{other}': expected tunnel or refuse")),
        }
    }
}

/// Hosts Mimic answers itself, and the surface that serves each.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Surface {
    Arm,
    Login,
    Graph,
    /// Key Vault's data plane: `{vault}.vault.azure.net`.
    KeyVault,
    /// The Blob service: `{account}.blob.core.windows.net`.
    Blob,
    /// Azure-owned documents fetched from fixed URLs (documents.rs).
    Documents,
    /// Mimic's hosted OIDC issuers, under GitHub Actions' issuer host (federation/hosted.rs).
    Issuers,
}

fn surface_for(host: &str) -> Option<Surface> {
    match host {
        "management.azure.com" | "management.core.windows.net" => Some(Surface::Arm),
        "login.microsoftonline.com" | "login.windows.net" | "sts.windows.net" | "login.microsoft.com" => Some(Surface::Login),
        "graph.microsoft.com" => Some(Surface::Graph),
        documents::CLI_BLOB_HOST => Some(Surface::Documents),
        mimic_domain::federation::hosted::HOST => Some(Surface::Issuers),
        h if h.strip_suffix(".vault.azure.net").is_some_and(|v| !v.is_empty() && !v.contains('.')) => Some(Surface::KeyVault),
        h if h.strip_suffix(mimic_domain::storage::BLOB_HOST_SUFFIX).is_some_and(|v| !v.is_empty() && !v.contains('.')) => {
            Some(Surface::Blob)
        }
        _ => None,
    }
}

pub struct Proxy {
    arm: Router,
    login: Router,
    graph: Router,
    keyvault: Router,
    blob: Router,
    documents: Router,
    issuers: Router,
    tls: TlsAcceptor,
    others: Others,
    /// Hosts already logged (refused or tunnelled), so each is logged once.
    logged: Mutex<HashSet<String>>,
}

impl Proxy {
    pub fn new(state: &SharedState, arm_throttle: Arc<crate::arm::Throttle>, tls: Arc<rustls::ServerConfig>, others: Others) -> Arc<Self> {
        // The same Mimic, rendering Azure's host names.
        let azure: SharedState = Arc::new(AppState { endpoints: Endpoints::azure(&state.endpoints), ..(**state).clone() });
        Arc::new(Proxy {
            arm: crate::arm::router(azure.clone(), arm_throttle),
            login: crate::login::router(azure.clone()),
            graph: crate::graph::router(azure.clone()),
            keyvault: crate::keyvault::router(azure.clone()),
            blob: crate::blob::router(azure.clone()),
            issuers: crate::federation::hosted::router(azure),
            documents: documents::router(),
            tls: TlsAcceptor::from(tls),
            others,
            logged: Mutex::new(HashSet::new()),
        })
    }

    pub async fn run(
        self: Arc<Self>,
        listener: std::net::TcpListener,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        loop {
            let (tcp, _) = tokio::select! {
                accepted = listener.accept() => accepted?,
                _ = shutdown.changed() => return Ok(()),
            };
            let _ = tcp.set_nodelay(true); // see serve.rs: no delayed-ACK stalls
            let proxy = self.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| proxy.clone().handle(req));
                let io = TokioIo::new(quickack::QuickAck(tcp));
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).with_upgrades().await;
            });
        }
    }

    /// Logs `message` for `host` the first time only.
    fn log_once(&self, host: &str, message: &'static str) {
        if self.logged.lock().unwrap_or_else(|p| p.into_inner()).insert(host.to_string()) {
            tracing::info!(host, "{message}");
        }
    }

    fn refuse(&self, host: &str, why: &str) -> Response<Body> {
        if self.logged.lock().unwrap_or_else(|p| p.into_inner()).insert(host.to_string()) {
            tracing::warn!(host, "proxy refused a host that Mimic does not serve");
        }
        forward::text(StatusCode::FORBIDDEN, format!("Mimic's proxy refuses '{host}': {why}"))
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let authority = req.uri().authority().map(|a| (a.host().to_ascii_lowercase(), a.port_u16()));
        let Some((host, port)) = authority else {
            return Ok(forward::text(StatusCode::BAD_REQUEST, "Mimic's proxy expects proxy requests.".into()));
        };
        let served = surface_for(&host);
        if req.method() != Method::CONNECT {
            // Plain HTTP (what HTTP_PROXY sends).
            if host == "169.254.169.254" {
                return Ok(self.refuse(&host, "IMDS answers only workloads on a VM; run the workload with `mimic vm run RG/NAME`"));
            }
            if served.is_some() {
                return Ok(self.refuse(&host, "Mimic serves this Azure host over HTTPS only"));
            }
            if self.others == Others::Refuse {
                return Ok(self.refuse(&host, "only Azure's HTTPS hosts are served (mimic serve --proxy-others refuse)"));
            }
            self.log_once(&host, "proxy forwards plain HTTP for a host Mimic does not serve");
            return Ok(forward::http(req, host, port.unwrap_or(80)).await);
        }
        let port = port.unwrap_or(443);
        let router = match (served, port) {
            (Some(Surface::Arm), 443) => self.arm.clone(),
            (Some(Surface::Login), 443) => self.login.clone(),
            (Some(Surface::Graph), 443) => self.graph.clone(),
            (Some(Surface::KeyVault), 443) => self.keyvault.clone(),
            (Some(Surface::Blob), 443) => self.blob.clone(),
            (Some(Surface::Documents), 443) => self.documents.clone(),
            (Some(Surface::Issuers), 443) => self.issuers.clone(),
            _ if self.others == Others::Refuse => {
                return Ok(self.refuse(&host, "not an Azure host that Mimic serves (mimic serve --proxy-others refuse)"));
            }
            _ => {
                self.log_once(&host, "proxy tunnels a host Mimic does not serve");
                return Ok(forward::tunnel(req, host, port).await);
            }
        };
        let acceptor = self.tls.clone();
        tokio::spawn(async move {
            let upgraded = match hyper::upgrade::on(req).await {
                Ok(u) => u,
                Err(e) => return tracing::debug!(error = %e, "proxy upgrade failed"),
            };
            let tls = match acceptor.accept(TokioIo::new(upgraded)).await {
                Ok(t) => t,
                Err(e) => return tracing::debug!(error = %e, host, "TLS handshake through the proxy failed"),
            };
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(router))
                .await;
        });
        Ok(Response::new(Body::empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hosts of ARM's token audiences are the hosts the proxy serves ARM under, and the
    /// server certificate covers them.
    #[test]
    fn arm_audience_hosts_are_served_as_arm() {
        for aud in mimic_domain::cloud::ARM_AUDIENCES {
            let host = aud.trim_start_matches("https://").trim_end_matches('/');
            assert_eq!(surface_for(host), Some(Surface::Arm), "{host}");
            assert!(crate::tls::AZURE_HOSTS.contains(&host), "{host}");
        }
    }
}
