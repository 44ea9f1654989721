//! `mimic admin`: the directory administration Azure does outside ARM (service principals and
//! their secrets, users, groups and members, directory roles), done through the running
//! server's Microsoft Graph as the bootstrap service principal (a Global Administrator), so it
//! obeys the same rules as any Graph client; and signing-key rotation, through Mimic's own
//! control routes on the Graph listener (`POST /mimic/signing-keys/rotate`, `POST /mimic/tenants`).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::client::{error_message, Server};

#[derive(Args)]
pub struct AdminArgs {
    #[command(flatten)]
    target: crate::client::Target,
    /// `json` prints results as JSON.
    #[arg(long, short = 'o', value_enum, global = true)]
    output: Option<crate::Output>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Service principals (an application, its principal and a client secret).
    #[command(subcommand)]
    Sp(SpCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Security groups and their members.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Directory roles (Global Administrator, Directory Readers, ...).
    #[command(subcommand)]
    Role(RoleCommand),
    /// The token signing keys (shared by every replica over one store).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Further tenants, each with its own directory and first subscription.
    #[command(subcommand)]
    Tenant(TenantCommand),
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant that shares nothing with the others: its own directory with an
    /// administrator user and a service principal (Global Administrators, Owners of its first
    /// subscription). Prints its ids and secrets in bootstrap.json's shape, only this once.
    /// Needs a Global Administrator of the home tenant (the bootstrap service principal is one).
    Create {
        /// Display name of the tenant (its subscription is "NAME Subscription").
        #[arg(long, default_value = "Mimic")]
        name: String,
        /// A fixed tenant id (reproducible CI), else a random one.
        #[arg(long)]
        tenant_id: Option<uuid::Uuid>,
        /// A fixed id for its first subscription, else a random one.
        #[arg(long)]
        subscription_id: Option<uuid::Uuid>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new key sign every token from now on, on every replica; the previous keys stay
    /// published in JWKS until the tokens they signed have expired. Needs a Global
    /// Administrator of the home tenant (the bootstrap service principal is one).
    Rotate,
}

#[derive(Subcommand)]
enum SpCommand {
    /// Create an application, its service principal and a client secret; prints appId,
    /// objectId (the principal's) and the secret, which is shown only this once.
    Create {
        #[arg(long)]
        name: String,
        /// Secret lifetime in years.
        #[arg(long, default_value_t = 1)]
        years: u32,
    },
    /// List service principals, optionally those whose display name starts with a prefix.
    List {
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Show one service principal by object id or app id.
    Show {
        #[arg(long)]
        id: String,
    },
    /// Delete a service principal and its application (by object id or app id).
    Delete {
        #[arg(long)]
        id: String,
    },
    /// Client secrets of a service principal's application.
    #[command(subcommand)]
    Secret(SecretCommand),
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Add a client secret (printed once).
    Add {
        /// The service principal's object id or app id.
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 1)]
        years: u32,
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. Without `@domain` the tenant's domain is used; without --password one is
    /// generated and printed.
    Create {
        #[arg(long, alias = "upn")]
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        password: Option<String>,
    },
    List,
    /// Show a user by object id or user principal name.
    Show {
        #[arg(long)]
        id: String,
    },
    Delete {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a security group.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    List,
    /// Show a group by object id or display name.
    Show {
        #[arg(long)]
        group: String,
    },
    Delete {
        #[arg(long)]
        group: String,
    },
    /// Group members.
    #[command(subcommand)]
    Member(MemberCommand),
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Add a user, service principal (a VM's principalId too) or group to a group.
    Add {
        #[arg(long)]
        group: String,
        #[arg(long)]
        member_id: String,
    },
    Remove {
        #[arg(long)]
        group: String,
        #[arg(long)]
        member_id: String,
    },
    List {
        #[arg(long)]
        group: String,
    },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// Give a principal a directory role (by display name or template id).
    Assign {
        #[arg(long)]
        role: String,
        #[arg(long)]
        principal: String,
    },
    /// Take a directory role from a principal.
    Remove {
        #[arg(long)]
        role: String,
        #[arg(long)]
        principal: String,
    },
    /// List directory role assignments.
    List,
}

struct Graph {
    server: Server,
    base: String,
    token: String,
    json: bool,
}

/// Percent-encodes a path segment or query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

impl Graph {
    fn open(args: &AdminArgs) -> anyhow::Result<Self> {
        let server = args.target.open()?;
        let graph = server.endpoint("graph");
        if graph.is_empty() {
            bail!("endpoints.json has no graph endpoint");
        }
        let token = server.token(&format!("{graph}/.default")).context("cannot get a Graph token as the bootstrap service principal")?;
        Ok(Graph { base: format!("{graph}/v1.0"), server, token, json: args.output == Some(crate::Output::Json) })
    }

    /// A Graph call; a Graph error becomes one clear line.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let (status, v) = self.server.call(method, &format!("{}{path}", self.base), &self.token, body.as_ref())?;
        if !(200..300).contains(&status) {
            bail!("Graph answered {status}: {}", error_message(&v));
        }
        Ok(v)
    }

    fn try_get(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let (status, v) = self.server.call("GET", &format!("{}{path}", self.base), &self.token, None)?;
        match status {
            200 => Ok(Some(v)),
            404 | 400 => Ok(None),
            _ => bail!("Graph answered {status}: {}", error_message(&v)),
        }
    }

    /// A call to Mimic's own control routes on the Graph listener (`{graph}/mimic/...`).
    fn control(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let root = self.base.strip_suffix("/v1.0").unwrap_or(&self.base);
        let (status, v) = self.server.call(method, &format!("{root}/mimic{path}"), &self.token, body.as_ref())?;
        if !(200..300).contains(&status) {
            bail!("Mimic answered {status}: {}", error_message(&v));
        }
        Ok(v)
    }

    /// Every page of a collection.
    fn list(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut url = format!("{}{path}", self.base);
        loop {
            let (status, v) = self.server.call("GET", &url, &self.token, None)?;
            if status != 200 {
                bail!("Graph answered {status}: {}", error_message(&v));
            }
            out.extend(v["value"].as_array().cloned().unwrap_or_default());
            match v.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) => url = next.to_string(),
                None => return Ok(out),
            }
        }
    }

    fn print(&self, v: &Value, text: impl FnOnce(&Value) -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
        } else {
            let t = text(v);
            if !t.is_empty() {
                println!("{t}");
            }
        }
    }

    /// A service principal by object id or app id.
    fn sp(&self, id: &str) -> anyhow::Result<Value> {
        if let Some(sp) = self.try_get(&format!("/servicePrincipals/{}", enc(id)))? {
            return Ok(sp);
        }
        if let Some(sp) = self.try_get(&format!("/servicePrincipals(appId='{}')", enc(id)))? {
            return Ok(sp);
        }
        bail!("no service principal with object id or app id '{id}'")
    }

    /// A group by object id or exact display name.
    fn group(&self, g: &str) -> anyhow::Result<Value> {
        if uuid::Uuid::parse_str(g).is_ok() {
            return self.call("GET", &format!("/groups/{g}"), None);
        }
        let found = self.list(&format!("/groups?$filter={}", enc(&format!("displayName eq '{}'", quote(g)))))?;
        match found.len() {
            1 => Ok(found[0].clone()),
            0 => bail!("no group named '{g}'"),
            _ => bail!("more than one group is named '{g}': use its object id"),
        }
    }

    fn add_secret(&self, app_object_id: &str, display_name: &str, years: u32) -> anyhow::Result<Value> {
        let now = chrono_like_now();
        let end = now + (years.max(1) as i64) * 365 * 24 * 3600;
        self.call(
            "POST",
            &format!("/applications/{app_object_id}/addPassword"),
            Some(json!({"passwordCredential": {"displayName": display_name, "startDateTime": rfc3339(now), "endDateTime": rfc3339(end)}})),
        )
    }
}

fn chrono_like_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn generate_password() -> String {
    let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let bytes: Vec<u8> = (0..18).map(|_| alphabet[(uuid::Uuid::new_v4().as_bytes()[0] as usize) % alphabet.len()]).collect();
    format!("Mm{}7!", String::from_utf8_lossy(&bytes))
}

fn sp_line(sp: &Value) -> String {
    format!("{}\t{}\t{}\t{}", s(sp, "id"), s(sp, "appId"), s(sp, "servicePrincipalType"), s(sp, "displayName"))
}

pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    let g = Graph::open(&args)?;
    match args.command {
        AdminCommand::Sp(SpCommand::Create { name, years }) => {
            let app = g.call("POST", "/applications", Some(json!({"displayName": name})))?;
            let secret = g.add_secret(s(&app, "id"), "mimic admin", years)?;
            let sp = g.call("POST", "/servicePrincipals", Some(json!({"appId": s(&app, "appId")})))?;
            let out = json!({
                "appId": s(&app, "appId"),
                "objectId": s(&sp, "id"),
                "secret": s(&secret, "secretText"),
                "displayName": s(&sp, "displayName"),
                "tenantId": g.server.boot(&["tenantId"]),
                "applicationObjectId": s(&app, "id"),
                "secretEndDateTime": s(&secret, "endDateTime"),
            });
            g.print(&out, |o| {
                format!(
                    "appId:    {}\nobjectId: {}\nsecret:   {}\ntenantId: {}",
                    s(o, "appId"),
                    s(o, "objectId"),
                    s(o, "secret"),
                    s(o, "tenantId")
                )
            });
        }
        AdminCommand::Sp(SpCommand::List { display_name }) => {
            let path = match display_name {
                Some(n) => format!("/servicePrincipals?$filter={}", enc(&format!("startswith(displayName,'{}')", quote(&n)))),
                None => "/servicePrincipals".to_string(),
            };
            let all = Value::Array(g.list(&path)?);
            g.print(&all, |v| v.as_array().map(|a| a.iter().map(sp_line).collect::<Vec<_>>().join("\n")).unwrap_or_default());
        }
        AdminCommand::Sp(SpCommand::Show { id }) => {
            let sp = g.sp(&id)?;
            g.print(&sp, sp_line);
        }
        AdminCommand::Sp(SpCommand::Delete { id }) => {
            let sp = g.sp(&id)?;
            if s(&sp, "servicePrincipalType") == "ManagedIdentity" {
                bail!("'{}' is a managed identity's principal: remove the identity from its Azure resource instead", s(&sp, "displayName"));
            }
            match g.try_get(&format!("/applications(appId='{}')", s(&sp, "appId")))? {
                Some(app) => g.call("DELETE", &format!("/applications/{}", s(&app, "id")), None)?,
                None => g.call("DELETE", &format!("/servicePrincipals/{}", s(&sp, "id")), None)?,
            };
        }
        AdminCommand::Sp(SpCommand::Secret(SecretCommand::Add { id, years, display_name })) => {
            let sp = g.sp(&id)?;
            let app = g
                .try_get(&format!("/applications(appId='{}')", s(&sp, "appId")))?
                .with_context(|| format!("service principal '{id}' has no application in this tenant to hold a secret"))?;
            let secret = g.add_secret(s(&app, "id"), display_name.as_deref().unwrap_or("mimic admin"), years)?;
            let out = json!({"appId": s(&sp, "appId"), "objectId": s(&sp, "id"), "secret": s(&secret, "secretText"), "keyId": s(&secret, "keyId"), "endDateTime": s(&secret, "endDateTime")});
            g.print(&out, |o| format!("appId:  {}\nsecret: {}\nkeyId:  {}", s(o, "appId"), s(o, "secret"), s(o, "keyId")));
        }
        AdminCommand::User(UserCommand::Create { name, display_name, password }) => {
            let upn = if name.contains('@') {
                name.clone()
            } else {
                let org = g.call("GET", "/organization", None)?;
                let domain = org.pointer("/value/0/verifiedDomains/0/name").and_then(Value::as_str).unwrap_or_default().to_string();
                format!("{name}@{domain}")
            };
            let generated = password.is_none();
            let password = password.unwrap_or_else(generate_password);
            let nickname = upn.split('@').next().unwrap_or_default().to_string();
            let user = g.call(
                "POST",
                "/users",
                Some(json!({
                    "accountEnabled": true,
                    "displayName": display_name.unwrap_or_else(|| nickname.clone()),
                    "mailNickname": nickname,
                    "userPrincipalName": upn,
                    "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": false},
                })),
            )?;
            let mut out = json!({"objectId": s(&user, "id"), "userPrincipalName": s(&user, "userPrincipalName"), "displayName": s(&user, "displayName")});
            if generated {
                out["password"] = Value::String(password);
            }
            g.print(&out, |o| {
                let mut t = format!("objectId:          {}\nuserPrincipalName: {}", s(o, "objectId"), s(o, "userPrincipalName"));
                if let Some(p) = o.get("password").and_then(Value::as_str) {
                    t.push_str(&format!("\npassword:          {p}"));
                }
                t
            });
        }
        AdminCommand::User(UserCommand::List) => {
            let all = Value::Array(g.list("/users?$select=id,userPrincipalName,displayName,accountEnabled")?);
            g.print(&all, |v| {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|u| format!("{}\t{}\t{}", s(u, "id"), s(u, "userPrincipalName"), s(u, "displayName")))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default()
            });
        }
        AdminCommand::User(UserCommand::Show { id }) => {
            let u = g.call("GET", &format!("/users/{}", enc(&id)), None)?;
            g.print(&u, |u| format!("{}\t{}\t{}", s(u, "id"), s(u, "userPrincipalName"), s(u, "displayName")));
        }
        AdminCommand::User(UserCommand::Delete { id }) => {
            g.call("DELETE", &format!("/users/{}", enc(&id)), None)?;
        }
        AdminCommand::Group(GroupCommand::Create { name, description }) => {
            let nickname: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
            let mut body = json!({"displayName": name, "mailNickname": if nickname.is_empty() { "group".to_string() } else { nickname }, "mailEnabled": false, "securityEnabled": true});
            if let Some(d) = description {
                body["description"] = Value::String(d);
            }
            let grp = g.call("POST", "/groups", Some(body))?;
            let out = json!({"objectId": s(&grp, "id"), "displayName": s(&grp, "displayName")});
            g.print(&out, |o| format!("objectId:    {}\ndisplayName: {}", s(o, "objectId"), s(o, "displayName")));
        }
        AdminCommand::Group(GroupCommand::List) => {
            let all = Value::Array(g.list("/groups")?);
            g.print(&all, |v| {
                v.as_array()
                    .map(|a| a.iter().map(|x| format!("{}\t{}", s(x, "id"), s(x, "displayName"))).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            });
        }
        AdminCommand::Group(GroupCommand::Show { group }) => {
            let grp = g.group(&group)?;
            g.print(&grp, |x| format!("{}\t{}", s(x, "id"), s(x, "displayName")));
        }
        AdminCommand::Group(GroupCommand::Delete { group }) => {
            let grp = g.group(&group)?;
            g.call("DELETE", &format!("/groups/{}", s(&grp, "id")), None)?;
        }
        AdminCommand::Group(GroupCommand::Member(MemberCommand::Add { group, member_id })) => {
            let grp = g.group(&group)?;
            g.call(
                "POST",
                &format!("/groups/{}/members/$ref", s(&grp, "id")),
                Some(json!({"@odata.id": format!("{}/directoryObjects/{member_id}", g.base)})),
            )?;
        }
        AdminCommand::Group(GroupCommand::Member(MemberCommand::Remove { group, member_id })) => {
            let grp = g.group(&group)?;
            g.call("DELETE", &format!("/groups/{}/members/{}/$ref", s(&grp, "id"), enc(&member_id)), None)?;
        }
        AdminCommand::Group(GroupCommand::Member(MemberCommand::List { group })) => {
            let grp = g.group(&group)?;
            let all = Value::Array(g.list(&format!("/groups/{}/members", s(&grp, "id")))?);
            g.print(&all, |v| {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| {
                                format!(
                                    "{}\t{}\t{}",
                                    s(x, "id"),
                                    s(x, "@odata.type").trim_start_matches("#microsoft.graph."),
                                    s(x, "displayName")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default()
            });
        }
        AdminCommand::Role(RoleCommand::Assign { role, principal }) => {
            let def = role_definition(&g, &role)?;
            let a = g.call(
                "POST",
                "/roleManagement/directory/roleAssignments",
                Some(json!({"principalId": principal, "roleDefinitionId": s(&def, "id"), "directoryScopeId": "/"})),
            )?;
            g.print(&a, |a| format!("{}\t{}\t{}", s(a, "id"), s(&def, "displayName"), s(a, "principalId")));
        }
        AdminCommand::Role(RoleCommand::Remove { role, principal }) => {
            let def = role_definition(&g, &role)?;
            let all = g.list("/roleManagement/directory/roleAssignments")?;
            let a = all
                .iter()
                .find(|a| s(a, "principalId").eq_ignore_ascii_case(&principal) && s(a, "roleDefinitionId") == s(&def, "id"))
                .with_context(|| format!("'{principal}' does not hold {}", s(&def, "displayName")))?;
            g.call("DELETE", &format!("/roleManagement/directory/roleAssignments/{}", s(a, "id")), None)?;
        }
        AdminCommand::Keys(KeysCommand::Rotate) => {
            let v = g.control("POST", "/signing-keys/rotate", None)?;
            g.print(&v, |v| {
                format!(
                    "signing key: {}\npublished:   {}",
                    s(v, "kid"),
                    v["keys"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()
                )
            });
        }
        AdminCommand::Tenant(TenantCommand::Create { name, tenant_id, subscription_id }) => {
            let body = json!({ "displayName": name, "tenantId": tenant_id, "subscriptionId": subscription_id });
            let v = g.control("POST", "/tenants", Some(body))?;
            // The secrets are shown once, like bootstrap.json's: JSON either way, so it can be saved.
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        AdminCommand::Role(RoleCommand::List) => {
            let defs = g.list("/roleManagement/directory/roleDefinitions")?;
            let name = |id: &str| defs.iter().find(|d| s(d, "id") == id).map(|d| s(d, "displayName").to_string()).unwrap_or_default();
            let all: Vec<Value> = g
                .list("/roleManagement/directory/roleAssignments")?
                .into_iter()
                .map(|mut a| {
                    let n = name(s(&a, "roleDefinitionId"));
                    a["roleDefinitionName"] = Value::String(n);
                    a
                })
                .collect();
            let all = Value::Array(all);
            g.print(&all, |v| {
                v.as_array()
                    .map(|a| {
                        a.iter().map(|x| format!("{}\t{}", s(x, "principalId"), s(x, "roleDefinitionName"))).collect::<Vec<_>>().join("\n")
                    })
                    .unwrap_or_default()
            });
        }
    }
    Ok(())
}

fn role_definition(g: &Graph, role: &str) -> anyhow::Result<Value> {
    let defs = g.list("/roleManagement/directory/roleDefinitions")?;
    defs.into_iter()
        .find(|d| s(d, "id").eq_ignore_ascii_case(role) || s(d, "displayName").eq_ignore_ascii_case(role))
        .with_context(|| format!("no directory role '{role}' (see `mimic admin role list` and Entra's built-in role names)"))
}
