//! The Blob service, served for `https://{account}.blob.core.windows.net` (the proxy routes
//! Azure's host names here) and path-style (`https://{host}/{account}/...`) for clients given
//! a direct address: the caller authenticated as Azure Storage does (a bearer token of the
//! account's tenant for Storage's audiences, or a Shared Key signature unless the account
//! forbids it), authorised by Azure RBAC (`actions` for containers, `dataActions` for blobs),
//! then the container (containers.rs) and blob (blobs.rs) operations, whose bytes stream
//! through the store in chunks (content.rs).
//!
//! The account itself is an ARM resource (the `Microsoft.Storage` provider keeps it, its keys
//! and the global name index); containers are shared with ARM through `storage_accounts.rs`.

mod auth;
mod blobs;
mod containers;
mod content;
mod error;
mod xml;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use mimic_domain::resource::Resource;
use mimic_domain::storage::{self as st, blob::Conditions, ContainerProperties};

use crate::authn::Caller;
use crate::http::RequestId;
use crate::state::SharedState;
use crate::storage_accounts::{self, Account};
pub use error::{BlobError, BlobResult};

/// The newest service version Mimic answers: what the newest pinned client sends
/// (@azure/storage-blob 12.34: 2026-10-06; azure-storage-blob 12.29: 2026-04-06).
pub const LATEST_VERSION: &str = "2026-10-06";
/// The oldest one Azure still documents.
const OLDEST_VERSION: &str = "2009-09-19";

pub fn router(state: SharedState) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(|req, next| crate::http::request_context("blob", req, next)))
}

/// Who is calling.
pub enum Who {
    /// A valid Shared Key signature: the account's keys allow everything.
    Key,
    /// A bearer token of the account's tenant.
    Token(Caller),
    /// No credentials: only what a container's public access opens.
    Anonymous,
}

/// A request to an account, authenticated (not yet authorised: each operation knows what it needs).
pub struct Req {
    pub state: SharedState,
    pub method: Method,
    pub headers: HeaderMap,
    /// Query parameters, decoded; names as sent.
    pub query: Vec<(String, String)>,
    pub account: Account,
    pub container: Option<String>,
    pub blob: Option<String>,
    pub who: Who,
    /// `https://{account}.blob.core.windows.net/` (or the path-style base) as listings name it.
    pub endpoint: String,
}

async fn handle(State(state): State<SharedState>, req: Request) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0).unwrap_or_default();
    let head = req.method() == Method::HEAD;
    let version = req.headers().get("x-ms-version").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut res = match serve(state, req).await {
        Ok(r) => r,
        Err(e) => e.render(request_id, head),
    };
    let h = res.headers_mut();
    let answered = version.filter(|v| valid_version(v)).unwrap_or_else(|| LATEST_VERSION.to_string());
    if let Ok(v) = HeaderValue::from_str(&answered) {
        h.insert("x-ms-version", v);
    }
    h.insert(header::SERVER, HeaderValue::from_static("Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"));
    if let Ok(v) = HeaderValue::from_str(&xml::http_date(chrono::Utc::now())) {
        h.insert(header::DATE, v);
    }
    res
}

/// `YYYY-MM-DD` within the versions Mimic answers.
fn valid_version(v: &str) -> bool {
    v.len() == 10 && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() && (OLDEST_VERSION..=LATEST_VERSION).contains(&v)
}

/// The account, container and blob a request names, from its host and path.
struct Target {
    account: String,
    container: Option<String>,
    blob: Option<String>,
    endpoint: String,
}

fn target(headers: &HeaderMap, uri: &axum::http::Uri) -> BlobResult<Target> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(uri.host()).unwrap_or_default().to_ascii_lowercase();
    let hostname = host.split(':').next().unwrap_or_default();
    let path = uri.path().trim_start_matches('/');
    let (account, endpoint, rest) = match hostname.strip_suffix(st::BLOB_HOST_SUFFIX) {
        Some(a) if !a.is_empty() && !a.contains('.') => (a.to_string(), st::blob_endpoint(a), path),
        _ => {
            // Path style: the first segment names the account.
            let (a, rest) = path.split_once('/').unwrap_or((path, ""));
            let a = a.to_ascii_lowercase();
            let endpoint = format!("https://{host}/{a}/");
            (a, endpoint, rest)
        }
    };
    let (container, blob) = match Some(rest).filter(|r| !r.is_empty()) {
        None => (None, None),
        Some(rest) => {
            let (c, b) = match rest.split_once('/') {
                Some((c, b)) => (c.to_string(), Some(b.to_string())),
                None => (rest.to_string(), None),
            };
            let decode = |s: &str| {
                String::from_utf8(mimic_domain::percent::decode_bytes(s, mimic_domain::percent::Plus::Literal, |_| false))
                    .map_err(|_| BlobError::invalid_uri())
            };
            let blob = match b.filter(|b| !b.is_empty()) {
                Some(b) => Some(decode(&b)?),
                None => None,
            };
            (Some(decode(&c)?), blob)
        }
    };
    Ok(Target { account, container, blob, endpoint })
}

/// Runs `f` on the blocking pool (store work waits for durable commits).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> BlobResult<T> + Send + 'static) -> BlobResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| Err(BlobError::internal()))
}

async fn serve(state: SharedState, req: Request) -> BlobResult<Response> {
    let (parts, body) = req.into_parts();
    let target = target(&parts.headers, &parts.uri)?;
    if let Some(v) = parts.headers.get("x-ms-version") {
        let v = v.to_str().unwrap_or_default();
        if !valid_version(v) {
            return Err(BlobError::invalid_header("x-ms-version", v));
        }
    }
    let r = blocking(move || {
        let account = state.store.read(|tx| storage_accounts::find(tx, &target.account))?.ok_or_else(BlobError::account_not_found)?;
        // Decoded as paths are: a `+` in a block id is a `+`.
        let decode = |s: &str| mimic_domain::percent::decode_lossy(s, mimic_domain::percent::Plus::Literal);
        let query: Vec<(String, String)> = (parts.uri.query().unwrap_or(""))
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let who = auth::authenticate(&state, &parts, &account, &target.endpoint)?;
        Ok(Req {
            state,
            method: parts.method,
            headers: parts.headers,
            query,
            account,
            container: target.container,
            blob: target.blob,
            who,
            endpoint: target.endpoint,
        })
    })
    .await?;
    match (&r.container, &r.blob) {
        (None, _) => containers::account_level(r).await,
        (Some(_), None) => containers::container_level(r, body).await,
        (Some(_), Some(_)) => blobs::handle(r, body).await,
    }
}

impl Req {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn container_name(&self) -> &str {
        self.container.as_deref().unwrap_or_default()
    }

    pub fn blob_name(&self) -> &str {
        self.blob.as_deref().unwrap_or_default()
    }

    /// The container's resource id (the scope of its RBAC checks).
    pub fn container_id(&self) -> String {
        st::container_id(&self.account.resource.id, self.container_name())
    }

    /// The container's key in the blob rows.
    pub fn container_key(&self) -> String {
        st::container_key(self.account.instance, self.container_name())
    }

    /// The container's resource and properties, if it exists.
    pub fn find_container(&self) -> BlobResult<Option<(Resource, ContainerProperties)>> {
        let key = mimic_domain::resource_id::key(&self.container_id());
        let Some(res) = self.state.store.read(|tx| tx.resource(&key))? else { return Ok(None) };
        let props: ContainerProperties = serde_json::from_value(res.properties.clone()).map_err(|_| BlobError::internal())?;
        Ok(Some((res, props)))
    }

    /// The container's resource and properties, or 404 `ContainerNotFound`.
    pub fn container(&self) -> BlobResult<(Resource, ContainerProperties)> {
        self.find_container()?.ok_or_else(BlobError::container_not_found)
    }

    /// `maxresults`: 1–5000, 5000 when absent.
    pub fn max_results(&self) -> BlobResult<usize> {
        match self.q("maxresults") {
            None => Ok(st::blob::MAX_RESULTS),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n.min(st::blob::MAX_RESULTS)),
                _ => Err(BlobError::invalid_query("maxresults", v, "The value must be a positive integer.")),
            },
        }
    }

    /// `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`.
    pub fn conditions(&self) -> BlobResult<Conditions> {
        let date = |name: &str| -> BlobResult<Option<chrono::DateTime<chrono::Utc>>> {
            match self.header(name) {
                None => Ok(None),
                Some(v) => xml::parse_http_date(v).map(Some).ok_or_else(|| BlobError::invalid_header(name, v)),
            }
        };
        Ok(Conditions {
            if_match: self.header("if-match").map(str::to_string),
            if_none_match: self.header("if-none-match").map(str::to_string),
            if_modified_since: date("if-modified-since")?,
            if_unmodified_since: date("if-unmodified-since")?,
        })
    }

    /// The `x-ms-meta-*` headers as (name, value), names as sent.
    pub fn metadata(&self) -> BlobResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (k, v) in &self.headers {
            if let Some(name) = k.as_str().strip_prefix("x-ms-meta-") {
                let v = v.to_str().map_err(|_| BlobError::invalid_metadata("InvalidMetadata"))?;
                out.push((name.to_string(), v.to_string()));
            }
        }
        mimic_domain::storage::blob::check_metadata(&out).map_err(BlobError::invalid_metadata)?;
        Ok(out)
    }
}

/// A response of `status` with no body.
pub fn empty(status: axum::http::StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// A response of `status` with an XML body.
pub fn xml_response(status: axum::http::StatusCode, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    res
}

/// Inserts a header, skipping values that cannot be one.
pub fn set(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}
