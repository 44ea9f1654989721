//! `GET /metadata/identity/oauth2/token`: a token for one of this VM's identities, cached per
//! identity and resource as IMDS caches them (a cached token costs no signature).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use mimic_domain::directory::DirectoryObject;
use mimic_domain::identity::VmIdentity;
use mimic_domain::imds::{self, AttachedIdentity, SelectError, Selector};
use mimic_domain::resource_id;
use mimic_domain::token::{self as tok, AccessTokenRequest, Subject, TokenVersion};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{check_request, param, parse_query, ImdsError, QueryPairs, VmBinding};
use crate::state::AppState;

/// Managed-identity tokens live about a day (docs/azure-behaviour.md §5).
const LIFETIME: i64 = 86399;
/// A cached token is handed out until it has less than this left.
const MIN_REMAINING: i64 = 5 * 60;

#[derive(Clone)]
struct Cached {
    token: Arc<str>,
    expires_on: i64,
    not_before: i64,
}

/// Tokens per principal, then per resource: nested so that a lookup borrows the request's
/// strings instead of allocating a key, behind a read-write lock because nearly every call is a
/// hit (IMDS is called on every token refresh of every workload).
#[derive(Default)]
pub struct TokenCache(RwLock<HashMap<String, HashMap<String, Cached>>>);

impl TokenCache {
    fn get(&self, principal: &str, resource: &str, now: i64) -> Option<Cached> {
        let m = self.0.read().unwrap_or_else(|p| p.into_inner());
        m.get(principal)?.get(resource).filter(|c| c.expires_on - now > MIN_REMAINING).cloned()
    }
    fn put(&self, principal: &str, resource: &str, c: Cached) {
        let mut m = self.0.write().unwrap_or_else(|p| p.into_inner());
        if m.len() > 100_000 {
            m.clear();
        }
        m.entry(principal.to_string()).or_default().insert(resource.to_string(), c);
    }
}

/// The token endpoint accepts api-version 2018-02-01 and later.
fn check_api_version(q: &QueryPairs<'_>) -> Result<(), ImdsError> {
    let v = param(q, "api-version")
        .ok_or_else(|| ImdsError::bad_request("invalid_request", "Required query variable 'api-version' is missing"))?;
    let ok = v.len() >= 10
        && v.as_bytes()[4] == b'-'
        && v.as_bytes()[7] == b'-'
        && &v[..10] >= "2018-02-01"
        && v[..10].bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ImdsError::bad_request("invalid_request", "Invalid version specified"))
    }
}

/// Takes the whole request rather than extractors, which would copy the header map on the hot path.
pub async fn token(State(b): State<VmBinding>, req: Request) -> Response {
    match issue(&b, req.method(), req.headers(), &parse_query(req.uri().query())) {
        Ok(body) => super::json_response(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

fn issue(b: &VmBinding, method: &Method, headers: &HeaderMap, q: &QueryPairs<'_>) -> Result<String, ImdsError> {
    check_request(method, headers)?;
    check_api_version(q)?;
    let resource =
        param(q, "resource").ok_or_else(|| ImdsError::bad_request("invalid_request", "Required audience parameter not specified"))?;
    let selectors: Vec<Selector> = [
        param(q, "client_id").map(Selector::ClientId),
        param(q, "object_id").map(Selector::ObjectId),
        param(q, "msi_res_id").or_else(|| param(q, "mi_res_id")).map(Selector::ResourceId),
    ]
    .into_iter()
    .flatten()
    .collect();
    let selector = match selectors.as_slice() {
        [] => Selector::Default,
        [one] => one.clone(),
        _ => return Err(ImdsError::bad_request("invalid_request", "Only one of client_id, object_id, msi_res_id can be specified")),
    };
    let Some(vm_key) = &b.vm_key else {
        return Err(ImdsError::identity_not_found());
    };
    let generation = b.state.store.generation();
    let (tenant, identities) = b
        .state
        .caches
        .vm_identities
        .get_or_load(generation, vm_key, || vm_identities(&b.state, vm_key).map(|(t, ids)| (t, Arc::new(ids))))?;
    let chosen = imds::select(&identities, &selector).map_err(|e| match e {
        SelectError::NotFound => ImdsError::identity_not_found(),
        SelectError::Ambiguous => ImdsError::bad_request(
            "invalid_request",
            "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request",
        ),
    })?;
    if !valid_resource(resource) {
        return Err(unknown_resource(resource, tenant));
    }
    let now = chrono::Utc::now().timestamp();
    let bypass = param(q, "bypass_cache") == Some("true");
    let cached = if bypass { None } else { b.tokens.get(&chosen.principal_id, resource, now) };
    let c = match cached {
        Some(c) => c,
        None => {
            // A cached token was for a resource that existed; a new one needs the resource to
            // exist (Entra's AADSTS500011, as for every other grant).
            if !crate::directory::resource_exists(&b.state, tenant, resource).map_err(|_| ImdsError::internal())? {
                return Err(unknown_resource(resource, tenant));
            }
            let c = mint(&b.state, tenant, chosen, resource, now)?;
            b.tokens.put(&chosen.principal_id, resource, c.clone());
            c
        }
    };
    Ok(render(
        &c,
        &chosen.client_id,
        resource,
        now,
        match selector {
            Selector::ResourceId(r) => Some(r),
            _ => None,
        },
    ))
}

/// The response body, in Azure's field order and types (every number a string, docs/azure-behaviour.md §5),
/// written directly: the JWT (base64url and dots) and the client id (a GUID) need no escaping,
/// and this is the hot path of every workload's token refresh.
fn render(c: &Cached, client_id: &str, resource: &str, now: i64, msi_res_id: Option<&str>) -> String {
    use std::fmt::Write;
    let json_str = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let expires_in = c.expires_on - now;
    let mut body = String::with_capacity(c.token.len() + 320);
    let _ = write!(
        body,
        r#"{{"access_token":"{}","client_id":"{client_id}","expires_in":"{expires_in}","expires_on":"{}","ext_expires_in":"{expires_in}","not_before":"{}","resource":{},"token_type":"Bearer""#,
        c.token,
        c.expires_on,
        c.not_before,
        json_str(resource),
    );
    if let Some(r) = msi_res_id {
        let _ = write!(body, r#","msi_res_id":{}"#, json_str(r));
    }
    body.push('}');
    body
}

fn unknown_resource(resource: &str, tenant: Uuid) -> ImdsError {
    ImdsError::bad_request(
        "invalid_resource",
        &format!("AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
    )
}

/// A resource is an absolute URI or an application id.
fn valid_resource(r: &str) -> bool {
    r.parse::<Uuid>().is_ok()
        || ((r.starts_with("https://") || r.starts_with("http://") || r.starts_with("api://"))
            && r.len() > 8
            && !r.contains(char::is_whitespace))
}

fn mint(state: &AppState, tenant: Uuid, id: &AttachedIdentity, resource: &str, now: i64) -> Result<Cached, ImdsError> {
    let subject = Subject::ManagedIdentity {
        object_id: id.principal_id.parse().map_err(|_| ImdsError::internal())?,
        client_id: id.client_id.parse().map_err(|_| ImdsError::internal())?,
        resource_id: resource_id::lowercase_resource_groups(&id.resource_id),
    };
    let groups = crate::directory::transitive_groups(state, tenant, subject.object_id())?;
    let roles = crate::directory::app_roles(state, tenant, subject.object_id(), resource)?;
    let issuer = tok::issuer_v1(tenant);
    let claims = tok::access_token_claims(&AccessTokenRequest {
        subject: &subject,
        tenant,
        audience: resource,
        issuer: &issuer,
        version: TokenVersion::V1,
        issued_at: now,
        lifetime_secs: LIFETIME,
        groups: &groups,
        roles: &roles,
    });
    let keys = state.keys.keys();
    let key = keys.first().ok_or_else(ImdsError::internal)?;
    Ok(Cached { token: key.sign(&claims).into(), expires_on: now + LIFETIME, not_before: now })
}

/// The VM's tenant and the identities its `identity` block names that still exist.
pub fn vm_identities(state: &AppState, vm_key: &str) -> Result<(Uuid, Vec<AttachedIdentity>), ImdsError> {
    state.store.read(|tx| {
        let vm = tx.resource(vm_key)?.ok_or_else(ImdsError::identity_not_found)?;
        let sub: Uuid = vm.parsed_id().and_then(|p| p.subscription).and_then(|s| s.parse().ok()).ok_or_else(ImdsError::internal)?;
        let tenant = tx.subscription(sub)?.ok_or_else(ImdsError::internal)?.tenant_id;
        // The VM's identity block as the VM provider wrote it; what it names is then checked
        // against the directory and the identity resources, which are the truth.
        let attached = VmIdentity::from_stored(vm.identity.as_ref());
        let mut out = Vec::with_capacity(attached.user.len() + 1);
        if let Some(s) = &attached.system {
            if let Some(DirectoryObject::ServicePrincipal(sp)) = tx.directory_object(tenant, s.principal_id)? {
                out.push(AttachedIdentity {
                    principal_id: sp.id.to_string(),
                    client_id: sp.app_id.to_string(),
                    resource_id: vm.id.clone(),
                    system_assigned: true,
                });
            }
        }
        for u in &attached.user {
            // A deleted identity yields no token.
            let Some(uai) = tx.resource(&resource_id::key(&u.resource_id))? else { continue };
            let props = &uai.properties;
            let (Some(p), Some(c)) = (props.get("principalId").and_then(Value::as_str), props.get("clientId").and_then(Value::as_str))
            else {
                continue;
            };
            out.push(AttachedIdentity {
                principal_id: p.to_string(),
                client_id: c.to_string(),
                resource_id: uai.id.clone(),
                system_assigned: false,
            });
        }
        Ok((tenant, out))
    })
}

/// `GET /metadata/identity/info`: the tenant of the VM's identities.
pub async fn info(State(b): State<VmBinding>, method: Method, headers: HeaderMap) -> Response {
    let r = (|| {
        check_request(&method, &headers)?;
        let vm_key = b.vm_key.as_ref().ok_or_else(ImdsError::identity_not_found)?;
        let (tenant, _) = vm_identities(&b.state, vm_key)?;
        Ok::<_, ImdsError>(json!({ "tenantId": tenant }))
    })();
    match r {
        Ok(v) => super::json_response(StatusCode::OK, v.to_string()),
        Err(e) => e.into_response(),
    }
}
