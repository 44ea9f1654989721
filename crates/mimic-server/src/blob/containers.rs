//! The account's and containers' operations: List Containers, Get Account Information, and
//! Create / Delete / Get Properties / Get and Set Metadata of a container, and List Blobs.
//! Containers are the same resources ARM serves (`storage_accounts.rs`).

use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::resource_id;
use mimic_domain::storage::{self as st, ContainerProperties};
use mimic_store::ResourceFilter;
use serde_json::{Map, Value};

use super::auth::{CONTAINER_DELETE, CONTAINER_READ, CONTAINER_WRITE};
use super::xml::{self, Echo};
use super::{blocking, empty, set, xml_response, BlobError, BlobResult, Req};
use crate::storage_accounts;

/// `GET /?comp=list`, `GET /?restype=account&comp=properties`.
pub async fn account_level(r: Req) -> BlobResult<Response> {
    blocking(move || {
        let comp = r.q("comp").unwrap_or_default().to_ascii_lowercase();
        let restype = r.q("restype").unwrap_or_default().to_ascii_lowercase();
        match (&r.method, restype.as_str(), comp.as_str()) {
            (&Method::GET, "", "list") => list_containers(&r),
            (&Method::GET | &Method::HEAD, "account" | "service", "properties") if restype == "account" => account_information(&r),
            (&Method::GET | &Method::HEAD, "service", "properties") => service_properties(&r),
            _ => Err(BlobError::invalid_query("comp", &comp, "This operation is not served for the account.")),
        }
    })
    .await
}

/// `restype=container` operations, and List Blobs.
pub async fn container_level(r: Req, _body: Body) -> BlobResult<Response> {
    blocking(move || {
        if !st::valid_container_name(r.container_name()) {
            return Err(BlobError::invalid_resource_name());
        }
        let restype = r.q("restype").unwrap_or_default().to_ascii_lowercase();
        let comp = r.q("comp").unwrap_or_default().to_ascii_lowercase();
        if restype != "container" {
            return Err(BlobError::invalid_query("restype", &restype, "restype=container is required for a container."));
        }
        match (&r.method, comp.as_str()) {
            (&Method::PUT, "") => create(&r),
            (&Method::DELETE, "") => delete(&r),
            (&Method::GET | &Method::HEAD, "" | "metadata") => properties(&r),
            (&Method::PUT, "metadata") => set_metadata(&r),
            (&Method::GET, "list") => super::blobs::list(&r),
            (&Method::GET | &Method::HEAD, "acl") => acl(&r),
            (_, "") | (_, "metadata") | (_, "list") => Err(BlobError::unsupported_verb()),
            _ => Err(BlobError::invalid_query("comp", &comp, "This operation is not served for a container.")),
        }
    })
    .await
}

fn account_information(r: &Req) -> BlobResult<Response> {
    let account = &r.account.resource;
    let sku = account.extra.get("sku").and_then(|s| s.get("name")).and_then(Value::as_str).unwrap_or("Standard_LRS").to_string();
    let kind = account.extra.get("kind").and_then(Value::as_str).unwrap_or("StorageV2").to_string();
    // Any authenticated caller may read the SKU and kind.
    if let super::Who::Anonymous = r.who {
        return Err(r.anonymous_refused());
    }
    let mut res = empty(StatusCode::OK);
    set(&mut res, "x-ms-sku-name", &sku);
    set(&mut res, "x-ms-account-kind", &kind);
    set(&mut res, "x-ms-is-hns-enabled", "false");
    Ok(res)
}

/// `GET /?restype=service&comp=properties`: the service's defaults (logging, metrics, CORS and
/// retention are not modelled).
fn service_properties(r: &Req) -> BlobResult<Response> {
    r.allow_action("Microsoft.Storage/storageAccounts/blobServices/read", &r.account.resource.id)?;
    let body = format!(
        "{}<StorageServiceProperties><Logging><Version>1.0</Version><Read>false</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></HourMetrics><MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics><Cors /><DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy><StaticWebsite><Enabled>false</Enabled></StaticWebsite></StorageServiceProperties>",
        mimic_wire::blob::XML_DECLARATION
    );
    Ok(xml_response(StatusCode::OK, body))
}

fn metadata_map(pairs: Vec<(String, String)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// `x-ms-blob-public-access` as ARM's `publicAccess`.
fn public_access(r: &Req) -> BlobResult<String> {
    match r.header("x-ms-blob-public-access").map(str::to_ascii_lowercase).as_deref() {
        None => Ok("None".into()),
        Some("container") => Ok("Container".into()),
        Some("blob") => Ok("Blob".into()),
        Some(other) => Err(BlobError::invalid_header("x-ms-blob-public-access", other)),
    }
}

fn create(r: &Req) -> BlobResult<Response> {
    r.allow_action(CONTAINER_WRITE, &r.container_id())?;
    let access = public_access(r)?;
    if access != "None" && !r.public_access_allowed() {
        return Err(BlobError::public_access_not_permitted());
    }
    let metadata = metadata_map(r.metadata()?);
    let now = Utc::now();
    let account_key = r.account.resource.key();
    let container = storage_accounts::new_container(&r.account, r.container_name(), &access, metadata, now);
    r.state.store.write(|tx| {
        if tx.resource(&account_key)?.is_none() {
            return Err(BlobError::account_not_found());
        }
        if tx.resource(&container.key())?.is_some() {
            return Err(BlobError::container_exists());
        }
        tx.put_resource(&container)?;
        Ok::<_, BlobError>(())
    })?;
    let mut res = empty(StatusCode::CREATED);
    let props: ContainerProperties = serde_json::from_value(container.properties.clone()).map_err(|_| BlobError::internal())?;
    set(&mut res, "etag", &props.etag);
    set(&mut res, "last-modified", &xml::http_date(props.last_modified_time));
    Ok(res)
}

fn delete(r: &Req) -> BlobResult<Response> {
    r.allow_action(CONTAINER_DELETE, &r.container_id())?;
    let conditions = r.conditions()?;
    if conditions.if_match.is_some() || conditions.if_none_match.is_some() {
        return Err(BlobError::unsupported_header(if conditions.if_match.is_some() { "If-Match" } else { "If-None-Match" }));
    }
    let key = resource_id::key(&r.container_id());
    let instance = r.account.instance;
    let name = r.container_name().to_string();
    r.state.store.write(|tx| {
        let c = tx.resource(&key)?.ok_or_else(BlobError::container_not_found)?;
        let props: ContainerProperties = serde_json::from_value(c.properties.clone()).map_err(|_| BlobError::internal())?;
        conditions.check(Some((&props.etag, props.last_modified_time)), false).map_err(|_| BlobError::condition_not_met())?;
        tx.delete_resource(&key)?;
        storage_accounts::delete_container_data(tx, instance, &name)?;
        Ok::<_, BlobError>(())
    })?;
    Ok(empty(StatusCode::ACCEPTED))
}

/// Get Container Properties / Get Container Metadata.
fn properties(r: &Req) -> BlobResult<Response> {
    let found = r.find_container()?;
    let public = found.as_ref().is_some_and(|(_, p)| p.public_access.eq_ignore_ascii_case("container"));
    r.allow_action_or_public(CONTAINER_READ, public)?;
    let (_, p) = found.ok_or_else(BlobError::container_not_found)?;
    let mut res = empty(StatusCode::OK);
    set(&mut res, "etag", &p.etag);
    set(&mut res, "last-modified", &xml::http_date(p.last_modified_time));
    for (k, v) in &p.metadata {
        if let Some(v) = v.as_str() {
            if let Ok(name) = axum::http::HeaderName::from_bytes(format!("x-ms-meta-{k}").as_bytes()) {
                if let Ok(v) = axum::http::HeaderValue::from_str(v) {
                    res.headers_mut().insert(name, v);
                }
            }
        }
    }
    if r.q("comp").is_none() {
        set(&mut res, "x-ms-lease-status", "unlocked");
        set(&mut res, "x-ms-lease-state", "available");
        set(&mut res, "x-ms-has-immutability-policy", "false");
        set(&mut res, "x-ms-has-legal-hold", "false");
        set(&mut res, "x-ms-default-encryption-scope", "$account-encryption-key");
        set(&mut res, "x-ms-deny-encryption-scope-override", "false");
        set(&mut res, "x-ms-immutable-storage-with-versioning-enabled", "false");
        if let Some(a) = xml::public_access_header(&p.public_access) {
            set(&mut res, "x-ms-blob-public-access", a);
        }
    }
    Ok(res)
}

/// Get Container ACL: the public access level; stored access policies are not modelled (an
/// empty list).
fn acl(r: &Req) -> BlobResult<Response> {
    r.allow_action(CONTAINER_READ, &r.container_id())?;
    let (_, p) = r.container()?;
    let mut res = xml_response(StatusCode::OK, format!("{}<SignedIdentifiers />", mimic_wire::blob::XML_DECLARATION));
    set(&mut res, "etag", &p.etag);
    set(&mut res, "last-modified", &xml::http_date(p.last_modified_time));
    if let Some(a) = xml::public_access_header(&p.public_access) {
        set(&mut res, "x-ms-blob-public-access", a);
    }
    Ok(res)
}

fn set_metadata(r: &Req) -> BlobResult<Response> {
    r.allow_action(CONTAINER_WRITE, &r.container_id())?;
    let metadata = metadata_map(r.metadata()?);
    let conditions = r.conditions()?;
    let key = resource_id::key(&r.container_id());
    let now = Utc::now();
    let props = r.state.store.write(|tx| {
        let mut c = tx.resource(&key)?.ok_or_else(BlobError::container_not_found)?;
        let mut props: ContainerProperties = serde_json::from_value(c.properties.clone()).map_err(|_| BlobError::internal())?;
        conditions.check(Some((&props.etag, props.last_modified_time)), false).map_err(|_| BlobError::condition_not_met())?;
        props.metadata = metadata.clone();
        props.last_modified_time = now;
        props.etag = st::etag(now);
        c = storage_accounts::container_resource(&r.account, r.container_name(), &props, c.created);
        c.changed = now;
        tx.put_resource(&c)?;
        Ok::<_, BlobError>(props)
    })?;
    let mut res = empty(StatusCode::OK);
    set(&mut res, "etag", &props.etag);
    set(&mut res, "last-modified", &xml::http_date(props.last_modified_time));
    Ok(res)
}

/// The greatest key below every key that starts with `s` (for a name made of ASCII below
/// DEL, which container names are): so an exclusive `after_key` includes `s` itself.
fn just_before(s: &str) -> String {
    match s.as_bytes().last() {
        Some(&b) if b.is_ascii() && b > 0 => format!("{}{}\u{7f}", &s[..s.len() - 1], (b - 1) as char),
        _ => s.to_string(),
    }
}

fn list_containers(r: &Req) -> BlobResult<Response> {
    r.allow_action(CONTAINER_READ, &r.account.resource.id)?;
    let prefix = r.q("prefix").unwrap_or_default();
    let marker = r.q("marker").filter(|m| !m.is_empty());
    let max = r.max_results()?;
    let with_metadata = r.q("include").is_some_and(|i| i.split(',').any(|x| x.trim().eq_ignore_ascii_case("metadata")));
    let base = format!("{}/blobservices/default/containers/", r.account.resource.key());
    let start = match marker {
        Some(m) if m > prefix => format!("{base}{m}"),
        _ => format!("{base}{}", just_before(prefix)),
    };
    let id = r.account.resource.parsed_id().ok_or_else(BlobError::internal)?;
    let sub = id.subscription.clone().unwrap_or_default();
    let rg = id.resource_group.clone().unwrap_or_default().to_ascii_lowercase();
    let type_key = st::CONTAINER_TYPE.to_ascii_lowercase();
    let rows = r.state.store.read(|tx| {
        tx.resources(&ResourceFilter {
            subscription: &sub,
            resource_group: Some(&rg),
            resource_type: Some(&type_key),
            after_key: Some(&start),
            limit: max + 1,
            ..Default::default()
        })
    })?;
    let mut items = Vec::new();
    let mut next = None;
    for c in rows {
        let key = c.key();
        let Some(name) = key.strip_prefix(&base) else { break };
        if !name.starts_with(prefix) {
            break;
        }
        if items.len() == max {
            next = items.last().map(|(n, _): &(String, ContainerProperties)| n.clone());
            break;
        }
        let props: ContainerProperties = serde_json::from_value(c.properties.clone()).map_err(|_| BlobError::internal())?;
        items.push((c.name.clone(), props));
    }
    let echo = Echo { prefix: r.q("prefix"), marker, max_results: r.q("maxresults").map(|_| max), delimiter: None };
    Ok(xml_response(StatusCode::OK, xml::containers(&r.endpoint, &echo, &items, with_metadata, next.as_deref())))
}

impl Req {
    /// A container read: RBAC `action`, or anonymous when the container is public.
    fn allow_action_or_public(&self, action: &str, public: bool) -> BlobResult<()> {
        match self.who {
            super::Who::Anonymous if public && self.public_access_allowed() => Ok(()),
            _ => self.allow_action(action, &self.container_id()),
        }
    }
}
