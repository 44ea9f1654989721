//! Key Vault keys through an in-process Mimic: create RSA and EC keys, read their public JSON
//! Web Keys, sign and verify digests, encrypt/decrypt and wrap/unwrap, the `key_ops` and RBAC
//! checks, soft delete; and backup/restore of secrets and keys (docs/azure-behaviour.md §14).

mod support;

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{Surface, TestApp, TestResponse};

const VAULT_SCOPE: &str = "https://vault.azure.net/.default";
const CRYPTO_OFFICER: &str = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
const CRYPTO_USER: &str = "12338af0-0e69-4776-bea7-57ae8d297424";
const SECRETS_OFFICER: &str = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

async fn make_vault(app: &TestApp, name: &str) -> String {
    app.make_vault("rg", name, json!({"enableRbacAuthorization": true})).await
}

async fn kv(app: &TestApp, token: &str, method: &str, vault: &str, path: &str, body: Option<Value>) -> TestResponse {
    let uri = format!("https://{vault}.vault.azure.net{path}?api-version=7.5");
    app.send(Surface::KeyVault, method, &uri, Some(token), None, body.map(|b| serde_json::to_vec(&b).unwrap())).await
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn assert_error(r: &TestResponse, status: StatusCode, code: &str, inner: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{}", r.body);
    if let Some(inner) = inner {
        assert_eq!(r.body["error"]["innererror"]["code"], inner, "{}", r.body);
    }
}

#[tokio::test]
async fn keys_are_made_used_and_refused_as_key_vault_does() {
    let app = TestApp::new();
    let vault = make_vault(&app, "kvkeys").await;
    let sp = app.create_service_principal("kv-keys").await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/create", Some(json!({"kty": "RSA"}))).await;
    assert_error(&r, StatusCode::FORBIDDEN, "Forbidden", Some("ForbiddenByRbac"));

    let officer = app.assign_role(&sp.object_id, CRYPTO_OFFICER, &vault).await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/create", Some(json!({"kty": "RSA", "key_size": 2048, "tags": {"a": "b"}}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let jwk = &r.body["key"];
    assert!(jwk["kid"].as_str().unwrap().starts_with("https://kvkeys.vault.azure.net/keys/k1/"), "{jwk}");
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap().len(), 256);
    assert!(jwk.get("d").is_none(), "the private key never leaves");
    assert_eq!(jwk["key_ops"].as_array().unwrap().len(), 6);
    assert_eq!(r.body["tags"]["a"], "b");

    // Sign a digest, verify it, and a tampered one fails verification (not the request).
    let digest = Sha256::digest(b"hello").to_vec();
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/sign", Some(json!({"alg": "RS256", "value": b64(&digest)}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sig = r.body["value"].as_str().unwrap().to_string();
    let r =
        kv(&app, &token, "POST", "kvkeys", "/keys/k1/verify", Some(json!({"alg": "RS256", "digest": b64(&digest), "value": sig}))).await;
    assert_eq!(r.body["value"], true, "{}", r.body);
    let other = b64(&Sha256::digest(b"other"));
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/verify", Some(json!({"alg": "RS256", "digest": other, "value": sig}))).await;
    assert_eq!(r.body["value"], false, "{}", r.body);
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/sign", Some(json!({"alg": "ES256", "value": b64(&digest)}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "BadParameter", None);

    // Wrap and unwrap a content key, by the version the kid names.
    let kid = kv(&app, &token, "GET", "kvkeys", "/keys/k1", None).await.body["key"]["kid"].as_str().unwrap().to_string();
    let version = kid.rsplit('/').next().unwrap();
    let cek = [7u8; 32];
    let r = kv(
        &app,
        &token,
        "POST",
        "kvkeys",
        &format!("/keys/k1/{version}/wrapkey"),
        Some(json!({"alg": "RSA-OAEP-256", "value": b64(&cek)})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["kid"], kid);
    let wrapped = r.body["value"].clone();
    let r = kv(
        &app,
        &token,
        "POST",
        "kvkeys",
        &format!("/keys/k1/{version}/unwrapkey"),
        Some(json!({"alg": "RSA-OAEP-256", "value": wrapped})),
    )
    .await;
    assert_eq!(r.body["value"], b64(&cek), "{}", r.body);

    // key_ops limit what a key does.
    let r = kv(&app, &token, "PATCH", "kvkeys", "/keys/k1", Some(json!({"key_ops": ["sign", "verify"]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/encrypt", Some(json!({"alg": "RSA-OAEP", "value": b64(b"x")}))).await;
    assert_error(&r, StatusCode::FORBIDDEN, "Forbidden", Some("KeyOperationForbidden"));

    // EC keys on P-256 and P-384, each with its own algorithm.
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/ec1/create", Some(json!({"kty": "EC", "crv": "P-384"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["key"]["crv"], "P-384");
    assert_eq!(URL_SAFE_NO_PAD.decode(r.body["key"]["x"].as_str().unwrap()).unwrap().len(), 48);
    let d384 = sha2::Sha384::digest(b"hello").to_vec();
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/ec1/sign", Some(json!({"alg": "ES384", "value": b64(&d384)}))).await;
    assert_eq!(URL_SAFE_NO_PAD.decode(r.body["value"].as_str().unwrap()).unwrap().len(), 96, "{}", r.body);
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/ec2/create", Some(json!({"kty": "EC-HSM"}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "BadParameter", None);
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/rsa1/create", Some(json!({"kty": "RSA", "key_size": 1024}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "BadParameter", None);
    let r = kv(&app, &token, "GET", "kvkeys", "/keys", None).await;
    let items = r.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", r.body);
    assert!(items.iter().all(|i| i.get("key").is_none() && i["kid"].as_str().unwrap().matches('/').count() == 4));

    // Crypto User uses keys but cannot make or delete them.
    app.arm("DELETE", &officer, "2022-04-01", None).await;
    app.assign_role(&sp.object_id, CRYPTO_USER, &vault).await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k1/sign", Some(json!({"alg": "PS256", "value": b64(&digest)}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = kv(&app, &token, "POST", "kvkeys", "/keys/k2/create", Some(json!({"kty": "RSA"}))).await;
    assert_error(&r, StatusCode::FORBIDDEN, "Forbidden", Some("ForbiddenByRbac"));
    assert_error(&kv(&app, &token, "DELETE", "kvkeys", "/keys/k1", None).await, StatusCode::FORBIDDEN, "Forbidden", None);
}

#[tokio::test]
async fn backups_restore_secrets_and_keys_under_their_names_and_only_into_free_names() {
    let app = TestApp::new();
    let vault = make_vault(&app, "kvbackup").await;
    let sp = app.create_service_principal("kv-backup").await;
    app.assign_role(&sp.object_id, SECRETS_OFFICER, &vault).await;
    app.assign_role(&sp.object_id, CRYPTO_OFFICER, &vault).await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    kv(&app, &token, "PUT", "kvbackup", "/secrets/s1", Some(json!({"value": "one"}))).await;
    kv(&app, &token, "PUT", "kvbackup", "/secrets/s1", Some(json!({"value": "two"}))).await;
    let r = kv(&app, &token, "POST", "kvbackup", "/secrets/s1/backup", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let blob = r.body["value"].as_str().unwrap().to_string();
    assert!(!blob.contains("one") && !String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(&blob).unwrap()).contains("two"), "sealed");
    let r = kv(&app, &token, "POST", "kvbackup", "/secrets/restore", Some(json!({"value": blob}))).await;
    assert_error(&r, StatusCode::CONFLICT, "Conflict", None);
    kv(&app, &token, "DELETE", "kvbackup", "/secrets/s1", None).await;
    assert_eq!(kv(&app, &token, "DELETE", "kvbackup", "/deletedsecrets/s1", None).await.status, StatusCode::NO_CONTENT);
    let r = kv(&app, &token, "POST", "kvbackup", "/secrets/restore", Some(json!({"value": blob}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(kv(&app, &token, "GET", "kvbackup", "/secrets/s1", None).await.body["value"], "two");
    assert_eq!(kv(&app, &token, "GET", "kvbackup", "/secrets/s1/versions", None).await.body["value"].as_array().unwrap().len(), 2);
    // A blob altered, or of the other family, does not restore.
    let mut bytes = URL_SAFE_NO_PAD.decode(&blob).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 1;
    let r = kv(&app, &token, "POST", "kvbackup", "/secrets/restore", Some(json!({"value": b64(&bytes)}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "BadParameter", None);
    let r = kv(&app, &token, "POST", "kvbackup", "/keys/restore", Some(json!({"value": blob}))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "BadParameter", None);

    // A key's backup brings back the same key: a signature made before verifies after.
    let r = kv(&app, &token, "POST", "kvbackup", "/keys/k1/create", Some(json!({"kty": "EC"}))).await;
    let x = r.body["key"]["x"].clone();
    let blob = kv(&app, &token, "POST", "kvbackup", "/keys/k1/backup", None).await.body["value"].clone();
    let digest = b64(&Sha256::digest(b"m"));
    let sig =
        kv(&app, &token, "POST", "kvbackup", "/keys/k1/sign", Some(json!({"alg": "ES256", "value": digest}))).await.body["value"].clone();
    kv(&app, &token, "DELETE", "kvbackup", "/keys/k1", None).await;
    assert_eq!(kv(&app, &token, "GET", "kvbackup", "/deletedkeys/k1", None).await.status, StatusCode::OK);
    assert_error(&kv(&app, &token, "GET", "kvbackup", "/keys/k1", None).await, StatusCode::NOT_FOUND, "KeyNotFound", None);
    assert_eq!(kv(&app, &token, "DELETE", "kvbackup", "/deletedkeys/k1", None).await.status, StatusCode::NO_CONTENT);
    let r = kv(&app, &token, "POST", "kvbackup", "/keys/restore", Some(json!({"value": blob}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["key"]["x"], x);
    let r = kv(&app, &token, "POST", "kvbackup", "/keys/k1/verify", Some(json!({"alg": "ES256", "digest": digest, "value": sig}))).await;
    assert_eq!(r.body["value"], true, "{}", r.body);
}

#[tokio::test]
async fn custom_roles_grant_their_data_actions_minus_their_not_data_actions() {
    let app = TestApp::new();
    let vault = make_vault(&app, "kvcustom").await;
    let sub = format!("/subscriptions/{}", app.boot.subscription_id);
    let role = uuid::Uuid::new_v4();
    let path = format!("{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}");
    let body = |name: &str, scopes: Value| {
        json!({"name": role, "properties": {"roleName": name, "type": "CustomRole", "description": "secrets but not purge",
            "permissions": [{"actions": [], "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                             "notDataActions": ["Microsoft.KeyVault/vaults/secrets/purge/action"]}],
            "assignableScopes": scopes}})
    };
    let (s, r) = app.arm("PUT", &path, "2022-04-01", Some(body("Reader", json!([sub])))).await;
    assert_eq!((s, r["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("RoleDefinitionWithSameNameExists")), "{r}");
    let (s, r) = app.arm("PUT", &path, "2022-04-01", Some(body("Secrets but not purge", json!(["/"])))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{r}");
    let (s, r) = app.arm("PUT", &path, "2022-04-01", Some(body("Secrets but not purge", json!([sub])))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["properties"]["type"], "CustomRole");
    let (s, r) = app
        .arm(
            "GET",
            &format!("{sub}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20'Secrets%20but%20not%20purge'"),
            "2022-04-01",
            None,
        )
        .await;
    assert_eq!((s, r["value"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{r}");

    let sp = app.create_service_principal("kv-custom").await;
    let assignment = app.assign_role(&sp.object_id, &role.to_string(), &vault).await;
    let token = app.token(&sp.app_id, &sp.secret, VAULT_SCOPE).await;
    assert_eq!(kv(&app, &token, "PUT", "kvcustom", "/secrets/s", Some(json!({"value": "v"}))).await.status, StatusCode::OK);
    assert_eq!(kv(&app, &token, "GET", "kvcustom", "/secrets/s", None).await.body["value"], "v");
    assert_eq!(kv(&app, &token, "DELETE", "kvcustom", "/secrets/s", None).await.status, StatusCode::OK);
    let r = kv(&app, &token, "DELETE", "kvcustom", "/deletedsecrets/s", None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "Forbidden", Some("ForbiddenByRbac"));
    let r = kv(&app, &token, "POST", "kvcustom", "/keys/k/create", Some(json!({"kty": "EC"}))).await;
    assert_error(&r, StatusCode::FORBIDDEN, "Forbidden", Some("ForbiddenByRbac"));

    // In use, it cannot be deleted; once unassigned, it can, and grants nothing more.
    let (s, r) = app.arm("DELETE", &path, "2022-04-01", None).await;
    assert_eq!((s, r["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("RoleDefinitionHasAssignments")), "{r}");
    app.arm("DELETE", &assignment, "2022-04-01", None).await;
    let (s, _) = app.arm("DELETE", &path, "2022-04-01", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.arm("GET", &path, "2022-04-01", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
