//! The Blob service through an in-process Mimic: Storage's token and Shared Key checks, Azure
//! RBAC (actions for containers, data actions for blobs), containers, block blobs in chunks,
//! ranges, conditional requests and listings, as docs/azure-behaviour.md's Blob section says.

mod support;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::Utc;
use mimic_domain::resource::Resource;
use mimic_domain::storage::{self as st, shared_key, AccountName};
use mimic_store::documents::{Docs, STORAGE_KEYS, STORAGE_NAME};
use serde_json::{json, Map, Value};
use support::{Surface, TestApp};

const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
const VERSION: &str = "2026-04-06";
const BLOB_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const BLOB_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

/// An account as the Microsoft.Storage provider stores it (resource, name index, sealed keys);
/// its id and clear keys.
fn seed_account(app: &TestApp, rg: &str, name: &str, properties: Value) -> (String, [String; 2]) {
    let id = format!("{}/providers/Microsoft.Storage/storageAccounts/{name}", app.rg_path(rg));
    let now = Utc::now();
    let instance = uuid::Uuid::new_v4();
    let mut extra = Map::new();
    extra.insert("kind".into(), "StorageV2".into());
    extra.insert("sku".into(), json!({"name": "Standard_LRS", "tier": "Standard"}));
    let r = Resource {
        id: id.clone(),
        name: name.into(),
        resource_type: st::ACCOUNT_TYPE.into(),
        location: Some("westus".into()),
        tags: None,
        properties,
        identity: None,
        extra,
        created: now,
        changed: now,
    };
    let master = app.state.keys.master_key();
    let keys = mimic_server::storage_accounts::new_keys(master, instance, now).unwrap();
    app.state
        .store
        .write(|tx| -> mimic_store::Result<()> {
            tx.put_resource(&r)?;
            tx.put(STORAGE_NAME, &st::name_key(name), &AccountName { resource_id: id.clone(), instance }, None)?;
            tx.put(STORAGE_KEYS, &instance.to_string(), &keys, None)?;
            Ok(())
        })
        .unwrap();
    let clear = app
        .state
        .store
        .read(|tx| Ok::<_, mimic_store::StoreError>(mimic_server::storage_accounts::open_keys(tx, master, instance).unwrap()))
        .unwrap();
    (id, clear.unwrap())
}

enum Auth<'a> {
    None,
    Bearer(&'a str),
    Key(&'a str),
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn code(&self) -> &str {
        self.header("x-ms-error-code").unwrap_or_default()
    }
}

async fn call(
    app: &TestApp,
    auth: Auth<'_>,
    method: &str,
    account: &str,
    path_query: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let uri = format!("https://{account}.blob.core.windows.net{path_query}");
    let mut all: Vec<(String, String)> = vec![
        ("x-ms-version".into(), VERSION.into()),
        ("x-ms-date".into(), Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
        ("content-length".into(), body.len().to_string()),
    ];
    all.retain(|(k, _)| !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)));
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => all.push(("authorization".into(), format!("Bearer {t}"))),
        Auth::Key(key) => {
            let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
            let signed = shared_key::SignedRequest { method, headers: &all, raw_path: path, raw_query: query };
            let sig = shared_key::sign(key, &shared_key::string_to_sign(&signed, account)).unwrap();
            all.push(("authorization".into(), format!("SharedKey {account}:{sig}")));
        }
    }
    let mut req = Request::builder().method(method).uri(&uri).header("host", format!("{account}.blob.core.windows.net"));
    for (k, v) in &all {
        req = req.header(k.as_str(), v.as_str());
    }
    let (status, headers, body) = app.raw(Surface::Blob, req.body(Body::from(body)).unwrap()).await;
    Answer { status, headers, body }
}

async fn principal_token(app: &TestApp, name: &str) -> (support::Principal, String) {
    let p = app.create_service_principal(name).await;
    let t = app.token(&p.app_id, &p.secret, STORAGE_SCOPE).await;
    (p, t)
}

#[tokio::test]
async fn rbac_decides_bearer_requests_and_management_roles_give_no_data() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let (id, _) = seed_account(&app, "rg", "mimicrbac1", json!({}));
    let (p, token) = principal_token(&app, "blob-writer").await;
    // No role: neither a container nor a blob.
    let r = call(&app, Auth::Bearer(&token), "PUT", "mimicrbac1", "/box1?restype=container", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "AuthorizationPermissionMismatch"), "{}", r.text());
    assert!(r.text().contains("<Code>AuthorizationPermissionMismatch</Code>"), "{}", r.text());
    // Owner of the account (a management role) can make the container but not touch blobs.
    app.assign_role(&p.object_id, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", &id).await;
    let r = call(&app, Auth::Bearer(&token), "PUT", "mimicrbac1", "/box1?restype=container", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let put = [("x-ms-blob-type", "BlockBlob")];
    let r = call(&app, Auth::Bearer(&token), "PUT", "mimicrbac1", "/box1/a.txt", &put, b"hello".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "AuthorizationPermissionMismatch"));
    // Storage Blob Data Contributor at the account: upload, read, delete.
    app.assign_role(&p.object_id, BLOB_CONTRIBUTOR, &id).await;
    let r = call(&app, Auth::Bearer(&token), "PUT", "mimicrbac1", "/box1/a.txt", &put, b"hello".to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("content-md5"), Some("XUFAKrxLKna5cZ2REBfFkg=="));
    let r = call(&app, Auth::Bearer(&token), "GET", "mimicrbac1", "/box1/a.txt", &[], vec![]).await;
    assert_eq!((r.status, r.body.as_slice()), (StatusCode::OK, &b"hello"[..]));
    // A reader of one container reads it and cannot write it.
    let (q, reader) = principal_token(&app, "blob-reader").await;
    app.assign_role(&q.object_id, BLOB_READER, &st::container_id(&id, "box1")).await;
    let r = call(&app, Auth::Bearer(&reader), "GET", "mimicrbac1", "/box1/a.txt", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(&app, Auth::Bearer(&reader), "PUT", "mimicrbac1", "/box1/b.txt", &put, b"x".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "AuthorizationPermissionMismatch"));
    let r = call(&app, Auth::Bearer(&reader), "DELETE", "mimicrbac1", "/box1/a.txt", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call(&app, Auth::Bearer(&token), "DELETE", "mimicrbac1", "/box1/a.txt", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = call(&app, Auth::Bearer(&token), "GET", "mimicrbac1", "/box1/a.txt", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "BlobNotFound"));
}

#[tokio::test]
async fn tokens_are_checked_as_storage_checks_them() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    seed_account(&app, "rg", "mimictoken1", json!({}));
    let r = call(&app, Auth::None, "GET", "mimictoken1", "/?comp=list", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "NoAuthenticationInformation"));
    let challenge = r.header("www-authenticate").unwrap();
    assert!(challenge.contains(&format!("authorization_uri=https://login.mimic.test/{}/oauth2/authorize", app.tenant_id())), "{challenge}");
    assert!(challenge.contains("resource_id=https://storage.azure.com"), "{challenge}");
    // An ARM token is for another audience.
    let arm = app.token_for_admin().await;
    let r = call(&app, Auth::Bearer(&arm), "GET", "mimictoken1", "/?comp=list", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "InvalidAuthenticationInfo"));
    assert!(r.text().contains("Audience validation failed"), "{}", r.text());
    let r = call(&app, Auth::Bearer("not.a.token"), "GET", "mimictoken1", "/?comp=list", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "InvalidAuthenticationInfo"));
    // The account's own URL is an audience too.
    let p = app.create_service_principal("acct-aud").await;
    let t = app.token(&p.app_id, &p.secret, "https://mimictoken1.blob.core.windows.net/.default").await;
    let r = call(&app, Auth::Bearer(&t), "GET", "mimictoken1", "/?comp=list", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "AuthorizationPermissionMismatch"), "{}", r.text());
    // Unknown versions are refused; unknown accounts are not found.
    let r = call(&app, Auth::Bearer(&t), "GET", "mimictoken1", "/?comp=list", &[("x-ms-version", "2099-01-01")], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "InvalidHeaderValue"));
    let r = call(&app, Auth::Bearer(&t), "GET", "nosuchaccount9", "/?comp=list", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn shared_key_signatures_and_their_refusal() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let (_, keys) = seed_account(&app, "rg", "mimickeys1", json!({}));
    let r = call(&app, Auth::Key(&keys[1]), "PUT", "mimickeys1", "/box?restype=container", &[("x-ms-meta-Owner", "me")], vec![]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r =
        call(&app, Auth::Key(&keys[0]), "PUT", "mimickeys1", "/box/dir%20x/a.txt", &[("x-ms-blob-type", "BlockBlob")], b"k".to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let wrong = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [1u8; 64]);
    let r = call(&app, Auth::Key(&wrong), "GET", "mimickeys1", "/box/dir%20x/a.txt", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "AuthenticationFailed"));
    assert!(r.text().contains("Server used following string to sign"), "{}", r.text());
    let r = call(&app, Auth::Key(&keys[0]), "GET", "mimickeys1", "/box/dir%20x/a.txt", &[], vec![]).await;
    assert_eq!((r.status, r.body.as_slice()), (StatusCode::OK, &b"k"[..]));
    // An account that forbids Shared Key.
    let (_, keys) = seed_account(&app, "rg", "mimicnokeys1", json!({"allowSharedKeyAccess": false}));
    let r = call(&app, Auth::Key(&keys[0]), "GET", "mimicnokeys1", "/?comp=list", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "KeyBasedAuthenticationNotPermitted"));
}

#[tokio::test]
async fn blocks_ranges_and_conditions() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let (_, keys) = seed_account(&app, "rg", "mimicblocks1", json!({}));
    let k = Auth::Key;
    assert_eq!(call(&app, k(&keys[0]), "PUT", "mimicblocks1", "/box?restype=container", &[], vec![]).await.status, StatusCode::CREATED);
    // Three blocks, the first spanning chunk boundaries.
    let blocks: Vec<Vec<u8>> = vec![(0..2_500_000u32).map(|i| (i % 251) as u8).collect(), b"middle".to_vec(), vec![7u8; 1_048_576]];
    let ids = ["YmxvY2stMDAx", "YmxvY2stMDAy", "YmxvY2stMDAz"];
    for (id, b) in ids.iter().zip(&blocks) {
        let r = call(&app, k(&keys[0]), "PUT", "mimicblocks1", &format!("/box/big.bin?comp=block&blockid={id}"), &[], b.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = call(&app, k(&keys[0]), "GET", "mimicblocks1", "/box/big.bin?comp=blocklist&blocklisttype=all", &[], vec![]).await;
    assert!(r.text().contains("<UncommittedBlocks><Block><Name>YmxvY2stMDAx</Name><Size>2500000</Size>"), "{}", r.text());
    let list = format!(
        "<?xml version='1.0' encoding='utf-8'?><BlockList>{}</BlockList>",
        ids.iter().map(|i| format!("<Latest>{i}</Latest>")).collect::<String>()
    );
    let r = call(
        &app,
        k(&keys[0]),
        "PUT",
        "mimicblocks1",
        "/box/big.bin?comp=blocklist",
        &[("x-ms-blob-content-type", "application/x-test")],
        list.into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let etag = r.header("etag").unwrap().to_string();
    let whole: Vec<u8> = blocks.concat();
    let r = call(&app, k(&keys[0]), "GET", "mimicblocks1", "/box/big.bin", &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/x-test"));
    assert!(r.body == whole, "the whole blob reads back");
    for (a, b) in [(0u64, 9u64), (1_048_570, 1_048_590), (2_499_990, 2_500_010), (whole.len() as u64 - 3, whole.len() as u64 + 100)] {
        let range = format!("bytes={a}-{b}");
        let r = call(&app, k(&keys[0]), "GET", "mimicblocks1", "/box/big.bin", &[("x-ms-range", &range)], vec![]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
        let end = (b as usize).min(whole.len() - 1);
        assert!(r.body == whole[a as usize..=end], "range {range}");
        assert_eq!(r.header("content-range"), Some(format!("bytes {a}-{end}/{}", whole.len()).as_str()));
    }
    let r = call(&app, k(&keys[0]), "GET", "mimicblocks1", "/box/big.bin", &[("x-ms-range", "bytes=99999999-")], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange"));
    // Committed: nothing left staged.
    let r = call(&app, k(&keys[0]), "GET", "mimicblocks1", "/box/big.bin?comp=blocklist&blocklisttype=uncommitted", &[], vec![]).await;
    assert!(r.text().contains("<UncommittedBlocks></UncommittedBlocks>"), "{}", r.text());
    // Conditions.
    let put = [("x-ms-blob-type", "BlockBlob"), ("if-none-match", "*")];
    let r = call(&app, k(&keys[0]), "PUT", "mimicblocks1", "/box/big.bin", &put, b"no".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "BlobAlreadyExists"));
    let r = call(
        &app,
        k(&keys[0]),
        "PUT",
        "mimicblocks1",
        "/box/big.bin",
        &[("x-ms-blob-type", "BlockBlob"), ("if-match", "\"0x1\"")],
        b"no".to_vec(),
    )
    .await;
    assert_eq!((r.status, r.code()), (StatusCode::PRECONDITION_FAILED, "ConditionNotMet"));
    let r = call(&app, k(&keys[0]), "GET", "mimicblocks1", "/box/big.bin", &[("if-none-match", &etag)], vec![]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = call(&app, k(&keys[0]), "HEAD", "mimicblocks1", "/box/big.bin", &[], vec![]).await;
    assert_eq!(r.header("content-length"), Some(whole.len().to_string().as_str()));
    assert!(r.body.is_empty());
    // A block list naming a block that is not there.
    let r = call(
        &app,
        k(&keys[0]),
        "PUT",
        "mimicblocks1",
        "/box/big.bin?comp=blocklist",
        &[],
        b"<BlockList><Uncommitted>bm9uZQ==</Uncommitted></BlockList>".to_vec(),
    )
    .await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "InvalidBlockList"));
    let r = call(&app, k(&keys[0]), "PUT", "mimicblocks1", "/box/big.bin?comp=blocklist", &[], b"<BlockList><Latest>".to_vec()).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "InvalidXmlDocument"));
}

#[tokio::test]
async fn listings_and_container_lifecycle() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let (id, keys) = seed_account(&app, "rg", "mimiclist1", json!({}));
    let k = || Auth::Key(&keys[0]);
    for c in ["alpha", "beta", "betamax"] {
        assert_eq!(call(&app, k(), "PUT", "mimiclist1", &format!("/{c}?restype=container"), &[], vec![]).await.status, StatusCode::CREATED);
    }
    let r = call(&app, k(), "PUT", "mimiclist1", "/alpha?restype=container", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "ContainerAlreadyExists"));
    let r = call(&app, k(), "PUT", "mimiclist1", "/Bad_Name?restype=container", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "InvalidResourceName"));
    let r = call(&app, k(), "GET", "mimiclist1", "/?comp=list&prefix=beta", &[], vec![]).await;
    let t = r.text();
    assert!(t.contains("<Name>beta</Name>") && t.contains("<Name>betamax</Name>") && !t.contains("<Name>alpha</Name>"), "{t}");
    let r = call(&app, k(), "GET", "mimiclist1", "/?comp=list&maxresults=2", &[], vec![]).await;
    assert!(r.text().contains("<NextMarker>beta</NextMarker>"), "{}", r.text());
    let r = call(&app, k(), "GET", "mimiclist1", "/?comp=list&marker=beta", &[], vec![]).await;
    assert!(r.text().contains("<Name>betamax</Name>") && !r.text().contains("<Name>beta</Name>"), "{}", r.text());
    // The container is the ARM resource too.
    let (s, body) = app.arm("GET", &st::container_id(&id, "alpha"), "2025-08-01", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Blobs with a delimiter.
    for name in ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt"] {
        let r = call(
            &app,
            k(),
            "PUT",
            "mimiclist1",
            &format!("/alpha/{name}"),
            &[("x-ms-blob-type", "BlockBlob"), ("x-ms-meta-n", name)],
            name.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = call(&app, k(), "GET", "mimiclist1", "/alpha?restype=container&comp=list&delimiter=/", &[], vec![]).await;
    let t = r.text();
    let names: Vec<&str> = t.split("<Name>").skip(1).map(|s| s.split('<').next().unwrap()).collect();
    assert_eq!(names, ["a/", "c.txt", "d/"], "{t}");
    let r = call(&app, k(), "GET", "mimiclist1", "/alpha?restype=container&comp=list&delimiter=/&prefix=a/&include=metadata", &[], vec![])
        .await;
    let t = r.text();
    let names: Vec<&str> = t.split("<Name>").skip(1).map(|s| s.split('<').next().unwrap()).collect();
    assert_eq!(names, ["a/1.txt", "a/2.txt", "a/b/"], "{t}");
    assert!(t.contains("<Metadata><n>a/1.txt</n></Metadata>"), "{t}");
    let mut seen = vec![];
    let mut marker = String::new();
    loop {
        let r =
            call(&app, k(), "GET", "mimiclist1", &format!("/alpha?restype=container&comp=list&maxresults=2&marker={marker}"), &[], vec![])
                .await;
        let t = r.text();
        seen.extend(t.split("<Blob><Name>").skip(1).map(|s| s.split('<').next().unwrap().to_string()));
        match t.split("<NextMarker>").nth(1) {
            Some(m) => marker = m.split('<').next().unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ["a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt"]);
    // Paged one entry at a time with a delimiter: a page ending on a prefix resumes after it.
    let mut seen = vec![];
    let mut marker = String::new();
    loop {
        let q = format!("/alpha?restype=container&comp=list&delimiter=/&maxresults=1&marker={marker}");
        let t = call(&app, k(), "GET", "mimiclist1", &q, &[], vec![]).await.text();
        seen.extend(t.split("<Name>").skip(1).map(|s| s.split('<').next().unwrap().to_string()));
        match t.split("<NextMarker>").nth(1) {
            Some(m) => marker = m.split('<').next().unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ["a/", "c.txt", "d/"]);
    // Staged blocks and blobs go with their container; a new one of the same name is empty.
    let r = call(&app, k(), "PUT", "mimiclist1", "/alpha/staged?comp=block&blockid=QUFB", &[], b"abc".to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let instance = app.state.store.read(|tx| tx.get(STORAGE_NAME, "mimiclist1")).unwrap().unwrap().instance;
    let ck = st::container_key(instance, "alpha");
    let data = app.state.store.read(|tx| tx.blob(&ck, "c.txt")).unwrap().unwrap().blocks[0].data.clone();
    assert!(app.state.store.read(|tx| tx.chunk(&data, 0)).unwrap().is_some());
    assert_eq!(call(&app, k(), "DELETE", "mimiclist1", "/alpha?restype=container", &[], vec![]).await.status, StatusCode::ACCEPTED);
    assert!(app.state.store.read(|tx| tx.chunk(&data, 0)).unwrap().is_none(), "the container's bytes went with it");
    let r = call(&app, k(), "GET", "mimiclist1", "/alpha/c.txt", &[], vec![]).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "ContainerNotFound"));
    assert_eq!(call(&app, k(), "PUT", "mimiclist1", "/alpha?restype=container", &[], vec![]).await.status, StatusCode::CREATED);
    let r = call(
        &app,
        k(),
        "PUT",
        "mimiclist1",
        "/alpha/staged?comp=blocklist",
        &[],
        b"<BlockList><Uncommitted>QUFB</Uncommitted></BlockList>".to_vec(),
    )
    .await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "InvalidBlockList"));
    let r = call(&app, k(), "GET", "mimiclist1", "/alpha?restype=container&comp=list", &[], vec![]).await;
    assert!(!r.text().contains("<Blob>"), "{}", r.text());
}
