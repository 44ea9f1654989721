//! The directory (Entra ID): tenants, subscriptions, users, applications, service principals,
//! groups. Plain data; the store persists it, Graph and the token service render it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Azure CLI's well-known public client id; ROPC and device-code flows from az use it.
pub const AZURE_CLI_CLIENT_ID: Uuid = uuid::uuid!("04b07795-8ddb-461a-bbee-02f9e1bf7b46");
/// Azure PowerShell's public client id.
pub const AZURE_POWERSHELL_CLIENT_ID: Uuid = uuid::uuid!("1950a258-227b-4e31-a9cf-717495945fc2");

/// Public clients Entra knows in every tenant (first-party apps): they need no secret.
pub fn is_first_party_public_client(app_id: Uuid) -> bool {
    app_id == AZURE_CLI_CLIENT_ID || app_id == AZURE_POWERSHELL_CLIENT_ID
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: Uuid,
    pub display_name: String,
    pub default_domain: String,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub display_name: String,
    /// `Enabled`, `Disabled`, `Warned`, `PastDue`, `Deleted`.
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordCredential {
    pub key_id: Uuid,
    pub display_name: Option<String>,
    pub hint: String,
    pub secret_hash: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    pub password_hash: String,
    pub account_enabled: bool,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    /// Object id.
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub app_id: Uuid,
    pub display_name: String,
    pub password_credentials: Vec<PasswordCredential>,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServicePrincipalType {
    Application,
    ManagedIdentity,
}

impl ServicePrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServicePrincipalType::Application => "Application",
            ServicePrincipalType::ManagedIdentity => "ManagedIdentity",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// Object id (a managed identity's `principalId`).
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The application id (a managed identity's `clientId`).
    pub app_id: Uuid,
    pub display_name: String,
    pub service_principal_type: ServicePrincipalType,
    pub alternative_names: Vec<String>,
    pub service_principal_names: Vec<String>,
    pub account_enabled: bool,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub display_name: String,
    pub mail_nickname: String,
    pub description: Option<String>,
    pub security_enabled: bool,
    pub members: Vec<Uuid>,
    pub created: DateTime<Utc>,
}

/// Anything with an object id in a tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum DirectoryObject {
    User(User),
    Application(Application),
    ServicePrincipal(ServicePrincipal),
    Group(Group),
}

impl DirectoryObject {
    pub fn id(&self) -> Uuid {
        match self {
            DirectoryObject::User(o) => o.id,
            DirectoryObject::Application(o) => o.id,
            DirectoryObject::ServicePrincipal(o) => o.id,
            DirectoryObject::Group(o) => o.id,
        }
    }
    pub fn tenant_id(&self) -> Uuid {
        match self {
            DirectoryObject::User(o) => o.tenant_id,
            DirectoryObject::Application(o) => o.tenant_id,
            DirectoryObject::ServicePrincipal(o) => o.tenant_id,
            DirectoryObject::Group(o) => o.tenant_id,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            DirectoryObject::User(_) => "user",
            DirectoryObject::Application(_) => "application",
            DirectoryObject::ServicePrincipal(_) => "servicePrincipal",
            DirectoryObject::Group(_) => "group",
        }
    }
    pub fn display_name(&self) -> &str {
        match self {
            DirectoryObject::User(o) => &o.display_name,
            DirectoryObject::Application(o) => &o.display_name,
            DirectoryObject::ServicePrincipal(o) => &o.display_name,
            DirectoryObject::Group(o) => &o.display_name,
        }
    }
    /// The application id, for applications and service principals.
    pub fn app_id(&self) -> Option<Uuid> {
        match self {
            DirectoryObject::Application(o) => Some(o.app_id),
            DirectoryObject::ServicePrincipal(o) => Some(o.app_id),
            _ => None,
        }
    }
    pub fn user_principal_name(&self) -> Option<&str> {
        match self {
            DirectoryObject::User(o) => Some(&o.user_principal_name),
            _ => None,
        }
    }
}

/// A new application with its service principal, as `az ad sp create-for-rbac` makes them.
pub fn new_application_with_principal(tenant_id: Uuid, display_name: &str, now: DateTime<Utc>) -> (Application, ServicePrincipal) {
    let app_id = Uuid::new_v4();
    let app = Application {
        id: Uuid::new_v4(),
        tenant_id,
        app_id,
        display_name: display_name.to_string(),
        password_credentials: vec![],
        created: now,
    };
    let sp = ServicePrincipal {
        id: Uuid::new_v4(),
        tenant_id,
        app_id,
        display_name: display_name.to_string(),
        service_principal_type: ServicePrincipalType::Application,
        alternative_names: vec![],
        service_principal_names: vec![app_id.to_string()],
        account_enabled: true,
        created: now,
    };
    (app, sp)
}

/// A managed identity's service principal (FACTS.md §7): display name = the resource's name,
/// alternative names `isExplicit=False|True` and the resource id with lower-case `resourcegroups`.
pub fn new_managed_identity_principal(tenant_id: Uuid, resource_id: &str, name: &str, explicit: bool, now: DateTime<Utc>) -> ServicePrincipal {
    let app_id = Uuid::new_v4();
    ServicePrincipal {
        id: Uuid::new_v4(),
        tenant_id,
        app_id,
        display_name: name.to_string(),
        service_principal_type: ServicePrincipalType::ManagedIdentity,
        alternative_names: vec![
            format!("isExplicit={}", if explicit { "True" } else { "False" }),
            lowercase_resource_groups(resource_id),
        ],
        service_principal_names: vec![app_id.to_string(), format!("https://identity.azure.net/{}", Uuid::new_v4().simple())],
        account_enabled: true,
        created: now,
    }
}

fn lowercase_resource_groups(id: &str) -> String {
    let lower = id.to_ascii_lowercase();
    match lower.find("/resourcegroups/") {
        Some(i) => format!("{}/resourcegroups/{}", &id[..i], &id[i + "/resourcegroups/".len()..]),
        None => id.to_string(),
    }
}

/// A password credential (client secret) for an application; returns it with the clear secret,
/// which is shown once and never stored.
pub fn new_password_credential(display_name: Option<String>, now: DateTime<Utc>, years: i64) -> (PasswordCredential, String) {
    let secret = crate::secrets::generate_client_secret();
    let cred = PasswordCredential {
        key_id: Uuid::new_v4(),
        display_name,
        hint: crate::secrets::hint(&secret),
        secret_hash: crate::secrets::hash_client_secret(&secret),
        start: now,
        end: now + chrono::Duration::days(365 * years),
    };
    (cred, secret)
}
