//! First start (docs/ARCHITECTURE.md "Contract"): one tenant, one subscription, an administrator user and a
//! bootstrap service principal, both Owner of the subscription (as the account that creates a
//! subscription is), with random secrets written once to `DATA_DIR/bootstrap.json` (0600).

use std::path::Path;

use anyhow::Context;

use chrono::Utc;
use mimic_domain::directory::{self, DirectoryObject, Subscription, Tenant, User};
use mimic_domain::rbac::{ids, RoleAssignment};
use mimic_domain::{resource_id, secrets};
use mimic_store::Store;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bootstrap {
    pub tenant_id: Uuid,
    pub subscription_id: Uuid,
    pub admin: AdminUser,
    pub service_principal: BootstrapPrincipal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    pub user_name: String,
    pub password: String,
    pub object_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapPrincipal {
    pub client_id: Uuid,
    pub client_secret: String,
    pub object_id: Uuid,
}

const BOOTSTRAPPED: &str = "bootstrap.tenant";

const BOOTSTRAP_SUBSCRIPTION: &str = "bootstrap.subscription";

/// The default tenant and subscription of a store already bootstrapped.
fn existing(tx: &mut dyn mimic_store::Tx) -> mimic_store::Result<Option<(String, String)>> {
    match tx.meta(BOOTSTRAPPED)? {
        Some(t) => Ok(Some((t, tx.meta(BOOTSTRAP_SUBSCRIPTION)?.unwrap_or_default()))),
        None => Ok(None),
    }
}

fn parse_ids((t, s): (String, String)) -> anyhow::Result<(Uuid, Uuid)> {
    Ok((t.parse().context("stored bootstrap tenant")?, s.parse().context("stored bootstrap subscription")?))
}

/// A tenant with its first subscription, an administrator user and a service principal, both
/// Owner of the subscription (as the account that creates a subscription is) and Global
/// Administrators of the directory; built in memory, then written by [`NewTenant::write`]. The
/// first start makes the home tenant this way, `POST /mimic/tenants` (`mimic admin tenant
/// create`) every other one.
pub struct NewTenant {
    tenant: Tenant,
    subscription: Subscription,
    admin: User,
    app: directory::Application,
    sp: directory::ServicePrincipal,
    now: chrono::DateTime<Utc>,
    /// What the caller is shown once: the ids and the secrets.
    pub secrets: Bootstrap,
}

impl NewTenant {
    pub fn new(tenant: Option<Uuid>, subscription: Option<Uuid>, display_name: &str) -> Self {
        let now = Utc::now();
        let tenant_id = tenant.unwrap_or_else(Uuid::new_v4);
        let subscription_id = subscription.unwrap_or_else(Uuid::new_v4);
        let domain = format!("mimic{}.onmicrosoft.com", &tenant_id.simple().to_string()[..8]);
        let password = secrets::generate_password();
        let admin = User {
            id: Uuid::new_v4(),
            tenant_id,
            user_principal_name: format!("admin@{domain}"),
            display_name: "Mimic Administrator".into(),
            password_hash: secrets::hash_password(&password),
            account_enabled: true,
            created: now,
        };
        let (mut app, sp) = directory::new_application_with_principal(tenant_id, "mimic-bootstrap", now);
        let (cred, client_secret) = directory::new_password_credential(Some("bootstrap".into()), now, 2);
        app.password_credentials.push(cred);
        let secrets = Bootstrap {
            tenant_id,
            subscription_id,
            admin: AdminUser { user_name: admin.user_principal_name.clone(), password, object_id: admin.id },
            service_principal: BootstrapPrincipal { client_id: app.app_id, client_secret, object_id: sp.id },
        };
        NewTenant {
            tenant: Tenant { id: tenant_id, display_name: display_name.into(), default_domain: domain, created: now },
            subscription: Subscription {
                id: subscription_id,
                tenant_id,
                display_name: format!("{display_name} Subscription"),
                state: "Enabled".into(),
            },
            admin,
            app,
            sp,
            now,
            secrets,
        }
    }

    pub fn domain(&self) -> &str {
        &self.tenant.default_domain
    }

    /// Writes every record; the caller's transaction decides whether ids already taken refuse it.
    pub fn write(&self, tx: &mut dyn mimic_store::Tx) -> anyhow::Result<()> {
        let owner = |principal: Uuid, principal_type: &str| RoleAssignment {
            name: Uuid::new_v4(),
            scope: resource_id::subscription_scope(&self.subscription.id.to_string()),
            role_definition_id: ids::OWNER,
            principal_id: principal,
            principal_type: principal_type.into(),
            description: None,
            condition: None,
            condition_version: None,
            created_on: self.now,
            updated_on: self.now,
            created_by: None,
            updated_by: None,
        };
        let tenant_id = self.tenant.id;
        tx.put_tenant(&self.tenant)?;
        tx.put_subscription(&self.subscription)?;
        tx.put_role_assignment(&owner(self.admin.id, "User"))?;
        tx.put_role_assignment(&owner(self.sp.id, "ServicePrincipal"))?;
        tx.put_directory_object(&DirectoryObject::User(self.admin.clone()))?;
        tx.put_directory_object(&DirectoryObject::Application(self.app.clone()))?;
        tx.put_directory_object(&DirectoryObject::ServicePrincipal(self.sp.clone()))?;
        for sp in mimic_domain::directory::first_party_principals(tenant_id, self.now) {
            tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
        }
        // Both run the directory too: Global Administrator (Graph's authorization, directory/roles.rs).
        crate::directory::roles::assign(tx, tenant_id, self.admin.id, directory::GLOBAL_ADMINISTRATOR)?;
        crate::directory::roles::assign(tx, tenant_id, self.sp.id, directory::GLOBAL_ADMINISTRATOR)?;
        Ok(())
    }
}

/// Gives every tenant of a store made before they existed the first-party APIs' principals.
fn add_first_party_principals(tx: &mut dyn mimic_store::Tx) -> mimic_store::Result<()> {
    let now = chrono::Utc::now();
    for tenant in tx.tenants()? {
        for sp in mimic_domain::directory::first_party_principals(tenant.id, now) {
            if tx.directory_object_by_app_id(tenant.id, "servicePrincipal", sp.app_id)?.is_none() {
                tx.put_directory_object(&DirectoryObject::ServicePrincipal(sp))?;
            }
        }
    }
    Ok(())
}

/// Creates the first tenant unless the store already has one. Returns the default tenant and
/// subscription ids, and the secrets only when they were just created. Replicas starting
/// together over one store create it once: the check and the creation are one (serializable)
/// transaction, and a replica that loses removes the secrets file it wrote.
pub fn ensure(
    store: &Store,
    data_dir: &Path,
    tenant: Option<Uuid>,
    subscription: Option<Uuid>,
) -> anyhow::Result<(Uuid, Uuid, Option<Bootstrap>)> {
    if let Some(ids) = store.read(existing)? {
        let (t, s) = parse_ids(ids)?;
        store.write(add_first_party_principals)?;
        return Ok((t, s, None));
    }
    let new = NewTenant::new(tenant, subscription, "Mimic");
    let boot = new.secrets.clone();
    // The secrets file first: if we crash before the commit, the next start redoes both.
    let secrets_path = data_dir.join("bootstrap.json");
    crate::data_dir::write_private(&secrets_path, serde_json::to_string_pretty(&boot)?.as_bytes())?;
    let winner = store.write(|tx| {
        if let Some(ids) = existing(tx)? {
            return Ok(Some(ids)); // another replica bootstrapped first
        }
        new.write(tx)?;
        tx.put_meta(BOOTSTRAP_SUBSCRIPTION, &boot.subscription_id.to_string())?;
        tx.put_meta(BOOTSTRAPPED, &boot.tenant_id.to_string())?;
        Ok::<_, anyhow::Error>(None)
    })?;
    if let Some(ids) = winner {
        let _ = std::fs::remove_file(&secrets_path);
        let (t, s) = parse_ids(ids)?;
        return Ok((t, s, None));
    }
    Ok((boot.tenant_id, boot.subscription_id, Some(boot)))
}
