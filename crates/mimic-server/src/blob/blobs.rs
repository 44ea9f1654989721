//! Block blobs: Put Blob, Put Block, Put Block List, Get Block List, Get Blob (with ranges),
//! Get Blob Properties (HEAD), Set Blob Properties, Get/Set Blob Metadata, Delete Blob, and
//! List Blobs (prefix, delimiter, marker, maxresults). Conditional headers are checked before
//! a body is received (to fail fast) and again in the commit, which is what decides.

use std::collections::HashSet;

use axum::body::{Body, HttpBody};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use mimic_domain::storage::blob::{
    self as rules, BlobRecord, Block, BlockListError, ConditionFailure, Conditions, ContentHeaders, Uncommitted, MAX_BLOCK_BYTES,
    MAX_COMMITTED_BLOCKS, MAX_PUT_BLOB_BYTES, MAX_UNCOMMITTED_BLOCKS, UNCOMMITTED_SECS,
};
use mimic_domain::storage::{self as st};
use mimic_store::documents::{Docs, STORAGE_UNCOMMITTED};
use mimic_store::Tx;

use super::auth::{BLOB_ADD, BLOB_DELETE, BLOB_READ, BLOB_WRITE};
use super::content::{self, Received};
use super::xml::{self, Echo, Listed};
use super::{blocking, empty, set, xml_response, BlobError, BlobResult, Req};
use crate::state::SharedState;

/// The largest Put Block List body read (50,000 ids of up to 64 bytes, in XML).
const MAX_BLOCK_LIST_BODY: usize = 16 << 20;

pub async fn handle(r: Req, body: Body) -> BlobResult<Response> {
    if !st::valid_container_name(r.container_name()) || !rules::valid_blob_name(r.blob_name()) {
        return Err(BlobError::invalid_resource_name());
    }
    let comp = r.q("comp").unwrap_or_default().to_ascii_lowercase();
    match (&r.method, comp.as_str()) {
        (&Method::PUT, "") => put_blob(r, body).await,
        (&Method::PUT, "block") => put_block(r, body).await,
        (&Method::PUT, "blocklist") => put_block_list(r, body).await,
        (&Method::GET, "blocklist") => blocking(move || get_block_list(&r)).await,
        (&Method::GET | &Method::HEAD, "") => get_blob(r).await,
        (&Method::GET | &Method::HEAD, "metadata") => blocking(move || get_metadata(&r)).await,
        (&Method::PUT, "properties") => blocking(move || set_properties(&r)).await,
        (&Method::PUT, "metadata") => blocking(move || set_metadata(&r)).await,
        (&Method::DELETE, "") => blocking(move || delete(&r)).await,
        (_, "" | "block" | "blocklist" | "metadata" | "properties") => Err(BlobError::unsupported_verb()),
        _ => Err(BlobError::invalid_query("comp", &comp, "This operation is not served for a blob.")),
    }
}

fn failure(f: ConditionFailure) -> BlobError {
    match f {
        ConditionFailure::AlreadyExists => BlobError::blob_exists(),
        // A write never answers 304; a read's 304 is made by the caller.
        ConditionFailure::NotModified | ConditionFailure::NotMet => BlobError::condition_not_met(),
    }
}

fn current(record: Option<&BlobRecord>) -> Option<(&str, chrono::DateTime<Utc>)> {
    record.map(|b| (b.etag.as_str(), b.last_modified))
}

/// Allows writing the blob: `blobs/write`, or `blobs/add/action` for a blob not there yet.
fn allow_write(r: &Req, exists: bool) -> BlobResult<()> {
    match r.allow_data(BLOB_WRITE, false) {
        Err(e) if !exists && e.code == "AuthorizationPermissionMismatch" => r.allow_data(BLOB_ADD, false),
        other => other,
    }
}

/// Before a body is received: the container exists, the caller may write, the conditions
/// hold for the blob as it is now.
fn precheck(r: &Req) -> BlobResult<()> {
    r.container()?;
    let existing = r.state.store.read(|tx| tx.blob(&r.container_key(), r.blob_name()))?;
    allow_write(r, existing.is_some())?;
    r.conditions()?.check(current(existing.as_ref()), false).map_err(failure)
}

/// An upload's body, received into new chunks after the checks that need none (so a refused
/// upload is refused before its bytes are stored), its `Content-MD5` checked.
async fn receive(r: Req, body: Body, limit: u64) -> BlobResult<(Req, Received)> {
    let declared = declared_length(&r)?;
    let r = blocking(move || precheck(&r).map(|()| r)).await?;
    let prefix = st::data_prefix(r.account.instance, Some(r.container_name()));
    let got = content::receive(&r.state, &prefix, body, declared, limit).await?;
    if let Err(e) = check_md5(&r, &got) {
        content::discard(&r.state, vec![got.data]).await;
        return Err(e);
    }
    Ok((r, got))
}

/// Commits received data with `commit`; the data's chunks go if the commit fails.
async fn commit(state: SharedState, data: String, commit: impl FnOnce() -> BlobResult<Response> + Send + 'static) -> BlobResult<Response> {
    let result = blocking(commit).await;
    if result.is_err() {
        content::discard(&state, vec![data]).await;
    }
    result
}

/// `Content-Length` of an upload (required, as Azure requires it).
fn declared_length(r: &Req) -> BlobResult<u64> {
    let v = r.header("content-length").ok_or_else(BlobError::missing_content_length)?;
    v.parse().map_err(|_| BlobError::invalid_header("Content-Length", v))
}

/// `Content-MD5` of an upload, checked against what was received.
fn check_md5(r: &Req, got: &Received) -> BlobResult<()> {
    if let Some(sent) = r.header("content-md5") {
        let computed = STANDARD.encode(got.md5);
        if sent != computed {
            return Err(BlobError::md5_mismatch(sent, &computed));
        }
    }
    Ok(())
}

/// The blob's standard properties from `x-ms-blob-*` headers, and (for a Put Blob) the plain
/// ones when those are absent.
fn content_headers(r: &Req, plain_too: bool) -> ContentHeaders {
    let pick = |ms: &str, plain: &str| {
        r.header(ms).or(if plain_too { r.header(plain) } else { None }).filter(|v| !v.is_empty()).map(str::to_string)
    };
    ContentHeaders {
        content_type: pick("x-ms-blob-content-type", "content-type"),
        content_encoding: pick("x-ms-blob-content-encoding", "content-encoding"),
        content_language: pick("x-ms-blob-content-language", "content-language"),
        content_disposition: pick("x-ms-blob-content-disposition", "content-disposition"),
        cache_control: pick("x-ms-blob-cache-control", "cache-control"),
        content_md5: r.header("x-ms-blob-content-md5").map(str::to_string),
    }
}

/// Deletes the chunks of data ids `old` has and `new` does not.
fn drop_unused(tx: &mut dyn Tx, old: impl IntoIterator<Item = String>, new: &[Block]) -> mimic_store::Result<()> {
    let keep: HashSet<&str> = new.iter().map(|b| b.data.as_str()).collect();
    let mut gone = HashSet::new();
    for d in old {
        if !keep.contains(d.as_str()) && gone.insert(d.clone()) {
            tx.delete_chunks(&d)?;
        }
    }
    Ok(())
}

fn uncommitted_key(r: &Req) -> String {
    format!("{}/{}", r.container_key(), r.blob_name())
}

/// The blob's staged blocks, if they were staged in this container (not an earlier one of the
/// same name).
fn staged(tx: &mut dyn Tx, key: &str, container_created: chrono::DateTime<Utc>) -> mimic_store::Result<Uncommitted> {
    Ok(tx.get(STORAGE_UNCOMMITTED, key)?.filter(|u| u.container == Some(container_created)).unwrap_or_default())
}

/// The container's creation time in the commit's transaction (it may have gone meanwhile).
fn container_in(tx: &mut dyn Tx, r: &Req) -> BlobResult<chrono::DateTime<Utc>> {
    let key = mimic_domain::resource_id::key(&r.container_id());
    Ok(tx.resource(&key)?.ok_or_else(BlobError::container_not_found)?.created)
}

fn written(status: StatusCode, b: &BlobRecord) -> Response {
    let mut res = empty(status);
    set(&mut res, "etag", &b.etag);
    set(&mut res, "last-modified", &xml::http_date(b.last_modified));
    set(&mut res, "x-ms-request-server-encrypted", "true");
    res
}

async fn put_blob(r: Req, body: Body) -> BlobResult<Response> {
    match r.header("x-ms-blob-type") {
        None => return Err(BlobError::missing_header("x-ms-blob-type")),
        Some(t) if t.eq_ignore_ascii_case("BlockBlob") => {}
        Some(t) => return Err(BlobError::blob_type_not_supported(t)),
    }
    let metadata = r.metadata()?;
    let conditions = r.conditions()?;
    let (r, got) = receive(r, body, MAX_PUT_BLOB_BYTES).await?;
    commit(r.state.clone(), got.data.clone(), move || {
        let mut content = content_headers(&r, true);
        content.content_md5.get_or_insert_with(|| STANDARD.encode(got.md5));
        let md5 = content.content_md5.clone();
        let now = Utc::now();
        let ck = r.container_key();
        let key = uncommitted_key(&r);
        let record = r.state.store.write(|tx| {
            container_in(tx, &r)?;
            let old = tx.blob(&ck, r.blob_name())?;
            conditions.check(current(old.as_ref()), false).map_err(failure)?;
            let blocks = if got.size == 0 { vec![] } else { vec![Block { id: String::new(), data: got.data.clone(), size: got.size }] };
            let record = BlobRecord::commit(r.blob_name(), blocks, content.clone(), metadata.clone(), old.as_ref(), now);
            tx.put_blob(&ck, &record)?;
            let staged = tx.get(STORAGE_UNCOMMITTED, &key)?.map(|u| u.blocks).unwrap_or_default();
            let old_data = old.iter().flat_map(|o| o.data_ids().map(str::to_string).collect::<Vec<_>>());
            drop_unused(tx, old_data.chain(staged.into_iter().map(|b| b.data)), &record.blocks)?;
            tx.remove(STORAGE_UNCOMMITTED, &key)?;
            if got.size == 0 {
                // An empty body wrote no chunk; nothing to keep.
                tx.delete_chunks(&got.data)?;
            }
            Ok::<_, BlobError>(record)
        })?;
        let mut res = written(StatusCode::CREATED, &record);
        if let Some(m) = md5 {
            set(&mut res, "content-md5", &m);
        }
        Ok(res)
    })
    .await
}

async fn put_block(r: Req, body: Body) -> BlobResult<Response> {
    let id = r.q("blockid").unwrap_or_default().to_string();
    if !rules::valid_block_id(&id) {
        return Err(BlobError::invalid_query("blockid", &id, "The block id must be base64 of at most 64 bytes."));
    }
    let (r, got) = receive(r, body, MAX_BLOCK_BYTES).await?;
    commit(r.state.clone(), got.data.clone(), move || {
        let key = uncommitted_key(&r);
        let ck = r.container_key();
        r.state.store.write(|tx| {
            let created = container_in(tx, &r)?;
            let mut staged = staged(tx, &key, created)?;
            let committed = tx.blob(&ck, r.blob_name())?;
            // Every block id of a blob has the same length.
            let other = staged.blocks.first().or_else(|| committed.as_ref().and_then(|c| c.blocks.iter().find(|b| !b.id.is_empty())));
            if other.is_some_and(|o| o.id.len() != id.len()) {
                return Err(BlobError::invalid_block_list());
            }
            let replaced: Vec<String> = staged.blocks.iter().filter(|b| b.id == id).map(|b| b.data.clone()).collect();
            staged.blocks.retain(|b| b.id != id);
            if staged.blocks.len() >= MAX_UNCOMMITTED_BLOCKS {
                return Err(BlobError::block_count_exceeds_limit());
            }
            staged.blocks.push(Block { id: id.clone(), data: got.data.clone(), size: got.size });
            staged.container = Some(created);
            tx.put(STORAGE_UNCOMMITTED, &key, &staged, Some(Utc::now().timestamp() + UNCOMMITTED_SECS))?;
            for d in replaced {
                tx.delete_chunks(&d)?;
            }
            Ok::<_, BlobError>(())
        })?;
        let mut res = empty(StatusCode::CREATED);
        set(&mut res, "content-md5", &STANDARD.encode(got.md5));
        set(&mut res, "x-ms-request-server-encrypted", "true");
        Ok(res)
    })
    .await
}

/// A small request body, read whole (at most `limit` bytes).
async fn small_body(mut body: Body, limit: usize) -> BlobResult<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| BlobError::invalid_xml())?;
        if let Ok(bytes) = frame.into_data() {
            if out.len() + bytes.len() > limit {
                return Err(BlobError::body_too_large(limit as u64));
            }
            out.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}

async fn put_block_list(r: Req, body: Body) -> BlobResult<Response> {
    let metadata = r.metadata()?;
    let conditions = r.conditions()?;
    let r = blocking(move || precheck(&r).map(|()| r)).await?;
    let xml_body = small_body(body, MAX_BLOCK_LIST_BODY).await?;
    let wanted = mimic_wire::blob::parse_block_list(&xml_body, MAX_COMMITTED_BLOCKS).ok_or_else(BlobError::invalid_xml)?;
    blocking(move || {
        let content = content_headers(&r, false);
        let now = Utc::now();
        let ck = r.container_key();
        let key = uncommitted_key(&r);
        let record = r.state.store.write(|tx| {
            let created = container_in(tx, &r)?;
            let old = tx.blob(&ck, r.blob_name())?;
            conditions.check(current(old.as_ref()), false).map_err(failure)?;
            let staged = staged(tx, &key, created)?;
            let committed = old.as_ref().map(|o| o.blocks.clone()).unwrap_or_default();
            let blocks = rules::resolve_block_list(&wanted, &committed, &staged.blocks).map_err(|e| match e {
                BlockListError::Missing => BlobError::invalid_block_list(),
                BlockListError::TooMany => BlobError::block_count_exceeds_limit(),
                BlockListError::BadId => BlobError::invalid_block_id(),
            })?;
            let record = BlobRecord::commit(r.blob_name(), blocks, content.clone(), metadata.clone(), old.as_ref(), now);
            tx.put_blob(&ck, &record)?;
            // Staged blocks not committed are discarded, as are committed ones left out.
            let tx_old: Vec<String> = committed.into_iter().chain(staged.blocks).map(|b| b.data).collect();
            drop_unused(tx, tx_old, &record.blocks)?;
            tx.remove(STORAGE_UNCOMMITTED, &key)?;
            Ok::<_, BlobError>(record)
        })?;
        Ok(written(StatusCode::CREATED, &record))
    })
    .await
}

fn get_block_list(r: &Req) -> BlobResult<Response> {
    let (container, props) = r.container()?;
    let public = props.public_access.eq_ignore_ascii_case("container") || props.public_access.eq_ignore_ascii_case("blob");
    r.allow_data(BLOB_READ, public)?;
    let which = r.q("blocklisttype").unwrap_or("committed").to_ascii_lowercase();
    let (with_committed, with_uncommitted) = match which.as_str() {
        "committed" => (true, false),
        "uncommitted" => (false, true),
        "all" => (true, true),
        other => return Err(BlobError::invalid_query("blocklisttype", other, "committed, uncommitted or all")),
    };
    let key = uncommitted_key(r);
    let (record, staged) = r
        .state
        .store
        .read(|tx| -> BlobResult<_> { Ok((tx.blob(&r.container_key(), r.blob_name())?, staged(tx, &key, container.created)?)) })?;
    if record.is_none() && staged.blocks.is_empty() {
        return Err(BlobError::blob_not_found());
    }
    let committed: Vec<Block> = record.as_ref().map(|b| b.blocks.clone()).unwrap_or_default();
    let body = xml::block_list(with_committed.then_some(&committed[..]), with_uncommitted.then_some(&staged.blocks[..]));
    let mut res = xml_response(StatusCode::OK, body);
    if let Some(b) = &record {
        set(&mut res, "etag", &b.etag);
        set(&mut res, "last-modified", &xml::http_date(b.last_modified));
        set(&mut res, "x-ms-blob-content-length", &b.size.to_string());
    }
    Ok(res)
}

/// The blob for a read: the container's public access opens it to anonymous callers.
fn readable(r: &Req) -> BlobResult<BlobRecord> {
    let (_, props) = r.container()?;
    let public = !props.public_access.eq_ignore_ascii_case("none");
    r.allow_data(BLOB_READ, public)?;
    r.state.store.read(|tx| tx.blob(&r.container_key(), r.blob_name()))?.ok_or_else(BlobError::blob_not_found)
}

/// A read's conditions: 304 (no body) or 412.
fn read_conditions(c: &Conditions, b: &BlobRecord) -> BlobResult<Option<Response>> {
    match c.check(current(Some(b)), true) {
        Ok(()) => Ok(None),
        Err(ConditionFailure::NotModified) => {
            let mut res = empty(StatusCode::NOT_MODIFIED);
            set(&mut res, "etag", &b.etag);
            set(&mut res, "last-modified", &xml::http_date(b.last_modified));
            Ok(Some(res))
        }
        Err(_) => Err(BlobError::condition_not_met()),
    }
}

/// The headers every read of a blob answers.
fn blob_headers(res: &mut Response, b: &BlobRecord) {
    let c = &b.content;
    set(res, "etag", &b.etag);
    set(res, "last-modified", &xml::http_date(b.last_modified));
    set(res, "x-ms-creation-time", &xml::http_date(b.created));
    set(res, "content-type", c.content_type.as_deref().unwrap_or("application/octet-stream"));
    for (name, v) in [
        ("content-encoding", &c.content_encoding),
        ("content-language", &c.content_language),
        ("content-disposition", &c.content_disposition),
        ("cache-control", &c.cache_control),
    ] {
        if let Some(v) = v {
            set(res, name, v);
        }
    }
    set(res, "x-ms-blob-type", "BlockBlob");
    set(res, "x-ms-lease-status", "unlocked");
    set(res, "x-ms-lease-state", "available");
    set(res, "x-ms-server-encrypted", "true");
    set(res, "accept-ranges", "bytes");
    metadata_headers(res, b);
}

fn metadata_headers(res: &mut Response, b: &BlobRecord) {
    for (k, v) in &b.metadata {
        if let (Ok(name), Ok(value)) =
            (axum::http::HeaderName::from_bytes(format!("x-ms-meta-{k}").as_bytes()), axum::http::HeaderValue::from_str(v))
        {
            res.headers_mut().insert(name, value);
        }
    }
}

async fn get_blob(r: Req) -> BlobResult<Response> {
    let head = r.method == Method::HEAD;
    let (r, b) = blocking(move || readable(&r).map(|b| (r, b))).await?;
    if let Some(res) = read_conditions(&r.conditions()?, &b)? {
        return Ok(res);
    }
    // `x-ms-range` wins over `Range`; a range that cannot be read as one is the whole blob.
    let range = if head { None } else { r.header("x-ms-range").or(r.header("range")).and_then(rules::parse_range) };
    let span = match range {
        Some(range) => Some(range.within(b.size).ok_or_else(BlobError::invalid_range)?),
        None => None,
    };
    let (start, end, status) = match span {
        Some((s, e)) => (s, e, StatusCode::PARTIAL_CONTENT),
        None => (0, b.size.saturating_sub(1), StatusCode::OK),
    };
    let length = if b.size == 0 { 0 } else { end - start + 1 };
    let body = if head || length == 0 { Body::empty() } else { content::stream(&r.state, b.blocks.clone(), start, end) };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    blob_headers(&mut res, &b);
    set(&mut res, "content-length", &if head { b.size } else { length }.to_string());
    if span.is_some() {
        set(&mut res, "content-range", &format!("bytes {start}-{end}/{}", b.size));
        if let Some(m) = &b.content.content_md5 {
            set(&mut res, "x-ms-blob-content-md5", m);
        }
    } else if let Some(m) = &b.content.content_md5 {
        set(&mut res, "content-md5", m);
    }
    if head {
        set(&mut res, "x-ms-access-tier", "Hot");
        set(&mut res, "x-ms-access-tier-inferred", "true");
    }
    Ok(res)
}

fn get_metadata(r: &Req) -> BlobResult<Response> {
    let b = readable(r)?;
    if let Some(res) = read_conditions(&r.conditions()?, &b)? {
        return Ok(res);
    }
    let mut res = empty(StatusCode::OK);
    set(&mut res, "etag", &b.etag);
    set(&mut res, "last-modified", &xml::http_date(b.last_modified));
    metadata_headers(&mut res, &b);
    Ok(res)
}

/// Changes a committed blob's record (its properties or metadata) under its conditions.
fn update(r: &Req, change: impl Fn(&mut BlobRecord)) -> BlobResult<Response> {
    r.container()?;
    r.allow_data(BLOB_WRITE, false)?;
    let conditions = r.conditions()?;
    let ck = r.container_key();
    let record = r.state.store.write(|tx| {
        let mut b = tx.blob(&ck, r.blob_name())?.ok_or_else(BlobError::blob_not_found)?;
        conditions.check(current(Some(&b)), false).map_err(failure)?;
        change(&mut b);
        let now = Utc::now();
        b.etag = st::etag(now);
        b.last_modified = now;
        tx.put_blob(&ck, &b)?;
        Ok::<_, BlobError>(b)
    })?;
    Ok(written(StatusCode::OK, &record))
}

fn set_properties(r: &Req) -> BlobResult<Response> {
    let content = content_headers(r, false);
    update(r, |b| b.content = content.clone())
}

fn set_metadata(r: &Req) -> BlobResult<Response> {
    let metadata = r.metadata()?;
    update(r, |b| b.metadata = metadata.clone())
}

fn delete(r: &Req) -> BlobResult<Response> {
    r.container()?;
    r.allow_data(BLOB_DELETE, false)?;
    let conditions = r.conditions()?;
    let ck = r.container_key();
    let key = uncommitted_key(r);
    r.state.store.write(|tx| {
        let b = tx.blob(&ck, r.blob_name())?.ok_or_else(BlobError::blob_not_found)?;
        conditions.check(current(Some(&b)), false).map_err(failure)?;
        tx.delete_blob(&ck, r.blob_name())?;
        let staged = tx.get(STORAGE_UNCOMMITTED, &key)?.map(|u| u.blocks).unwrap_or_default();
        let all: Vec<String> = b.blocks.into_iter().chain(staged).map(|b| b.data).collect();
        drop_unused(tx, all, &[])?;
        tx.remove(STORAGE_UNCOMMITTED, &key)?;
        Ok::<_, BlobError>(())
    })?;
    let mut res = empty(StatusCode::ACCEPTED);
    set(&mut res, "x-ms-delete-type-permanent", "true");
    Ok(res)
}

/// `GET /{container}?restype=container&comp=list`.
pub fn list(r: &Req) -> BlobResult<Response> {
    let found = r.find_container()?;
    r.allow_data(BLOB_READ, found.as_ref().is_some_and(|(_, p)| p.public_access.eq_ignore_ascii_case("container")))?;
    found.ok_or_else(BlobError::container_not_found)?;
    let prefix = r.q("prefix").unwrap_or_default().to_string();
    let delimiter = r.q("delimiter").filter(|d| !d.is_empty()).map(str::to_string);
    let marker = r.q("marker").filter(|m| !m.is_empty()).map(str::to_string);
    let max = r.max_results()?;
    let with_metadata = r.q("include").is_some_and(|i| i.split(',').any(|x| x.trim().eq_ignore_ascii_case("metadata")));
    let ck = r.container_key();
    // Walk the names in order from the prefix (or after the marker), folding names that hold
    // the delimiter after the prefix into one BlobPrefix each.
    let mut records: Vec<BlobRecord> = Vec::new();
    let mut prefixes: Vec<(usize, String)> = Vec::new();
    // A marker that is a BlobPrefix resumes after everything under it.
    let mut skip_under: Option<String> = marker.clone().filter(|m| delimiter.as_deref().is_some_and(|d| m.ends_with(d)));
    let mut after = match &skip_under {
        Some(p) => Some(format!("{p}\u{10FFFF}")),
        None => marker.clone(),
    };
    let mut next = None;
    let batch = (max + 1).min(1000);
    'walk: loop {
        let rows = r.state.store.read(|tx| tx.blobs(&ck, &prefix, after.as_deref(), batch))?;
        let fetched = rows.len();
        for b in rows {
            after = Some(b.name.clone());
            if !b.name.starts_with(&prefix) {
                break 'walk;
            }
            if skip_under.as_deref().is_some_and(|p| b.name.starts_with(p)) {
                continue;
            }
            let entry = match &delimiter {
                Some(d) => b.name[prefix.len()..].find(d.as_str()).map(|i| b.name[..prefix.len() + i + d.len()].to_string()),
                None => None,
            };
            if records.len() + prefixes.len() == max {
                next = Some(match (records.last(), prefixes.last()) {
                    (_, Some((i, p))) if *i >= records.len() => p.clone(),
                    (Some(last), _) => last.name.clone(),
                    (None, Some((_, p))) => p.clone(),
                    (None, None) => break 'walk,
                });
                break 'walk;
            }
            match entry {
                Some(p) => {
                    // Jump past every name under the prefix: one query per folded prefix, however
                    // many blobs it holds (U+10FFFF sorts after anything that can follow it).
                    after = Some(format!("{p}\u{10FFFF}"));
                    skip_under = Some(p.clone());
                    prefixes.push((records.len(), p));
                    continue 'walk;
                }
                None => records.push(b),
            }
        }
        if fetched < batch {
            break;
        }
    }
    // Interleave in name order: prefixes were recorded with the count of blobs before them.
    let mut items: Vec<Listed> = Vec::with_capacity(records.len() + prefixes.len());
    let mut p = prefixes.iter().peekable();
    for (i, b) in records.iter().enumerate() {
        while let Some((at, name)) = p.peek() {
            if *at > i {
                break;
            }
            items.push(Listed::Prefix(name));
            p.next();
        }
        items.push(Listed::Blob(b));
    }
    for (_, name) in p {
        items.push(Listed::Prefix(name));
    }
    let echo = Echo {
        prefix: r.q("prefix"),
        marker: marker.as_deref(),
        max_results: r.q("maxresults").map(|_| max),
        delimiter: delimiter.as_deref(),
    };
    let body = xml::blobs(&r.endpoint, r.container_name(), &echo, &items, with_metadata, next.as_deref());
    Ok(xml_response(StatusCode::OK, body))
}
