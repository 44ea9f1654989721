//! `mimic vm run RG/NAME -- COMMAND` and `mimic vm env RG/NAME`: put a workload on a VM, so
//! unmodified azure-identity, MSAL and `az login --identity` get that VM's tokens from its IMDS.
//!
//! The VM's IMDS address comes from the server (`POST /mimic/vm-imds`, which needs run-command
//! rights on the VM). The workload reaches it through `AZURE_POD_IDENTITY_AUTHORITY_HOST`, the
//! variable azure-identity (Python, JavaScript, .NET) and MSAL honour for the VM source; and
//! credentials of the calling shell are removed, as a VM has none.

use anyhow::{bail, Context};
use serde_json::json;

use crate::client::{error_message, Target};

/// Variables that would make a credential chain skip managed identity, or point it at another
/// managed-identity source: a VM has none of them.
const STRIPPED: &[&str] = &[
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

pub struct Placement {
    pub vm_id: String,
    pub imds: String,
    pub vars: Vec<(&'static str, String)>,
    /// Mimic's listeners (`endpoints.json`), which a namespace must relay to.
    pub listeners: Vec<std::net::SocketAddr>,
}

/// Resolves `RG/NAME` in the bootstrap (or `--credentials`) subscription, or `subscription`, to its IMDS address.
pub fn place(target: &Target, vm: &str, subscription: Option<&str>) -> anyhow::Result<Placement> {
    let (rg, name) = vm
        .split_once('/')
        .filter(|(r, n)| !r.is_empty() && !n.is_empty() && !n.contains('/'))
        .context("the VM must be given as RESOURCE_GROUP/NAME")?;
    // Said only when it is slow (a server under load, a VM's first IMDS listener): the person
    // sees what is being waited for; stderr, so `vm env`'s output stays a script.
    let vm_name = vm.to_string();
    let _slow = mimic_server::progress::after_a_second(move || {
        eprintln!("mimic: placing the workload on {vm_name} (its IMDS address from the server)…")
    });
    let server = target.open()?;
    let sub = subscription.map(str::to_string).unwrap_or_else(|| server.boot(&["subscriptionId"]));
    let token = server.token(&format!("{}.default", mimic_domain::cloud::ARM_AUDIENCES[1]))?;
    let vm_id = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}");
    let (status, body) = server.call(
        "POST",
        &format!("{}/mimic/vm-imds?api-version=2024-11-01", server.endpoint("arm")),
        &token,
        Some(&json!({ "vmId": vm_id })),
    )?;
    if status != 200 {
        bail!("cannot place a workload on {vm}: {}", error_message(&body));
    }
    let imds = body["imds"].as_str().context("server gave no IMDS address")?.to_string();
    let ca = server.ca_path.display().to_string();
    let bundle = server.ca_bundle_path.display().to_string();
    let vars = vec![
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.clone()),
        ("REQUESTS_CA_BUNDLE", bundle.clone()),
        ("SSL_CERT_FILE", bundle),
        ("NODE_EXTRA_CA_CERTS", ca),
        ("AZURE_CORE_INSTANCE_DISCOVERY", "false".into()),
        ("MIMIC_VM_ID", body["vmId"].as_str().unwrap_or(&vm_id).to_string()),
        ("MIMIC_ARM_URL", server.endpoint("arm")),
        // Azure's host names (Key Vault's `{vault}.vault.azure.net`, ARM, login) reach Mimic
        // through its proxy, as on a VM behind one; IMDS and Mimic's own addresses go direct.
        ("HTTPS_PROXY", server.endpoint("proxy")),
        ("https_proxy", server.endpoint("proxy")),
        ("NO_PROXY", crate::env::NO_PROXY.into()),
        ("no_proxy", crate::env::NO_PROXY.into()),
    ];
    let listeners = ["arm", "login", "graph", "portal", "imds", "proxy"]
        .iter()
        .filter_map(|n| server.endpoint(n).split("://").nth(1).and_then(|a| a.parse().ok()))
        .collect();
    Ok(Placement { vm_id, imds, vars, listeners })
}

pub fn run(target: &Target, vm: &str, subscription: Option<&str>, command: &[String]) -> anyhow::Result<i32> {
    let Some((program, args)) = command.split_first() else { bail!("give the command to run after `--`") };
    let p = place(target, vm, subscription)?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    for v in STRIPPED {
        cmd.env_remove(v);
    }
    let namespaced = crate::netns::available();
    for (k, v) in &p.vars {
        // In a namespace the workload finds IMDS where Azure puts it; no redirect needed.
        if namespaced && *k == "AZURE_POD_IDENTITY_AUTHORITY_HOST" {
            continue;
        }
        cmd.env(k, v);
    }
    let slow = mimic_server::progress::after_a_second(|| eprintln!("mimic: making the workload's network namespace…"));
    let mut child = if namespaced {
        let imds: std::net::SocketAddr = p.imds.trim_start_matches("http://").parse().context("bad IMDS address")?;
        let mut relays: Vec<(std::net::SocketAddr, std::net::SocketAddr)> = vec![(([169, 254, 169, 254], 80).into(), imds)];
        relays.extend(p.listeners.iter().map(|a| (*a, *a)));
        crate::netns::spawn(cmd, relays)?
    } else {
        cmd.spawn().with_context(|| format!("cannot run {program}"))?
    };
    drop(slow);
    let status = child.wait()?;
    Ok(status.code().unwrap_or(1))
}

pub fn env(target: &Target, vm: &str, subscription: Option<&str>, json_out: bool) -> anyhow::Result<()> {
    let p = place(target, vm, subscription)?;
    if json_out {
        let vars: serde_json::Map<String, serde_json::Value> = p.vars.iter().map(|(k, v)| (k.to_string(), v.clone().into())).collect();
        println!("{}", serde_json::to_string_pretty(&json!({"vmId": p.vm_id, "imds": p.imds, "variables": vars}))?);
        return Ok(());
    }
    for v in STRIPPED.iter().filter(|v| **v != "AZURE_POD_IDENTITY_AUTHORITY_HOST") {
        println!("unset {v}");
    }
    for (k, v) in &p.vars {
        println!("export {k}='{}'", v.replace('\'', r"'\''"));
    }
    Ok(())
}
