//! OData system query options as Microsoft Graph applies them to directory objects: `$filter`
//! (eq, ne, startswith, endswith, in, any, and, or, not, comparison), `$select`, `$top` with
//! `$skiptoken` paging, `$count`, `$search`, `$orderby`. Objects are evaluated in their wire
//! JSON, so a filter sees exactly the properties a client reads.
//!
//! Graph's rules kept here: property names and string comparisons are case-insensitive on
//! directory objects; `ne`, `not` and `endsWith` are "advanced queries" that need
//! `ConsistencyLevel: eventual` and `$count=true` (learn.microsoft.com/graph/aad-advanced-queries),
//! as do `$search` and `$count`.

use mimic_domain::odata_filter::{self, FilterError};
use serde_json::{Map, Value};

use super::error::{GraphError, GraphResult};

/// Default and largest page sizes of directory collections (user-list: `$top` 1..999).
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 999;

/// The entity type a query runs against: its Graph name and every property it has.
pub struct EntityType {
    pub name: &'static str,
    pub properties: Vec<String>,
}

impl EntityType {
    pub fn canonical(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|p| p.eq_ignore_ascii_case(name)).map(String::as_str)
    }
}

pub use mimic_domain::odata_filter::{Cmp, Expr, Literal, Operand};

/// Parses a `$filter` (mimic-domain's parser, bounded by the shared nesting budget) into the
/// tree [`validate`] and [`eval`] walk, with Graph's errors.
pub fn parse_filter(text: &str) -> GraphResult<Expr> {
    odata_filter::parse(text).map_err(|e| match e {
        FilterError::Invalid(detail) => GraphError::invalid_filter(&detail),
        FilterError::Unsupported(m) => GraphError::unsupported_query(m),
    })
}

/// Checks properties against the entity type and the operators against what Graph serves
/// without advanced query parameters.
pub fn validate(e: &Expr, ty: &EntityType, advanced: bool, sample: &Map<String, Value>) -> GraphResult<()> {
    let property = |p: &str| -> GraphResult<()> {
        let first = p.split('/').next().unwrap_or(p);
        let Some(name) = ty.canonical(first) else {
            return Err(GraphError::invalid_filter(&format!(
                "Could not find a property named '{first}' on type 'microsoft.graph.{}'.",
                ty.name
            )));
        };
        // Only scalar properties filter with a comparison (pnp/powershell#4519 for the text).
        if p.contains('/') || matches!(sample.get(name), Some(Value::Object(_)) | Some(Value::Array(_))) {
            let mut resource = ty.name.to_string();
            if let Some(first) = resource.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            return Err(GraphError::unsupported_query(format!(
                "Unsupported or invalid query filter clause specified for property '{name}' of resource '{resource}'."
            )));
        }
        Ok(())
    };
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            validate(a, ty, advanced, sample)?;
            validate(b, ty, advanced, sample)
        }
        Expr::Not(inner) => {
            if !advanced {
                return Err(GraphError::unsupported_query("Unsupported Query."));
            }
            validate(inner, ty, advanced, sample)
        }
        Expr::Compare(Operand::Property(p), cmp, _) => {
            if *cmp == Cmp::Ne && !advanced {
                // microsoftgraph/microsoft-graph-docs-contrib#3042
                return Err(GraphError::unsupported_query("Unsupported property filter clause operator 'NotEqualsMatch'."));
            }
            property(p)
        }
        Expr::In(Operand::Property(p), _) | Expr::StartsWith(Operand::Property(p), _) => property(p),
        Expr::EndsWith(Operand::Property(p), _) => {
            if !advanced {
                return Err(GraphError::unsupported_query("Unsupported Query."));
            }
            property(p)
        }
        Expr::Any(collection, _) => {
            let Some(name) = ty.canonical(collection) else {
                return Err(GraphError::invalid_filter(&format!(
                    "Could not find a property named '{collection}' on type 'microsoft.graph.{}'.",
                    ty.name
                )));
            };
            if !matches!(sample.get(name), Some(Value::Array(_))) {
                return Err(GraphError::invalid_filter(&format!(
                    "The Any/All query expression can only be applied to a collection property, '{name}' is not one."
                )));
            }
            Ok(())
        }
        // Lambda-variable operands are checked by their `any`.
        _ => Ok(()),
    }
}

fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn resolve<'a>(operand: &Operand, obj: &'a Map<String, Value>, bound: &[(String, &'a Value)]) -> Option<&'a Value> {
    match operand {
        Operand::Property(p) => {
            let mut cur: &Value = get_ci(obj, p.split('/').next()?)?;
            for seg in p.split('/').skip(1) {
                cur = get_ci(cur.as_object()?, seg)?;
            }
            Some(cur)
        }
        Operand::Var(v, rest) => {
            let (_, val) = bound.iter().rev().find(|(n, _)| n == v)?;
            match rest {
                None => Some(val),
                Some(p) => {
                    let mut cur: &Value = val;
                    for seg in p.split('/') {
                        cur = get_ci(cur.as_object()?, seg)?;
                    }
                    Some(cur)
                }
            }
        }
    }
}

fn compare(v: Option<&Value>, cmp: Cmp, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (v, lit) {
        (None | Some(Value::Null), Literal::Null) => Some(Ordering::Equal),
        (None | Some(Value::Null), _) | (Some(_), Literal::Null) => None,
        (Some(Value::String(s)), Literal::Str(l)) => Some(s.to_lowercase().cmp(&l.to_lowercase())),
        (Some(Value::Bool(b)), Literal::Bool(l)) => Some(b.cmp(l)),
        (Some(Value::Number(n)), Literal::Num(l)) => n.as_f64().and_then(|n| n.partial_cmp(l)),
        _ => None,
    };
    match cmp {
        Cmp::Eq => ord == Some(Ordering::Equal),
        Cmp::Ne => ord != Some(Ordering::Equal),
        Cmp::Gt => ord == Some(Ordering::Greater),
        Cmp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        Cmp::Lt => ord == Some(Ordering::Less),
        Cmp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
    }
}

fn eval_in<'a>(e: &Expr, obj: &'a Map<String, Value>, bound: &mut Vec<(String, &'a Value)>) -> bool {
    match e {
        Expr::And(a, b) => eval_in(a, obj, bound) && eval_in(b, obj, bound),
        Expr::Or(a, b) => eval_in(a, obj, bound) || eval_in(b, obj, bound),
        Expr::Not(a) => !eval_in(a, obj, bound),
        Expr::Compare(o, cmp, lit) => compare(resolve(o, obj, bound), *cmp, lit),
        Expr::In(o, lits) => {
            let v = resolve(o, obj, bound);
            lits.iter().any(|l| compare(v, Cmp::Eq, l))
        }
        Expr::StartsWith(o, s) => {
            resolve(o, obj, bound).and_then(Value::as_str).is_some_and(|v| v.to_lowercase().starts_with(&s.to_lowercase()))
        }
        Expr::EndsWith(o, s) => {
            resolve(o, obj, bound).and_then(Value::as_str).is_some_and(|v| v.to_lowercase().ends_with(&s.to_lowercase()))
        }
        Expr::Any(collection, pred) => {
            let Some(Value::Array(items)) = get_ci(obj, collection) else { return false };
            match pred {
                None => !items.is_empty(),
                Some((var, body)) => items.iter().any(|item| {
                    bound.push((var.clone(), item));
                    let r = eval_in(body, obj, bound);
                    bound.pop();
                    r
                }),
            }
        }
    }
}

pub fn eval(e: &Expr, obj: &Map<String, Value>) -> bool {
    eval_in(e, obj, &mut Vec::new())
}

// ---- the whole query --------------------------------------------------------------------

#[derive(Debug, Default)]
pub struct Options {
    pub filter: Option<String>,
    pub select: Option<String>,
    pub top: Option<String>,
    pub skiptoken: Option<String>,
    pub count: bool,
    pub search: Option<String>,
    pub orderby: Option<String>,
    pub expand: Option<String>,
    /// `ConsistencyLevel: eventual` was sent.
    pub eventual: bool,
}

impl Options {
    pub fn parse(pairs: &[(String, String)], eventual: bool) -> GraphResult<Self> {
        let mut o = Options { eventual, ..Default::default() };
        for (k, v) in pairs {
            let key = k.trim_start_matches('$').to_ascii_lowercase();
            match key.as_str() {
                "filter" => o.filter = Some(v.clone()),
                "select" => o.select = Some(v.clone()),
                "top" => o.top = Some(v.clone()),
                "skiptoken" => o.skiptoken = Some(v.clone()),
                "count" => {
                    o.count = match v.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(GraphError::new(
                                axum::http::StatusCode::BAD_REQUEST,
                                "BadRequest",
                                format!("'{v}' is not a valid count option."),
                            ))
                        }
                    }
                }
                "search" => o.search = Some(v.clone()),
                "orderby" => o.orderby = Some(v.clone()),
                "expand" => o.expand = Some(v.clone()),
                _ => {}
            }
        }
        Ok(o)
    }

    /// Advanced query capabilities are on (aad-advanced-queries: header plus `$count=true`,
    /// or the header with `$search`).
    pub fn advanced(&self) -> bool {
        self.eventual && (self.count || self.search.is_some())
    }

    pub fn page_size(&self) -> GraphResult<usize> {
        match &self.top {
            None => Ok(DEFAULT_PAGE),
            Some(t) => match t.parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE as i64).contains(&n) => Ok(n as usize),
                _ => {
                    Err(GraphError::bad_request(format!("Invalid page size specified: '{t}'. Must be between 1 and {MAX_PAGE} inclusive.")))
                }
            },
        }
    }

    /// The `$select` list resolved to canonical property names.
    pub fn selected(&self, ty: &EntityType) -> GraphResult<Option<Vec<String>>> {
        let Some(s) = &self.select else { return Ok(None) };
        let mut out = Vec::new();
        for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if p == "*" {
                return Ok(Some(ty.properties.clone()));
            }
            match ty.canonical(p) {
                Some(c) => out.push(c.to_string()),
                None => return Err(GraphError::unknown_select(p, ty.name)),
            }
        }
        Ok(Some(out))
    }

    pub fn check_search(&self) -> GraphResult<Option<Vec<(String, String)>>> {
        let Some(s) = &self.search else { return Ok(None) };
        if !self.eventual {
            // backstage/backstage#25517
            return Err(GraphError::unsupported_query(
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ));
        }
        // `"displayName:foo"` clauses joined by AND / OR (OR treated as a union).
        let mut clauses = Vec::new();
        for part in s.split(" OR ").flat_map(|p| p.split(" AND ")) {
            let part = part.trim().trim_matches('"');
            let Some((prop, term)) = part.split_once(':') else {
                return Err(GraphError::bad_request("Syntax error: character ':' is not valid at position 0 in '$search'.".to_string()));
            };
            clauses.push((prop.trim().to_string(), term.trim().to_string()));
        }
        Ok(Some(clauses))
    }
}

/// `$search` matching: a term matches a property when one of the property's words starts with
/// it (Graph tokenizes on spaces, casing and symbols).
pub fn search_matches(obj: &Map<String, Value>, clauses: &[(String, String)]) -> bool {
    clauses.iter().any(|(prop, term)| {
        let Some(v) = get_ci(obj, prop).and_then(Value::as_str) else { return false };
        let term = term.to_lowercase();
        let v = v.to_lowercase();
        v.starts_with(&term) || v.split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(&term))
    })
}

/// `$orderby=prop [asc|desc]`.
pub fn parse_orderby(s: &str, ty: &EntityType) -> GraphResult<(String, bool)> {
    let mut parts = s.split_whitespace();
    let prop = parts.next().unwrap_or("");
    let desc = match parts.next().map(|d| d.to_ascii_lowercase()) {
        None => false,
        Some(d) if d == "asc" => false,
        Some(d) if d == "desc" => true,
        Some(_) => return Err(GraphError::unsupported_query("Unsupported Query.")),
    };
    // One property, one direction: anything after them is OData's syntax error.
    if parts.next().is_some() {
        return Err(GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Syntax error at position {} in '{s}'.", s.len()),
        ));
    }
    let Some(name) = ty.canonical(prop) else {
        return Err(GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Could not find a property named '{prop}' on type 'microsoft.graph.{}'.", ty.name),
        ));
    };
    Ok((name.to_string(), desc))
}

/// Keeps only `selected` properties (plus `@odata.type` when `keep_type`).
pub fn project(obj: Map<String, Value>, selected: Option<&[String]>, keep_type: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let wanted = |k: &str| match selected {
        None => true,
        Some(s) => s.iter().any(|p| p == k),
    };
    for (k, v) in obj {
        if k == "@odata.type" {
            if keep_type {
                out.insert(k, v);
            }
        } else if wanted(&k) {
            out.insert(k, v);
        }
    }
    out
}

/// The paging token: an opaque offset.
pub fn encode_skiptoken(offset: usize) -> String {
    use base64::Engine;
    format!("RFNwdAIAAQAAA{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("mimic:{offset}")))
}

pub fn decode_skiptoken(token: &str) -> GraphResult<usize> {
    use base64::Engine;
    let bad = || {
        GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )
    };
    let rest = token.strip_prefix("RFNwdAIAAQAAA").ok_or_else(bad)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(rest).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    s.strip_prefix("mimic:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn az_filters() {
        let sp = obj(
            json!({"displayName": "myVM", "appId": "AB", "servicePrincipalNames": ["ab", "https://identity.azure.net/x"], "servicePrincipalType": "ManagedIdentity", "accountEnabled": true}),
        );
        for (f, want) in [
            ("displayName eq 'myVM'", true),
            ("displayName eq 'MYVM'", true),
            ("startswith(displayName,'my')", true),
            ("servicePrincipalNames/any(c:c eq 'AB')", true),
            ("servicePrincipalNames/any(c:c eq 'nope')", false),
            ("servicePrincipalType eq 'ManagedIdentity' and displayName eq 'myVM'", true),
            ("displayName eq 'x' or appId eq 'ab'", true),
            ("appId in ('zz', 'ab')", true),
            ("accountEnabled eq true", true),
            ("(displayName eq 'a') or (displayName eq 'myvm')", true),
            ("displayName eq 'it''s'", false),
        ] {
            let e = parse_filter(f).unwrap_or_else(|e| panic!("{f}: {e:?}"));
            assert_eq!(eval(&e, &sp), want, "{f}");
        }
    }

    #[test]
    fn bad_filters() {
        for f in ["displayName eq", "displayName foo 'x'", "startswith(displayName)", "displayName eq 'x", "(displayName eq 'x'"] {
            assert!(parse_filter(f).is_err(), "{f}");
        }
    }

    #[test]
    fn deep_filters_get_graphs_error_and_long_chains_evaluate() {
        let parens = |n: usize| format!("{}accountEnabled eq true{}", "(".repeat(n), ")".repeat(n));
        let e = parse_filter(&parens(2_000)).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "BadRequest"));
        assert_eq!(e.message, "Invalid filter clause: The recursion limit has been exceeded.");
        let chain = vec!["accountEnabled eq true"; 20_000].join(" or ");
        assert!(eval(&parse_filter(&chain).unwrap(), &obj(json!({"accountEnabled": true}))));
        let chain = vec!["accountEnabled eq true"; 20_000].join(" and ");
        assert!(!eval(&parse_filter(&chain).unwrap(), &obj(json!({"accountEnabled": false}))));
    }

    #[test]
    fn skiptoken_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(250)).unwrap(), 250);
        assert!(decode_skiptoken("garbage").is_err());
    }
}
