//! An ARM resource as the store keeps it: the common envelope typed, the provider-specific
//! parts (`properties`, `identity`, `sku`, ...) as the JSON documents ARM treats them as.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::resource_id::ResourceId;

pub const RESOURCE_GROUP_TYPE: &str = "Microsoft.Resources/resourceGroups";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Resource {
    /// The id with the casing given at creation.
    pub id: String,
    pub name: String,
    /// `Namespace/type[/childType]`, canonical casing.
    pub resource_type: String,
    pub location: Option<String>,
    pub tags: Option<Map<String, Value>>,
    pub properties: Value,
    pub identity: Option<Value>,
    /// Other top-level members ARM round-trips: kind, sku, plan, zones, managedBy, extendedLocation.
    pub extra: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub changed: DateTime<Utc>,
}

impl Resource {
    pub fn parsed_id(&self) -> Option<ResourceId> {
        ResourceId::parse(&self.id).ok()
    }
    pub fn key(&self) -> String {
        crate::resource_id::key(&self.id)
    }
}

/// Azure's rule for resource-group names (resources.json `ResourceGroupNameParameter`):
/// 1–90 characters of letters, digits, `-`, `_`, `.`, `(`, `)`, not ending in `.`.
pub fn valid_resource_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 90
        && !name.ends_with('.')
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_group_names() {
        for ok in ["myResourceGroup", "a", "rg-1_(x).y", &"r".repeat(90)] {
            assert!(valid_resource_group_name(ok), "{ok}");
        }
        for bad in ["", "ends.", "has space", "slash/no", &"r".repeat(91), "a#b"] {
            assert!(!valid_resource_group_name(bad), "{bad}");
        }
    }
}
