//! The resource providers Mimic registers, their resource types, locations and api-versions
//! (newest first, as ARM lists them). Types not listed here are stored generically and accept
//! any well-formed api-version.

use super::api_versions;
use super::ctx::Ctx;
use super::error::{ArmError, ArmResult};

pub struct ResourceType {
    pub name: &'static str,
    pub api_versions: &'static [&'static str],
}

pub struct ProviderInfo {
    pub namespace: &'static str,
    pub types: &'static [ResourceType],
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

const COMPUTE: &[&str] = &[
    "2026-04-01",
    "2026-03-01",
    "2025-11-01",
    "2025-04-01",
    "2025-02-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-09-01",
    "2023-07-01",
    "2023-03-01",
    "2022-11-01",
    "2022-08-01",
    "2022-03-01",
    "2021-11-01",
    "2021-07-01",
    "2021-04-01",
    "2021-03-01",
    "2020-12-01",
    "2020-06-01",
    "2019-12-01",
    "2019-07-01",
    "2019-03-01",
    "2018-10-01",
    "2018-06-01",
    "2018-04-01",
    "2017-12-01",
    "2017-03-30",
    "2016-08-30",
    "2016-04-30-preview",
    "2016-03-30",
    "2015-06-15",
];

/// Managed disks have their own line (az 2.91's profile reads them with 2023-04-02).
const DISKS: &[&str] = &[
    "2025-01-02",
    "2024-03-02",
    "2023-10-02",
    "2023-04-02",
    "2023-01-02",
    "2022-07-02",
    "2022-03-02",
    "2021-12-01",
    "2021-08-01",
    "2021-04-01",
    "2020-12-01",
    "2020-09-30",
    "2020-06-30",
    "2020-05-01",
    "2019-11-01",
    "2019-07-01",
    "2019-03-01",
    "2018-09-30",
    "2018-06-01",
    "2018-04-01",
    "2017-03-30",
    "2016-04-30-preview",
];

const MSI: &[&str] = &[
    "2025-05-31-preview",
    "2025-01-31-preview",
    "2024-11-30",
    "2023-07-31-preview",
    "2023-01-31",
    "2022-01-31-preview",
    "2021-09-30-preview",
    "2018-11-30",
    "2015-08-31-preview",
];

/// Up to the versions today's az (2.91) sends: `az network vnet create` 2025-07-01, `public-ip
/// create` 2025-09-01, `private-endpoint` 2026-01-01 (its aaz command modules).
const NETWORK: &[&str] = &[
    "2026-01-01",
    "2025-09-01",
    "2025-07-01",
    "2025-05-01",
    "2025-03-01",
    "2025-01-01",
    "2024-10-01",
    "2024-07-01",
    "2024-05-01",
    "2024-03-01",
    "2024-01-01",
    "2023-11-01",
    "2023-09-01",
    "2023-06-01",
    "2023-05-01",
    "2023-04-01",
    "2023-02-01",
    "2022-11-01",
    "2022-09-01",
    "2022-07-01",
    "2022-05-01",
    "2022-01-01",
    "2021-08-01",
    "2021-05-01",
    "2021-03-01",
    "2021-02-01",
    "2020-11-01",
    "2020-08-01",
    "2020-07-01",
    "2020-06-01",
    "2020-05-01",
    "2020-04-01",
    "2020-03-01",
    "2019-12-01",
    "2019-11-01",
    "2019-09-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-04-01",
    "2019-02-01",
    "2018-12-01",
    "2018-11-01",
    "2018-10-01",
    "2018-08-01",
    "2018-07-01",
    "2018-06-01",
    "2018-04-01",
    "2018-02-01",
    "2018-01-01",
    "2017-11-01",
    "2017-10-01",
    "2017-09-01",
    "2017-08-01",
    "2017-06-01",
    "2017-04-01",
    "2017-03-01",
    "2016-12-01",
    "2016-11-01",
    "2016-10-01",
    "2016-09-01",
    "2016-08-01",
    "2016-07-01",
    "2016-06-01",
    "2016-03-30",
    "2015-06-15",
    "2015-05-01-preview",
];

pub const PROVIDERS: &[ProviderInfo] = &[
    ProviderInfo {
        namespace: "Microsoft.Compute",
        types: &[
            ResourceType { name: "virtualMachines", api_versions: COMPUTE },
            ResourceType { name: "virtualMachines/extensions", api_versions: COMPUTE },
            ResourceType { name: "disks", api_versions: DISKS },
            ResourceType { name: "locations", api_versions: COMPUTE },
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.ManagedIdentity",
        types: &[
            ResourceType { name: "userAssignedIdentities", api_versions: MSI },
            ResourceType { name: "Identities", api_versions: MSI },
            ResourceType { name: "operations", api_versions: MSI },
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Network",
        types: &[
            ResourceType { name: "virtualNetworks", api_versions: NETWORK },
            ResourceType { name: "networkInterfaces", api_versions: NETWORK },
            ResourceType { name: "publicIPAddresses", api_versions: NETWORK },
            ResourceType { name: "networkSecurityGroups", api_versions: NETWORK },
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Authorization",
        types: &[
            ResourceType { name: "roleAssignments", api_versions: super::api_versions::ROLE_ASSIGNMENTS },
            ResourceType { name: "roleDefinitions", api_versions: super::api_versions::ROLE_DEFINITIONS },
            ResourceType { name: "permissions", api_versions: super::api_versions::PERMISSIONS },
        ],
    },
    ProviderInfo {
        namespace: "Microsoft.Resources",
        types: &[
            ResourceType { name: "deployments", api_versions: super::api_versions::RESOURCES },
            ResourceType { name: "resourceGroups", api_versions: super::api_versions::RESOURCES },
            ResourceType { name: "subscriptions", api_versions: super::api_versions::RESOURCES },
            ResourceType { name: "tenants", api_versions: super::api_versions::RESOURCES },
        ],
    },
];

pub fn provider(namespace: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.namespace.eq_ignore_ascii_case(namespace))
}

/// The registered type `namespace/type` (children as `type/child`), if Mimic knows it.
pub fn resource_type(namespace: &str, type_path: &str) -> Option<&'static ResourceType> {
    provider(namespace)?.types.iter().find(|t| t.name.eq_ignore_ascii_case(type_path))
}

pub fn normalize_location(l: &str) -> ArmResult<String> {
    let n: String = l.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    if LOCATIONS.iter().any(|(name, _)| *name == n) || n == "global" {
        Ok(n)
    } else {
        Err(ArmError::location_not_available_for_resource_group(l, &LOCATIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>()))
    }
}

/// Checks the api-version against the provider's registered list, or its shape for types
/// Mimic stores generically.
pub fn check_version(ctx: &Ctx, namespace: &str, type_path: &str, location: Option<&str>) -> ArmResult<()> {
    match resource_type(namespace, type_path) {
        Some(t) if !t.api_versions.iter().any(|v| v.eq_ignore_ascii_case(&ctx.api_version)) => Err(ArmError::no_registered_provider(
            location.unwrap_or("westus"),
            &ctx.api_version,
            &format!("{namespace}/{type_path}"),
            t.api_versions,
            &LOCATIONS.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
        )),
        Some(_) => Ok(()),
        None => api_versions::check_generic(&ctx.api_version, &format!("{namespace}/{type_path}")),
    }
}
