//! `mimic serve`: lock the data directory, bind every listener, open the store, bootstrap,
//! announce `endpoints.json`, serve until SIGINT/SIGTERM, then drain in-flight requests.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use mimic_store::Store;
use uuid::Uuid;

use crate::state::{AppState, Endpoints};

/// Listener addresses (`host:port`, port 0 picks a free port).
#[derive(Debug, Clone)]
pub struct Listeners {
    pub arm: String,
    pub login: String,
    pub graph: String,
    pub portal: String,
    pub imds: String,
    pub proxy: String,
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    /// `None`: embedded SQLite in the data directory.
    pub store: Option<String>,
    pub listeners: Listeners,
    pub tenant_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    /// ARM throttling (`--arm-rate-limit`), off by default.
    pub arm_rate_limit: crate::arm::RateLimit,
    /// `--master-key-file`: what the store's private keys are sealed under (`master_key.rs`).
    pub master_key_file: Option<PathBuf>,
    /// What the proxy does with hosts Mimic does not serve (`--proxy-others`).
    pub proxy_others: crate::proxy::Others,
    /// How long each resource a deployment writes takes (`--provisioning-delay`).
    pub provisioning_delay: crate::arm::ProvisioningDelay,
}

/// Every listener, bound before anything else happens (a busy port must fail a start before
/// the tenant and its secrets are created).
struct Bound {
    arm: TcpListener,
    login: TcpListener,
    graph: TcpListener,
    portal: TcpListener,
    imds: TcpListener,
    proxy: TcpListener,
}

fn bind(flag: &str, addr: &str) -> anyhow::Result<TcpListener> {
    let l = TcpListener::bind(addr).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(": another program (or a mimic serve with another data directory) uses it; give --{flag} another address (port 0 picks a free one)"),
            _ => String::new(),
        };
        anyhow::anyhow!("cannot listen on {addr} (--{flag}): {e}{hint}")
    })?;
    l.set_nonblocking(true)?;
    Ok(l)
}

impl Bound {
    fn all(l: &Listeners) -> anyhow::Result<Bound> {
        Ok(Bound {
            arm: bind("arm", &l.arm)?,
            login: bind("login", &l.login)?,
            graph: bind("graph", &l.graph)?,
            portal: bind("portal", &l.portal)?,
            imds: bind("imds", &l.imds)?,
            proxy: bind("proxy", &l.proxy)?,
        })
    }
}

/// Takes the data directory for this server (data_dir_lock.rs) and clears what a server that
/// died without its shutdown left: with the lock held, any `endpoints.json` is stale.
fn claim_data_dir(dir: &std::path::Path) -> anyhow::Result<crate::data_dir_lock::DataDirLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let lock = crate::data_dir_lock::DataDirLock::acquire(dir)?;
    let _ = std::fs::remove_file(dir.join("endpoints.json"));
    Ok(lock)
}

/// The readiness line: every listener a person may want, and the data directory.
fn announce_ready(e: &Endpoints, data_dir: &std::path::Path) {
    tracing::info!(
        arm = %e.arm, login = %e.login, graph = %e.graph, portal = %e.portal, imds = %e.imds, proxy = %e.proxy,
        data_dir = %data_dir.display(), "mimic is ready"
    );
}

fn url(scheme: &str, l: &TcpListener) -> anyhow::Result<String> {
    let a: SocketAddr = l.local_addr()?;
    Ok(format!("{scheme}://{a}"))
}

pub fn open_store(cfg: &ServeConfig) -> anyhow::Result<Store> {
    match cfg.store.as_deref() {
        None | Some("sqlite") => Ok(Store::open_sqlite(&cfg.data_dir.join("mimic.db"))?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(Store::open_postgres(url)?),
        Some(other) => {
            anyhow::bail!("unknown store '{other}': expected postgres://... or nothing for SQLite")
        }
    }
}

/// The master key (before the store is opened: a replica without one stops at once).
fn master_key(cfg: &ServeConfig) -> anyhow::Result<Arc<crate::master_key::MasterKey>> {
    let shared = cfg.store.as_deref().is_some_and(|s| s != "sqlite");
    Ok(Arc::new(crate::master_key::MasterKey::resolve(cfg.master_key_file.as_deref(), &cfg.data_dir, shared)?))
}

/// What a start has made of the store before anything is served.
pub struct Started {
    pub tenant: Uuid,
    pub subscription: Uuid,
    /// The first tenant's secrets, on the start that created them only.
    pub created: Option<crate::bootstrap::Bootstrap>,
    pub keys: crate::keys::KeyRing,
}

/// A start's work on an opened store, before any listener serves: the master key checked against
/// it, the first tenant (bootstrap, `bootstrap.json` in `data_dir`) and the signing keys, then the
/// deployments this data directory's last run left running marked failed. `serve` runs it, and so
/// do the server's in-process tests (`tests/support`), so both start from the same state.
pub fn start_store(
    store: &Store,
    master: &Arc<crate::master_key::MasterKey>,
    data_dir: &std::path::Path,
    tenant: Option<Uuid>,
    subscription: Option<Uuid>,
) -> anyhow::Result<Started> {
    master.check_against(store)?;
    // A first start's two slow steps, side by side: the bootstrap (the administrator's argon2
    // hash) and the first RSA-2048 signing key; each is its own transaction.
    let slow =
        crate::progress::after_a_second(|| tracing::info!("first start: creating the tenant, its secrets and the token signing key"));
    let (booted, keys) = std::thread::scope(|s| {
        let keys = s.spawn(|| crate::keys::KeyRing::load_or_create(store, master.clone()));
        let booted = crate::bootstrap::ensure(store, data_dir, tenant, subscription);
        (booted, keys.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    drop(slow);
    let (tenant, subscription, created) = booted?;
    let keys = keys?;
    let interrupted = crate::arm::recover_interrupted_deployments(store, data_dir)?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "deployments that were running when the server stopped are now Failed (DeploymentInterrupted)");
    }
    Ok(Started { tenant, subscription, created, keys })
}

pub async fn serve(cfg: ServeConfig) -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    crate::data_dir::prepare(&cfg.data_dir)?;
    let _lock = claim_data_dir(&cfg.data_dir)?;
    let bound = Bound::all(&cfg.listeners)?;

    let master = master_key(&cfg)?;
    let store = open_store(&cfg)?;
    let Started { tenant, subscription, created, keys } = start_store(&store, &master, &cfg.data_dir, cfg.tenant_id, cfg.subscription_id)?;
    if let Some(b) = &created {
        // Printed once, on the start that created them (docs/ARCHITECTURE.md "Contract").
        println!("{}", serde_json::to_string_pretty(b)?);
    }
    let ca = crate::tls::LocalCa::load_or_create(&store, &cfg.data_dir, &master)?;
    let tls_config = ca.server_config()?;
    let tls = RustlsConfig::from_config(tls_config.clone());
    if crate::ca_bundle::write(&cfg.data_dir)?.is_none() {
        tracing::warn!(
            "no system CA bundle found: ca-bundle.pem holds Mimic's CA alone, so sites tunnelled through the proxy will fail verification"
        );
    }

    let Bound { arm, login, graph, portal, imds, proxy } = bound;
    let endpoints = Endpoints {
        arm: url("https", &arm)?,
        login: url("https", &login)?,
        graph: url("https", &graph)?,
        portal: url("https", &portal)?,
        imds: url("http", &imds)?,
        proxy: url("http", &proxy)?,
    };
    let handle = Handle::new();
    let imds_host = imds.local_addr()?.ip().to_string();
    let imds_registry = Arc::new(crate::imds::ImdsRegistry::new(handle.clone(), imds_host));
    let mut state = AppState::new(store, keys, endpoints.clone(), tenant, subscription, imds_registry.clone());
    state.issuers = Arc::new(crate::federation::Issuers::new(cfg.data_dir.join(crate::ca_bundle::BUNDLE_FILE)));
    state.provisioning = Arc::new(crate::state::Provisioning::new(cfg.provisioning_delay.0));
    let state = Arc::new(state);
    let arm_throttle = Arc::new(crate::arm::Throttle::new(cfg.arm_rate_limit));
    let arm_router = crate::arm::router(state.clone(), arm_throttle.clone());

    let mut tasks = tokio::task::JoinSet::new();
    let https = [
        (arm, arm_router.clone()),
        (login, crate::login::router(state.clone())),
        (graph, crate::graph::router(state.clone())),
        (portal, crate::portal::router(state.clone(), arm_router)),
    ];
    for (listener, app) in https {
        // Without TCP_NODELAY a response that TLS writes in two records waits for the client's
        // delayed ACK (40 ms) now and then: the load test's max latency was exactly that.
        let server = axum_server::from_tcp_rustls(listener, tls.clone())
            .map(|tls| tls.acceptor(axum_server::accept::NoDelayAcceptor))
            .handle(handle.clone());
        tasks.spawn(async move { server.serve(app.into_make_service()).await });
    }
    tasks.spawn(crate::imds::serve(imds, handle.clone(), imds_registry.router(state.clone())));
    let proxy_task = crate::proxy::Proxy::new(&state, arm_throttle, tls_config.clone(), cfg.proxy_others);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tasks.spawn(async move { proxy_task.run(proxy, stop_rx).await });

    // Signal handlers go in before readiness is announced: a script that sends SIGTERM as soon
    // as endpoints.json appears must get a graceful shutdown, not the default kill.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let shutdown = handle.clone();
    let provisioning = state.provisioning.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutting down: draining in-flight requests");
        shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
        provisioning.stop();
        let _ = stop_tx.send(true);
    });
    crate::data_dir::write_private(&cfg.data_dir.join("endpoints.json"), serde_json::to_string_pretty(&endpoints)?.as_bytes())?;
    announce_ready(&endpoints, &cfg.data_dir);

    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let _ = std::fs::remove_file(cfg.data_dir.join("endpoints.json"));
    tracing::info!("stopped");
    Ok(())
}
