//! The per-request context of a Graph call: the verified caller, its directory roles, the
//! query options, the body, and the response builders that apply `$select`, `$filter`,
//! `$count`, paging and `@odata.context` the way Graph does.

use std::cell::OnceCell;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use mimic_domain::directory::{self, DirectoryAction, DirectoryObject, Tenant};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::{GraphError, GraphResult};
use super::objects::{self, Kind};
use super::odata::{self, Options};
use crate::authn::Caller;
use crate::state::SharedState;

/// What a collection holds: its entity type (for `$filter`/`$select`), a full sample object
/// (which properties are collections), its entity-set name in `@odata.context`, and whether
/// objects keep `@odata.type` (mixed `directoryObject` collections).
pub struct Spec {
    pub et: odata::EntityType,
    pub sample: &'static Map<String, Value>,
    pub set: &'static str,
    pub keep_type: bool,
}

pub const JSON_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

pub struct Ctx {
    pub state: SharedState,
    pub method: Method,
    /// `v1.0` or `beta`.
    pub version: String,
    /// Path segments after the version, percent-decoded.
    pub segments: Vec<String>,
    /// Query pairs as sent (decoded).
    pub query: Vec<(String, String)>,
    pub options: Options,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub caller: Caller,
    /// `https://host[:port]` as the client addressed Graph (for `@odata.context`, nextLink).
    pub base: String,
    tenant: OnceCell<Tenant>,
    roles: OnceCell<Vec<Uuid>>,
}

impl Ctx {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        state: SharedState,
        method: Method,
        version: String,
        segments: Vec<String>,
        query: Vec<(String, String)>,
        headers: HeaderMap,
        body: Bytes,
        caller: Caller,
    ) -> GraphResult<Self> {
        let eventual =
            headers.get("consistencylevel").and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
        let options = Options::parse(&query, eventual)?;
        let base = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("https://{h}"))
            .unwrap_or_else(|| state.endpoints.graph.clone());
        Ok(Ctx {
            state,
            method,
            version,
            segments,
            query,
            options,
            headers,
            body,
            caller,
            base,
            tenant: OnceCell::new(),
            roles: OnceCell::new(),
        })
    }

    pub fn tenant_id(&self) -> Uuid {
        self.caller.tenant
    }

    pub fn tenant(&self) -> GraphResult<&Tenant> {
        if let Some(t) = self.tenant.get() {
            return Ok(t);
        }
        let t =
            self.state.store.read(|tx| tx.tenant(self.caller.tenant))?.ok_or_else(|| GraphError::internal("caller's tenant vanished"))?;
        Ok(self.tenant.get_or_init(|| t))
    }

    pub fn roles(&self) -> GraphResult<&[Uuid]> {
        if let Some(r) = self.roles.get() {
            return Ok(r);
        }
        let r = self.state.store.read(|tx| crate::directory::roles::roles_of(tx, self.caller.tenant, self.caller.object_id))?;
        Ok(self.roles.get_or_init(|| r))
    }

    /// Whether the caller's directory roles, or for an app-only caller its Graph application
    /// permissions, allow `action` here.
    pub fn allowed(&self, action: DirectoryAction) -> GraphResult<bool> {
        Ok(directory::directory_allows(self.caller.is_user(), self.roles()?, action) || self.app_permissions_allow(action))
    }

    /// The application permissions of an app-only token (its `roles`), on the entity set this
    /// request addresses.
    fn app_permissions_allow(&self, action: DirectoryAction) -> bool {
        if self.caller.is_user() {
            return false;
        }
        let granted: Vec<&str> =
            self.caller.claims.get("roles").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        !granted.is_empty() && directory::app_permissions_allow(&granted, action, self.segments.first().map(String::as_str).unwrap_or(""))
    }

    /// Fails with Graph's 403 unless the caller's directory roles allow `action`.
    pub fn require(&self, action: DirectoryAction) -> GraphResult<()> {
        if self.allowed(action)? {
            Ok(())
        } else {
            Err(GraphError::forbidden())
        }
    }

    /// Graph's 403 unless the caller may perform `action` on the user `target`: password resets
    /// and sensitive actions are bounded by the roles the target holds (Entra's tables,
    /// `directory::directory_allows_on_user`).
    pub fn require_on_user(&self, action: DirectoryAction, target: Uuid) -> GraphResult<()> {
        let held = self.state.store.read(|tx| crate::directory::roles::held_by(tx, self.caller.tenant, target))?;
        let t = directory::UserTarget { roles: &held.roles, in_role_assignable_group: held.in_role_assignable_group };
        // Application permissions reach users who hold no administrator role only (Graph's
        // "Working with users": privileged targets need an administrator role).
        let unprivileged = held.roles.is_empty() && !held.in_role_assignable_group;
        if directory::directory_allows_on_user(self.caller.is_user(), self.roles()?, action, &t)
            || (unprivileged && self.app_permissions_allow(action))
        {
            Ok(())
        } else {
            Err(GraphError::forbidden())
        }
    }

    // ---- request body -------------------------------------------------------------------

    fn body_value(&self) -> GraphResult<Value> {
        // Graph's text for a body that is not JSON.
        let unreadable = || {
            GraphError::invalid_body(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            )
        };
        // Past the shared nesting budget a body is as unreadable as malformed JSON.
        if self.body.is_empty() || mimic_domain::limits::check_json_depth(&self.body, mimic_domain::limits::MAX_DEPTH).is_err() {
            return Err(unreadable());
        }
        serde_json::from_slice(&self.body).map_err(|_| unreadable())
    }

    pub fn json<T: DeserializeOwned>(&self) -> GraphResult<T> {
        let v = self.body_value()?;
        serde_json::from_value(v).map_err(|e| GraphError::invalid_body(&format!("Invalid request body: {e}.")))
    }

    /// The body as an object whose properties all belong to `kind`'s entity type.
    pub fn entity_body(&self, kind: Kind) -> GraphResult<Map<String, Value>> {
        let ty = kind.entity_type();
        let Value::Object(m) = self.body_value()? else {
            return Err(GraphError::invalid_body(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            ));
        };
        let extra = ["passwordProfile", "passwordPolicies", "members@odata.bind", "owners@odata.bind"];
        for k in m.keys() {
            if k.starts_with('@') || extra.iter().any(|e| e.eq_ignore_ascii_case(k)) {
                continue;
            }
            if ty.canonical(k).is_none() {
                return Err(GraphError::unknown_property(k, ty.name));
            }
        }
        Ok(m)
    }

    // ---- responses ----------------------------------------------------------------------

    pub fn context_url(&self, fragment: &str) -> String {
        format!("{}/{}/$metadata#{fragment}", self.base, self.version)
    }

    /// `200` (or `status`) with Graph's JSON content type.
    pub fn respond(&self, status: StatusCode, body: Value) -> Response {
        let mut res = (status, body.to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
        res
    }

    pub fn no_content(&self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }

    /// One entity with `@odata.context` (`#users/$entity`, or `#users(displayName,id)/$entity`
    /// with `$select`).
    pub fn entity(&self, status: StatusCode, kind: Kind, obj: Map<String, Value>) -> GraphResult<Response> {
        let ty = kind.entity_type();
        let selected = self.options.selected(&ty)?;
        let set = kind.entity_set();
        let fragment = match &selected {
            Some(s) => format!("{set}({})/$entity", s.join(",")),
            None => format!("{set}/$entity"),
        };
        let body = match &selected {
            Some(s) => odata::project(obj, Some(s), false),
            None if kind == Kind::User => odata::project(obj, Some(&default_user()), false),
            None => odata::project(obj, None, false),
        };
        let mut out = Map::new();
        out.insert("@odata.context".into(), Value::String(self.context_url(&fragment)));
        out.extend(body);
        Ok(self.respond(status, Value::Object(out)))
    }

    /// A collection: `$filter`, `$search`, `$orderby`, `$count`, `$top` and `$skiptoken`,
    /// `$select`, `@odata.context` and `@odata.nextLink` (an absolute URL clients follow).
    /// `ty` is the collection's entity type; objects keep `@odata.type` when it is
    /// `directoryObject`.
    pub fn collection(&self, ty: Kind, items: Vec<(Kind, Map<String, Value>)>) -> GraphResult<Response> {
        let spec = Spec { et: ty.entity_type(), sample: ty.sample(), set: ty.entity_set(), keep_type: ty == Kind::DirectoryObject };
        self.collection_with(&spec, items)
    }

    /// A collection of another entity type (role definitions, role assignments, ...).
    pub fn collection_with(&self, spec: &Spec, items: Vec<(Kind, Map<String, Value>)>) -> GraphResult<Response> {
        let (matched, selected) = self.filtered(spec, items)?;
        let total = matched.len();
        let page = self.options.page_size()?;
        let start = match &self.options.skiptoken {
            Some(t) => odata::decode_skiptoken(t)?,
            None => 0,
        };
        let end = (start + page).min(total);
        let value: Vec<Value> = matched
            .into_iter()
            .skip(start)
            .take(end.saturating_sub(start))
            .map(|(k, m)| Value::Object(self.shape(k, m, selected.as_deref(), spec.keep_type)))
            .collect();
        let fragment = match &selected {
            Some(s) => format!("{}({})", spec.set, s.join(",")),
            None => spec.set.to_string(),
        };
        let mut out = Map::new();
        out.insert("@odata.context".into(), Value::String(self.context_url(&fragment)));
        if self.options.count {
            out.insert("@odata.count".into(), Value::from(total));
        }
        if end < total {
            out.insert("@odata.nextLink".into(), Value::String(self.next_link(end)));
        }
        out.insert("value".into(), Value::Array(value));
        Ok(self.respond(StatusCode::OK, Value::Object(out)))
    }

    /// `$select` (or the default property set) applied to one object of a collection.
    pub fn shape(&self, kind: Kind, m: Map<String, Value>, selected: Option<&[String]>, keep_type: bool) -> Map<String, Value> {
        match (selected, kind) {
            (Some(s), _) => odata::project(m, Some(s), keep_type),
            (None, Kind::User) => odata::project(m, Some(&default_user()), keep_type),
            (None, _) => odata::project(m, None, keep_type),
        }
    }

    /// `GET .../$count`: the number of matching objects as text.
    pub fn raw_count(&self, ty: Kind, items: Vec<(Kind, Map<String, Value>)>) -> GraphResult<Response> {
        if !self.options.eventual {
            // azurekid/ScEntra#13: the text Graph answers with today.
            return Err(GraphError::unsupported_query(
                "Raw count (/$count) is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
            ));
        }
        let spec = Spec { et: ty.entity_type(), sample: ty.sample(), set: ty.entity_set(), keep_type: false };
        let (matched, _) = self.filtered(&spec, items)?;
        let mut res = (StatusCode::OK, matched.len().to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        Ok(res)
    }

    #[allow(clippy::type_complexity)]
    fn filtered(
        &self,
        spec: &Spec,
        items: Vec<(Kind, Map<String, Value>)>,
    ) -> GraphResult<(Vec<(Kind, Map<String, Value>)>, Option<Vec<String>>)> {
        let et = &spec.et;
        if self.options.count && !self.options.eventual {
            // microsoftgraph/microsoft-graph-docs#15067
            return Err(GraphError::bad_request("$count is not currently supported."));
        }
        let selected = self.options.selected(et)?;
        if self.options.expand.is_some() {
            return Err(GraphError::unsupported_query("Unsupported Query."));
        }
        let search = self.options.check_search()?;
        let filter = match &self.options.filter {
            Some(f) => {
                let e = odata::parse_filter(f)?;
                odata::validate(&e, et, self.options.advanced(), spec.sample)?;
                Some(e)
            }
            None => None,
        };
        let order = match &self.options.orderby {
            Some(o) => Some(odata::parse_orderby(o, et)?),
            None => None,
        };
        let mut matched: Vec<(Kind, Map<String, Value>)> = items
            .into_iter()
            .filter(|(_, m)| filter.as_ref().is_none_or(|e| odata::eval(e, m)))
            .filter(|(_, m)| search.as_ref().is_none_or(|s| odata::search_matches(m, s)))
            .collect();
        if let Some((prop, desc)) = order {
            let key = |m: &Map<String, Value>| {
                m.get(&prop).map(|v| v.as_str().map(str::to_lowercase).unwrap_or_else(|| v.to_string())).unwrap_or_default()
            };
            matched.sort_by(|a, b| {
                let o = key(&a.1).cmp(&key(&b.1));
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        Ok((matched, selected))
    }

    fn next_link(&self, offset: usize) -> String {
        let mut pairs: Vec<(String, String)> =
            self.query.iter().filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken")).cloned().collect();
        pairs.push(("$skiptoken".into(), odata::encode_skiptoken(offset)));
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{}/{}/{}?{}", self.base, self.version, self.segments.join("/"), q)
    }

    // ---- lookups --------------------------------------------------------------------------

    /// Every object of `kind` in the caller's tenant, rendered.
    pub fn all(&self, kind: Kind) -> GraphResult<Vec<(Kind, Map<String, Value>)>> {
        let tenant = self.tenant()?.clone();
        let objs = self.state.store.read(|tx| tx.directory_objects(tenant.id, kind.store_kind()))?;
        Ok(objs.iter().map(|o| (kind, objects::object(o, &tenant))).collect())
    }

    /// A `directoryObject` collection of the given objects (members, memberOf, owners, ...).
    pub fn object_collection(&self, objs: &[DirectoryObject]) -> GraphResult<Response> {
        let tenant = self.tenant()?;
        let items = objs.iter().map(|o| (Kind::of(o), objects::default_projection(o, objects::object(o, tenant)))).collect();
        self.collection(Kind::DirectoryObject, items)
    }

    pub fn render(&self, o: &DirectoryObject) -> GraphResult<(Kind, Map<String, Value>)> {
        Ok((Kind::of(o), objects::object(o, self.tenant()?)))
    }

    /// An object by id, of the given kind; 404 in Graph's words otherwise.
    pub fn get(&self, kind: Kind, id: &str) -> GraphResult<DirectoryObject> {
        let oid = parse_id(id)?;
        let o = self.state.store.read(|tx| tx.directory_object(self.caller.tenant, oid))?;
        match o {
            Some(o) if kind == Kind::DirectoryObject || Kind::of(&o) == kind => Ok(o),
            _ => Err(GraphError::not_found(id)),
        }
    }
}

fn default_user() -> Vec<String> {
    mimic_wire::graph::USER_DEFAULT_PROPERTIES.iter().map(|s| s.to_string()).collect()
}

/// An object id from a path or body: a GUID, or Graph's 400.
pub fn parse_id(id: &str) -> GraphResult<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| GraphError::invalid_object_id(id))
}

/// An `Edm.DateTimeOffset` property of a body.
pub fn parse_time(s: Option<&str>, field: &str) -> GraphResult<Option<DateTime<Utc>>> {
    match s {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s).map(|d| Some(d.with_timezone(&Utc))).map_err(|_| {
            GraphError::invalid_body(&format!("Cannot convert the literal '{s}' to the expected type 'Edm.DateTimeOffset' for '{field}'."))
        }),
    }
}

/// The object id an `@odata.id` / `@odata.bind` URL names (`.../directoryObjects/{id}`, or a
/// key segment `directoryObjects('{id}')`).
pub fn referenced_id(odata_id: &str) -> GraphResult<Uuid> {
    let last = odata_id.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let (_, key) = super::split_key(last);
    let id = key.map(|(_, v)| v).unwrap_or_else(|| last.to_string());
    Uuid::parse_str(&id).map_err(|_| GraphError::bad_request(format!("Invalid URL format specified in @odata.bind for {odata_id}")))
}
