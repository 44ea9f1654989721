//! What both backends derive from a document to index it: the lookup columns stored next to
//! each JSON document, the key range of "everything under a prefix", and the JSON encoding.
//! One place, so SQLite and PostgreSQL index (and so find) exactly the same rows.

use mimic_domain::directory::DirectoryObject;
use mimic_domain::limits;
use mimic_domain::rbac::RoleAssignment;
use mimic_domain::resource::Resource;
use mimic_domain::resource_id;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Result, StoreError};

/// Encodes a document for either backend, and checks it with the reader [`from_json`] uses
/// (`limits::check_readable`): anything the store accepts, it can read back. The surfaces bound
/// their input well within that reader (`limits::MAX_DEPTH`); this is the last line, so a
/// document that slipped past them fails its own write instead of every later read.
pub fn to_json<T: Serialize>(v: &T) -> Result<String> {
    let text = serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    limits::check_readable(&text)
        .map_err(|e| StoreError::Corrupt(format!("refused to write a document the store could not read back: {e}")))?;
    Ok(text)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn writes_only_what_it_reads_back() {
        let nested = |n: usize| (0..n).fold(Value::from(1), |v, _| Value::Array(vec![v]));
        let ok = nested(limits::MAX_DEPTH + limits::ENVELOPE_DEPTH);
        let text = to_json(&ok).unwrap();
        assert_eq!(from_json::<Value>(&text).unwrap(), ok);
        // What the reader would refuse is refused at the write.
        let deep = nested(limits::STORE_READER_DEPTH + 10);
        assert!(matches!(to_json(&deep), Err(StoreError::Corrupt(m)) if m.contains("could not read back")));
    }
}
