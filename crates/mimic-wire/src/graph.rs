//! Microsoft Graph v1.0 bodies for the directory (users, groups, applications, service
//! principals, directory roles), as `graph.microsoft.com` renders them: camelCase, every
//! property of the resource present (null when unset), `@odata.type` on objects of a
//! `directoryObject` collection.
//!
//! Property lists follow the v1.0 resource pages (learn.microsoft.com/graph/api/resources/
//! user, group, application, serviceprincipal, passwordcredential, unifiedroleassignment).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const USER_TYPE: &str = "#microsoft.graph.user";
pub const GROUP_TYPE: &str = "#microsoft.graph.group";
pub const APPLICATION_TYPE: &str = "#microsoft.graph.application";
pub const SERVICE_PRINCIPAL_TYPE: &str = "#microsoft.graph.servicePrincipal";
pub const DIRECTORY_ROLE_TYPE: &str = "#microsoft.graph.directoryRole";

/// Graph's error envelope: `{"error":{"code","message","innerError":{...}}}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(rename = "innerError")]
    pub inner_error: InnerError,
    /// `[{"target":"userPrincipalName","code":"ObjectConflict"}]` on conflicts.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InnerError {
    pub date: String,
    #[serde(rename = "request-id")]
    pub request_id: String,
    #[serde(rename = "client-request-id")]
    pub client_request_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub target: String,
    pub code: String,
}

/// A `passwordCredential` (client secret). `secretText` is only ever non-null in the response
/// of `addPassword`.
#[derive(Debug, Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    pub custom_key_identifier: Option<String>,
    pub display_name: Option<String>,
    pub end_date_time: String,
    pub hint: Option<String>,
    pub key_id: String,
    pub secret_text: Option<String>,
    pub start_date_time: String,
}

/// A `keyCredential` (certificate). `key` is null on reads of the owning object.
#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub custom_key_identifier: Option<String>,
    pub display_name: Option<String>,
    pub end_date_time: String,
    pub key: Option<String>,
    pub key_id: String,
    pub start_date_time: String,
    #[serde(rename = "type")]
    pub key_type: &'static str,
    pub usage: &'static str,
}

/// A `keyCredential` as clients write it (`keyCredentials` of POST/PATCH, `addKey`): what a
/// read returned (`key` null, to keep it) or a new certificate.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredentialInput {
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default, rename = "type")]
    pub key_type: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub deleted_date_time: Option<String>,
    pub account_enabled: bool,
    pub business_phones: Vec<String>,
    pub city: Option<String>,
    pub company_name: Option<String>,
    pub country: Option<String>,
    pub created_date_time: String,
    pub creation_type: Option<String>,
    pub department: Option<String>,
    pub display_name: String,
    pub employee_id: Option<String>,
    pub given_name: Option<String>,
    pub job_title: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: String,
    pub mobile_phone: Option<String>,
    pub office_location: Option<String>,
    pub on_premises_immutable_id: Option<String>,
    pub on_premises_sync_enabled: Option<bool>,
    pub preferred_language: Option<String>,
    pub surname: Option<String>,
    pub usage_location: Option<String>,
    pub user_principal_name: String,
    pub user_type: &'static str,
}

/// What `GET /users` returns without `$select` (user-list: "a default set of properties").
pub const USER_DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub deleted_date_time: Option<String>,
    pub classification: Option<String>,
    pub created_date_time: String,
    pub creation_options: Vec<String>,
    pub description: Option<String>,
    pub display_name: String,
    pub expiration_date_time: Option<String>,
    pub group_types: Vec<String>,
    pub is_assignable_to_role: Option<bool>,
    pub mail: Option<String>,
    pub mail_enabled: bool,
    pub mail_nickname: String,
    pub membership_rule: Option<String>,
    pub membership_rule_processing_state: Option<String>,
    pub on_premises_sync_enabled: Option<bool>,
    pub preferred_data_location: Option<String>,
    pub preferred_language: Option<String>,
    pub proxy_addresses: Vec<String>,
    pub renewed_date_time: String,
    pub resource_behavior_options: Vec<String>,
    pub resource_provisioning_options: Vec<String>,
    pub security_enabled: bool,
    pub security_identifier: String,
    pub theme: Option<String>,
    pub visibility: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub deleted_date_time: Option<String>,
    pub app_id: String,
    pub application_template_id: Option<String>,
    pub created_date_time: String,
    pub description: Option<String>,
    pub display_name: String,
    pub group_membership_claims: Option<String>,
    pub identifier_uris: Vec<String>,
    pub is_device_only_auth_supported: Option<bool>,
    pub is_fallback_public_client: Option<bool>,
    pub notes: Option<String>,
    pub publisher_domain: String,
    pub service_management_reference: Option<String>,
    pub sign_in_audience: &'static str,
    pub tags: Vec<String>,
    pub token_encryption_key_id: Option<String>,
    pub api: Value,
    pub app_roles: Vec<Value>,
    pub info: Value,
    pub key_credentials: Vec<KeyCredential>,
    pub optional_claims: Option<Value>,
    pub password_credentials: Vec<PasswordCredential>,
    pub public_client: Value,
    pub required_resource_access: Vec<Value>,
    pub web: Value,
    pub spa: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub deleted_date_time: Option<String>,
    pub account_enabled: bool,
    pub alternative_names: Vec<String>,
    pub app_description: Option<String>,
    pub app_display_name: Option<String>,
    pub app_id: String,
    pub application_template_id: Option<String>,
    pub app_owner_organization_id: Option<String>,
    pub app_role_assignment_required: bool,
    pub created_date_time: String,
    pub description: Option<String>,
    pub disabled_by_microsoft_status: Option<String>,
    pub display_name: String,
    pub homepage: Option<String>,
    pub login_url: Option<String>,
    pub logout_url: Option<String>,
    pub notes: Option<String>,
    pub notification_email_addresses: Vec<String>,
    pub preferred_single_sign_on_mode: Option<String>,
    pub preferred_token_signing_key_thumbprint: Option<String>,
    pub reply_urls: Vec<String>,
    pub service_principal_names: Vec<String>,
    pub service_principal_type: &'static str,
    pub sign_in_audience: Option<&'static str>,
    pub tags: Vec<String>,
    pub token_encryption_key_id: Option<String>,
    pub info: Value,
    pub saml_single_sign_on_settings: Option<Value>,
    pub verified_publisher: Value,
    pub add_ins: Vec<Value>,
    pub app_roles: Vec<Value>,
    pub key_credentials: Vec<KeyCredential>,
    pub oauth2_permission_scopes: Vec<Value>,
    pub password_credentials: Vec<PasswordCredential>,
    pub resource_specific_application_permissions: Vec<Value>,
}

/// A `unifiedRoleDefinition` (built-in directory role).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    pub id: String,
    pub description: String,
    pub display_name: String,
    pub is_built_in: bool,
    pub is_enabled: bool,
    pub resource_scopes: Vec<String>,
    pub template_id: String,
    pub version: Option<String>,
    pub role_permissions: Vec<Value>,
}

/// A `unifiedRoleAssignment`.
#[derive(Debug, Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: String,
    #[serde(default)]
    pub app_scope_id: Option<String>,
}

/// A `directoryRole` (an activated role, as `GET /directoryRoles` lists them).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRole {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub deleted_date_time: Option<String>,
    pub description: String,
    pub display_name: String,
    pub role_template_id: String,
}

/// `POST /directoryObjects/getByIds`.
#[derive(Debug, Deserialize)]
pub struct GetByIdsRequest {
    pub ids: Vec<String>,
    #[serde(default)]
    pub types: Option<Vec<String>>,
}

/// `POST .../checkMemberGroups`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckMemberGroupsRequest {
    pub group_ids: Vec<String>,
}

/// `POST .../checkMemberObjects`.
#[derive(Debug, Deserialize)]
pub struct CheckMemberObjectsRequest {
    pub ids: Vec<String>,
}

/// `POST .../getMemberGroups` / `getMemberObjects`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMemberGroupsRequest {
    #[serde(default)]
    pub security_enabled_only: Option<bool>,
}

/// `POST .../members/$ref`: `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`.
#[derive(Debug, Deserialize)]
pub struct Reference {
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

/// `POST /applications/{id}/addPassword`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AddPasswordRequest {
    #[serde(default)]
    pub password_credential: Option<PasswordCredentialInput>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredentialInput {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub start_date_time: Option<String>,
}

/// `POST /applications/{id}/addKey`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddKeyRequest {
    pub key_credential: KeyCredentialInput,
    #[serde(default)]
    pub password_credential: Option<Value>,
    pub proof: String,
}

/// `POST /applications/{id}/removeKey`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveKeyRequest {
    pub key_id: String,
    pub proof: String,
}

/// `POST /applications/{id}/removePassword`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovePasswordRequest {
    pub key_id: String,
}
