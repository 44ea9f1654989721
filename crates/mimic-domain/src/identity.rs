//! The `identity` block of a virtual machine (`Microsoft.Compute/virtualMachines`), as Azure's
//! Compute resource provider reads, merges and returns it (docs/azure-behaviour.md §1, §1b), and the name rule
//! of user-assigned identities (docs/azure-behaviour.md §2). Plain functions over plain types: the ARM surface
//! reads the body into `mimic_wire::compute::IdentityWrite` (deserialisation and its Json.NET
//! errors are the wire crate's), [`request`] applies the rules a well-formed block must meet,
//! [`plan`] says what the VM's identities become, the surface does the checks Azure does (linked
//! authorization, identities that must exist) on [`Plan::added`], and stores [`VmIdentity`] in
//! the wire crate's `VirtualMachineIdentity` shape ([`VmIdentity::to_wire`]).
//!
//! Rules, each with its source:
//! * `type` is `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned` or `None`
//!   (spec enum `ResourceIdentityType`); clients also send `userAssigned`,
//!   `SystemAssigned,UserAssigned`, `none` (seeds 002/004), so it is parsed case-insensitively with
//!   whitespace around the comma ignored, and always returned in canonical spelling (az compares
//!   `identity.type` with `"SystemAssigned, UserAssigned"` exactly: docs/azure-behaviour.md §11.6).
//! * api-version 2017-12-01 carries user-assigned identities as `identityIds: [id]`; 2018-06-01
//!   and later as `userAssignedIdentities: {id: {}}` (spec; docs/azure-behaviour.md §1). `identityIds` in a
//!   newer body is refused: "ResourceIdentity property identityIds is deprecated. The
//!   userAssignedIdentities property should be used instead." (InvalidParameter, quoted in
//!   MicrosoftDocs/azure-docs#68377).
//! * PUT replaces the identity; PATCH replaces it too, except that `userAssignedIdentities` is
//!   merged into the current set and `null` removes one identity (seed 004 REST section). A body
//!   without `identity` keeps the current one (docs/azure-behaviour.md §10). With 2017-12-01, `identityIds` is
//!   always the whole list (seed 004: "Retain only the user-assigned managed identity(s) you would
//!   like to keep in the identityIds array").
//! * A type without `UserAssigned` must not name identities: "ResourceIdentity identityIds should
//!   not be provided if the type is "SystemAssigned"." (InvalidParameter, target
//!   `resourceIdentity.identityIds`, Azure/aad-pod-identity#214); a type with `UserAssigned`
//!   must end up with at least one: "The identity ids must not be null or empty for
//!   'UserAssigned' identity type." (`MissingIdentityIds`, the text ARM's identity layer returns,
//!   quoted in hashicorp/terraform-provider-azurerm#17082) — so removing the last one needs the
//!   type changed too, as az does client-side (seed 002; docs/azure-behaviour.md §11.6).
//! * An id that is not a user-assigned identity's resource id: "ResourceIdentity identityId '<id>'
//!   is not a valid reference to a Microsoft.ManagedIdentity identity." (InvalidParameter,
//!   Azure/aad-pod-identity#69).
//! * `identity` without `type`: Json.NET's "Required property 'type' not found in JSON."
//!   (InvalidRequestContent, Azure/azure-powershell#7556); an unknown type string fails
//!   deserialisation the same way [INFERRED].
//! * Enabling the system-assigned identity again while it is on keeps its principal (idempotent);
//!   disabling and re-enabling makes a new one (docs/azure-behaviour.md §1b).

use mimic_wire::compute::{UserAssignedIdentitiesValue, VirtualMachineIdentity};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::imds::AttachedIdentity;
use crate::resource_id::{self, ResourceId};

pub const USER_ASSIGNED_IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// `identity.type` and the per-api-version shapes are wire types; the rules here use them.
pub use mimic_wire::compute::{ApiShape, IdentityWrite, ResourceIdentityType as IdentityType};

/// The user-assigned part of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPart {
    /// No `userAssignedIdentities`/`identityIds`, or `null`, or an empty map or list.
    Absent,
    /// `userAssignedIdentities`: each id as sent, `true` to add or keep, `false` for `null` (remove).
    Map(Vec<(String, bool)>),
    /// `identityIds` (2017-12-01): the whole list.
    List(Vec<String>),
}

/// A parsed `identity` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRequest {
    pub kind: IdentityType,
    pub user: UserPart,
}

/// Azure's answers to an identity block that deserialises but breaks a rule. The ARM surface
/// renders them in its envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// 400 `InvalidParameter` with a target.
    #[error("{message}")]
    InvalidParameter { message: String, target: String },
    /// 400 `MissingIdentityIds`.
    #[error("The identity ids must not be null or empty for '{0}' identity type.")]
    MissingIdentityIds(&'static str),
}

impl IdentityError {
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::InvalidParameter { .. } => "InvalidParameter",
            IdentityError::MissingIdentityIds(_) => "MissingIdentityIds",
        }
    }
}

fn invalid_parameter(message: impl Into<String>, target: &str) -> IdentityError {
    IdentityError::InvalidParameter { message: message.into(), target: target.to_string() }
}

/// Is `id` a user-assigned identity's resource id (any casing)?
pub fn is_user_assigned_identity_id(id: &str) -> bool {
    match ResourceId::parse(id) {
        Ok(p) => {
            p.subscription.is_some()
                && p.resource_group.is_some()
                && p.types.len() == 1
                && p.full_type().is_some_and(|t| t.eq_ignore_ascii_case(USER_ASSIGNED_IDENTITY_TYPE))
        }
        Err(_) => false,
    }
}

fn check_id(id: &str, target: &str) -> Result<(), IdentityError> {
    if is_user_assigned_identity_id(id) {
        Ok(())
    } else {
        Err(invalid_parameter(
            format!("ResourceIdentity identityId '{id}' is not a valid reference to a Microsoft.ManagedIdentity identity."),
            target,
        ))
    }
}

const TARGET_IDS: &str = "resourceIdentity.identityIds";
const TARGET_MAP: &str = "resourceIdentity.userAssignedIdentities";

/// The rules of a deserialised `identity` block (`None` when the body has none: the VM keeps its
/// identities): `identityIds` is refused in 2018-06-01+ bodies, every id must name a
/// user-assigned identity, and an empty map or list names none.
pub fn request(write: Option<IdentityWrite>) -> Result<Option<IdentityRequest>, IdentityError> {
    let Some(write) = write else { return Ok(None) };
    if write.sent_deprecated_identity_ids {
        return Err(invalid_parameter(
            "ResourceIdentity property identityIds is deprecated. The userAssignedIdentities property should be used instead.",
            TARGET_IDS,
        ));
    }
    let user = match (write.user_assigned_identities, write.identity_ids) {
        (Some(map), _) if !map.is_empty() => {
            for (id, _) in &map {
                check_id(id, TARGET_MAP)?;
            }
            UserPart::Map(map)
        }
        (_, Some(list)) if !list.is_empty() => {
            for id in &list {
                check_id(id, TARGET_IDS)?;
            }
            UserPart::List(list)
        }
        _ => UserPart::Absent,
    };
    Ok(Some(IdentityRequest { kind: write.kind, user }))
}

/// The system-assigned identity of a VM: its service principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemIdentity {
    pub principal_id: Uuid,
    pub tenant_id: Uuid,
}

/// A user-assigned identity attached to a VM, with the ids ARM reports for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentity {
    /// The id as it was first attached (its casing is kept).
    pub resource_id: String,
    pub principal_id: Uuid,
    pub client_id: Uuid,
}

/// A VM's identities. Stored on the VM resource as ARM's 2018-06-01+ `identity` object (see
/// [`VmIdentity::to_stored`]), absent when the type is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VmIdentity {
    pub system: Option<SystemIdentity>,
    pub user: Vec<UserIdentity>,
}

impl VmIdentity {
    pub fn kind(&self) -> IdentityType {
        IdentityType::from_parts(self.system.is_some(), !self.user.is_empty())
    }

    pub fn is_none(&self) -> bool {
        self.system.is_none() && self.user.is_empty()
    }

    fn find(&self, id: &str) -> Option<&UserIdentity> {
        let k = resource_id::key(id);
        self.user.iter().find(|u| resource_id::key(&u.resource_id) == k)
    }

    /// The identity block in the shape of an api-version (`None` for type `None`).
    pub fn to_wire(&self, shape: ApiShape) -> Option<VirtualMachineIdentity> {
        if self.is_none() {
            return None;
        }
        let (map, ids) = match (shape, self.user.is_empty()) {
            (_, true) => (None, None),
            (ApiShape::UserAssignedMap, false) => (
                Some(
                    self.user
                        .iter()
                        .map(|u| {
                            let value = UserAssignedIdentitiesValue {
                                principal_id: u.principal_id.to_string(),
                                client_id: u.client_id.to_string(),
                            };
                            (u.resource_id.clone(), value)
                        })
                        .collect(),
                ),
                None,
            ),
            (ApiShape::IdentityIds, false) => (None, Some(self.user.iter().map(|u| u.resource_id.clone()).collect())),
        };
        Some(VirtualMachineIdentity {
            kind: self.kind(),
            principal_id: self.system.map(|s| s.principal_id.to_string()),
            tenant_id: self.system.map(|s| s.tenant_id.to_string()),
            user_assigned_identities: map,
            identity_ids: ids,
        })
    }

    /// The stored form: ARM's own 2018-06-01+ block, so generic listings show it as Azure does.
    pub fn to_stored(&self) -> Option<Value> {
        self.to_wire(ApiShape::UserAssignedMap).and_then(|w| serde_json::to_value(w).ok())
    }

    /// Reads what [`VmIdentity::to_stored`] wrote (anything else reads as no identity).
    pub fn from_stored(v: Option<&Value>) -> Self {
        let Some(w) = v.and_then(|v| VirtualMachineIdentity::deserialize(v).ok()) else { return VmIdentity::default() };
        let uuid = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<Uuid>().ok());
        let system = match (w.kind.has_system(), uuid(&w.principal_id), uuid(&w.tenant_id)) {
            (true, Some(principal_id), Some(tenant_id)) => Some(SystemIdentity { principal_id, tenant_id }),
            _ => None,
        };
        let user = w
            .user_assigned_identities
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(id, v)| {
                let (principal_id, client_id) = (v.principal_id.parse().ok()?, v.client_id.parse().ok()?);
                Some(UserIdentity { resource_id: id, principal_id, client_id })
            })
            .collect();
        VmIdentity { system, user }
    }

    /// What IMDS can serve on this VM: the system-assigned identity (its client id is
    /// the app id of the service principal `system_client_id` names) and each user-assigned one.
    pub fn attached(&self, vm_id: &str, system_client_id: Option<Uuid>) -> Vec<AttachedIdentity> {
        let mut out = Vec::with_capacity(self.user.len() + 1);
        if let (Some(s), Some(c)) = (&self.system, system_client_id) {
            out.push(AttachedIdentity {
                principal_id: s.principal_id.to_string(),
                client_id: c.to_string(),
                resource_id: vm_id.to_string(),
                system_assigned: true,
            });
        }
        for u in &self.user {
            out.push(AttachedIdentity {
                principal_id: u.principal_id.to_string(),
                client_id: u.client_id.to_string(),
                resource_id: u.resource_id.clone(),
                system_assigned: false,
            });
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Put,
    Patch,
}

/// What a request makes of a VM's identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The system-assigned identity is on afterwards.
    pub system: bool,
    /// The user-assigned identities afterwards, in order: ids already attached keep their
    /// stored casing, new ones are as sent.
    pub user: Vec<String>,
    /// User-assigned identities the request attaches that are not attached yet, as sent: these
    /// need linked authorization and must exist (docs/azure-behaviour.md §1b).
    pub added: Vec<String>,
}

impl Plan {
    pub fn kind(&self) -> IdentityType {
        IdentityType::from_parts(self.system, !self.user.is_empty())
    }
    /// The plan that leaves `current` as it is.
    pub fn keep(current: &VmIdentity) -> Self {
        Plan { system: current.system.is_some(), user: current.user.iter().map(|u| u.resource_id.clone()).collect(), added: vec![] }
    }
}

fn push_unique(list: &mut Vec<String>, id: &str) {
    let k = resource_id::key(id);
    if !list.iter().any(|e| resource_id::key(e) == k) {
        list.push(id.to_string());
    }
}

/// Applies a request to the VM's current identities (docs/azure-behaviour.md §1, §1b).
pub fn plan(current: &VmIdentity, req: Option<&IdentityRequest>, method: Method) -> Result<Plan, IdentityError> {
    let Some(req) = req else { return Ok(Plan::keep(current)) };
    let named = match &req.user {
        UserPart::Absent => false,
        UserPart::Map(m) => m.iter().any(|(_, keep)| *keep),
        UserPart::List(l) => !l.is_empty(),
    };
    if !req.kind.has_user() {
        if named {
            let (prop, target) = match req.user {
                UserPart::List(_) => ("identityIds", TARGET_IDS),
                _ => ("userAssignedIdentities", TARGET_MAP),
            };
            return Err(invalid_parameter(
                format!("ResourceIdentity {prop} should not be provided if the type is \"{}\".", req.kind.as_str()),
                target,
            ));
        }
        return Ok(Plan { system: req.kind.has_system(), user: vec![], added: vec![] });
    }
    let mut user: Vec<String> = Vec::new();
    match (&req.user, method) {
        // PATCH merges the map into what is attached; `null` removes one.
        (UserPart::Map(entries), Method::Patch) => {
            user = current.user.iter().map(|u| u.resource_id.clone()).collect();
            for (id, keep) in entries {
                if *keep {
                    if let Some(existing) = current.find(id) {
                        push_unique(&mut user, &existing.resource_id.clone());
                    } else {
                        push_unique(&mut user, id);
                    }
                } else {
                    let k = resource_id::key(id);
                    user.retain(|e| resource_id::key(e) != k);
                }
            }
        }
        (UserPart::Absent, Method::Patch) => user = current.user.iter().map(|u| u.resource_id.clone()).collect(),
        // PUT replaces: the map's non-null entries are the set.
        (UserPart::Map(entries), Method::Put) => {
            for (id, keep) in entries {
                if *keep {
                    push_unique(&mut user, current.find(id).map(|e| e.resource_id.as_str()).unwrap_or(id));
                }
            }
        }
        (UserPart::Absent, Method::Put) => {}
        // identityIds is always the whole list.
        (UserPart::List(ids), _) => {
            for id in ids {
                push_unique(&mut user, current.find(id).map(|e| e.resource_id.as_str()).unwrap_or(id));
            }
        }
    }
    if user.is_empty() {
        return Err(IdentityError::MissingIdentityIds(req.kind.as_str()));
    }
    let added = user.iter().filter(|id| current.find(id).is_none()).cloned().collect();
    Ok(Plan { system: req.kind.has_system(), user, added })
}

/// User-assigned identity names: 3–128 characters, a letter or digit first, then letters,
/// digits, `-` and `_` (seed 004; docs/azure-behaviour.md §1b, §2).
pub fn valid_user_assigned_identity_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=128).contains(&b.len()) && b[0].is_ascii_alphanumeric() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

    fn uai(name: &str) -> String {
        format!("{SUB}/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
    }

    fn attached(system: bool, user: &[&str]) -> VmIdentity {
        VmIdentity {
            system: system.then(|| SystemIdentity { principal_id: Uuid::from_u128(1), tenant_id: Uuid::from_u128(2) }),
            user: user
                .iter()
                .enumerate()
                .map(|(i, n)| UserIdentity {
                    resource_id: uai(n),
                    principal_id: Uuid::from_u128(10 + i as u128),
                    client_id: Uuid::from_u128(20 + i as u128),
                })
                .collect(),
        }
    }

    #[test]
    fn type_spellings() {
        // docs/azure-behaviour.md §1: the spec's four values, plus what the seeds send.
        let cases = [
            ("SystemAssigned", Some(IdentityType::SystemAssigned)),
            ("systemassigned", Some(IdentityType::SystemAssigned)),
            ("UserAssigned", Some(IdentityType::UserAssigned)),
            ("userAssigned", Some(IdentityType::UserAssigned)), // seed 004 templates
            ("SystemAssigned, UserAssigned", Some(IdentityType::SystemAssignedUserAssigned)),
            ("SystemAssigned,UserAssigned", Some(IdentityType::SystemAssignedUserAssigned)), // seed 004 PATCH, az
            (" systemassigned ,  userassigned ", Some(IdentityType::SystemAssignedUserAssigned)),
            ("UserAssigned, SystemAssigned", Some(IdentityType::SystemAssignedUserAssigned)),
            ("None", Some(IdentityType::None)),
            ("none", Some(IdentityType::None)), // seed 002 `--set identity.type="none"`
            ("", None),
            ("Bogus", None),
            ("SystemAssigned, None", None),
            ("SystemAssigned, SystemAssigned", None),
            ("SystemAssigned UserAssigned", None),
        ];
        for (s, want) in cases {
            assert_eq!(IdentityType::parse(s), want, "{s:?}");
        }
        // Returned in canonical spelling (docs/azure-behaviour.md §11.6: az compares the exact string).
        assert_eq!(IdentityType::SystemAssignedUserAssigned.as_str(), "SystemAssigned, UserAssigned");
    }

    #[test]
    fn api_shapes() {
        assert_eq!(ApiShape::for_api_version("2017-12-01"), ApiShape::IdentityIds);
        assert_eq!(ApiShape::for_api_version("2017-03-30"), ApiShape::IdentityIds);
        assert_eq!(ApiShape::for_api_version("2018-06-01"), ApiShape::UserAssignedMap);
        assert_eq!(ApiShape::for_api_version("2026-04-01"), ApiShape::UserAssignedMap);
        assert_eq!(ApiShape::for_api_version("2016-04-30-preview"), ApiShape::IdentityIds);
    }

    /// What ARM makes of a body's `identity`: the wire crate reads it, [`request`] judges it.
    /// Errors as (code, message).
    fn parse(v: Value, shape: ApiShape) -> Result<Option<IdentityRequest>, (&'static str, String)> {
        let write = IdentityWrite::parse(Some(&v), shape).map_err(|e| ("InvalidRequestContent", e.render()))?;
        request(write).map_err(|e| (e.code(), e.to_string()))
    }

    #[test]
    fn parse_errors() {
        use ApiShape::*;
        let id1 = uai("ID1");
        let cases: Vec<(&str, Value, ApiShape, &str)> = vec![
            // Azure/azure-powershell#7556
            ("no type", json!({"userAssignedIdentities": {}}), UserAssignedMap, "InvalidRequestContent"),
            ("null type", json!({"type": null}), UserAssignedMap, "InvalidRequestContent"),
            ("unknown type", json!({"type": "Everything"}), UserAssignedMap, "InvalidRequestContent"),
            ("type not a string", json!({"type": 3}), UserAssignedMap, "InvalidRequestContent"),
            ("identity not an object", json!("SystemAssigned"), UserAssignedMap, "InvalidRequestContent"),
            (
                "map not an object",
                json!({"type": "UserAssigned", "userAssignedIdentities": [id1]}),
                UserAssignedMap,
                "InvalidRequestContent",
            ),
            (
                "map value not an object",
                json!({"type": "UserAssigned", "userAssignedIdentities": {id1.clone(): "x"}}),
                UserAssignedMap,
                "InvalidRequestContent",
            ),
            ("identityIds not an array", json!({"type": "UserAssigned", "identityIds": id1}), IdentityIds, "InvalidRequestContent"),
            // MicrosoftDocs/azure-docs#68377: identityIds in a 2018-06-01+ body
            ("identityIds in 2018-06-01", json!({"type": "UserAssigned", "identityIds": [id1]}), UserAssignedMap, "InvalidParameter"),
            // Azure/aad-pod-identity#69: not a user-assigned identity id
            (
                "malformed id",
                json!({"type": "UserAssigned", "userAssignedIdentities": {"not-an-id": {}}}),
                UserAssignedMap,
                "InvalidParameter",
            ),
            (
                "vm id as identity",
                json!({"type": "UserAssigned", "identityIds": [format!("{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm")]}),
                IdentityIds,
                "InvalidParameter",
            ),
            (
                "rg id as identity",
                json!({"type": "UserAssigned", "userAssignedIdentities": {format!("{SUB}/resourceGroups/rg"): {}}}),
                UserAssignedMap,
                "InvalidParameter",
            ),
        ];
        for (what, body, shape, code) in cases {
            let err = parse(body, shape).expect_err(what);
            assert_eq!(err.0, code, "{what}: {err:?}");
        }
        let write = IdentityWrite::parse(Some(&json!({"type": "UserAssigned", "identityIds": [uai("a")]})), UserAssignedMap).unwrap();
        assert_eq!(
            request(write).unwrap_err(),
            IdentityError::InvalidParameter {
                message: "ResourceIdentity property identityIds is deprecated. The userAssignedIdentities property should be used instead."
                    .into(),
                target: "resourceIdentity.identityIds".into()
            }
        );
        let err = parse(json!({"type": "UserAssigned", "userAssignedIdentities": {"/x": {}}}), UserAssignedMap).unwrap_err();
        assert_eq!(err.1, "ResourceIdentity identityId '/x' is not a valid reference to a Microsoft.ManagedIdentity identity.");
        assert_eq!(
            parse(json!({"userAssignedIdentities": {}}), UserAssignedMap).unwrap_err().1,
            "Required property 'type' not found in JSON. Path 'identity'."
        );
    }

    #[test]
    fn parse_accepts_what_clients_send() {
        use ApiShape::*;
        let (id1, id2) = (uai("ID1"), uai("ID2"));
        assert_eq!(request(None), Ok(None));
        assert_eq!(parse(Value::Null, UserAssignedMap), Ok(None));
        // az vm identity remove: {"userAssignedIdentities": null, "type": "None"} (docs/azure-behaviour.md §11.6)
        assert_eq!(
            parse(json!({"userAssignedIdentities": null, "type": "None"}), UserAssignedMap),
            Ok(Some(IdentityRequest { kind: IdentityType::None, user: UserPart::Absent }))
        );
        // seed 004 REST: remove ID2 with null
        assert_eq!(
            parse(json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id2.clone(): null}}), UserAssignedMap),
            Ok(Some(IdentityRequest { kind: IdentityType::SystemAssignedUserAssigned, user: UserPart::Map(vec![(id2.clone(), false)]) }))
        );
        // read-only values the old CLI echoes back are accepted and ignored
        assert_eq!(
            parse(
                json!({"type": "UserAssigned", "userAssignedIdentities": {id1.clone(): {"principalId": "p", "clientId": "c"}}}),
                UserAssignedMap
            ),
            Ok(Some(IdentityRequest { kind: IdentityType::UserAssigned, user: UserPart::Map(vec![(id1.clone(), true)]) }))
        );
        // seed 004: 2017-12-01 identityIds
        assert_eq!(
            parse(json!({"type": "SystemAssigned,UserAssigned", "identityIds": [id1.clone(), id2.clone()]}), IdentityIds),
            Ok(Some(IdentityRequest { kind: IdentityType::SystemAssignedUserAssigned, user: UserPart::List(vec![id1, id2]) }))
        );
        // principalId/tenantId sent back by GET+PUT clients are read-only and ignored
        assert_eq!(
            parse(json!({"type": "SystemAssigned", "principalId": "x", "tenantId": "y"}), UserAssignedMap),
            Ok(Some(IdentityRequest { kind: IdentityType::SystemAssigned, user: UserPart::Absent }))
        );
    }

    struct Case {
        what: &'static str,
        current: VmIdentity,
        body: Value,
        shape: ApiShape,
        method: Method,
        want: Result<(bool, Vec<String>, Vec<String>), &'static str>,
    }

    #[test]
    fn plans() {
        use ApiShape::*;
        use Method::*;
        let (id1, id2, id3) = (uai("ID1"), uai("ID2"), uai("ID3"));
        let none = VmIdentity::default();
        let sa = attached(true, &[]);
        let ua1 = attached(false, &["ID1"]);
        let sa_ua1 = attached(true, &["ID1"]);
        let sa_ua12 = attached(true, &["ID1", "ID2"]);
        let ok = |system: bool, user: Vec<&String>, added: Vec<&String>| -> Result<(bool, Vec<String>, Vec<String>), &'static str> {
            Ok((system, user.into_iter().cloned().collect(), added.into_iter().cloned().collect()))
        };
        let cases = vec![
            // seed 004 REST "enable system-assigned on an existing VM"
            Case {
                what: "PATCH SystemAssigned on a VM without identity",
                current: none.clone(),
                body: json!({"type": "SystemAssigned"}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![], vec![]),
            },
            Case {
                what: "PATCH SystemAssigned again keeps it",
                current: sa.clone(),
                body: json!({"type": "SystemAssigned"}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![], vec![]),
            },
            // seed 004 warns that this drops user-assigned identities (docs/azure-behaviour.md §1)
            Case {
                what: "PATCH SystemAssigned drops user-assigned",
                current: sa_ua12.clone(),
                body: json!({"type": "SystemAssigned"}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![], vec![]),
            },
            // seed 004: enable SA while keeping ID1, ID2 (full dictionary sent)
            Case {
                what: "PATCH SA+UA with the full map",
                current: attached(false, &["ID1", "ID2"]),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id1.clone(): {}, id2.clone(): {}}}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![&id1, &id2], vec![]),
            },
            // seed 004: add ID2 to SA + ID1
            Case {
                what: "PATCH adds a second user-assigned",
                current: sa_ua1.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id1.clone(): {}, id2.clone(): {}}}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![&id1, &id2], vec![&id2]),
            },
            Case {
                what: "PATCH map merges with what is attached",
                current: sa_ua1.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id3.clone(): {}}}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![&id1, &id3], vec![&id3]),
            },
            // seed 004: "Add null to the user-assigned managed identity you would like to remove"
            Case {
                what: "PATCH null removes one",
                current: sa_ua12.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id2.clone(): null}}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![&id1], vec![]),
            },
            Case {
                what: "PATCH null in any casing",
                current: sa_ua12.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id2.to_uppercase().replace("/SUBSCRIPTIONS/", "/subscriptions/"): null}}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![&id1], vec![]),
            },
            Case {
                what: "PATCH null for the last one without changing the type",
                current: sa_ua1.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id1.clone(): null}}),
                shape: UserAssignedMap,
                method: Patch,
                want: Err("MissingIdentityIds"),
            },
            // seed 002: "no longer needs system-assigned identity, but still needs user-assigned"
            Case {
                what: "PATCH UserAssigned without a map keeps user-assigned, drops SA",
                current: sa_ua12.clone(),
                body: json!({"type": "UserAssigned"}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(false, vec![&id1, &id2], vec![]),
            },
            // az vm identity remove of the last UAI with SA on (docs/azure-behaviour.md §11.6)
            Case {
                what: "PATCH SystemAssigned + null map",
                current: sa_ua1.clone(),
                body: json!({"type": "SystemAssigned", "userAssignedIdentities": null}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![], vec![]),
            },
            Case {
                what: "PATCH SystemAssigned + map of nulls",
                current: sa_ua1.clone(),
                body: json!({"type": "SystemAssigned", "userAssignedIdentities": {id1.clone(): null}}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(true, vec![], vec![]),
            },
            // seed 004: remove all identities
            Case {
                what: "PATCH None",
                current: sa_ua12.clone(),
                body: json!({"type": "None"}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(false, vec![], vec![]),
            },
            Case {
                what: "PATCH none (lower case)",
                current: sa.clone(),
                body: json!({"type": "none", "userAssignedIdentities": null}),
                shape: UserAssignedMap,
                method: Patch,
                want: ok(false, vec![], vec![]),
            },
            // Azure/aad-pod-identity#214 (identityIds + SystemAssigned), and its map analogue
            Case {
                what: "identityIds with SystemAssigned",
                current: none.clone(),
                body: json!({"type": "SystemAssigned", "identityIds": [id1.clone()]}),
                shape: IdentityIds,
                method: Put,
                want: Err("InvalidParameter"),
            },
            Case {
                what: "map with SystemAssigned",
                current: none.clone(),
                body: json!({"type": "SystemAssigned", "userAssignedIdentities": {id1.clone(): {}}}),
                shape: UserAssignedMap,
                method: Patch,
                want: Err("InvalidParameter"),
            },
            Case {
                what: "map with None",
                current: sa_ua1.clone(),
                body: json!({"type": "None", "userAssignedIdentities": {id1.clone(): {}}}),
                shape: UserAssignedMap,
                method: Patch,
                want: Err("InvalidParameter"),
            },
            Case {
                what: "UserAssigned with nothing",
                current: none.clone(),
                body: json!({"type": "UserAssigned"}),
                shape: UserAssignedMap,
                method: Put,
                want: Err("MissingIdentityIds"),
            },
            Case {
                what: "UserAssigned with an empty map",
                current: none.clone(),
                body: json!({"type": "UserAssigned", "userAssignedIdentities": {}}),
                shape: UserAssignedMap,
                method: Patch,
                want: Err("MissingIdentityIds"),
            },
            // PUT replaces
            Case {
                what: "PUT without identity keeps it (docs/azure-behaviour.md §10)",
                current: sa_ua1.clone(),
                body: Value::Null,
                shape: UserAssignedMap,
                method: Put,
                want: ok(true, vec![&id1], vec![]),
            },
            Case {
                what: "PUT map replaces the set",
                current: sa_ua12.clone(),
                body: json!({"type": "UserAssigned", "userAssignedIdentities": {id3.clone(): {}}}),
                shape: UserAssignedMap,
                method: Put,
                want: ok(false, vec![&id3], vec![&id3]),
            },
            Case {
                what: "PUT SystemAssigned replaces everything",
                current: sa_ua12.clone(),
                body: json!({"type": "SystemAssigned"}),
                shape: UserAssignedMap,
                method: Put,
                want: ok(true, vec![], vec![]),
            },
            // seed 004 templates/REST 2017-12-01: identityIds is the whole list, PUT and PATCH
            Case {
                what: "PUT 2017-12-01 UserAssigned + identityIds",
                current: none.clone(),
                body: json!({"type": "UserAssigned", "identityIds": [id1.clone()]}),
                shape: IdentityIds,
                method: Put,
                want: ok(false, vec![&id1], vec![&id1]),
            },
            Case {
                what: "PATCH 2017-12-01 keeps only the listed ones",
                current: sa_ua12.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "identityIds": [id1.clone()]}),
                shape: IdentityIds,
                method: Patch,
                want: ok(true, vec![&id1], vec![]),
            },
            Case {
                what: "PATCH 2017-12-01 userAssigned (lower u)",
                current: sa.clone(),
                body: json!({"type": "userAssigned", "identityIds": [id1.clone()]}),
                shape: IdentityIds,
                method: Patch,
                want: ok(false, vec![&id1], vec![&id1]),
            },
            Case {
                what: "duplicates in any casing count once",
                current: none.clone(),
                body: json!({"type": "UserAssigned", "identityIds": [id1.clone(), id1.to_lowercase()]}),
                shape: IdentityIds,
                method: Put,
                want: ok(false, vec![&id1], vec![&id1]),
            },
            Case {
                what: "attached id keeps its stored casing",
                current: ua1.clone(),
                body: json!({"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {id1.to_lowercase(): {}}}),
                shape: UserAssignedMap,
                method: Put,
                want: ok(true, vec![&id1], vec![]),
            },
        ];
        for c in cases {
            let req = parse(c.body, c.shape).unwrap_or_else(|e| panic!("{}: parse: {e:?}", c.what));
            let got = plan(&c.current, req.as_ref(), c.method).map(|p| (p.system, p.user, p.added)).map_err(|e| e.code());
            assert_eq!(got, c.want, "{}", c.what);
        }
    }

    #[test]
    fn stored_form_round_trips_and_matches_arm() {
        let v = attached(true, &["ID1", "ID2"]);
        let stored = v.to_stored().unwrap();
        assert_eq!(stored["type"], "SystemAssigned, UserAssigned");
        assert_eq!(stored["principalId"], Uuid::from_u128(1).to_string());
        assert_eq!(stored["userAssignedIdentities"][uai("ID2")]["clientId"], Uuid::from_u128(21).to_string());
        assert_eq!(VmIdentity::from_stored(Some(&stored)), v);
        let ua = attached(false, &["ID1"]).to_stored().unwrap();
        assert!(ua.get("principalId").is_none(), "principalId only for system-assigned (spec)");
        assert_eq!(VmIdentity::default().to_stored(), None);
        assert!(VmIdentity::from_stored(None).is_none());
    }

    #[test]
    fn attached_identities_for_imds() {
        let v = attached(true, &["ID1"]);
        let vm = format!("{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm");
        let got = v.attached(&vm, Some(Uuid::from_u128(99)));
        assert_eq!(got.len(), 2);
        assert!(got[0].system_assigned && got[0].resource_id == vm && got[0].client_id == Uuid::from_u128(99).to_string());
        assert!(!got[1].system_assigned && got[1].resource_id == uai("ID1"));
    }

    #[test]
    fn user_assigned_identity_names() {
        for ok in ["myUserAssignedIdentity", "ID1", "a-b_c", "0ab", &"x".repeat(128)] {
            assert!(valid_user_assigned_identity_name(ok), "{ok}");
        }
        for bad in ["", "ab", "-abc", "_abc", "a.b", "a b", "ab/c", &"x".repeat(129), "ümlaut"] {
            assert!(!valid_user_assigned_identity_name(bad), "{bad}");
        }
    }
}
