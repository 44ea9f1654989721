//! What secrets and keys share: a named object with versions (the last is the current one),
//! soft delete, the vault's index of names, and Key Vault's limits on names and tags.
//!
//! Source: "About keys, secrets, and certificates" (object names: 1–127 letters, digits and
//! dashes) and "Azure Key Vault service limits" (tags), learn.microsoft.com/azure/key-vault.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Object names: 1–127 letters, digits and `-` (Key Vault's object-name rule).
pub fn valid_object_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Key Vault's tag limits: 15 tags per object, names and values at most 256 characters; a
/// content type at most 255 ("Azure Key Vault service limits", object tags).
pub const MAX_TAGS: usize = 15;
pub const MAX_TAG_CHARS: usize = 256;
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;

/// Whether tags and a content type are within Key Vault's limits (and so an object's document
/// within a bounded size).
pub fn within_limits(tags: Option<&Map<String, Value>>, content_type: Option<&str>) -> bool {
    let tags_ok = tags.is_none_or(|t| {
        t.len() <= MAX_TAGS
            && t.iter().all(|(k, v)| k.chars().count() <= MAX_TAG_CHARS && v.as_str().is_some_and(|v| v.chars().count() <= MAX_TAG_CHARS))
    });
    tags_ok && content_type.is_none_or(|c| c.chars().count() <= MAX_CONTENT_TYPE_CHARS)
}

/// Bounds Mimic sets so one vault's documents stay small (Azure documents no such limits).
pub const MAX_OBJECTS_PER_VAULT: usize = 10_000;
pub const MAX_VERSIONS_PER_OBJECT: usize = 500;

/// The recovery level a soft-delete vault reports on its objects (`DeletionRecoveryLevel`).
pub const RECOVERY_LEVEL: &str = "Recoverable+Purgeable";
/// Days a deleted object is kept before it may be purged (the vault's default retention).
pub const RECOVERABLE_DAYS: i64 = 90;

/// A version id: 32 random hex digits, as Key Vault makes them.
pub fn new_version() -> String {
    Uuid::new_v4().simple().to_string()
}

/// A version's lifetime attributes (Key Vault's `enabled`, `nbf`, `exp`, `created`, `updated`,
/// in Unix seconds), the same for secrets and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetime {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

impl Lifetime {
    /// A new version's, made at `t` (enabled unless told otherwise).
    pub fn new(enabled: Option<bool>, nbf: Option<i64>, exp: Option<i64>, t: i64) -> Self {
        Lifetime { enabled: enabled.unwrap_or(true), nbf, exp, created: t, updated: t }
    }

    /// An update at `t`: what it sets replaces, what it leaves out stays.
    pub fn update(&mut self, enabled: Option<bool>, nbf: Option<i64>, exp: Option<i64>, t: i64) {
        self.enabled = enabled.unwrap_or(self.enabled);
        self.nbf = nbf.or(self.nbf);
        self.exp = exp.or(self.exp);
        self.updated = t;
    }
}

/// One version of an object.
pub trait Versioned {
    fn version(&self) -> &str;
}

/// When a deleted object was deleted and may be purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    pub deleted_date: i64,
    pub scheduled_purge_date: i64,
}

impl Deletion {
    pub fn at(t: i64) -> Self {
        Deletion { deleted_date: t, scheduled_purge_date: t + RECOVERABLE_DAYS * 86_400 }
    }
}

/// An object and its versions, oldest first (the last is the current one). Stored under
/// `{vault instance}/{lower-cased name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRecord<V> {
    /// The name as first set (names compare case-insensitively).
    pub name: String,
    pub versions: Vec<V>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Deletion>,
}

impl<V: Versioned> ObjectRecord<V> {
    pub fn new(name: &str) -> Self {
        ObjectRecord { name: name.to_string(), versions: Vec::new(), deleted: None }
    }
    pub fn current(&self) -> Option<&V> {
        self.versions.last()
    }
    pub fn version(&self, v: &str) -> Option<&V> {
        self.versions.iter().find(|x| x.version().eq_ignore_ascii_case(v))
    }
    /// The version a request names (`None` or empty: the current one).
    pub fn position(&self, v: Option<&str>) -> Option<usize> {
        match v.filter(|v| !v.is_empty()) {
            None => self.versions.len().checked_sub(1),
            Some(v) => self.versions.iter().position(|x| x.version().eq_ignore_ascii_case(v)),
        }
    }
}

/// The object names of one kind in a vault instance, lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectIndex {
    pub names: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    struct V(&'static str);
    impl Versioned for V {
        fn version(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn names_versions_and_limits() {
        assert!(valid_object_name("my-Secret-1") && !valid_object_name("a_b") && !valid_object_name(""));
        assert!(!valid_object_name(&"a".repeat(128)));
        let mut r = ObjectRecord::new("A");
        assert_eq!(r.position(None), None);
        r.versions = vec![V("aa"), V("BB")];
        assert_eq!(r.position(None), Some(1));
        assert_eq!(r.position(Some("")), Some(1));
        assert_eq!(r.position(Some("bb")), Some(1));
        assert_eq!(r.position(Some("cc")), None);
        assert_eq!(r.current().map(|v| v.0), Some("BB"));
        let mut tags = Map::new();
        tags.insert("k".into(), Value::from("v"));
        assert!(within_limits(Some(&tags), Some("text/plain")));
        tags.insert("n".into(), Value::from(1));
        assert!(!within_limits(Some(&tags), None), "tag values are strings");
        assert!(!within_limits(None, Some(&"c".repeat(256))));
        assert_eq!(Deletion::at(10).scheduled_purge_date, 10 + 90 * 86_400);
    }
}
