//! `mimic oidc-token`: a token from one of Mimic's hosted OIDC issuers, for a test that plays a
//! pipeline (GitHub Actions, a Kubernetes service account) signing in through a federated
//! identity credential. Minted by the running server (`POST {graph}/mimic/oidc-issuers/{name}/token`)
//! as the bootstrap service principal or `--credentials`, whose tenant owns the issuer.

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Map, Value};

use crate::client::error_message;

#[derive(Args)]
pub struct OidcTokenArgs {
    #[command(flatten)]
    target: crate::client::Target,
    /// The hosted issuer's name; its issuer URL is https://token.actions.githubusercontent.com/NAME.
    /// Created, owned by the caller's tenant, on first use.
    #[arg(long)]
    issuer: String,
    /// The token's `sub`, e.g. repo:contoso/app:ref:refs/heads/main or
    /// system:serviceaccount:default:workload.
    #[arg(long)]
    subject: Option<String>,
    /// The token's `aud`.
    #[arg(long, default_value = "api://AzureADTokenExchange")]
    audience: String,
    /// A further claim, KEY=VALUE (VALUE read as JSON when it parses, else as a string); may
    /// repeat. `exp`, `nbf` and `iat` set the lifetime (e.g. --claim exp=1 for an expired token).
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    claims: Vec<String>,
    /// Write the token to this file (what AZURE_FEDERATED_TOKEN_FILE names) instead of stdout.
    #[arg(long)]
    output_file: Option<std::path::PathBuf>,
    /// Print the issuer URL (to create the federated credential with) instead of a token.
    #[arg(long)]
    issuer_url: bool,
}

pub fn run(args: OidcTokenArgs) -> anyhow::Result<()> {
    let url = format!("https://{}/{}", mimic_domain::federation::hosted::HOST, args.issuer);
    if args.issuer_url {
        println!("{url}");
        return Ok(());
    }
    let subject = args.subject.as_deref().context("--subject is required to mint a token")?;
    let mut claims = Map::new();
    for c in &args.claims {
        let (k, v) = c.split_once('=').with_context(|| format!("--claim '{c}': expected KEY=VALUE"))?;
        let value = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.to_string()));
        claims.insert(k.to_string(), value);
    }
    let server = args.target.open()?;
    let graph = server.endpoint("graph");
    if graph.is_empty() {
        bail!("endpoints.json has no graph endpoint");
    }
    let token = server.token(&format!("{graph}/.default")).context("cannot get a Graph token as the service principal")?;
    let body = json!({ "subject": subject, "audience": args.audience, "claims": claims });
    let (status, v) = server.call("POST", &format!("{graph}/mimic/oidc-issuers/{}/token", args.issuer), &token, Some(&body))?;
    if status != 200 {
        bail!("Mimic answered {status}: {}", error_message(&v));
    }
    let minted = v["token"].as_str().context("no token in Mimic's answer")?;
    match &args.output_file {
        Some(path) => std::fs::write(path, minted).with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{minted}"),
    }
    Ok(())
}
