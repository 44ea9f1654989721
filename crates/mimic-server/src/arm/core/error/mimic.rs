//! Mimic's own provider (`Microsoft.Mimic`): Mimic's wording, in ARM's shape.

use super::ArmError;

impl ArmError {
    pub fn invalid_resource_id(id: &str) -> Self {
        Self::bad_request("InvalidResourceId", format!("The resource id '{id}' is invalid."))
    }

    pub fn not_a_virtual_machine(id: &str) -> Self {
        Self::bad_request("InvalidResourceType", format!("'{id}' is not a virtual machine id."))
    }
}
