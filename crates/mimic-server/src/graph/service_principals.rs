//! `/servicePrincipals`: applications' and managed identities' principals. az finds them with
//! `$filter=displayName eq`, `startswith(displayName,...)` and
//! `servicePrincipalNames/any(c:c eq '<appId>')`, creates them with `{"appId": ...}`, and reads
//! `id`, `appId`, `displayName`, `servicePrincipalNames[0]`, `servicePrincipalType`,
//! `alternativeNames`.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::directory::{DirectoryAction, DirectoryObject, ServicePrincipal, ServicePrincipalType};
use serde_json::Value;
use uuid::Uuid;

use super::ctx::{parse_id, Ctx};
use super::directory_objects;
use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};

pub fn route(ctx: &Ctx, key: Option<(Option<String>, String)>, rest: &[String]) -> GraphResult<Response> {
    let obj = match (key, rest.first()) {
        (Some((Some(prop), value)), _) if prop.eq_ignore_ascii_case("appId") => by_app_id(ctx, &value)?,
        (Some((Some(prop), _)), _) => {
            return Err(GraphError::bad_request(format!("'{prop}' is not an alternate key of servicePrincipal.")))
        }
        (Some((None, id)), _) => ctx.get(Kind::ServicePrincipal, &id)?,
        (None, None) => {
            return match ctx.method {
                Method::GET => {
                    ctx.require(DirectoryAction::Read)?;
                    ctx.collection(Kind::ServicePrincipal, ctx.all(Kind::ServicePrincipal)?)
                }
                Method::POST => create(ctx),
                _ => Err(GraphError::method_not_allowed()),
            };
        }
        (None, Some(first)) if first == "$count" => {
            ctx.require(DirectoryAction::Read)?;
            return ctx.raw_count(Kind::ServicePrincipal, ctx.all(Kind::ServicePrincipal)?);
        }
        (None, Some(first)) => ctx.get(Kind::ServicePrincipal, first)?,
    };
    // With a key in the first segment the rest starts at 0, otherwise after the id.
    let rest = if ctx.segments[0].contains('(') { rest } else { &rest[1..] };
    let DirectoryObject::ServicePrincipal(sp) = &obj else { unreachable!("looked up as a service principal") };
    if rest.is_empty() {
        return match ctx.method {
            Method::GET => {
                ctx.require(DirectoryAction::Read)?;
                ctx.entity(StatusCode::OK, Kind::ServicePrincipal, objects::service_principal(sp, ctx.tenant()?))
            }
            Method::PATCH => update(ctx, sp.clone()),
            Method::DELETE => directory_objects::delete(ctx, &obj),
            _ => Err(GraphError::method_not_allowed()),
        };
    }
    if let Some(r) = rest.get(..1).filter(|_| rest.len() == 1).and_then(|seg| super::credentials::action(ctx, &obj, &seg[0])) {
        return r;
    }
    super::owners::route(ctx, &obj, rest)
        .or_else(|| super::consent::app_role_route(ctx, sp, rest))
        .or_else(|| directory_objects::membership(ctx, &obj, rest))
        .unwrap_or_else(|| Err(GraphError::segment_not_found(&rest[0])))
}

fn by_app_id(ctx: &Ctx, app_id: &str) -> GraphResult<DirectoryObject> {
    let id = parse_id(app_id)?;
    ctx.state
        .store
        .read(|tx| tx.directory_object_by_app_id(ctx.tenant_id(), "servicePrincipal", id))?
        .ok_or_else(|| GraphError::not_found(app_id))
}

fn prop<'a>(m: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// `POST /servicePrincipals` `{"appId": ...}` (serviceprincipal-post-serviceprincipals).
fn create(ctx: &Ctx) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let m = ctx.entity_body(Kind::ServicePrincipal)?;
    let app_id_text = prop(&m, "appId").and_then(Value::as_str).ok_or_else(|| GraphError::invalid_value("appId", "ServicePrincipal"))?;
    let account_enabled = match prop(&m, "accountEnabled") {
        None | Some(Value::Null) => true,
        Some(v) => v.as_bool().ok_or_else(|| GraphError::invalid_value("accountEnabled", "ServicePrincipal"))?,
    };
    // az's create-for-rbac retries while this message says ' does not reference '.
    let no_app = || {
        GraphError::bad_request(format!(
            "The appId '{app_id_text}' of the service principal does not reference a valid application object."
        ))
    };
    let app_id = Uuid::parse_str(app_id_text).map_err(|_| no_app())?;
    let tenant = ctx.tenant()?.clone();
    let sp = ctx.state.store.write(|tx| {
        let Some(DirectoryObject::Application(app)) = tx.directory_object_by_app_id(tenant.id, "application", app_id)? else {
            return Err(no_app());
        };
        if tx.directory_object_by_app_id(tenant.id, "servicePrincipal", app_id)?.is_some() {
            // Azure/reliable-web-app-pattern-java#185
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                format!("The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."),
            ));
        }
        let display_name = prop(&m, "displayName").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| app.display_name.clone());
        let names = mimic_domain::directory::service_principal_names(&app);
        let mut sp = mimic_domain::directory::application_principal(tenant.id, app_id, &display_name, names, Utc::now());
        sp.account_enabled = account_enabled;
        tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp.clone()))?;
        Ok(sp)
    })?;
    ctx.entity(StatusCode::CREATED, Kind::ServicePrincipal, objects::service_principal(&sp, &tenant))
}

/// `PATCH /servicePrincipals/{id}`: display name, account state and certificates. A managed
/// identity's principal is its Azure resource's to change.
fn update(ctx: &Ctx, mut sp: ServicePrincipal) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let m = ctx.entity_body(Kind::ServicePrincipal)?;
    if sp.service_principal_type == ServicePrincipalType::ManagedIdentity && !m.is_empty() {
        return Err(GraphError::bad_request(format!(
            "Service principal '{}' belongs to a managed identity and cannot be changed through Graph.",
            sp.id
        )));
    }
    if !sp.is_tenant_managed() && !m.is_empty() {
        // Unverified text: Microsoft's API principals are Microsoft's.
        return Err(GraphError::bad_request(format!("Service principal '{}' belongs to a Microsoft API and cannot be changed.", sp.id)));
    }
    if let Some(v) = prop(&m, "displayName") {
        sp.display_name = v
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| GraphError::invalid_value("displayName", "ServicePrincipal"))?
            .to_string();
    }
    if let Some(v) = prop(&m, "accountEnabled") {
        sp.account_enabled = v.as_bool().ok_or_else(|| GraphError::invalid_value("accountEnabled", "ServicePrincipal"))?;
    }
    if let Some(v) = prop(&m, "keyCredentials") {
        sp.key_credentials = super::credentials::replace(&sp.key_credentials, v)?;
    }
    ctx.state.store.write(|tx| tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp.clone())))?;
    Ok(ctx.no_content())
}
