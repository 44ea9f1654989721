//! `/users` and `/me`: list (with `$filter=userPrincipalName eq '...'` as az resolves
//! assignees), create with `passwordProfile`, get by object id or UPN, update, delete, and the
//! member-of family.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use mimic_domain::directory::{self, DirectoryAction, DirectoryObject, User};
use mimic_domain::secrets;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::ctx::Ctx;
use super::directory_objects;
use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};

/// `/me`: the signed-in user. App-only tokens have no user (Graph's 400).
pub fn me(ctx: &Ctx, rest: &[String]) -> GraphResult<Response> {
    if !ctx.caller.is_user() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        ));
    }
    let user = ctx.get(Kind::User, &ctx.caller.object_id.to_string())?;
    one(ctx, user, rest)
}

pub fn route(ctx: &Ctx, key: Option<(Option<String>, String)>, rest: &[String]) -> GraphResult<Response> {
    let (id, rest) = match (key, rest.first()) {
        (Some((_, id)), _) => (id, rest),
        (None, None) => {
            return match ctx.method {
                Method::GET => {
                    ctx.require(DirectoryAction::Read)?;
                    ctx.collection(Kind::User, ctx.all(Kind::User)?)
                }
                Method::POST => create(ctx),
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        (None, Some(first)) if first == "$count" => {
            ctx.require(DirectoryAction::Read)?;
            return ctx.raw_count(Kind::User, ctx.all(Kind::User)?);
        }
        (None, Some(first)) => (first.clone(), &rest[1..]),
    };
    let user = lookup(ctx, &id)?;
    one(ctx, user, rest)
}

/// A user by object id or user principal name.
fn lookup(ctx: &Ctx, id: &str) -> GraphResult<DirectoryObject> {
    if Uuid::parse_str(id).is_ok() {
        return ctx.get(Kind::User, id);
    }
    match ctx.state.store.read(|tx| tx.user_by_upn(ctx.tenant_id(), id))? {
        Some(u @ DirectoryObject::User(_)) => Ok(u),
        _ => Err(GraphError::not_found(id)),
    }
}

fn one(ctx: &Ctx, user: DirectoryObject, rest: &[String]) -> GraphResult<Response> {
    let DirectoryObject::User(u) = &user else { unreachable!("looked up as a user") };
    if rest.is_empty() {
        return match ctx.method {
            Method::GET => {
                if u.id != ctx.caller.object_id {
                    ctx.require(DirectoryAction::Read)?;
                }
                ctx.entity(StatusCode::OK, Kind::User, objects::user(u))
            }
            Method::PATCH => update(ctx, u.clone()),
            Method::DELETE => directory_objects::delete(ctx, &user),
            _ => Err(GraphError::method_not_allowed()),
        };
    }
    super::consent::member_route(ctx, &user, rest)
        .or_else(|| directory_objects::membership(ctx, &user, rest))
        .unwrap_or_else(|| Err(GraphError::segment_not_found(&rest[0])))
}

fn str_prop<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str())
}

fn bool_prop(m: &Map<String, Value>, name: &str) -> Option<bool> {
    m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_bool())
}

/// The new password a `passwordProfile` holds, if any. A profile may carry only
/// `forceChangePasswordNextSignIn` (Graph answers 204); Mimic accepts that flag but does not
/// make the next sign-in change the password.
fn password_of(m: &Map<String, Value>) -> GraphResult<Option<String>> {
    let Some((_, profile)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case("passwordProfile")) else { return Ok(None) };
    let invalid = || GraphError::invalid_value("passwordProfile", "User");
    let profile = profile.as_object().ok_or_else(invalid)?;
    for (k, v) in profile {
        let known_flag =
            ["forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa"].iter().any(|f| f.eq_ignore_ascii_case(k));
        if known_flag && !(v.is_boolean() || v.is_null()) {
            return Err(invalid());
        }
    }
    let p = match profile.iter().find(|(k, _)| k.eq_ignore_ascii_case("password")).map(|(_, v)| v) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v.as_str().ok_or_else(invalid)?,
    };
    if !directory::password_meets_complexity(p) {
        // Entra's answer to a weak password on create and on reset.
        return Err(GraphError::bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ));
    }
    Ok(Some(p.to_string()))
}

/// `POST /users` (user-post-users): `accountEnabled`, `displayName`, `mailNickname`,
/// `userPrincipalName` in a verified domain of the tenant, and `passwordProfile`.
fn create(ctx: &Ctx) -> GraphResult<Response> {
    ctx.require(DirectoryAction::CreateUsers)?;
    let m = ctx.entity_body(Kind::User)?;
    let account_enabled = bool_prop(&m, "accountEnabled").ok_or_else(|| GraphError::invalid_value("accountEnabled", "User"))?;
    let display_name =
        str_prop(&m, "displayName").filter(|s| !s.trim().is_empty()).ok_or_else(|| GraphError::invalid_value("displayName", "User"))?;
    str_prop(&m, "mailNickname").filter(|s| !s.trim().is_empty()).ok_or_else(|| GraphError::invalid_value("mailNickname", "User"))?;
    let upn = str_prop(&m, "userPrincipalName")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| GraphError::invalid_value("userPrincipalName", "User"))?;
    let password = password_of(&m)?.ok_or_else(|| GraphError::invalid_value("passwordProfile", "User"))?;
    let tenant = ctx.tenant()?.clone();
    let domain = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    if !domain.eq_ignore_ascii_case(&tenant.default_domain) {
        return Err(GraphError::bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        )
        .with_detail("userPrincipalName", "InvalidValue"));
    }
    let user = User {
        id: Uuid::new_v4(),
        tenant_id: tenant.id,
        user_principal_name: upn.to_string(),
        display_name: display_name.to_string(),
        password_hash: secrets::hash_password(&password),
        account_enabled,
        created: Utc::now(),
    };
    ctx.state.store.write(|tx| {
        if tx.user_by_upn(tenant.id, upn)?.is_some() {
            // microsoftgraph/microsoft-graph-docs#1508
            return Err(GraphError::bad_request("Another object with the same value for property userPrincipalName already exists.")
                .with_detail("userPrincipalName", "ObjectConflict"));
        }
        tx.put_directory_object(&DirectoryObject::User(user.clone()))?;
        Ok(())
    })?;
    ctx.entity(StatusCode::CREATED, Kind::User, objects::user(&user))
}

/// `PATCH /users/{id}`: display name, account state, password. Each property is authorized as
/// its own permission: `passwordProfile` is a password reset, `accountEnabled` and
/// `userPrincipalName` are sensitive actions, both bounded by the roles the target holds
/// (`directory::PASSWORD_RESET`, `directory::SENSITIVE_ACTIONS`); the rest is a basic update.
fn update(ctx: &Ctx, mut u: User) -> GraphResult<Response> {
    let m = ctx.entity_body(Kind::User)?;
    let has = |name: &str| m.keys().any(|k| k.eq_ignore_ascii_case(name));
    let sensitive = has("accountEnabled") || has("userPrincipalName");
    let password = has("passwordProfile");
    // Annotations (`@odata.type`, which SDKs add) are no property of their own.
    let basic = m.keys().any(|k| {
        !k.starts_with('@') && !["accountEnabled", "userPrincipalName", "passwordProfile"].iter().any(|s| s.eq_ignore_ascii_case(k))
    });
    if basic || !(sensitive || password) {
        ctx.require(DirectoryAction::UpdateUsers)?;
    }
    if sensitive {
        ctx.require_on_user(DirectoryAction::SensitiveUserAction, u.id)?;
    }
    if password {
        ctx.require_on_user(DirectoryAction::ResetPassword, u.id)?;
    }
    if let Some(n) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case("displayName")).map(|(_, v)| v) {
        u.display_name =
            n.as_str().filter(|s| !s.trim().is_empty()).ok_or_else(|| GraphError::invalid_value("displayName", "User"))?.to_string();
    }
    if let Some(e) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case("accountEnabled")).map(|(_, v)| v) {
        u.account_enabled = e.as_bool().ok_or_else(|| GraphError::invalid_value("accountEnabled", "User"))?;
    }
    if let Some(p) = password_of(&m)? {
        u.password_hash = secrets::hash_password(&p);
    }
    if str_prop(&m, "userPrincipalName").is_some_and(|n| !n.eq_ignore_ascii_case(&u.user_principal_name)) {
        return Err(GraphError::bad_request("Changing userPrincipalName is not supported by Mimic."));
    }
    ctx.state.store.write(|tx| tx.put_directory_object(&DirectoryObject::User(u.clone())))?;
    Ok(ctx.no_content())
}
