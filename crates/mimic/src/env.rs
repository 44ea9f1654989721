//! `mimic env`: what a shell needs to use a running Mimic, read from the data directory the
//! server writes (`endpoints.json`, `bootstrap.json`, `ca.pem`).
//!
//! The default is the zero-configuration form: clients keep Azure's public host names and reach
//! Mimic through its proxy (`HTTPS_PROXY`), trusting Mimic's CA; the bootstrap service principal
//! (or the `--credentials` one) is exported for credential chains. `--direct` prints the custom-cloud form instead, where
//! clients are pointed at Mimic's own addresses.
//!
//! The rest of the shell keeps working: the proxy tunnels hosts Mimic does not serve, and the
//! exported CA bundle (`ca-bundle.pem`) holds the machine's roots beside Mimic's CA, since
//! `REQUESTS_CA_BUNDLE` and `SSL_CERT_FILE` replace a client's roots. Node adds
//! `NODE_EXTRA_CA_CERTS` to its own roots, so it gets `ca.pem` alone.

use serde_json::Value;

use crate::client::Target;

pub const NO_PROXY: &str = "127.0.0.1,localhost,::1,169.254.169.254";

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Pwsh,
    Fish,
}

pub fn print(target: &Target, shell: Shell, json: bool, direct: bool) -> anyhow::Result<()> {
    let server = target.open()?;
    let ca = server.ca_path.display().to_string();
    let bundle = server.ca_bundle_path.display().to_string();
    let arm = server.endpoint("arm");
    let mut vars: Vec<(&str, String)> =
        vec![("REQUESTS_CA_BUNDLE", bundle.clone()), ("SSL_CERT_FILE", bundle), ("NODE_EXTRA_CA_CERTS", ca)];
    if direct {
        vars.push(("AZURE_CORE_INSTANCE_DISCOVERY", "false".into()));
        vars.push(("AZURE_AUTHORITY_HOST", server.endpoint("login")));
    } else {
        let proxy = server.endpoint("proxy");
        vars.push(("HTTPS_PROXY", proxy.clone()));
        vars.push(("https_proxy", proxy));
        // Loopback (Mimic's own listeners, local services) and IMDS's address never go through
        // a proxy, as on an Azure VM behind one.
        vars.push(("NO_PROXY", NO_PROXY.into()));
        vars.push(("no_proxy", NO_PROXY.into()));
    }
    vars.push(("MIMIC_ARM_URL", arm.clone()));
    vars.push(("MIMIC_LOGIN_URL", server.endpoint("login")));
    vars.push(("MIMIC_GRAPH_URL", server.endpoint("graph")));
    vars.push(("AZURE_TENANT_ID", server.boot(&["tenantId"])));
    vars.push(("AZURE_SUBSCRIPTION_ID", server.boot(&["subscriptionId"])));
    vars.push(("AZURE_CLIENT_ID", server.boot(&["servicePrincipal", "clientId"])));
    vars.push(("AZURE_CLIENT_SECRET", server.boot(&["servicePrincipal", "clientSecret"])));
    let az_setup = format!("az cloud register --name Mimic --endpoint-resource-manager {arm}/ && az cloud set --name Mimic");
    if json {
        let m: serde_json::Map<String, Value> = vars.iter().map(|(k, v)| (k.to_string(), v.clone().into())).collect();
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"variables": m, "azSetup": az_setup}))?);
        return Ok(());
    }
    let quote = |v: &str| format!("'{}'", v.replace('\'', r"'\''"));
    for (k, v) in &vars {
        match shell {
            Shell::Bash => println!("export {k}={}", quote(v)),
            Shell::Fish => println!("set -gx {k} {}", quote(v)),
            Shell::Pwsh => println!("$env:{k} = \"{}\"", v.replace('"', "`\"")),
        }
    }
    if direct {
        println!("# once per az configuration directory, to use Mimic's own addresses:");
        println!("# {az_setup}");
    } else {
        println!("# az, azure-identity and the SDKs now reach Mimic under Azure's own host names. Without the proxy:");
        println!("# {az_setup}");
    }
    Ok(())
}
