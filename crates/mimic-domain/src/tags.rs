//! The Tags API's rules (Microsoft.Resources/tags): a scope's tags replaced, merged or pruned
//! by `PATCH {scope}/providers/Microsoft.Resources/tags/default`, and a subscription's
//! predefined tag names and values (`/subscriptions/{s}/tagNames`), which are listed together
//! with the names and values in use (docs/azure-behaviour.md "Tags API").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub type Tags = Map<String, Value>;

/// A `TagsPatchResource.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOperation {
    /// Given tags are added or their values replaced; others stay.
    Merge,
    /// The given tags become the whole set.
    Replace,
    /// The given tags are removed (by name, or by name and value when a value is given).
    Delete,
}

impl PatchOperation {
    pub fn parse(s: &str) -> Option<Self> {
        [("Merge", Self::Merge), ("Replace", Self::Replace), ("Delete", Self::Delete)]
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, op)| op)
    }
}

/// The tags after `op` with `given` applied to `current`. Tag names compare case-insensitively,
/// as ARM treats them; a merged name keeps the casing it already had.
pub fn patch(current: &Tags, op: PatchOperation, given: &Tags) -> Tags {
    match op {
        PatchOperation::Replace => given.clone(),
        PatchOperation::Merge => {
            let mut out = current.clone();
            for (k, v) in given {
                match out.keys().find(|e| e.eq_ignore_ascii_case(k)).cloned() {
                    Some(existing) => {
                        out.insert(existing, v.clone());
                    }
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            out
        }
        PatchOperation::Delete => current
            .iter()
            .filter(|(k, v)| {
                !given.iter().any(|(gk, gv)| gk.eq_ignore_ascii_case(k) && (gv.as_str().is_none_or(str::is_empty) || gv == *v))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// A subscription's predefined tag names, each with its predefined values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PredefinedTags {
    pub names: Vec<PredefinedTag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredefinedTag {
    pub name: String,
    pub values: Vec<String>,
}

impl PredefinedTags {
    fn find(&mut self, name: &str) -> Option<&mut PredefinedTag> {
        self.names.iter_mut().find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// Adds a name; true when it is new.
    pub fn add_name(&mut self, name: &str) -> bool {
        if self.find(name).is_some() {
            return false;
        }
        self.names.push(PredefinedTag { name: name.to_string(), values: vec![] });
        true
    }

    /// Adds a value to a name (adding the name too); true when the value is new.
    pub fn add_value(&mut self, name: &str, value: &str) -> bool {
        self.add_name(name);
        let tag = self.find(name).expect("just added");
        if tag.values.iter().any(|v| v == value) {
            return false;
        }
        tag.values.push(value.to_string());
        true
    }

    pub fn remove_name(&mut self, name: &str) -> bool {
        let before = self.names.len();
        self.names.retain(|t| !t.name.eq_ignore_ascii_case(name));
        before != self.names.len()
    }

    pub fn remove_value(&mut self, name: &str, value: &str) -> bool {
        let Some(tag) = self.find(name) else { return false };
        let before = tag.values.len();
        tag.values.retain(|v| v != value);
        before != tag.values.len()
    }
}

/// One tag name as `GET /subscriptions/{s}/tagNames` lists it: how many resources carry it,
/// and each value with its own count.
#[derive(Debug, Clone, PartialEq)]
pub struct TagNameUsage {
    pub name: String,
    pub count: usize,
    pub values: Vec<(String, usize)>,
}

/// The tag names of a subscription: the predefined ones first, then those in use, with how
/// many of `in_use` (each resource's or group's tags) carry each name and value.
pub fn usage<'a>(predefined: &PredefinedTags, in_use: impl IntoIterator<Item = &'a Tags>) -> Vec<TagNameUsage> {
    let mut out: Vec<TagNameUsage> = predefined
        .names
        .iter()
        .map(|t| TagNameUsage { name: t.name.clone(), count: 0, values: t.values.iter().map(|v| (v.clone(), 0)).collect() })
        .collect();
    for tags in in_use {
        for (k, v) in tags {
            let value = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            let i = match out.iter().position(|u| u.name.eq_ignore_ascii_case(k)) {
                Some(i) => i,
                None => {
                    out.push(TagNameUsage { name: k.clone(), count: 0, values: vec![] });
                    out.len() - 1
                }
            };
            let entry = &mut out[i];
            entry.count += 1;
            match entry.values.iter_mut().find(|(val, _)| *val == value) {
                Some((_, n)) => *n += 1,
                None => entry.values.push((value, 1)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tags(v: Value) -> Tags {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn patch_operations() {
        let current = tags(json!({"Env": "dev", "team": "a"}));
        assert_eq!(
            patch(&current, PatchOperation::Merge, &tags(json!({"env": "prod", "x": "1"}))),
            tags(json!({"Env": "prod", "team": "a", "x": "1"}))
        );
        assert_eq!(patch(&current, PatchOperation::Replace, &tags(json!({"x": "1"}))), tags(json!({"x": "1"})));
        assert_eq!(patch(&current, PatchOperation::Delete, &tags(json!({"ENV": ""}))), tags(json!({"team": "a"})));
        // A value given to Delete must match.
        assert_eq!(patch(&current, PatchOperation::Delete, &tags(json!({"team": "b"}))), current);
        assert_eq!(PatchOperation::parse("merge"), Some(PatchOperation::Merge));
        assert_eq!(PatchOperation::parse("Upsert"), None);
    }

    #[test]
    fn usage_counts_names_and_values() {
        let mut pre = PredefinedTags::default();
        assert!(pre.add_name("cost"));
        assert!(!pre.add_name("COST"));
        assert!(pre.add_value("cost", "42"));
        assert!(!pre.add_value("cost", "42"));
        let a = tags(json!({"env": "dev"}));
        let b = tags(json!({"Env": "dev", "cost": "42"}));
        let u = usage(&pre, [&a, &b]);
        assert_eq!(u[0], TagNameUsage { name: "cost".into(), count: 1, values: vec![("42".into(), 1)] });
        assert_eq!(u[1], TagNameUsage { name: "env".into(), count: 2, values: vec![("dev".into(), 2)] });
        assert!(pre.remove_value("cost", "42"));
        assert!(pre.remove_name("Cost"));
        assert!(pre.names.is_empty());
    }
}
