//! Microsoft.Network: virtual networks and their subnets, NICs and public IPs are stored by the
//! generic store with [`rules`] (addresses, MACs, cross references); subnets are served as the
//! child collection of their VNet ([`subnets`]). Everything else in the namespace is stored as is.

mod rules;
mod subnets;

use mimic_domain::resource::Resource;
use mimic_store::Tx;

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
}
