//! Microsoft.Network: virtual networks and their subnets, NICs and public IPs are stored by the
//! generic store with [`rules`] (addresses, MACs, cross references); subnets are served as the
//! child collection of their VNet ([`subnets`]). Everything else in the namespace is stored as is.

mod rules;
mod shapes;
mod subnets;

use mimic_domain::resource::Resource;
use mimic_store::Tx;

use crate::arm::core::catalog::ResourceType;
use crate::arm::core::registry::Moving;
use crate::arm::core::{generic, ArmResult, Ctx, Endpoint, Provider, Registry, Reply, VmEvent};

pub struct Network;

/// The generic store's hooks for Microsoft.Network types.
struct NetworkRules;

impl generic::Rules for NetworkRules {
    fn before_write(&self, reg: &Registry, tx: &mut dyn Tx, r: &mut Resource, existing: Option<&Resource>) -> ArmResult<()> {
        rules::before_write(reg, tx, r, existing)
    }
    fn before_delete(&self, _reg: &Registry, tx: &mut dyn Tx, r: &Resource) -> ArmResult<()> {
        rules::before_delete(tx, r)
    }
}

impl Provider for Network {
    fn namespace(&self) -> &'static str {
        "Microsoft.Network"
    }

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(OPERATIONS)
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "virtualNetworks", api_versions: API_VERSIONS },
            ResourceType { name: "networkInterfaces", api_versions: API_VERSIONS },
            ResourceType { name: "publicIPAddresses", api_versions: API_VERSIONS },
            ResourceType { name: "networkSecurityGroups", api_versions: API_VERSIONS },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::Resource { id } if subnets::is_subnet(id) => subnets::handle(ctx, id),
            Endpoint::ResourceAction { id, action } if subnets::is_collection(id, action) => subnets::list(ctx, id),
            _ => generic::serve(ctx, endpoint, &NetworkRules),
        }
    }

    /// The group's public addresses go back to the pool (private ones live in the NICs).
    fn before_group_delete(&self, _reg: &Registry, tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
        rules::release_in_group(tx, sub, rg)
    }

    fn on_vm(&self, _reg: &Registry, tx: &mut dyn Tx, event: &VmEvent<'_>) -> ArmResult<()> {
        rules::on_vm(tx, event)
    }

    fn check_move(&self, _reg: &Registry, _tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        rules::check_move(moving)
    }

    fn on_move(&self, _reg: &Registry, tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        rules::on_move(tx, moving)
    }
}

/// Up to the versions today's az (2.91) sends: `az network vnet create` 2025-07-01, `public-ip
/// create` 2025-09-01, `private-endpoint` 2026-01-01 (its aaz command modules).
const API_VERSIONS: &[&str] = &[
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

/// `GET /providers/Microsoft.Network/operations`: the actions this provider checks, with the display texts of
/// Azure's list (learn.microsoft.com "Azure resource provider operations", Microsoft.Network).
const OPERATIONS: crate::arm::core::catalog::Operations =
    crate::arm::core::catalog::Operations { provider: "Microsoft Network", origin: Some("user,system"), entries: NETWORK_OPERATIONS };

#[rustfmt::skip]
static NETWORK_OPERATIONS: &[crate::arm::core::catalog::Operation] = {
    use crate::arm::core::catalog::{op};
    &[
        op("Microsoft.Network/register/action", "Network", "Register Subscription", "Registers the subscription"),
        op("Microsoft.Network/operations/read", "Operation", "Get Available Operations", "Get Available Operations"),
        op("Microsoft.Network/virtualNetworks/read", "Virtual Network", "Get Virtual Network", "Get the virtual network definition"),
        op("Microsoft.Network/virtualNetworks/write", "Virtual Network", "Create or Update Virtual Network", "Creates a virtual network or updates an existing virtual network"),
        op("Microsoft.Network/virtualNetworks/delete", "Virtual Network", "Delete Virtual Network", "Deletes a virtual network"),
        op("Microsoft.Network/virtualNetworks/subnets/read", "Virtual Network Subnet", "Get Virtual Network Subnet", "Gets a virtual network subnet definition"),
        op("Microsoft.Network/virtualNetworks/subnets/write", "Virtual Network Subnet", "Create or Update Virtual Network Subnet", "Creates a virtual network subnet or updates an existing virtual network subnet"),
        op("Microsoft.Network/virtualNetworks/subnets/delete", "Virtual Network Subnet", "Delete Virtual Network Subnet", "Deletes a virtual network subnet"),
        op("Microsoft.Network/virtualNetworks/subnets/join/action", "Virtual Network Subnet", "Join Virtual Network Subnet", "Joins a virtual network. Not Alertable."),
        op("Microsoft.Network/networkInterfaces/read", "Network Interface", "Get Network Interface", "Gets a network interface definition. "),
        op("Microsoft.Network/networkInterfaces/write", "Network Interface", "Create or Update Network Interface", "Creates a network interface or updates an existing network interface. "),
        op("Microsoft.Network/networkInterfaces/delete", "Network Interface", "Delete Network Interface", "Deletes a network interface"),
        op("Microsoft.Network/networkInterfaces/join/action", "Network Interface", "Join Network Interface", "Joins a Virtual Machine to a network interface. Not Alertable."),
        op("Microsoft.Network/publicIPAddresses/read", "Public IP Address", "Get Public IP Address", "Gets a public ip address definition."),
        op("Microsoft.Network/publicIPAddresses/write", "Public IP Address", "Create or Update Public IP Address", "Creates a public Ip address or updates an existing public Ip address. "),
        op("Microsoft.Network/publicIPAddresses/delete", "Public IP Address", "Delete Public IP Address", "Deletes a public Ip address."),
        op("Microsoft.Network/publicIPAddresses/join/action", "Public IP Address", "Join Public IP Address", "Joins a public ip address. Not Alertable."),
        op("Microsoft.Network/networkSecurityGroups/read", "Network Security Group", "Get Network Security Group", "Gets a network security group definition"),
        op("Microsoft.Network/networkSecurityGroups/write", "Network Security Group", "Create or Update Network Security Group", "Creates a network security group or updates an existing network security group"),
        op("Microsoft.Network/networkSecurityGroups/delete", "Network Security Group", "Delete Network Security Group", "Deletes a network security group"),
        op("Microsoft.Network/networkSecurityGroups/join/action", "Network Security Group", "Join Network Security Group", "Joins a network security group. Not Alertable."),
    ]
};
