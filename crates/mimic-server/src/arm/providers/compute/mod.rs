//! Microsoft.Compute: virtual machines with their identities, power actions and async
//! operations ([`vm`]), and the marketplace image lookups ([`images`]). Other Compute types
//! (disks, availability sets, ...) are stored generically.

pub mod images;
mod vm;

use mimic_domain::resource_id::ResourceId;
use mimic_store::Tx;

use crate::arm::core::{generic, ArmResult, Ctx, Endpoint, Provider, Registry, Reply};

pub struct Compute;

impl Provider for Compute {
    fn namespace(&self) -> &'static str {
        "Microsoft.Compute"
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::ResourceCollection { parent, resource_type, .. } if vm::is_vm_type(resource_type) => vm::list(ctx, parent),
            Endpoint::Resource { id } if vm::is_vm(id) => vm::handle(ctx, id),
            Endpoint::Resource { id } if vm::is_operation(id) => vm::operation(ctx, id),
            Endpoint::Resource { id } if images::is_image_path(id) => images::get(ctx, id),
            Endpoint::ResourceAction { id, action } if vm::is_vm_action(id, action) => vm::action(ctx, id, action),
            Endpoint::ResourceAction { id, action } if images::is_image_listing(id, action) => images::list(ctx, id, action),
            _ => generic::serve(ctx, endpoint, &generic::Plain),
        }
    }

    /// The group's VMs go first, with what only they own (their system-assigned principals,
    /// power state) and what they hold elsewhere (their NICs, through the `on_vm` hooks).
    fn before_group_delete(&self, reg: &Registry, tx: &mut dyn Tx, sub: &str, rg: &str) -> ArmResult<()> {
        for r in generic::of_type_in_group(tx, sub, rg, vm::VM_TYPE)? {
            vm::delete_in_tx(reg, tx, &r)?;
        }
        Ok(())
    }

    fn vm_running(&self, tx: &mut dyn Tx, vm_key: &str) -> ArmResult<Option<bool>> {
        if !ResourceId::parse(vm_key).is_ok_and(|id| vm::is_vm(&id)) {
            return Ok(None);
        }
        Ok(Some(tx.resource(vm_key)?.is_some() && vm::power_state(tx, vm_key)? == mimic_domain::compute::PowerState::Running))
    }
}
