//! What both backends derive from a document to index it: the lookup columns stored next to
//! each JSON document, the key range of "everything under a prefix", and the JSON encoding.
//! One place, so SQLite and PostgreSQL index (and so find) exactly the same rows.

use mimic_domain::directory::DirectoryObject;
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::resource_id;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Result, StoreError};

pub fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A directory object's app id and lower-cased UPN.
pub fn object(o: &DirectoryObject) -> (Option<String>, Option<String>) {
    (o.app_id().map(|a| a.to_string()), o.user_principal_name().map(|u| u.to_ascii_lowercase()))
}

/// A resource's key, lower-cased subscription, resource group and type.
pub struct ResourceColumns {
    pub key: String,
    pub subscription: String,
    pub resource_group: Option<String>,
    pub type_key: String,
}

pub fn resource(r: &Resource) -> Result<ResourceColumns> {
    let parsed = r.parsed_id().ok_or_else(|| StoreError::Corrupt(format!("bad resource id {}", r.id)))?;
    Ok(ResourceColumns {
        key: r.key(),
        subscription: parsed.subscription.clone().unwrap_or_default().to_ascii_lowercase(),
        resource_group: parsed.resource_group.as_ref().map(|g| g.to_ascii_lowercase()),
        type_key: r.resource_type.to_ascii_lowercase(),
    })
}

/// A role assignment's key, its scope's key and its lower-cased subscription ("" at `/`).
pub struct AssignmentColumns {
    pub key: String,
    pub scope_key: String,
    pub subscription: String,
}

pub fn assignment(a: &RoleAssignment) -> AssignmentColumns {
    AssignmentColumns {
        key: resource_id::key(&format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", a.scope.trim_end_matches('/'), a.name)),
        scope_key: resource_id::key(&a.scope),
        subscription: resource_id::ResourceId::parse(&a.scope).ok().and_then(|p| p.subscription).unwrap_or_default().to_ascii_lowercase(),
    }
}

/// The half-open key range `[prefix/, prefix0)`: everything strictly under `prefix` ('0' is the
/// byte after '/'), compared bytewise.
pub fn under(prefix: &str) -> (String, String) {
    (format!("{prefix}/"), format!("{prefix}0"))
}
