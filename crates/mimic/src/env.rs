//! `mimic env`: the variables and the one-time az setup that point clients at a running Mimic,
//! read from the data directory the server writes (`endpoints.json`, `bootstrap.json`, `ca.pem`).

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Pwsh,
    Fish,
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} (is `mimic serve` running with this --data-dir?)", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

pub fn print(data_dir: &Path, shell: Shell, json: bool) -> anyhow::Result<()> {
    let endpoints = read_json(&data_dir.join("endpoints.json"))?;
    let boot = read_json(&data_dir.join("bootstrap.json")).ok();
    let ca = std::fs::canonicalize(data_dir.join("ca.pem")).context("ca.pem is missing from the data directory")?;
    let ca = ca.display().to_string();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let arm = s(&endpoints, "arm");
    let login = s(&endpoints, "login");
    let mut vars: Vec<(&str, String)> = vec![
        ("REQUESTS_CA_BUNDLE", ca.clone()),
        ("SSL_CERT_FILE", ca.clone()),
        ("NODE_EXTRA_CA_CERTS", ca.clone()),
        ("AZURE_CORE_INSTANCE_DISCOVERY", "false".into()),
        ("AZURE_AUTHORITY_HOST", login.clone()),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", s(&endpoints, "imds")),
        ("MIMIC_ARM_URL", arm.clone()),
        ("MIMIC_GRAPH_URL", s(&endpoints, "graph")),
    ];
    if let Some(b) = &boot {
        vars.push(("AZURE_TENANT_ID", s(b, "tenantId")));
        vars.push(("AZURE_SUBSCRIPTION_ID", s(b, "subscriptionId")));
        let sp = b.get("servicePrincipal").cloned().unwrap_or_default();
        vars.push(("AZURE_CLIENT_ID", s(&sp, "clientId")));
        vars.push(("AZURE_CLIENT_SECRET", s(&sp, "clientSecret")));
    }
    let az_setup = format!("az cloud register --name Mimic --endpoint-resource-manager {arm}/ && az cloud set --name Mimic");
    if json {
        let mut m = serde_json::Map::new();
        for (k, v) in &vars {
            m.insert(k.to_string(), v.clone().into());
        }
        let out = serde_json::json!({"variables": m, "azSetup": az_setup});
        println!("{}", serde_json::to_string_pretty(&out)?);
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
    println!("# once per az configuration directory:");
    println!("# {az_setup}");
    Ok(())
}
