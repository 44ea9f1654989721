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

/// The redirect URIs of the native first-party clients (az, PowerShell): loopback, matched with
/// any port (RFC 8252; `redirect_uri.rs`). The portal's one redirect URI depends on where it
/// listens and is decided by the server.
pub const NATIVE_FIRST_PARTY_REDIRECT_URIS: &[&str] = &["http://localhost", "http://127.0.0.1"];

/// Resource principals Entra has in every tenant (Microsoft's first-party APIs), by service
/// principal name or application id: what a token may be requested for besides the tenant's
/// own applications and Mimic's own ARM and Graph addresses (AADSTS500011 otherwise).
pub const FIRST_PARTY_RESOURCES: &[&str] = &[
    crate::cloud::ARM_AUDIENCES[1],
    crate::cloud::ARM_AUDIENCES[0],
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
    "https://graph.windows.net",
    "00000002-0000-0000-c000-000000000000",
    "https://vault.azure.net",
    "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
    "https://storage.azure.com",
    "e406a681-f3d4-42a8-90b6-c2b029497af1",
    "https://database.windows.net",
    "022907d3-0f1b-48f7-badc-1ba6abab6d66",
    "https://ossrdbms-aad.database.windows.net",
    "https://servicebus.azure.net",
    "https://eventhubs.azure.net",
    "https://cognitiveservices.azure.com",
    "https://monitor.azure.com",
    "https://api.loganalytics.io",
    "https://batch.core.windows.net",
    "499b84ac-1321-427f-aa17-267ca6975798",
];

/// Resource identifiers name the same principal regardless of case and trailing slashes (so
/// `https://management.core.windows.net//.default` asks for ARM).
pub fn same_resource(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
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
    /// `web.redirectUris`: a confidential client's (it redeems codes with its credential).
    #[serde(default)]
    pub web_redirect_uris: Vec<String>,
    /// `publicClient.redirectUris`: a native client's (no credential).
    #[serde(default)]
    pub public_client_redirect_uris: Vec<String>,
    /// `spa.redirectUris`: a single-page app's (no credential, PKCE).
    #[serde(default)]
    pub spa_redirect_uris: Vec<String>,
    /// `isFallbackPublicClient`: the app may use public-client flows (ROPC, device code)
    /// without a credential. `false` (Graph's default) makes it a confidential client.
    #[serde(default)]
    pub is_fallback_public_client: bool,
    /// `keyCredentials`: certificates whose keys sign the app's client assertions.
    #[serde(default)]
    pub key_credentials: Vec<crate::certificate::KeyCredential>,
    /// `federatedIdentityCredentials`: external identities that may sign in as the app.
    #[serde(default)]
    pub federated_identity_credentials: Vec<crate::federation::FederatedCredential>,
    /// `identifierUris` (App ID URIs): unique in the tenant; its service principal is named by
    /// them too.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    /// The other Graph properties (`signInAudience`, `appRoles`, `api`, `web.homePageUrl`, ...),
    /// as written, for clients to read back; the token service does not act on them.
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// `owners`: users and service principals that own the registration.
    #[serde(default)]
    pub owners: Vec<Uuid>,
}

impl Application {
    /// Every redirect URI registered on the application, of any platform.
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.web_redirect_uris.iter().chain(&self.public_client_redirect_uris).chain(&self.spa_redirect_uris).map(String::as_str)
    }

    /// Whether a code issued to `redirect_uri` is redeemed without a client credential: the URI
    /// is registered as a native (publicClient) or SPA one, not a web one.
    pub fn is_public_redirect(&self, redirect_uri: &str) -> bool {
        let public = self.public_client_redirect_uris.iter().chain(&self.spa_redirect_uris).map(String::as_str);
        crate::redirect_uri::matches_any(public, redirect_uri)
            && !crate::redirect_uri::matches_any(self.web_redirect_uris.iter().map(String::as_str), redirect_uri)
    }
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
    /// Secrets and certificates on the principal itself: they sign the application in within
    /// this tenant as the application's own do (`az ad sp credential reset`).
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub key_credentials: Vec<crate::certificate::KeyCredential>,
    /// `owners`: users and service principals that own the principal.
    #[serde(default)]
    pub owners: Vec<Uuid>,
    /// `appRoleAssignments`: app roles of resource principals granted to this one (application
    /// permissions); their values are the `roles` of its app-only tokens for that resource.
    #[serde(default)]
    pub app_role_assignments: Vec<AppRoleAssignment>,
}

/// An app role of a resource principal granted to a service principal (Graph `appRoleAssignment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRoleAssignment {
    /// Graph's opaque id of the assignment.
    pub id: String,
    pub app_role_id: Uuid,
    pub resource_id: Uuid,
    pub created: DateTime<Utc>,
}

/// An app role of a resource principal granted to a user or a group (whose members then hold
/// it), kept in one list per tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAppRole {
    pub principal_id: Uuid,
    /// `User` or `Group`.
    pub principal_type: String,
    pub assignment: AppRoleAssignment,
}

/// A delegated permission grant (Graph `oauth2PermissionGrant`): the client may act for users
/// (`AllPrincipals`) or for one user (`Principal`) with these scopes of the resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionGrant {
    pub id: String,
    pub client_id: Uuid,
    pub consent_type: String,
    pub principal_id: Option<Uuid>,
    pub resource_id: Uuid,
    pub scope: String,
}

impl ServicePrincipal {
    /// A managed identity's principal after its resource moved: the alternative name that is
    /// the resource's id (and so the tokens' `xms_mirid`) follows the new id.
    pub fn set_managed_resource(&mut self, resource_id: &str) {
        if self.service_principal_type == ServicePrincipalType::ManagedIdentity && self.alternative_names.len() >= 2 {
            self.alternative_names[1] = crate::resource_id::lowercase_resource_groups(resource_id);
        }
    }

    /// Whether the tenant manages the principal (its credentials, owners, properties): not a
    /// managed identity's, which its Azure resource owns, nor a Microsoft API's.
    pub fn is_tenant_managed(&self) -> bool {
        self.service_principal_type != ServicePrincipalType::ManagedIdentity && crate::first_party_apis::by_app_id(self.app_id).is_none()
    }
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
    /// `isAssignableToRole`: set at creation only; only such groups can hold directory roles,
    /// and their members hold those roles.
    #[serde(default)]
    pub is_assignable_to_role: bool,
    /// `owners`: users and service principals that own the group.
    #[serde(default)]
    pub owners: Vec<Uuid>,
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
    /// The secrets and certificates of an application or of an application's principal; `None`
    /// for users, groups and managed identities (whose credentials Azure manages).
    pub fn credentials_mut(&mut self) -> Option<(&mut Vec<PasswordCredential>, &mut Vec<crate::certificate::KeyCredential>)> {
        match self {
            DirectoryObject::Application(a) => Some((&mut a.password_credentials, &mut a.key_credentials)),
            DirectoryObject::ServicePrincipal(sp) if sp.is_tenant_managed() => {
                Some((&mut sp.password_credentials, &mut sp.key_credentials))
            }
            _ => None,
        }
    }

    /// Who owns an application, a service principal or a group (`None` for users, which have
    /// no owners, and for managed identities' principals, which their resource owns).
    pub fn owners_mut(&mut self) -> Option<&mut Vec<Uuid>> {
        match self {
            DirectoryObject::Application(a) => Some(&mut a.owners),
            DirectoryObject::ServicePrincipal(sp) if sp.service_principal_type != ServicePrincipalType::ManagedIdentity => {
                Some(&mut sp.owners)
            }
            DirectoryObject::Group(g) => Some(&mut g.owners),
            _ => None,
        }
    }

    pub fn owners(&self) -> &[Uuid] {
        match self {
            DirectoryObject::Application(a) => &a.owners,
            DirectoryObject::ServicePrincipal(sp) => &sp.owners,
            DirectoryObject::Group(g) => &g.owners,
            DirectoryObject::User(_) => &[],
        }
    }

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
        web_redirect_uris: vec![],
        public_client_redirect_uris: vec![],
        spa_redirect_uris: vec![],
        is_fallback_public_client: false,
        key_credentials: vec![],
        federated_identity_credentials: vec![],
        identifier_uris: vec![],
        properties: serde_json::Map::new(),
        owners: vec![],
    };
    let sp = application_principal(tenant_id, app_id, display_name, vec![app_id.to_string()], now);
    (app, sp)
}

/// A deleted directory object in the tenant's recycle bin (`/directory/deletedItems`), restorable
/// until [`DELETED_RETENTION_DAYS`] have passed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeletedObject {
    pub object: DirectoryObject,
    pub deleted: DateTime<Utc>,
}

/// How long Entra keeps deleted applications, service principals and users restorable
/// (learn.microsoft.com/entra/architecture/recover-from-deletions: 30 days).
pub const DELETED_RETENTION_DAYS: i64 = 30;

impl DeletedObject {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        deletion_expired(self.deleted, now)
    }
}

/// A tenant's recycle bin index: each deleted object's id and deletion time.
pub type DeletedIndex = Vec<(Uuid, DateTime<Utc>)>;

/// Whether an object deleted at `deleted` has left the recycle bin by `now`.
pub fn deletion_expired(deleted: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= deleted + chrono::Duration::days(DELETED_RETENTION_DAYS)
}

impl DirectoryObject {
    /// What changing or deleting the object needs the caller to be allowed to do (for a user,
    /// bounded further by the roles it holds).
    pub fn manage_action(&self) -> DirectoryAction {
        match self {
            DirectoryObject::User(_) => DirectoryAction::SensitiveUserAction,
            DirectoryObject::Group(g) if g.is_assignable_to_role => DirectoryAction::ManageRoleAssignableGroups,
            DirectoryObject::Group(_) => DirectoryAction::ManageGroups,
            DirectoryObject::Application(_) | DirectoryObject::ServicePrincipal(_) => DirectoryAction::ManageApplications,
        }
    }

    /// Whether a delete moves the object to the recycle bin: applications, their service
    /// principals and users do; security groups are deleted at once (only Microsoft 365 groups
    /// are soft-deleted in Entra, and Mimic has none).
    pub fn is_soft_deleted(&self) -> bool {
        !matches!(self, DirectoryObject::Group(_))
    }
}

/// The principals of Microsoft's first-party APIs (`first_party_apis`) for a tenant.
pub fn first_party_principals(tenant_id: Uuid, now: DateTime<Utc>) -> Vec<ServicePrincipal> {
    crate::first_party_apis::APIS
        .iter()
        .map(|api| {
            let names = api.service_principal_names.iter().map(|s| s.to_string()).collect();
            application_principal(tenant_id, api.app_id.parse().expect("static GUID"), api.display_name, names, now)
        })
        .collect()
}

/// A new principal of an application (its own tenant's or Microsoft's), enabled, holding
/// nothing yet.
pub fn application_principal(
    tenant_id: Uuid,
    app_id: Uuid,
    display_name: &str,
    names: Vec<String>,
    now: DateTime<Utc>,
) -> ServicePrincipal {
    ServicePrincipal {
        id: Uuid::new_v4(),
        tenant_id,
        app_id,
        display_name: display_name.to_string(),
        service_principal_type: ServicePrincipalType::Application,
        alternative_names: vec![],
        service_principal_names: names,
        account_enabled: true,
        created: now,
        password_credentials: vec![],
        key_credentials: vec![],
        owners: vec![],
        app_role_assignments: vec![],
    }
}

/// An application's service principal is named by its app id and its App ID URIs.
pub fn service_principal_names(app: &Application) -> Vec<String> {
    std::iter::once(app.app_id.to_string()).chain(app.identifier_uris.iter().cloned()).collect()
}

/// A managed identity's service principal (docs/azure-behaviour.md §7): display name = the resource's name,
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
        password_credentials: vec![],
        key_credentials: vec![],
        owners: vec![],
        app_role_assignments: vec![],
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

/// The directory operations Graph authorizes: what Entra's role permissions
/// (`microsoft.directory/users/create`, `.../groups/members/update`, ...) group into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryAction {
    /// Read users, groups, applications, service principals and memberships.
    Read,
    /// `users/create`.
    CreateUsers,
    /// `users/basic/update`: a user's non-sensitive properties (display name, ...).
    UpdateUsers,
    /// `users/password/update`: set a user's `passwordProfile`, bounded by the target's roles
    /// ("Who can reset passwords", `PASSWORD_RESET`).
    ResetPassword,
    /// `users/disable`, `users/enable`, `users/userPrincipalName/update`, `users/delete`: the
    /// sensitive actions, bounded by the target's roles ("Who can perform sensitive actions",
    /// `SENSITIVE_ACTIONS`).
    SensitiveUserAction,
    /// Create, update, delete groups and their memberships (not role-assignable ones).
    ManageGroups,
    /// The same for role-assignable groups (`groups.roleAssignable`; their members hold the
    /// group's directory roles): Privileged Role Administrator and Global Administrator only.
    ManageRoleAssignableGroups,
    /// Create, update, delete applications and service principals and their credentials.
    ManageApplications,
    /// Assign and remove directory roles (`roleAssignments/allProperties/allTasks`).
    ManageRoles,
}

pub const GLOBAL_ADMINISTRATOR: Uuid = uuid::uuid!("62e90394-69f5-4237-9190-012177145e10");
pub const PRIVILEGED_ROLE_ADMINISTRATOR: Uuid = uuid::uuid!("e8611ab8-c189-46e8-94e1-60213ab1f814");
pub const PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: Uuid = uuid::uuid!("7be44c8a-adaf-4e2a-84d6-ab2649e08a13");
pub const AUTHENTICATION_ADMINISTRATOR: Uuid = uuid::uuid!("c4e39bd9-1100-46d3-8c65-fb160da0071f");
pub const USER_ADMINISTRATOR: Uuid = uuid::uuid!("fe930be7-5e62-47db-91af-98c3a49a38b1");
pub const HELPDESK_ADMINISTRATOR: Uuid = uuid::uuid!("729827e3-9c14-49f7-bb1b-9608f156bbb8");
pub const PASSWORD_ADMINISTRATOR: Uuid = uuid::uuid!("966707d0-3269-4727-9be2-8c3a10f19b9d");
pub const GROUPS_ADMINISTRATOR: Uuid = uuid::uuid!("fdd7a751-b60b-444a-984c-02652fe8fa1c");
pub const APPLICATION_ADMINISTRATOR: Uuid = uuid::uuid!("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3");
pub const CLOUD_APPLICATION_ADMINISTRATOR: Uuid = uuid::uuid!("158c047a-c907-4556-b7ef-446551a6b5f7");
pub const DIRECTORY_WRITERS: Uuid = uuid::uuid!("9360feb5-f418-4baa-8175-e2a00bac4301");
pub const DIRECTORY_READERS: Uuid = uuid::uuid!("88d8e3e3-8f55-4a1e-953a-9b9898b8876b");
pub const GUEST_INVITER: Uuid = uuid::uuid!("95e79109-95c0-4d8e-aee3-d01accf2d47b");
pub const REPORTS_READER: Uuid = uuid::uuid!("4a5d8f65-41da-4de4-8968-e035b65339cf");
/// Rows of the tables below that Mimic does not offer as assignable roles.
const MESSAGE_CENTER_READER: Uuid = uuid::uuid!("790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b");
const USAGE_SUMMARY_REPORTS_READER: Uuid = uuid::uuid!("75934031-6c7e-415a-99d7-48dbd49e875e");
const USER_EXPERIENCE_SUCCESS_MANAGER: Uuid = uuid::uuid!("27460883-1df1-4691-b032-3b79643e5e63");

pub const DIRECTORY_ROLES: &[DirectoryRoleDefinition] = {
    use DirectoryAction::*;
    &[
        DirectoryRoleDefinition {
            id: GLOBAL_ADMINISTRATOR,
            display_name: "Global Administrator",
            description: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
            grants: &[Read, CreateUsers, UpdateUsers, ResetPassword, SensitiveUserAction, ManageGroups, ManageRoleAssignableGroups, ManageApplications, ManageRoles],
        },
        DirectoryRoleDefinition {
            id: PRIVILEGED_ROLE_ADMINISTRATOR,
            display_name: "Privileged Role Administrator",
            description: "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
            grants: &[Read, ManageRoles, ManageRoleAssignableGroups],
        },
        DirectoryRoleDefinition {
            id: PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
            display_name: "Privileged Authentication Administrator",
            description: "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
            grants: &[Read, UpdateUsers, ResetPassword, SensitiveUserAction],
        },
        DirectoryRoleDefinition {
            id: AUTHENTICATION_ADMINISTRATOR,
            display_name: "Authentication Administrator",
            description: "Can access to view, set and reset authentication method information for any non-admin user.",
            grants: &[Read, UpdateUsers, ResetPassword, SensitiveUserAction],
        },
        DirectoryRoleDefinition {
            id: USER_ADMINISTRATOR,
            display_name: "User Administrator",
            description: "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
            grants: &[Read, CreateUsers, UpdateUsers, ResetPassword, SensitiveUserAction, ManageGroups],
        },
        DirectoryRoleDefinition {
            id: HELPDESK_ADMINISTRATOR,
            display_name: "Helpdesk Administrator",
            description: "Can reset passwords for non-administrators and Helpdesk Administrators.",
            grants: &[Read, ResetPassword],
        },
        DirectoryRoleDefinition {
            id: PASSWORD_ADMINISTRATOR,
            display_name: "Password Administrator",
            description: "Can reset passwords for non-administrators and Password Administrators.",
            grants: &[Read, ResetPassword],
        },
        DirectoryRoleDefinition {
            id: GROUPS_ADMINISTRATOR,
            display_name: "Groups Administrator",
            description: "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
            grants: &[Read, ManageGroups],
        },
        DirectoryRoleDefinition {
            id: APPLICATION_ADMINISTRATOR,
            display_name: "Application Administrator",
            description: "Can create and manage all aspects of app registrations and enterprise apps.",
            grants: &[Read, ManageApplications],
        },
        DirectoryRoleDefinition {
            id: CLOUD_APPLICATION_ADMINISTRATOR,
            display_name: "Cloud Application Administrator",
            description: "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
            grants: &[Read, ManageApplications],
        },
        DirectoryRoleDefinition {
            id: DIRECTORY_WRITERS,
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
        DirectoryRoleDefinition {
            id: GUEST_INVITER,
            display_name: "Guest Inviter",
            description: "Can invite guest users independent of the 'members can invite guests' setting.",
            grants: &[Read],
        },
        DirectoryRoleDefinition {
            id: REPORTS_READER,
            display_name: "Reports Reader",
            description: "Can read sign-in and audit reports.",
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

/// The directory roles held in one tenant, stored as one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRoleAssignments {
    #[serde(default)]
    pub assignments: Vec<DirectoryRoleAssignment>,
}

/// Whether a principal may perform `action` in the directory. Entra's defaults: member users
/// read the directory ("default user permissions"); applications and managed identities read
/// nothing without a role or a Graph application permission; everything else comes from
/// directory roles. (Mimic's tenants behave as if "Users can register applications" and "Users
/// can create security groups" are set to No, and Graph application permissions are not
/// modelled: a directory role is how an application gets directory access.)
///
/// For actions on a user whose limits depend on the target, use `directory_allows_on_user`.
pub fn directory_allows(is_user: bool, roles: &[Uuid], action: DirectoryAction) -> bool {
    if action == DirectoryAction::Read && is_user {
        return true;
    }
    roles.iter().filter_map(|r| directory_role(*r)).any(|r| r.grants.contains(&action))
}

/// Whether Microsoft Graph application permissions (the `roles` of an app-only token for Graph,
/// granted as app role assignments on Microsoft Graph's service principal) allow `action` on
/// the entity set `collection` names (`users`, `groups`, `applications`, `servicePrincipals`,
/// ...). From each API's "Permissions" table in Graph's reference (learn.microsoft.com/graph/api,
/// e.g. "Create application — Application: Application.ReadWrite.OwnedBy,
/// Application.ReadWrite.All"; "List users — Application: User.Read.All, ... Directory.Read.All")
/// and learn.microsoft.com/graph/permissions-reference. Reads by an object type's permission
/// reach that type only; `Directory.Read.All` reads everything.
pub fn app_permissions_allow(granted: &[&str], action: DirectoryAction, collection: &str) -> bool {
    use DirectoryAction::*;
    let c = collection.to_ascii_lowercase();
    let read_own: &[&str] = match c.as_str() {
        "users" => &["User.Read.All", "User.ReadWrite.All"],
        "groups" => &["Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All"],
        "applications" | "serviceprincipals" => &["Application.Read.All", "Application.ReadWrite.All"],
        "directoryroles" | "rolemanagement" => &["RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"],
        _ => &[],
    };
    let needed: &[&str] = match action {
        Read => &["Directory.Read.All", "Directory.ReadWrite.All"],
        CreateUsers | UpdateUsers | SensitiveUserAction => &["User.ReadWrite.All", "Directory.ReadWrite.All"],
        ResetPassword => &["User-PasswordProfile.ReadWrite.All"],
        ManageGroups => &["Group.ReadWrite.All", "Directory.ReadWrite.All"],
        ManageRoleAssignableGroups | ManageRoles => &["RoleManagement.ReadWrite.Directory"],
        ManageApplications => &["Application.ReadWrite.All"],
    };
    let extra: &[&str] = if action == Read { read_own } else { &[] };
    granted.iter().any(|g| needed.iter().chain(extra).any(|n| n.eq_ignore_ascii_case(g)))
}

/// The user an action is performed upon, as the tables below see it: the directory roles it
/// holds (directly and through role-assignable groups) and whether it is a member of a
/// role-assignable group.
#[derive(Debug, Clone, Copy)]
pub struct UserTarget<'a> {
    pub roles: &'a [Uuid],
    pub in_role_assignable_group: bool,
}

/// One of Entra's tables of which administrators may act on which users
/// (learn.microsoft.com/entra/identity/role-based-access-control/privileged-roles-permissions,
/// "Who can reset passwords" and "Who can perform sensitive actions"; the same tables are in
/// Graph's "Working with users" resource page). `columns` are the roles that may act at all;
/// each row names, for a role the target holds, the columns allowed to act on it.
pub struct TargetTable {
    pub columns: &'static [Uuid],
    /// Rows by the target's role. A target with no role is the row "User (no admin role)":
    /// every column.
    pub rows: &'static [(Uuid, &'static [Uuid])],
    /// "User (no admin role, but member or owner of a role-assignable group)".
    pub role_assignable_member: &'static [Uuid],
    /// "All other built-in and custom roles".
    pub other: &'static [Uuid],
}

const PAA: Uuid = PRIVILEGED_AUTHENTICATION_ADMINISTRATOR;
const GA: Uuid = GLOBAL_ADMINISTRATOR;
const TOP: &[Uuid] = &[PAA, GA];

/// "Who can reset passwords": columns Password, Helpdesk, Authentication, User, Privileged
/// Authentication and Global Administrator.
pub const PASSWORD_RESET: TargetTable = {
    const ALL: &[Uuid] = &[PASSWORD_ADMINISTRATOR, HELPDESK_ADMINISTRATOR, AUTHENTICATION_ADMINISTRATOR, USER_ADMINISTRATOR, PAA, GA];
    const READERS: &[Uuid] = &[HELPDESK_ADMINISTRATOR, AUTHENTICATION_ADMINISTRATOR, USER_ADMINISTRATOR, PAA, GA];
    TargetTable {
        columns: ALL,
        rows: &[
            (AUTHENTICATION_ADMINISTRATOR, &[AUTHENTICATION_ADMINISTRATOR, PAA, GA]),
            (DIRECTORY_READERS, ALL),
            (GLOBAL_ADMINISTRATOR, TOP),
            (GROUPS_ADMINISTRATOR, &[USER_ADMINISTRATOR, PAA, GA]),
            (GUEST_INVITER, ALL),
            (HELPDESK_ADMINISTRATOR, &[HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR, PAA, GA]),
            (MESSAGE_CENTER_READER, READERS),
            (PASSWORD_ADMINISTRATOR, ALL),
            (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, TOP),
            (PRIVILEGED_ROLE_ADMINISTRATOR, TOP),
            (REPORTS_READER, READERS),
            (USER_ADMINISTRATOR, &[USER_ADMINISTRATOR, PAA, GA]),
            (USER_EXPERIENCE_SUCCESS_MANAGER, READERS),
            (USAGE_SUMMARY_REPORTS_READER, READERS),
        ],
        role_assignable_member: TOP,
        other: TOP,
    }
};

/// "Who can perform sensitive actions" (`accountEnabled`, `userPrincipalName`, ..., delete):
/// columns Authentication, User, Privileged Authentication and Global Administrator.
pub const SENSITIVE_ACTIONS: TargetTable = {
    const ALL: &[Uuid] = &[AUTHENTICATION_ADMINISTRATOR, USER_ADMINISTRATOR, PAA, GA];
    TargetTable {
        columns: ALL,
        rows: &[
            (AUTHENTICATION_ADMINISTRATOR, &[AUTHENTICATION_ADMINISTRATOR, PAA, GA]),
            (DIRECTORY_READERS, ALL),
            (GLOBAL_ADMINISTRATOR, TOP),
            (GROUPS_ADMINISTRATOR, &[USER_ADMINISTRATOR, PAA, GA]),
            (GUEST_INVITER, ALL),
            (HELPDESK_ADMINISTRATOR, &[USER_ADMINISTRATOR, PAA, GA]),
            (MESSAGE_CENTER_READER, ALL),
            (PASSWORD_ADMINISTRATOR, ALL),
            (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, TOP),
            (PRIVILEGED_ROLE_ADMINISTRATOR, TOP),
            (REPORTS_READER, ALL),
            (USER_ADMINISTRATOR, &[USER_ADMINISTRATOR, PAA, GA]),
            (USER_EXPERIENCE_SUCCESS_MANAGER, ALL),
            (USAGE_SUMMARY_REPORTS_READER, ALL),
        ],
        role_assignable_member: TOP,
        other: TOP,
    }
};

impl TargetTable {
    /// Whether an actor holding `actor_roles` may act on `target`: one of the actor's roles is a
    /// column every row of the target allows.
    pub fn allows(&self, actor_roles: &[Uuid], target: &UserTarget) -> bool {
        let mut rows: Vec<&[Uuid]> =
            target.roles.iter().map(|r| self.rows.iter().find(|(t, _)| t == r).map(|(_, a)| *a).unwrap_or(self.other)).collect();
        if target.in_role_assignable_group {
            rows.push(self.role_assignable_member);
        }
        actor_roles.iter().any(|a| self.columns.contains(a) && rows.iter().all(|row| row.contains(a)))
    }
}

/// `directory_allows` for an action on one user: password resets and the sensitive actions are
/// bounded by the target's roles as Entra's tables say; other actions do not depend on the target.
pub fn directory_allows_on_user(is_user: bool, actor_roles: &[Uuid], action: DirectoryAction, target: &UserTarget) -> bool {
    match action {
        DirectoryAction::ResetPassword => PASSWORD_RESET.allows(actor_roles, target),
        DirectoryAction::SensitiveUserAction => SENSITIVE_ACTIONS.allows(actor_roles, target),
        _ => directory_allows(is_user, actor_roles, action),
    }
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
        for a in [
            Read,
            CreateUsers,
            UpdateUsers,
            ResetPassword,
            SensitiveUserAction,
            ManageGroups,
            ManageRoleAssignableGroups,
            ManageApplications,
            ManageRoles,
        ] {
            assert!(directory_allows(false, &[GLOBAL_ADMINISTRATOR], a));
        }
        assert!(!directory_allows(false, &[Uuid::new_v4()], Read));
        assert!(!directory_allows(true, &[USER_ADMINISTRATOR], ManageRoles));
        assert!(!directory_allows(true, &[USER_ADMINISTRATOR, GROUPS_ADMINISTRATOR], ManageRoleAssignableGroups));
        assert!(directory_allows(true, &[PRIVILEGED_ROLE_ADMINISTRATOR], ManageRoleAssignableGroups));
    }

    /// The tables' columns are exactly the roles that grant the action: one truth.
    #[test]
    fn table_columns_are_the_granting_roles() {
        for (table, action) in
            [(&PASSWORD_RESET, DirectoryAction::ResetPassword), (&SENSITIVE_ACTIONS, DirectoryAction::SensitiveUserAction)]
        {
            let granting: Vec<Uuid> = DIRECTORY_ROLES.iter().filter(|r| r.grants.contains(&action)).map(|r| r.id).collect();
            let mut cols = table.columns.to_vec();
            cols.sort();
            let mut g = granting.clone();
            g.sort();
            assert_eq!(cols, g, "{action:?}");
            for (_, allowed) in table.rows {
                assert!(allowed.iter().all(|a| table.columns.contains(a)));
            }
        }
    }

    #[test]
    fn who_can_reset_passwords() {
        use DirectoryAction::ResetPassword as R;
        let t = |roles: &'static [Uuid]| UserTarget { roles, in_role_assignable_group: false };
        let plain = t(&[]);
        for actor in [PASSWORD_ADMINISTRATOR, HELPDESK_ADMINISTRATOR, AUTHENTICATION_ADMINISTRATOR, USER_ADMINISTRATOR, PAA, GA] {
            assert!(directory_allows_on_user(true, &[actor], R, &plain), "{actor} resets a user without roles");
            assert!(directory_allows_on_user(true, &[actor], R, &t(&[DIRECTORY_READERS])));
        }
        for actor in [GROUPS_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, DIRECTORY_WRITERS] {
            assert!(!directory_allows_on_user(true, &[actor], R, &plain), "{actor} resets no one");
        }
        let ga = t(&[GLOBAL_ADMINISTRATOR]);
        assert!(!directory_allows_on_user(true, &[USER_ADMINISTRATOR], R, &ga));
        assert!(!directory_allows_on_user(true, &[HELPDESK_ADMINISTRATOR], R, &ga));
        assert!(!directory_allows_on_user(true, &[AUTHENTICATION_ADMINISTRATOR], R, &ga));
        assert!(directory_allows_on_user(true, &[PAA], R, &ga));
        assert!(directory_allows_on_user(true, &[GA], R, &ga));
        // Helpdesk: Helpdesk and Reports Reader yes, User Administrator and Authentication Administrator no.
        assert!(directory_allows_on_user(true, &[HELPDESK_ADMINISTRATOR], R, &t(&[HELPDESK_ADMINISTRATOR])));
        assert!(directory_allows_on_user(true, &[HELPDESK_ADMINISTRATOR], R, &t(&[REPORTS_READER])));
        assert!(!directory_allows_on_user(true, &[HELPDESK_ADMINISTRATOR], R, &t(&[USER_ADMINISTRATOR])));
        assert!(!directory_allows_on_user(true, &[HELPDESK_ADMINISTRATOR], R, &t(&[AUTHENTICATION_ADMINISTRATOR])));
        assert!(!directory_allows_on_user(true, &[PASSWORD_ADMINISTRATOR], R, &t(&[HELPDESK_ADMINISTRATOR])));
        // Every role the target holds must allow the actor; "all other roles": PAA and GA only.
        assert!(!directory_allows_on_user(true, &[USER_ADMINISTRATOR], R, &t(&[DIRECTORY_READERS, APPLICATION_ADMINISTRATOR])));
        assert!(directory_allows_on_user(true, &[PAA], R, &t(&[APPLICATION_ADMINISTRATOR])));
        let member = UserTarget { roles: &[], in_role_assignable_group: true };
        assert!(!directory_allows_on_user(true, &[USER_ADMINISTRATOR], R, &member));
        assert!(directory_allows_on_user(true, &[PAA], R, &member));
    }

    #[test]
    fn who_can_perform_sensitive_actions() {
        use DirectoryAction::SensitiveUserAction as S;
        let t = |roles: &'static [Uuid]| UserTarget { roles, in_role_assignable_group: false };
        assert!(directory_allows_on_user(true, &[USER_ADMINISTRATOR], S, &t(&[])));
        assert!(!directory_allows_on_user(true, &[HELPDESK_ADMINISTRATOR], S, &t(&[])), "Helpdesk resets passwords only");
        assert!(!directory_allows_on_user(true, &[PASSWORD_ADMINISTRATOR], S, &t(&[])));
        assert!(!directory_allows_on_user(true, &[USER_ADMINISTRATOR], S, &t(&[GLOBAL_ADMINISTRATOR])));
        assert!(!directory_allows_on_user(true, &[USER_ADMINISTRATOR], S, &t(&[PRIVILEGED_ROLE_ADMINISTRATOR])));
        assert!(directory_allows_on_user(true, &[USER_ADMINISTRATOR], S, &t(&[HELPDESK_ADMINISTRATOR])));
        assert!(!directory_allows_on_user(true, &[AUTHENTICATION_ADMINISTRATOR], S, &t(&[HELPDESK_ADMINISTRATOR])));
        assert!(directory_allows_on_user(true, &[AUTHENTICATION_ADMINISTRATOR], S, &t(&[REPORTS_READER])));
        assert!(directory_allows_on_user(true, &[PAA], S, &t(&[GLOBAL_ADMINISTRATOR])));
    }

    #[test]
    fn password_complexity() {
        assert!(password_meets_complexity("Str0ng!Passw0rd"));
        assert!(password_meets_complexity("abcDEF123"));
        assert!(!password_meets_complexity("weak"));
        assert!(!password_meets_complexity("alllowercase1"));
    }
}
