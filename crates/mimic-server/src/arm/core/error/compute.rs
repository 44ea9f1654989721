//! Microsoft.Compute: virtual machines and images (texts as the Compute RP returns them; its
//! `target` follows the message). The identity errors' texts are mimic-domain's
//! ([`IdentityError`]), shared with every identity-bearing resource.

use axum::http::StatusCode;
use mimic_domain::identity::IdentityError;

use super::ArmError;

impl ArmError {
    /// A request's `identity` the identity rules refuse.
    pub fn from_identity(e: IdentityError) -> Self {
        match &e {
            IdentityError::InvalidParameter { message, target } => {
                Self::bad_request("InvalidParameter", message.clone()).with_target(target)
            }
            IdentityError::MissingIdentityIds(_) => Self::bad_request(e.code(), e.to_string()),
        }
    }

    /// A user-assigned identity the VM names that does not exist, as Compute relays the
    /// identity service's answer.
    pub fn failed_identity_operation(vm_id: &str, uai: &str) -> Self {
        Self::bad_request(
            "FailedIdentityOperation",
            format!(
                "Identity operation for resource '{vm_id}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. \
                 Response: '{{\"error\":{{\"code\":\"BadRequest\",\"message\":\"Resource '{uai}' was not found.\"}}}}'.'."
            ),
        )
    }

    /// `osProfile.computerName` and `osProfile.adminUsername` cannot change after creation.
    pub fn property_change_not_allowed(field: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "PropertyChangeNotAllowed", format!("Changing property 'osProfile.{field}' is not allowed."))
            .with_target(format!("osProfile.{field}"))
    }

    pub fn missing_network_profile() -> Self {
        Self::bad_request("InvalidParameter", "Required parameter 'networkProfile' is missing (null).").with_target("networkProfile")
    }

    pub fn missing_network_interfaces() -> Self {
        Self::bad_request("InvalidParameter", "Required parameter 'networkProfile.networkInterfaces' is missing (null).")
            .with_target("networkProfile.networkInterfaces")
    }

    /// A NIC reference that is not a fully qualified resource id; `path` is where in the body.
    pub fn linked_invalid_property_id(id: &str, path: &str) -> Self {
        Self::bad_request(
            "LinkedInvalidPropertyId",
            format!(
                "Property id '{id}' at path '{path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'."
            ),
        )
    }

    pub fn restart_deallocated_vm(vm: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!("Operation 'restart' is not allowed on VM '{vm}' since the VM is deallocated or marked to be deallocated."),
        )
    }

    /// A poll of a Compute operation (`.../locations/{l}/operations/{id}`) that is unknown.
    pub fn compute_operation_not_found(op: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("The entity was not found in this Azure location. Operation '{op}'."))
    }

    /// A VM size its location does not offer, with the sizes it does (Compute's text; target `vmSize`).
    pub fn vm_size_not_available(size: &str, available: &[&str]) -> Self {
        Self::bad_request(
            "InvalidParameter",
            format!(
                "The requested VM size {size} is not available in the current region. The sizes available in the current region are: {}.\r\n\
                 Find out more on the available VM sizes in each region at https://aka.ms/azure-regions.",
                available.join(",")
            ),
        )
        .with_target("vmSize")
    }

    /// An image version (or publisher, offer, SKU) the catalogue does not have.
    pub fn vm_image_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "Artifact: VMImage was not found.")
    }
    /// A VM extension naming a publisher and type the extension repository does not have
    /// (Azure/azure-powershell#20094: 404 `ArtifactNotFound`).
    pub fn vm_extension_not_found(publisher: &str, kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ArtifactNotFound",
            format!("The VM extension with publisher '{publisher}' and type '{kind}' could not be found."),
        )
    }

    /// A well-formed `typeHandlerVersion` no published version matches
    /// (chef-partners/azure-chef-extension#70, MicrosoftDocs/azure-docs#10862).
    pub fn vm_extension_version_not_found(publisher: &str, kind: &str, version: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ArtifactNotFound",
            format!(
                "Extension with publisher '{publisher}', type '{kind}', and type handler version '{version}' could not be found in the extension repository."
            ),
        )
    }

    /// A `typeHandlerVersion` that is not a version (chef-partners/azure-chef-extension#70).
    pub fn invalid_type_handler_version() -> Self {
        Self::bad_request("InvalidParameter", "The value of parameter typeHandlerVersion is invalid.").with_target("typeHandlerVersion")
    }

    /// A required member of a Compute body that is absent.
    pub fn compute_required_parameter(name: &str) -> Self {
        Self::bad_request("InvalidParameter", format!("Required parameter '{name}' is missing (null).")).with_target(name)
    }

    /// An extension image (publisher, type or version) the repository does not have
    /// (Azure/azure-powershell#2972: 404 `NotFound` "The entity was not found.").
    pub fn vm_extension_image_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "The entity was not found.")
    }
}
