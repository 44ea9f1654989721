//! What secrets and keys share on the data plane: records with versions stored by vault
//! instance, the vault's index of names, soft delete (delete, get and list deleted, recover,
//! purge) and backup/restore. Each family (secrets.rs, keys.rs) renders its own bundles.
//!
//! A backup blob is the object's record and its versions' clear parts, sealed under the master
//! key: it restores only into a vault of the same store and subscription (Azure restores only
//! within the subscription and geography it was made in), never reveals a value, and a blob
//! altered in transit does not open.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mimic_domain::keyvault::keys::KeyVersion;
use mimic_domain::keyvault::objects::{Lifetime, RECOVERABLE_DAYS, RECOVERY_LEVEL};
use mimic_domain::keyvault::objects::{MAX_OBJECTS_PER_VAULT, MAX_VERSIONS_PER_OBJECT};
use mimic_domain::keyvault::{self as kv, Deletion, ObjectRecord, SecretVersion, Versioned};
use mimic_store::documents::{Docs, Kind, KEYVAULT_KEY, KEYVAULT_KEY_INDEX, KEYVAULT_KEY_MATERIAL};
use mimic_store::documents::{KEYVAULT_SECRET, KEYVAULT_SECRET_INDEX, KEYVAULT_SECRET_VALUE};
use mimic_store::Tx;
use mimic_wire::keyvault::{BackupBlob, DeletionInfo, SecretAttributes};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{KvError, KvResult, Req};

/// One family of vault objects: where it is stored and how Key Vault names it.
pub struct Family<V: 'static> {
    /// The records, by `{instance}/{key}`.
    pub record: Kind<ObjectRecord<V>>,
    /// Each version's sealed part (a secret's value, a key's private key), by `{instance}/{key}/{version}`.
    pub sealed: Kind<String>,
    /// The names, by instance.
    pub index: Kind<kv::ObjectIndex>,
    /// The path segment and the access-policy list: `secrets`, `keys`.
    pub noun: &'static str,
    /// How Key Vault's messages name one: `Secret`, `Key`.
    pub title: &'static str,
    /// The not-found code: `SecretNotFound`, `KeyNotFound`.
    pub not_found_code: &'static str,
}

pub const SECRETS: Family<SecretVersion> = Family {
    record: KEYVAULT_SECRET,
    sealed: KEYVAULT_SECRET_VALUE,
    index: KEYVAULT_SECRET_INDEX,
    noun: "secrets",
    title: "Secret",
    not_found_code: "SecretNotFound",
};

pub const KEYS: Family<KeyVersion> = Family {
    record: KEYVAULT_KEY,
    sealed: KEYVAULT_KEY_MATERIAL,
    index: KEYVAULT_KEY_INDEX,
    noun: "keys",
    title: "Key",
    not_found_code: "KeyNotFound",
};

/// What a backup blob holds once opened.
#[derive(Serialize, Deserialize)]
struct Backup<V> {
    noun: String,
    subscription: String,
    record: ObjectRecord<V>,
    /// Each version's sealed part in the clear, base64url, in `record.versions` order.
    parts: Vec<String>,
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A version's attributes as Key Vault answers them (secrets' and keys' alike).
pub fn attributes(l: &Lifetime) -> SecretAttributes {
    SecretAttributes {
        enabled: Some(l.enabled),
        nbf: l.nbf,
        exp: l.exp,
        created: Some(l.created),
        updated: Some(l.updated),
        recoverable_days: Some(RECOVERABLE_DAYS),
        recovery_level: Some(RECOVERY_LEVEL.into()),
    }
}

impl<V: Versioned + Clone + Serialize + DeserializeOwned> Family<V> {
    /// The name's key, or Key Vault's 400 for a name it would refuse.
    pub fn key(&self, name: &str) -> KvResult<String> {
        if kv::valid_object_name(name) {
            Ok(name.to_ascii_lowercase())
        } else {
            Err(KvError::invalid_name(name))
        }
    }

    /// The RBAC scope of one object: `{vault id}/{noun}/{name}`.
    pub fn scope(&self, req: &Req, name: &str) -> String {
        format!("{}/{}/{name}", req.vault.resource_id, self.noun)
    }

    fn record_id(&self, req: &Req, key: &str) -> String {
        format!("{}/{key}", req.vault.instance)
    }

    fn sealed_id(&self, req: &Req, key: &str, version: &str) -> String {
        format!("{}/{key}/{version}", req.vault.instance)
    }

    /// What a part is sealed for: its row, so a sealed part moved to another row does not open.
    fn purpose(&self, req: &Req, key: &str, version: &str) -> String {
        format!("keyvault/{}/{}", self.noun.trim_end_matches('s'), self.sealed_id(req, key, version))
    }

    pub fn seal(&self, req: &Req, key: &str, version: &str, part: &[u8]) -> KvResult<String> {
        req.state.keys.master_key().seal(&self.purpose(req, key, version), part).map_err(|_| KvError::internal())
    }

    /// A version's part, opened.
    pub fn open(&self, tx: &mut dyn Tx, req: &Req, key: &str, version: &str) -> KvResult<Vec<u8>> {
        let sealed = tx.get(self.sealed, &self.sealed_id(req, key, version))?.ok_or_else(KvError::internal)?;
        req.state.keys.master_key().open(&self.purpose(req, key, version), &sealed).map_err(|_| KvError::internal())
    }

    pub fn load(&self, tx: &mut dyn Tx, req: &Req, key: &str) -> KvResult<Option<ObjectRecord<V>>> {
        Ok(tx.get(self.record, &self.record_id(req, key))?)
    }

    /// The deletion members of a record's bundle (`recoveryId` `{vaultUri}/deleted{noun}/{name}`).
    pub fn deletion(&self, req: &Req, r: &ObjectRecord<V>) -> DeletionInfo {
        let Some(d) = r.deleted else { return DeletionInfo::default() };
        DeletionInfo {
            recovery_id: Some(format!("{}/deleted{}/{}", req.vault.uri, self.noun, r.name)),
            deleted_date: Some(d.deleted_date),
            scheduled_purge_date: Some(d.scheduled_purge_date),
        }
    }

    pub fn not_found(&self, name: &str) -> KvError {
        KvError::object_not_found(self.not_found_code, self.title, name)
    }

    /// The live (not deleted) object, or Key Vault's 404.
    pub fn live(&self, tx: &mut dyn Tx, req: &Req, name: &str, key: &str) -> KvResult<ObjectRecord<V>> {
        match self.load(tx, req, key)? {
            Some(r) if r.deleted.is_none() && !r.versions.is_empty() => Ok(r),
            _ => Err(self.not_found(name)),
        }
    }

    /// The version a request names (the current one when none), or Key Vault's 404.
    pub fn pick(&self, r: &ObjectRecord<V>, name: &str, version: Option<&str>) -> KvResult<usize> {
        r.position(version).ok_or_else(|| self.not_found(&format!("{name}/{}", version.unwrap_or_default())))
    }

    /// The deleted object, or Key Vault's 404.
    pub fn deleted(&self, tx: &mut dyn Tx, req: &Req, name: &str, key: &str) -> KvResult<ObjectRecord<V>> {
        match self.load(tx, req, key)? {
            Some(r) if r.deleted.is_some() => Ok(r),
            _ => Err(KvError::new_not_found(self.not_found_code, format!("Deleted {} not found: {name}", self.title))),
        }
    }

    /// Stores `version` as the object's new current version, with its sealed part (a new name
    /// enters the index; a deleted one is Key Vault's 409).
    pub fn add_version(&self, tx: &mut dyn Tx, req: &Req, name: &str, key: &str, version: V, sealed: &str) -> KvResult<ObjectRecord<V>> {
        let mut record = match self.load(tx, req, key)? {
            Some(r) if r.deleted.is_some() => return Err(KvError::deleted_but_recoverable(self.title, name)),
            Some(r) => r,
            None => {
                self.index_add(tx, req, key)?;
                ObjectRecord::new(name)
            }
        };
        if record.versions.len() >= MAX_VERSIONS_PER_OBJECT {
            return Err(KvError::limit(format!("An object keeps at most {MAX_VERSIONS_PER_OBJECT} versions in Mimic.")));
        }
        tx.put(self.sealed, &self.sealed_id(req, key, version.version()), &sealed.to_string(), None)?;
        record.versions.push(version);
        tx.put(self.record, &self.record_id(req, key), &record, None)?;
        Ok(record)
    }

    fn index_add(&self, tx: &mut dyn Tx, req: &Req, key: &str) -> KvResult<()> {
        let id = req.vault.instance.to_string();
        let mut index = tx.get(self.index, &id)?.unwrap_or_default();
        if index.names.len() >= MAX_OBJECTS_PER_VAULT {
            return Err(KvError::limit(format!("A vault holds at most {MAX_OBJECTS_PER_VAULT} {} in Mimic.", self.noun)));
        }
        index.names.push(key.to_string());
        tx.put(self.index, &id, &index, None)?;
        Ok(())
    }

    /// Rewrites one version of a live object.
    pub fn update(&self, req: &Req, name: &str, version: Option<&str>, change: impl Fn(&mut V)) -> KvResult<(ObjectRecord<V>, usize)> {
        let key = self.key(name)?;
        req.state.store.write(|tx| -> KvResult<_> {
            let mut r = self.live(tx, req, name, &key)?;
            let i = self.pick(&r, name, version)?;
            change(&mut r.versions[i]);
            tx.put(self.record, &self.record_id(req, &key), &r, None)?;
            Ok((r, i))
        })
    }

    /// Every record of the vault (live and deleted).
    pub fn all(&self, req: &Req) -> KvResult<Vec<ObjectRecord<V>>> {
        req.state.store.read(|tx| -> KvResult<_> {
            let index = tx.get(self.index, &req.vault.instance.to_string())?.unwrap_or_default();
            let mut out = Vec::with_capacity(index.names.len());
            for key in &index.names {
                if let Some(r) = self.load(tx, req, key)? {
                    out.push(r);
                }
            }
            Ok(out)
        })
    }

    /// Moves a live object into the soft-deleted state.
    pub fn soft_delete(&self, req: &Req, name: &str) -> KvResult<ObjectRecord<V>> {
        let key = self.key(name)?;
        let t = now();
        req.state.store.write(|tx| -> KvResult<_> {
            let mut r = self.live(tx, req, name, &key)?;
            r.deleted = Some(Deletion::at(t));
            tx.put(self.record, &self.record_id(req, &key), &r, None)?;
            Ok(r)
        })
    }

    pub fn get_deleted(&self, req: &Req, name: &str) -> KvResult<ObjectRecord<V>> {
        let key = self.key(name)?;
        req.state.store.read(|tx| self.deleted(tx, req, name, &key))
    }

    pub fn recover(&self, req: &Req, name: &str) -> KvResult<ObjectRecord<V>> {
        let key = self.key(name)?;
        req.state.store.write(|tx| -> KvResult<_> {
            let mut r = self.deleted(tx, req, name, &key)?;
            r.deleted = None;
            tx.put(self.record, &self.record_id(req, &key), &r, None)?;
            Ok(r)
        })
    }

    /// Removes a deleted object for good: its record, every version's sealed part, its name.
    pub fn purge(&self, req: &Req, name: &str) -> KvResult<()> {
        let key = self.key(name)?;
        req.state.store.write(|tx| -> KvResult<_> {
            let r = self.deleted(tx, req, name, &key)?;
            for v in &r.versions {
                tx.remove(self.sealed, &self.sealed_id(req, &key, v.version()))?;
            }
            tx.remove(self.record, &self.record_id(req, &key))?;
            let id = req.vault.instance.to_string();
            let mut index = tx.get(self.index, &id)?.unwrap_or_default();
            index.names.retain(|n| n != &key);
            tx.put(self.index, &id, &index, None)?;
            Ok(())
        })
    }

    fn subscription(req: &Req) -> String {
        let id = mimic_domain::resource_id::ResourceId::parse(&req.vault.resource_id).ok();
        id.and_then(|id| id.subscription).unwrap_or_default().to_ascii_lowercase()
    }

    fn backup_purpose(&self) -> String {
        format!("keyvault/backup/{}", self.noun)
    }

    /// `POST /{noun}/{name}/backup`: the live object, every version, as one opaque blob.
    pub fn backup(&self, req: &Req, name: &str) -> KvResult<BackupBlob> {
        let key = self.key(name)?;
        let (record, parts) = req.state.store.read(|tx| -> KvResult<_> {
            let r = self.live(tx, req, name, &key)?;
            let mut parts = Vec::with_capacity(r.versions.len());
            for v in &r.versions {
                parts.push(URL_SAFE_NO_PAD.encode(self.open(tx, req, &key, v.version())?));
            }
            Ok((r, parts))
        })?;
        let backup = Backup { noun: self.noun.to_string(), subscription: Self::subscription(req), record, parts };
        let clear = serde_json::to_vec(&backup).map_err(|_| KvError::internal())?;
        let sealed = req.state.keys.master_key().seal(&self.backup_purpose(), &clear).map_err(|_| KvError::internal())?;
        Ok(BackupBlob { value: URL_SAFE_NO_PAD.encode(sealed) })
    }

    /// `POST /{noun}/restore`: the object of a blob back under its name, which must be free.
    pub fn restore(&self, req: &Req) -> KvResult<ObjectRecord<V>> {
        let blob: BackupBlob = super::body(req)?;
        let invalid =
            || KvError::bad_parameter(format!("The backup blob is not a valid {} backup of this vault's subscription.", self.title));
        let sealed = URL_SAFE_NO_PAD.decode(blob.value.trim_end_matches('=')).map_err(|_| invalid())?;
        let sealed = String::from_utf8(sealed).map_err(|_| invalid())?;
        let clear = req.state.keys.master_key().open(&self.backup_purpose(), &sealed).map_err(|_| invalid())?;
        let backup: Backup<V> = serde_json::from_slice(&clear).map_err(|_| invalid())?;
        if backup.noun != self.noun || backup.subscription != Self::subscription(req) || backup.parts.len() != backup.record.versions.len()
        {
            return Err(invalid());
        }
        let name = backup.record.name.clone();
        let key = self.key(&name)?;
        let mut sealed_parts = Vec::with_capacity(backup.parts.len());
        for (v, part) in backup.record.versions.iter().zip(&backup.parts) {
            let clear = URL_SAFE_NO_PAD.decode(part).map_err(|_| invalid())?;
            sealed_parts.push(self.seal(req, &key, v.version(), &clear)?);
        }
        req.state.store.write(|tx| -> KvResult<_> {
            if self.load(tx, req, &key)?.is_some() {
                return Err(KvError::already_exists(self.title, &name));
            }
            self.index_add(tx, req, &key)?;
            for (v, sealed) in backup.record.versions.iter().zip(&sealed_parts) {
                tx.put(self.sealed, &self.sealed_id(req, &key, v.version()), sealed, None)?;
            }
            let record = ObjectRecord { deleted: None, ..backup.record.clone() };
            tx.put(self.record, &self.record_id(req, &key), &record, None)?;
            Ok(record)
        })
    }
}
