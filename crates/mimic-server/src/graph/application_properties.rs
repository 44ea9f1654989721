//! The properties of an application that Mimic keeps as written and returns on reads without
//! acting on them (`signInAudience`, `appRoles`, `api`, `requiredResourceAccess`,
//! `web.homePageUrl`, ...): their shapes checked as Graph checks them, Graph's PATCH semantics
//! (a complex-typed property merges into the held one, anything else replaces it), and
//! `identifierUris` with its rules (a URI the tenant may use, unique in the tenant).

use mimic_domain::directory::Application;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::{GraphError, GraphResult};

/// The JSON a kept property must be.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    Bool,
    Guid,
    Audience,
    Strings,
    /// An array of objects, each with a unique GUID `id` (appRoles).
    Identified,
    /// An array of objects (requiredResourceAccess).
    Objects,
    /// A complex type: merged one level deep on PATCH.
    Complex,
}

const KEPT: [(&str, Shape); 14] = [
    ("description", Shape::Text),
    ("notes", Shape::Text),
    ("serviceManagementReference", Shape::Text),
    ("groupMembershipClaims", Shape::Text),
    ("tokenEncryptionKeyId", Shape::Guid),
    ("isDeviceOnlyAuthSupported", Shape::Bool),
    ("signInAudience", Shape::Audience),
    ("tags", Shape::Strings),
    ("appRoles", Shape::Identified),
    ("requiredResourceAccess", Shape::Objects),
    ("optionalClaims", Shape::Complex),
    ("api", Shape::Complex),
    ("info", Shape::Complex),
    ("web", Shape::Complex),
];

/// application resource type: `signInAudience` values.
const AUDIENCES: [&str; 4] = ["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"];
/// Mimic's bound on `identifierUris`, a request's worth.
const MAX_IDENTIFIER_URIS: usize = 50;

fn invalid(name: &str) -> GraphError {
    GraphError::invalid_value(name, "Application")
}

fn check(name: &str, shape: Shape, v: &Value) -> GraphResult<()> {
    let ok = match (shape, v) {
        (_, Value::Null) => !matches!(shape, Shape::Strings | Shape::Identified | Shape::Objects),
        (Shape::Text, Value::String(_)) | (Shape::Bool, Value::Bool(_)) | (Shape::Complex, Value::Object(_)) => true,
        (Shape::Guid, Value::String(s)) => s.parse::<Uuid>().is_ok(),
        (Shape::Audience, Value::String(s)) => AUDIENCES.contains(&s.as_str()),
        (Shape::Strings, Value::Array(a)) => a.iter().all(Value::is_string),
        (Shape::Objects, Value::Array(a)) => a.iter().all(Value::is_object),
        (Shape::Identified, Value::Array(a)) => {
            let ids: Vec<Option<Uuid>> = a.iter().map(|o| o.get("id").and_then(Value::as_str).and_then(|s| s.parse().ok())).collect();
            let mut unique: Vec<Uuid> = ids.iter().flatten().copied().collect();
            unique.sort();
            unique.dedup();
            ids.iter().all(Option::is_some) && unique.len() == ids.len()
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(name))
    }
}

/// Applies the kept properties a POST/PATCH body names to `app.properties`; `web`'s
/// `redirectUris` stays with the modelled redirect URIs.
pub fn apply(body: &Map<String, Value>, app: &mut Application) -> GraphResult<()> {
    for (name, shape) in KEPT {
        let Some(v) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v) else { continue };
        check(name, shape, v)?;
        let mut v = v.clone();
        if name == "web" {
            if let Value::Object(w) = &mut v {
                w.retain(|k, _| !k.eq_ignore_ascii_case("redirectUris"));
            }
        }
        match (shape, v, app.properties.get_mut(name)) {
            (Shape::Complex, Value::Object(new), Some(Value::Object(held))) => held.extend(new),
            (_, v, _) => {
                app.properties.insert(name.to_string(), v);
            }
        }
    }
    Ok(())
}

/// The rendered application with the kept properties over its defaults.
pub fn render(app: &Application, out: &mut Map<String, Value>) {
    for (name, v) in &app.properties {
        match (out.get_mut(name), v) {
            (Some(Value::Object(default)), Value::Object(held)) => default.extend(held.clone()),
            _ => {
                out.insert(name.clone(), v.clone());
            }
        }
    }
}

/// The `identifierUris` a body sets, checked: strings, `api://` or `urn:` URIs, or `http(s)` on
/// the tenant's domain or a subdomain of it (Entra's rule for App ID URIs).
pub fn identifier_uris(body: &Map<String, Value>, tenant_domain: &str) -> GraphResult<Option<Vec<String>>> {
    let Some(v) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("identifierUris")).map(|(_, v)| v) else { return Ok(None) };
    let list = match v {
        Value::Null => return Ok(Some(vec![])),
        Value::Array(a) if a.len() <= MAX_IDENTIFIER_URIS => a,
        _ => return Err(invalid("identifierUris")),
    };
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for u in list {
        let u = u
            .as_str()
            .filter(|u| !u.is_empty() && u.len() <= 255 && !u.chars().any(char::is_whitespace))
            .ok_or_else(|| invalid("identifierUris"))?;
        let (scheme, rest) = u.split_once(':').ok_or_else(|| invalid("identifierUris"))?;
        let allowed = match scheme.to_ascii_lowercase().as_str() {
            "api" => rest.strip_prefix("//").is_some_and(|r| !r.is_empty()),
            "urn" => !rest.is_empty(),
            "http" | "https" => {
                let host = rest.strip_prefix("//").unwrap_or("").split(['/', '?', '#', ':']).next().unwrap_or("").to_ascii_lowercase();
                let domain = tenant_domain.to_ascii_lowercase();
                host == domain || host.ends_with(&format!(".{domain}"))
            }
            _ => false,
        };
        if !allowed {
            // Entra's text for an App ID URI outside the tenant's verified domains.
            return Err(GraphError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "HostNameNotOnVerifiedDomain",
                format!("Values of identifierUris property must use a verified domain of the organization or its subdomain: '{u}'"),
            ));
        }
        if !out.iter().any(|o| o == u) {
            out.push(u.to_string());
        }
    }
    Ok(Some(out))
}

/// Graph's refusal of an App ID URI another application holds.
pub fn conflict() -> GraphError {
    GraphError::bad_request("Another object with the same value for property identifierUris already exists.")
        .with_detail("identifierUris", "ObjectConflict")
}
