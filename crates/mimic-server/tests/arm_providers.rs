//! ARM providers' rules through an in-process Mimic (`support::TestApp`). The expectations are
//! the ones the real-client suites assert (tests/test_foundation.py, tests/test_vm_identity.py),
//! with their sources there; these run without a `mimic serve` subprocess.

mod support;

use axum::http::StatusCode;
use serde_json::{json, Value};
use support::{arm_error, Surface, TestApp, RG_API};

const VM_API: &str = "2024-11-01";
const MSI_API: &str = "2024-11-30";
const NET_API: &str = "2022-01-01";

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const VM_CONTRIBUTOR: &str = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c";
const MI_OPERATOR: &str = "f1a07417-d97a-45cb-824c-7a7467783830";
const ASSIGN_ACTION: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";

fn is_guid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

/// A user-assigned identity's id as seeds and az write it (lower-case `resourcegroups`).
fn uai_id(app: &TestApp, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        app.subscription_id()
    )
}

fn vm_id(app: &TestApp, rg: &str, name: &str) -> String {
    format!("{}/providers/Microsoft.Compute/virtualMachines/{name}", app.rg_path(rg))
}

async fn make_uai(app: &TestApp, rg: &str, name: &str) -> Value {
    let (s, body) = app.arm("PUT", &uai_id(app, rg, name), MSI_API, Some(json!({"location": "westus"}))).await;
    assert!(s == StatusCode::CREATED || s == StatusCode::OK, "{s} {body}");
    body
}

/// A NIC (Azure needs one for a VM) and the REST seed's VM body on it (seed 004).
async fn make_vm(app: &TestApp, rg: &str, name: &str) -> Value {
    let nic = format!("{}/providers/Microsoft.Network/networkInterfaces/{name}-nic", app.rg_path(rg));
    let nic_body = json!({"location": "westus", "properties": {
        "ipConfigurations": [{"name": "ipconfig1", "properties": {"privateIPAllocationMethod": "Dynamic"}}]}});
    let (s, body) = app.arm("PUT", &nic, NET_API, Some(nic_body)).await;
    assert!(s == StatusCode::CREATED || s == StatusCode::OK, "NIC: {s} {body}");
    let vm = json!({
        "location": "westus", "name": name,
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2_v2"},
            "storageProfile": {
                "imageReference": {"sku": "2016-Datacenter", "publisher": "MicrosoftWindowsServer", "version": "latest", "offer": "WindowsServer"},
                "osDisk": {"caching": "ReadWrite", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}, "name": format!("{name}osdisk"), "createOption": "FromImage"},
            },
            "osProfile": {"adminUsername": "azureuser", "computerName": name, "adminPassword": "myPassword12"},
            "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"primary": true}}]},
        },
    });
    let (s, body) = app.arm("PUT", &vm_id(app, rg, name), VM_API, Some(vm)).await;
    assert_eq!(s, StatusCode::CREATED, "VM: {body}");
    body
}

/// The message ARM gives a caller without the action (docs/azure-behaviour.md §3; an application is named by
/// its object id).
fn authorization_failed(object_id: &str, action: &str, scope: &str) -> String {
    format!(
        "The client '{object_id}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope \
         '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
    )
}

#[tokio::test]
async fn resource_group_put_get_delete() {
    let app = TestApp::new();
    let path = app.rg_path("rg-crud");
    let (s, created) = app.arm("PUT", &path, RG_API, Some(json!({"location": "West US", "tags": {"a": "b"}}))).await;
    assert_eq!(s, StatusCode::CREATED, "201 when created: {created}");
    assert_eq!(created["name"], "rg-crud");
    assert_eq!(created["id"], path);
    assert_eq!(created["location"], "westus");
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    let (s, again) = app.arm("PUT", &path, RG_API, Some(json!({"location": "westus"}))).await;
    assert_eq!(s, StatusCode::OK, "200 when updated: {again}");

    let (s, read) = app.arm("GET", &path, RG_API, None).await;
    assert_eq!(s, StatusCode::OK, "{read}");
    assert_eq!(read["name"], "rg-crud");

    // ResourceGroups_Delete is a long-running operation: 202 with a Location to poll.
    let r = app.arm_as(Some(&app.token_for_admin().await), "DELETE", &path, RG_API, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let location = r.header("location").expect("Location").to_string();
    let poll = location.strip_prefix(&app.state.endpoints.arm).unwrap_or_else(|| panic!("Location on the ARM endpoint: {location}"));
    let token = app.token_for_admin().await;
    let mut done = false;
    for _ in 0..600 {
        let p = app.arm_as(Some(&token), "GET", poll, "", None).await;
        if p.status == StatusCode::OK || p.status == StatusCode::NO_CONTENT {
            done = true;
            break;
        }
        assert_eq!(p.status, StatusCode::ACCEPTED, "{}", p.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done, "the group delete finished");

    let (s, gone) = app.arm("GET", &path, RG_API, None).await;
    let msg = arm_error(s, &gone, StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    assert_eq!(msg, "Resource group 'rg-crud' could not be found.");
}

#[tokio::test]
async fn resource_group_names_and_api_versions() {
    let app = TestApp::new();
    for name in ["ends-with-dot.", "has%20space", "bang!"] {
        let (s, body) = app.arm("PUT", &app.rg_path(name), RG_API, Some(json!({"location": "westus"}))).await;
        arm_error(s, &body, StatusCode::BAD_REQUEST, "InvalidResourceGroup");
    }
    let long = "a".repeat(91);
    let (s, body) = app.arm("PUT", &app.rg_path(&long), RG_API, Some(json!({"location": "westus"}))).await;
    let msg = arm_error(s, &body, StatusCode::BAD_REQUEST, "InvalidResourceGroup");
    assert!(msg.starts_with(&format!("The provided resource group name '{long}' ")), "{msg}");
    let ninety = "b".repeat(90);
    let (s, body) = app.arm("PUT", &app.rg_path(&ninety), RG_API, Some(json!({"location": "westus"}))).await;
    assert_eq!(s, StatusCode::CREATED, "90 characters are fine: {body}");

    // A Microsoft.Resources api-version that does not exist (Azure/azure-rest-api-specs#11711).
    let groups = format!("/subscriptions/{}/resourcegroups", app.subscription_id());
    let (s, body) = app.arm("GET", &groups, "1999-01-01", None).await;
    let msg = arm_error(s, &body, StatusCode::BAD_REQUEST, "InvalidApiVersionParameter");
    assert!(msg.starts_with("The api-version '1999-01-01' is invalid. The supported versions are '"), "{msg}");
    assert!(msg.contains("2021-04-01"), "{msg}");

    let (s, body) = app.arm("GET", &groups, "", None).await;
    let msg = arm_error(s, &body, StatusCode::BAD_REQUEST, "MissingApiVersionParameter");
    assert_eq!(msg, "The api-version query parameter (?api-version=) is required for all requests.");
}

#[tokio::test]
async fn user_assigned_identity_put_names_and_api_versions() {
    let app = TestApp::new();
    app.create_rg("uai").await;
    let path = uai_id(&app, "uai", "myIdentity");
    let (s, body) = app.arm("PUT", &path, MSI_API, Some(json!({"location": "West US", "tags": {"a": "b"}}))).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let props = &body["properties"];
    assert_eq!(props["tenantId"], app.tenant_id().as_str());
    assert!(is_guid(&props["principalId"]) && is_guid(&props["clientId"]), "{body}");
    assert_eq!(body["location"], "westus");
    assert_eq!(body["type"], "Microsoft.ManagedIdentity/userAssignedIdentities");

    // The identity's service principal is in the directory, with its client id as appId.
    let principal = props["principalId"].as_str().unwrap();
    let (s, sp) = app.graph("GET", &format!("/v1.0/servicePrincipals/{principal}"), None).await;
    assert_eq!(s, StatusCode::OK, "{sp}");
    assert_eq!(sp["appId"], props["clientId"]);
    assert_eq!(sp["servicePrincipalType"], "ManagedIdentity");

    // A second PUT keeps the identity (same principal and client ids).
    let (s, again) = app.arm("PUT", &path, MSI_API, Some(json!({"location": "westus", "tags": {"a": "c"}}))).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["properties"], body["properties"]);

    // Names: 3-128 characters, letter or digit first, then letters, digits, '-', '_' (docs/azure-behaviour.md §2).
    let too_long = "x".repeat(129);
    for name in ["ab", "-leadinghyphen", "_underscore", "has.dot", too_long.as_str()] {
        let (s, body) = app.arm("PUT", &uai_id(&app, "uai", name), MSI_API, Some(json!({"location": "westus"}))).await;
        arm_error(s, &body, StatusCode::BAD_REQUEST, "InvalidResourceName");
    }
    let (s, body) = app.arm("PUT", &uai_id(&app, "uai", "noLocation"), MSI_API, Some(json!({}))).await;
    arm_error(s, &body, StatusCode::BAD_REQUEST, "LocationRequired");
    let (s, body) = app.arm("PUT", &uai_id(&app, "nosuchrg", "x1x"), MSI_API, Some(json!({"location": "westus"}))).await;
    arm_error(s, &body, StatusCode::NOT_FOUND, "ResourceGroupNotFound");

    // An api-version the type does not have: NoRegisteredProviderFound listing the versions.
    let (s, body) = app.arm("GET", &path, "2019-01-01", None).await;
    let msg = arm_error(s, &body, StatusCode::BAD_REQUEST, "NoRegisteredProviderFound");
    assert!(msg.contains("2018-11-30"), "{msg}");

    // DELETE: 200, then 204 for what is gone, and the service principal goes with it.
    let (s, _) = app.arm("DELETE", &path, MSI_API, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.arm("DELETE", &path, MSI_API, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = app.graph("GET", &format!("/v1.0/servicePrincipals/{principal}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn vm_identity_patch_adds_a_user_assigned_identity() {
    let app = TestApp::new();
    app.create_rg("vmid").await;
    let vm = make_vm(&app, "vmid", "myVM").await;
    let uai = make_uai(&app, "vmid", "myUserAssignedIdentity").await;
    let uid = uai_id(&app, "vmid", "myUserAssignedIdentity");
    let path = vm["id"].as_str().expect("VM id").to_string();

    // What `az vm identity assign` sends.
    let add = json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uid.clone(): {}}}});
    let (s, body) = app.arm("PATCH", &path, VM_API, Some(add)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let identity = &body["identity"];
    assert_eq!(identity["type"], "SystemAssigned, UserAssigned");
    assert_eq!(identity["tenantId"], app.tenant_id().as_str());
    assert!(is_guid(&identity["principalId"]), "{body}");
    let attached = &identity["userAssignedIdentities"][uid.as_str()];
    assert_eq!(attached["principalId"], uai["properties"]["principalId"], "{body}");
    assert_eq!(attached["clientId"], uai["properties"]["clientId"], "{body}");

    // The system-assigned identity is a service principal in the directory.
    let system = identity["principalId"].as_str().unwrap();
    let (s, sp) = app.graph("GET", &format!("/v1.0/servicePrincipals/{system}"), None).await;
    assert_eq!(s, StatusCode::OK, "{sp}");

    // GET shows the same identity; removing the user-assigned one (PATCH with null) keeps the system one.
    let (s, read) = app.arm("GET", &path, VM_API, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(read["identity"], body["identity"]);
    let remove = json!({"identity": {"type": "SystemAssigned", "userAssignedIdentities": null}});
    let (s, body) = app.arm("PATCH", &path, VM_API, Some(remove)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["identity"], json!({"type": "SystemAssigned", "principalId": system, "tenantId": app.tenant_id()}));

    // An identity that does not exist: FailedIdentityOperation, and nothing changes.
    let ghost = uai_id(&app, "vmid", "ghost");
    let bad = json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ghost: {}}}});
    let (s, err) = app.arm("PATCH", &path, VM_API, Some(bad)).await;
    arm_error(s, &err, StatusCode::BAD_REQUEST, "FailedIdentityOperation");
    let (_, after) = app.arm("GET", &path, VM_API, None).await;
    assert_eq!(after["identity"], body["identity"]);
}

#[tokio::test]
async fn rbac_refuses_a_caller_without_a_role() {
    let app = TestApp::new();
    app.create_rg("guarded").await;
    let scope = app.rg_path("guarded");
    let sp = app.create_service_principal("no-role").await;
    let token = app.token(&sp.app_id, &sp.secret, support::ARM_SCOPE).await;

    let r = app.arm_as(Some(&token), "GET", &scope, RG_API, None).await;
    let msg = arm_error(r.status, &r.body, StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(msg, authorization_failed(&sp.object_id, "Microsoft.Resources/subscriptions/resourceGroups/read", &scope));

    // Reader on the group: it reads, and gets AuthorizationFailed for writes.
    app.assign_role(&sp.object_id, READER, &scope).await;
    let r = app.arm_as(Some(&token), "GET", &scope, RG_API, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.arm_as(Some(&token), "PATCH", &scope, RG_API, Some(json!({"tags": {"a": "b"}}))).await;
    let msg = arm_error(r.status, &r.body, StatusCode::FORBIDDEN, "AuthorizationFailed");
    assert_eq!(msg, authorization_failed(&sp.object_id, "Microsoft.Resources/subscriptions/resourceGroups/write", &scope));
    let other = app.rg_path("notmine");
    let r = app.arm_as(Some(&token), "PUT", &other, RG_API, Some(json!({"location": "westus"}))).await;
    arm_error(r.status, &r.body, StatusCode::FORBIDDEN, "AuthorizationFailed");
    // Nothing was written by the refused calls.
    let (_, read) = app.arm("GET", &scope, RG_API, None).await;
    assert!(read.get("tags").is_none_or(|t| t == &json!({})), "{read}");
    let (s, body) = app.arm("GET", &other, RG_API, None).await;
    arm_error(s, &body, StatusCode::NOT_FOUND, "ResourceGroupNotFound");

    // No token at all: 401 with the Bearer challenge.
    let r = app.arm_as(None, "GET", &scope, RG_API, None).await;
    let msg = arm_error(r.status, &r.body, StatusCode::UNAUTHORIZED, "AuthenticationFailed");
    assert_eq!(msg, "Authentication failed. The 'Authorization' header is missing.");
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer ")), "{:?}", r.headers);
}

#[tokio::test]
async fn linked_authorization_for_attaching_a_user_assigned_identity() {
    let app = TestApp::new();
    app.create_rg("roles").await;
    let vm = make_vm(&app, "roles", "rolevm").await;
    let uai = make_uai(&app, "roles", "roleIdentity").await;
    let uid = uai_id(&app, "roles", "roleIdentity");
    let path = vm["id"].as_str().unwrap().to_string();
    let sp = app.create_service_principal("vm-contributor").await;
    let token = app.token(&sp.app_id, &sp.secret, support::ARM_SCOPE).await;
    app.assign_role(&sp.object_id, VM_CONTRIBUTOR, &app.rg_path("roles")).await;

    let add = json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uid.clone(): {}}}});
    let r = app.arm_as(Some(&token), "PATCH", &path, VM_API, Some(add.clone())).await;
    let msg = arm_error(r.status, &r.body, StatusCode::FORBIDDEN, "LinkedAuthorizationFailed");
    let oid = &sp.object_id;
    assert_eq!(
        msg,
        format!(
            "The client '{oid}' with object id '{oid}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on \
             scope '{path}'; however, it does not have permission to perform action '{ASSIGN_ACTION}' on the linked scope(s) '{uid}' \
             or the linked scope(s) are invalid."
        )
    );
    let (_, read) = app.arm("GET", &path, VM_API, None).await;
    assert!(read.get("identity").is_none(), "nothing half-applied: {read}");

    // Managed Identity Operator on the identity grants the assign action.
    app.assign_role(&sp.object_id, MI_OPERATOR, uai["id"].as_str().unwrap()).await;
    let r = app.arm_as(Some(&token), "PATCH", &path, VM_API, Some(add)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["identity"]["userAssignedIdentities"][uid.as_str()]["principalId"], uai["properties"]["principalId"]);
}

#[tokio::test]
async fn apps_are_isolated_from_one_another() {
    let (a, b) = (TestApp::new(), TestApp::new());
    assert_ne!(a.tenant_id(), b.tenant_id());
    assert_ne!(a.data_dir(), b.data_dir());
    a.create_rg("only-in-a").await;
    let (s, body) = b.arm("GET", &b.rg_path("only-in-a"), RG_API, None).await;
    arm_error(s, &body, StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    // A token of one app's tenant means nothing to the other.
    let r = b.arm_as(Some(&a.token_for_admin().await), "GET", &a.rg_path("only-in-a"), RG_API, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // The routers the app serves all answer in-process.
    let discovery =
        b.send(Surface::Login, "GET", &format!("/{}/v2.0/.well-known/openid-configuration", b.tenant_id()), None, None, None).await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.body);
}

// ---- Microsoft.KeyVault (docs/azure-behaviour.md §13) ---------------------------------

const KV_API: &str = "2024-11-01";

fn vault_path(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}")
}

fn vault_body(tenant: &str) -> Value {
    json!({"location": "westus", "properties": {"tenantId": tenant, "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}})
}

#[tokio::test]
async fn key_vault_names_follow_azures_rule_and_the_vault_has_azures_shape() {
    let app = TestApp::new();
    app.create_rg("rg-kv").await;
    let (sub, tenant) = (app.subscription_id(), app.tenant_id());
    for bad in ["ab", "1vault", "vault-", "va--ult", "vault_1", "a23456789012345678901234x"] {
        let (s, body) = app.arm("PUT", &vault_path(&sub, "rg-kv", bad), KV_API, Some(vault_body(&tenant))).await;
        let msg = arm_error(s, &body, StatusCode::BAD_REQUEST, "VaultNameNotValid");
        assert!(msg.starts_with(&format!("The vault name '{bad}' is invalid. A vault's name must be between 3-24 alphanumeric")), "{msg}");
    }
    // sku and tenantId are required.
    let (s, body) = app
        .arm("PUT", &vault_path(&sub, "rg-kv", "kv-nosku"), KV_API, Some(json!({"location": "westus", "properties": {"tenantId": tenant}})))
        .await;
    assert_eq!(arm_error(s, &body, StatusCode::BAD_REQUEST, "BadRequest"), "An invalid value was provided for 'sku'.");
    let (s, body) = app
        .arm(
            "PUT",
            &vault_path(&sub, "rg-kv", "kv-notenant"),
            KV_API,
            Some(json!({"location": "westus", "properties": {"sku": {"family": "A", "name": "standard"}}})),
        )
        .await;
    assert_eq!(arm_error(s, &body, StatusCode::BAD_REQUEST, "BadRequest"), "An invalid value was provided for 'tenantId'.");

    let path = vault_path(&sub, "rg-kv", "Kv-Shape1");
    let (s, v) = app.arm("PUT", &path, KV_API, Some(vault_body(&tenant))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["type"], "Microsoft.KeyVault/vaults");
    assert_eq!(v["name"], "Kv-Shape1");
    let p = &v["properties"];
    assert_eq!(p["vaultUri"], "https://kv-shape1.vault.azure.net/");
    assert_eq!(p["sku"], json!({"family": "A", "name": "standard"}));
    assert_eq!(p["tenantId"], tenant.as_str());
    assert_eq!((p["enableSoftDelete"].as_bool(), p["softDeleteRetentionInDays"].as_i64()), (Some(true), Some(90)));
    assert_eq!((p["provisioningState"].as_str(), p["publicNetworkAccess"].as_str()), (Some("Succeeded"), Some("Enabled")));
    assert_eq!(p["enableRbacAuthorization"], false, "false before 2026-02-01");
    assert!(p.get("enablePurgeProtection").is_none(), "only when set: {p}");
    // checkNameAvailability sees it; a fresh valid name is free.
    let check = format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability");
    let (s, r) = app.arm("POST", &check, KV_API, Some(json!({"name": "kv-shape1", "type": "Microsoft.KeyVault/vaults"}))).await;
    assert_eq!((s, r["nameAvailable"].as_bool(), r["reason"].as_str()), (StatusCode::OK, Some(false), Some("AlreadyExists")), "{r}");
    let (_, r) = app.arm("POST", &check, KV_API, Some(json!({"name": "kv-free-name", "type": "Microsoft.KeyVault/vaults"}))).await;
    assert_eq!(r, json!({"nameAvailable": true}));
    let (_, r) = app.arm("POST", &check, KV_API, Some(json!({"name": "1bad", "type": "Microsoft.KeyVault/vaults"}))).await;
    assert_eq!(r["reason"], "AccountNameInvalid", "{r}");
}

#[tokio::test]
async fn key_vault_names_are_global_across_subscriptions_and_tenants_and_soft_delete_keeps_them() {
    let app = TestApp::new();
    app.create_rg("rg-a").await;
    let (sub, tenant) = (app.subscription_id(), app.tenant_id());
    let (s, v) = app.arm("PUT", &vault_path(&sub, "rg-a", "kv-global1"), KV_API, Some(vault_body(&tenant))).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A second tenant with its own subscription (`POST {graph}/mimic/tenants`).
    let (s, t) = app.graph("POST", "/mimic/tenants", Some(json!({}))).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (tenant_b, sub_b) = (t["tenantId"].as_str().unwrap().to_string(), t["subscriptionId"].as_str().unwrap().to_string());
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", t["servicePrincipal"]["clientId"].as_str().unwrap())
        .append_pair("client_secret", t["servicePrincipal"]["clientSecret"].as_str().unwrap())
        .append_pair("scope", support::ARM_SCOPE)
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
    let token_b = r.body["access_token"].as_str().expect("token of the second tenant").to_string();
    let r = app
        .arm_as(Some(&token_b), "PUT", &format!("/subscriptions/{sub_b}/resourceGroups/rg-b"), RG_API, Some(json!({"location": "westus"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // The name is taken in the other tenant's subscription, whatever its case.
    let r = app.arm_as(Some(&token_b), "PUT", &vault_path(&sub_b, "rg-b", "KV-GLOBAL1"), KV_API, Some(vault_body(&tenant_b))).await;
    let msg = arm_error(r.status, &r.body, StatusCode::CONFLICT, "VaultAlreadyExists");
    assert!(msg.starts_with("The vault name 'KV-GLOBAL1' is already in use. Vault names are globally unique"), "{msg}");
    // And in another resource group of the same subscription.
    app.create_rg("rg-a2").await;
    let (s, body) = app.arm("PUT", &vault_path(&sub, "rg-a2", "kv-global1"), KV_API, Some(vault_body(&tenant))).await;
    arm_error(s, &body, StatusCode::CONFLICT, "VaultAlreadyExists");

    // Soft-deleted, the name stays taken: ConflictError in its subscription, VaultAlreadyExists elsewhere.
    let (s, _) = app.arm("DELETE", &vault_path(&sub, "rg-a", "kv-global1"), KV_API, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = app.arm("PUT", &vault_path(&sub, "rg-a", "kv-global1"), KV_API, Some(vault_body(&tenant))).await;
    let msg = arm_error(s, &body, StatusCode::CONFLICT, "ConflictError");
    assert!(msg.starts_with("A vault with the same name already exists in deleted state."), "{msg}");
    let r = app.arm_as(Some(&token_b), "PUT", &vault_path(&sub_b, "rg-b", "kv-global1"), KV_API, Some(vault_body(&tenant_b))).await;
    arm_error(r.status, &r.body, StatusCode::CONFLICT, "VaultAlreadyExists");
    // The other tenant does not see it among its deleted vaults.
    let r = app
        .arm_as(Some(&token_b), "GET", &format!("/subscriptions/{sub_b}/providers/Microsoft.KeyVault/deletedVaults"), KV_API, None)
        .await;
    assert_eq!(r.body["value"], json!([]), "{}", r.body);
    let deleted = format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/westus/deletedVaults/kv-global1");
    let (s, d) = app.arm("GET", &deleted, KV_API, None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["type"], "Microsoft.KeyVault/deletedVaults");
    assert_eq!(
        d["properties"]["vaultId"].as_str().unwrap().to_ascii_lowercase(),
        vault_path(&sub, "rg-a", "kv-global1").to_ascii_lowercase()
    );

    // Recover brings it back with its data instance; purge frees the name everywhere.
    let name_doc = |app: &TestApp| {
        app.state.store.read(|tx| {
            use mimic_store::documents::{Docs, KEYVAULT_NAME};
            tx.get(KEYVAULT_NAME, "kv-global1")
        })
    };
    let recover = json!({"location": "westus", "properties": {"tenantId": tenant, "sku": {"family": "A", "name": "standard"}, "createMode": "recover"}});
    let (s, body) = app.arm("PUT", &vault_path(&sub, "rg-a", "kv-other"), KV_API, Some(recover.clone())).await;
    arm_error(s, &body, StatusCode::BAD_REQUEST, "SoftDeletedVaultDoesNotExist");
    let (s, v) = app.arm("PUT", &vault_path(&sub, "rg-a", "kv-global1"), KV_API, Some(recover)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let first = name_doc(&app).unwrap().expect("a live vault has its name document");
    assert!(first.resource_id.ends_with("/vaults/kv-global1"));
    let (s, _) = app.arm("DELETE", &vault_path(&sub, "rg-a", "kv-global1"), KV_API, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(name_doc(&app).unwrap().is_none(), "a deleted vault is not live");
    let r = app.arm_as(Some(&token_b), "POST", &format!("{deleted}/purge"), KV_API, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "another tenant cannot purge it: {}", r.body);
    let (s, _) = app.arm("POST", &format!("{deleted}/purge"), KV_API, None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let r = app.arm_as(Some(&token_b), "PUT", &vault_path(&sub_b, "rg-b", "kv-global1"), KV_API, Some(vault_body(&tenant_b))).await;
    assert_eq!(r.status, StatusCode::OK, "purged, the name is free: {}", r.body);
    let second = name_doc(&app).unwrap().expect("the new vault's name document");
    assert_ne!(second.instance, first.instance, "a vault made anew has a new instance");
}
