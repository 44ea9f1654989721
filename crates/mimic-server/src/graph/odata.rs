//! OData system query options as Microsoft Graph applies them to directory objects: `$filter`
//! (eq, ne, startswith, endswith, in, any, and, or, not, comparison), `$select`, `$top` with
//! `$skiptoken` paging, `$count`, `$search`, `$orderby`. Objects are evaluated in their wire
//! JSON, so a filter sees exactly the properties a client reads.
//!
//! Graph's rules kept here: property names and string comparisons are case-insensitive on
//! directory objects; `ne`, `not` and `endsWith` are "advanced queries" that need
//! `ConsistencyLevel: eventual` and `$count=true` (learn.microsoft.com/graph/aad-advanced-queries),
//! as do `$search` and `$count`.

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

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Null,
    Num(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, Cmp, Literal),
    In(Operand, Vec<Literal>),
    StartsWith(Operand, String),
    EndsWith(Operand, String),
    /// `collection/any(v: predicate)`; `None` predicate is `collection/any()`.
    Any(String, Option<(String, Box<Expr>)>),
}

/// A property path, or the lambda variable (optionally with a path under it).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Property(String),
    Var(String, Option<String>),
}

// ---- tokenizer --------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
}

fn syntax_error(pos: usize, text: &str) -> GraphError {
    GraphError::invalid_filter(&format!("Syntax error at position {pos} in '{text}'."))
}

fn tokenize(text: &str) -> GraphResult<Vec<(usize, Tok)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push((i, Tok::LParen));
                i += 1
            }
            ')' => {
                out.push((i, Tok::RParen));
                i += 1
            }
            ',' => {
                out.push((i, Tok::Comma));
                i += 1
            }
            ':' => {
                out.push((i, Tok::Colon));
                i += 1
            }
            '/' => {
                out.push((i, Tok::Slash));
                i += 1
            }
            '\'' => {
                let start = i;
                i += 1;
                let mut s = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(GraphError::invalid_filter(&format!(
                                "There is an unterminated string literal at position {} in '{text}'.",
                                i
                            )))
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Str(s)));
            }
            c if c.is_ascii_digit() || c == '-' => {
                // A number, or a bare GUID / date (OData allows unquoted GUID literals).
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | '.' | ':' | '+')) {
                    // stop at ':' unless it is inside a date-time (digits around it)
                    if chars[i] == ':'
                        && !(i > start && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
                    {
                        break;
                    }
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.parse::<f64>() {
                    Ok(n) => out.push((start, Tok::Num(n))),
                    Err(_) => out.push((start, Tok::Str(word))),
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '@' || c == '$' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '@' | '$' | '-')) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // A bare GUID starting with a letter.
                if uuid::Uuid::parse_str(&word).is_ok() {
                    out.push((start, Tok::Str(word)));
                } else {
                    out.push((start, Tok::Ident(word)));
                }
            }
            _ => return Err(syntax_error(i, text)),
        }
    }
    Ok(out)
}

// ---- parser -----------------------------------------------------------------------------

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    text: &'a str,
    /// Lambda variables in scope.
    vars: Vec<String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.0).unwrap_or(self.text.chars().count())
    }
    fn err(&self) -> GraphError {
        syntax_error(self.at(), self.text)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.1.clone());
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> GraphResult<()> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> GraphResult<Expr> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> GraphResult<Expr> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> GraphResult<Expr> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> GraphResult<Expr> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        let Some(Tok::Ident(word)) = self.peek().cloned() else { return Err(self.err()) };
        // Functions.
        if self.toks.get(self.pos + 1).map(|t| &t.1) == Some(&Tok::LParen) {
            let lower = word.to_ascii_lowercase();
            if lower == "startswith" || lower == "endswith" {
                self.pos += 2;
                let operand = self.operand()?;
                self.expect(Tok::Comma)?;
                let Some(Tok::Str(s)) = self.next() else { return Err(self.err()) };
                self.expect(Tok::RParen)?;
                return Ok(if lower == "startswith" { Expr::StartsWith(operand, s) } else { Expr::EndsWith(operand, s) });
            }
            return Err(GraphError::invalid_filter(&format!("An unknown function with name '{word}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.")));
        }
        let operand = self.operand_or_any()?;
        let operand = match operand {
            Ok(o) => o,
            Err(any) => return Ok(any),
        };
        let Some(Tok::Ident(op)) = self.next() else { return Err(self.err()) };
        let op = op.to_ascii_lowercase();
        if op == "in" {
            self.expect(Tok::LParen)?;
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                values.push(self.literal()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In(operand, values));
        }
        let cmp = match op.as_str() {
            "eq" => Cmp::Eq,
            "ne" => Cmp::Ne,
            "gt" => Cmp::Gt,
            "ge" => Cmp::Ge,
            "lt" => Cmp::Lt,
            "le" => Cmp::Le,
            _ => {
                self.pos -= 1;
                return Err(self.err());
            }
        };
        let lit = self.literal()?;
        Ok(Expr::Compare(operand, cmp, lit))
    }

    fn literal(&mut self) -> GraphResult<Literal> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Literal::Str(s)),
            Some(Tok::Num(n)) => Ok(Literal::Num(n)),
            Some(Tok::Ident(w)) if w == "true" => Ok(Literal::Bool(true)),
            Some(Tok::Ident(w)) if w == "false" => Ok(Literal::Bool(false)),
            Some(Tok::Ident(w)) if w == "null" => Ok(Literal::Null),
            _ => {
                self.pos -= 1;
                Err(self.err())
            }
        }
    }

    /// `a/b`, or the lambda variable `c` / `c/prop`.
    fn operand(&mut self) -> GraphResult<Operand> {
        match self.operand_or_any()? {
            Ok(o) => Ok(o),
            Err(_) => Err(self.err()),
        }
    }

    /// An operand, or (as `Err`) a complete `path/any(...)` expression.
    fn operand_or_any(&mut self) -> GraphResult<Result<Operand, Expr>> {
        let Some(Tok::Ident(first)) = self.next() else {
            self.pos -= 1;
            return Err(self.err());
        };
        let mut path = vec![first];
        while self.peek() == Some(&Tok::Slash) {
            self.pos += 1;
            let Some(Tok::Ident(seg)) = self.next() else {
                self.pos -= 1;
                return Err(self.err());
            };
            if (seg.eq_ignore_ascii_case("any") || seg.eq_ignore_ascii_case("all")) && self.peek() == Some(&Tok::LParen) {
                if seg.eq_ignore_ascii_case("all") {
                    return Err(GraphError::unsupported_query("Unsupported Query."));
                }
                self.pos += 1;
                let collection = path.join("/");
                if self.peek() == Some(&Tok::RParen) {
                    self.pos += 1;
                    return Ok(Err(Expr::Any(collection, None)));
                }
                let Some(Tok::Ident(var)) = self.next() else {
                    self.pos -= 1;
                    return Err(self.err());
                };
                self.expect(Tok::Colon)?;
                self.vars.push(var.clone());
                let body = self.or()?;
                self.vars.pop();
                self.expect(Tok::RParen)?;
                return Ok(Err(Expr::Any(collection, Some((var, Box::new(body))))));
            }
            path.push(seg);
        }
        if self.vars.contains(&path[0]) {
            let var = path.remove(0);
            let rest = if path.is_empty() { None } else { Some(path.join("/")) };
            return Ok(Ok(Operand::Var(var, rest)));
        }
        Ok(Ok(Operand::Property(path.join("/"))))
    }
}

pub fn parse_filter(text: &str) -> GraphResult<Expr> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(GraphError::invalid_filter(""));
    }
    let mut p = Parser { toks, pos: 0, text, vars: vec![] };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.err());
    }
    Ok(e)
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
    fn skiptoken_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(250)).unwrap(), 250);
        assert!(decode_skiptoken("garbage").is_err());
    }
}
