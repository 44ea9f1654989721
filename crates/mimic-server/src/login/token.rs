//! `POST /{tenant}/oauth2/v2.0/token` and the v1 `POST /{tenant}/oauth2/token`: the
//! client_credentials, password (ROPC), refresh_token and authorization_code (with PKCE)
//! grants, as Entra answers them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use mimic_domain::authorization_code::RedeemError;
use mimic_domain::directory::{self, DirectoryObject, Tenant};
use mimic_domain::secrets;
use mimic_domain::token::{self as tok, AccessTokenRequest, AppCredential, RefreshGrant, Subject, TokenVersion};
use mimic_store::documents::{Docs, AUTHORIZATION_CODE, REFRESH_TOKEN};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::{store_err, unknown_client};
use super::tenant::{self, TenantRef};
use super::OAuthError;
use crate::http::RequestId;
use crate::state::{AppState, SharedState};

const APP_TOKEN_LIFETIME: i64 = 3599;
const REFRESH_TOKEN_LIFETIME: i64 = 90 * 24 * 3600;
/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which token endpoint was called: v2 takes `scope`, v1 takes `resource` and answers strings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    V1,
    V2,
}

pub async fn token_v2(
    state: State<SharedState>,
    path: Path<String>,
    headers: HeaderMap,
    rid: Extension<RequestId>,
    body: Bytes,
) -> Response {
    token(state, path, headers, rid, body, Endpoint::V2).await
}

pub async fn token_v1(
    state: State<SharedState>,
    path: Path<String>,
    headers: HeaderMap,
    rid: Extension<RequestId>,
    body: Bytes,
) -> Response {
    token(state, path, headers, rid, body, Endpoint::V1).await
}

async fn token(
    State(state): State<SharedState>,
    Path(t): Path<String>,
    headers: HeaderMap,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
    ep: Endpoint,
) -> Response {
    let correlation = headers.get("client-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let federated = match federated_exchange(&state, &t, &form).await {
        Ok(f) => f,
        Err(e) => return e.traced(rid.0, correlation).into_response(),
    };
    let req = TokenRequest { state: &state, tenant: &t, form: &form, headers: &headers, ep, confidential: Default::default(), federated };
    // ROPC verifies an argon2 hash, a code redemption writes: keep both off the async workers.
    let result = if matches!(form.get("grant_type").map(String::as_str), Some("password" | "authorization_code")) {
        let (state2, t2, form2, headers2) = (state.clone(), t.clone(), form.clone(), headers.clone());
        tokio::task::spawn_blocking(move || {
            TokenRequest {
                state: &state2,
                tenant: &t2,
                form: &form2,
                headers: &headers2,
                ep,
                confidential: Default::default(),
                federated: None,
            }
            .issue()
        })
        .await
        .unwrap_or_else(|_| {
            Err(OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                90033,
                "A transient error has occurred. Please try again.",
            ))
        })
    } else {
        req.issue()
    };
    match result {
        Ok(r) => r,
        Err(e) => e.traced(rid.0, correlation).into_response(),
    }
}

/// The federated exchange's verdict, for a client_credentials request whose assertion is an
/// external token (verified here, before the request is served, because the issuer's keys may
/// have to be fetched); `None` for every other request.
async fn federated_exchange(
    state: &AppState,
    t: &str,
    form: &HashMap<String, String>,
) -> Result<Option<super::federated::Federated>, OAuthError> {
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (Some("client_credentials"), Some(JWT_BEARER), Some(assertion), Some(client_id)) =
        (get("grant_type"), get("client_assertion_type"), get("client_assertion"), get("client_id"))
    else {
        return Ok(None);
    };
    if !super::federated::is_external(assertion, client_id) {
        return Ok(None);
    }
    let tenant = match tenant::try_resolve(state, t).map_err(store_err)? {
        Some(TenantRef::Tenant(tenant)) => tenant,
        // Unknown or multi-tenant authorities: the grant answers as it does without an assertion.
        _ => return Ok(None),
    };
    super::federated::authenticate(state, &tenant, client_id, assertion).await.map(Some)
}

struct TokenRequest<'a> {
    state: &'a AppState,
    tenant: &'a str,
    form: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
    ep: Endpoint,
    /// Set when the client authenticated with its credential (a confidential client): its
    /// refresh tokens then need the credential too.
    confidential: std::cell::Cell<bool>,
    /// The client the federated exchange (`super::federated`) signed in, when the request
    /// carried an external token as its assertion.
    federated: Option<super::federated::Federated>,
}

/// What the caller asked a token for.
#[derive(Clone)]
struct Target {
    /// The audience (the resource's identifier as requested, `/.default` stripped).
    resource: String,
    /// Scopes to echo back in a v2 response.
    scope: String,
    wants_id_token: bool,
    wants_refresh: bool,
}

impl TokenRequest<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.form.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.param(name).ok_or_else(|| OAuthError::missing_parameter(name))
    }

    fn issue(&self) -> Result<Response, OAuthError> {
        let tenant =
            tenant::try_resolve(self.state, self.tenant).map_err(store_err)?.ok_or_else(|| OAuthError::tenant_not_found(self.tenant))?;
        let grant = self.required("grant_type")?;
        match grant {
            "client_credentials" => self.client_credentials(tenant),
            "password" => self.password(tenant),
            "refresh_token" => self.refresh(tenant),
            "authorization_code" => self.authorization_code(tenant),
            other => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
        }
    }

    /// `client_id`/`client_secret` from the form, or from HTTP Basic (client_secret_basic).
    fn client_credentials_pair(&self) -> (Option<String>, Option<String>) {
        let basic = self
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())));
        let id = self.param("client_id").map(str::to_string).or_else(|| basic.as_ref().map(|b| b.0.clone()));
        let secret = self.param("client_secret").map(str::to_string).or_else(|| basic.map(|b| b.1));
        (id, secret)
    }

    fn target(&self, app_only: bool) -> Result<Target, OAuthError> {
        if self.ep == Endpoint::V1 {
            let resource = self.param("resource").map(str::to_string).unwrap_or_else(|| "00000002-0000-0000-c000-000000000000".to_string());
            return Ok(Target { resource, scope: "user_impersonation".into(), wants_id_token: !app_only, wants_refresh: !app_only });
        }
        let scope = self.required("scope")?;
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        let oidc = |s: &str| matches!(s, "openid" | "profile" | "offline_access" | "email");
        let resource_scopes: Vec<&str> = scopes.iter().copied().filter(|s| !oidc(s)).collect();
        if app_only {
            let [single] = resource_scopes.as_slice() else {
                return Err(invalid_scope(scope));
            };
            let Some(resource) = single.strip_suffix("/.default") else {
                return Err(invalid_scope(single));
            };
            return Ok(Target { resource: resource.to_string(), scope: single.to_string(), wants_id_token: false, wants_refresh: false });
        }
        // Delegated: one resource per token; scopes name it as `<resource>/<permission>`.
        let resource = match resource_scopes.first() {
            None => "https://graph.microsoft.com".to_string(),
            Some(s) => match s.rfind('/') {
                Some(i) if i > 0 => s[..i].to_string(),
                _ => s.to_string(),
            },
        };
        let granted: Vec<String> = if resource_scopes.is_empty() {
            vec!["https://graph.microsoft.com/User.Read".into()]
        } else {
            vec![format!("{resource}/user_impersonation"), format!("{resource}/.default")]
        };
        Ok(Target {
            resource,
            scope: granted.join(" "),
            wants_id_token: scopes.contains(&"openid"),
            wants_refresh: scopes.contains(&"offline_access"),
        })
    }

    fn client_credentials(&self, tenant: TenantRef) -> Result<Response, OAuthError> {
        let TenantRef::Tenant(tenant) = tenant else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any provided credentials.",
            ));
        };
        let (client_id, secret) = self.client_credentials_pair();
        let client_id = client_id.ok_or_else(|| OAuthError::missing_parameter("client_id"))?;
        let target = self.target(true)?;
        if let Some(super::federated::Federated::ManagedIdentity(subject)) = &self.federated {
            return self.respond(&tenant, subject, &target, APP_TOKEN_LIFETIME, None, None);
        }
        let app_id: Uuid = client_id.parse().map_err(|_| unknown_client(&client_id, &tenant))?;
        let generation = self.state.store.generation();
        let client = self
            .state
            .caches
            .clients
            .get_or_load(generation, &(tenant.id, app_id), || {
                self.state.store.read(|tx| {
                    Ok::<_, mimic_store::StoreError>(Arc::new((
                        tx.directory_object_by_app_id(tenant.id, "application", app_id)?,
                        tx.directory_object_by_app_id(tenant.id, "servicePrincipal", app_id)?,
                    )))
                })
            })
            .map_err(store_err)?;
        let (app, sp) = &*client;
        let Some(DirectoryObject::Application(app)) = app else {
            return Err(unknown_client(&client_id, &tenant));
        };
        match (&self.federated, self.param("client_assertion")) {
            // The federated exchange already checked the assertion against the app's credentials.
            (Some(_), _) => {}
            (None, _) => {
                let sp = match sp {
                    Some(DirectoryObject::ServicePrincipal(sp)) => Some(sp),
                    _ => None,
                };
                self.verify_credential(&tenant, app, sp, secret.as_deref())?
            }
        }
        let Some(DirectoryObject::ServicePrincipal(sp)) = sp else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                7000229,
                format!("The client application {app_id} is missing service principal in the tenant {}.", tenant.id),
            ));
        };
        if !sp.account_enabled {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                7000112,
                format!("Application '{app_id}'({}) is disabled.", sp.display_name),
            ));
        }
        let credential = if self.param("client_assertion").is_some() { AppCredential::Assertion } else { AppCredential::Secret };
        let subject = Subject::App { object_id: sp.id, app_id, display_name: sp.display_name.clone(), credential };
        self.respond(&tenant, &subject, &target, APP_TOKEN_LIFETIME, None, None)
    }

    /// A confidential client's credential: a certificate-signed `client_assertion`, or else its
    /// secret; the application's own or its service principal's in this tenant.
    fn verify_credential(
        &self,
        tenant: &Tenant,
        app: &directory::Application,
        sp: Option<&directory::ServicePrincipal>,
        secret: Option<&str>,
    ) -> Result<(), OAuthError> {
        match self.param("client_assertion") {
            Some(assertion) => {
                self.check_assertion_type()?;
                let mut keys = app.key_credentials.clone();
                keys.extend(sp.iter().flat_map(|sp| sp.key_credentials.iter().cloned()));
                super::certificate::authenticate(app.app_id, &keys, assertion, &self.assertion_audiences(tenant), chrono::Utc::now())
            }
            None => {
                let passwords = app.password_credentials.iter().chain(sp.iter().flat_map(|sp| sp.password_credentials.iter()));
                verify_secret(app.app_id, passwords, secret)
            }
        }
    }

    /// A `client_assertion` must say it is a JWT bearer assertion (RFC 7523).
    fn check_assertion_type(&self) -> Result<(), OAuthError> {
        match self.param("client_assertion_type") {
            Some(JWT_BEARER) => Ok(()),
            None => Err(OAuthError::missing_parameter("client_assertion_type")),
            Some(other) => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                format!("Invalid client_assertion_type '{other}': only '{JWT_BEARER}' is supported. JWT token is invalid or malformed."),
            )),
        }
    }

    /// The `aud` values a client assertion may carry: this token endpoint (v2 or v1, under the
    /// tenant as the path names it or by id) or the tenant's v2 issuer, as Entra accepts them.
    fn assertion_audiences(&self, tenant: &Tenant) -> Vec<String> {
        let bases = [self.state.endpoints.login.trim_end_matches('/'), "https://login.microsoftonline.com"];
        let tenants = [self.tenant.to_string(), tenant.id.to_string()];
        let mut out = Vec::new();
        for base in bases {
            for t in &tenants {
                for path in ["/oauth2/v2.0/token", "/oauth2/token", "/v2.0", "/"] {
                    out.push(format!("{base}/{t}{path}"));
                }
            }
        }
        out
    }

    fn public_client(&self) -> Result<Uuid, OAuthError> {
        let id = self.required("client_id")?;
        id.parse().map_err(|_| {
            OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{id}' was not found in the directory."),
            )
        })
    }

    fn password(&self, tenant: TenantRef) -> Result<Response, OAuthError> {
        let client = self.public_client()?;
        let username = self.required("username")?;
        let password = self.required("password")?;
        let target = self.target(false)?;
        let (tenant, user) =
            sign_in(self.state, tenant, self.tenant, username, password, |t| self.authenticate_client(t, client, ClientFlow::PublicFlow))?;
        let subject = user_subject(&user, client, &target);
        self.respond(&tenant, &subject, &target, user_lifetime(), Some(client), None)
    }

    /// RFC 6749 §4.1.3 with PKCE: the code is read and deleted in one transaction (single use),
    /// then checked against the client, redirect URI and verifier (`authorization_code.rs`).
    fn authorization_code(&self, path_tenant: TenantRef) -> Result<Response, OAuthError> {
        let client = self.public_client()?;
        let code = self.required("code")?;
        let target = self.target(false)?;
        let key = mimic_domain::authorization_code::storage_key(code);
        let grant = self
            .state
            .store
            .write(|tx| {
                let grant = tx.get(AUTHORIZATION_CODE, &key)?;
                if grant.is_some() {
                    tx.remove(AUTHORIZATION_CODE, &key)?;
                }
                Ok::<_, mimic_store::StoreError>(grant)
            })
            .map_err(store_err)?;
        let invalid = |msg: &str| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 70008, msg.to_string());
        let grant = grant
            .ok_or_else(|| invalid("The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."))?;
        grant.redeem(client, self.param("redirect_uri"), self.param("code_verifier"), chrono::Utc::now().timestamp()).map_err(|e| match e {
            RedeemError::Expired => invalid("The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."),
            RedeemError::WrongClient => OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 70000, "Provided grant is invalid or malformed."),
            RedeemError::RedirectMismatch => OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 50148, "The redirect_uri doesn't match the one used in the authorization request."),
            RedeemError::VerifierMissing => OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE."),
            RedeemError::VerifierMismatch => OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."),
        })?;
        let tenant = match path_tenant {
            TenantRef::Tenant(t) if t.id != grant.tenant => {
                return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 70000, "Provided grant is invalid or malformed."))
            }
            TenantRef::Tenant(t) => t,
            TenantRef::Multi(_) => self
                .state
                .store
                .read(|tx| tx.tenant(grant.tenant))
                .map_err(store_err)?
                .ok_or_else(|| invalid("Provided grant is invalid or malformed."))?,
        };
        self.authenticate_client(&tenant, client, ClientFlow::Code(&grant.redirect_uri))?;
        let user = self.state.store.read(|tx| tx.directory_object(grant.tenant, grant.user)).map_err(store_err)?;
        let Some(DirectoryObject::User(user)) = user.filter(|u| matches!(u, DirectoryObject::User(u) if u.account_enabled)) else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50034,
                "The user account does not exist in the directory.",
            ));
        };
        let subject = user_subject(&user, client, &target);
        self.respond(&tenant, &subject, &target, user_lifetime(), Some(client), grant.nonce.as_deref())
    }

    /// A client the tenant knows, authenticated as Entra does: first-party public clients need
    /// no credential; a registered application is a confidential client (its secret required,
    /// AADSTS7000218, and checked, AADSTS7000215) unless the flow is a public one for it:
    /// `isFallbackPublicClient` for ROPC and refresh, a publicClient/spa redirect URI for a code.
    fn authenticate_client(&self, tenant: &Tenant, client: Uuid, flow: ClientFlow) -> Result<(), OAuthError> {
        if directory::is_first_party_public_client(client) {
            return Ok(());
        }
        let (app, sp) = self
            .state
            .store
            .read(|tx| {
                Ok::<_, mimic_store::StoreError>((
                    tx.directory_object_by_app_id(tenant.id, "application", client)?,
                    tx.directory_object_by_app_id(tenant.id, "servicePrincipal", client)?,
                ))
            })
            .map_err(store_err)?;
        let Some(DirectoryObject::Application(app)) = app else {
            return Err(unknown_client(&client.to_string(), tenant));
        };
        let sp = match &sp {
            Some(DirectoryObject::ServicePrincipal(sp)) => Some(sp),
            _ => None,
        };
        let (_, secret) = self.client_credentials_pair();
        let public = match flow {
            ClientFlow::PublicFlow => app.is_fallback_public_client,
            ClientFlow::Code(redirect) => app.is_public_redirect(redirect),
            ClientFlow::Refresh { confidential } => !confidential,
        };
        if public && secret.is_none() && self.param("client_assertion").is_none() {
            return Ok(());
        }
        self.verify_credential(tenant, &app, sp, secret.as_deref())?;
        self.confidential.set(true);
        Ok(())
    }

    /// The requested resource must be a principal the tenant has (AADSTS500011,
    /// `crate::directory::resource_exists`).
    fn check_resource(&self, tenant: &Tenant, resource: &str) -> Result<(), OAuthError> {
        if crate::directory::resource_exists(self.state, tenant.id, resource).map_err(store_err)? {
            return Ok(());
        }
        Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been \
                 installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your \
                 authentication request to the wrong tenant.",
                tenant.id
            ),
        ))
    }

    fn refresh(&self, path_tenant: TenantRef) -> Result<Response, OAuthError> {
        let client = self.public_client()?;
        let presented = self.required("refresh_token")?;
        let target = self.target(false)?;
        let grant = self.state.store.read(|tx| tx.get(REFRESH_TOKEN, &refresh_key(presented))).map_err(store_err)?;
        let bad =
            || OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.");
        let RefreshGrant { tenant: tid, user: oid, client: issued_to, expires, confidential } = grant.ok_or_else(bad)?;
        if expires <= chrono::Utc::now().timestamp() {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity.",
            ));
        }
        if issued_to != client {
            return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 70000, "Provided grant is invalid or malformed."));
        }
        let tenant = match path_tenant {
            TenantRef::Tenant(t) if t.id == tid => t,
            TenantRef::Tenant(t) => {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50020,
                    format!("User account from identity provider does not exist in tenant '{}' and cannot access the application '{client}' in that tenant.", t.display_name),
                ))
            }
            TenantRef::Multi(_) => self.state.store.read(|tx| tx.tenant(tid)).map_err(store_err)?.ok_or_else(bad)?,
        };
        self.authenticate_client(&tenant, client, ClientFlow::Refresh { confidential })?;
        let user = self.state.store.read(|tx| tx.directory_object(tid, oid)).map_err(store_err)?;
        let Some(DirectoryObject::User(user)) = user else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50034,
                "The user account does not exist in the directory.",
            ));
        };
        if !user.account_enabled {
            return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 50057, "The user account is disabled."));
        }
        let subject = user_subject(&user, client, &target);
        self.respond(&tenant, &subject, &target, user_lifetime(), Some(client), None)
    }

    fn respond(
        &self,
        tenant: &Tenant,
        subject: &Subject,
        target: &Target,
        lifetime: i64,
        public_client: Option<Uuid>,
        nonce: Option<&str>,
    ) -> Result<Response, OAuthError> {
        self.check_resource(tenant, &target.resource)?;
        // A user's token carries the delegated permissions the client was granted on the
        // resource (its oauth2PermissionGrants), when any were.
        let consented = match subject {
            Subject::User { object_id, client_app_id, .. } => {
                crate::directory::delegated_scopes(self.state, tenant.id, *object_id, *client_app_id, &target.resource)
                    .map_err(store_err)?
            }
            _ => None,
        };
        let (subject, target) = match (&consented, subject) {
            (Some(scp), Subject::User { object_id, upn, name, client_app_id, .. }) => {
                let s = Subject::User {
                    object_id: *object_id,
                    upn: upn.clone(),
                    name: name.clone(),
                    client_app_id: *client_app_id,
                    scopes: scp.clone(),
                };
                let granted: Vec<String> =
                    scp.split_whitespace().map(|p| format!("{}/{p}", target.resource.trim_end_matches('/'))).collect();
                let t = Target { scope: granted.join(" "), ..target.clone() };
                (std::borrow::Cow::Owned(s), std::borrow::Cow::Owned(t))
            }
            _ => (std::borrow::Cow::Borrowed(subject), std::borrow::Cow::Borrowed(target)),
        };
        let (subject, target) = (subject.as_ref(), target.as_ref());
        let now = chrono::Utc::now().timestamp();
        let groups = crate::directory::transitive_groups(self.state, tenant.id, subject.object_id()).map_err(store_err)?;
        let roles = match subject {
            Subject::User { object_id, .. } => {
                crate::directory::user_app_roles(self.state, tenant.id, *object_id, &groups, &target.resource).map_err(store_err)?
            }
            _ => crate::directory::app_roles(self.state, tenant.id, subject.object_id(), &target.resource).map_err(store_err)?,
        };
        let issuer = tok::issuer_v1(tenant.id);
        let claims = tok::access_token_claims(&AccessTokenRequest {
            subject,
            tenant: tenant.id,
            audience: &target.resource,
            issuer: &issuer,
            version: TokenVersion::V1,
            issued_at: now,
            lifetime_secs: lifetime,
            groups: &groups,
            roles: &roles,
        });
        let keys = self.state.keys.keys();
        let signer = keys.first().ok_or_else(|| store_err(mimic_store::StoreError::Backend("no signing key".into())))?;
        let access_token = signer.sign(&claims);

        let mut refresh_token = None;
        let mut id_token = None;
        let mut client_info = None;
        if let (Subject::User { object_id, upn, name, .. }, Some(client)) = (subject, public_client) {
            // MSAL always keeps a refresh token for user accounts; Entra issues one with every
            // user token on these grants.
            let rt = format!("1.{}", tok::opaque(120));
            let grant = RefreshGrant {
                tenant: tenant.id,
                user: *object_id,
                client,
                expires: now + REFRESH_TOKEN_LIFETIME,
                confidential: self.confidential.get(),
            };
            self.state.store.write(|tx| tx.put(REFRESH_TOKEN, &refresh_key(&rt), &grant, Some(grant.expires))).map_err(store_err)?;
            refresh_token = Some(rt);
            let v2_issuer = tok::issuer_v2(&self.state.endpoints.login, tenant.id);
            if target.wants_id_token || self.ep == Endpoint::V1 {
                id_token = Some(signer.sign(&tok::id_token_claims(
                    &tok::UserSignIn {
                        issuer: &v2_issuer,
                        tenant: tenant.id,
                        client_id: &client.to_string(),
                        object_id: *object_id,
                        upn,
                        name,
                        nonce,
                    },
                    now,
                )));
            }
            client_info = Some(URL_SAFE_NO_PAD.encode(json!({"uid": object_id, "utid": tenant.id}).to_string()));
        }
        let _ = target.wants_refresh;
        let body = match self.ep {
            Endpoint::V2 => serde_json::to_value(mimic_wire::oauth::TokenResponse {
                token_type: "Bearer",
                scope: public_client.map(|_| target.scope.clone()),
                expires_in: lifetime,
                ext_expires_in: lifetime,
                access_token,
                refresh_token,
                id_token,
                client_info,
            }),
            Endpoint::V1 => serde_json::to_value(mimic_wire::oauth::TokenResponseV1 {
                token_type: "Bearer",
                expires_in: lifetime.to_string(),
                ext_expires_in: lifetime.to_string(),
                expires_on: (now + lifetime).to_string(),
                not_before: now.to_string(),
                resource: target.resource.clone(),
                access_token,
                scope: public_client.map(|_| "user_impersonation".to_string()),
                refresh_token,
                id_token,
            }),
        }
        .expect("token response serializes");
        let mut res = (StatusCode::OK, Json(body)).into_response();
        res.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store, no-cache".parse().expect("static header"));
        Ok(res)
    }
}

/// The user's password check, shared by the password grant and the sign-in page: the tenant
/// (from the path, or from the user name's domain for `organizations`), `client_ok` for the
/// client in that tenant, then the argon2 check and the account state.
pub(super) fn sign_in(
    state: &AppState,
    tenant: TenantRef,
    path_tenant: &str,
    username: &str,
    password: &str,
    client_ok: impl FnOnce(&Tenant) -> Result<(), OAuthError>,
) -> Result<(Tenant, directory::User), OAuthError> {
    let tenant = match tenant {
        TenantRef::Tenant(t) => t,
        TenantRef::Multi(_) => {
            let domain = username.rsplit('@').next().unwrap_or_default();
            tenant::by_domain(state, domain).ok_or_else(|| unknown_user(path_tenant))?
        }
    };
    client_ok(&tenant)?;
    let user = state.store.read(|tx| tx.user_by_upn(tenant.id, username)).map_err(store_err)?;
    let Some(DirectoryObject::User(user)) = user else {
        return Err(unknown_user(&tenant.id.to_string()));
    };
    if !secrets::verify_password(&user.password_hash, password) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        ));
    }
    if !user.account_enabled {
        return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", 50057, "The user account is disabled."));
    }
    Ok((tenant, user))
}

fn user_subject(user: &directory::User, client: Uuid, _target: &Target) -> Subject {
    Subject::User {
        object_id: user.id,
        upn: user.user_principal_name.clone(),
        name: user.display_name.clone(),
        client_app_id: client,
        scopes: "user_impersonation".into(),
    }
}

/// Entra gives user access tokens a random lifetime between 60 and 90 minutes.
fn user_lifetime() -> i64 {
    3600 + rand::random::<u16>() as i64 % 1800
}

/// Refresh tokens are stored by their SHA-256, never in clear.
fn refresh_key(rt: &str) -> String {
    hex::encode(Sha256::digest(rt.as_bytes()))
}

/// How a client takes part in a user flow, which decides whether it must authenticate.
enum ClientFlow<'a> {
    /// ROPC: public only for `isFallbackPublicClient` apps.
    PublicFlow,
    /// A code issued to this redirect URI.
    Code(&'a str),
    /// A refresh token, issued to a client that did (`confidential`) or did not authenticate.
    Refresh { confidential: bool },
}

/// A confidential client's secret: required (AADSTS7000218) and one of its valid ones
/// (AADSTS7000215).
fn verify_secret<'a>(
    app_id: Uuid,
    mut credentials: impl Iterator<Item = &'a directory::PasswordCredential>,
    secret: Option<&str>,
) -> Result<(), OAuthError> {
    let secret = secret.ok_or_else(|| {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    })?;
    let now = chrono::Utc::now();
    if credentials.any(|c| c.start <= now && now < c.end && secrets::verify_client_secret(&c.secret_hash, secret)) {
        return Ok(());
    }
    Err(OAuthError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
        format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, \
             not the client secret ID, for a secret added to app '{app_id}'."
        ),
    ))
}

fn invalid_scope(scope: &str) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        1002012,
        format!(
            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default \
             suffixed to the resource identifier (application ID URI)."
        ),
    )
}

fn unknown_user(tenant: &str) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50034,
        format!("The user account {{EUII Hidden}} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory."),
    )
}
