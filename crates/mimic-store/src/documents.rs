//! Every kind of document the store keeps, with the domain type stored under it. A surface
//! reads and writes documents only through these kinds ([`Docs`]): the kind names the row and
//! fixes the type, so no caller builds or picks apart stored JSON, and a kind exists once.
//!
//! The names are the stored form: renaming one orphans what existing stores hold.

use std::marker::PhantomData;

use mimic_domain::authorization_code::AuthorizationCode;
use mimic_domain::compute::VmPower;
use mimic_domain::deployment::{DeploymentIndex, DeploymentRecord, RunningDeployments};
use mimic_domain::directory::{DeletedIndex, DeletedObject, DirectoryRoleAssignments, MemberAppRole, PermissionGrant};
use mimic_domain::federation::hosted::HostedIssuer;
use mimic_domain::keyvault::keys::KeyRecord;
use mimic_domain::keyvault::{DeletedVault, DeletedVaultIndex, ObjectIndex, SecretRecord, VaultName};
use mimic_domain::lock::SubscriptionLocks;
use mimic_domain::network::PublicIpAllocation;
use mimic_domain::operation::AsyncOperation;
use mimic_domain::rbac::custom::CustomRoles;
use mimic_domain::sealed::SealedRecord;
use mimic_domain::storage::blob::Uncommitted;
use mimic_domain::storage::{AccountKeys, AccountName};
use mimic_domain::tags::{PredefinedTags, Tags};
use mimic_domain::token::RefreshGrant;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{DocName, Result, StoreError, Tx};

/// A document kind: its stored name and the type its documents hold. Only this module makes
/// kinds.
pub struct Kind<T> {
    name: &'static str,
    of: PhantomData<fn() -> T>,
}

impl<T> Clone for Kind<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Kind<T> {}

impl<T> Kind<T> {
    const fn new(name: &'static str) -> Self {
        Kind { name, of: PhantomData }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// ARM's finished asynchronous operations, by operation id (kept a day).
pub const ARM_OPERATION: Kind<AsyncOperation> = Kind::new("operation");
/// A VM's power state, by the VM's resource key.
pub const VM_POWER: Kind<VmPower> = Kind::new("compute.vm.power");
/// Public IP addresses in use, by address.
pub const PUBLIC_IP: Kind<PublicIpAllocation> = Kind::new("network.public_ip");
/// Template deployments, by the deployment's resource key.
pub const DEPLOYMENT: Kind<DeploymentRecord> = Kind::new("deployment");
/// The deployments of a scope, by the scope's resource key.
pub const DEPLOYMENT_INDEX: Kind<DeploymentIndex> = Kind::new("deployment.index");
/// Deployments in progress: one document, [`RUNNING_DEPLOYMENTS_ID`].
pub const RUNNING_DEPLOYMENTS: Kind<RunningDeployments> = Kind::new("deployment.running");
pub const RUNNING_DEPLOYMENTS_ID: &str = "all";
/// Directory role assignments, by tenant id.
pub const DIRECTORY_ROLES: Kind<DirectoryRoleAssignments> = Kind::new("directory.roleAssignments");
/// A directory's custom role definitions, by tenant id.
pub const CUSTOM_ROLES: Kind<CustomRoles> = Kind::new("rbac.customRoles");
/// A subscription's management locks, every scope's in one document, by the lower-cased subscription id.
pub const LOCKS: Kind<SubscriptionLocks> = Kind::new("authorization.locks");
/// A subscription's own tags (the Tags API at subscription scope), by the lower-cased subscription id.
pub const SUBSCRIPTION_TAGS: Kind<Tags> = Kind::new("resources.subscriptionTags");
/// A subscription's predefined tag names and values (`tagNames`), by the lower-cased subscription id.
pub const PREDEFINED_TAGS: Kind<PredefinedTags> = Kind::new("resources.tagNames");
/// Key vault names (global, as DNS names are), by the lower-cased name: the live vault.
pub const KEYVAULT_NAME: Kind<VaultName> = Kind::new("keyvault.name");
/// Key Vault secrets with their versions' attributes, by `{vault instance}/{lower-cased name}`.
pub const KEYVAULT_SECRET: Kind<SecretRecord> = Kind::new("keyvault.secret");
/// The secret values, sealed under the master key, by `{vault instance}/{lower-cased name}/{version}`.
pub const KEYVAULT_SECRET_VALUE: Kind<String> = Kind::new("keyvault.secret.value");
/// The secret names of a vault instance, by the instance.
pub const KEYVAULT_SECRET_INDEX: Kind<ObjectIndex> = Kind::new("keyvault.secret.index");
/// Key Vault keys with their versions' public material and attributes, by `{vault instance}/{lower-cased name}`.
pub const KEYVAULT_KEY: Kind<KeyRecord> = Kind::new("keyvault.key");
/// The private keys (PKCS#8), sealed under the master key, by `{vault instance}/{lower-cased name}/{version}`.
pub const KEYVAULT_KEY_MATERIAL: Kind<String> = Kind::new("keyvault.key.material");
/// The key names of a vault instance, by the instance.
pub const KEYVAULT_KEY_INDEX: Kind<ObjectIndex> = Kind::new("keyvault.key.index");
/// Storage account names (global, as DNS names are), by the lower-cased name: the live account.
pub const STORAGE_NAME: Kind<AccountName> = Kind::new("storage.name");
/// A storage account instance's access keys, sealed under the master key, by the instance.
pub const STORAGE_KEYS: Kind<AccountKeys> = Kind::new("storage.keys");
/// A storage account create's async operation, by operation id: the account it made (kept a day).
pub const STORAGE_OPERATION: Kind<AccountName> = Kind::new("storage.operation");
/// A blob's staged, uncommitted blocks, by `{container key}/{blob name}`, kept a week.
pub const STORAGE_UNCOMMITTED: Kind<Uncommitted> = Kind::new("storage.uncommitted");
/// Soft-deleted key vaults (their names stay taken, globally), by the lower-cased name.
pub const KEYVAULT_DELETED: Kind<DeletedVault> = Kind::new("keyvault.deleted");
/// The soft-deleted vaults of a subscription, by the lower-cased subscription id.
pub const KEYVAULT_DELETED_IN: Kind<DeletedVaultIndex> = Kind::new("keyvault.deletedIn");
/// Authorization codes not yet redeemed, by the code's hash.
pub const AUTHORIZATION_CODE: Kind<AuthorizationCode> = Kind::new("authorization_code");
/// Refresh tokens, by the token's hash.
pub const REFRESH_TOKEN: Kind<RefreshGrant> = Kind::new("refresh_token");
/// Portal sessions, sealed under the session cookie, by its locator.
pub const PORTAL_SESSION: Kind<SealedRecord> = Kind::new("portal_session");
/// Portal sign-ins in progress, sealed under their `state`, by its locator.
pub const PORTAL_SIGNIN: Kind<SealedRecord> = Kind::new("portal_signin");

/// Issuers Mimic hosts for tests (`mimic oidc-token`), by name (global: the name is the URL).
pub const OIDC_ISSUER: Kind<HostedIssuer> = Kind::new("federation.issuer");
/// The names of the hosted issuers a tenant owns, by tenant id (bounds them per tenant).
pub const OIDC_ISSUERS_OF: Kind<Vec<String>> = Kind::new("federation.issuers_of");

/// Deleted directory objects (Graph's `deletedItems`), by `{tenant}/{object id}`.
pub const DELETED_DIRECTORY_OBJECT: Kind<DeletedObject> = Kind::new("directory.deleted");
/// A tenant's deleted directory objects (id and deletion time), by tenant id.
pub const DELETED_DIRECTORY_OBJECTS_OF: Kind<DeletedIndex> = Kind::new("directory.deleted_of");

/// A tenant's delegated permission grants (`oauth2PermissionGrants`), by tenant id.
pub const PERMISSION_GRANTS_OF: Kind<Vec<PermissionGrant>> = Kind::new("directory.permission_grants");

/// A tenant's app role assignments to users and groups, by tenant id (service principals keep
/// their own).
pub const MEMBER_APP_ROLES_OF: Kind<Vec<MemberAppRole>> = Kind::new("directory.member_app_roles");

/// Typed access to documents, for any transaction.
pub trait Docs {
    /// The document `id` of `kind`; a stored document that is not a `T` is [`StoreError::Corrupt`].
    fn get<T: DeserializeOwned>(&mut self, kind: Kind<T>, id: &str) -> Result<Option<T>>;
    /// Writes document `id` of `kind`, with an expiry (unix seconds) after which it may be reclaimed.
    fn put<T: Serialize>(&mut self, kind: Kind<T>, id: &str, doc: &T, expires: Option<i64>) -> Result<()>;
    fn remove<T>(&mut self, kind: Kind<T>, id: &str) -> Result<bool>;
    /// Reclaims the documents of `kind` expired at `now`.
    fn remove_expired<T>(&mut self, kind: Kind<T>, now: i64) -> Result<usize>;
}

impl Docs for dyn Tx + '_ {
    fn get<T: DeserializeOwned>(&mut self, kind: Kind<T>, id: &str) -> Result<Option<T>> {
        match self.document(DocName(kind.name), id)? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| StoreError::Corrupt(format!("{} {id}: {e}", kind.name))),
        }
    }

    fn put<T: Serialize>(&mut self, kind: Kind<T>, id: &str, doc: &T, expires: Option<i64>) -> Result<()> {
        let v = serde_json::to_value(doc).map_err(|e| StoreError::Backend(format!("{} {id}: {e}", kind.name)))?;
        self.put_document(DocName(kind.name), id, &v, expires)
    }

    fn remove<T>(&mut self, kind: Kind<T>, id: &str) -> Result<bool> {
        self.delete_document(DocName(kind.name), id)
    }

    fn remove_expired<T>(&mut self, kind: Kind<T>, now: i64) -> Result<usize> {
        self.delete_expired_documents(DocName(kind.name), now)
    }
}
