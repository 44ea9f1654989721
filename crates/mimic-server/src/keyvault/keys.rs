//! Keys: create (RSA 2048–4096, EC on P-256/P-384/P-521/P-256K), get (current or one version),
//! list, list versions, update (operations, attributes, tags), the cryptographic operations
//! (sign and verify a digest, encrypt and decrypt, wrap and unwrap a key) with real
//! cryptography, soft delete and its deleted keys, backup and restore, with the shapes of Key
//! Vault's data-plane API (api-version 7.x, `KeyBundle`, `KeyOperationResult`).
//!
//! The private key is the version's sealed part (objects.rs `KEYS`): it is opened only for an
//! operation and never answered. Importing a key (`PUT /keys/{name}`) and rotation are not served.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mimic_domain::keyvault::data_actions::keys as da;
use mimic_domain::keyvault::keys::{self as k, Curve, KeyError, KeyRecord, KeyVersion, Material};
use mimic_domain::keyvault::new_version;
use mimic_domain::keyvault::objects::{within_limits, Lifetime};
use mimic_wire::keyvault::{
    JsonWebKey, KeyBundle, KeyCreateParameters, KeyItem, KeyList, KeyOperationResult, KeyOperationsParameters, KeyUpdateParameters,
    KeyVerifyParameters, KeyVerifyResult,
};

use super::objects::{attributes, now, KEYS as K};
use super::{body, ok, KvError, KvResult, Req};

/// The cryptographic operations by their path segment: the `key_ops` entry that must allow
/// it, the data action, and the access-policy permission.
const OPS: [(&str, &str, &str); 6] = [
    ("sign", "sign", da::SIGN),
    ("verify", "verify", da::VERIFY),
    ("encrypt", "encrypt", da::ENCRYPT),
    ("decrypt", "decrypt", da::DECRYPT),
    ("wrapkey", "wrapKey", da::WRAP),
    ("unwrapkey", "unwrapKey", da::UNWRAP),
];

fn operation(segment: &str) -> Option<(&'static str, &'static str)> {
    OPS.iter().find(|(s, _, _)| s.eq_ignore_ascii_case(segment)).map(|(_, op, action)| (*op, *action))
}

pub fn handle(req: &Req) -> KvResult<Response> {
    let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    let post = m == Method::POST;
    match seg.as_slice() {
        ["keys"] if m == Method::GET => list(req),
        ["keys", "restore"] if post => restore(req),
        ["keys", name, "create"] if post => create(req, name),
        ["keys", name, "backup"] if post => backup(req, name),
        ["keys", name] if m == Method::GET => get(req, name, None),
        ["keys", name] if m == Method::PATCH => update(req, name, None),
        ["keys", name] if m == Method::DELETE => delete(req, name),
        ["keys", name, "versions"] if m == Method::GET => versions(req, name),
        // The SDKs send `/keys/{name}//sign` for the current version: the empty segment is gone.
        ["keys", name, op] if post && operation(op).is_some() => crypto(req, name, None, op),
        ["keys", name, version, op] if post && operation(op).is_some() => crypto(req, name, Some(version), op),
        ["keys", name, version] if m == Method::GET => get(req, name, Some(version)),
        ["keys", name, version] if m == Method::PATCH => update(req, name, Some(version)),
        ["deletedkeys"] if m == Method::GET => list_deleted(req),
        ["deletedkeys", name] if m == Method::GET => get_deleted(req, name),
        ["deletedkeys", name] if m == Method::DELETE => purge(req, name),
        ["deletedkeys", name, "recover"] if post => recover(req, name),
        _ => Err(KvError::not_found_route()),
    }
}

fn kid(req: &Req, r: &KeyRecord, v: &KeyVersion, with_version: bool) -> String {
    let id = format!("{}/keys/{}", req.vault.uri, r.name);
    if with_version {
        format!("{id}/{}", v.version)
    } else {
        id
    }
}

/// A key's bundle: the public JSON Web Key of the version, its attributes and tags.
fn bundle(req: &Req, r: &KeyRecord, v: &KeyVersion) -> KeyBundle {
    KeyBundle {
        key: JsonWebKey { kid: kid(req, r, v, true), kty: v.kty.clone(), key_ops: v.key_ops.clone(), public: v.public.clone() },
        attributes: attributes(&v.life),
        tags: v.tags.clone(),
        deletion: K.deletion(req, r),
    }
}

fn item(req: &Req, r: &KeyRecord, v: &KeyVersion, with_version: bool) -> KeyItem {
    KeyItem { kid: kid(req, r, v, with_version), attributes: attributes(&v.life), tags: v.tags.clone(), deletion: K.deletion(req, r) }
}

fn current(req: &Req, r: &KeyRecord) -> KvResult<Response> {
    let v = r.current().ok_or_else(KvError::internal)?;
    ok(&bundle(req, r, v))
}

fn key_error(e: KeyError) -> KvError {
    match e {
        KeyError::BadParameter(m) => KvError::bad_parameter(m),
        KeyError::Failed => KvError::bad_parameter("The cryptographic operation failed."),
    }
}

/// `key_ops` as a create or update gives them: Key Vault's operation names, each once.
fn checked_ops(ops: &[String]) -> KvResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(ops.len());
    for op in ops {
        let known = k::OPERATIONS
            .iter()
            .find(|o| o.eq_ignore_ascii_case(op))
            .ok_or_else(|| KvError::bad_parameter(format!("Invalid key operation '{op}': use {}.", k::OPERATIONS.join(", "))))?;
        if !out.iter().any(|o| o == known) {
            out.push(known.to_string());
        }
    }
    Ok(out)
}

/// Key generations under way in this process. An RSA-4096 key costs about a second of one
/// core: at most one per core (four at least) run at once and the rest are throttled (429, the SDKs retry), so a
/// flood of creates cannot take every blocking thread or starve the other requests.
static GENERATING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct GenerationSlot;

impl GenerationSlot {
    fn take() -> KvResult<GenerationSlot> {
        use std::sync::atomic::Ordering;
        let slots = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).max(4);
        if GENERATING.fetch_add(1, Ordering::AcqRel) >= slots {
            GENERATING.fetch_sub(1, Ordering::AcqRel);
            return Err(KvError::throttled("key generations in progress"));
        }
        Ok(GenerationSlot)
    }
}

impl Drop for GenerationSlot {
    fn drop(&mut self) {
        GENERATING.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

fn create(req: &Req, name: &str) -> KvResult<Response> {
    let key = K.key(name)?;
    req.authorize(da::CREATE, &K.scope(req, name), "keys", "create")?;
    let p: KeyCreateParameters = body(req)?;
    let kty = p.kty.ok_or_else(|| KvError::bad_parameter("Property 'kty' is required."))?;
    let (family, hsm) = k::parse_kty(&kty)
        .ok_or_else(|| KvError::bad_parameter(format!("Invalid key type '{kty}': Key Vault makes RSA, RSA-HSM, EC and EC-HSM keys.")))?;
    if hsm && !req.vault.premium() {
        return Err(KvError::bad_parameter(format!("A {kty} key needs a Premium vault; this vault is Standard.")));
    }
    let curve = match p.crv.as_deref() {
        None => None,
        Some(c) => Some(
            Curve::parse(c).ok_or_else(|| KvError::bad_parameter(format!("Invalid curve '{c}': use P-256, P-384, P-521 or P-256K.")))?,
        ),
    };
    if !within_limits(p.tags.as_ref(), None) {
        return Err(KvError::tags_too_large());
    }
    let key_ops = match &p.key_ops {
        Some(ops) => checked_ops(ops)?,
        None => k::default_ops(family),
    };
    let made = {
        let _slot = GenerationSlot::take()?;
        k::generate(family, p.key_size, p.public_exponent, curve).map_err(key_error)?
    };
    let attrs = p.attributes.unwrap_or_default();
    let t = now();
    let version = KeyVersion {
        version: new_version(),
        kty,
        key_ops,
        public: made.public,
        life: Lifetime::new(attrs.enabled, attrs.nbf, attrs.exp, t),
        tags: p.tags.unwrap_or_default(),
    };
    let sealed = K.seal(req, &key, &version.version, &made.pkcs8)?;
    let stored = req.state.store.write(|tx| K.add_version(tx, req, name, &key, version.clone(), &sealed))?;
    ok(&bundle(req, &stored, &version))
}

fn get(req: &Req, name: &str, version: Option<&str>) -> KvResult<Response> {
    let key = K.key(name)?;
    req.authorize(da::READ, &K.scope(req, name), "keys", "get")?;
    let r = req.state.store.read(|tx| K.live(tx, req, name, &key))?;
    let i = K.pick(&r, name, version)?;
    ok(&bundle(req, &r, &r.versions[i]))
}

fn update(req: &Req, name: &str, version: Option<&str>) -> KvResult<Response> {
    req.authorize(da::UPDATE, &K.scope(req, name), "keys", "update")?;
    let p: KeyUpdateParameters = body(req)?;
    if !within_limits(p.tags.as_ref(), None) {
        return Err(KvError::tags_too_large());
    }
    let ops = p.key_ops.as_deref().map(checked_ops).transpose()?;
    let t = now();
    let (r, i) = K.update(req, name, version, |v| {
        if let Some(ops) = &ops {
            v.key_ops = ops.clone();
        }
        let a = p.attributes.as_ref();
        v.life.update(a.and_then(|a| a.enabled), a.and_then(|a| a.nbf), a.and_then(|a| a.exp), t);
        if let Some(tags) = &p.tags {
            v.tags = tags.clone();
        }
    })?;
    ok(&bundle(req, &r, &r.versions[i]))
}

fn b64_member(value: Option<String>, member: &str) -> KvResult<Vec<u8>> {
    let value = value.ok_or_else(|| KvError::bad_parameter(format!("Property '{member}' is required.")))?;
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| KvError::bad_parameter(format!("Property '{member}' is not base64url-encoded.")))
}

/// sign, verify, encrypt, decrypt, wrapKey, unwrapKey with one version of the key.
fn crypto(req: &Req, name: &str, version: Option<&str>, segment: &str) -> KvResult<Response> {
    let (op, action) = operation(segment).ok_or_else(KvError::not_found_route)?;
    let key = K.key(name)?;
    req.authorize(action, &K.scope(req, name), "keys", op)?;
    let (r, i, pkcs8) = req.state.store.read(|tx| -> KvResult<_> {
        let r = K.live(tx, req, name, &key)?;
        let i = K.pick(&r, name, version)?;
        let v = &r.versions[i];
        if !v.life.enabled {
            return Err(KvError::disabled(K.title, op));
        }
        if !v.key_ops.iter().any(|o| o.eq_ignore_ascii_case(op)) {
            return Err(KvError::key_operation_forbidden(op));
        }
        let pkcs8 = K.open(tx, req, &key, &v.version)?;
        Ok((r, i, pkcs8))
    })?;
    let v = &r.versions[i];
    let material = Material::of(v, &pkcs8);
    let kid = kid(req, &r, v, true);
    if op == "verify" {
        let p: KeyVerifyParameters = body(req)?;
        let alg = p.alg.ok_or_else(|| KvError::bad_parameter("Property 'alg' is required."))?;
        let digest = b64_member(p.digest, "digest")?;
        let signature = b64_member(p.value, "value")?;
        let value = k::verify(&material, &alg, &digest, &signature).map_err(key_error)?;
        return ok(&KeyVerifyResult { value });
    }
    let p: KeyOperationsParameters = body(req)?;
    let alg = p.alg.ok_or_else(|| KvError::bad_parameter("Property 'alg' is required."))?;
    let input = b64_member(p.value, "value")?;
    let out = match op {
        "sign" => k::sign(&material, &alg, &input),
        "encrypt" | "wrapKey" => k::encrypt(&material, &alg, &input),
        _ => k::decrypt(&material, &alg, &input),
    }
    .map_err(key_error)?;
    ok(&KeyOperationResult { kid, value: URL_SAFE_NO_PAD.encode(out) })
}

fn page(value: Vec<KeyItem>) -> KvResult<Response> {
    ok(&KeyList { value, next_link: None })
}

fn list(req: &Req) -> KvResult<Response> {
    req.authorize(da::READ, &req.vault.resource_id, "keys", "list")?;
    let all = K.all(req)?;
    page(all.iter().filter(|r| r.deleted.is_none()).filter_map(|r| r.current().map(|v| item(req, r, v, false))).collect())
}

fn versions(req: &Req, name: &str) -> KvResult<Response> {
    let key = K.key(name)?;
    req.authorize(da::READ, &K.scope(req, name), "keys", "list")?;
    let r = req.state.store.read(|tx| K.live(tx, req, name, &key))?;
    page(r.versions.iter().map(|v| item(req, &r, v, true)).collect())
}

fn delete(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::DELETE, &K.scope(req, name), "keys", "delete")?;
    current(req, &K.soft_delete(req, name)?)
}

fn get_deleted(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::READ, &K.scope(req, name), "keys", "get")?;
    current(req, &K.get_deleted(req, name)?)
}

fn list_deleted(req: &Req) -> KvResult<Response> {
    req.authorize(da::READ, &req.vault.resource_id, "keys", "list")?;
    let all = K.all(req)?;
    page(all.iter().filter(|r| r.deleted.is_some()).filter_map(|r| r.current().map(|v| item(req, r, v, false))).collect())
}

fn recover(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::RECOVER, &K.scope(req, name), "keys", "recover")?;
    current(req, &K.recover(req, name)?)
}

fn purge(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::PURGE, &K.scope(req, name), "keys", "purge")?;
    K.purge(req, name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn backup(req: &Req, name: &str) -> KvResult<Response> {
    req.authorize(da::BACKUP, &K.scope(req, name), "keys", "backup")?;
    ok(&K.backup(req, name)?)
}

fn restore(req: &Req) -> KvResult<Response> {
    req.authorize(da::RESTORE, &req.vault.resource_id, "keys", "restore")?;
    current(req, &K.restore(req)?)
}
