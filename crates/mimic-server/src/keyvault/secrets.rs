//! Secrets: set, get (current or one version), list, list versions, update attributes, delete
//! into the soft-deleted state, and the deleted secrets (get, list, recover, purge), with the
//! shapes of Key Vault's data-plane API (api-version 7.x, `SecretBundle`) and its errors.
//!
//! A secret's versions' attributes are one document (`KEYVAULT_SECRET`), each value its own,
//! sealed under the master key (`KEYVAULT_SECRET_VALUE`), and the vault's names an index
//! (`KEYVAULT_SECRET_INDEX`); all keyed by the vault's instance, so a purged vault's name made
//! anew starts empty and a recovered vault finds its secrets again.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mimic_domain::keyvault::{self as kv, data_actions as da, Deletion, SecretRecord, SecretVersion};
use mimic_store::documents::{Docs, KEYVAULT_SECRET, KEYVAULT_SECRET_INDEX, KEYVAULT_SECRET_VALUE};
use mimic_store::Tx;
use mimic_wire::jsonnet;
use mimic_wire::keyvault::{SecretAttributes, SecretBundle, SecretList, SecretSetParameters, SecretUpdateParameters};

use super::{KvError, KvResult, Req};

pub fn handle(req: &Req) -> KvResult<Response> {
    let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    match seg.as_slice() {
        ["secrets"] if m == Method::GET => list(req),
        ["secrets", name] if m == Method::PUT => set(req, name),
        ["secrets", name] if m == Method::GET => get(req, name, None),
        ["secrets", name] if m == Method::PATCH => update(req, name, None),
        ["secrets", name] if m == Method::DELETE => delete(req, name),
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

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn checked_name(name: &str) -> KvResult<String> {
    if kv::valid_secret_name(name) {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(KvError::invalid_name(name))
    }
}

fn record_id(req: &Req, key: &str) -> String {
    format!("{}/{key}", req.vault.instance)
}

fn value_id(req: &Req, key: &str, version: &str) -> String {
    format!("{}/{key}/{version}", req.vault.instance)
}

/// What a value is sealed for: its row, so a sealed value moved to another row does not open.
fn purpose(req: &Req, key: &str, version: &str) -> String {
    format!("keyvault/secret/{}", value_id(req, key, version))
}

/// The RBAC scope of one secret.
fn scope(req: &Req, name: &str) -> String {
    format!("{}/secrets/{name}", req.vault.resource_id)
}

fn ok<T: serde::Serialize>(body: &T) -> KvResult<Response> {
    Ok((StatusCode::OK, Json(body)).into_response())
}

fn attributes(v: &SecretVersion) -> SecretAttributes {
    SecretAttributes {
        enabled: Some(v.enabled),
        nbf: v.nbf,
        exp: v.exp,
        created: Some(v.created),
        updated: Some(v.updated),
        recoverable_days: Some(kv::RECOVERABLE_DAYS),
        recovery_level: Some(kv::RECOVERY_LEVEL.into()),
    }
}

/// A secret's bundle: `id` with the version for a version, without it for list items.
fn bundle(req: &Req, r: &SecretRecord, v: &SecretVersion, value: Option<String>, with_version: bool) -> SecretBundle {
    let mut id = format!("{}/secrets/{}", req.vault.uri, r.name);
    if with_version {
        id = format!("{id}/{}", v.version);
    }
    let deleted = r.deleted;
    SecretBundle {
        value,
        id,
        content_type: v.content_type.clone(),
        attributes: attributes(v),
        tags: v.tags.clone(),
        recovery_id: deleted.map(|_| format!("{}/deletedsecrets/{}", req.vault.uri, r.name)),
        deleted_date: deleted.map(|d| d.deleted_date),
        scheduled_purge_date: deleted.map(|d| d.scheduled_purge_date),
    }
}

fn load(tx: &mut dyn Tx, req: &Req, key: &str) -> mimic_store::Result<Option<SecretRecord>> {
    tx.get(KEYVAULT_SECRET, &record_id(req, key))
}

/// The live (not deleted) secret, or Key Vault's 404.
fn live(tx: &mut dyn Tx, req: &Req, name: &str, key: &str) -> KvResult<SecretRecord> {
    match load(tx, req, key)? {
        Some(r) if r.deleted.is_none() && !r.versions.is_empty() => Ok(r),
        _ => Err(KvError::secret_not_found(name)),
    }
}

fn body<T: serde::de::DeserializeOwned>(req: &Req) -> KvResult<T> {
    jsonnet::from_body(&req.body).map_err(|e| KvError::bad_parameter(e.render()))
}

fn set(req: &Req, name: &str) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::SET_SECRET, &scope(req, name), "secrets", "set")?;
    let p: SecretSetParameters = body(req)?;
    let value = p.value.ok_or_else(|| KvError::bad_parameter("Property 'value' is required."))?;
    if value.len() > kv::MAX_SECRET_VALUE_BYTES {
        return Err(KvError::value_too_large());
    }
    let p = p.properties;
    if !kv::within_limits(p.tags.as_ref(), p.content_type.as_deref()) {
        return Err(KvError::tags_too_large());
    }
    let attrs = p.attributes.unwrap_or_default();
    let t = now();
    let version = SecretVersion {
        version: kv::new_version(),
        content_type: p.content_type,
        enabled: attrs.enabled.unwrap_or(true),
        nbf: attrs.nbf,
        exp: attrs.exp,
        created: t,
        updated: t,
        tags: p.tags.unwrap_or_default(),
    };
    let sealed =
        req.state.keys.master_key().seal(&purpose(req, &key, &version.version), value.as_bytes()).map_err(|_| KvError::internal())?;
    let stored = req.state.store.write(|tx| -> KvResult<_> {
        let mut record = match load(tx, req, &key)? {
            Some(r) if r.deleted.is_some() => return Err(KvError::deleted_but_recoverable(name)),
            Some(r) => r,
            None => {
                let mut index = tx.get(KEYVAULT_SECRET_INDEX, &req.vault.instance.to_string())?.unwrap_or_default();
                if index.names.len() >= kv::MAX_SECRETS_PER_VAULT {
                    return Err(KvError::limit(format!("A vault holds at most {} secrets in Mimic.", kv::MAX_SECRETS_PER_VAULT)));
                }
                index.names.push(key.clone());
                tx.put(KEYVAULT_SECRET_INDEX, &req.vault.instance.to_string(), &index, None)?;
                SecretRecord { name: name.to_string(), versions: Vec::new(), deleted: None }
            }
        };
        if record.versions.len() >= kv::MAX_VERSIONS_PER_SECRET {
            return Err(KvError::limit(format!("A secret keeps at most {} versions in Mimic.", kv::MAX_VERSIONS_PER_SECRET)));
        }
        record.versions.push(version.clone());
        tx.put(KEYVAULT_SECRET, &record_id(req, &key), &record, None)?;
        tx.put(KEYVAULT_SECRET_VALUE, &value_id(req, &key, &version.version), &sealed, None)?;
        Ok(record)
    })?;
    ok(&bundle(req, &stored, &version, Some(value), true))
}

fn get(req: &Req, name: &str, version: Option<&str>) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::GET_SECRET, &scope(req, name), "secrets", "get")?;
    let (r, v, sealed) = req.state.store.read(|tx| -> KvResult<_> {
        let r = live(tx, req, name, &key)?;
        let v = match version.filter(|v| !v.is_empty()) {
            None => r.current().cloned(),
            Some(v) => r.version(v).cloned(),
        };
        let Some(v) = v else { return Err(KvError::secret_version_not_found(name, version.unwrap_or_default())) };
        let sealed = tx.get(KEYVAULT_SECRET_VALUE, &value_id(req, &key, &v.version))?;
        Ok((r, v, sealed))
    })?;
    if !v.enabled {
        return Err(KvError::disabled("get"));
    }
    let sealed = sealed.ok_or_else(KvError::internal)?;
    let value = req.state.keys.master_key().open(&purpose(req, &key, &v.version), &sealed).map_err(|_| KvError::internal())?;
    ok(&bundle(req, &r, &v, Some(String::from_utf8_lossy(&value).into_owned()), true))
}

fn update(req: &Req, name: &str, version: Option<&str>) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::UPDATE, &scope(req, name), "secrets", "set")?;
    let p: SecretUpdateParameters = body(req)?;
    if !kv::within_limits(p.tags.as_ref(), p.content_type.as_deref()) {
        return Err(KvError::tags_too_large());
    }
    let updated = req.state.store.write(|tx| -> KvResult<_> {
        let mut r = live(tx, req, name, &key)?;
        let i = match version.filter(|v| !v.is_empty()) {
            None => r.versions.len() - 1,
            Some(v) => match r.versions.iter().position(|x| x.version.eq_ignore_ascii_case(v)) {
                Some(i) => i,
                None => return Err(KvError::secret_version_not_found(name, v)),
            },
        };
        let v = &mut r.versions[i];
        if let Some(ct) = &p.content_type {
            v.content_type = Some(ct.clone());
        }
        if let Some(a) = &p.attributes {
            if let Some(e) = a.enabled {
                v.enabled = e;
            }
            if a.nbf.is_some() {
                v.nbf = a.nbf;
            }
            if a.exp.is_some() {
                v.exp = a.exp;
            }
        }
        if let Some(tags) = &p.tags {
            v.tags = tags.clone();
        }
        v.updated = now();
        let v = v.clone();
        tx.put(KEYVAULT_SECRET, &record_id(req, &key), &r, None)?;
        Ok((r, v))
    })?;
    ok(&bundle(req, &updated.0, &updated.1, None, true))
}

/// The names of the vault's secrets, with their records.
fn all(req: &Req) -> KvResult<Vec<SecretRecord>> {
    req.state.store.read(|tx| -> KvResult<Vec<SecretRecord>> {
        let index = tx.get(KEYVAULT_SECRET_INDEX, &req.vault.instance.to_string())?.unwrap_or_default();
        let mut out = Vec::with_capacity(index.names.len());
        for key in &index.names {
            if let Some(r) = load(tx, req, key)? {
                out.push(r);
            }
        }
        Ok(out)
    })
}

fn page(value: Vec<SecretBundle>) -> KvResult<Response> {
    ok(&SecretList { value, next_link: None })
}

fn list(req: &Req) -> KvResult<Response> {
    req.authorize(da::READ_METADATA, &req.vault.resource_id, "secrets", "list")?;
    let items =
        all(req)?.iter().filter(|r| r.deleted.is_none()).filter_map(|r| r.current().map(|v| bundle(req, r, v, None, false))).collect();
    page(items)
}

fn versions(req: &Req, name: &str) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::READ_METADATA, &scope(req, name), "secrets", "list")?;
    let r = req.state.store.read(|tx| live(tx, req, name, &key))?;
    page(r.versions.iter().map(|v| bundle(req, &r, v, None, true)).collect())
}

fn delete(req: &Req, name: &str) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::DELETE, &scope(req, name), "secrets", "delete")?;
    let t = now();
    let r = req.state.store.write(|tx| -> KvResult<_> {
        let mut r = live(tx, req, name, &key)?;
        r.deleted = Some(Deletion { deleted_date: t, scheduled_purge_date: t + kv::RECOVERABLE_DAYS * 86_400 });
        tx.put(KEYVAULT_SECRET, &record_id(req, &key), &r, None)?;
        Ok(r)
    })?;
    let v = r.current().cloned().ok_or_else(KvError::internal)?;
    ok(&bundle(req, &r, &v, None, false))
}

fn deleted(tx: &mut dyn Tx, req: &Req, name: &str, key: &str) -> KvResult<SecretRecord> {
    match load(tx, req, key)? {
        Some(r) if r.deleted.is_some() => Ok(r),
        _ => Err(KvError::deleted_secret_not_found(name)),
    }
}

fn get_deleted(req: &Req, name: &str) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::READ_METADATA, &scope(req, name), "secrets", "list")?;
    let r = req.state.store.read(|tx| deleted(tx, req, name, &key))?;
    let v = r.current().cloned().ok_or_else(KvError::internal)?;
    ok(&bundle(req, &r, &v, None, false))
}

fn list_deleted(req: &Req) -> KvResult<Response> {
    req.authorize(da::READ_METADATA, &req.vault.resource_id, "secrets", "list")?;
    let items =
        all(req)?.iter().filter(|r| r.deleted.is_some()).filter_map(|r| r.current().map(|v| bundle(req, r, v, None, false))).collect();
    page(items)
}

fn recover(req: &Req, name: &str) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::RECOVER, &scope(req, name), "secrets", "recover")?;
    let r = req.state.store.write(|tx| -> KvResult<_> {
        let mut r = deleted(tx, req, name, &key)?;
        r.deleted = None;
        tx.put(KEYVAULT_SECRET, &record_id(req, &key), &r, None)?;
        Ok(r)
    })?;
    let v = r.current().cloned().ok_or_else(KvError::internal)?;
    ok(&bundle(req, &r, &v, None, true))
}

fn purge(req: &Req, name: &str) -> KvResult<Response> {
    let key = checked_name(name)?;
    req.authorize(da::PURGE, &scope(req, name), "secrets", "purge")?;
    req.state.store.write(|tx| -> KvResult<_> {
        let r = deleted(tx, req, name, &key)?;
        for v in &r.versions {
            tx.remove(KEYVAULT_SECRET_VALUE, &value_id(req, &key, &v.version))?;
        }
        tx.remove(KEYVAULT_SECRET, &record_id(req, &key))?;
        let id = req.vault.instance.to_string();
        let mut index = tx.get(KEYVAULT_SECRET_INDEX, &id)?.unwrap_or_default();
        index.names.retain(|n| n != &key);
        tx.put(KEYVAULT_SECRET_INDEX, &id, &index, None)?;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
