//! Microsoft.Resources/deployments at resource-group and subscription scope: PUT as a
//! long-running operation (201 + `Azure-AsyncOperation`, status `Succeeded`/`Failed`), GET,
//! list, DELETE, `validate`, `whatIf`, `exportTemplate`, deployment operations and outputs;
//! incremental (Azure's default) and complete mode. The template engine is
//! `mimic_domain::template`; this module binds it to ARM.
//!
//! Every resource of a template is written by an internal ARM call ([`Ctx::internal`]) through
//! the same router, handlers and RBAC as a direct request, as the deploying caller, and
//! `reference()` reads resources the same way; so a deployment can do exactly what its caller
//! may do. Before anything is written the caller's write permission on every resource is
//! checked as Azure's preflight does (`InvalidTemplateDeployment`, "Authorization failed for
//! template resource ...").
//!
//! The PUT records the deployment `Accepted` and answers; the deployment runs afterwards on a
//! blocking task as the caller (`Running`, operations saved as resources finish, then
//! `Succeeded`/`Failed`/`Canceled`), and one interrupted by a stop ends `Failed` at the next
//! start (docs/ARCHITECTURE.md, "Deployments in the background"). Deployment history lives in store
//! documents (`deployment` per deployment, `deployment.index` per scope); a deployment older
//! than its resource group belongs to a deleted group of the same name and is not shown.
//!
//! Sources: resources.json 2021-04-01 (`Deployments_*`); docs/azure-behaviour.md §3; §11.6
//! (az's non-JSON `template:` body, the vm create template); error texts recorded from Azure
//! (InvalidTemplate with `TemplateViolation` line/position, DeploymentFailed with details,
//! DeploymentOutputEvaluationFailed, InvalidTemplateDeployment).
//!
//! Templates, parameters, outputs and the bodies a template writes are JSON by nature (the
//! template engine evaluates `serde_json::Value`s); the `json!` left here builds those, and the
//! what-if change entries and provider summaries, which have no wire types yet.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use chrono::{DateTime, Utc};
use mimic_domain::deployment::{
    DeploymentIndex, DeploymentOperation, DeploymentRecord, DeploymentState, OnErrorDeployment, OperationProperties, ProvisioningState,
    StatusMessage, TargetResource,
};
use mimic_domain::directory::Subscription;
use mimic_domain::operation::OperationError;
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_domain::template::engine::{self, Planned, Prepared, Template};
use mimic_domain::template::eval::{EvalError, EvalResult, Host, ProviderDescription, ProviderTypeDescription, Scope};
use mimic_domain::template::hash;
use mimic_store::documents::{Docs, DEPLOYMENT, DEPLOYMENT_INDEX, RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID};
use mimic_wire::deployments as wire;
use mimic_wire::jsonnet::{self as tjson, JsonNetError, Parsed};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::arm::core::catalog::ResourceType;
use crate::arm::core::endpoint::{self, RESOURCES_NAMESPACE};
use crate::arm::core::error::DeniedResource;
use crate::arm::core::{api_versions, json_response, operations, ArmError, ArmResult, Ctx, Endpoint, Provider, Registry, Reply};

pub const DEPLOYMENT_TYPE: &str = "Microsoft.Resources/deployments";
const WRITE: &str = "Microsoft.Resources/deployments/write";
const READ: &str = "Microsoft.Resources/deployments/read";
const DELETE: &str = "Microsoft.Resources/deployments/delete";
const VALIDATE: &str = "Microsoft.Resources/deployments/validate/action";
const WHAT_IF: &str = "Microsoft.Resources/deployments/whatIf/action";
const EXPORT: &str = "Microsoft.Resources/deployments/exportTemplate/action";
const CANCEL: &str = "Microsoft.Resources/deployments/cancel/action";
const OPERATIONS_READ: &str = "Microsoft.Resources/deployments/operations/read";
const STATUS_READ: &str = "Microsoft.Resources/deployments/operationstatuses/read";
/// How long a deployment PUT waits for the deployment to finish before answering `Accepted`.
const QUICK_FINISH: Duration = Duration::from_millis(250);
/// How often a running deployment saves its operations (and looks for a cancel request).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Nested deployments deeper than this are refused (Azure allows 50 levels... of sanity).
const MAX_NESTING: usize = 20;

pub struct Deployments;

impl Provider for Deployments {
    fn namespace(&self) -> &'static str {
        RESOURCES_NAMESPACE
    }

    fn resource_types(&self) -> &'static [&'static str] {
        &["deployments"]
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[ResourceType { name: "deployments", api_versions: api_versions::RESOURCES }]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::ResourceCollection { parent, .. } => list(ctx, parent),
            Endpoint::Resource { id } if id.subscription.is_some() => handle(ctx, id),
            Endpoint::ResourceAction { id, action: name } if id.subscription.is_some() => action(ctx, id, name),
            _ => Err(ArmError::not_found_route(&ctx.path)),
        }
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Where a deployment lives.
#[derive(Clone)]
struct Target {
    sub: Subscription,
    rg: Option<Arc<Resource>>,
    name: String,
    id: String,
    key: String,
    scope_id: String,
}

impl Target {
    fn status_url(&self, ctx: &Ctx, op: &str) -> String {
        let base = match &self.rg {
            Some(rg) => format!("/subscriptions/{}/resourcegroups/{}", self.sub.id, rg.name),
            None => format!("/subscriptions/{}", self.sub.id),
        };
        format!(
            "{}{base}/providers/Microsoft.Resources/deployments/{}/operationStatuses/{op}?api-version={}",
            ctx.arm_url(),
            self.name,
            ctx.api_version
        )
    }
}

fn target(ctx: &Ctx, sub: &str, rg: Option<&str>, name: &str) -> ArmResult<Target> {
    let s = ctx.subscription(sub)?;
    let rg = match rg {
        Some(rg) => Some(ctx.resource_group(&s.id.to_string(), rg)?),
        None => None,
    };
    let scope_id = match &rg {
        Some(r) => r.id.clone(),
        None => format!("/subscriptions/{}", s.id),
    };
    let id = format!("{scope_id}/providers/{DEPLOYMENT_TYPE}/{name}");
    let key = resource_id::key(&id);
    Ok(Target { sub: s, rg, name: name.to_string(), id, key, scope_id })
}

fn target_of(ctx: &Ctx, id: &ResourceId) -> ArmResult<Target> {
    let name = id.types[0].1.clone();
    target(ctx, id.subscription.as_deref().unwrap_or_default(), id.resource_group.as_deref(), &name)
}

// ---- responses --------------------------------------------------------------------------

fn now_text(t: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), t.timestamp_subsec_nanos() / 100)
}

fn duration_text(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    format!("PT{}.{:03}S", ms / 1000, ms % 1000)
}

fn operation_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

// ---- requests ---------------------------------------------------------------------------

/// `GET|PUT|DELETE|HEAD .../deployments/{name}`, `GET .../operationStatuses/{id}`,
/// `GET .../operations/{id}`.
fn handle(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    api_versions::check(&ctx.api_version, api_versions::RESOURCES)?;
    let t = target_of(ctx, id)?;
    match (id.types.len(), ctx.method.clone()) {
        (1, Method::GET) => {
            ctx.authorize(READ, &t.id)?;
            let doc = load(ctx, &t)?.ok_or_else(|| not_found(&t))?;
            Ok(json_response(StatusCode::OK, &render(&doc, None)))
        }
        (1, Method::HEAD) => {
            ctx.authorize(READ, &t.id)?;
            Ok(Reply::status(if load(ctx, &t)?.is_some() { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }))
        }
        (1, Method::PUT) => put(ctx, &t),
        (1, Method::DELETE) => delete(ctx, &t),
        (1, m) => Err(ArmError::method_not_allowed(m.as_str(), &ctx.path)),
        (2, Method::GET) if eq(&id.types[1].0, "operationStatuses") => {
            ctx.authorize(STATUS_READ, &t.id)?;
            let doc = load(ctx, &t)?.ok_or_else(|| not_found(&t))?;
            if doc.status_id != id.types[1].1 {
                return Err(ArmError::operation_not_found(&id.types[1].1));
            }
            let state = doc.properties.provisioning_state;
            let error = (state == ProvisioningState::Failed).then(|| doc.properties.error.as_ref().map(to_wire).unwrap_or_default());
            let mut res = json_response(StatusCode::OK, &wire::OperationStatus { status: state.as_str().to_string(), error });
            if doc.is_active() {
                // Without it clients wait their default interval (30 s for azure-mgmt-core).
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Ok(res)
        }
        (2, Method::GET) if eq(&id.types[1].0, "operations") => {
            ctx.authorize(OPERATIONS_READ, &t.id)?;
            let doc = load(ctx, &t)?.ok_or_else(|| not_found(&t))?;
            let op = doc.operations.iter().find(|o| o.operation_id == id.types[1].1);
            let op = op.ok_or_else(|| ArmError::deployment_operation_not_found(&id.types[1].1))?;
            Ok(json_response(StatusCode::OK, &render_operation(&t, op)))
        }
        _ => Err(ArmError::not_found_route(&ctx.path)),
    }
}

/// `POST .../validate|whatIf|cancel|exportTemplate`, `GET .../operations`.
fn action(ctx: &Ctx, id: &ResourceId, action: &str) -> ArmResult<Reply> {
    api_versions::check(&ctx.api_version, api_versions::RESOURCES)?;
    if id.types.len() != 1 {
        return Err(ArmError::not_found_route(&ctx.path));
    }
    let t = target_of(ctx, id)?;
    match (ctx.method.clone(), action.to_ascii_lowercase().as_str()) {
        (Method::GET, "operations") => {
            ctx.authorize(OPERATIONS_READ, &t.id)?;
            let doc = load(ctx, &t)?.ok_or_else(|| not_found(&t))?;
            let value: Vec<wire::DeploymentOperation> = doc.operations.iter().map(|o| render_operation(&t, o)).collect();
            Ok(json_response(StatusCode::OK, &wire::Page { value }))
        }
        (Method::POST, "validate") => validate(ctx, &t),
        (Method::POST, "whatif") => what_if(ctx, &t),
        (Method::POST, "exporttemplate") => {
            ctx.authorize(EXPORT, &t.id)?;
            let doc = load(ctx, &t)?.ok_or_else(|| not_found(&t))?;
            Ok(json_response(StatusCode::OK, &wire::ExportedTemplate { template: doc.template }))
        }
        (Method::POST, "cancel") => cancel(ctx, &t),
        (m, _) => Err(ArmError::method_not_allowed(m.as_str(), &ctx.path)),
    }
}

/// `GET .../deployments` at a resource group or subscription.
fn list(ctx: &Ctx, parent: &ResourceId) -> ArmResult<Reply> {
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    api_versions::check(&ctx.api_version, api_versions::RESOURCES)?;
    let s = ctx.subscription(parent.subscription.as_deref().unwrap_or_default())?;
    let rg = match &parent.resource_group {
        Some(rg) => Some(ctx.resource_group(&s.id.to_string(), rg)?),
        None => None,
    };
    let scope_id = rg.as_ref().map(|r| r.id.clone()).unwrap_or_else(|| format!("/subscriptions/{}", s.id));
    ctx.authorize(READ, &format!("{scope_id}/providers/{DEPLOYMENT_TYPE}"))?;
    let scope_key = resource_id::key(&scope_id);
    let filter = ctx.q("$filter").and_then(|f| f.split_once(" eq ")).map(|(_, v)| v.trim().trim_matches('\'').to_string());
    let top = ctx.q("$top").and_then(|t| t.parse::<usize>().ok());
    let rg_created = rg.as_ref().map(|r| r.created);
    let docs = ctx.state.store.read(|tx| {
        let index = tx.get(DEPLOYMENT_INDEX, &scope_key)?.unwrap_or_default();
        let mut out = Vec::new();
        for k in index.keys {
            if let Some(d) = tx.get(DEPLOYMENT, &k)? {
                out.push(d);
            }
        }
        Ok::<_, ArmError>(out)
    })?;
    let mut value: Vec<wire::Deployment> = docs
        .iter()
        .filter(|d| d.is_current(rg_created))
        .filter(|d| filter.as_deref().is_none_or(|f| eq(d.properties.provisioning_state.as_str(), f)))
        .map(|d| render(d, None))
        .collect();
    value.reverse();
    if let Some(n) = top {
        value.truncate(n);
    }
    Ok(json_response(StatusCode::OK, &wire::Page { value }))
}

fn not_found(t: &Target) -> ArmError {
    ArmError::deployment_not_found(&t.name)
}

fn load(ctx: &Ctx, t: &Target) -> ArmResult<Option<DeploymentRecord>> {
    let doc = ctx.state.store.read(|tx| tx.get(DEPLOYMENT, &t.key))?;
    Ok(doc.filter(|d| d.is_current(t.rg.as_ref().map(|r| r.created))))
}

/// A stored error as ARM renders a deployment's (without `additionalInfo`).
fn to_wire(e: &OperationError) -> wire::ErrorDetail {
    wire::ErrorDetail {
        code: e.code.clone(),
        target: e.target.clone(),
        message: e.message.clone(),
        details: e.details.iter().map(to_wire).collect(),
        additional_info: vec![],
    }
}

/// An error a resource's provider answered, as a deployment records it.
fn to_record(e: &wire::ErrorDetail) -> OperationError {
    OperationError {
        code: e.code.clone(),
        message: e.message.clone(),
        target: e.target.clone(),
        details: e.details.iter().map(to_record).collect(),
        additional_info: e.additional_info.iter().map(|a| json!({"type": a.kind, "info": a.info})).collect(),
    }
}

/// A deployment on the wire; `state_override` renders it as it was when accepted.
fn render(d: &DeploymentRecord, state_override: Option<ProvisioningState>) -> wire::Deployment {
    wire::Deployment {
        id: d.id.clone(),
        name: d.name.clone(),
        kind: DEPLOYMENT_TYPE,
        location: d.location.clone(),
        tags: d.tags.clone(),
        properties: render_state(&d.properties, state_override),
    }
}

fn render_state(p: &DeploymentState, state_override: Option<ProvisioningState>) -> wire::DeploymentProperties {
    let accepted = state_override.is_some();
    wire::DeploymentProperties {
        template_hash: p.template_hash.clone(),
        parameters: Some(p.parameters.clone()),
        mode: p.mode.clone(),
        provisioning_state: state_override.unwrap_or(p.provisioning_state).as_str().to_string(),
        timestamp: p.timestamp.clone(),
        duration: p.duration.clone(),
        correlation_id: p.correlation_id.clone(),
        providers: p.providers.clone(),
        dependencies: p.dependencies.clone(),
        outputs: if accepted { None } else { p.outputs.clone() },
        output_resources: if accepted { None } else { p.output_resources.clone() },
        validated_resources: None,
        error: if accepted { None } else { p.error.as_ref().map(to_wire) },
        on_error_deployment: p.on_error_deployment.as_ref().map(|o| wire::OnErrorDeploymentExtended {
            provisioning_state: o.provisioning_state.clone(),
            kind: o.kind.clone(),
            deployment_name: o.deployment_name.clone(),
        }),
    }
}

fn render_operation(t: &Target, op: &DeploymentOperation) -> wire::DeploymentOperation {
    wire::DeploymentOperation {
        id: format!("{}/operations/{}", t.id, op.operation_id),
        operation_id: op.operation_id.clone(),
        properties: serde_json::to_value(&op.properties).unwrap_or_default(),
    }
}

// ---- the request body -------------------------------------------------------------------

/// A deployment request: template (with positions), parameters, mode.
struct Request {
    template: Template,
    parameters: Map<String, Value>,
    mode: String,
    location: Option<String>,
    tags: Option<Map<String, Value>>,
    on_error: Option<OnErrorDeployment>,
}

/// Parses the body leniently, as Json.NET does (comments, trailing commas, az's unquoted
/// `template:` key).
fn parse_request(ctx: &Ctx) -> Result<Request, Reply> {
    if let Some(ct) = ctx.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !(mime == "application/json" || mime.ends_with("+json") || mime == "text/json") {
            return Err(ArmError::unsupported_media_type(ct).into_reply());
        }
    }
    let text = String::from_utf8_lossy(&ctx.body);
    if text.trim().is_empty() {
        return Err(ArmError::empty_request_body().into_reply());
    }
    let parsed = tjson::parse(&text).map_err(|mut e| {
        if let Some(rest) = e.path.strip_prefix("properties.template") {
            // Azure names the place within the template ("Path 'variables', line 31, position 3").
            e.path = rest.trim_start_matches('.').to_string();
            ArmError::template_parse_failed(&e.render()).into_reply()
        } else {
            ArmError::invalid_request_content(&e).into_reply()
        }
    })?;
    let get = |v: &Value, k: &str| {
        v.as_object().and_then(|m| m.iter().find(|(key, _)| eq(key, k)).map(|(_, v)| v.clone())).unwrap_or(Value::Null)
    };
    let props = get(&parsed.value, "properties");
    if !props.is_object() {
        return Err(ArmError::invalid_request_content(&JsonNetError::required_property("properties", "").with_at(1, 1)).into_reply());
    }
    for link in ["templateLink", "parametersLink"] {
        let l = get(&props, link);
        if !l.is_null() {
            let uri = l["uri"].as_str().or_else(|| l["id"].as_str()).unwrap_or_default().to_string();
            return Err(ArmError::invalid_content_link(&uri, Uuid::new_v4()).into_reply());
        }
    }
    let template = match get(&props, "template") {
        Value::Object(m) => m,
        Value::Null => {
            return Err(ArmError::invalid_request_content(&JsonNetError::new(
                "The deployment must have either 'template' or 'templateLink' property.",
                "properties",
            ))
            .into_reply());
        }
        Value::String(s) => match tjson::parse(&s) {
            Ok(Parsed { value: Value::Object(m), .. }) => m,
            _ => return Err(ArmError::template_not_an_object().into_reply()),
        },
        _ => return Err(ArmError::template_not_an_object().into_reply()),
    };
    let parameters = match get(&props, "parameters") {
        Value::Object(m) => {
            // A whole parameters file sent as `parameters` (`$schema` + `parameters`).
            match m.get("parameters") {
                Some(Value::Object(inner)) if m.contains_key("$schema") || m.contains_key("contentVersion") => inner.clone(),
                _ => m,
            }
        }
        Value::Null => Map::new(),
        other => {
            return Err(ArmError::invalid_request_content(&JsonNetError::requires_object(&other, "Dictionary`2", "properties.parameters"))
                .into_reply())
        }
    };
    let mode = match get(&props, "mode") {
        Value::String(m) if eq(&m, "incremental") => "Incremental".to_string(),
        Value::String(m) if eq(&m, "complete") => "Complete".to_string(),
        Value::Null => "Incremental".to_string(),
        other => {
            return Err(ArmError::invalid_request_content(&JsonNetError::convert(&other, "DeploymentMode", "properties.mode")).into_reply());
        }
    };
    let on_error = match get(&props, "onErrorDeployment") {
        Value::Null => None,
        Value::Object(m) => {
            let field = |k: &str| m.iter().find(|(key, _)| eq(key, k)).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
            let kind = match field("type") {
                Value::String(k) if eq(&k, "LastSuccessful") => "LastSuccessful",
                Value::String(k) if eq(&k, "SpecificDeployment") => "SpecificDeployment",
                // The enum's default member, as Json.NET leaves an absent one.
                Value::Null => "LastSuccessful",
                other => {
                    let e = JsonNetError::convert(&other, "OnErrorDeploymentType", "properties.onErrorDeployment.type");
                    return Err(ArmError::invalid_request_content(&e).into_reply());
                }
            };
            let name = field("deploymentName").as_str().filter(|n| !n.is_empty()).map(str::to_string);
            Some(OnErrorDeployment { kind: kind.into(), deployment_name: name, provisioning_state: None })
        }
        other => {
            let e = JsonNetError::requires_object(&other, "OnErrorDeployment", "properties.onErrorDeployment");
            return Err(ArmError::invalid_request_content(&e).into_reply());
        }
    };
    let template_path = parsed
        .value
        .as_object()
        .and_then(|m| m.keys().find(|k| eq(k, "properties")).cloned())
        .map(|p| format!("{p}.template"))
        .unwrap_or_else(|| "properties.template".into());
    Ok(Request {
        template: Template { root: template, path: template_path, positions: Arc::new(parsed.positions) },
        parameters,
        mode,
        location: get(&parsed.value, "location").as_str().map(str::to_string),
        tags: get(&parsed.value, "tags").as_object().cloned(),
        on_error,
    })
}

// ---- scope ------------------------------------------------------------------------------

fn scope_for(ctx: &Ctx, t: &Target, req: &Request) -> ArmResult<Scope> {
    let tenant = ctx.state.store.read(|tx| tx.tenant(t.sub.tenant_id))?;
    let rg_object = match &t.rg {
        Some(r) => {
            let mut o = json!({
                "id": r.id, "name": r.name, "type": "Microsoft.Resources/resourceGroups", "location": r.location,
                "properties": {"provisioningState": "Succeeded"},
            });
            if let Some(tags) = &r.tags {
                o["tags"] = Value::Object(tags.clone());
            }
            if let Some(m) = r.extra.get("managedBy") {
                o["managedBy"] = m.clone();
            }
            o
        }
        None => Value::Null,
    };
    let mut template_info = Map::new();
    for k in ["$schema", "contentVersion", "metadata", "languageVersion"] {
        if let Some(v) = req.template.root.get(k) {
            template_info.insert(k.to_string(), v.clone());
        }
    }
    let mut deployment = json!({
        "name": t.name,
        "properties": {"template": template_info, "parameters": req.parameters, "mode": req.mode, "provisioningState": "Accepted"},
    });
    if let Some(l) = &req.location {
        deployment["location"] = json!(l);
    }
    Ok(Scope {
        tenant_id: t.sub.tenant_id.to_string(),
        subscription_id: Some(t.sub.id.to_string()),
        resource_group: t.rg.as_ref().map(|r| r.name.clone()),
        subscription: json!({
            "id": format!("/subscriptions/{}", t.sub.id),
            "subscriptionId": t.sub.id.to_string(),
            "tenantId": t.sub.tenant_id.to_string(),
            "displayName": t.sub.display_name,
        }),
        resource_group_object: rg_object,
        deployment,
        environment: ctx.state.endpoints.cloud().template_environment(),
        tenant: json!({
            "countryCode": "US",
            "displayName": tenant.as_ref().map(|x| x.display_name.clone()).unwrap_or_default(),
            "id": format!("/tenants/{}", t.sub.tenant_id),
            "tenantId": t.sub.tenant_id.to_string(),
        }),
    })
}

// ---- internal ARM calls -----------------------------------------------------------------

/// One ARM call made on the caller's behalf, answered by the provider a direct call reaches;
/// `nested` for a nested deployment's PUT (one level deeper). The answer as status, JSON body
/// (ARM's error envelope for a failure) and headers.
fn call_at(ctx: &Ctx, nested: bool, method: Method, path: &str, api_version: &str, body: Option<&Value>) -> (StatusCode, Value, HeaderMap) {
    let mut inner = ctx.internal(method, path, api_version, body);
    if nested {
        inner.depth += 1;
    }
    let answer = match endpoint::parse(path) {
        Some(e) => Registry::installed().dispatch(&inner, &e),
        None => Err(ArmError::not_found_route(path)),
    };
    match answer {
        Ok(reply) => (reply.status, reply.body.unwrap_or(Value::Null), *reply.headers),
        Err(e) => (e.status, serde_json::to_value(e.envelope()).unwrap_or(Value::Null), HeaderMap::new()),
    }
}

fn call(ctx: &Ctx, method: Method, path: &str, api_version: &str, body: Option<&Value>) -> (StatusCode, Value, HeaderMap) {
    call_at(ctx, false, method, path, api_version, body)
}

fn provider_error(v: &Value, status: StatusCode) -> EvalError {
    EvalError::Provider {
        code: v["error"]["code"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").replace(' ', "")),
        message: v["error"]["message"].as_str().unwrap_or_default().to_string(),
    }
}

/// The api-version for a resource when a template names none.
fn default_api_version(id: &str) -> String {
    let parsed = ResourceId::parse(id).ok();
    if let Some(p) = &parsed {
        if let (Some(ns), false) = (&p.namespace, p.types.is_empty()) {
            let path = p.types.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join("/");
            if let Some(t) = Registry::installed().resource_type(ns, &path) {
                return t.api_versions[0].to_string();
            }
        }
        if p.namespace.is_none() && p.resource_group.is_some() {
            return api_versions::RESOURCES[0].to_string();
        }
    }
    if let Some(t) = id
        .to_ascii_lowercase()
        .contains("/providers/microsoft.authorization/")
        .then(|| Registry::installed().resource_type("Microsoft.Authorization", "roleAssignments"))
        .flatten()
    {
        return t.api_versions[0].to_string();
    }
    "2021-04-01".to_string()
}

/// `reference()` and `list*()` as the caller.
struct CallerHost<'a> {
    ctx: &'a Ctx,
}

impl Host for CallerHost<'_> {
    fn reference(&self, id: &str, api_version: Option<&str>, full: bool) -> EvalResult<Value> {
        let api = api_version.map(str::to_string).unwrap_or_else(|| default_api_version(id));
        let (status, body, _) = call(self.ctx, Method::GET, id, &api, None);
        if !status.is_success() {
            return Err(provider_error(&body, status));
        }
        Ok(if full { body } else { body.get("properties").cloned().unwrap_or(Value::Null) })
    }

    fn list(&self, id: &str, action: &str, api_version: &str, body: Option<&Value>) -> EvalResult<Value> {
        let (status, v, _) = call(self.ctx, Method::POST, &format!("{id}/{action}"), api_version, body);
        if !status.is_success() {
            return Err(provider_error(&v, status));
        }
        Ok(v)
    }

    /// The catalogue `GET /providers/{namespace}` answers from.
    fn provider(&self, namespace: &str) -> Option<ProviderDescription> {
        let p = Registry::installed().namespace(namespace)?;
        let locations: Vec<String> = crate::arm::core::catalog::LOCATIONS.iter().map(|(_, d)| d.to_string()).collect();
        Some(ProviderDescription {
            namespace: p.namespace.to_string(),
            resource_types: p
                .types
                .iter()
                .map(|t| ProviderTypeDescription {
                    resource_type: t.name.to_string(),
                    locations: locations.clone(),
                    api_versions: t.api_versions.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        })
    }
}

// ---- validation -------------------------------------------------------------------------

/// What `RBAC` action writing the resource `id` needs.
fn write_action(id: &str, full_type: &str) -> String {
    let lower = id.to_ascii_lowercase();
    if let Some(pos) = lower.rfind("/providers/") {
        let rest = &id[pos + "/providers/".len()..];
        let segs: Vec<&str> = rest.split('/').collect();
        if segs.len() >= 3 {
            let types: Vec<&str> = segs[1..].iter().step_by(2).cloned().collect();
            return format!("{}/{}/write", segs[0], types.join("/"));
        }
    }
    if eq(full_type, "Microsoft.Resources/resourceGroups") {
        return "Microsoft.Resources/subscriptions/resourceGroups/write".into();
    }
    format!("{full_type}/write")
}

/// Azure's validation refuses a template that deploys into a resource group other than its
/// own (a nested deployment's `resourceGroup`) that neither exists nor is declared by the
/// template itself (ResourceGroupNotFound).
fn target_groups_exist(ctx: &Ctx, t: &Target, prepared: &Prepared) -> ArmResult<()> {
    let live = |p: &&Planned| p.condition != Some(false);
    let declared: Vec<&str> = prepared
        .resources
        .iter()
        .filter(live)
        .filter(|p| eq(&p.full_type, mimic_domain::resource::RESOURCE_GROUP_TYPE))
        .map(|p| p.name.as_str())
        .collect();
    for p in prepared.resources.iter().filter(live).filter(|p| !p.existing) {
        let Ok(id) = mimic_domain::resource_id::ResourceId::parse(&p.id) else { continue };
        let (Some(sub), Some(rg)) = (id.subscription.as_deref(), id.resource_group.as_deref()) else { continue };
        if t.rg.as_deref().is_some_and(|own| eq(&own.name, rg)) || declared.iter().any(|d| eq(d, rg)) {
            continue;
        }
        ctx.resource_group(sub, rg)?;
    }
    Ok(())
}

/// Azure's preflight: the caller must be allowed to write every resource it deploys.
fn preflight(ctx: &Ctx, prepared: &Prepared) -> ArmResult<Option<ArmError>> {
    let mut denied = Vec::new();
    for p in &prepared.resources {
        if p.condition == Some(false) || p.existing {
            continue;
        }
        let action = write_action(&p.id, &p.full_type);
        if !ctx.allowed(&action, &p.id)? {
            denied.push((p, action));
        }
    }
    if denied.is_empty() {
        return Ok(None);
    }
    let denied: Vec<DeniedResource> =
        denied.iter().map(|(p, action)| DeniedResource { name: &p.name, resource_type: &p.full_type, action, id: &p.id }).collect();
    Ok(Some(ArmError::preflight_authorization_failed(&ctx.caller.display(), ctx.caller.object_id, &denied)))
}

fn template_hash(template: &Map<String, Value>) -> String {
    hash::murmur64(serde_json::to_string(template).unwrap_or_default().as_bytes()).to_string()
}

fn rendered_parameters(prepared: &Prepared) -> Map<String, Value> {
    let mut out = Map::new();
    for p in &prepared.params {
        if p.secure() {
            out.insert(p.name.clone(), json!({ "type": p.ty }));
        } else {
            out.insert(p.name.clone(), json!({ "type": p.ty, "value": p.value }));
        }
    }
    out
}

fn providers_of(prepared: &Prepared, bodies: &HashMap<usize, Value>) -> Vec<Value> {
    // namespace → [(resource type, locations)]
    type TypesByNamespace = Vec<(String, Vec<(String, Vec<String>)>)>;
    let mut by_ns: TypesByNamespace = Vec::new();
    for (i, p) in prepared.resources.iter().enumerate() {
        let Some((ns, ty)) = p.full_type.split_once('/') else { continue };
        let location = bodies.get(&i).and_then(|b| b["location"].as_str()).map(|l| l.to_string());
        let entry = match by_ns.iter_mut().position(|(n, _)| eq(n, ns)) {
            Some(k) => &mut by_ns[k].1,
            None => {
                by_ns.push((ns.to_string(), Vec::new()));
                &mut by_ns.last_mut().expect("just pushed").1
            }
        };
        let slot = match entry.iter_mut().position(|(t, _)| eq(t, ty)) {
            Some(k) => &mut entry[k].1,
            None => {
                entry.push((ty.to_string(), Vec::new()));
                &mut entry.last_mut().expect("just pushed").1
            }
        };
        if let Some(l) = location {
            if !slot.contains(&l) {
                slot.push(l);
            }
        }
    }
    by_ns
        .into_iter()
        .map(|(ns, types)| {
            json!({"namespace": ns, "resourceTypes": types.into_iter().map(|(t, locs)| {
                let mut o = json!({"resourceType": t});
                if !locs.is_empty() { o["locations"] = json!(locs); }
                o
            }).collect::<Vec<_>>()})
        })
        .collect()
}

fn dependencies_of(prepared: &Prepared) -> Vec<Value> {
    let r = &prepared.resources;
    r.iter()
        .filter(|p| !p.depends_on.is_empty())
        .map(|p| {
            json!({
                "dependsOn": p.depends_on.iter().map(|&d| json!({"id": r[d].id, "resourceType": r[d].full_type, "resourceName": r[d].name})).collect::<Vec<_>>(),
                "id": p.id, "resourceType": p.full_type, "resourceName": p.name,
            })
        })
        .collect()
}

/// Parses and validates a request: the template language, parameters, dependencies, and the
/// caller's permissions. `Err` is the response to give.
fn prepare(ctx: &Ctx, t: &Target) -> Result<(Request, Scope, Prepared), Reply> {
    let req = parse_request(ctx)?;
    if t.rg.is_none() && req.location.is_none() {
        return Err(ArmError::location_required().into_reply());
    }
    if req.mode == "Complete" && t.rg.is_none() {
        return Err(ArmError::complete_mode_at_subscription().into_reply());
    }
    if let Some(on_error) = &req.on_error {
        if t.rg.is_none() {
            return Err(ArmError::invalid_on_error_deployment("it is supported only for deployments to a resource group.").into_reply());
        }
        if on_error.kind == "SpecificDeployment" && on_error.deployment_name.is_none() {
            return Err(
                ArmError::invalid_on_error_deployment("'deploymentName' is required when 'type' is 'SpecificDeployment'.").into_reply()
            );
        }
        if on_error.deployment_name.as_deref().is_some_and(|n| eq(n, &t.name)) {
            return Err(ArmError::invalid_on_error_deployment("a deployment cannot redeploy itself on error.").into_reply());
        }
    }
    let scope = scope_for(ctx, t, &req).map_err(ArmError::into_reply)?;
    let prepared = engine::prepare(&req.template, &scope, &req.parameters).map_err(|e| ArmError::from_template(&e).into_reply())?;
    target_groups_exist(ctx, t, &prepared).map_err(ArmError::into_reply)?;
    match preflight(ctx, &prepared) {
        Ok(None) => {}
        Ok(Some(e)) => return Err(e.into_reply()),
        Err(e) => return Err(e.into_reply()),
    }
    Ok((req, scope, prepared))
}

fn validate_name(name: &str) -> ArmResult<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'));
    if ok {
        Ok(())
    } else {
        Err(ArmError::invalid_deployment_name(name))
    }
}

fn validate(ctx: &Ctx, t: &Target) -> ArmResult<Reply> {
    ctx.authorize(VALIDATE, &t.id)?;
    validate_name(&t.name)?;
    let (req, _scope, prepared) = match prepare(ctx, t) {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let now = Utc::now();
    let validated: Vec<Value> =
        prepared.resources.iter().filter(|p| p.condition != Some(false) && !p.existing).map(|p| json!({"id": p.id})).collect();
    let state = new_state(ctx, &req, &prepared, ProvisioningState::Succeeded, now);
    let mut properties = render_state(&state, None);
    properties.validated_resources = Some(validated);
    let res = wire::Deployment {
        id: t.id.clone(),
        name: t.name.clone(),
        kind: DEPLOYMENT_TYPE,
        location: req.location.clone(),
        tags: req.tags.clone(),
        properties,
    };
    Ok(json_response(StatusCode::OK, &res))
}

/// The properties of a deployment not yet run (accepted, or validated).
fn new_state(ctx: &Ctx, req: &Request, prepared: &Prepared, state: ProvisioningState, now: DateTime<Utc>) -> DeploymentState {
    DeploymentState {
        template_hash: template_hash(&req.template.root),
        parameters: rendered_parameters(prepared),
        mode: req.mode.clone(),
        provisioning_state: state,
        timestamp: now_text(now),
        duration: "PT0S".into(),
        correlation_id: correlation_id(ctx),
        providers: providers_of(prepared, &HashMap::new()),
        dependencies: dependencies_of(prepared),
        outputs: None,
        output_resources: None,
        error: None,
        on_error_deployment: req.on_error.clone(),
    }
}

fn correlation_id(ctx: &Ctx) -> String {
    ctx.headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::new_v4().to_string())
}

// ---- deploying --------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum State {
    Pending,
    Done,
    Failed,
    /// Not attempted: something it depends on failed.
    Blocked,
}

struct Outcome {
    operations: Vec<DeploymentOperation>,
    errors: Vec<wire::ErrorDetail>,
    output_resources: Vec<Value>,
    outputs: Option<Map<String, Value>>,
    bodies: HashMap<usize, Value>,
    /// Stopped by a cancel request.
    canceled: bool,
}

fn op_record(
    target: &Planned,
    provisioning: &str,
    state: &str,
    status: StatusCode,
    started: DateTime<Utc>,
    error: Option<&wire::ErrorDetail>,
) -> DeploymentOperation {
    let finished = Utc::now();
    DeploymentOperation {
        operation_id: operation_id(),
        properties: OperationProperties {
            provisioning_operation: provisioning.into(),
            provisioning_state: state.into(),
            timestamp: now_text(finished),
            duration: duration_text(finished - started),
            tracking_id: Uuid::new_v4().to_string(),
            service_request_id: Some(Uuid::new_v4().to_string()),
            status_code: ArmError::status_name(status),
            target_resource: Some(TargetResource {
                id: target.id.clone(),
                resource_type: target.full_type.clone(),
                resource_name: target.name.clone(),
                api_version: target.api_version.clone(),
            }),
            status_message: error.map(|e| StatusMessage { status: "Failed".into(), error: to_record(e) }),
        },
    }
}

/// What a running deployment tells its record as it goes; each answers whether to stop (a
/// cancel request).
trait Progress {
    /// The operations so far, each time one is added.
    fn report(&mut self, operations: &[DeploymentOperation]) -> bool;
    /// Waits until `deadline` (resources provisioning), or until a cancel.
    fn wait_until(&mut self, deadline: Instant) -> bool;
}

/// Runs the deployment: every resource in dependency order through the ARM handlers, then
/// complete-mode deletions, then outputs.
///
/// Each written resource then provisions for the server's provisioning delay, in parallel as
/// ARM runs a template's resources: a resource starts when everything it depends on has
/// finished, so a deployment lasts one delay per level of its `dependsOn` chain, and a cancel
/// stops it before resources whose turn has not come.
fn execute(ctx: &Ctx, t: &Target, req: &Request, scope: &Scope, prepared: &Prepared, depth: usize, progress: &mut dyn Progress) -> Outcome {
    let host = CallerHost { ctx };
    let mut states = vec![State::Pending; prepared.resources.len()];
    let mut out = Outcome {
        operations: Vec::new(),
        errors: Vec::new(),
        output_resources: Vec::new(),
        outputs: None,
        bodies: HashMap::new(),
        canceled: false,
    };
    let mut reported = 0;
    let delay = ctx.state.provisioning.delay();
    let began = Instant::now();
    // When each resource has finished provisioning, as an offset from `began`.
    let mut finished = vec![Duration::ZERO; prepared.resources.len()];
    for &i in &prepared.order {
        if out.operations.len() > reported {
            reported = out.operations.len();
            if progress.report(&out.operations) {
                out.canceled = true;
                return out;
            }
        }
        let p = &prepared.resources[i];
        if p.depends_on.iter().any(|&d| matches!(states[d], State::Failed | State::Blocked)) {
            states[i] = State::Blocked;
            continue;
        }
        let ready = p.depends_on.iter().map(|&d| finished[d]).max().unwrap_or_default();
        finished[i] = ready;
        if p.existing {
            states[i] = State::Done;
            continue;
        }
        if progress.wait_until(began + ready) {
            out.canceled = true;
            return out;
        }
        let mut ev = req.template.evaluator(scope, Some(&host), &prepared.params, &prepared.resources);
        ev.resource_copy = p.copy.clone();
        let started = Utc::now();
        let failed = |out: &mut Outcome, states: &mut Vec<State>, status: StatusCode, d: wire::ErrorDetail| {
            out.operations.push(op_record(p, "Create", "Failed", status, started, Some(&d)));
            out.errors.push(d);
            states[i] = State::Failed;
        };
        let fail = |out: &mut Outcome, states: &mut Vec<State>, e: ArmError| failed(out, states, e.status, e.into_detail());
        let condition = match p.condition {
            Some(c) => c,
            None => {
                let raw = p
                    .def
                    .as_object()
                    .and_then(|m| m.iter().find(|(k, _)| eq(k, "condition")).map(|(_, v)| v.clone()))
                    .unwrap_or(Value::Bool(true));
                match ev.value(&raw) {
                    Ok(Value::Bool(b)) => b,
                    Ok(_) => true,
                    Err(e) => {
                        let (code, message) = engine::runtime_error(&req.template, p, &e);
                        fail(&mut out, &mut states, ArmError::template_runtime(&code, message));
                        continue;
                    }
                }
            }
        };
        if !condition {
            states[i] = State::Done;
            continue;
        }
        let body = if p.is_deployment() { nested_body(&ev, req, p) } else { ev.value(&engine::body_of(p)) };
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                let (code, message) = engine::runtime_error(&req.template, p, &e);
                fail(&mut out, &mut states, ArmError::template_runtime(&code, message));
                continue;
            }
        };
        out.bodies.insert(i, body.clone());
        if p.is_deployment() && depth >= MAX_NESTING {
            fail(&mut out, &mut states, ArmError::deployment_nesting_limit_exceeded(&p.name, MAX_NESTING));
            continue;
        }
        let (status, response, _) = if p.is_deployment() {
            call_at(ctx, true, Method::PUT, &p.id, &ctx.api_version, Some(&body))
        } else {
            call(ctx, Method::PUT, &p.id, &p.api_version, Some(&body))
        };
        if !status.is_success() {
            fail(&mut out, &mut states, ArmError::resource_operation_failed(status, &response, || response.to_string()));
            continue;
        }
        if p.is_deployment() {
            // A nested deployment has run; its own record says how.
            let nested = ctx.state.store.read(|tx| tx.get(DEPLOYMENT, &resource_id::key(&p.id))).ok().flatten();
            if let Some(n) = nested.filter(|n| n.properties.provisioning_state == ProvisioningState::Failed) {
                failed(&mut out, &mut states, StatusCode::OK, to_wire(&n.properties.error.unwrap_or_default()));
                continue;
            }
        }
        // Written; it now provisions (a nested deployment's own resources already did).
        finished[i] = if p.is_deployment() { began.elapsed() } else { ready + delay };
        out.operations.push(op_record(p, "Create", "Succeeded", status, started, None));
        out.output_resources.push(json!({"id": p.id}));
        states[i] = State::Done;
    }
    if progress.wait_until(began + finished.iter().copied().max().unwrap_or_default()) {
        out.canceled = true;
        return out;
    }
    if !out.errors.is_empty() {
        return out;
    }
    if out.operations.len() > reported && progress.report(&out.operations) {
        out.canceled = true;
        return out;
    }
    if req.mode == "Complete" {
        complete_mode_deletions(ctx, t, prepared, &mut out);
        if !out.errors.is_empty() {
            return out;
        }
    }
    let ev = req.template.evaluator(scope, Some(&host), &prepared.params, &prepared.resources);
    match engine::outputs(&req.template, &ev) {
        Ok(o) => out.outputs = Some(o),
        Err(failed) => {
            out.errors.push(ArmError::output_evaluation_failed(failed));
        }
    }
    out
}

/// A nested deployment's request body. With the default `outer` scope the nested template
/// sees the parent's parameters, variables and functions; `inner` templates are their own.
fn nested_body(ev: &mimic_domain::template::Evaluator, req: &Request, p: &Planned) -> EvalResult<Value> {
    let mut def = engine::body_of(p);
    let props = def.get_mut("properties").and_then(Value::as_object_mut).map(std::mem::take).unwrap_or_default();
    let template = props.iter().find(|(k, _)| eq(k, "template")).map(|(_, v)| v.clone());
    let inner = props
        .iter()
        .find(|(k, _)| eq(k, "expressionEvaluationOptions"))
        .and_then(|(_, v)| v.get("scope"))
        .and_then(Value::as_str)
        .is_some_and(|s| eq(s, "inner"));
    let mut rest = Map::new();
    for (k, v) in props {
        if !eq(&k, "template") {
            rest.insert(k, v);
        }
    }
    let mut evaluated = match ev.value(&Value::Object(rest))? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut def_rest = def.as_object().cloned().unwrap_or_default();
    def_rest.remove("properties");
    let mut top = match ev.value(&Value::Object(def_rest))? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(Value::Object(mut tpl)) = template {
        if !inner {
            // Outer scope: the parent's parameters (as literal defaults), variables, functions.
            let mut params = Map::new();
            for (name, v) in ev.params.iter() {
                let declared = req
                    .template
                    .section("parameters")
                    .and_then(Value::as_object)
                    .and_then(|m| m.iter().find(|(k, _)| k.to_ascii_lowercase() == *name).map(|(k, d)| (k.clone(), d.clone())));
                let (pname, ty) = declared.map(|(k, d)| (k, d["type"].clone())).unwrap_or((name.clone(), json!("object")));
                params.insert(pname, json!({"type": ty, "defaultValue": engine::escape_literal(v)}));
            }
            tpl.insert("parameters".into(), Value::Object(params));
            if let Some(v) = req.template.section("variables") {
                tpl.insert("variables".into(), v.clone());
            }
            if let Some(f) = req.template.section("functions") {
                tpl.insert("functions".into(), f.clone());
            }
            evaluated.remove("parameters");
        }
        evaluated.insert("template".into(), Value::Object(tpl));
    }
    evaluated.entry("mode".to_string()).or_insert_with(|| json!("Incremental"));
    top.insert("properties".into(), Value::Object(evaluated));
    Ok(Value::Object(top))
}

/// Complete mode: resources of the group the template does not declare are deleted.
fn complete_mode_deletions(ctx: &Ctx, t: &Target, prepared: &Prepared, out: &mut Outcome) {
    let Some(rg) = &t.rg else { return };
    let keep: HashSet<String> = prepared.resources.iter().map(|p| resource_id::key(&p.id)).collect();
    let (status, listing, _) = call(ctx, Method::GET, &format!("{}/resources", rg.id), api_versions::RESOURCES[0], None);
    if !status.is_success() {
        return;
    }
    let mut victims: Vec<(String, String, String)> = listing["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["id"].as_str()?.to_string(), r["type"].as_str()?.to_string(), r["name"].as_str()?.to_string())))
        .filter(|(id, _, _)| !keep.contains(&resource_id::key(id)))
        .collect();
    // Children before parents, virtual machines before what they use.
    victims.sort_by_key(|(id, ty, _)| (!eq(ty, "Microsoft.Compute/virtualMachines"), std::cmp::Reverse(id.matches('/').count())));
    for (id, ty, name) in victims {
        let started = Utc::now();
        let api = default_api_version(&id);
        let (status, response, _) = call(ctx, Method::DELETE, &id, &api, None);
        let target = Planned {
            path: String::new(),
            symbolic: None,
            def: Value::Null,
            copy: None,
            name,
            full_type: ty,
            api_version: api,
            id: id.clone(),
            condition: Some(true),
            depends_on: vec![],
            existing: false,
        };
        if status.is_success() || status == StatusCode::NOT_FOUND {
            out.operations.push(op_record(&target, "Delete", "Succeeded", status, started, None));
        } else {
            let d = ArmError::resource_operation_failed(status, &response, String::new).into_detail();
            out.operations.push(op_record(&target, "Delete", "Failed", status, started, Some(&d)));
            out.errors.push(d);
        }
    }
}

fn put(ctx: &Ctx, t: &Target) -> ArmResult<Reply> {
    ctx.authorize(WRITE, &t.id)?;
    validate_name(&t.name)?;
    let depth = ctx.depth;
    let (req, scope, prepared) = match prepare(ctx, t) {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let started = Utc::now();
    let status_id = format!("0858{:016}", rand::random::<u64>() % 10_000_000_000_000_000);
    let accepted = DeploymentRecord {
        id: t.id.clone(),
        name: t.name.clone(),
        location: req.location.clone(),
        tags: req.tags.clone(),
        created: started,
        status_id: status_id.clone(),
        cancel_requested: false,
        template: Value::Object(req.template.root.clone()),
        operations: vec![],
        properties: new_state(ctx, &req, &prepared, ProvisioningState::Accepted, started),
    };
    let existed = record_accepted(ctx, t, &accepted)?;
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    let mut res = json_response(status, &render(&accepted, Some(ProvisioningState::Accepted)));
    match tokio::runtime::Handle::try_current() {
        // A top-level deployment runs on its own task, as the caller, after the PUT answered.
        Ok(rt) if depth == 0 => {
            let (bg, t, (done_tx, done_rx)) = (ctx.detached(), t.clone(), std::sync::mpsc::channel());
            rt.spawn_blocking(move || {
                let mut failed = accepted.clone();
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&bg, &t, &req, &scope, &prepared, 0, accepted)));
                if ran.is_err() {
                    // A bug must not leave the deployment Running (and its name blocked) forever.
                    failed.properties.provisioning_state = ProvisioningState::Failed;
                    failed.properties.error =
                        Some(OperationError::new("InternalServerError", "The deployment stopped because of an internal error in Mimic."));
                    let _ = save(&bg, &t, &failed, true);
                }
                let _ = done_tx.send(());
            });
            // Most deployments take milliseconds: waiting a moment for them lets the client's
            // first poll find them done instead of sleeping out a Retry-After.
            let _ = done_rx.recv_timeout(QUICK_FINISH);
        }
        // A nested deployment runs within its parent's (which waits for it anyway).
        _ => run(ctx, t, &req, &scope, &prepared, depth, accepted),
    }
    let url = t.status_url(ctx, &status_id);
    res.headers_mut().insert("azure-asyncoperation", HeaderValue::from_str(&url).map_err(ArmError::internal)?);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    Ok(res)
}

/// Records the deployment as `Accepted` (durably, before anything runs) and as in progress; a
/// deployment of the same name still in progress is Azure's 409 `DeploymentActive`
/// (Azure/azure-dev#7248).
fn record_accepted(ctx: &Ctx, t: &Target, doc: &DeploymentRecord) -> ArmResult<bool> {
    let index_key = resource_id::key(&t.scope_id);
    let rg_created = t.rg.as_ref().map(|r| r.created);
    ctx.state.store.write(|tx| {
        let previous = tx.get(DEPLOYMENT, &t.key)?.filter(|d| d.is_current(rg_created));
        if let Some(p) = previous.as_ref().filter(|p| p.is_active()) {
            return Err(ArmError::deployment_active(&t.name, &p.properties.timestamp));
        }
        tx.put(DEPLOYMENT, &t.key, doc, None)?;
        let mut index = tx.get(DEPLOYMENT_INDEX, &index_key)?.unwrap_or_default();
        index.push(&t.key);
        tx.put(DEPLOYMENT_INDEX, &index_key, &index, None)?;
        let mut running = tx.get(RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID)?.unwrap_or_default();
        running.add(&t.key, runner());
        tx.put(RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID, &running, None)?;
        Ok(previous.is_some())
    })
}

/// Runs a recorded deployment to its end: `Running`, each finished resource's operation saved
/// as it finishes, then the outcome. A cancel request (stored on the document, so any replica
/// may take it) stops it before the next resource.
fn run(ctx: &Ctx, t: &Target, req: &Request, scope: &Scope, prepared: &Prepared, depth: usize, mut doc: DeploymentRecord) {
    let started = Utc::now();
    doc.properties.provisioning_state = ProvisioningState::Running;
    let cancel = save(ctx, t, &doc, false).unwrap_or(false);
    let mut progress = Saver { ctx, t, doc: &mut doc, cancel, saved: Instant::now() };
    let outcome = execute(ctx, t, req, scope, prepared, depth, &mut progress);
    let finished = Utc::now();
    let failed = !outcome.errors.is_empty();
    let error = if failed {
        let only_outputs = outcome.errors.len() == 1 && outcome.errors[0].code == "DeploymentOutputEvaluationFailed";
        Some(if only_outputs { outcome.errors[0].clone() } else { ArmError::deployment_failed(&t.id, outcome.errors.clone()) })
    } else {
        None
    };
    let mut operations = outcome.operations.clone();
    if !outcome.canceled
        && (outcome.outputs.as_ref().is_some_and(|o| !o.is_empty())
            || req.template.section("outputs").is_some_and(|o| o.as_object().is_some_and(|m| !m.is_empty())))
    {
        let output_failed = error.as_ref().is_some_and(|e| e.code == "DeploymentOutputEvaluationFailed");
        operations.push(DeploymentOperation {
            operation_id: operation_id(),
            properties: OperationProperties {
                provisioning_operation: "EvaluateDeploymentOutput".into(),
                provisioning_state: if output_failed {
                    "Failed"
                } else if failed {
                    "Canceled"
                } else {
                    "Succeeded"
                }
                .into(),
                timestamp: now_text(finished),
                duration: "PT0S".into(),
                tracking_id: Uuid::new_v4().to_string(),
                service_request_id: None,
                status_code: "OK".into(),
                target_resource: None,
                status_message: None,
            },
        });
    }
    doc.operations = operations;
    let p = &mut doc.properties;
    p.provisioning_state = if outcome.canceled {
        ProvisioningState::Canceled
    } else if failed {
        ProvisioningState::Failed
    } else {
        ProvisioningState::Succeeded
    };
    p.timestamp = now_text(finished);
    p.duration = duration_text(finished - started);
    p.providers = providers_of(prepared, &outcome.bodies);
    p.outputs = outcome.outputs;
    p.output_resources = Some(outcome.output_resources);
    p.error = error.as_ref().map(to_record);
    if p.provisioning_state == ProvisioningState::Failed && depth == 0 {
        if let Some(on_error) = p.on_error_deployment.as_mut() {
            roll_back(ctx, t, on_error);
        }
    }
    if let Err(e) = save(ctx, t, &doc, true) {
        tracing::error!(deployment = %t.id, error = ?e, "could not record the end of a deployment");
    }
}

/// `onErrorDeployment` of a failed root-level deployment: the earlier deployment (named, or the
/// group's newest successful one) runs again under its own name, in complete mode, with its own
/// template and parameters ("Rollback on error to successful deployment", learn.microsoft.com);
/// `on_error` records which one and how it ended. The failed deployment stays `Running` until
/// then, so a client waiting on it sees the rollback done.
fn roll_back(ctx: &Ctx, t: &Target, on_error: &mut OnErrorDeployment) {
    let Some(rg) = &t.rg else { return };
    let index_key = resource_id::key(&t.scope_id);
    let earlier = ctx.state.store.read(|tx| {
        let index = tx.get(DEPLOYMENT_INDEX, &index_key)?.unwrap_or_default();
        // Newest first, as the group's history lists them.
        for k in index.keys.iter().rev() {
            let Some(d) = tx.get(DEPLOYMENT, k)? else { continue };
            if !d.is_current(Some(rg.created)) || eq(&d.name, &t.name) {
                continue;
            }
            let wanted = match &on_error.deployment_name {
                Some(n) => eq(n, &d.name),
                None => d.properties.provisioning_state == ProvisioningState::Succeeded,
            };
            if wanted {
                return Ok::<_, mimic_store::StoreError>(Some(d));
            }
        }
        Ok(None)
    });
    let earlier = match earlier {
        Ok(Some(d)) if d.properties.provisioning_state == ProvisioningState::Succeeded => d,
        // Named but missing or not successful, or no successful deployment: "If the specified
        // earlier deployment doesn't exist in the deployment history, the rollback returns an error."
        _ => {
            on_error.provisioning_state = Some(ProvisioningState::Failed.as_str().into());
            return;
        }
    };
    let mut parameters = Map::new();
    for (name, p) in &earlier.properties.parameters {
        // Secure values are not kept (docs/compatibility.md): the template's default, if any, applies.
        if let Some(v) = p.get("value") {
            parameters.insert(name.clone(), json!({ "value": v }));
        }
    }
    let mut body = json!({"properties": {"mode": "Complete", "template": earlier.template, "parameters": parameters}});
    if let Some(tags) = &earlier.tags {
        body["tags"] = Value::Object(tags.clone());
    }
    let (status, _, _) = call_at(ctx, true, Method::PUT, &earlier.id, &ctx.api_version, Some(&body));
    let state = if status.is_success() {
        let ran = ctx.state.store.read(|tx| tx.get(DEPLOYMENT, &resource_id::key(&earlier.id))).ok().flatten();
        ran.map(|d| d.properties.provisioning_state).unwrap_or(ProvisioningState::Failed)
    } else {
        ProvisioningState::Failed
    };
    on_error.deployment_name = Some(earlier.name);
    on_error.provisioning_state = Some(state.as_str().into());
}

/// A running deployment's [`Progress`], kept on its record.
struct Saver<'a> {
    ctx: &'a Ctx,
    t: &'a Target,
    doc: &'a mut DeploymentRecord,
    cancel: bool,
    saved: Instant,
}

impl Progress for Saver<'_> {
    fn report(&mut self, operations: &[DeploymentOperation]) -> bool {
        // Progress is saved at most every PROGRESS_EVERY (each save is a durable write).
        if !self.cancel && self.saved.elapsed() >= PROGRESS_EVERY {
            self.doc.operations = operations.to_vec();
            self.cancel = save(self.ctx, self.t, self.doc, false).unwrap_or(false);
            self.saved = Instant::now();
        }
        self.cancel
    }

    fn wait_until(&mut self, deadline: Instant) -> bool {
        loop {
            let now = Instant::now();
            if self.cancel || now >= deadline || self.ctx.state.provisioning.is_stopping() {
                return self.cancel;
            }
            std::thread::sleep((deadline - now).min(PROGRESS_EVERY));
            self.cancel = cancel_requested(self.ctx, self.t, &self.doc.status_id);
        }
    }
}

/// Whether a cancel has been asked for this run of the deployment (a read: waiting polls it).
fn cancel_requested(ctx: &Ctx, t: &Target, status_id: &str) -> bool {
    let stored = ctx.state.store.read(|tx| tx.get(DEPLOYMENT, &t.key)).ok().flatten();
    stored.is_some_and(|d| d.cancel_requested && d.status_id == status_id)
}

/// Saves a deployment's progress (`done`: its end, which also takes it off the in-progress
/// list). Says whether a cancel has been asked for; a cancel that arrives after the last
/// resource still ends the deployment `Canceled`, as the 204 promised.
fn save(ctx: &Ctx, t: &Target, doc: &DeploymentRecord, done: bool) -> ArmResult<bool> {
    ctx.state.store.write(|tx| {
        let stored = tx.get(DEPLOYMENT, &t.key)?;
        let cancel = stored.as_ref().is_some_and(|d| d.cancel_requested && d.status_id == doc.status_id);
        let mut d = doc.clone();
        if cancel {
            d.cancel_requested = true;
            if done && d.properties.provisioning_state == ProvisioningState::Succeeded {
                d.properties.provisioning_state = ProvisioningState::Canceled;
            }
        }
        tx.put(DEPLOYMENT, &t.key, &d, None)?;
        if done {
            let mut running = tx.get(RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID)?.unwrap_or_default();
            running.remove(&t.key);
            tx.put(RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID, &running, None)?;
        }
        Ok(cancel)
    })
}

/// `POST .../cancel`: 204 for a deployment in progress (it stops before its next resource and
/// ends `Canceled`), else Azure's 409 `DeploymentCannotBeCancelled`.
fn cancel(ctx: &Ctx, t: &Target) -> ArmResult<Reply> {
    ctx.authorize(CANCEL, &t.id)?;
    let rg_created = t.rg.as_ref().map(|r| r.created);
    ctx.state.store.write(|tx| {
        let mut doc = tx.get(DEPLOYMENT, &t.key)?.filter(|d| d.is_current(rg_created)).ok_or_else(|| not_found(t))?;
        if !doc.is_active() {
            return Err(ArmError::deployment_cannot_be_cancelled(&t.name, doc.properties.provisioning_state.as_str()));
        }
        doc.cancel_requested = true;
        tx.put(DEPLOYMENT, &t.key, &doc, None)?;
        Ok(Reply::status(StatusCode::NO_CONTENT))
    })
}

/// This server's name on the in-progress list: its data directory, which is its own across
/// restarts and differs between replicas sharing one PostgreSQL store.
static RUNNER: OnceLock<String> = OnceLock::new();

fn runner() -> &'static str {
    RUNNER.get().map(String::as_str).unwrap_or("local")
}

/// At start: a deployment this server was running when it stopped cannot be resumed honestly
/// (half its resources may be written, its evaluation state is gone), so it ends `Failed` with
/// `DeploymentInterrupted`; what it had written stays, as after any failed deployment.
pub fn recover_interrupted(store: &mimic_store::Store, data_dir: &std::path::Path) -> Result<usize, mimic_store::StoreError> {
    let me = RUNNER.get_or_init(|| std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf()).display().to_string());
    store.write(|tx| {
        // A document that cannot be read must not keep the server from starting: it is
        // reported with its key (and its GET answers an error in ARM's shape), and start-up
        // goes on. The entry leaves the running list either way.
        let running = match tx.get(RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID) {
            Err(mimic_store::StoreError::Corrupt(e)) => {
                tracing::error!(kind = RUNNING_DEPLOYMENTS.name(), key = RUNNING_DEPLOYMENTS_ID, error = %e, "stored document cannot be read; in-progress deployments not recovered");
                None
            }
            other => other?,
        };
        let (mine, others): (Vec<_>, Vec<_>) = running.unwrap_or_default().entries.into_iter().partition(|e| e.runner == *me);
        let mut failed = 0;
        for e in &mine {
            let key = e.key.as_str();
            let mut doc = match tx.get(DEPLOYMENT, key) {
                Ok(Some(doc)) => doc,
                Ok(None) => continue,
                Err(mimic_store::StoreError::Corrupt(e)) => {
                    tracing::error!(kind = DEPLOYMENT.name(), key, error = %e, "stored deployment cannot be read; left as it is");
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !doc.is_active() {
                continue;
            }
            let p = &mut doc.properties;
            p.provisioning_state = ProvisioningState::Failed;
            p.timestamp = now_text(Utc::now());
            p.error = Some(OperationError::new(
                "DeploymentInterrupted",
                format!("The deployment '{}' was interrupted because the Mimic server stopped while it was running. Resources it had already deployed remain; deploy again to complete it.", doc.name),
            ));
            tx.put(DEPLOYMENT, key, &doc, None)?;
            failed += 1;
        }
        tx.put(RUNNING_DEPLOYMENTS, RUNNING_DEPLOYMENTS_ID, &mimic_domain::deployment::RunningDeployments { entries: others }, None)?;
        Ok(failed)
    })
}

fn delete(ctx: &Ctx, t: &Target) -> ArmResult<Reply> {
    ctx.authorize(DELETE, &t.id)?;
    if load(ctx, t)?.is_none() {
        return Ok(Reply::status(StatusCode::NO_CONTENT));
    }
    let index_key = resource_id::key(&t.scope_id);
    let rg_created = t.rg.as_ref().map(|r| r.created);
    ctx.state.store.write(|tx| {
        // "A template deployment that is currently running cannot be deleted" (resources.json,
        // Deployments_Delete). Azure's exact text is unrecorded: the code is the one Azure
        // gives for an active deployment in the way, the wording Mimic's.
        if tx.get(DEPLOYMENT, &t.key)?.is_some_and(|d| d.is_current(rg_created) && d.is_active()) {
            return Err(ArmError::deployment_active_on_delete(&t.name));
        }
        tx.remove(DEPLOYMENT, &t.key)?;
        let mut index: DeploymentIndex = tx.get(DEPLOYMENT_INDEX, &index_key)?.unwrap_or_default();
        index.remove(&t.key);
        tx.put(DEPLOYMENT_INDEX, &index_key, &index, None)?;
        Ok::<_, ArmError>(())
    })?;
    let op = operations::record_done(ctx, &t.sub.id.to_string(), None)?;
    let mut res = Reply::status(StatusCode::ACCEPTED);
    let location = format!("{}/subscriptions/{}/operationresults/{op}?api-version={}", ctx.arm_url(), t.sub.id, ctx.api_version);
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).map_err(ArmError::internal)?);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
    Ok(res)
}

// ---- what-if ----------------------------------------------------------------------------

fn what_if(ctx: &Ctx, t: &Target) -> ArmResult<Reply> {
    ctx.authorize(WHAT_IF, &t.id)?;
    let (req, scope, prepared) = match prepare(ctx, t) {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let host = CallerHost { ctx };
    let mut changes = Vec::new();
    for &i in &prepared.order {
        let p = &prepared.resources[i];
        if p.condition == Some(false) || p.existing {
            continue;
        }
        let mut ev = req.template.evaluator(&scope, Some(&host), &prepared.params, &prepared.resources);
        ev.resource_copy = p.copy.clone();
        let mut after = match ev.value(&engine::body_of(p)) {
            Ok(v) => v,
            Err(_) => engine::body_of(p),
        };
        if let Some(m) = after.as_object_mut() {
            m.insert("id".into(), json!(p.id));
            m.insert("name".into(), json!(p.name.rsplit('/').next().unwrap_or(&p.name)));
            m.insert("type".into(), json!(p.full_type));
            m.insert("apiVersion".into(), json!(p.api_version));
        }
        let (status, before, _) = call(ctx, Method::GET, &p.id, &p.api_version, None);
        let change = if status == StatusCode::NOT_FOUND {
            wire::WhatIfChange { resource_id: p.id.clone(), change_type: "Create".into(), before: None, after: Some(after), delta: vec![] }
        } else if status.is_success() {
            let mut delta = Vec::new();
            diff("", &before, &after, &mut delta);
            let kind = if delta.is_empty() { "NoChange" } else { "Modify" };
            wire::WhatIfChange { resource_id: p.id.clone(), change_type: kind.into(), before: Some(before), after: Some(after), delta }
        } else {
            wire::WhatIfChange { resource_id: p.id.clone(), change_type: "Unsupported".into(), before: None, after: None, delta: vec![] }
        };
        changes.push(change);
    }
    if req.mode == "Complete" {
        if let Some(rg) = &t.rg {
            let keep: HashSet<String> = prepared.resources.iter().map(|p| resource_id::key(&p.id)).collect();
            let (_, listing, _) = call(ctx, Method::GET, &format!("{}/resources", rg.id), api_versions::RESOURCES[0], None);
            for r in listing["value"].as_array().into_iter().flatten() {
                let id = r["id"].as_str().unwrap_or_default();
                if !keep.contains(&resource_id::key(id)) {
                    changes.push(wire::WhatIfChange {
                        resource_id: id.to_string(),
                        change_type: "Delete".into(),
                        before: Some(r.clone()),
                        after: None,
                        delta: vec![],
                    });
                }
            }
        }
    }
    Ok(json_response(StatusCode::OK, &wire::WhatIfResult { status: "Succeeded".into(), properties: wire::WhatIfProperties { changes } }))
}

/// Property changes between what exists and what the template asks for (only the properties
/// the template sets are compared; read-only ones the provider adds are not changes).
fn diff(path: &str, before: &Value, after: &Value, out: &mut Vec<Value>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, av) in a {
                if ["id", "name", "type", "apiVersion"].contains(&k.as_str()) && path.is_empty() {
                    continue;
                }
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match b.iter().find(|(bk, _)| eq(bk, k)) {
                    Some((_, bv)) => diff(&p, bv, av, out),
                    None => out.push(json!({"path": p, "propertyChangeType": "Create", "after": av})),
                }
            }
        }
        (Value::String(b), Value::String(a)) if eq(b, a) => {}
        (b, a) if b == a => {}
        (b, a) => out.push(json!({"path": path, "propertyChangeType": "Modify", "before": b, "after": a})),
    }
}
