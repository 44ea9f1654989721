//! Microsoft.Network: NICs, public IPs, virtual networks and subnets (texts as the Network RP
//! words them). The address errors' texts are mimic-domain's ([`AddressError`]).

use axum::http::StatusCode;
use mimic_domain::network::AddressError;

use super::ArmError;

impl ArmError {
    /// A private address the subnet cannot give.
    pub fn from_address(e: AddressError) -> Self {
        Self::bad_request(e.code(), e.to_string())
    }

    /// A reference to something that does not exist (the same text Compute gives for a VM's
    /// missing NIC).
    pub fn invalid_resource_reference(reference: &str, by: &str) -> Self {
        Self::bad_request(
            "InvalidResourceReference",
            format!("Resource {reference} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."),
        )
    }

    pub fn nic_in_use(nic: &str, vm: &str) -> Self {
        Self::bad_request(
            "NicInUse",
            format!(
                "Network Interface {nic} is used by existing resource {vm}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic."
            ),
        )
    }

    pub fn public_ip_cannot_be_deleted(pip: &str, config: &str) -> Self {
        Self::bad_request(
            "PublicIPAddressCannotBeDeleted",
            format!(
                "Public IP address {pip} can not be deleted since it is still allocated to resource {config}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip."
            ),
        )
    }

    /// (e.g. microsoft/azure-tools-for-java#91.)
    pub fn public_ip_in_use(config: &str, pip: &str, holder: &str) -> Self {
        Self::bad_request(
            "PublicIPAddressInUse",
            format!("IP configuration {config} is referencing public IP address {pip} that is already allocated to resource {holder}."),
        )
    }

    /// Mimic's public address pool is exhausted (Mimic's wording).
    pub fn public_ip_count_limit_reached() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "PublicIPCountLimitReached",
            "Cannot create more than 131072 public IP addresses in Mimic's address pool.",
        )
    }

    pub fn subnet_in_use(subnet: &str, user: &str) -> Self {
        Self::bad_request(
            "InUseSubnetCannotBeDeleted",
            format!(
                "Subnet {subnet} is in use by {user} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet."
            ),
        )
    }

    /// learn.microsoft.com, AKS troubleshooting "InUseNetworkSecurityGroupCannotBeDeleted"
    /// (the resources joined by ", " [INFERRED]).
    pub fn nsg_in_use(nsg: &str, users: &[String]) -> Self {
        Self::bad_request(
            "InUseNetworkSecurityGroupCannotBeDeleted",
            format!(
                "Network security group {nsg} cannot be deleted because it is in use by the following resources: {}. In order to delete the Network security group, remove the association with the resource(s).",
                users.join(", ")
            ),
        )
    }
}
