//! `TestApp`: one Mimic in-process, for server-level tests of the surfaces' rules without a
//! `mimic serve` subprocess. Each app has its own temporary data directory with an SQLite store,
//! started as `mimic serve` starts one (`serve::start_store`: master key, bootstrap, signing
//! keys), and its routers (ARM, token service, Graph, IMDS) are called with
//! `tower::ServiceExt::oneshot`: no ports, no TLS, so tests run in parallel safely.
//!
//! Include it with `mod support;` from a test file in `crates/mimic-server/tests/`.

#![allow(dead_code)] // each test file uses its own part of it

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use mimic_server::bootstrap::Bootstrap;
use mimic_server::state::{AppState, Endpoints, SharedState};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The ARM scope every ARM client asks for.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Which router a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Arm,
    Login,
    Graph,
    Imds,
    KeyVault,
    Blob,
}

/// An answer: status, headers and the body as JSON (`Null` when empty, a JSON string when the
/// body is not JSON).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A service principal made through Graph as `mimic admin sp create` makes one (no role).
#[derive(Debug, Clone)]
pub struct Principal {
    pub app_id: String,
    pub object_id: String,
    pub secret: String,
}

pub struct TestApp {
    pub state: SharedState,
    /// The first tenant's secrets, as `bootstrap.json` holds them.
    pub boot: Bootstrap,
    arm: Router,
    login: Router,
    graph: Router,
    imds: Router,
    keyvault: Router,
    blob: Router,
    admin_token: tokio::sync::OnceCell<String>,
    // Last: dropped (the directory removed) after everything that uses the store.
    dir: tempfile::TempDir,
}

impl TestApp {
    /// A fresh Mimic: its own data directory and store, bootstrapped (one tenant, one
    /// subscription, the administrator user and the bootstrap service principal, both Owner).
    pub fn new() -> TestApp {
        let dir = tempfile::Builder::new().prefix("mimic-testapp-").tempdir().expect("temporary data directory");
        let data_dir = dir.path().join("data");
        mimic_server::data_dir::prepare(&data_dir).expect("data directory");
        let master = Arc::new(mimic_server::master_key::MasterKey::resolve(None, &data_dir, false).expect("master key"));
        let store = mimic_store::Store::open_sqlite(&data_dir.join("mimic.db")).expect("SQLite store");
        let started = mimic_server::serve::start_store(&store, &master, &data_dir, None, None).expect("bootstrap");
        let boot = started.created.expect("a new data directory is bootstrapped");
        // Addresses nobody listens on: requests reach the routers in-process.
        let endpoints = Endpoints {
            arm: "https://arm.mimic.test".into(),
            login: "https://login.mimic.test".into(),
            graph: "https://graph.mimic.test".into(),
            portal: "https://portal.mimic.test".into(),
            imds: "http://127.0.0.1:1".into(),
            proxy: "http://127.0.0.1:2".into(),
        };
        let imds = Arc::new(mimic_server::imds::ImdsRegistry::new(axum_server::Handle::new(), "127.0.0.1".into()));
        let state = Arc::new(AppState::new(store, started.keys, endpoints, started.tenant, started.subscription, imds.clone()));
        let throttle = Arc::new(mimic_server::arm::Throttle::new(mimic_server::arm::RateLimit::Off));
        TestApp {
            arm: mimic_server::arm::router(state.clone(), throttle),
            login: mimic_server::login::router(state.clone()),
            graph: mimic_server::graph::router(state.clone()),
            imds: imds.router(state.clone()),
            keyvault: mimic_server::keyvault::router(state.clone()),
            blob: mimic_server::blob::router(state.clone()),
            state,
            boot,
            admin_token: tokio::sync::OnceCell::new(),
            dir,
        }
    }

    pub fn tenant_id(&self) -> String {
        self.boot.tenant_id.to_string()
    }

    pub fn subscription_id(&self) -> String {
        self.boot.subscription_id.to_string()
    }

    /// `/subscriptions/{s}/resourceGroups/{name}`.
    pub fn rg_path(&self, name: &str) -> String {
        format!("/subscriptions/{}/resourceGroups/{name}", self.boot.subscription_id)
    }

    /// Sends one request to a surface's router. `uri` is a path with its query; `body` is sent
    /// as JSON unless `content_type` says otherwise.
    pub async fn send(
        &self,
        surface: Surface,
        method: &str,
        uri: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> TestResponse {
        let router = self.router(surface);
        let method = Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, content_type.unwrap_or("application/json"));
        }
        let req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("request");
        let res = router.clone().oneshot(req).await.unwrap_or_else(|never| match never {});
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse { status: parts.status, headers: parts.headers, body }
    }

    fn router(&self, surface: Surface) -> &Router {
        match surface {
            Surface::Arm => &self.arm,
            Surface::Login => &self.login,
            Surface::Graph => &self.graph,
            Surface::Imds => &self.imds,
            Surface::KeyVault => &self.keyvault,
            Surface::Blob => &self.blob,
        }
    }

    /// Sends a request as built to a surface's router; the answer's body as bytes.
    pub async fn raw(&self, surface: Surface, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let router = self.router(surface);
        let res = router.clone().oneshot(req).await.unwrap_or_else(|never| match never {});
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("response body");
        (parts.status, parts.headers, bytes.to_vec())
    }

    /// A token from the token service's v2 endpoint by client credentials.
    pub async fn client_credentials(&self, client_id: &str, secret: &str, scope: &str) -> TestResponse {
        let form: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret)
            .append_pair("scope", scope)
            .finish();
        let uri = format!("/{}/oauth2/v2.0/token", self.boot.tenant_id);
        self.send(Surface::Login, "POST", &uri, None, Some("application/x-www-form-urlencoded"), Some(form.into_bytes())).await
    }

    /// An access token for `scope` of an application, asserting the grant succeeds.
    pub async fn token(&self, client_id: &str, secret: &str, scope: &str) -> String {
        let r = self.client_credentials(client_id, secret, scope).await;
        assert_eq!(r.status, StatusCode::OK, "client_credentials for {client_id}: {}", r.body);
        r.body["access_token"].as_str().expect("access_token").to_string()
    }

    /// An ARM token of the bootstrap service principal (Owner of the subscription, Global
    /// Administrator), by client credentials as `bootstrap.json` allows; minted once per app.
    pub async fn token_for_admin(&self) -> String {
        let sp = &self.boot.service_principal;
        let client_id = sp.client_id.to_string();
        self.admin_token.get_or_init(|| self.token(&client_id, &sp.client_secret, ARM_SCOPE)).await.clone()
    }

    /// A Graph token of the bootstrap service principal.
    pub async fn graph_token_for_admin(&self) -> String {
        let sp = &self.boot.service_principal;
        self.token(&sp.client_id.to_string(), &sp.client_secret, GRAPH_SCOPE).await
    }

    /// An ARM call as the bootstrap service principal: `?api-version=` is added unless empty.
    pub async fn arm(&self, method: &str, path: &str, api_version: &str, body: Option<Value>) -> (StatusCode, Value) {
        let token = self.token_for_admin().await;
        let r = self.arm_as(Some(&token), method, path, api_version, body).await;
        (r.status, r.body)
    }

    /// An ARM call with any token (or none), the whole answer returned.
    pub async fn arm_as(&self, token: Option<&str>, method: &str, path: &str, api_version: &str, body: Option<Value>) -> TestResponse {
        let uri = with_api_version(path, api_version);
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON body"));
        self.send(Surface::Arm, method, &uri, token, None, body).await
    }

    /// A Graph call (`path` after the host, e.g. `/v1.0/servicePrincipals`) as the bootstrap
    /// service principal.
    pub async fn graph(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let token = self.graph_token_for_admin().await;
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON body"));
        let r = self.send(Surface::Graph, method, path, Some(&token), None, body).await;
        (r.status, r.body)
    }

    /// A second service principal with a secret and no role, made through Graph as
    /// `mimic admin sp create` makes it.
    pub async fn create_service_principal(&self, name: &str) -> Principal {
        let (s, app) = self.graph("POST", "/v1.0/applications", Some(json!({"displayName": name}))).await;
        assert_eq!(s, StatusCode::CREATED, "application: {app}");
        let app_object_id = app["id"].as_str().expect("application id");
        let (s, secret) = self
            .graph(
                "POST",
                &format!("/v1.0/applications/{app_object_id}/addPassword"),
                Some(json!({"passwordCredential": {"displayName": "test"}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "addPassword: {secret}");
        let (s, sp) = self.graph("POST", "/v1.0/servicePrincipals", Some(json!({"appId": app["appId"]}))).await;
        assert_eq!(s, StatusCode::CREATED, "service principal: {sp}");
        Principal {
            app_id: app["appId"].as_str().expect("appId").to_string(),
            object_id: sp["id"].as_str().expect("service principal id").to_string(),
            secret: secret["secretText"].as_str().expect("secretText").to_string(),
        }
    }

    /// Creates a resource group (in westus), asserting 200/201.
    pub async fn create_rg(&self, name: &str) {
        let (s, body) = self.arm("PUT", &self.rg_path(name), RG_API, Some(json!({"location": "westus"}))).await;
        assert!(s == StatusCode::CREATED || s == StatusCode::OK, "resource group {name}: {s} {body}");
    }

    /// Gives `principal_id` a built-in role (by its GUID) at `scope`; returns the assignment's id.
    /// A key vault made through ARM (`enableRbacAuthorization` and the rest from `properties`
    /// over a Standard vault of this tenant); its id.
    #[allow(dead_code)]
    pub async fn make_vault(&self, rg: &str, name: &str, properties: Value) -> String {
        self.create_rg(rg).await;
        let id = format!("{}/providers/Microsoft.KeyVault/vaults/{name}", self.rg_path(rg));
        let mut props = json!({"tenantId": self.tenant_id(), "sku": {"family": "A", "name": "standard"}});
        for (k, v) in properties.as_object().into_iter().flatten() {
            props[k] = v.clone();
        }
        let (s, body) = self.arm("PUT", &id, "2023-07-01", Some(json!({"location": "westus", "properties": props}))).await;
        assert!(s.is_success(), "vault: {s} {body}");
        id
    }

    pub async fn assign_role(&self, principal_id: &str, role: &str, scope: &str) -> String {
        let assignment = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}", uuid::Uuid::new_v4());
        let definition = format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", self.boot.subscription_id);
        let body =
            json!({"properties": {"roleDefinitionId": definition, "principalId": principal_id, "principalType": "ServicePrincipal"}});
        let (s, r) = self.arm("PUT", &assignment, AUTHZ_API, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "role assignment: {r}");
        assignment
    }

    /// The data directory (`bootstrap.json`, `mimic.db`, ...).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

impl Default for TestApp {
    fn default() -> Self {
        TestApp::new()
    }
}

pub const RG_API: &str = "2021-04-01";
pub const AUTHZ_API: &str = "2022-04-01";

fn with_api_version(path: &str, api_version: &str) -> String {
    if api_version.is_empty() {
        return path.to_string();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}api-version={api_version}")
}

/// Asserts ARM's error envelope `{"error": {"code", "message"}}` with `status` and `code`, and
/// returns the message.
pub fn arm_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str) -> String {
    assert_eq!(status, want_status, "expected {want_status} {want_code}, got {status}: {body}");
    let err = &body["error"];
    assert_eq!(err["code"].as_str(), Some(want_code), "expected code {want_code}: {body}");
    let msg = err["message"].as_str().unwrap_or_default();
    assert!(!msg.is_empty(), "an ARM error has a message: {body}");
    msg.to_string()
}
