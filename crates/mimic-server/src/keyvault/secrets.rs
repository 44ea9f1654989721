//! Secrets: set, get (current or one version), list, list versions, update attributes, delete
//! into the soft-deleted state, the deleted secrets (get, list, recover, purge), backup and
//! restore, with the shapes of Key Vault's data-plane API (api-version 7.x, `SecretBundle`).
//!
//! Storage and soft delete are objects.rs's (`SECRETS`): a secret's versions' attributes are
//! one record, each value sealed under the master key apart.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use mimic_domain::keyvault::data_actions::secrets as da;
use mimic_domain::keyvault::objects::{within_limits, Lifetime};
use mimic_domain::keyvault::secrets::MAX_SECRET_VALUE_BYTES;
use mimic_domain::keyvault::{new_version, SecretRecord, SecretVersion};
use mimic_wire::keyvault::{SecretBundle, SecretList, SecretSetParameters, SecretUpdateParameters};

use super::objects::{attributes, now, SECRETS as S};
use super::{body, ok, KvError, KvResult, Req};

pub fn handle(req: &Req) -> KvResult<Response> {
    let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    match seg.as_slice() {
        ["secrets"] if m == Method::GET => list(req),
        ["secrets", "restore"] if m == Method::POST => restore(req),
        ["secrets", name] if m == Method::PUT => set(req, name),
        ["secrets", name] if m == Method::GET => get(req, name, None),
        ["secrets", name] if m == Method::PATCH => update(req, name, None),
        ["secrets", name] if m == Method::DELETE => delete(req, name),
        ["secrets", name, "backup"] if m == Method::POST => backup(req, name),
        ["secrets", name, "versions"] if m == Method::GET => versions(req, name),
        ["secrets", name, version] if m == Method::GET => get(req, name, Some(version)),
        ["secrets", name, version] if m == Method::PATCH => update(req, name, Some(version)),
        ["deletedsecrets"] if m == Method::GET => list_deleted(req),
        ["deletedsecrets", name] if m == Method::GET => get_deleted(req, name),
        ["deletedsecrets", name] if m == Method::DELETE => purge(req, name),
        ["deletedsecrets", name, "recover"] if m == Method::POST => recover(req, name),
        _ => Err(KvError::not_found_route()),
    }
}

/// A secret's bundle: `id` with the version for a version, without it for list items.
fn bundle(req: &Req, r: &SecretRecord, v: &SecretVersion, value: Option<String>, with_version: bool) -> SecretBundle {
    let mut id = format!("{}/secrets/{}", req.vault.uri, r.name);
    if with_version {
        id = format!("{id}/{}", v.version);
    }
    SecretBundle {
        value,
        id,
        content_type: v.content_type.clone(),
        attributes: attributes(&v.life),
        tags: v.tags.clone(),
        deletion: S.deletion(req, r),
    }
}

/// The current version's bundle, without its value.
fn current(req: &Req, r: &SecretRecord, with_version: bool) -> KvResult<Response> {
    let v = r.current().ok_or_else(KvError::internal)?;
    ok(&bundle(req, r, v, None, with_version))
}

fn set(req: &Req, name: &str) -> KvResult<Response> {
    let key = S.key(name)?;
    req.authorize(da::SET, &S.scope(req, name), "secrets", "set")?;
    let p: SecretSetParameters = body(req)?;
    let value = p.value.ok_or_else(|| KvError::bad_parameter("Property 'value' is required."))?;
    if value.len() > MAX_SECRET_VALUE_BYTES {
        return Err(KvError::value_too_large());
    }
    let p = p.properties;
    if !within_limits(p.tags.as_ref(), p.content_type.as_deref()) {
        return Err(KvError::tags_too_large());
    }
    let attrs = p.attributes.unwrap_or_default();
    let t = now();
    let version = SecretVersion {
        version: new_version(),
        content_type: p.content_type,
        life: Lifetime::new(attrs.enabled, attrs.nbf, attrs.exp, t),
        tags: p.tags.unwrap_or_default(),
    };
    let sealed = S.seal(req, &key, &version.version, value.as_bytes())?;
    let stored = req.state.store.write(|tx| S.add_version(tx, req, name, &key, version.clone(), &sealed))?;
    ok(&bundle(req, &stored, &version, Some(value), true))
}

fn get(req: &Req, name: &str, version: Option<&str>) -> KvResult<Response> {
    let key = S.key(name)?;
    req.authorize(da::GET, &S.scope(req, name), "secrets", "get")?;
    let (r, i, value) = req.state.store.read(|tx| -> KvResult<_> {
        let r = S.live(tx, req, name, &key)?;
        let i = S.pick(&r, name, version)?;
        if !r.versions[i].life.enabled {
            return Err(KvError::disabled(S.title, "get"));
        }
        let value = S.open(tx, req, &key, &r.versions[i].version)?;
        Ok((r, i, value))
    })?;
    ok(&bundle(req, &r, &r.versions[i], Some(String::from_utf8_lossy(&value).into_owned()), true))
}

fn update(req: &Req, name: &str, version: Option<&str>) -> KvResult<Response> {
    req.authorize(da::UPDATE, &S.scope(req, name), "secrets", "set")?;
    let p: SecretUpdateParameters = body(req)?;
    if !within_limits(p.tags.as_ref(), p.content_type.as_deref()) {
        return Err(KvError::tags_too_large());
    }
    let t = now();
    let (r, i) = S.update(req, name, version, |v| {
        if let Some(ct) = &p.content_type {
            v.content_type = Some(ct.clone());
        }
        let a = p.attributes.as_ref();
        v.life.update(a.and_then(|a| a.enabled), a.and_then(|a| a.nbf), a.and_then(|a| a.exp), t);
        if let Some(tags) = &p.tags {
            v.tags = tags.clone();
        }
    })?;
    ok(&bundle(req, &r, &r.versions[i], None, true))
}

fn page(value: Vec<SecretBundle>) -> KvResult<Response> {
    ok(&SecretList { value, next_link: None })
}

fn list(req: &Req) -> KvResult<Response> {
    req.authorize(da::READ_METADATA, &req.vault.resource_id, "secrets", "list")?;
    let all = S.all(req)?;
    page(all.iter().filter(|r| r.deleted.is_none()).filter_map(|r| r.current().map(|v| bundle(req, r, v, None, false))).collect())
}

fn versions(req: &Req, name: &str) -> KvResult<Response> {
    let key = S.key(name)?;
    req.authorize(da::READ_METADATA, &S.scope(req, name), "secrets", "list")?;
    let r = req.state.store.read(|tx| S.live(tx, req, name, &key))?;
    page(r.versions.iter().map(|v| bundle(req, &r, v, None, true)).collect())
}

fn delete(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::DELETE, &S.scope(req, name), "secrets", "delete")?;
    current(req, &S.soft_delete(req, name)?, false)
}

fn get_deleted(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::READ_METADATA, &S.scope(req, name), "secrets", "list")?;
    current(req, &S.get_deleted(req, name)?, false)
}

fn list_deleted(req: &Req) -> KvResult<Response> {
    req.authorize(da::READ_METADATA, &req.vault.resource_id, "secrets", "list")?;
    let all = S.all(req)?;
    page(all.iter().filter(|r| r.deleted.is_some()).filter_map(|r| r.current().map(|v| bundle(req, r, v, None, false))).collect())
}

fn recover(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::RECOVER, &S.scope(req, name), "secrets", "recover")?;
    current(req, &S.recover(req, name)?, true)
}

fn purge(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::PURGE, &S.scope(req, name), "secrets", "purge")?;
    S.purge(req, name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn backup(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::BACKUP, &S.scope(req, name), "secrets", "backup")?;
    ok(&S.backup(req, name)?)
}

fn restore(req: &Req) -> KvResult<Response> {
    req.authorize(da::RESTORE, &req.vault.resource_id, "secrets", "restore")?;
    current(req, &S.restore(req)?, true)
}
