//! ARM resource ids: parsing, and the case-insensitive key under which ARM matches them.
//!
//! ARM treats ids, resource-group names, namespaces and names case-insensitively but returns
//! the casing given at creation (docs/azure-behaviour.md §3), so every id has a display form and a `key`.

/// A parsed ARM scope or resource id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// Provider namespace, e.g. `Microsoft.Compute`.
    pub namespace: Option<String>,
    /// `(type, name)` pairs below the namespace: `[("virtualMachines","vm1")]`, children after.
    pub types: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid resource id")]
pub struct InvalidResourceId(pub String);

impl ResourceId {
    /// Parses `/subscriptions/{s}[/resourceGroups/{rg}[/providers/{ns}/{type}/{name}[/{t}/{n}]*]]`
    /// and `/`. Keyword segments match case-insensitively.
    pub fn parse(id: &str) -> Result<Self, InvalidResourceId> {
        let bad = || InvalidResourceId(id.to_string());
        let trimmed = id.trim_end_matches('/');
        let mut out = ResourceId { subscription: None, resource_group: None, namespace: None, types: vec![] };
        if trimmed.is_empty() {
            return if id.starts_with('/') { Ok(out) } else { Err(bad()) };
        }
        if !trimmed.starts_with('/') {
            return Err(bad());
        }
        let segs: Vec<&str> = trimmed[1..].split('/').collect();
        // `.`/`..` would make the id name another place than it spells (a role assignment
        // "under" `rg/..` is one at the subscription): never an id.
        if segs.iter().any(|s| s.is_empty() || crate::limits::is_dot_segment(s)) {
            return Err(bad());
        }
        let mut i = 0;
        if segs.len() >= 2 && segs[0].eq_ignore_ascii_case("subscriptions") {
            out.subscription = Some(segs[1].to_string());
            i = 2;
            if segs.len() >= i + 2 && segs[i].eq_ignore_ascii_case("resourceGroups") {
                out.resource_group = Some(segs[i + 1].to_string());
                i += 2;
            }
        }
        if i < segs.len() {
            if !segs[i].eq_ignore_ascii_case("providers") || segs.len() < i + 2 {
                return Err(bad());
            }
            out.namespace = Some(segs[i + 1].to_string());
            let rest = &segs[i + 2..];
            if !rest.len().is_multiple_of(2) {
                return Err(bad());
            }
            for pair in rest.chunks(2) {
                out.types.push((pair[0].to_string(), pair[1].to_string()));
            }
        } else if segs.len() != i {
            return Err(bad());
        }
        Ok(out)
    }

    /// `Microsoft.Compute/virtualMachines` (children appended: `.../extensions`).
    pub fn full_type(&self) -> Option<String> {
        let ns = self.namespace.as_ref()?;
        if self.types.is_empty() {
            return None;
        }
        let mut t = ns.clone();
        for (ty, _) in &self.types {
            t.push('/');
            t.push_str(ty);
        }
        Some(t)
    }

    pub fn name(&self) -> Option<&str> {
        self.types.last().map(|(_, n)| n.as_str())
    }

    /// Renders the id in ARM's canonical casing for the keyword segments.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(sub) = &self.subscription {
            s.push_str("/subscriptions/");
            s.push_str(sub);
            if let Some(rg) = &self.resource_group {
                s.push_str("/resourceGroups/");
                s.push_str(rg);
            }
        }
        if let Some(ns) = &self.namespace {
            s.push_str("/providers/");
            s.push_str(ns);
            for (t, n) in &self.types {
                s.push('/');
                s.push_str(t);
                s.push('/');
                s.push_str(n);
            }
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }
}

/// The case-insensitive key of an id or scope: lower-cased, no trailing slash.
pub fn key(id: &str) -> String {
    let t = id.trim_end_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_ascii_lowercase()
    }
}

/// The id with its resource-group keyword spelled `resourcegroups`, as Azure writes resource
/// ids into managed identities' alternative names and `xms_mirid`.
pub fn lowercase_resource_groups(id: &str) -> String {
    match id.to_ascii_lowercase().find("/resourcegroups/") {
        Some(i) => format!("{}/resourcegroups/{}", &id[..i], &id[i + "/resourcegroups/".len()..]),
        None => id.to_string(),
    }
}

pub fn subscription_scope(sub: &str) -> String {
    format!("/subscriptions/{sub}")
}

pub fn resource_group_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scope_level() {
        // (id, subscription, resource group, namespace, number of type/name pairs)
        type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>, usize);
        let cases: &[Case] = &[
            ("/", None, None, None, 0),
            ("/subscriptions/s1", Some("s1"), None, None, 0),
            ("/subscriptions/s1/resourcegroups/RG", Some("s1"), Some("RG"), None, 0),
            (
                "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
                Some("s1"),
                Some("rg"),
                Some("Microsoft.Compute"),
                1,
            ),
            (
                "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extensions/e",
                Some("s1"),
                Some("rg"),
                Some("Microsoft.Compute"),
                2,
            ),
            ("/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/x", Some("s1"), None, Some("Microsoft.Authorization"), 1),
        ];
        for (id, s, rg, ns, n) in cases {
            let p = ResourceId::parse(id).unwrap();
            assert_eq!(p.subscription.as_deref(), *s, "{id}");
            assert_eq!(p.resource_group.as_deref(), *rg, "{id}");
            assert_eq!(p.namespace.as_deref(), *ns, "{id}");
            assert_eq!(p.types.len(), *n, "{id}");
        }
    }

    #[test]
    fn rejects_malformed_ids() {
        for id in [
            "",
            "subscriptions/s",
            "/subscriptions",
            "/subscriptions/s/resourceGroups",
            "/subscriptions/s//x",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines",
            "/foo/bar",
            "/subscriptions/s/resourceGroups/..",
            "/subscriptions/s/resourceGroups/%2e%2E/providers/Microsoft.Compute/virtualMachines/vm",
            "/subscriptions/./resourceGroups/rg",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/.",
        ] {
            assert!(ResourceId::parse(id).is_err(), "{id}");
        }
    }

    #[test]
    fn key_ignores_case_and_trailing_slash() {
        assert_eq!(key("/subscriptions/A/resourceGroups/RG/"), key("/subscriptions/a/resourcegroups/rg"));
        assert_eq!(key("/"), "/");
    }
}
