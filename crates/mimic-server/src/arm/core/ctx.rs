//! The per-request context of an ARM call: caller, api-version, query, body, and the RBAC
//! decisions made against the caller's role assignments (loaded once per request).

use std::cell::OnceCell;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method};
use std::sync::Arc;

use mimic_domain::cloud;
use mimic_domain::directory::Subscription;
use mimic_domain::limits;
use mimic_domain::rbac::{self, RoleAssignment};
use mimic_domain::resource::Resource;
use mimic_wire::jsonnet;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::{ArmError, ArmResult};
use crate::authn::{self, Caller};
use crate::state::SharedState;

pub struct Ctx {
    pub state: SharedState,
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub api_version: String,
    pub caller: Caller,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many template deployments this request is nested in (0 for a request from the network).
    pub depth: usize,
    assignments: OnceCell<std::sync::Arc<Vec<RoleAssignment>>>,
}

impl Ctx {
    pub fn new(state: SharedState, method: Method, path: String, query: Option<&str>, headers: HeaderMap, body: Bytes) -> ArmResult<Self> {
        let query: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
        let api_version = query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .ok_or_else(ArmError::missing_api_version)?;
        // ARM accepts tokens for its audiences (Azure's resource ids for ARM), plus its own URL.
        let mut audiences: Vec<&str> = cloud::ARM_AUDIENCES.to_vec();
        audiences.push(&state.endpoints.arm);
        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let caller = authn::authenticate(&state, auth, &audiences).map_err(|e| ArmError::from_auth(e, &state.endpoints.login))?;
        Ok(Ctx { state, method, path, query, api_version, caller, headers, body, depth: 0, assignments: OnceCell::new() })
    }

    /// An ARM call Mimic makes on the caller's behalf (a template deployment's resources and
    /// its `reference()`s): the same caller, and the same handlers and RBAC as a direct request
    /// to `method path?api-version=...` with `body`.
    pub fn internal(&self, method: Method, path: &str, api_version: &str, body: Option<&serde_json::Value>) -> Ctx {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
        if let Some(c) = self.headers.get("x-ms-correlation-request-id") {
            headers.insert("x-ms-correlation-request-id", c.clone());
        }
        Ctx {
            state: self.state.clone(),
            method,
            path: path.to_string(),
            query: vec![("api-version".to_string(), api_version.to_string())],
            api_version: api_version.to_string(),
            caller: self.caller.clone(),
            headers,
            body: body.map(|b| Bytes::from(serde_json::to_vec(b).unwrap_or_default())).unwrap_or_default(),
            depth: self.depth,
            assignments: OnceCell::new(),
        }
    }

    /// The same request context, owned, for work that outlives the request (a deployment
    /// running in the background): the caller was authenticated when the request arrived and
    /// stays the identity of that work; RBAC is decided afresh on every later call.
    pub fn detached(&self) -> Ctx {
        Ctx {
            state: self.state.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            api_version: self.api_version.clone(),
            caller: self.caller.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            depth: self.depth,
            assignments: OnceCell::new(),
        }
    }

    /// A query parameter (names compared case-insensitively, as ARM does).
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn arm_url(&self) -> &str {
        &self.state.endpoints.arm
    }

    /// The request body as `T`: JSON content type, valid JSON, the right shape.
    pub fn json<T: DeserializeOwned>(&self) -> ArmResult<T> {
        if let Some(ct) = self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if !(mime == "application/json" || mime.ends_with("+json") || mime == "text/json") {
                return Err(ArmError::unsupported_media_type(ct));
            }
        }
        if self.body.is_empty() {
            return Err(ArmError::empty_request_body());
        }
        // The shared nesting budget first: what serde_json's own limit lets through would not
        // fit the store's reader once stored inside its envelope.
        limits::check_json_depth(&self.body, limits::MAX_DEPTH).map_err(|e| ArmError::invalid_request_content(&e.to_json_net()))?;
        jsonnet::from_body(&self.body).map_err(|e| ArmError::invalid_request_content(&e))
    }

    fn assignments(&self) -> ArmResult<&[RoleAssignment]> {
        if let Some(a) = self.assignments.get() {
            return Ok(a);
        }
        let a = crate::access::assignments(&self.state, self.caller.tenant, self.caller.object_id)?;
        Ok(self.assignments.get_or_init(|| a))
    }

    pub fn allowed(&self, action: &str, scope: &str) -> ArmResult<bool> {
        let roles = crate::custom_roles::of_tenant(&self.state, self.caller.tenant)?;
        Ok(rbac::is_allowed(action, scope, self.assignments()?, |id| roles.role(id)))
    }

    /// Fails with Azure's `AuthorizationFailed` unless the caller may do `action` at `scope`.
    pub fn authorize(&self, action: &str, scope: &str) -> ArmResult<()> {
        if self.allowed(action, scope)? {
            Ok(())
        } else {
            Err(ArmError::authorization_failed(&self.caller.display(), &self.caller.object_id.to_string(), action, scope))
        }
    }

    /// Whether the caller holds any role at or below `scope` (what makes a subscription
    /// visible in `GET /subscriptions`).
    pub fn has_any_access_within(&self, scope: &str) -> ArmResult<bool> {
        Ok(self.assignments()?.iter().any(|a| rbac::scope_contains(&a.scope, scope) || rbac::scope_contains(scope, &a.scope)))
    }

    /// For lists that show each caller what it may read: Azure filters the items for a caller
    /// with some access at or below `scope`, but refuses one with none at all with
    /// `AuthorizationFailed` for the list's `action` (e.g. 'Microsoft.Resources/subscriptions/
    /// resourcegroups/read' over '/subscriptions/{id}', microsoft/azure-tools-for-java#3643;
    /// '.../providers/read', hashicorp/terraform-provider-azurerm#2678).
    pub fn authorize_list(&self, action: &str, scope: &str) -> ArmResult<()> {
        if self.allowed(action, scope)? || self.has_any_access_within(scope)? {
            Ok(())
        } else {
            Err(ArmError::authorization_failed(&self.caller.display(), &self.caller.object_id.to_string(), action, scope))
        }
    }

    /// The stored resource with this key (`resource_id::key`), through the generation-checked
    /// cache: as fresh as a read of the store, and a hit costs no transaction.
    pub fn resource(&self, key: &str) -> ArmResult<Option<Arc<Resource>>> {
        let generation = self.state.store.generation();
        let key = key.to_string();
        Ok(self
            .state
            .caches
            .resources
            .get_or_load(generation, &key, || self.state.store.read(|tx| tx.resource(&key)).map(|r| r.map(Arc::new)))?)
    }

    /// The stored resource group `rg` of `sub`, or Azure's 404.
    pub fn resource_group(&self, sub: &str, rg: &str) -> ArmResult<Arc<Resource>> {
        let key = mimic_domain::resource_id::key(&mimic_domain::resource_id::resource_group_id(sub, rg));
        self.resource(&key)?.ok_or_else(|| ArmError::resource_group_not_found(rg))
    }

    /// The subscription in the path, if it exists and belongs to the caller's tenant.
    pub fn subscription(&self, sub: &str) -> ArmResult<Subscription> {
        let id: Uuid = sub.parse().map_err(|_| ArmError::invalid_subscription_id(sub))?;
        let generation = self.state.store.generation();
        let s = self.state.caches.subscriptions.get_or_load(generation, &id, || self.state.store.read(|tx| tx.subscription(id)))?;
        let s = s.ok_or_else(|| ArmError::subscription_not_found(sub))?;
        if s.tenant_id != self.caller.tenant {
            return Err(ArmError::wrong_subscription_tenant(self.caller.tenant, s.tenant_id, &self.state.endpoints.login));
        }
        Ok(s)
    }
}
