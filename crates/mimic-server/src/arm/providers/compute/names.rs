//! What names a virtual machine: its type and the shape of its id (the VM's module and its
//! extensions' both use them).

use mimic_domain::resource_id::ResourceId;

pub const VM_TYPE: &str = "Microsoft.Compute/virtualMachines";

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}`
pub fn is_vm(id: &ResourceId) -> bool {
    id.resource_group.is_some()
        && id.namespace.as_deref().is_some_and(|n| eq(n, "Microsoft.Compute"))
        && id.types.len() == 1
        && eq(&id.types[0].0, "virtualMachines")
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}
