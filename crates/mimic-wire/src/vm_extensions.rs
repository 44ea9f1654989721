//! VM extensions (`Microsoft.Compute/virtualMachines/extensions`) and VM extension images, as
//! compute.json shapes them: `VirtualMachineExtension` (PUT/GET/list), `VirtualMachineExtensionUpdate`
//! (PATCH), `VirtualMachineExtensionImage` and the `VirtualMachineImageResource` entries the image
//! listings return as bare JSON arrays.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A PUT or PATCH body. `protectedSettings` is read so that it can be dropped: Azure never
/// returns it and Mimic never stores it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineExtensionWrite {
    pub location: Option<String>,
    pub tags: Option<Map<String, Value>>,
    pub properties: Option<VirtualMachineExtensionWriteProperties>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineExtensionWriteProperties {
    pub force_update_tag: Option<String>,
    pub publisher: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub type_handler_version: Option<String>,
    pub auto_upgrade_minor_version: Option<bool>,
    pub enable_automatic_upgrade: Option<bool>,
    pub settings: Option<Map<String, Value>>,
    pub protected_settings: Option<Value>,
    pub protected_settings_from_key_vault: Option<Map<String, Value>>,
    pub suppress_failures: Option<bool>,
    pub provision_after_extensions: Option<Vec<String>>,
}

/// The stored and returned `properties` (never `protectedSettings`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineExtensionProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_update_tag: Option<String>,
    pub publisher: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub type_handler_version: String,
    pub auto_upgrade_minor_version: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_automatic_upgrade: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_settings_from_key_vault: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress_failures: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision_after_extensions: Option<Vec<String>>,
    pub provisioning_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_view: Option<VirtualMachineExtensionInstanceView>,
}

/// `VirtualMachineExtensionInstanceView` (`$expand=instanceView`, and a VM's instance view).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineExtensionInstanceView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub type_handler_version: String,
    pub statuses: Vec<ExtensionStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionStatus {
    pub code: String,
    pub level: String,
    pub display_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `VirtualMachineExtension`.
#[derive(Debug, Serialize)]
pub struct VirtualMachineExtension {
    pub name: String,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    pub properties: VirtualMachineExtensionProperties,
}

/// `VirtualMachineExtensionsListResult`.
#[derive(Debug, Serialize)]
pub struct VirtualMachineExtensionsList {
    pub value: Vec<VirtualMachineExtension>,
}

/// An entry of `VirtualMachineExtensionImages_ListTypes` / `_ListVersions` (a bare JSON array).
#[derive(Debug, Serialize)]
pub struct ArtifactEntry {
    pub location: String,
    pub name: String,
    pub id: String,
}

/// `VirtualMachineExtensionImage` (`VirtualMachineExtensionImages_Get`).
#[derive(Debug, Serialize)]
pub struct VirtualMachineExtensionImage {
    pub properties: VirtualMachineExtensionImageProperties,
    pub location: String,
    pub name: String,
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineExtensionImageProperties {
    pub operating_system: &'static str,
    pub compute_role: &'static str,
    pub handler_schema: &'static str,
    pub vm_scale_set_enabled: bool,
    pub supports_multiple_extensions: bool,
}
