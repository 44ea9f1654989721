//! Moving resources to another resource group: what their ids become and how references to
//! them are rewritten ("Move Azure resources to a new resource group or subscription",
//! learn.microsoft.com: "When you move a resource, you change its resource ID"; child resources
//! move with their parent).

use serde_json::Value;

use crate::resource_id::ResourceId;

/// The most resources one move takes ("You can move up to 800 resources in a single operation").
pub const MAX_RESOURCES: usize = 800;

/// `id` (of a resource in a resource group) once moved into group `rg` of subscription `sub`.
pub fn moved_id(id: &str, sub: &str, rg: &str) -> Option<String> {
    let mut parsed = ResourceId::parse(id).ok()?;
    parsed.resource_group.as_ref()?;
    parsed.subscription = Some(sub.to_string());
    parsed.resource_group = Some(rg.to_string());
    Some(parsed.render())
}

/// Rewrites, anywhere in `value`, each string that is one of the `moves`' old ids or a path
/// below one (`{old}/subnets/default`), compared case-insensitively as ARM compares ids, to the
/// new id. Says whether anything changed.
pub fn rewrite_references(value: &mut Value, moves: &[(String, String)]) -> bool {
    match value {
        Value::String(s) => match rebased(s, moves) {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        },
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| rewrite_references(v, moves) | changed),
        Value::Object(map) => {
            let mut changed = false;
            // Keys can be ids too (a VM's `userAssignedIdentities`).
            let renamed: Vec<(String, String)> = map.keys().filter_map(|k| rebased(k, moves).map(|new| (k.clone(), new))).collect();
            for (old, new) in renamed {
                if let Some(v) = map.remove(&old) {
                    map.insert(new, v);
                    changed = true;
                }
            }
            map.values_mut().fold(changed, |changed, v| rewrite_references(v, moves) | changed)
        }
        _ => false,
    }
}

fn rebased(s: &str, moves: &[(String, String)]) -> Option<String> {
    if !s.starts_with('/') {
        return None;
    }
    moves.iter().find_map(|(old, new)| {
        let head = s.get(..old.len())?;
        let rest = &s[old.len()..];
        (head.eq_ignore_ascii_case(old) && (rest.is_empty() || rest.starts_with('/'))).then(|| format!("{new}{rest}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OLD: &str = "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet";

    #[test]
    fn ids_move_to_the_target_group() {
        assert_eq!(
            moved_id(OLD, "s", "rg2").as_deref(),
            Some("/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/vnet")
        );
        assert_eq!(moved_id("/subscriptions/s", "s", "rg2"), None);
    }

    #[test]
    fn references_and_paths_below_are_rewritten_case_insensitively() {
        let new = moved_id(OLD, "s", "rg2").unwrap();
        let moves = vec![(OLD.to_string(), new.clone())];
        let mut v = json!({
            "subnet": {"id": OLD.to_ascii_lowercase() + "/subnets/default"},
            "same": OLD,
            "other": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet2",
            "keys": {OLD: {}},
            "text": "not an id",
        });
        assert!(rewrite_references(&mut v, &moves));
        assert_eq!(v["subnet"]["id"], json!(format!("{new}/subnets/default")));
        assert_eq!(v["same"], json!(new));
        assert!(
            v["other"].as_str().unwrap().ends_with("/vnet2") && v["other"].as_str().unwrap().contains("rg1"),
            "a longer name is another resource"
        );
        assert!(v["keys"].get(&new).is_some());
        assert!(!rewrite_references(&mut json!({"a": "b"}), &moves));
    }
}
