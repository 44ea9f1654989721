//! `/applications`: app registrations, as `az ad app ...` and `az ad sp create-for-rbac` use
//! them; their credentials are `credentials.rs`'s.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::directory::{self, DirectoryAction, DirectoryObject};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::application_properties;
use super::credentials;
use super::ctx::{parse_id, Ctx};
use super::directory_objects;
use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};

pub fn route(ctx: &Ctx, key: Option<(Option<String>, String)>, rest: &[String]) -> GraphResult<Response> {
    let obj = match (key, rest.first()) {
        (Some((Some(prop), value)), _) if prop.eq_ignore_ascii_case("appId") => {
            let id = parse_id(&value)?;
            ctx.state
                .store
                .read(|tx| tx.directory_object_by_app_id(ctx.tenant_id(), "application", id))?
                .ok_or_else(|| GraphError::not_found(&value))?
        }
        (Some((Some(prop), _)), _) => return Err(GraphError::bad_request(format!("'{prop}' is not an alternate key of application."))),
        (Some((None, id)), _) => ctx.get(Kind::Application, &id)?,
        (None, None) => {
            return match ctx.method {
                Method::GET => {
                    ctx.require(DirectoryAction::Read)?;
                    ctx.collection(Kind::Application, ctx.all(Kind::Application)?)
                }
                Method::POST => create(ctx),
                _ => Err(GraphError::method_not_allowed()),
            };
        }
        (None, Some(first)) if first == "$count" => {
            ctx.require(DirectoryAction::Read)?;
            return ctx.raw_count(Kind::Application, ctx.all(Kind::Application)?);
        }
        (None, Some(first)) => ctx.get(Kind::Application, first)?,
    };
    let rest = if ctx.segments[0].contains('(') { rest } else { &rest[1..] };
    let DirectoryObject::Application(app) = &obj else { unreachable!("looked up as an application") };
    if rest.is_empty() {
        return match ctx.method {
            Method::GET => {
                ctx.require(DirectoryAction::Read)?;
                ctx.entity(StatusCode::OK, Kind::Application, objects::application(app, ctx.tenant()?))
            }
            Method::PATCH => update(ctx, app.id),
            Method::DELETE => directory_objects::delete(ctx, &obj),
            _ => Err(GraphError::method_not_allowed()),
        };
    }
    if let Some(r) = rest.get(..1).filter(|_| rest.len() == 1).and_then(|seg| credentials::action(ctx, &obj, &seg[0])) {
        return r;
    }
    match (rest[0].to_ascii_lowercase().as_str(), rest.len(), &ctx.method) {
        ("federatedidentitycredentials", _, _) => super::federated_credentials::route(ctx, app, &rest[1..]),
        _ => super::owners::route(ctx, &obj, rest)
            .or_else(|| directory_objects::membership(ctx, &obj, rest))
            .unwrap_or_else(|| Err(GraphError::segment_not_found(&rest[0]))),
    }
}

fn prop<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

fn display_name(m: &Map<String, Value>) -> GraphResult<Option<String>> {
    match prop(m, "displayName") {
        None => Ok(None),
        Some(v) => Ok(Some(
            v.as_str().filter(|s| !s.trim().is_empty()).ok_or_else(|| GraphError::invalid_value("displayName", "Application"))?.to_string(),
        )),
    }
}

/// What of an application the token service uses: `web`/`publicClient`/`spa` `redirectUris`
/// (the sign-in page redirects only to those), `isFallbackPublicClient` and `keyCredentials`.
fn apply_settings(m: &Map<String, Value>, app: &mut directory::Application) -> GraphResult<()> {
    for (platform, slot) in
        [("web", &mut app.web_redirect_uris), ("publicClient", &mut app.public_client_redirect_uris), ("spa", &mut app.spa_redirect_uris)]
    {
        let Some(v) = prop(m, platform) else { continue };
        let Some(uris) = v.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("redirectUris"))).map(|(_, u)| u) else {
            if v.is_object() {
                continue;
            }
            return Err(GraphError::invalid_value(platform, "Application"));
        };
        let list = uris.as_array().ok_or_else(|| GraphError::invalid_value("redirectUris", "Application"))?;
        let mut out = Vec::new();
        for u in list {
            let u = u.as_str().ok_or_else(|| GraphError::invalid_value("redirectUris", "Application"))?;
            // Entra refuses what is not a valid redirect URI (reply-url: https, or http for
            // loopback; no wildcards, 256 characters at most). Unverified text.
            if mimic_domain::redirect_uri::parse(u).is_none() {
                return Err(GraphError::bad_request(format!(
                    "Invalid value specified for property 'redirectUris' of resource 'Application': '{u}'."
                )));
            }
            out.push(u.to_string());
        }
        *slot = out;
    }
    if let Some(v) = prop(m, "isFallbackPublicClient") {
        app.is_fallback_public_client = match v {
            Value::Null => false,
            v => v.as_bool().ok_or_else(|| GraphError::invalid_value("isFallbackPublicClient", "Application"))?,
        };
    }
    if let Some(v) = prop(m, "keyCredentials") {
        app.key_credentials = credentials::replace(&app.key_credentials, v)?;
    }
    Ok(())
}

/// `POST /applications` (application-post-applications). Modelled: `displayName`, the redirect
/// URIs, `isFallbackPublicClient`, `keyCredentials` and `identifierUris`; the other properties
/// are kept as written (`application_properties`). A user who registers an app owns it.
fn create(ctx: &Ctx) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let m = ctx.entity_body(Kind::Application)?;
    let name = display_name(&m)?.ok_or_else(|| GraphError::invalid_value("displayName", "Application"))?;
    let tenant = ctx.tenant()?.clone();
    let (mut app, _) = directory::new_application_with_principal(tenant.id, &name, Utc::now());
    apply_settings(&m, &mut app)?;
    application_properties::apply(&m, &mut app)?;
    let uris = application_properties::identifier_uris(&m, &tenant.default_domain)?.unwrap_or_default();
    if ctx.caller.is_user() {
        app.owners.push(ctx.caller.object_id);
    }
    ctx.state
        .store
        .write(|tx| {
            let mut app = app.clone();
            set_identifier_uris(tx, &mut app, uris.clone())?;
            tx.put_directory_object(&DirectoryObject::Application(app.clone()))?;
            Ok::<_, GraphError>(app)
        })
        .and_then(|app| ctx.entity(StatusCode::CREATED, Kind::Application, objects::application(&app, &tenant)))
}

/// Sets `identifierUris`, refusing one another application of the tenant holds (deleted ones
/// too), and names the application's service principal by them.
fn set_identifier_uris(tx: &mut dyn mimic_store::Tx, app: &mut directory::Application, uris: Vec<String>) -> GraphResult<()> {
    if uris == app.identifier_uris {
        return Ok(());
    }
    // Deleted applications keep theirs while they can be restored.
    let deleted = super::deleted_items::all(tx, app.tenant_id, Utc::now())?.into_iter().map(|d| d.object);
    let taken = tx.directory_objects(app.tenant_id, "application")?.into_iter().chain(deleted).any(|o| match o {
        DirectoryObject::Application(other) => other.id != app.id && other.identifier_uris.iter().any(|u| uris.contains(u)),
        _ => false,
    });
    if taken {
        return Err(application_properties::conflict());
    }
    app.identifier_uris = uris;
    if let Some(DirectoryObject::ServicePrincipal(mut sp)) = tx.directory_object_by_app_id(app.tenant_id, "servicePrincipal", app.app_id)? {
        sp.service_principal_names = directory::service_principal_names(app);
        tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
    }
    Ok(())
}

fn update(ctx: &Ctx, id: Uuid) -> GraphResult<Response> {
    ctx.require(DirectoryAction::ManageApplications)?;
    let m = ctx.entity_body(Kind::Application)?;
    let name = display_name(&m)?;
    let tenant = ctx.tenant()?.clone();
    let uris = application_properties::identifier_uris(&m, &tenant.default_domain)?;
    ctx.state.store.write(|tx| {
        let Some(DirectoryObject::Application(mut app)) = tx.directory_object(tenant.id, id)? else {
            return Err(GraphError::not_found(&id.to_string()));
        };
        if let Some(n) = &name {
            app.display_name = n.clone();
        }
        apply_settings(&m, &mut app)?;
        application_properties::apply(&m, &mut app)?;
        if let Some(uris) = &uris {
            set_identifier_uris(tx, &mut app, uris.clone())?;
        }
        tx.put_directory_object(&DirectoryObject::Application(app))?;
        Ok(())
    })?;
    Ok(ctx.no_content())
}
