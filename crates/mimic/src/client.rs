//! How the client commands (`env`, `vm`, `admin`) reach a running Mimic: its data directory
//! tells the endpoints, the bootstrap principal and the CA; calls go over HTTPS like any client's.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::Value;

/// Where the client commands find the running server, and whom they act as.
#[derive(clap::Args, Clone)]
pub struct Target {
    /// Where the running Mimic keeps endpoints.json, bootstrap.json and ca.pem.
    #[arg(long, env = "MIMIC_DATA_DIR", default_value = ".mimic", global = true)]
    pub data_dir: PathBuf,
    /// Act as the service principal of this file, in its tenant and subscription, instead of
    /// bootstrap.json's: a file in bootstrap.json's shape, as `mimic admin tenant create`
    /// prints for a new tenant.
    #[arg(long, env = "MIMIC_CREDENTIALS", global = true)]
    pub credentials: Option<PathBuf>,
}

impl Target {
    pub fn open(&self) -> anyhow::Result<Server> {
        Server::open(&self.data_dir, self.credentials.as_deref())
    }
}

pub struct Server {
    pub endpoints: Value,
    pub bootstrap: Value,
    /// Mimic's CA alone (what Mimic's own listeners need).
    pub ca_path: PathBuf,
    /// The machine's roots and Mimic's CA (what a shell whose traffic goes through the proxy
    /// needs); `ca.pem` for a server that writes no bundle.
    pub ca_bundle_path: PathBuf,
    /// The running server's PID, when it has written its lock file.
    pub pid: Option<u32>,
    agent: ureq::Agent,
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// How to start the server for `data_dir`, for error messages.
fn start_hint(data_dir: &Path) -> String {
    if data_dir == Path::new(".mimic") {
        "start it with `mimic serve` (in this directory), or give --data-dir / MIMIC_DATA_DIR".to_string()
    } else {
        format!("start it with `mimic serve --data-dir {}`", data_dir.display())
    }
}

/// Why the data directory names no reachable server, when it does not: no server holds its
/// lock (an `endpoints.json` there is what a killed server left), or it is still starting.
fn check_running(data_dir: &Path) -> anyhow::Result<Option<u32>> {
    let endpoints = data_dir.join("endpoints.json");
    let holder = mimic_server::data_dir_lock::holder(data_dir);
    match (holder, endpoints.exists()) {
        (Some(pid), true) => Ok(pid),
        (Some(pid), false) => {
            let who = pid.map(|p| format!(" (PID {p})")).unwrap_or_default();
            bail!("mimic serve{who} with data directory {} has not finished starting (no endpoints.json yet); try again in a moment", data_dir.display())
        }
        (None, true) => bail!(
            "no mimic serve is running with data directory {}: its endpoints.json is stale (left by a server that was killed or crashed); {}",
            data_dir.display(),
            start_hint(data_dir)
        ),
        (None, false) if !data_dir.join("bootstrap.json").exists() && !data_dir.join("serve.lock").exists() => {
            bail!("{} is not a Mimic data directory (no mimic serve has run with it); {}", data_dir.display(), start_hint(data_dir))
        }
        (None, false) => bail!("no mimic serve is running with data directory {}; {}", data_dir.display(), start_hint(data_dir)),
    }
}

impl Server {
    pub fn open(data_dir: &Path, credentials: Option<&Path>) -> anyhow::Result<Self> {
        let pid = check_running(data_dir)?;
        let endpoints = read_json(&data_dir.join("endpoints.json"))?;
        let bootstrap = match credentials {
            Some(file) => read_json(file)?,
            None => read_json(&data_dir.join("bootstrap.json")).map_err(|e| {
                e.context("the bootstrap principal's secrets are gone from this data directory (a replica joining a store has none): pass --credentials FILE")
            })?,
        };
        let ca_path = std::fs::canonicalize(data_dir.join("ca.pem")).context("ca.pem is missing from the data directory")?;
        let ca_bundle_path = std::fs::canonicalize(data_dir.join(mimic_server::ca_bundle::BUNDLE_FILE)).unwrap_or_else(|_| ca_path.clone());
        let pem = std::fs::read(&ca_path)?;
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&certs)).build();
        let agent = ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).build().new_agent();
        Ok(Server { endpoints, bootstrap, ca_path, ca_bundle_path, pid, agent })
    }

    /// A transport failure (refused, reset, timed out) said as what to do about it.
    fn unreachable(&self, url: &str, e: ureq::Error) -> anyhow::Error {
        let who = self.pid.map(|p| format!(" (PID {p})")).unwrap_or_default();
        anyhow::anyhow!("cannot reach mimic serve{who} at {}: {e}; is it still running? Its log says why it stopped", origin(url))
    }

    pub fn endpoint(&self, name: &str) -> String {
        self.endpoints.get(name).and_then(Value::as_str).unwrap_or_default().to_string()
    }

    pub fn boot(&self, path: &[&str]) -> String {
        let mut v = &self.bootstrap;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or_default().to_string()
    }

    /// A token for `scope` as the bootstrap service principal (or the `--credentials` one).
    pub fn token(&self, scope: &str) -> anyhow::Result<String> {
        let url = format!("{}/{}/oauth2/v2.0/token", self.endpoint("login"), self.boot(&["tenantId"]));
        let form = [
            ("grant_type", "client_credentials".to_string()),
            ("client_id", self.boot(&["servicePrincipal", "clientId"])),
            ("client_secret", self.boot(&["servicePrincipal", "clientSecret"])),
            ("scope", scope.to_string()),
        ];
        let mut res = self.agent.post(&url).send_form(form.iter().map(|(k, v)| (*k, v.as_str()))).map_err(|e| self.unreachable(&url, e))?;
        let body: Value = res.body_mut().read_json()?;
        match body.get("access_token").and_then(Value::as_str) {
            Some(t) => Ok(t.to_string()),
            None => bail!("token request failed: {}", body.get("error_description").and_then(Value::as_str).unwrap_or("no access_token")),
        }
    }

    /// Sends JSON with a bearer token; returns the status and the JSON body (null if none).
    pub fn call(&self, method: &str, url: &str, token: &str, body: Option<&Value>) -> anyhow::Result<(u16, Value)> {
        let auth = format!("Bearer {token}");
        let sent = match (method, body) {
            ("GET", _) => self.agent.get(url).header("Authorization", &auth).call(),
            ("DELETE", _) => self.agent.delete(url).header("Authorization", &auth).call(),
            (m, b) => {
                let req = match m {
                    "POST" => self.agent.post(url),
                    "PUT" => self.agent.put(url),
                    "PATCH" => self.agent.patch(url),
                    other => bail!("unsupported method {other}"),
                };
                req.header("Authorization", &auth).send_json(b.cloned().unwrap_or(Value::Null))
            }
        };
        let mut res = sent.map_err(|e| self.unreachable(url, e))?;
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap_or_default();
        let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Ok((status, json))
    }
}

/// `scheme://host:port` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The error message of an ARM or Graph error body, for one clear line.
pub fn error_message(body: &Value) -> String {
    body.pointer("/error/message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| body.to_string())
}
