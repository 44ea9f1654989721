//! What ARM's provider registrations say: each provider's registered resource types with their
//! api-versions (newest first, as ARM lists them; each provider declares its own in
//! [`Provider::registered_types`](super::registry::Provider::registered_types) and the registry
//! gathers them), and the locations. Types no provider registers are stored generically and
//! accept any well-formed api-version.

use super::error::{ArmError, ArmResult};

#[derive(Debug, Clone, Copy)]
pub struct ResourceType {
    pub name: &'static str,
    pub api_versions: &'static [&'static str],
}

/// A namespace as `GET /providers/{namespace}` shows it: the types its providers register; and
/// the operations `GET /providers/{namespace}/operations` lists.
#[derive(Debug, Clone)]
pub struct ProviderInfo {
    pub namespace: &'static str,
    pub types: Vec<ResourceType>,
    pub operations: Vec<Operation>,
}

/// A provider's published operations: its display name (`display.provider`), whether its
/// entries carry `origin`, and the entries.
#[derive(Debug, Clone, Copy)]
pub struct Operations {
    pub provider: &'static str,
    pub origin: Option<&'static str>,
    pub entries: &'static [Operation],
}

/// One operation: an RBAC action (or data action) with Azure's display texts.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub name: &'static str,
    pub resource: &'static str,
    pub operation: &'static str,
    pub description: &'static str,
    /// `Some` where the provider's list says `isDataAction`.
    pub data_action: Option<bool>,
    pub provider: &'static str,
    pub origin: Option<&'static str>,
}

/// An entry of an [`Operations`] table (its provider and origin filled in by the registry).
pub const fn op(name: &'static str, resource: &'static str, operation: &'static str, description: &'static str) -> Operation {
    Operation { name, resource, operation, description, data_action: None, provider: "", origin: None }
}

/// The same, for a list whose entries say `isDataAction`.
pub const fn op_data(
    name: &'static str,
    resource: &'static str,
    operation: &'static str,
    description: &'static str,
    data: bool,
) -> Operation {
    Operation { name, resource, operation, description, data_action: Some(data), provider: "", origin: None }
}

pub const LOCATIONS: &[(&str, &str)] = &[
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
    ("westus3", "West US 3"),
    ("centralus", "Central US"),
    ("northcentralus", "North Central US"),
    ("southcentralus", "South Central US"),
    ("westcentralus", "West Central US"),
    ("canadacentral", "Canada Central"),
    ("brazilsouth", "Brazil South"),
    ("northeurope", "North Europe"),
    ("westeurope", "West Europe"),
    ("uksouth", "UK South"),
    ("francecentral", "France Central"),
    ("germanywestcentral", "Germany West Central"),
    ("swedencentral", "Sweden Central"),
    ("switzerlandnorth", "Switzerland North"),
    ("norwayeast", "Norway East"),
    ("eastasia", "East Asia"),
    ("southeastasia", "Southeast Asia"),
    ("japaneast", "Japan East"),
    ("koreacentral", "Korea Central"),
    ("australiaeast", "Australia East"),
    ("centralindia", "Central India"),
    ("uaenorth", "UAE North"),
    ("southafricanorth", "South Africa North"),
];

pub fn normalize_location(l: &str) -> ArmResult<String> {
    let n: String = l.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    if LOCATIONS.iter().any(|(name, _)| *name == n) || n == "global" {
        Ok(n)
    } else {
        Err(ArmError::location_not_available_for_resource_group(l, &LOCATIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>()))
    }
}
