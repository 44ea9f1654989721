//! Microsoft.Compute bodies: virtual machines, their identity block per api-version (both ways:
//! what clients send and what Compute returns and stores), instance view, and Compute's
//! async-operation status (azure-rest-api-specs specification/compute, docs/azure-behaviour.md §1, §3).

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::jsonnet::JsonNetError;

/// `identity.type` (spec enum `ResourceIdentityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceIdentityType {
    #[default]
    None,
    SystemAssigned,
    UserAssigned,
    SystemAssignedUserAssigned,
}

impl ResourceIdentityType {
    /// The canonical spelling Azure returns.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::SystemAssigned => "SystemAssigned",
            Self::UserAssigned => "UserAssigned",
            Self::SystemAssignedUserAssigned => "SystemAssigned, UserAssigned",
        }
    }

    /// Every spelling clients send: case-insensitive, whitespace around the comma ignored, the
    /// two flags in either order (the server parses the value as a flags enum [INFERRED]).
    pub fn parse(s: &str) -> Option<Self> {
        let (mut system, mut user, mut none) = (false, false, false);
        for part in s.split(',') {
            let p = part.trim();
            if p.eq_ignore_ascii_case("SystemAssigned") && !system {
                system = true;
            } else if p.eq_ignore_ascii_case("UserAssigned") && !user {
                user = true;
            } else if p.eq_ignore_ascii_case("None") && !none {
                none = true;
            } else {
                return None;
            }
        }
        match (system, user, none) {
            (false, false, true) => Some(Self::None),
            (true, false, false) => Some(Self::SystemAssigned),
            (false, true, false) => Some(Self::UserAssigned),
            (true, true, false) => Some(Self::SystemAssignedUserAssigned),
            _ => None,
        }
    }

    pub fn from_parts(system: bool, user: bool) -> Self {
        match (system, user) {
            (false, false) => Self::None,
            (true, false) => Self::SystemAssigned,
            (false, true) => Self::UserAssigned,
            (true, true) => Self::SystemAssignedUserAssigned,
        }
    }

    pub fn has_system(self) -> bool {
        matches!(self, Self::SystemAssigned | Self::SystemAssignedUserAssigned)
    }

    pub fn has_user(self) -> bool {
        matches!(self, Self::UserAssigned | Self::SystemAssignedUserAssigned)
    }
}

impl Serialize for ResourceIdentityType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceIdentityType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown identity type {s:?}")))
    }
}

/// How an api-version carries user-assigned identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiShape {
    /// 2017-12-01 (and the older versions, which know only system-assigned): `identityIds`.
    IdentityIds,
    /// 2018-06-01 and later: `userAssignedIdentities`.
    UserAssignedMap,
}

impl ApiShape {
    /// api-versions are dates, so they compare as strings.
    pub fn for_api_version(v: &str) -> Self {
        if v.get(..10).unwrap_or(v) < "2018-06-01" {
            ApiShape::IdentityIds
        } else {
            ApiShape::UserAssignedMap
        }
    }
}

/// The `identity` block a client sends, read as the api-version's type reads it. Only
/// deserialisation happens here; what is allowed is the domain's (`mimic_domain::identity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityWrite {
    pub kind: ResourceIdentityType,
    /// `userAssignedIdentities` (2018-06-01+): each id as sent, `true` for an object (add or
    /// keep), `false` for `null` (remove). `None` when absent or `null`.
    pub user_assigned_identities: Option<Vec<(String, bool)>>,
    /// `identityIds` (2017-12-01): the whole list. `None` when absent or `null`.
    pub identity_ids: Option<Vec<String>>,
    /// A 2018-06-01+ body that still sends a non-null `identityIds` (which that version refuses).
    pub sent_deprecated_identity_ids: bool,
}

impl IdentityWrite {
    /// Reads the `identity` member of a body. `None` when it is absent or `null`.
    pub fn parse(identity: Option<&Value>, shape: ApiShape) -> Result<Option<Self>, JsonNetError> {
        let obj = match identity {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(o)) => o,
            Some(other) => return Err(JsonNetError::unexpected_value(other, "identity")),
        };
        let get = |name: &str| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).filter(|v| !v.is_null());
        let kind = match get("type") {
            None => return Err(JsonNetError::required_property("type", "identity")),
            Some(v @ Value::String(s)) => {
                ResourceIdentityType::parse(s).ok_or_else(|| JsonNetError::convert(v, "ResourceIdentityType", "identity.type"))?
            }
            Some(other) => return Err(JsonNetError::convert(other, "ResourceIdentityType", "identity.type")),
        };
        let mut write = IdentityWrite { kind, user_assigned_identities: None, identity_ids: None, sent_deprecated_identity_ids: false };
        match shape {
            ApiShape::UserAssignedMap => {
                write.sent_deprecated_identity_ids = get("identityIds").is_some();
                write.user_assigned_identities = get("userAssignedIdentities").map(user_assigned_map).transpose()?;
            }
            // 2017-12-01 has no `userAssignedIdentities`: a member the version does not define is
            // not read [INFERRED].
            ApiShape::IdentityIds => write.identity_ids = get("identityIds").map(identity_ids).transpose()?,
        }
        Ok(Some(write))
    }
}

fn user_assigned_map(v: &Value) -> Result<Vec<(String, bool)>, JsonNetError> {
    const PATH: &str = "identity.userAssignedIdentities";
    let Value::Object(obj) = v else { return Err(JsonNetError::requires_object(v, "Dictionary`2", PATH)) };
    obj.iter()
        .map(|(id, value)| match value {
            Value::Null => Ok((id.clone(), false)),
            Value::Object(_) => Ok((id.clone(), true)),
            other => Err(JsonNetError::convert(other, "UserAssignedIdentitiesValue", &format!("{PATH}['{id}']"))),
        })
        .collect()
}

fn identity_ids(v: &Value) -> Result<Vec<String>, JsonNetError> {
    let Value::Array(items) = v else { return Err(JsonNetError::requires_array(v, "List`1", "identity.identityIds")) };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(id) => Ok(id.clone()),
            other => Err(JsonNetError::unexpected_value(other, &format!("identity.identityIds[{i}]"))),
        })
        .collect()
}

/// A VM body as a PUT or PATCH sends it, read leniently as Compute does: members it does not
/// model (`plan`, `zones`, `extendedLocation`) are kept, others dropped.
#[derive(Debug, Clone)]
pub struct VirtualMachineWrite {
    pub location: Option<String>,
    /// `Some(None)` for `"tags": null`.
    pub tags: Option<Option<Map<String, Value>>>,
    pub properties: Option<Map<String, Value>>,
    pub identity: Option<IdentityWrite>,
    pub extra: Map<String, Value>,
}

impl VirtualMachineWrite {
    pub fn parse(body: Value, shape: ApiShape) -> Result<Self, JsonNetError> {
        let Value::Object(mut body) = body else { return Err(JsonNetError::unexpected_value(&body, "")) };
        let identity = IdentityWrite::parse(body.get("identity"), shape)?;
        let location = match body.remove("location") {
            None | Some(Value::Null) => None,
            Some(Value::String(l)) => Some(l),
            Some(other) => return Err(JsonNetError::convert(&other, "System.String", "location")),
        };
        let tags = match body.remove("tags") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::Object(t)) => Some(Some(t)),
            Some(other) => return Err(JsonNetError::requires_object(&other, "Dictionary`2", "tags")),
        };
        let properties = match body.remove("properties") {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => Some(p),
            Some(other) => return Err(JsonNetError::requires_object(&other, "VirtualMachineProperties", "properties")),
        };
        let mut extra = Map::new();
        for k in ["plan", "zones", "extendedLocation"] {
            if let Some(v) = body.remove(k) {
                extra.insert(k.to_string(), v);
            }
        }
        Ok(VirtualMachineWrite { location, tags, properties, identity, extra })
    }
}

/// `identity` of a VM (`VirtualMachineIdentity`) as Compute returns it. 2017-12-01 carries
/// `identityIds`; 2018-06-01 and later carry `userAssignedIdentities`. `principalId`/`tenantId`
/// only for system-assigned. The 2018-06-01+ shape is also how a VM's identities are stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineIdentity {
    #[serde(rename = "type")]
    pub kind: ResourceIdentityType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "ordered_map", deserialize_with = "ordered_pairs")]
    pub user_assigned_identities: Option<Vec<(String, UserAssignedIdentitiesValue)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_ids: Option<Vec<String>>,
}

/// A value of the `userAssignedIdentities` map (`UserAssignedIdentitiesValue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Reads a JSON object as `(key, value)` pairs, in order.
fn ordered_pairs<'de, D: Deserializer<'de>, V: Deserialize<'de>>(d: D) -> Result<Option<Vec<(String, V)>>, D::Error> {
    struct Pairs<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for Pairs<V> {
        type Value = Option<Vec<(String, V)>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0));
            while let Some(entry) = m.next_entry()? {
                out.push(entry);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(Pairs(std::marker::PhantomData))
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
    /// The VM's extensions (`VirtualMachineExtensionInstanceView`), omitted when it has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<crate::vm_extensions::VirtualMachineExtensionInstanceView>,
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
