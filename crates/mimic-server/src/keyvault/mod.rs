//! Key Vault's data plane, served for `https://{vault}.vault.azure.net` (the proxy routes
//! Azure's host names here): the caller's token checked as Key Vault checks it, then Azure RBAC
//! data actions or the vault's access policies, then the secret and key operations (secrets.rs,
//! keys.rs, on what they share in objects.rs).
//!
//! The vault itself is an ARM resource (the `Microsoft.KeyVault` provider keeps it and the
//! global name index `KEYVAULT_NAME`); this surface reads it and never writes it.

mod error;
mod keys;
mod objects;
mod secrets;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use mimic_domain::keyvault::{self as kv, PolicyCaller, VaultName};
use mimic_store::documents::{Docs, KEYVAULT_NAME};
use mimic_wire::keyvault::VaultProperties;
use uuid::Uuid;

use crate::authn::{self, AuthError, Caller};
use crate::state::SharedState;
pub use error::{KvError, KvResult};

/// Key Vault's first-party application id: tokens may carry it as their audience.
const KEY_VAULT_APP_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";

pub fn router(state: SharedState) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| {
            crate::http::limit_body(|_| KvError::bad_parameter("The request body is larger than 4 MB.").into_response(), req, next)
        }))
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("keyvault", req, next)))
}

/// The vault a request is for, as ARM stores it.
pub struct Vault {
    pub name: String,
    pub resource_id: String,
    pub instance: Uuid,
    pub location: String,
    /// `https://{name}.vault.azure.net`, without the slash.
    pub uri: String,
    pub properties: VaultProperties,
}

impl Vault {
    /// Whether the vault is of the Premium SKU (HSM-protected keys).
    pub fn premium(&self) -> bool {
        let sku = self.properties.extra.get("sku").and_then(|s| s.get("name")).and_then(serde_json::Value::as_str);
        sku.is_some_and(|s| s.eq_ignore_ascii_case("premium"))
    }
}

/// A 200 with a JSON body.
fn ok<T: serde::Serialize>(body: &T) -> KvResult<Response> {
    Ok((axum::http::StatusCode::OK, axum::Json(body)).into_response())
}

/// The request's body as `T`, read as Key Vault's Json.NET reads it.
fn body<T: serde::de::DeserializeOwned>(req: &Req) -> KvResult<T> {
    mimic_wire::jsonnet::from_body(&req.body).map_err(|e| KvError::bad_parameter(e.render()))
}

/// A request to a vault, authenticated.
pub struct Req {
    pub state: SharedState,
    pub method: Method,
    /// The path's segments, without empty ones (`/secrets/a/` is `["secrets", "a"]`).
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    pub vault: Vault,
    pub caller: Caller,
}

async fn handle(State(state): State<SharedState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(uri.host()).unwrap_or_default().to_ascii_lowercase();
    let name = host.split(['.', ':']).next().unwrap_or_default().to_string();
    let work = move || -> KvResult<Response> {
        let req = Req::new(state, method, &uri, &headers, body, &name)?;
        match req.segments.first().map(String::as_str) {
            Some("keys" | "deletedkeys") => keys::handle(&req),
            _ => secrets::handle(&req),
        }
    };
    // Writes wait for a durable commit: off the async workers, as ARM's do.
    let result = tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| Err(KvError::internal()));
    result.unwrap_or_else(IntoResponse::into_response)
}

impl Req {
    fn new(state: SharedState, method: Method, uri: &Uri, headers: &HeaderMap, body: Bytes, name: &str) -> KvResult<Req> {
        let vault = find_vault(&state, name)?;
        let authority = format!("{}/{}", state.endpoints.login, vault.properties.tenant_id);
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let audiences = [kv::AUDIENCE, KEY_VAULT_APP_ID];
        let caller = authn::authenticate(&state, auth, &audiences).map_err(|e| unauthorized(e, &vault, &authority))?;
        if caller.tenant.to_string() != vault.properties.tenant_id {
            return Err(KvError::unauthorized(
                format!(
                    "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{tid}/, {login}/{tid}/v2.0, found https://sts.windows.net/{}/.",
                    caller.tenant,
                    tid = vault.properties.tenant_id,
                    login = state.endpoints.login
                ),
                authority,
            ));
        }
        let query: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
        if !query.iter().any(|(k, v)| k == "api-version" && !v.is_empty()) {
            return Err(KvError::missing_api_version());
        }
        let path = mimic_domain::percent::decode_path(uri.path());
        let segments = path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
        Ok(Req { state, method, segments, query, body, vault, caller })
    }

    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// How Key Vault names the caller in its 403s.
    fn caller_text(&self) -> String {
        let app = self.caller.app_id.map(|a| a.to_string()).unwrap_or_default();
        format!("appid={app};oid={};iss=https://sts.windows.net/{}/", self.caller.object_id, self.caller.tenant)
    }

    /// Allows the operation or answers Key Vault's 403: Azure RBAC's `data_action` at `scope`
    /// (the vault, or one secret under it: `{vault id}/secrets/{name}`) when the vault uses the
    /// RBAC model, else an access policy granting `permission` on `kind`.
    pub fn authorize(&self, data_action: &str, scope: &str, kind: &str, permission: &str) -> KvResult<()> {
        let (tenant, oid) = (self.caller.tenant, self.caller.object_id);
        if self.vault.properties.enable_rbac_authorization == Some(true) {
            if crate::access::data_allowed(&self.state, tenant, oid, data_action, scope)? {
                return Ok(());
            }
            return Err(KvError::forbidden_by_rbac(&self.caller_text(), data_action, scope, &self.vault.name, &self.vault.location));
        }
        let groups = crate::directory::transitive_groups(&self.state, tenant, oid)?;
        let who = PolicyCaller { tenant, object_id: oid, groups: &groups, app_id: self.caller.app_id };
        if kv::policy_allows(&self.vault.properties.access_policies, &who, kind, permission) {
            Ok(())
        } else {
            Err(KvError::forbidden_by_policy(&self.caller_text(), kind, permission, &self.vault.name, &self.vault.location))
        }
    }
}

/// The live vault named `name` (case-insensitive), through the global name index.
fn find_vault(state: &SharedState, name: &str) -> KvResult<Vault> {
    if !kv::valid_vault_name(name) {
        return Err(KvError::vault_not_found(name));
    }
    let found = state.store.read(|tx| -> KvResult<_> {
        let Some(VaultName { resource_id, instance }) = tx.get(KEYVAULT_NAME, &name.to_ascii_lowercase())? else { return Ok(None) };
        Ok(tx.resource(&mimic_domain::resource_id::key(&resource_id))?.map(|r| (r, instance)))
    })?;
    let Some((r, instance)) = found else { return Err(KvError::vault_not_found(name)) };
    let properties: VaultProperties = serde_json::from_value(r.properties.clone()).map_err(|_| KvError::internal())?;
    let uri =
        properties.vault_uri.clone().unwrap_or_else(|| format!("https://{}.vault.azure.net/", r.name)).trim_end_matches('/').to_string();
    Ok(Vault {
        name: r.name.clone(),
        resource_id: r.id.clone(),
        instance,
        location: r.location.clone().unwrap_or_default(),
        uri,
        properties,
    })
}

/// Key Vault's words for a token it refuses, with the challenge.
fn unauthorized(e: AuthError, vault: &Vault, authority: &str) -> KvError {
    let message = match e {
        AuthError::Missing | AuthError::BadScheme => "AKV10000: Request is missing a Bearer or PoP token.".to_string(),
        AuthError::Expired { .. } => "AKV10022: Invalid token: the token has expired.".to_string(),
        AuthError::WrongAudience(aud) => format!("AKV10022: Invalid audience. Expected {}, found: {aud}.", kv::AUDIENCE),
        AuthError::WrongIssuer | AuthError::WrongTenant => {
            format!("AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/.", vault.properties.tenant_id)
        }
        AuthError::Unavailable(_) => return KvError::unavailable(),
        AuthError::Invalid(why) => format!("AKV10016: Invalid token: {why}."),
    };
    KvError::unauthorized(message, authority.to_string())
}
