//! The zero-configuration proxy (issue 9): an HTTP proxy that answers `CONNECT` for Azure's
//! public host names by terminating TLS with a certificate from Mimic's CA and serving the
//! matching surface, so clients written for Azure need no endpoint or cloud settings — only
//! `HTTPS_PROXY` and the CA. Behind the proxy the surfaces name Azure's real hosts (tokens,
//! discovery documents, `/metadata/endpoints`), so MSAL's authority and issuer checks pass.
//! Any other host is refused: nothing leaves the machine.

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

/// Azure hosts and the surface that serves each.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Surface {
    Arm,
    Login,
    Graph,
}

fn surface_for(host: &str) -> Option<Surface> {
    match host {
        "management.azure.com" | "management.core.windows.net" => Some(Surface::Arm),
        "login.microsoftonline.com" | "login.windows.net" | "sts.windows.net" | "login.microsoft.com" => Some(Surface::Login),
        "graph.microsoft.com" => Some(Surface::Graph),
        _ => None,
    }
}

pub struct Proxy {
    arm: Router,
    login: Router,
    graph: Router,
    tls: TlsAcceptor,
    refused: Mutex<HashSet<String>>,
}

impl Proxy {
    pub fn new(state: &SharedState, tls: Arc<rustls::ServerConfig>) -> Arc<Self> {
        // The same Mimic, rendering Azure's host names.
        let azure: SharedState = Arc::new(AppState { endpoints: Endpoints::azure(&state.endpoints), ..(**state).clone() });
        Arc::new(Proxy {
            arm: crate::arm::router(azure.clone()),
            login: crate::login::router(azure.clone()),
            graph: crate::graph::router(azure),
            tls: TlsAcceptor::from(tls),
            refused: Mutex::new(HashSet::new()),
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
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc).with_upgrades().await;
            });
        }
    }

    fn refuse(&self, host: &str, why: &str) -> Response<Body> {
        let first = self.refused.lock().unwrap_or_else(|p| p.into_inner()).insert(host.to_string());
        if first {
            tracing::warn!(host, "proxy refused a host that Mimic does not serve");
        }
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header("content-type", "text/plain")
            .body(Body::from(format!("Mimic's proxy refuses '{host}': {why}\n")))
            .expect("static response")
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        let authority = req.uri().authority().map(|a| (a.host().to_ascii_lowercase(), a.port_u16()));
        let Some((host, port)) = authority else {
            return Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body(Body::from("Mimic's proxy expects proxy requests.\n"))
                .expect("static"));
        };
        if req.method() != Method::CONNECT {
            let why = if host == "169.254.169.254" {
                "IMDS answers only workloads on a VM; run the workload with `mimic vm run RG/NAME`"
            } else {
                "only Azure's HTTPS hosts are served"
            };
            return Ok(self.refuse(&host, why));
        }
        let surface = match (surface_for(&host), port.unwrap_or(443)) {
            (Some(s), 443) => s,
            _ => return Ok(self.refuse(&host, "not an Azure host that Mimic serves")),
        };
        let router = match surface {
            Surface::Arm => self.arm.clone(),
            Surface::Login => self.login.clone(),
            Surface::Graph => self.graph.clone(),
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
