//! Microsoft.Compute: virtual machines with their identities, power actions and async
//! operations ([`vm`]), their extensions and the extension images ([`extensions`]), and the
//! marketplace image lookups ([`images`]) and VM sizes and resource SKUs ([`sizes`]), both from
//! `mimic_domain::catalog`. Other Compute types
//! (disks, availability sets, ...) are stored generically.

mod extensions;
pub mod images;
mod lro;
mod names;
mod operations;
mod sizes;
mod vm;

use mimic_domain::resource_id::ResourceId;
use mimic_store::Tx;

use crate::arm::core::catalog::ResourceType;
use crate::arm::core::registry::Moving;
use crate::arm::core::{generic, ArmResult, Ctx, Endpoint, Provider, Registry, Reply};

pub struct Compute;

impl Provider for Compute {
    fn namespace(&self) -> &'static str {
        "Microsoft.Compute"
    }

    fn operations(&self) -> Option<crate::arm::core::catalog::Operations> {
        Some(operations::OPERATIONS)
    }

    fn registered_types(&self) -> &'static [ResourceType] {
        &[
            ResourceType { name: "virtualMachines", api_versions: API_VERSIONS },
            ResourceType { name: "virtualMachines/extensions", api_versions: API_VERSIONS },
            ResourceType { name: "disks", api_versions: DISK_API_VERSIONS },
            ResourceType { name: "locations", api_versions: API_VERSIONS },
        ]
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::ResourceCollection { parent, resource_type, .. } if vm::is_vm_type(resource_type) => vm::list(ctx, parent),
            Endpoint::Resource { id } if vm::is_vm(id) => vm::handle(ctx, id),
            Endpoint::Resource { id } if vm::is_operation(id) => vm::operation(ctx, id),
            Endpoint::Resource { id } if images::is_image_path(id) => images::get(ctx, id),
            Endpoint::Resource { id } if extensions::is_extension(id) => extensions::handle(ctx, id),
            Endpoint::Resource { id } if extensions::is_image_path(id) => extensions::get_image(ctx, id),
            Endpoint::ResourceAction { id, action } if extensions::is_extension_list(id, action) => extensions::list(ctx, id),
            Endpoint::ResourceAction { id, action } if extensions::is_image_listing(id, action) => extensions::list_images(ctx, id, action),
            Endpoint::ResourceAction { id, action } if vm::is_vm_action(id, action) => vm::action(ctx, id, action),
            Endpoint::ResourceAction { id, action } if images::is_image_listing(id, action) => images::list(ctx, id, action),
            Endpoint::ResourceAction { id, action } if sizes::is_vm_sizes(id, action) => sizes::list_vm_sizes(ctx, id),
            Endpoint::ResourceCollection { parent, resource_type, .. } if sizes::is_skus(parent, resource_type) => {
                sizes::list_skus(ctx, parent)
            }
            _ => generic::serve(ctx, endpoint, &generic::Plain),
        }
    }

    /// The group's VMs go first, with what only they own (their system-assigned principals,
    /// power state) and what they hold elsewhere (their NICs, through the `on_vm` hooks).
    fn check_move(&self, _reg: &Registry, _tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        vm::check_move(moving)
    }

    fn on_move(&self, _reg: &Registry, tx: &mut dyn Tx, moving: &[Moving]) -> ArmResult<()> {
        vm::on_move(tx, moving)
    }

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

const API_VERSIONS: &[&str] = &[
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
const DISK_API_VERSIONS: &[&str] = &[
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
