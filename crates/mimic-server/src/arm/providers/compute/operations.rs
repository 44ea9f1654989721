//! Microsoft.Compute's operations (`GET /providers/Microsoft.Compute/operations`): every action
//! the compute handlers check, with the display texts of Azure's list (learn.microsoft.com
//! "Azure resource provider operations", Microsoft.Compute; compute.json `Operations_List`).

use crate::arm::core::catalog::{op, Operation, Operations};

pub const OPERATIONS: Operations = Operations { provider: "Microsoft Compute", origin: Some("user,system"), entries: ENTRIES };

const VM: &str = "Virtual Machines";
const EXT: &str = "Virtual Machine Extensions";

static ENTRIES: &[Operation] = &[
    op(
        "Microsoft.Compute/register/action",
        "Microsoft Compute",
        "Register Subscription for Compute",
        "Registers Subscription with Microsoft.Compute resource provider",
    ),
    op(
        "Microsoft.Compute/operations/read",
        "Operations",
        "List Operations",
        "Lists operations available on Microsoft.Compute resource provider",
    ),
    op("Microsoft.Compute/virtualMachines/read", VM, "Get Virtual Machine", "Get the properties of a virtual machine"),
    op(
        "Microsoft.Compute/virtualMachines/write",
        VM,
        "Create or Update Virtual Machine",
        "Creates a new virtual machine or updates an existing virtual machine",
    ),
    op("Microsoft.Compute/virtualMachines/delete", VM, "Delete Virtual Machine", "Deletes the virtual machine"),
    op("Microsoft.Compute/virtualMachines/start/action", VM, "Start Virtual Machine", "Starts the virtual machine"),
    op(
        "Microsoft.Compute/virtualMachines/powerOff/action",
        VM,
        "Power Off Virtual Machine",
        "Powers off the virtual machine. Note that the virtual machine will continue to be billed.",
    ),
    op(
        "Microsoft.Compute/virtualMachines/deallocate/action",
        VM,
        "Deallocate Virtual Machine",
        "Powers off the virtual machine and releases the compute resources",
    ),
    op("Microsoft.Compute/virtualMachines/restart/action", VM, "Restart Virtual Machine", "Restarts the virtual machine"),
    op(
        "Microsoft.Compute/virtualMachines/runCommand/action",
        VM,
        "Run Command on Virtual Machine",
        "Executes a predefined script on the virtual machine",
    ),
    op(
        "Microsoft.Compute/virtualMachines/instanceView/read",
        "Virtual Machine Instance View",
        "Get Virtual Machine Instance View",
        "Gets the detailed runtime status of the virtual machine and its resources",
    ),
    op(
        "Microsoft.Compute/virtualMachines/extensions/read",
        EXT,
        "Get Virtual Machine Extension",
        "Get the properties of a virtual machine extension",
    ),
    op(
        "Microsoft.Compute/virtualMachines/extensions/write",
        EXT,
        "Create or Update Virtual Machine Extension",
        "Creates a new virtual machine extension or updates an existing one",
    ),
    op(
        "Microsoft.Compute/virtualMachines/extensions/delete",
        EXT,
        "Delete Virtual Machine Extension",
        "Deletes the virtual machine extension",
    ),
    op("Microsoft.Compute/disks/read", "Disks", "Get Disk", "Get the properties of a Disk"),
    op("Microsoft.Compute/disks/write", "Disks", "Create or Update Disk", "Creates a new Disk or updates an existing one"),
    op("Microsoft.Compute/disks/delete", "Disks", "Delete Disk", "Deletes the Disk"),
    op("Microsoft.Compute/locations/operations/read", "Operation", "Get Operation", "Gets the status of an asynchronous operation"),
    op(
        "Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read",
        "Virtual Machine Image Versions",
        "Get Virtual Machine Image",
        "Gets the properties of a VirtualMachine Image",
    ),
    op(
        "Microsoft.Compute/locations/vmSizes/read",
        "Virtual Machine Size",
        "List Available Virtual Machine Sizes in Location",
        "Lists available virtual machine sizes in a location",
    ),
    op("Microsoft.Compute/skus/read", "SKU", "Get SKU", "Gets the list of Microsoft.Compute SKUs available for your Subscription"),
    op(
        "Microsoft.Compute/locations/publishers/artifacttypes/types/versions/read",
        "Virtual Machine Extension Image Versions",
        "Get Virtual Machine Extension Image",
        "Gets the properties of a VirtualMachine Extension Image",
    ),
];
