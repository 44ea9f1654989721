//! Storage accounts as both of their surfaces read them: the `Microsoft.Storage` ARM provider
//! (which creates, changes and deletes them) and the Blob service (which serves their data).
//! The stored contract is in `mimic_domain::storage`; this module holds what both do with it,
//! so each is written once: finding a live account by name, its access keys (made, sealed,
//! opened), a container's resource, and deleting a container's or an account's blob data.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id;
use mimic_domain::storage::{self as st, AccountKeys, AccountName, ContainerProperties};
use mimic_store::documents::{Docs, STORAGE_KEYS, STORAGE_NAME};
use mimic_store::{StoreError, Tx};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::master_key::MasterKey;

/// A live storage account, as its resource and name index hold it.
#[derive(Debug, Clone)]
pub struct Account {
    pub resource: Resource,
    pub instance: Uuid,
}

impl Account {
    pub fn name(&self) -> &str {
        &self.resource.name
    }

    /// The subscription id of its resource id.
    pub fn subscription(&self) -> &str {
        self.resource.id.split('/').nth(2).unwrap_or_default()
    }

    /// `allowSharedKeyAccess`: Azure's default (absent or null) is to allow it.
    pub fn shared_key_allowed(&self) -> bool {
        self.resource.properties.get("allowSharedKeyAccess").and_then(Value::as_bool) != Some(false)
    }
}

/// The live account named `name` (any case), through the global name index.
pub fn find(tx: &mut dyn Tx, name: &str) -> Result<Option<Account>, StoreError> {
    if !st::valid_account_name(&name.to_ascii_lowercase()) {
        return Ok(None);
    }
    let Some(AccountName { resource_id, instance }) = tx.get(STORAGE_NAME, &st::name_key(name))? else { return Ok(None) };
    Ok(tx.resource(&resource_id::key(&resource_id))?.map(|resource| Account { resource, instance }))
}

/// Two new access keys, sealed for `instance`.
pub fn new_keys(master: &MasterKey, instance: Uuid, now: DateTime<Utc>) -> anyhow::Result<AccountKeys> {
    Ok(AccountKeys {
        key1: new_key(master, instance, "key1")?,
        key2: new_key(master, instance, "key2")?,
        key1_created: now,
        key2_created: now,
    })
}

/// A new random key (64 bytes, base64 as Azure's), sealed for `instance` and `key_name`.
pub fn new_key(master: &MasterKey, instance: Uuid, key_name: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    master.seal(&st::key_purpose(instance, key_name), STANDARD.encode(bytes).as_bytes())
}

/// The account instance's keys in the clear, `[key1, key2]`.
pub fn open_keys(tx: &mut dyn Tx, master: &MasterKey, instance: Uuid) -> anyhow::Result<Option<[String; 2]>> {
    let Some(k) = tx.get(STORAGE_KEYS, &instance.to_string())? else { return Ok(None) };
    let open = |sealed: &str, name: &str| -> anyhow::Result<String> {
        Ok(String::from_utf8(master.open(&st::key_purpose(instance, name), sealed)?)?)
    };
    Ok(Some([open(&k.key1, "key1")?, open(&k.key2, "key2")?]))
}

/// A new container resource of `account`, named `name`.
pub fn new_container(account: &Account, name: &str, public_access: &str, metadata: Map<String, Value>, now: DateTime<Utc>) -> Resource {
    let props = ContainerProperties::new(now, public_access, metadata);
    container_resource(account, name, &props, now)
}

/// The container resource `name` of `account` holding `props` (its ETag also top-level, as ARM
/// answers it).
pub fn container_resource(account: &Account, name: &str, props: &ContainerProperties, now: DateTime<Utc>) -> Resource {
    let mut extra = Map::new();
    extra.insert("etag".into(), props.etag.clone().into());
    Resource {
        id: st::container_id(&account.resource.id, name),
        name: name.to_string(),
        resource_type: st::CONTAINER_TYPE.into(),
        location: None,
        tags: None,
        properties: serde_json::to_value(props).unwrap_or(Value::Null),
        identity: None,
        extra,
        created: now,
        changed: now,
    }
}

/// Deletes container `name` of account instance `instance`: its blobs, their bytes and staged
/// blocks' bytes. (The caller deletes the container's resource.)
pub fn delete_container_data(tx: &mut dyn Tx, instance: Uuid, name: &str) -> Result<(), StoreError> {
    tx.delete_blobs_in(&st::container_key(instance, name))?;
    tx.delete_chunks_under(st::data_prefix(instance, Some(name)).trim_end_matches('/'))?;
    Ok(())
}

/// Deletes everything account instance `instance` holds in the Blob service, its keys and its
/// name (when the index still points at `resource_id`). (The caller deletes the resources.)
pub fn delete_account_data(tx: &mut dyn Tx, instance: Uuid, name: &str, resource_id: &str) -> Result<(), StoreError> {
    let prefix = instance.to_string();
    tx.delete_blobs_under(&prefix)?;
    tx.delete_chunks_under(&prefix)?;
    tx.remove(STORAGE_KEYS, &prefix)?;
    let nk = st::name_key(name);
    if tx.get(STORAGE_NAME, &nk)?.is_some_and(|n| resource_id::key(&n.resource_id) == resource_id::key(resource_id)) {
        tx.remove(STORAGE_NAME, &nk)?;
    }
    Ok(())
}
