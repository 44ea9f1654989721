//! `GET /metadata/instance`: what the VM knows about itself (imds.json `Instance`): every
//! scalar a string, as IMDS renders it.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{check_request, param, parse_query, ImdsError, VmBinding};

const NEWEST: &[&str] = &["2025-04-07", "2024-03-15", "2023-11-15"];

pub async fn instance(State(b): State<VmBinding>, method: Method, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = parse_query(raw.as_deref());
    let r = (|| {
        check_request(&method, &headers).map_err(|e| match e.status {
            StatusCode::BAD_REQUEST => ImdsError::instance(StatusCode::BAD_REQUEST, "Bad request. Required metadata header not specified"),
            _ => e,
        })?;
        if param(&q, "api-version").is_none() {
            return Err(ImdsError {
                status: StatusCode::BAD_REQUEST,
                body: json!({"error": "Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds", "newest-versions": NEWEST}),
            });
        }
        let vm_key = b.vm_key.as_ref().ok_or_else(|| ImdsError::instance(StatusCode::NOT_FOUND, "Not found"))?;
        let vm = b.state.store.read(|tx| tx.resource(vm_key))?.ok_or_else(|| ImdsError::instance(StatusCode::NOT_FOUND, "Not found"))?;
        Ok(render(&vm))
    })();
    match r {
        Ok(v) => super::json_response(StatusCode::OK, v.to_string()),
        Err(e) => e.into_response(),
    }
}

fn s(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn render(vm: &mimic_domain::resource::Resource) -> Value {
    let p = &vm.properties;
    let id = vm.parsed_id();
    let image = &p["storageProfile"]["imageReference"];
    let tags = vm.tags.clone().unwrap_or_default();
    let tag_string = tags.iter().map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(";");
    let tags_list: Vec<Value> = tags.iter().map(|(k, v)| json!({"name": k, "value": v.as_str().unwrap_or_default()})).collect();
    json!({
        "compute": {
            "azEnvironment": "AzurePublicCloud",
            "location": vm.location.clone().unwrap_or_default(),
            "name": vm.name,
            "offer": s(image.get("offer")),
            "osProfile": {
                "adminUsername": s(p["osProfile"].get("adminUsername")),
                "computerName": s(p["osProfile"].get("computerName")),
                "disablePasswordAuthentication": s(p["osProfile"]["linuxConfiguration"].get("disablePasswordAuthentication")),
            },
            "osType": s(p["storageProfile"]["osDisk"].get("osType")),
            "provider": "Microsoft.Compute",
            "publisher": s(image.get("publisher")),
            "resourceGroupName": id.as_ref().and_then(|i| i.resource_group.clone()).unwrap_or_default(),
            "resourceId": vm.id,
            "sku": s(image.get("sku")),
            "subscriptionId": id.as_ref().and_then(|i| i.subscription.clone()).unwrap_or_default(),
            "tags": tag_string,
            "tagsList": tags_list,
            "version": s(image.get("version")),
            "vmId": s(p.get("vmId")),
            "vmScaleSetName": "",
            "vmSize": s(p["hardwareProfile"].get("vmSize")),
            "zone": vm.extra.get("zones").and_then(|z| z.get(0)).and_then(Value::as_str).unwrap_or_default(),
        },
        "network": { "interface": [] },
    })
}
