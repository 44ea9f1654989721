//! Microsoft.Storage through an in-process Mimic: storage accounts (async create, get, lists,
//! update, delete), name rules and global names, checkNameAvailability, access keys (listKeys,
//! regenerateKey, sealed at rest), the blob service, blob containers, RBAC, and a resource
//! group's deletion taking its accounts' data (docs/azure-behaviour.md "Storage accounts").

mod support;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mimic_domain::storage::AccountName;
use mimic_store::documents::{Docs, STORAGE_KEYS, STORAGE_NAME};
use serde_json::{json, Value};
use support::{arm_error, Surface, TestApp, ARM_SCOPE, RG_API};

const API: &str = "2025-08-01";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

fn account_path(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}")
}

fn account_body() -> Value {
    json!({"location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "tags": {"a": "b"}})
}

/// Creates an account as az does (202, then a poll of `Location`); returns the polled body.
async fn create_account(app: &TestApp, rg: &str, name: &str, body: Value) -> Value {
    let path = account_path(&app.subscription_id(), rg, name);
    let token = app.token_for_admin().await;
    let r = app.arm_as(Some(&token), "PUT", &path, API, Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("1"));
    let location = r.header("location").expect("Location").to_string();
    let prefix = format!(
        "https://arm.mimic.test/subscriptions/{}/providers/Microsoft.Storage/locations/westus/asyncoperations/",
        app.subscription_id()
    );
    assert!(location.starts_with(&prefix) && location.contains("?monitor=true&api-version=2025-08-01"), "{location}");
    let poll = app.send(Surface::Arm, "GET", location.strip_prefix("https://arm.mimic.test").unwrap(), Some(&token), None, None).await;
    assert_eq!(poll.status, StatusCode::OK, "{}", poll.body);
    poll.body
}

async fn list_keys(app: &TestApp, path: &str) -> Vec<String> {
    let (s, b) = app.arm("POST", &format!("{path}/listKeys"), API, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let keys = b["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!((keys[0]["keyName"].as_str(), keys[1]["keyName"].as_str()), (Some("key1"), Some("key2")));
    keys.iter()
        .map(|k| {
            assert_eq!(k["permissions"], "FULL");
            assert!(k["creationTime"].is_string());
            let v = k["value"].as_str().unwrap().to_string();
            assert_eq!(v.len(), 88, "{v}");
            assert_eq!(STANDARD.decode(&v).unwrap().len(), 64);
            v
        })
        .collect()
}

#[tokio::test]
async fn accounts_are_created_read_listed_updated_and_deleted_as_azure_does() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let sub = app.subscription_id();
    let path = account_path(&sub, "rg", "mimicsa01");
    let a = create_account(&app, "rg", "mimicsa01", account_body()).await;
    assert_eq!(a["id"], path);
    assert_eq!((a["name"].as_str(), a["type"].as_str()), (Some("mimicsa01"), Some("Microsoft.Storage/storageAccounts")));
    assert_eq!((a["kind"].as_str(), a["location"].as_str()), (Some("StorageV2"), Some("westus")));
    assert_eq!(a["sku"], json!({"name": "Standard_LRS", "tier": "Standard"}));
    assert_eq!(a["tags"], json!({"a": "b"}));
    let p = &a["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["primaryEndpoints"]["blob"], "https://mimicsa01.blob.core.windows.net/");
    assert_eq!(p["primaryEndpoints"]["dfs"], "https://mimicsa01.dfs.core.windows.net/");
    assert_eq!(p["primaryEndpoints"]["queue"], "https://mimicsa01.queue.core.windows.net/");
    assert_eq!(p["primaryEndpoints"]["web"], "https://mimicsa01.web.core.windows.net/");
    assert_eq!((p["primaryLocation"].as_str(), p["statusOfPrimary"].as_str()), (Some("westus"), Some("available")));
    assert_eq!(p["allowBlobPublicAccess"], false);
    assert_eq!(p["minimumTlsVersion"], "TLS1_2");
    assert_eq!(p["supportsHttpsTrafficOnly"], true);
    assert_eq!(p["accessTier"], "Hot");
    assert_eq!(p["encryption"]["keySource"], "Microsoft.Storage");
    assert_eq!(p["encryption"]["services"]["blob"]["enabled"], true);
    assert_eq!(p["networkAcls"]["defaultAction"], "Allow");
    assert!(p["keyCreationTime"]["key1"].is_string() && p["creationTime"].is_string());
    assert!(p.get("allowSharedKeyAccess").is_none(), "absent means allowed, as sent");

    let (s, got) = app.arm("GET", &path, API, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got, a);
    for scope in [app.rg_path("rg"), format!("/subscriptions/{sub}")] {
        let (s, l) = app.arm("GET", &format!("{scope}/providers/Microsoft.Storage/storageAccounts"), API, None).await;
        assert_eq!(s, StatusCode::OK, "{l}");
        assert_eq!(l["value"].as_array().unwrap().iter().map(|x| x["name"].clone()).collect::<Vec<_>>(), vec![json!("mimicsa01")]);
    }

    // PATCH: properties merged, sku changed, tags replaced.
    let (s, u) = app
        .arm("PATCH", &path, API, Some(json!({"sku": {"name": "Standard_GRS"}, "tags": {"c": "d"}, "properties": {"allowSharedKeyAccess": false, "minimumTlsVersion": "TLS1_1"}})))
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["sku"]["name"], "Standard_GRS");
    assert_eq!(
        (u["properties"]["secondaryLocation"].as_str(), u["properties"]["statusOfSecondary"].as_str()),
        (Some("eastus"), Some("available"))
    );
    assert!(u["properties"].get("secondaryEndpoints").is_none(), "GRS has no read access to the secondary");
    assert!(p.get("secondaryLocation").is_none(), "LRS has no secondary");
    assert_eq!(u["tags"], json!({"c": "d"}));
    assert_eq!(u["properties"]["allowSharedKeyAccess"], false);
    assert_eq!(u["properties"]["minimumTlsVersion"], "TLS1_1");
    assert_eq!(u["properties"]["creationTime"], p["creationTime"]);
    // A PUT of the same name in the same group is an update: 200 with the body.
    let (s, again) = app.arm("PUT", &path, API, Some(account_body())).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["properties"]["allowSharedKeyAccess"], false, "kept from before");
    assert_eq!(again["sku"]["name"], "Standard_LRS");
    assert!(again["properties"].get("secondaryLocation").is_none());

    // Bad bodies.
    let bad = app.arm("PUT", &path, API, Some(json!({"location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_XYZ"}}))).await;
    arm_error(bad.0, &bad.1, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");
    let bad = app.arm("PUT", &path, API, Some(json!({"location": "westus", "kind": "Other", "sku": {"name": "Standard_LRS"}}))).await;
    arm_error(bad.0, &bad.1, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");
    let other = account_path(&sub, "rg", "mimicsa02");
    let bad = app.arm("PUT", &other, API, Some(json!({"location": "mars", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}))).await;
    arm_error(bad.0, &bad.1, StatusCode::BAD_REQUEST, "LocationNotAvailableForResourceType");
    let bad = app.arm("PUT", &other, "2099-01-01", Some(account_body())).await;
    arm_error(bad.0, &bad.1, StatusCode::BAD_REQUEST, "NoRegisteredProviderFound");

    let (s, _) = app.arm("DELETE", &path, API, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.arm("DELETE", &path, API, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.arm("GET", &path, API, None).await;
    arm_error(s, &b, StatusCode::NOT_FOUND, "ResourceNotFound");
    // Its name is free again, with a new instance.
    let name = app.state.store.read(|tx| tx.get(STORAGE_NAME, "mimicsa01")).unwrap();
    assert!(name.is_none());
}

#[tokio::test]
async fn names_follow_azure_and_are_global_across_subscriptions_and_tenants() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    app.create_rg("rg2").await;
    let sub = app.subscription_id();
    for bad in ["ab", "Mimic01", "has-dash", &"a".repeat(25)] {
        let (s, b) = app.arm("PUT", &account_path(&sub, "rg", bad), API, Some(account_body())).await;
        let msg = arm_error(s, &b, StatusCode::BAD_REQUEST, "AccountNameInvalid");
        assert_eq!(
            msg,
            format!("{bad} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.")
        );
    }
    create_account(&app, "rg", "globalsa1", account_body()).await;
    let (s, b) = app.arm("PUT", &account_path(&sub, "rg2", "globalsa1"), API, Some(account_body())).await;
    let msg = arm_error(s, &b, StatusCode::CONFLICT, "StorageAccountAlreadyTaken");
    assert_eq!(msg, "The storage account named globalsa1 is already taken.");

    let check = format!("/subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability");
    let ask = |name: &str| json!({"name": name, "type": "Microsoft.Storage/storageAccounts"});
    let (s, r) = app.arm("POST", &check, API, Some(ask("globalsa1"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        r,
        json!({"nameAvailable": false, "reason": "AlreadyExists", "message": "The storage account named globalsa1 is already taken."})
    );
    let (_, r) = app.arm("POST", &check, API, Some(ask("freename1"))).await;
    assert_eq!(r, json!({"nameAvailable": true}));
    let (_, r) = app.arm("POST", &check, API, Some(ask("Bad_Name"))).await;
    assert_eq!((r["nameAvailable"].as_bool(), r["reason"].as_str()), (Some(false), Some("AccountNameInvalid")));
    let (s, r) = app.arm("POST", &check, API, Some(json!({"name": "x", "type": "Other"}))).await;
    arm_error(s, &r, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");

    // Another tenant's subscription cannot take it either.
    let (s, t) = app.graph("POST", "/mimic/tenants", Some(json!({}))).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (tenant_b, sub_b) = (t["tenantId"].as_str().unwrap().to_string(), t["subscriptionId"].as_str().unwrap().to_string());
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", t["servicePrincipal"]["clientId"].as_str().unwrap())
        .append_pair("client_secret", t["servicePrincipal"]["clientSecret"].as_str().unwrap())
        .append_pair("scope", ARM_SCOPE)
        .finish();
    let r = app
        .send(
            Surface::Login,
            "POST",
            &format!("/{tenant_b}/oauth2/v2.0/token"),
            None,
            Some("application/x-www-form-urlencoded"),
            Some(form.into_bytes()),
        )
        .await;
    let token_b = r.body["access_token"].as_str().unwrap().to_string();
    let r = app
        .arm_as(Some(&token_b), "PUT", &format!("/subscriptions/{sub_b}/resourceGroups/rgb"), RG_API, Some(json!({"location": "westus"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app.arm_as(Some(&token_b), "PUT", &account_path(&sub_b, "rgb", "globalsa1"), API, Some(account_body())).await;
    arm_error(r.status, &r.body, StatusCode::CONFLICT, "StorageAccountAlreadyTaken");
    let check_b = format!("/subscriptions/{sub_b}/providers/Microsoft.Storage/checkNameAvailability");
    let r = app.arm_as(Some(&token_b), "POST", &check_b, API, Some(ask("globalsa1"))).await;
    assert_eq!(r.body["reason"], "AlreadyExists");
    // The other tenant cannot poll this subscription's operations nor read the account.
    let r = app.arm_as(Some(&token_b), "GET", &account_path(&sub, "rg", "globalsa1"), API, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keys_are_listed_regenerated_and_sealed_at_rest() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let path = account_path(&app.subscription_id(), "rg", "keyssa1");
    let a = create_account(&app, "rg", "keyssa1", account_body()).await;
    let before = list_keys(&app, &path).await;
    assert_ne!(before[0], before[1]);
    assert_eq!(list_keys(&app, &path).await, before, "stable between calls");

    // Stored sealed: neither clear key appears in the store's document.
    let entry: AccountName = app.state.store.read(|tx| tx.get(STORAGE_NAME, "keyssa1")).unwrap().unwrap();
    let stored = app.state.store.read(|tx| tx.get(STORAGE_KEYS, &entry.instance.to_string())).unwrap().unwrap();
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains(&before[0]) && !text.contains(&before[1]), "keys are sealed");

    let (s, r) = app.arm("POST", &format!("{path}/regenerateKey"), API, Some(json!({"keyName": "key2"}))).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let after = list_keys(&app, &path).await;
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_eq!(r["keys"][1]["value"], after[1]);
    let (_, shown) = app.arm("GET", &path, API, None).await;
    assert_eq!(shown["properties"]["keyCreationTime"]["key1"], a["properties"]["keyCreationTime"]["key1"]);
    assert_ne!(shown["properties"]["keyCreationTime"]["key2"], a["properties"]["keyCreationTime"]["key2"]);

    let (s, r) = app.arm("POST", &format!("{path}/regenerateKey"), API, Some(json!({"keyName": "key3"}))).await;
    arm_error(s, &r, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");
    let (s, r) = app.arm("POST", &format!("{}/listKeys", account_path(&app.subscription_id(), "rg", "nosuchsa")), API, None).await;
    arm_error(s, &r, StatusCode::NOT_FOUND, "ResourceNotFound");
}

#[tokio::test]
async fn containers_and_the_blob_service_are_served_as_azure_does() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let path = account_path(&app.subscription_id(), "rg", "contsa1");
    create_account(&app, "rg", "contsa1", account_body()).await;
    let c1 = format!("{path}/blobServices/default/containers/c1-data");
    let (s, c) = app.arm("PUT", &c1, API, Some(json!({"properties": {"metadata": {"team": "x"}}}))).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["id"], c1);
    assert_eq!(
        (c["name"].as_str(), c["type"].as_str()),
        (Some("c1-data"), Some("Microsoft.Storage/storageAccounts/blobServices/containers"))
    );
    assert_eq!(c["properties"]["publicAccess"], "None");
    assert_eq!(c["properties"]["metadata"], json!({"team": "x"}));
    assert_eq!(c["properties"]["leaseState"], "Available");
    assert!(c["etag"].as_str().unwrap().starts_with("\"0x"), "{c}");
    assert_eq!(c["etag"], c["properties"]["etag"]);
    let (s, again) = app.arm("PUT", &c1, API, Some(json!({"properties": {}}))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["properties"]["metadata"], json!({}));
    let (s, p) = app.arm("PATCH", &c1, API, Some(json!({"properties": {"metadata": {"k": "v"}}}))).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["properties"]["metadata"], json!({"k": "v"}));
    let (s, got) = app.arm("GET", &c1, API, None).await;
    assert_eq!((s, &got), (StatusCode::OK, &p));

    // Names, public access, metadata.
    for (bad, msg) in [("ab", "length"), ("Upper", "invalid characters"), ("a--b", "invalid characters")] {
        let (s, b) = app.arm("PUT", &format!("{path}/blobServices/default/containers/{bad}"), API, Some(json!({}))).await;
        assert!(arm_error(s, &b, StatusCode::BAD_REQUEST, "ContainerOperationFailure").contains(msg), "{b}");
    }
    let c2 = format!("{path}/blobServices/default/containers/public");
    let (s, b) = app.arm("PUT", &c2, API, Some(json!({"properties": {"publicAccess": "Blob"}}))).await;
    arm_error(s, &b, StatusCode::CONFLICT, "PublicAccessNotPermitted");
    let (s, b) = app.arm("PUT", &c2, API, Some(json!({"properties": {"publicAccess": "Everyone"}}))).await;
    arm_error(s, &b, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");
    let (s, b) = app.arm("PUT", &c2, API, Some(json!({"properties": {"metadata": {"not-ident": "x"}}}))).await;
    arm_error(s, &b, StatusCode::BAD_REQUEST, "ContainerOperationFailure");
    let big: serde_json::Map<String, Value> = (0..100).map(|i| (format!("k{i}"), Value::from("v".repeat(100)))).collect();
    let (s, b) = app.arm("PUT", &c2, API, Some(json!({"properties": {"metadata": big}}))).await;
    arm_error(s, &b, StatusCode::BAD_REQUEST, "ContainerOperationFailure");
    let (s, b) = app.arm("PUT", &c2, API, Some(json!({"properties": "x"}))).await;
    arm_error(s, &b, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");
    let r = app
        .send(Surface::Arm, "PUT", &format!("{c2}?api-version={API}"), Some(&app.token_for_admin().await), None, Some(b"{".to_vec()))
        .await;
    arm_error(r.status, &r.body, StatusCode::BAD_REQUEST, "InvalidRequestContent");
    for bad in [
        json!({"properties": []}),
        json!({"properties": {"allowBlobPublicAccess": "yes"}}),
        json!({"properties": {"minimumTlsVersion": "TLS9"}}),
        json!({"identity": {"type": "SystemAssigned"}}),
    ] {
        let (s, b) = app.arm("PATCH", &path, API, Some(bad)).await;
        arm_error(s, &b, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");
    }
    let (s, _) = app.arm("PATCH", &path, API, Some(json!({"properties": {"allowBlobPublicAccess": true}}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app.arm("PUT", &c2, API, Some(json!({"properties": {"publicAccess": "Container"}}))).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let (s, l) = app.arm("GET", &format!("{path}/blobServices/default/containers"), API, None).await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let names: Vec<_> = l["value"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["c1-data", "public"]);

    // The blob service: Azure's defaults, then what is set.
    let svc = format!("{path}/blobServices/default");
    let (s, b) = app.arm("GET", &svc, API, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!((b["name"].as_str(), b["type"].as_str()), (Some("default"), Some("Microsoft.Storage/storageAccounts/blobServices")));
    assert_eq!(b["properties"]["deleteRetentionPolicy"]["enabled"], false);
    let (s, b) = app
        .arm(
            "PUT",
            &svc,
            API,
            Some(json!({"properties": {"isVersioningEnabled": true, "deleteRetentionPolicy": {"enabled": true, "days": 7}}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["properties"]["isVersioningEnabled"], true);
    assert_eq!(b["properties"]["cors"], json!({"corsRules": []}));
    let (_, l) = app.arm("GET", &format!("{path}/blobServices"), API, None).await;
    assert_eq!(l["value"][0]["properties"]["deleteRetentionPolicy"]["days"], 7);
    let (s, b) = app.arm("PUT", &svc, API, Some(json!({"properties": {"deleteRetentionPolicy": {"enabled": true, "days": 0}}}))).await;
    arm_error(s, &b, StatusCode::BAD_REQUEST, "InvalidValuesForRequestParameters");

    let (s, _) = app.arm("DELETE", &c1, API, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.arm("DELETE", &c1, API, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = app.arm("GET", &c1, API, None).await;
    arm_error(s, &b, StatusCode::NOT_FOUND, "ContainerNotFound");
    let (s, b) = app.arm("PATCH", &c1, API, Some(json!({"properties": {}}))).await;
    arm_error(s, &b, StatusCode::NOT_FOUND, "ContainerNotFound");
    let none = account_path(&app.subscription_id(), "rg", "nosuchsa");
    let (s, b) = app.arm("PUT", &format!("{none}/blobServices/default/containers/abc"), API, Some(json!({}))).await;
    arm_error(s, &b, StatusCode::NOT_FOUND, "ResourceNotFound");
}

#[tokio::test]
async fn a_principal_without_a_role_is_refused_and_a_reader_reads_only() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let path = account_path(&app.subscription_id(), "rg", "rbacsa1");
    create_account(&app, "rg", "rbacsa1", account_body()).await;
    let sp = app.create_service_principal("storage-nobody").await;
    let token = app.token(&sp.app_id, &sp.secret, ARM_SCOPE).await;
    let c = format!("{path}/blobServices/default/containers/c01");
    for (method, p, action) in [
        ("GET", path.clone(), "Microsoft.Storage/storageAccounts/read"),
        ("PUT", path.clone(), "Microsoft.Storage/storageAccounts/write"),
        ("DELETE", path.clone(), "Microsoft.Storage/storageAccounts/delete"),
        ("POST", format!("{path}/listKeys"), "Microsoft.Storage/storageAccounts/listKeys/action"),
        ("PUT", c.clone(), "Microsoft.Storage/storageAccounts/blobServices/containers/write"),
        ("DELETE", c.clone(), "Microsoft.Storage/storageAccounts/blobServices/containers/delete"),
    ] {
        let r = app.arm_as(Some(&token), method, &p, API, Some(account_body())).await;
        let msg = arm_error(r.status, &r.body, StatusCode::FORBIDDEN, "AuthorizationFailed");
        assert!(msg.contains(action), "{method} {p}: {msg}");
    }
    app.assign_role(&sp.object_id, READER, &app.rg_path("rg")).await;
    let token = app.token(&sp.app_id, &sp.secret, ARM_SCOPE).await;
    let r = app.arm_as(Some(&token), "GET", &path, API, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.arm_as(Some(&token), "POST", &format!("{path}/listKeys"), API, None).await;
    arm_error(r.status, &r.body, StatusCode::FORBIDDEN, "AuthorizationFailed");
}

#[tokio::test]
async fn deleting_the_resource_group_deletes_the_accounts_data() {
    let app = TestApp::new();
    app.create_rg("rgdel").await;
    let path = account_path(&app.subscription_id(), "rgdel", "rgdelsa1");
    create_account(&app, "rgdel", "rgdelsa1", account_body()).await;
    let (s, _) = app.arm("PUT", &format!("{path}/blobServices/default/containers/c01"), API, Some(json!({}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let entry: AccountName = app.state.store.read(|tx| tx.get(STORAGE_NAME, "rgdelsa1")).unwrap().unwrap();
    let (s, _) = app.arm("DELETE", &app.rg_path("rgdel"), RG_API, None).await;
    assert!(s == StatusCode::OK || s == StatusCode::ACCEPTED, "{s}");
    let (name, keys) = app
        .state
        .store
        .read(|tx| {
            Ok::<_, mimic_store::StoreError>((tx.get(STORAGE_NAME, "rgdelsa1")?, tx.get(STORAGE_KEYS, &entry.instance.to_string())?))
        })
        .unwrap();
    assert!(name.is_none() && keys.is_none(), "name and keys gone with the group");
    // The name can be used again, by a new instance.
    app.create_rg("rgnew").await;
    create_account(&app, "rgnew", "rgdelsa1", account_body()).await;
    let again: AccountName = app.state.store.read(|tx| tx.get(STORAGE_NAME, "rgdelsa1")).unwrap().unwrap();
    assert_ne!(again.instance, entry.instance);
    let (s, b) = app
        .arm("GET", &format!("{}/blobServices/default/containers", account_path(&app.subscription_id(), "rgnew", "rgdelsa1")), API, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["value"], json!([]));
}

#[tokio::test]
async fn a_template_deploys_an_account_and_a_container() {
    let app = TestApp::new();
    app.create_rg("rgt").await;
    let template = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "tmplsa1", "location": "westus",
             "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {"allowSharedKeyAccess": true}},
            {"type": "Microsoft.Storage/storageAccounts/blobServices/containers", "apiVersion": "2023-01-01", "name": "tmplsa1/default/c01",
             "dependsOn": ["[resourceId('Microsoft.Storage/storageAccounts', 'tmplsa1')]"], "properties": {"publicAccess": "None"}}
        ],
        "outputs": {"blob": {"type": "string", "value": "[reference(resourceId('Microsoft.Storage/storageAccounts', 'tmplsa1'), '2023-01-01').primaryEndpoints.blob]"}}
    });
    let d = format!("{}/providers/Microsoft.Resources/deployments/st1", app.rg_path("rgt"));
    let (s, b) = app.arm("PUT", &d, "2021-04-01", Some(json!({"properties": {"mode": "Incremental", "template": template}}))).await;
    assert!(s.is_success(), "{s} {b}");
    let mut state = Value::Null;
    for _ in 0..100 {
        let (_, b) = app.arm("GET", &d, "2021-04-01", None).await;
        state = b;
        if !matches!(state["properties"]["provisioningState"].as_str(), Some("Accepted" | "Running")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state["properties"]["provisioningState"], "Succeeded", "{state}");
    assert_eq!(state["properties"]["outputs"]["blob"]["value"], "https://tmplsa1.blob.core.windows.net/");
    let path = account_path(&app.subscription_id(), "rgt", "tmplsa1");
    let (s, c) = app.arm("GET", &format!("{path}/blobServices/default/containers/c01"), API, None).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    list_keys(&app, &path).await;
    // Registered: the provider lists its types with their versions.
    let (s, p) = app.arm("GET", &format!("/subscriptions/{}/providers/Microsoft.Storage", app.subscription_id()), RG_API, None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let types: Vec<_> = p["resourceTypes"].as_array().unwrap().iter().map(|t| t["resourceType"].as_str().unwrap().to_string()).collect();
    assert!(types.contains(&"storageAccounts/blobServices/containers".to_string()), "{types:?}");
}

#[tokio::test]
async fn containers_the_blob_service_made_are_served_by_arm() {
    let app = TestApp::new();
    app.create_rg("rg").await;
    let path = account_path(&app.subscription_id(), "rg", "dataplanesa1");
    create_account(&app, "rg", "dataplanesa1", account_body()).await;
    // What the Blob service's Create Container does, through the same helpers.
    app.state
        .store
        .write(|tx| {
            let a = mimic_server::storage_accounts::find(tx, "dataplanesa1")?.expect("account");
            let mut meta = serde_json::Map::new();
            meta.insert("from".into(), "blob".into());
            tx.put_resource(&mimic_server::storage_accounts::new_container(&a, "made-by-blob", "None", meta, chrono::Utc::now()))
        })
        .unwrap();
    let (s, l) = app.arm("GET", &format!("{path}/blobServices/default/containers"), API, None).await;
    assert_eq!(s, StatusCode::OK, "{l}");
    assert_eq!(l["value"][0]["name"], "made-by-blob");
    let (s, c) = app.arm("GET", &format!("{path}/blobServices/default/containers/made-by-blob"), API, None).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["properties"]["metadata"], json!({"from": "blob"}));
    let (s, _) = app.arm("DELETE", &format!("{path}/blobServices/default/containers/made-by-blob"), API, None).await;
    assert_eq!(s, StatusCode::OK);
}
