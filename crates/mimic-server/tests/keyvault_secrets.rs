//! Key Vault's data plane through an in-process Mimic: Key Vault's challenge and token checks,
//! Azure RBAC data actions and access policies, and the secret lifecycle (set, get, versions,
//! list, update, soft delete, recover, purge), as docs/azure-behaviour.md's Key Vault section
//! describes them.

mod support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use support::{Surface, TestApp, TestResponse};

const KV_API: &str = "7.5";
const VAULT_SCOPE: &str = "https://vault.azure.net/.default";
const SECRETS_OFFICER: &str = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

/// A vault made through ARM (which names it in the global index the data plane finds it by).
async fn make_vault(app: &TestApp, rg: &str, name: &str, properties: Value) -> String {
    app.make_vault(rg, name, properties).await
}

async fn kv(app: &TestApp, token: Option<&str>, method: &str, vault: &str, path: &str, body: Option<Value>) -> TestResponse {
    let uri = format!("https://{vault}.vault.azure.net{path}?api-version={KV_API}");
    app.send(Surface::KeyVault, method, &uri, token, None, body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

fn kv_error(r: &TestResponse, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{}", r.body);
    r.body["error"].clone()
}

#[tokio::test]
async fn challenge_and_token_checks() {
    let app = TestApp::new();
    make_vault(&app, "rg", "kvchallenge", json!({"enableRbacAuthorization": true})).await;
    let r = kv(&app, None, "GET", "kvchallenge", "/secrets/a/", None).await;
    kv_error(&r, StatusCode::UNAUTHORIZED, "Unauthorized");
    let challenge = r.header("www-authenticate").expect("challenge");
    assert!(challenge.contains(&format!("authorization=\"https://login.mimic.test/{}\"", app.tenant_id())), "{challenge}");
    assert!(challenge.contains("resource=\"https://vault.azure.net\""), "{challenge}");
    // An ARM token is not a Key Vault token.
    let arm = app.token_for_admin().await;
    let r = kv(&app, Some(&arm), "GET", "kvchallenge", "/secrets/a/", None).await;
    let e = kv_error(&r, StatusCode::UNAUTHORIZED, "Unauthorized");
    assert!(e["message"].as_str().unwrap().contains("AKV10022"), "{e}");
    let r = kv(&app, Some("not.a.token"), "GET", "kvchallenge", "/secrets/a/", None).await;
    kv_error(&r, StatusCode::UNAUTHORIZED, "Unauthorized");
}

#[tokio::test]
async fn rbac_vault_refuses_until_a_data_role_is_assigned() {
    let app = TestApp::new();
    let vault = make_vault(&app, "rg", "kvrbac", json!({"enableRbacAuthorization": true})).await;
    let sp = app.create_service_principal("kv-client").await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    // Owner of the subscription is a management role: no data access either.
    let boot = &app.boot.service_principal;
    let admin = app.token(&boot.client_id.to_string(), &boot.client_secret, VAULT_SCOPE).await;
    let r = kv(&app, Some(&admin), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "s3cret"}))).await;
    let e = kv_error(&r, StatusCode::FORBIDDEN, "Forbidden");
    assert_eq!(e["innererror"]["code"], "ForbiddenByRbac");

    let r = kv(&app, Some(&token), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "s3cret"}))).await;
    let e = kv_error(&r, StatusCode::FORBIDDEN, "Forbidden");
    assert_eq!(e["innererror"]["code"], "ForbiddenByRbac");
    assert!(e["message"].as_str().unwrap().contains("Microsoft.KeyVault/vaults/secrets/setSecret/action"), "{e}");

    let officer = app.assign_role(&sp.object_id, SECRETS_OFFICER, &vault).await;
    let r = kv(&app, Some(&token), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "s3cret", "contentType": "text/plain"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["value"], "s3cret");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("https://kvrbac.vault.azure.net/secrets/db-password/"), "{id}");
    assert_eq!(r.body["attributes"]["enabled"], true);
    assert_eq!(r.body["attributes"]["recoveryLevel"], "Recoverable+Purgeable");

    let r = kv(&app, Some(&token), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "v2"}))).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = kv(&app, Some(&token), "GET", "kvrbac", "/secrets/DB-PASSWORD/", None).await;
    assert_eq!(r.body["value"], "v2", "the current version, names compare case-insensitively");
    let first = id.rsplit('/').next().unwrap();
    let r = kv(&app, Some(&token), "GET", "kvrbac", &format!("/secrets/db-password/{first}"), None).await;
    assert_eq!(r.body["value"], "s3cret");
    let r = kv(&app, Some(&token), "GET", "kvrbac", "/secrets/db-password/versions", None).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = kv(&app, Some(&token), "GET", "kvrbac", "/secrets", None).await;
    let items = r.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], "https://kvrbac.vault.azure.net/secrets/db-password");
    assert!(items[0].get("value").is_none(), "lists carry no values");

    // Disabled: metadata stays readable, the value is refused.
    let r = kv(
        &app,
        Some(&token),
        "PATCH",
        "kvrbac",
        "/secrets/db-password/",
        Some(json!({"attributes": {"enabled": false}, "tags": {"a": "b"}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["tags"]["a"], "b");
    let r = kv(&app, Some(&token), "GET", "kvrbac", "/secrets/db-password", None).await;
    assert_eq!(kv_error(&r, StatusCode::FORBIDDEN, "Forbidden")["innererror"]["code"], "SecretDisabled");
    kv(&app, Some(&token), "PATCH", "kvrbac", "/secrets/db-password", Some(json!({"attributes": {"enabled": true}}))).await;

    // Soft delete, recover, delete again, purge.
    let r = kv(&app, Some(&token), "DELETE", "kvrbac", "/secrets/db-password", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["recoveryId"], "https://kvrbac.vault.azure.net/deletedsecrets/db-password");
    kv_error(&kv(&app, Some(&token), "GET", "kvrbac", "/secrets/db-password", None).await, StatusCode::NOT_FOUND, "SecretNotFound");
    let r = kv(&app, Some(&token), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "x"}))).await;
    assert_eq!(kv_error(&r, StatusCode::CONFLICT, "Conflict")["innererror"]["code"], "ObjectIsDeletedButRecoverable");
    assert_eq!(kv(&app, Some(&token), "GET", "kvrbac", "/deletedsecrets/db-password", None).await.status, StatusCode::OK);
    assert_eq!(kv(&app, Some(&token), "GET", "kvrbac", "/deletedsecrets", None).await.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(kv(&app, Some(&token), "POST", "kvrbac", "/deletedsecrets/db-password/recover", None).await.status, StatusCode::OK);
    assert_eq!(kv(&app, Some(&token), "GET", "kvrbac", "/secrets/db-password", None).await.body["value"], "v2");
    kv(&app, Some(&token), "DELETE", "kvrbac", "/secrets/db-password", None).await;
    assert_eq!(kv(&app, Some(&token), "DELETE", "kvrbac", "/deletedsecrets/db-password", None).await.status, StatusCode::NO_CONTENT);
    kv_error(&kv(&app, Some(&token), "GET", "kvrbac", "/deletedsecrets/db-password", None).await, StatusCode::NOT_FOUND, "SecretNotFound");
    assert_eq!(
        kv(&app, Some(&token), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "fresh"}))).await.status,
        StatusCode::OK
    );

    // Secrets User reads values but cannot set; without the assignment, nothing.
    let (s, _) = app.arm("DELETE", &officer, "2022-04-01", None).await;
    assert!(s.is_success());
    app.assign_role(&sp.object_id, SECRETS_USER, &format!("{vault}/secrets/db-password")).await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    assert_eq!(kv(&app, Some(&token), "GET", "kvrbac", "/secrets/db-password", None).await.body["value"], "fresh");
    let r = kv(&app, Some(&token), "PUT", "kvrbac", "/secrets/db-password", Some(json!({"value": "no"}))).await;
    kv_error(&r, StatusCode::FORBIDDEN, "Forbidden");
    kv_error(&kv(&app, Some(&token), "GET", "kvrbac", "/secrets/other", None).await, StatusCode::FORBIDDEN, "Forbidden");
}

#[tokio::test]
async fn access_policy_vault_grants_what_the_policy_lists() {
    let app = TestApp::new();
    let sp = app.create_service_principal("kv-policy").await;
    let policy = json!([{"tenantId": app.tenant_id(), "objectId": sp.object_id, "permissions": {"secrets": ["Get", "List", "Set"]}}]);
    make_vault(&app, "rg", "kvpolicy", json!({"enableRbacAuthorization": false, "accessPolicies": policy})).await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    assert_eq!(kv(&app, Some(&token), "PUT", "kvpolicy", "/secrets/a", Some(json!({"value": "1"}))).await.status, StatusCode::OK);
    assert_eq!(kv(&app, Some(&token), "GET", "kvpolicy", "/secrets/a", None).await.body["value"], "1");
    let r = kv(&app, Some(&token), "DELETE", "kvpolicy", "/secrets/a", None).await;
    let e = kv_error(&r, StatusCode::FORBIDDEN, "Forbidden");
    assert_eq!(e["innererror"]["code"], "AccessDenied");
    assert!(e["message"].as_str().unwrap().contains("does not have secrets delete permission"), "{e}");
    // Bad names and bodies are Key Vault's 400s.
    kv_error(
        &kv(&app, Some(&token), "PUT", "kvpolicy", "/secrets/a_b", Some(json!({"value": "1"}))).await,
        StatusCode::BAD_REQUEST,
        "BadParameter",
    );
    kv_error(
        &kv(&app, Some(&token), "PUT", "kvpolicy", "/secrets/b", Some(json!({"contentType": "x"}))).await,
        StatusCode::BAD_REQUEST,
        "BadParameter",
    );
    // Bounded: Key Vault's tag and value limits.
    let many: serde_json::Map<String, Value> = (0..16).map(|i| (format!("t{i}"), json!("v"))).collect();
    let r = kv(&app, Some(&token), "PUT", "kvpolicy", "/secrets/b", Some(json!({"value": "1", "tags": many}))).await;
    kv_error(&r, StatusCode::BAD_REQUEST, "BadParameter");
    let r = kv(&app, Some(&token), "PUT", "kvpolicy", "/secrets/b", Some(json!({"value": "x".repeat(25 * 1024 + 1)}))).await;
    kv_error(&r, StatusCode::BAD_REQUEST, "BadParameter");
    kv_error(&kv(&app, Some(&token), "GET", "nosuchvault", "/secrets/b", None).await, StatusCode::NOT_FOUND, "VaultNotFound");
}
