//! Directory objects as Graph renders them: domain types in, `mimic_wire::graph` JSON out, and
//! the entity types (`microsoft.graph.user`, ...) that `$filter` and `$select` check against.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use mimic_domain::certificate::KeyCredential;
use mimic_domain::directory::{
    self, Application, DirectoryObject, Group, PasswordCredential, ServicePrincipal, ServicePrincipalType, Tenant, User,
};
use mimic_wire::graph as wire;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::odata::EntityType;

/// The tenant of Microsoft's first-party managed-identity applications: managed identities'
/// service principals carry it as `appOwnerOrganizationId` (docs/azure-behaviour.md §7).
const MANAGED_IDENTITY_OWNER_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn to_map<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v).expect("wire types serialize") {
        Value::Object(m) => m,
        _ => unreachable!("wire types are objects"),
    }
}

/// Graph lists credentials newest first.
pub fn render_passwords(list: &[PasswordCredential]) -> Vec<wire::PasswordCredential> {
    list.iter().rev().map(|c| password_credential(c, None)).collect()
}

pub fn render_keys(list: &[KeyCredential]) -> Vec<wire::KeyCredential> {
    list.iter().rev().map(|c| key_credential(c, false)).collect()
}

pub fn password_credential(c: &PasswordCredential, secret: Option<String>) -> wire::PasswordCredential {
    wire::PasswordCredential {
        custom_key_identifier: None,
        display_name: c.display_name.clone(),
        end_date_time: time(c.end),
        hint: Some(c.hint.clone()),
        key_id: c.key_id.to_string(),
        secret_text: secret,
        start_date_time: time(c.start),
    }
}

/// How Graph renders a credential; `key` only in `addKey`'s answer.
pub fn key_credential(c: &KeyCredential, with_key: bool) -> wire::KeyCredential {
    wire::KeyCredential {
        custom_key_identifier: c.custom_key_identifier.clone(),
        display_name: c.display_name.clone(),
        end_date_time: time(c.end),
        key: with_key.then(|| c.key.clone()),
        key_id: c.key_id.to_string(),
        start_date_time: time(c.start),
        key_type: mimic_domain::certificate::KEY_TYPE,
        usage: mimic_domain::certificate::KEY_USAGE,
    }
}

pub fn mail_nickname(upn: &str) -> String {
    upn.split('@').next().unwrap_or(upn).to_string()
}

pub fn user(u: &User) -> Map<String, Value> {
    to_map(&wire::User {
        odata_type: wire::USER_TYPE,
        id: u.id.to_string(),
        deleted_date_time: None,
        account_enabled: u.account_enabled,
        business_phones: vec![],
        city: None,
        company_name: None,
        country: None,
        created_date_time: time(u.created),
        creation_type: None,
        department: None,
        display_name: u.display_name.clone(),
        employee_id: None,
        given_name: None,
        job_title: None,
        mail: None,
        mail_nickname: mail_nickname(&u.user_principal_name),
        mobile_phone: None,
        office_location: None,
        on_premises_immutable_id: None,
        on_premises_sync_enabled: None,
        preferred_language: None,
        surname: None,
        usage_location: None,
        user_principal_name: u.user_principal_name.clone(),
        user_type: "Member",
    })
}

/// Entra's security identifier of a cloud group: `S-1-12-1-` and the object id's four
/// little-endian 32-bit words.
fn security_identifier(id: Uuid) -> String {
    let b = id.to_bytes_le();
    let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    format!("S-1-12-1-{}-{}-{}-{}", w(0), w(4), w(8), w(12))
}

pub fn group(g: &Group) -> Map<String, Value> {
    to_map(&wire::Group {
        odata_type: wire::GROUP_TYPE,
        id: g.id.to_string(),
        deleted_date_time: None,
        classification: None,
        created_date_time: time(g.created),
        creation_options: vec![],
        description: g.description.clone(),
        display_name: g.display_name.clone(),
        expiration_date_time: None,
        group_types: vec![],
        is_assignable_to_role: g.is_assignable_to_role.then_some(true),
        mail: None,
        mail_enabled: false,
        mail_nickname: g.mail_nickname.clone(),
        membership_rule: None,
        membership_rule_processing_state: None,
        on_premises_sync_enabled: None,
        preferred_data_location: None,
        preferred_language: None,
        proxy_addresses: vec![],
        renewed_date_time: time(g.created),
        resource_behavior_options: vec![],
        resource_provisioning_options: vec![],
        security_enabled: g.security_enabled,
        security_identifier: security_identifier(g.id),
        theme: None,
        visibility: None,
    })
}

pub fn application(a: &Application, tenant: &Tenant) -> Map<String, Value> {
    let mut out = to_map(&wire::Application {
        odata_type: wire::APPLICATION_TYPE,
        id: a.id.to_string(),
        deleted_date_time: None,
        app_id: a.app_id.to_string(),
        application_template_id: None,
        created_date_time: time(a.created),
        description: None,
        display_name: a.display_name.clone(),
        group_membership_claims: None,
        identifier_uris: a.identifier_uris.clone(),
        is_device_only_auth_supported: None,
        is_fallback_public_client: a.is_fallback_public_client.then_some(true),
        notes: None,
        publisher_domain: tenant.default_domain.clone(),
        service_management_reference: None,
        sign_in_audience: "AzureADMyOrg",
        tags: vec![],
        token_encryption_key_id: None,
        api: json!({"acceptMappedClaims": null, "knownClientApplications": [], "requestedAccessTokenVersion": null, "oauth2PermissionScopes": [], "preAuthorizedApplications": []}),
        app_roles: vec![],
        info: json!({"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null}),
        key_credentials: render_keys(&a.key_credentials),
        optional_claims: None,
        password_credentials: render_passwords(&a.password_credentials),
        public_client: json!({"redirectUris": a.public_client_redirect_uris}),
        required_resource_access: vec![],
        web: json!({"homePageUrl": null, "logoutUrl": null, "redirectUris": a.web_redirect_uris, "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}, "redirectUriSettings": []}),
        spa: json!({"redirectUris": a.spa_redirect_uris}),
    });
    super::application_properties::render(a, &mut out);
    out
}

/// `app_display_name`: the application's name for application principals.
pub fn service_principal(sp: &ServicePrincipal, tenant: &Tenant) -> Map<String, Value> {
    let mi = sp.service_principal_type == ServicePrincipalType::ManagedIdentity;
    let api = mimic_domain::first_party_apis::by_app_id(sp.app_id);
    let owner = match (mi, api) {
        (true, _) => MANAGED_IDENTITY_OWNER_TENANT.to_string(),
        (_, Some(_)) => mimic_domain::first_party_apis::MICROSOFT_TENANT.to_string(),
        _ => tenant.id.to_string(),
    };
    to_map(&wire::ServicePrincipal {
        odata_type: wire::SERVICE_PRINCIPAL_TYPE,
        id: sp.id.to_string(),
        deleted_date_time: None,
        account_enabled: sp.account_enabled,
        alternative_names: sp.alternative_names.clone(),
        app_description: None,
        app_display_name: if mi { None } else { Some(sp.display_name.clone()) },
        app_id: sp.app_id.to_string(),
        application_template_id: None,
        app_owner_organization_id: Some(owner),
        app_role_assignment_required: false,
        created_date_time: time(sp.created),
        description: None,
        disabled_by_microsoft_status: None,
        display_name: sp.display_name.clone(),
        homepage: None,
        login_url: None,
        logout_url: None,
        notes: None,
        notification_email_addresses: vec![],
        preferred_single_sign_on_mode: None,
        preferred_token_signing_key_thumbprint: None,
        reply_urls: vec![],
        service_principal_names: sp.service_principal_names.clone(),
        service_principal_type: sp.service_principal_type.as_str(),
        sign_in_audience: if mi { None } else { Some("AzureADMyOrg") },
        tags: vec![],
        token_encryption_key_id: None,
        info: json!({"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null}),
        saml_single_sign_on_settings: None,
        verified_publisher: json!({"displayName": null, "verifiedPublisherId": null, "addedDateTime": null}),
        add_ins: vec![],
        app_roles: api.map(|a| a.app_roles.iter().map(|p| permission(p, "Application")).collect()).unwrap_or_default(),
        key_credentials: render_keys(&sp.key_credentials),
        oauth2_permission_scopes: api.map(|a| a.scopes.iter().map(|p| permission(p, "Scope")).collect()).unwrap_or_default(),
        password_credentials: render_passwords(&sp.password_credentials),
        resource_specific_application_permissions: vec![],
    })
}

/// A first-party API's published permission as Graph shows it: an `appRole` (`Application`) or
/// an `oauth2PermissionScope` (`Scope`).
fn permission(p: &mimic_domain::first_party_apis::Permission, kind: &str) -> Value {
    if kind == "Scope" {
        json!({"adminConsentDescription": p.display_name, "adminConsentDisplayName": p.display_name, "id": p.id, "isEnabled": true,
               "type": "Admin", "userConsentDescription": p.display_name, "userConsentDisplayName": p.display_name, "value": p.value})
    } else {
        json!({"allowedMemberTypes": ["Application"], "description": p.display_name, "displayName": p.display_name, "id": p.id,
               "isEnabled": true, "origin": "Application", "value": p.value})
    }
}

pub fn object(o: &DirectoryObject, tenant: &Tenant) -> Map<String, Value> {
    match o {
        DirectoryObject::User(u) => user(u),
        DirectoryObject::Group(g) => group(g),
        DirectoryObject::Application(a) => application(a, tenant),
        DirectoryObject::ServicePrincipal(sp) => service_principal(sp, tenant),
    }
}

/// The properties a `directoryObject` collection (members, memberOf, getByIds) returns for an
/// object without `$select`: users get their default set, the others everything.
pub fn default_projection(o: &DirectoryObject, full: Map<String, Value>) -> Map<String, Value> {
    match o {
        DirectoryObject::User(_) => {
            let mut out = Map::new();
            for (k, v) in full {
                if k == "@odata.type" || wire::USER_DEFAULT_PROPERTIES.contains(&k.as_str()) {
                    out.insert(k, v);
                }
            }
            out
        }
        _ => full,
    }
}

// ---- entity types -----------------------------------------------------------------------

fn keys(m: &Map<String, Value>) -> Vec<String> {
    m.keys().filter(|k| !k.starts_with('@')).cloned().collect()
}

fn sample_tenant() -> Tenant {
    Tenant { id: Uuid::nil(), display_name: String::new(), default_domain: String::new(), created: DateTime::<Utc>::MIN_UTC }
}

pub fn sample_user() -> &'static Map<String, Value> {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    S.get_or_init(|| {
        user(&User {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            user_principal_name: String::new(),
            display_name: String::new(),
            password_hash: String::new(),
            account_enabled: true,
            created: DateTime::<Utc>::MIN_UTC,
        })
    })
}

pub fn sample_group() -> &'static Map<String, Value> {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    S.get_or_init(|| {
        group(&Group {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            display_name: String::new(),
            mail_nickname: String::new(),
            description: None,
            security_enabled: true,
            members: vec![],
            owners: vec![],
            created: DateTime::<Utc>::MIN_UTC,
            is_assignable_to_role: true,
        })
    })
}

pub fn sample_application() -> &'static Map<String, Value> {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    S.get_or_init(|| {
        let (app, _) = directory::new_application_with_principal(Uuid::nil(), "", DateTime::<Utc>::MIN_UTC);
        application(&app, &sample_tenant())
    })
}

pub fn sample_service_principal() -> &'static Map<String, Value> {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    S.get_or_init(|| {
        let (_, sp) = directory::new_application_with_principal(Uuid::nil(), "", DateTime::<Utc>::MIN_UTC);
        service_principal(&sp, &sample_tenant())
    })
}

/// A `directoryObject` collection (members, memberOf, getByIds) holds objects of every type;
/// `$select` and `$filter` there may name any of their properties (the union).
pub fn sample_directory_object() -> &'static Map<String, Value> {
    static S: OnceLock<Map<String, Value>> = OnceLock::new();
    S.get_or_init(|| {
        let mut m = Map::new();
        for s in [sample_user(), sample_group(), sample_application(), sample_service_principal()] {
            for (k, v) in s {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        m
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    User,
    Group,
    Application,
    ServicePrincipal,
    DirectoryObject,
}

impl Kind {
    pub fn sample(self) -> &'static Map<String, Value> {
        match self {
            Kind::User => sample_user(),
            Kind::Group => sample_group(),
            Kind::Application => sample_application(),
            Kind::ServicePrincipal => sample_service_principal(),
            Kind::DirectoryObject => sample_directory_object(),
        }
    }
    pub fn entity_type(self) -> EntityType {
        let name = match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Application => "application",
            Kind::ServicePrincipal => "servicePrincipal",
            Kind::DirectoryObject => "directoryObject",
        };
        EntityType { name, properties: keys(self.sample()) }
    }
    /// The store's kind name.
    pub fn store_kind(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Application => "application",
            Kind::ServicePrincipal => "servicePrincipal",
            Kind::DirectoryObject => "",
        }
    }
    /// The entity set name in `@odata.context`.
    pub fn entity_set(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::Group => "groups",
            Kind::Application => "applications",
            Kind::ServicePrincipal => "servicePrincipals",
            Kind::DirectoryObject => "directoryObjects",
        }
    }
    pub fn of(o: &DirectoryObject) -> Kind {
        match o {
            DirectoryObject::User(_) => Kind::User,
            DirectoryObject::Group(_) => Kind::Group,
            DirectoryObject::Application(_) => Kind::Application,
            DirectoryObject::ServicePrincipal(_) => Kind::ServicePrincipal,
        }
    }
}
