//! The `mimic` binary: `serve` runs every surface; `env` tells a shell how to use it.

mod admin;
mod client;
mod env;
mod netns;
mod oidc;
mod vm;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "mimic", version, about = "Azure managed identities for VMs, on one machine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DataDir {
    /// Where Mimic keeps its store, CA, endpoints.json and bootstrap.json.
    #[arg(long, env = "MIMIC_DATA_DIR", default_value = ".mimic", global = true)]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run every surface (ARM, login, Graph, portal, IMDS, proxy) until SIGINT/SIGTERM.
    Serve {
        #[command(flatten)]
        dir: DataDir,
        /// Store: omit for embedded SQLite in the data directory, or postgres://...
        #[arg(long, env = "MIMIC_STORE")]
        store: Option<String>,
        /// The key the store's private keys are sealed under (base64 of 32 random bytes, e.g.
        /// `openssl rand -base64 32`). SQLite: defaults to DATA_DIR/master.key, created on first
        /// start. PostgreSQL: required, the same file on every replica.
        #[arg(long, env = "MIMIC_MASTER_KEY_FILE")]
        master_key_file: Option<PathBuf>,
        /// ARM listener (management.azure.com), host:port; port 0 picks a free port.
        #[arg(long, env = "MIMIC_ARM", default_value = "127.0.0.1:8443")]
        arm: String,
        /// Token service listener (login.microsoftonline.com).
        #[arg(long, env = "MIMIC_LOGIN", default_value = "127.0.0.1:8444")]
        login: String,
        /// Microsoft Graph listener (graph.microsoft.com).
        #[arg(long, env = "MIMIC_GRAPH", default_value = "127.0.0.1:8445")]
        graph: String,
        /// Portal listener.
        #[arg(long, env = "MIMIC_PORTAL", default_value = "127.0.0.1:8446")]
        portal: String,
        /// IMDS listener (169.254.169.254), plain HTTP.
        #[arg(long, env = "MIMIC_IMDS", default_value = "127.0.0.1:8080")]
        imds: String,
        /// HTTP proxy listener for Azure's public host names.
        #[arg(long, env = "MIMIC_PROXY", default_value = "127.0.0.1:8480")]
        proxy: String,
        /// What the proxy does with hosts Mimic does not serve: tunnel (CONNECT passed through
        /// undecrypted, plain HTTP forwarded; never to this machine's own addresses) or refuse (403).
        #[arg(long, env = "MIMIC_PROXY_OTHERS", default_value = "tunnel")]
        proxy_others: mimic_server::proxy::Others,
        /// Fix the first tenant's id (reproducible CI).
        #[arg(long, env = "MIMIC_TENANT_ID")]
        tenant_id: Option<uuid::Uuid>,
        /// Fix the first subscription's id.
        #[arg(long, env = "MIMIC_SUBSCRIPTION_ID")]
        subscription_id: Option<uuid::Uuid>,
        /// Log format (stderr): text when stderr is a terminal, else json; MIMIC_LOG sets the level.
        #[arg(long, env = "MIMIC_LOG_FORMAT", value_enum)]
        log_format: Option<LogFormat>,
        /// ARM throttling as Azure does it: off, azure (Azure's token buckets: reads 250 +25/s,
        /// writes and deletes 200 +10/s per principal and subscription), or SIZE/REFILL.
        #[arg(long, env = "MIMIC_ARM_RATE_LIMIT", default_value = "off")]
        arm_rate_limit: mimic_server::arm::RateLimit,
        /// How long each resource a template deployment writes takes to provision, so that
        /// clients polling, waiting on or cancelling a deployment meet it running as on Azure:
        /// a duration (1s, 500ms) or off.
        #[arg(long, env = "MIMIC_PROVISIONING_DELAY", default_value = "1s")]
        provisioning_delay: mimic_server::arm::ProvisioningDelay,
    },
    /// Print the shell settings that point az and the Azure SDKs at a running Mimic.
    Env {
        #[command(flatten)]
        dir: client::Target,
        #[arg(long, value_enum, default_value = "bash")]
        shell: env::Shell,
        /// Point clients at Mimic's own addresses (a registered custom cloud) instead of its proxy.
        #[arg(long)]
        direct: bool,
        /// `json` prints the settings as a JSON object.
        #[arg(long, short = 'o', value_enum)]
        output: Option<Output>,
    },
    /// Directory administration (service principals, secrets, users, groups, directory roles)
    /// through the running server's Microsoft Graph.
    Admin(admin::AdminArgs),
    /// Mint a token from one of Mimic's hosted OIDC issuers (a pipeline's token, to exchange
    /// through a federated identity credential).
    OidcToken(oidc::OidcTokenArgs),
    /// Run workloads on a VM: they get that VM's managed-identity tokens from its IMDS.
    Vm {
        #[command(subcommand)]
        command: VmCommand,
    },
}

#[derive(Subcommand)]
enum VmCommand {
    /// Run COMMAND as a workload on the VM RESOURCE_GROUP/NAME.
    Run {
        #[command(flatten)]
        dir: client::Target,
        /// RESOURCE_GROUP/NAME
        vm: String,
        /// Subscription of the VM (default: the bootstrap or `--credentials` subscription).
        #[arg(long)]
        subscription: Option<String>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Print the variables that attach an existing shell to the VM RESOURCE_GROUP/NAME.
    Env {
        #[command(flatten)]
        dir: client::Target,
        vm: String,
        #[arg(long)]
        subscription: Option<String>,
        #[arg(long, short = 'o', value_enum)]
        output: Option<Output>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Output {
    Json,
}

fn init_logs(format: Option<LogFormat>) {
    use std::io::IsTerminal;
    let format = format.unwrap_or(if std::io::stderr().is_terminal() { LogFormat::Text } else { LogFormat::Json });
    let filter = tracing_subscriber::EnvFilter::try_from_env("MIMIC_LOG").unwrap_or_else(|_| "info".into());
    // rustls warns about every client that sends an IP address as SNI (Node, OpenSSL's wrk):
    // not the server's problem, and once per connection. An explicit rustls directive wins.
    let names_rustls = std::env::var("MIMIC_LOG").is_ok_and(|v| v.contains("rustls"));
    let filter = if names_rustls { filter } else { filter.add_directive("rustls=error".parse().expect("static directive")) };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()).init(),
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            dir,
            store,
            master_key_file,
            arm,
            login,
            graph,
            portal,
            imds,
            proxy,
            proxy_others,
            tenant_id,
            subscription_id,
            log_format,
            arm_rate_limit,
            provisioning_delay,
        } => {
            init_logs(log_format);
            let cfg = mimic_server::ServeConfig {
                data_dir: dir.data_dir,
                store,
                listeners: mimic_server::Listeners { arm, login, graph, portal, imds, proxy },
                tenant_id,
                subscription_id,
                arm_rate_limit,
                master_key_file,
                proxy_others,
                provisioning_delay,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(mimic_server::serve(cfg)))
        }
        Command::Admin(args) => admin::run(args),
        Command::OidcToken(args) => oidc::run(args),
        Command::Env { dir, shell, direct, output } => env::print(&dir, shell, output == Some(Output::Json), direct),
        Command::Vm { command: VmCommand::Run { dir, vm, subscription, command } } => {
            match vm::run(&dir, &vm, subscription.as_deref(), &command) {
                Ok(code) => std::process::exit(code),
                Err(e) => Err(e),
            }
        }
        Command::Vm { command: VmCommand::Env { dir, vm, subscription, output } } => {
            vm::env(&dir, &vm, subscription.as_deref(), output == Some(Output::Json))
        }
    };
    if let Err(e) = result {
        eprintln!("mimic: {e:#}");
        std::process::exit(1);
    }
}
