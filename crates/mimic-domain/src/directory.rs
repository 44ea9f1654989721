//! The directory (Entra ID): tenants, subscriptions, users, applications, service principals,
//! groups. Plain data; the store persists it, Graph and the token service render it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Azure CLI's well-known public client id; ROPC and device-code flows from az use it.
pub const AZURE_CLI_CLIENT_ID: Uuid = uuid::uuid!("04b07795-8ddb-461a-bbee-02f9e1bf7b46");
/// Azure PowerShell's public client id.
pub const AZURE_POWERSHELL_CLIENT_ID: Uuid = uuid::uuid!("1950a258-227b-4e31-a9cf-717495945fc2");

/// The Azure portal's first-party app id; Mimic's portal signs users in as this client.
pub const AZURE_PORTAL_CLIENT_ID: Uuid = uuid::uuid!("c44b4083-3bb0-49c1-b47d-974e53cbdf3c");

/// Public clients Entra knows in every tenant (first-party apps): they need no secret.
pub fn is_first_party_public_client(app_id: Uuid) -> bool {
    app_id == AZURE_CLI_CLIENT_ID || app_id == AZURE_POWERSHELL_CLIENT_ID || app_id == AZURE_PORTAL_CLIENT_ID
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
pub fn new_managed_identity_principal(
    tenant_id: Uuid,
    resource_id: &str,
    name: &str,
    explicit: bool,
    now: DateTime<Utc>,
) -> ServicePrincipal {
    let app_id = Uuid::new_v4();
    ServicePrincipal {
        id: Uuid::new_v4(),
        tenant_id,
        app_id,
        display_name: name.to_string(),
        service_principal_type: ServicePrincipalType::ManagedIdentity,
        alternative_names: vec![
            format!("isExplicit={}", if explicit { "True" } else { "False" }),
            crate::resource_id::lowercase_resource_groups(resource_id),
        ],
        service_principal_names: vec![app_id.to_string(), format!("https://identity.azure.net/{}", Uuid::new_v4().simple())],
        account_enabled: true,
        created: now,
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

/// Entra's built-in directory roles that Mimic's Graph honours. A role definition's id is its
/// template id, the same in every tenant (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
#[derive(Debug, Clone, Copy)]
pub struct DirectoryRoleDefinition {
    pub id: Uuid,
    pub display_name: &'static str,
    pub description: &'static str,
    /// What holding the role lets a principal do through Graph.
    pub grants: &'static [DirectoryAction],
}

/// The directory operations Graph authorizes, coarsely: what Entra's role permissions
/// (`microsoft.directory/users/create`, `.../groups/members/update`, ...) group into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryAction {
    /// Read users, groups, applications, service principals and memberships.
    Read,
    /// Create, update, delete users and reset their passwords.
    ManageUsers,
    /// Create, update, delete groups and their memberships.
    ManageGroups,
    /// Create, update, delete applications and service principals and their credentials.
    ManageApplications,
    /// Assign and remove directory roles.
    ManageRoles,
}

pub const GLOBAL_ADMINISTRATOR: Uuid = uuid::uuid!("62e90394-69f5-4237-9190-012177145e10");
pub const DIRECTORY_READERS: Uuid = uuid::uuid!("88d8e3e3-8f55-4a1e-953a-9b9898b8876b");

pub const DIRECTORY_ROLES: &[DirectoryRoleDefinition] = {
    use DirectoryAction::*;
    &[
        DirectoryRoleDefinition {
            id: GLOBAL_ADMINISTRATOR,
            display_name: "Global Administrator",
            description: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
            grants: &[Read, ManageUsers, ManageGroups, ManageApplications, ManageRoles],
        },
        DirectoryRoleDefinition {
            id: uuid::uuid!("e8611ab8-c189-46e8-94e1-60213ab1f814"),
            display_name: "Privileged Role Administrator",
            description: "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
            grants: &[Read, ManageRoles],
        },
        DirectoryRoleDefinition {
            id: uuid::uuid!("fe930be7-5e62-47db-91af-98c3a49a38b1"),
            display_name: "User Administrator",
            description: "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
            grants: &[Read, ManageUsers, ManageGroups],
        },
        DirectoryRoleDefinition {
            id: uuid::uuid!("fdd7a751-b60b-444a-984c-02652fe8fa1c"),
            display_name: "Groups Administrator",
            description: "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
            grants: &[Read, ManageGroups],
        },
        DirectoryRoleDefinition {
            id: uuid::uuid!("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"),
            display_name: "Application Administrator",
            description: "Can create and manage all aspects of app registrations and enterprise apps.",
            grants: &[Read, ManageApplications],
        },
        DirectoryRoleDefinition {
            id: uuid::uuid!("158c047a-c907-4556-b7ef-446551a6b5f7"),
            display_name: "Cloud Application Administrator",
            description: "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
            grants: &[Read, ManageApplications],
        },
        DirectoryRoleDefinition {
            id: uuid::uuid!("9360feb5-f418-4baa-8175-e2a00bac4301"),
            display_name: "Directory Writers",
            description: "Can read and write basic directory information. For granting access to applications, not intended for users.",
            grants: &[Read, ManageGroups],
        },
        DirectoryRoleDefinition {
            id: DIRECTORY_READERS,
            display_name: "Directory Readers",
            description: "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
            grants: &[Read],
        },
    ]
};

pub fn directory_role(id: Uuid) -> Option<&'static DirectoryRoleDefinition> {
    DIRECTORY_ROLES.iter().find(|r| r.id == id)
}

/// A directory role held by a principal, tenant-wide (`directoryScopeId` `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRoleAssignment {
    pub id: String,
    pub principal_id: Uuid,
    pub role_definition_id: Uuid,
}

/// Whether a principal may perform `action` in the directory. Entra's defaults: member users
/// read the directory ("default user permissions"); applications and managed identities read
/// nothing without a role or a Graph application permission; everything else comes from
/// directory roles. (Mimic's tenants behave as if "Users can register applications" and "Users
/// can create security groups" are set to No, and Graph application permissions are not
/// modelled: a directory role is how an application gets directory access.)
pub fn directory_allows(is_user: bool, roles: &[Uuid], action: DirectoryAction) -> bool {
    if action == DirectoryAction::Read && is_user {
        return true;
    }
    roles.iter().filter_map(|r| directory_role(*r)).any(|r| r.grants.contains(&action))
}

/// Entra's password rules for cloud users: 8 to 256 characters, three of upper case, lower
/// case, digits and symbols.
pub fn password_meets_complexity(p: &str) -> bool {
    let n = p.chars().count();
    if !(8..=256).contains(&n) {
        return false;
    }
    let classes = [
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    classes.iter().filter(|b| **b).count() >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_roles_decide_graph_access() {
        use DirectoryAction::*;
        assert!(directory_allows(true, &[], Read));
        assert!(!directory_allows(true, &[], ManageGroups));
        assert!(!directory_allows(false, &[], Read));
        assert!(directory_allows(false, &[DIRECTORY_READERS], Read));
        assert!(!directory_allows(false, &[DIRECTORY_READERS], ManageApplications));
        for a in [Read, ManageUsers, ManageGroups, ManageApplications, ManageRoles] {
            assert!(directory_allows(false, &[GLOBAL_ADMINISTRATOR], a));
        }
        assert!(!directory_allows(false, &[Uuid::new_v4()], Read));
    }

    #[test]
    fn password_complexity() {
        assert!(password_meets_complexity("Str0ng!Passw0rd"));
        assert!(password_meets_complexity("abcDEF123"));
        assert!(!password_meets_complexity("weak"));
        assert!(!password_meets_complexity("alllowercase1"));
    }
}
