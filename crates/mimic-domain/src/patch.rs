//! How a PATCH body merges into what is stored, for every surface that merges JSON documents
//! (ARM's VMs and generic resources). Two rules exist, and each caller names the one it follows:
//!
//! * [`Merge::Deep`]: JSON merge-patch (RFC 7386) into what exists. Objects merge member by
//!   member at every depth, a `null` removes the member, anything else replaces. The Compute
//!   RP's PATCH of a VM's `properties` (a client sends only the changed leaves). One departure
//!   from the RFC, kept as this PATCH has always answered: where the target has no object to
//!   merge into (a new member, or a stored non-object), the patch's value is stored as sent,
//!   nulls inside it included, where RFC 7386 would drop them.
//! * [`Merge::TopLevel`]: each member of the patch replaces the stored member whole, and a
//!   `null` is stored as `null`. ARM's envelope members (`sku`, `plan`, `zones`, `kind`, ...),
//!   and the `properties` of the resource types Mimic does not model: there ARM hands the body
//!   to the resource provider, whose merge rules Mimic cannot know, so it stores what the client
//!   sent, one level deep, rather than guess which nulls mean "remove".
//!
//! `tags` are typed (`Option<Map>`) and every ARM PATCH here replaces them whole when sent, the
//! envelope rule. The `identity` block has its own rules (a `userAssignedIdentities` map merged with nulls as
//! removals, the type replaced): [`crate::identity::plan`]. Graph's PATCHes are typed, property
//! by property, and merge no JSON.

use serde_json::{Map, Value};

/// Which merge a PATCH follows (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// RFC 7386 JSON merge-patch into existing objects: deep, `null` removes.
    Deep,
    /// Members replace whole, one level deep; `null` is kept as a value.
    TopLevel,
}

/// Merges `patch` into `target`. When either is not an object, the patch replaces the target.
pub fn merge(target: &mut Value, patch: &Value, how: Merge) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => merge_members(t, p, how),
        (t, p) => *t = p.clone(),
    }
}

/// Merges the members of `patch` into `target`.
pub fn merge_members(target: &mut Map<String, Value>, patch: &Map<String, Value>, how: Merge) {
    for (k, v) in patch {
        match how {
            Merge::Deep if v.is_null() => {
                target.remove(k);
            }
            Merge::Deep => merge(target.entry(k.clone()).or_insert(Value::Null), v, how),
            Merge::TopLevel => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(target: Value, patch: Value, how: Merge) -> Value {
        let mut t = target;
        merge(&mut t, &patch, how);
        t
    }

    /// RFC 7386 appendix A, every example but the two where the patch brings a new object with
    /// nulls in it (see `new_objects_are_stored_as_sent`).
    #[test]
    fn rfc7386_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (json!({"a":"b","b":"c"}), json!({"a":null}), json!({"b":"c"})),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (json!({"a":{"b":"c"}}), json!({"a":{"b":"d","c":null}}), json!({"a":{"b":"d"}})),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
        ];
        for (target, patch, want) in cases {
            assert_eq!(merged(target.clone(), patch.clone(), Merge::Deep), want, "{target} + {patch}");
        }
    }

    #[test]
    fn new_objects_are_stored_as_sent() {
        // RFC 7386 gives {"a":"b"} and {"a":{"bb":{}}}.
        assert_eq!(merged(json!([1, 2]), json!({"a":"b","c":null}), Merge::Deep), json!({"a":"b","c":null}));
        assert_eq!(merged(json!({}), json!({"a":{"bb":{"ccc":null}}}), Merge::Deep), json!({"a":{"bb":{"ccc":null}}}));
        assert_eq!(merged(json!({"a":"c"}), json!({"a":{"b":null}}), Merge::Deep), json!({"a":{"b":null}}));
    }

    #[test]
    fn deep_keeps_member_order_and_appends_new_members() {
        let got = merged(json!({"a":1,"b":{"x":1,"y":2},"c":3}), json!({"b":{"x":9},"d":4}), Merge::Deep);
        assert_eq!(serde_json::to_string(&got).unwrap(), r#"{"a":1,"b":{"x":9,"y":2},"c":3,"d":4}"#);
    }

    #[test]
    fn top_level_replaces_members_whole_and_keeps_nulls() {
        let got = merged(json!({"a":{"x":1,"y":2},"b":1,"c":2}), json!({"a":{"x":9},"b":null,"d":[1]}), Merge::TopLevel);
        assert_eq!(serde_json::to_string(&got).unwrap(), r#"{"a":{"x":9},"b":null,"c":2,"d":[1]}"#);
    }

    #[test]
    fn a_patch_that_is_not_an_object_replaces() {
        for how in [Merge::Deep, Merge::TopLevel] {
            assert_eq!(merged(json!({"a":1}), json!([1]), how), json!([1]));
            assert_eq!(merged(json!("s"), json!({"a":1}), how), json!({"a":1}));
        }
    }
}
