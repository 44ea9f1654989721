//! `/applications/{id}/federatedIdentityCredentials[/{id or name}]`: an app registration's
//! federated identity credentials (federatedIdentityCredential resource; `az ad app
//! federated-credential create|list|show|update|delete`), under Entra's rules
//! (`mimic_domain::federation`). The token service reads them from the application on every
//! exchange (`login/federated.rs`).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use mimic_domain::directory::{Application, DirectoryAction, DirectoryObject};
use mimic_domain::federation::{self, ClaimsExpression, FederatedCredential};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::ctx::Ctx;
use super::error::{GraphError, GraphResult};

const TYPE: &str = "microsoft.graph.federatedIdentityCredential";
/// Properties of the resource; any other in a body is refused, as Graph does.
const PROPERTIES: [&str; 7] = ["id", "name", "issuer", "subject", "audiences", "description", "claimsMatchingExpression"];

pub fn route(ctx: &Ctx, app: &Application, rest: &[String]) -> GraphResult<Response> {
    match (rest, &ctx.method) {
        ([], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            let value: Vec<Value> = app.federated_identity_credentials.iter().map(render).collect();
            let context = ctx.context_url(&format!("applications('{}')/federatedIdentityCredentials", app.id));
            Ok(ctx.respond(StatusCode::OK, json!({"@odata.context": context, "value": value})))
        }
        ([], &Method::POST) => create(ctx, app),
        ([key], &Method::GET) => {
            ctx.require(DirectoryAction::Read)?;
            let c = find(app, key)?;
            Ok(entity(ctx, app, c))
        }
        ([key], &Method::PATCH) => update(ctx, app, key),
        ([key], &Method::DELETE) => delete(ctx, app, key),
        ([] | [_], _) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::segment_not_found(&rest[1])),
    }
}

fn render(c: &FederatedCredential) -> Value {
    let mut m = Map::new();
    m.insert("audiences".into(), json!(c.audiences));
    m.insert("description".into(), json!(c.description));
    m.insert("id".into(), json!(c.id));
    m.insert("issuer".into(), json!(c.issuer));
    m.insert("name".into(), json!(c.name));
    m.insert("subject".into(), json!(c.subject));
    if let Some(e) = &c.claims_matching_expression {
        m.insert("claimsMatchingExpression".into(), json!(e));
    }
    Value::Object(m)
}

fn entity(ctx: &Ctx, app: &Application, c: &FederatedCredential) -> Response {
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        ctx.context_url(&format!("applications('{}')/federatedIdentityCredentials/$entity", app.id)).into(),
    );
    if let Value::Object(m) = render(c) {
        body.extend(m);
    }
    ctx.respond(StatusCode::OK, Value::Object(body))
}

/// By id, or by name (Graph takes either as the key).
fn find<'a>(app: &'a Application, key: &str) -> GraphResult<&'a FederatedCredential> {
    let id = key.parse::<Uuid>().ok();
    app.federated_identity_credentials
        .iter()
        .find(|c| (id.is_some() && c.id == id) || c.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| GraphError::not_found(key))
}

/// The body as a credential (over `base` for a PATCH), with Entra's checks.
fn from_body(ctx: &Ctx, base: Option<&FederatedCredential>) -> GraphResult<FederatedCredential> {
    let Value::Object(m) = ctx.json::<Value>()? else {
        return Err(GraphError::invalid_body("The request body must be a federatedIdentityCredential object."));
    };
    for k in m.keys() {
        if !k.starts_with('@') && !PROPERTIES.iter().any(|p| p.eq_ignore_ascii_case(k)) {
            return Err(GraphError::unknown_property(k, TYPE));
        }
    }
    let get = |k: &str| m.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    let text = |k: &str, current: Option<&str>| -> GraphResult<Option<String>> {
        match get(k) {
            None => Ok(current.map(str::to_string)),
            Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(GraphError::invalid_value(k, TYPE)),
        }
    };
    let name = text("name", base.map(|b| b.name.as_str()))?.unwrap_or_default();
    if base.is_some_and(|b| !b.name.eq_ignore_ascii_case(&name)) {
        return Err(GraphError::bad_request("The name of a federated identity credential cannot be changed."));
    }
    let issuer = text("issuer", base.map(|b| b.issuer.as_str()))?.unwrap_or_default();
    let subject = text("subject", base.and_then(|b| b.subject.as_deref()))?;
    let description = text("description", base.and_then(|b| b.description.as_deref()))?;
    let audiences = match get("audiences") {
        None => base.map(|b| b.audiences.clone()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| GraphError::invalid_value("audiences", TYPE))?,
        ),
        Some(_) => return Err(GraphError::invalid_value("audiences", TYPE)),
    };
    let expression = match get("claimsMatchingExpression") {
        None => base.and_then(|b| b.claims_matching_expression.clone()),
        Some(Value::Null) => None,
        Some(e) => Some(ClaimsExpression::from_json(e).map_err(GraphError::bad_request)?),
    };
    let mut c = FederatedCredential::new(&name, &issuer, subject.as_deref(), expression, audiences, description.as_deref())
        .map_err(|e| GraphError::bad_request(e.to_string()))?;
    c.id = base.and_then(|b| b.id).or_else(|| Some(Uuid::new_v4()));
    Ok(c)
}

/// Applies `change` to the stored application in one transaction.
fn write(ctx: &Ctx, app: &Application, change: impl Fn(&mut Application) -> GraphResult<()>) -> GraphResult<()> {
    let (tenant, id) = (ctx.tenant_id(), app.id);
    ctx.state.store.write(|tx| {
        let Some(DirectoryObject::Application(mut app)) = tx.directory_object(tenant, id)? else {
            return Err(GraphError::not_found(&id.to_string()));
        };
        change(&mut app)?;
        tx.put_directory_object(&DirectoryObject::Application(app))?;
        Ok(())
    })
}

fn create(ctx: &Ctx, app: &Application) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let new = from_body(ctx, None)?;
    write(ctx, app, |a| {
        if a.federated_identity_credentials.iter().any(|c| c.name.eq_ignore_ascii_case(&new.name)) {
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                format!("FederatedIdentityCredential with name {} already exists.", new.name),
            ));
        }
        federation::check_set(&a.federated_identity_credentials, &new).map_err(|e| GraphError::bad_request(e.to_string()))?;
        a.federated_identity_credentials.push(new.clone());
        Ok(())
    })?;
    let mut res = entity(ctx, app, &new);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

fn update(ctx: &Ctx, app: &Application, key: &str) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let current = find(app, key)?.clone();
    let new = from_body(ctx, Some(&current))?;
    write(ctx, app, |a| {
        federation::check_set(&a.federated_identity_credentials, &new).map_err(|e| GraphError::bad_request(e.to_string()))?;
        let slot = a.federated_identity_credentials.iter_mut().find(|c| c.id == current.id).ok_or_else(|| GraphError::not_found(key))?;
        *slot = new.clone();
        Ok(())
    })?;
    Ok(ctx.no_content())
}

fn delete(ctx: &Ctx, app: &Application, key: &str) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let current = find(app, key)?.clone();
    write(ctx, app, |a| {
        a.federated_identity_credentials.retain(|c| c.id != current.id);
        Ok(())
    })?;
    Ok(ctx.no_content())
}
