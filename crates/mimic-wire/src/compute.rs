//! Microsoft.Compute bodies: virtual machines, their identity block per api-version, instance
//! view, and Compute's async-operation status (azure-rest-api-specs specification/compute, docs/azure-behaviour.md §1, §3).

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// `identity` of a VM (`VirtualMachineIdentity`). 2017-12-01 carries `identityIds`; 2018-06-01
/// and later carry `userAssignedIdentities`. `principalId`/`tenantId` only for system-assigned.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineIdentity {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ordered_map")]
    pub user_assigned_identities: Option<Vec<(String, UserAssignedIdentitiesValue)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_ids: Option<Vec<String>>,
}

/// A value of the `userAssignedIdentities` map (`UserAssignedIdentitiesValue`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentitiesValue {
    pub principal_id: String,
    pub client_id: String,
}

/// Serialises `(key, value)` pairs as a JSON object, in order.
fn ordered_map<S: Serializer, V: Serialize>(v: &Option<Vec<(String, V)>>, s: S) -> Result<S::Ok, S::Error> {
    let items = v.as_deref().unwrap_or_default();
    let mut m = s.serialize_map(Some(items.len()))?;
    for (k, val) in items {
        m.serialize_entry(k, val)?;
    }
    m.end()
}

/// A virtual machine as Compute returns it. `properties` is the document the client sent
/// (secrets removed) plus the read-only members (`vmId`, `provisioningState`, `timeCreated`,
/// `instanceView` when expanded).
#[derive(Debug, Serialize)]
pub struct VirtualMachine {
    pub name: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<VirtualMachineIdentity>,
    /// plan, zones, extendedLocation.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    pub properties: Value,
}

/// `InstanceViewStatus`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceViewStatus {
    pub code: String,
    pub level: &'static str,
    pub display_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// `VirtualMachineInstanceView` (the parts Mimic knows).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineInstanceView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    pub statuses: Vec<InstanceViewStatus>,
}

/// Compute's async-operation status (`Azure-AsyncOperation` URL):
/// `{"startTime","endTime","status","name"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub status: String,
    pub name: String,
}
