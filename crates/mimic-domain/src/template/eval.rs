//! Evaluation of template expressions: the built-in functions templates use, with Azure's
//! argument checks and messages (recorded from real deployments: "Unable to evaluate template
//! language function 'x': function requires N argument(s) while M were provided", "The
//! template language function 'x' expects its parameter to be of type 'String'. The provided
//! value is of type 'Integer'", "The template function 'x' is not valid").
//!
//! What needs the platform (reading a deployed resource for `reference()`, `list*()`) goes
//! through [`Host`]; without a host those calls are [`EvalError::Deferred`], which is how
//! validation skips what can only be known while deploying.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::expr::{self, classify, Expr, StringKind};
use super::hash;
use crate::limits;
use crate::percent::{self, Plus};

#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// Needs the deployment to run (`reference()` or `list*()` of a resource).
    Deferred,
    /// A template language error: Azure's message.
    Language(String),
    /// An error of the resource provider that `reference()`/`list*()` called.
    Provider { code: String, message: String },
}

impl EvalError {
    pub fn message(&self) -> String {
        match self {
            EvalError::Deferred => "The value is not known until the deployment runs.".into(),
            EvalError::Language(m) => m.clone(),
            EvalError::Provider { message, .. } => message.clone(),
        }
    }
}

pub type EvalResult<T> = Result<T, EvalError>;

fn lang<T>(m: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::Language(m.into()))
}

/// What evaluation needs from the platform, as the deploying caller.
pub trait Host {
    /// The resource as a GET with `api_version` returns it (`full`), or its `properties`.
    fn reference(&self, id: &str, api_version: Option<&str>, full: bool) -> EvalResult<Value>;
    /// `POST {id}/{action}` (listKeys, listSecrets, ...).
    fn list(&self, id: &str, action: &str, api_version: &str, body: Option<&Value>) -> EvalResult<Value>;
    /// The provider namespace as the platform registers it (`GET /providers/{namespace}`), for
    /// `providers()`; `None` when no provider registers it.
    fn provider(&self, namespace: &str) -> Option<ProviderDescription>;
}

/// A registered provider namespace: its canonical name and types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDescription {
    pub namespace: String,
    pub resource_types: Vec<ProviderTypeDescription>,
}

/// A registered resource type: locations (display names, as `/providers` lists them) and
/// api-versions (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTypeDescription {
    pub resource_type: String,
    pub locations: Vec<String>,
    pub api_versions: Vec<String>,
}

impl ProviderTypeDescription {
    fn to_json(&self) -> Value {
        json!({"resourceType": self.resource_type, "locations": self.locations, "apiVersions": self.api_versions})
    }
}

/// Where the deployment runs: what `subscription()`, `resourceGroup()`, `deployment()`,
/// `environment()` and `tenant()` return, and the defaults of `resourceId()`.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub tenant_id: String,
    pub subscription_id: Option<String>,
    pub resource_group: Option<String>,
    pub subscription: Value,
    pub resource_group_object: Value,
    pub deployment: Value,
    pub environment: Value,
    pub tenant: Value,
}

/// A resource the template declares, for `reference(name)` and implicit dependencies.
#[derive(Debug, Clone)]
pub struct Declared {
    pub symbolic: Option<String>,
    pub name: String,
    pub full_type: String,
    pub id: String,
    pub api_version: String,
}

enum VarDef {
    Plain(Value),
    /// One entry of `variables.copy`.
    Copy(Value),
}

enum VarSlot {
    Evaluating,
    Done(Value),
}

/// Evaluates one template's expressions.
pub struct Evaluator<'a> {
    pub scope: &'a Scope,
    pub host: Option<&'a dyn Host>,
    /// Parameter values by lower-cased name.
    pub params: HashMap<String, Value>,
    /// The template's `variables` (raw).
    pub variable_defs: Map<String, Value>,
    variables: RefCell<HashMap<String, VarSlot>>,
    /// User-defined functions by lower-cased `namespace.name`.
    pub functions: HashMap<String, Value>,
    pub declared: Vec<Declared>,
    /// `copyIndex()` of the resource loop being expanded.
    pub resource_copy: Option<(String, i64)>,
    /// Named loops (property and variable copies), innermost last.
    named_copy: RefCell<Vec<(String, i64)>>,
    /// `utcNow()` and `newGuid()` are allowed in parameter defaults only.
    pub in_parameter_default: bool,
    /// Arguments of the user function being evaluated.
    fn_args: RefCell<Vec<HashMap<String, Value>>>,
    /// `reference()`/`list*()` calls seen (their first argument, evaluated), for implicit dependencies.
    pub references: RefCell<Vec<String>>,
    pub deployment_time: String,
    /// Evaluation frames open (values, calls, variables, user functions), refused past
    /// [`limits::MAX_EVAL_DEPTH`] before recursing: a chain of variables each naming the next
    /// is as deep as the template is long, and must end in an error, not a stack overflow.
    depth: Cell<usize>,
}

/// One open evaluation frame; closing it (on every path, errors included) gives the level back.
struct Frame<'e>(&'e Cell<usize>);

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(scope: &'a Scope, host: Option<&'a dyn Host>) -> Self {
        Evaluator {
            scope,
            host,
            params: HashMap::new(),
            variable_defs: Map::new(),
            variables: RefCell::new(HashMap::new()),
            functions: HashMap::new(),
            declared: Vec::new(),
            resource_copy: None,
            named_copy: RefCell::new(Vec::new()),
            in_parameter_default: false,
            fn_args: RefCell::new(Vec::new()),
            references: RefCell::new(Vec::new()),
            deployment_time: chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
            depth: Cell::new(0),
        }
    }

    fn frame(&self) -> EvalResult<Frame<'_>> {
        let d = self.depth.get() + 1;
        if d > limits::MAX_EVAL_DEPTH {
            return lang(format!(
                "The template is nested too deeply to evaluate: more than '{}' levels of values, function calls and variables referring to variables.",
                limits::MAX_EVAL_DEPTH
            ));
        }
        self.depth.set(d);
        Ok(Frame(&self.depth))
    }

    /// A function's result is a value like any input: within the nesting budget, or an error
    /// (`createArray(createArray(...))` through chained variables would otherwise grow
    /// without bound, and every later walk, copy and drop of it recurses).
    fn bounded(v: Value) -> EvalResult<Value> {
        if limits::value_within(&v, limits::MAX_DEPTH) {
            Ok(v)
        } else {
            lang(format!("The template language expression evaluates to a value nested more than '{}' levels deep.", limits::MAX_DEPTH))
        }
    }

    /// Evaluates every expression in a JSON value: strings, property names, and `copy` arrays
    /// of objects (property iteration).
    pub fn value(&self, v: &Value) -> EvalResult<Value> {
        let _frame = self.frame()?;
        match v {
            Value::String(s) => self.string(s),
            Value::Array(items) => items.iter().map(|i| self.value(i)).collect::<EvalResult<Vec<_>>>().map(Value::Array),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    if k.eq_ignore_ascii_case("copy") && is_property_copy(v) {
                        for (name, items) in self.property_copy(v)? {
                            out.insert(name, Value::Array(items));
                        }
                        continue;
                    }
                    let key = match self.string(k)? {
                        Value::String(s) => s,
                        other => {
                            return lang(format!(
                            "The language expression '{k}' must evaluate to a string to be used as a property name; it is of type '{}'.",
                            type_name(&other)
                        ))
                        }
                    };
                    out.insert(key, self.value(v)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn property_copy(&self, v: &Value) -> EvalResult<Vec<(String, Vec<Value>)>> {
        let mut out = Vec::new();
        for spec in v.as_array().into_iter().flatten() {
            let name = match self.value(&spec["name"])? {
                Value::String(s) => s,
                _ => return lang("The copy property 'name' must be a string."),
            };
            let count = self.count(&spec["count"])?;
            let mut items = Vec::new();
            for i in 0..count {
                self.named_copy.borrow_mut().push((name.to_ascii_lowercase(), i));
                let r = self.value(&spec["input"]);
                self.named_copy.borrow_mut().pop();
                items.push(r?);
            }
            out.push((name, items));
        }
        Ok(out)
    }

    /// A `copy.count`: an integer 0..=800.
    pub fn count(&self, v: &Value) -> EvalResult<i64> {
        match self.value(v)? {
            Value::Number(n) if n.as_i64().is_some() => {
                let c = n.as_i64().unwrap_or(0);
                if !(0..=800).contains(&c) {
                    return lang(format!(
                        "The copy count must be a non-negative integer value and cannot exceed '800'. The provided value is '{c}'."
                    ));
                }
                Ok(c)
            }
            other => lang(format!("The copy count must be an integer. The provided value is of type '{}'.", type_name(&other))),
        }
    }

    pub fn string(&self, s: &str) -> EvalResult<Value> {
        match classify(s) {
            StringKind::Literal(t) => Ok(Value::String(t.into_owned())),
            StringKind::Expression(text) => {
                let e = expr::parse(text).map_err(EvalError::Language)?;
                self.expr(&e)
            }
        }
    }

    pub fn variable(&self, name: &str) -> EvalResult<Value> {
        let _frame = self.frame()?;
        let key = name.to_ascii_lowercase();
        match self.variables.borrow().get(&key) {
            Some(VarSlot::Done(v)) => return Ok(v.clone()),
            Some(VarSlot::Evaluating) => {
                return lang(format!("The template variable '{name}' is not valid: a circular reference was detected. Please see https://aka.ms/arm-functions#variables for usage details."))
            }
            None => {}
        }
        let def = self.variable_def(&key).ok_or_else(|| {
            EvalError::Language(format!(
                "The template variable '{name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details."
            ))
        })?;
        self.variables.borrow_mut().insert(key.clone(), VarSlot::Evaluating);
        let r = match def {
            VarDef::Plain(v) => self.value(&v),
            VarDef::Copy(spec) => self
                .property_copy(&Value::Array(vec![spec]))
                .map(|made| made.into_iter().next().map(|(_, items)| Value::Array(items)).unwrap_or(Value::Null)),
        };
        match r {
            Ok(v) => {
                self.variables.borrow_mut().insert(key, VarSlot::Done(v.clone()));
                Ok(v)
            }
            Err(e) => {
                self.variables.borrow_mut().remove(&key);
                Err(e)
            }
        }
    }

    /// The definition of a variable, including those a `variables.copy` array makes.
    fn variable_def(&self, key: &str) -> Option<VarDef> {
        if let Some((_, v)) = self.variable_defs.iter().find(|(k, _)| k.to_ascii_lowercase() == key && !k.eq_ignore_ascii_case("copy")) {
            return Some(VarDef::Plain(v.clone()));
        }
        let copies = self.variable_defs.iter().find(|(k, _)| k.eq_ignore_ascii_case("copy"))?.1.as_array()?;
        copies.iter().find(|spec| spec["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(key))).map(|spec| VarDef::Copy(spec.clone()))
    }

    pub fn expr(&self, e: &Expr) -> EvalResult<Value> {
        let _frame = self.frame()?;
        match e {
            Expr::Str(s) => Ok(Value::String(s.clone())),
            Expr::Int(n) => Ok(Value::Number((*n).into())),
            Expr::Prop(base, name) => {
                let v = self.expr(base)?;
                property(&v, name)
            }
            Expr::Index(base, idx) => {
                let v = self.expr(base)?;
                let i = self.expr(idx)?;
                index(&v, &i)
            }
            Expr::Call { name, args } => self.call(name, args),
        }
    }

    fn call(&self, name: &str, args: &[Expr]) -> EvalResult<Value> {
        let lower = name.to_ascii_lowercase();
        // Lazy functions: only the branch taken is evaluated.
        match lower.as_str() {
            "if" => {
                if args.len() != 3 {
                    return Err(arity("if", 3, args.len()));
                }
                return match self.expr(&args[0])? {
                    Value::Bool(true) => self.expr(&args[1]),
                    Value::Bool(false) => self.expr(&args[2]),
                    other => Err(type_error("if", "first ", "Boolean", &other)),
                };
            }
            "and" | "or" => {
                if args.len() < 2 {
                    return lang(format!("Unable to evaluate template language function '{lower}': function requires at least 2 argument(s) while {} were provided. Please see https://aka.ms/arm-template-expressions/#{lower} for usage details.", args.len()));
                }
                for a in args {
                    match self.expr(a)? {
                        Value::Bool(b) if b == (lower == "or") => return Ok(Value::Bool(b)),
                        Value::Bool(_) => {}
                        other => return Err(type_error(&lower, "", "Boolean", &other)),
                    }
                }
                return Ok(Value::Bool(lower == "and"));
            }
            "coalesce" => {
                if args.is_empty() {
                    return Err(at_least_one("coalesce"));
                }
                for a in args {
                    let v = self.expr(a)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                return Ok(Value::Null);
            }
            _ => {}
        }
        if lower.contains('.') {
            let vals = args.iter().map(|a| self.expr(a)).collect::<EvalResult<Vec<_>>>()?;
            return self.user_function(name, &lower, vals).and_then(Self::bounded);
        }
        let vals = args.iter().map(|a| self.expr(a)).collect::<EvalResult<Vec<_>>>()?;
        self.builtin(&lower, name, vals).and_then(Self::bounded)
    }

    fn user_function(&self, name: &str, lower: &str, args: Vec<Value>) -> EvalResult<Value> {
        let def = self.functions.get(lower).cloned().ok_or_else(|| {
            EvalError::Language(format!(
                "The template function '{name}' is not valid. Please see https://aka.ms/arm-functions for usage details."
            ))
        })?;
        let params = def["parameters"].as_array().cloned().unwrap_or_default();
        if params.len() != args.len() {
            return Err(arity(name, params.len(), args.len()));
        }
        let mut frame = HashMap::new();
        for (p, v) in params.iter().zip(args) {
            frame.insert(p["name"].as_str().unwrap_or_default().to_ascii_lowercase(), v);
        }
        self.fn_args.borrow_mut().push(frame);
        let r = self.value(&def["output"]["value"]);
        self.fn_args.borrow_mut().pop();
        r
    }

    fn copy_index(&self, args: &[Value]) -> EvalResult<Value> {
        if args.len() > 2 {
            return Err(arity_range("copyIndex", 0, 2, args.len()));
        }
        let (loop_name, offset) = match args {
            [] => (None, 0),
            [Value::String(s)] => (Some(s.clone()), 0),
            [Value::Number(n)] => (None, n.as_i64().unwrap_or(0)),
            [Value::String(s), Value::Number(n)] => (Some(s.clone()), n.as_i64().unwrap_or(0)),
            _ => return lang("The template language function 'copyIndex' expects a loop name of type 'String' and an offset of type 'Integer'. Please see https://aka.ms/arm-copy for usage details."),
        };
        let i = match &loop_name {
            Some(n) => {
                let key = n.to_ascii_lowercase();
                let named = self.named_copy.borrow().iter().rev().find(|(k, _)| *k == key).map(|(_, i)| *i);
                match named.or_else(|| self.resource_copy.as_ref().filter(|(k, _)| k.eq_ignore_ascii_case(&key)).map(|(_, i)| *i)) {
                    Some(i) => i,
                    None => return lang(format!("The template function 'copyIndex' is not expected at this location. The provided copy name '{n}' doesn't exist in the resource. Please see https://aka.ms/arm-copy for usage details.")),
                }
            }
            None => match self.resource_copy.as_ref().map(|(_, i)| *i).or_else(|| {
                // An output's `copy` loop has no name: copyIndex() is its index.
                self.named_copy.borrow().iter().rev().find(|(k, _)| k == "__output").map(|(_, i)| *i)
            }) {
                Some(i) => i,
                None => return lang("The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified. Please see https://aka.ms/arm-copy for usage details."),
            },
        };
        Ok(json!(i + offset))
    }

    fn builtin(&self, lower: &str, name: &str, a: Vec<Value>) -> EvalResult<Value> {
        let f = canonical(lower).unwrap_or(name);
        let n = a.len();
        let exact = |k: usize| if n == k { Ok(()) } else { Err(arity(f, k, n)) };
        let range = |lo: usize, hi: usize| if (lo..=hi).contains(&n) { Ok(()) } else { Err(arity_range(f, lo, hi, n)) };
        match lower {
            // ---- deployment and scope -------------------------------------------------------
            "parameters" => {
                exact(1)?;
                let p = str_arg(f, &a[0], "")?;
                if let Some(frame) = self.fn_args.borrow().last() {
                    if let Some(v) = frame.get(&p.to_ascii_lowercase()) {
                        return Ok(v.clone());
                    }
                }
                self.params.get(&p.to_ascii_lowercase()).cloned().ok_or_else(|| {
                    EvalError::Language(format!("The template parameter '{p}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details."))
                })
            }
            "variables" => {
                exact(1)?;
                let v = str_arg(f, &a[0], "")?;
                self.variable(&v)
            }
            "copyindex" => self.copy_index(&a),
            "resourcegroup" => {
                exact(0)?;
                if self.scope.resource_group_object.is_null() {
                    return lang("The template function 'resourceGroup' is not expected at this location. Please see https://aka.ms/arm-functions for usage details.");
                }
                Ok(self.scope.resource_group_object.clone())
            }
            "subscription" => {
                exact(0)?;
                Ok(self.scope.subscription.clone())
            }
            "tenant" => {
                exact(0)?;
                Ok(self.scope.tenant.clone())
            }
            "deployment" => {
                exact(0)?;
                Ok(self.scope.deployment.clone())
            }
            "environment" => {
                exact(0)?;
                Ok(self.scope.environment.clone())
            }
            "managementgroup" => lang("The template function 'managementGroup' is not expected at this location. Please see https://aka.ms/arm-functions for usage details."),
            "resourceid" => self.resource_id(&a),
            "subscriptionresourceid" => {
                if n < 2 {
                    return Err(arity_range(f, 2, usize::MAX, n));
                }
                let strs = strings(f, &a)?;
                let (sub, rest) = match type_position(&strs) {
                    Some(0) => (self.scope.subscription_id.clone().unwrap_or_default(), &strs[..]),
                    Some(1) => (strs[0].clone(), &strs[1..]),
                    _ => return Err(resource_id_shape(f, &strs)),
                };
                let path = type_and_names(f, rest)?;
                Ok(Value::String(format!("/subscriptions/{sub}/providers/{path}")))
            }
            "tenantresourceid" => {
                let strs = strings(f, &a)?;
                if type_position(&strs) != Some(0) {
                    return Err(resource_id_shape(f, &strs));
                }
                Ok(Value::String(format!("/providers/{}", type_and_names(f, &strs)?)))
            }
            "extensionresourceid" => {
                if n < 3 {
                    return Err(arity_range(f, 3, usize::MAX, n));
                }
                let strs = strings(f, &a)?;
                let path = type_and_names(f, &strs[1..])?;
                Ok(Value::String(format!("{}/providers/{path}", strs[0].trim_end_matches('/'))))
            }
            "resourceinfo" => {
                // languageVersion 2.0: id, name, type and apiVersion of a resource the template
                // declares under a symbolic name (learn.microsoft.com template-functions-resource
                // #resourceinfo).
                exact(1)?;
                let target = str_arg(f, &a[0], "first ")?;
                let d = self.declared.iter().find(|d| d.symbolic.as_deref() == Some(target.as_str())).ok_or_else(|| {
                    EvalError::Language(format!("The template function 'resourceInfo' is not valid: the template declares no resource with the symbolic name '{target}'."))
                })?;
                Ok(serde_json::json!({"id": d.id, "name": d.name, "type": d.full_type, "apiVersion": d.api_version}))
            }
            // Deprecated but still evaluated (learn.microsoft.com template-functions-resource
            // #providers): with a type, `{resourceType, locations, apiVersions}`; without, the
            // namespace with all its types.
            "providers" => {
                range(1, 2)?;
                let ns = str_arg(f, &a[0], "first ")?;
                let ty = a.get(1).map(|t| str_arg(f, t, "second ")).transpose()?;
                let Some(h) = self.host else { return Err(EvalError::Deferred) };
                let p = h.provider(&ns).ok_or_else(|| EvalError::Provider {
                    code: "InvalidResourceNamespace".into(),
                    message: format!("The resource namespace '{ns}' is invalid."),
                })?;
                match ty {
                    Some(t) => p.resource_types.iter().find(|x| x.resource_type.eq_ignore_ascii_case(&t)).map(|x| x.to_json()).ok_or_else(|| {
                        EvalError::Provider {
                            code: "InvalidResourceType".into(),
                            message: format!("The resource type '{t}' could not be found in the namespace '{}'.", p.namespace),
                        }
                    }),
                    None => Ok(json!({
                        "namespace": p.namespace,
                        "resourceTypes": p.resource_types.iter().map(ProviderTypeDescription::to_json).collect::<Vec<_>>(),
                    })),
                }
            }
            "reference" => {
                range(1, 3)?;
                let target = str_arg(f, &a[0], "first ")?;
                let api = match a.get(1) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Null) | None => None,
                    Some(other) => return Err(type_error(f, "second ", "String", other)),
                };
                let full = matches!(a.get(2), Some(Value::String(s)) if s.eq_ignore_ascii_case("full"));
                let (id, api) = self.resolve_reference(&target, api);
                self.references.borrow_mut().push(id.clone());
                match self.host {
                    None => Err(EvalError::Deferred),
                    Some(h) => h.reference(&id, api.as_deref(), full),
                }
            }
            l if l.starts_with("list") && l.len() > 4 => {
                range(2, 3)?;
                let target = str_arg(f, &a[0], "first ")?;
                let api = str_arg(f, &a[1], "second ")?;
                let (id, _) = self.resolve_reference(&target, None);
                self.references.borrow_mut().push(id.clone());
                match self.host {
                    None => Err(EvalError::Deferred),
                    Some(h) => h.list(&id, name, &api, a.get(2)),
                }
            }
            "utcnow" => {
                range(0, 1)?;
                if !self.in_parameter_default {
                    return lang("The template function 'utcNow' is not expected at this location. It can only be used with parameter default value. Please see https://aka.ms/arm-functions for usage details.");
                }
                let now = chrono::Utc::now();
                Ok(Value::String(match a.first() {
                    None => now.format("%Y%m%dT%H%M%SZ").to_string(),
                    Some(Value::String(fmt)) => dotnet_date(&now, fmt),
                    Some(other) => return Err(type_error(f, "", "String", other)),
                }))
            }
            "newguid" => {
                exact(0)?;
                if !self.in_parameter_default {
                    return lang("The template function 'newGuid' is not expected at this location. It can only be used with parameter default value. Please see https://aka.ms/arm-functions for usage details.");
                }
                Ok(Value::String(uuid::Uuid::new_v4().to_string()))
            }
            // ---- strings ------------------------------------------------------------------
            "uniquestring" | "guid" => {
                if n == 0 {
                    return Err(at_least_one(f));
                }
                let mut parts = Vec::new();
                for v in &a {
                    match v {
                        Value::String(s) => parts.push(s.as_str()),
                        other => return Err(type_error(f, "", "String", other)),
                    }
                }
                Ok(Value::String(if lower == "guid" { hash::guid(&parts) } else { hash::unique_string(&parts) }))
            }
            "concat" => {
                if n == 0 {
                    return Err(at_least_one(f));
                }
                if a.iter().any(Value::is_array) {
                    let mut out = Vec::new();
                    for v in &a {
                        match v {
                            Value::Array(items) => out.extend(items.iter().cloned()),
                            Value::Null => {}
                            other => return Err(type_error(f, "", "Array", other)),
                        }
                    }
                    return Ok(Value::Array(out));
                }
                let mut s = String::new();
                for v in &a {
                    match v {
                        Value::Object(_) => return lang("The template language function 'concat' expects its parameters to be of type 'String' or 'Array'. The provided value is of type 'Object'. Please see https://aka.ms/arm-template-expressions for usage details."),
                        other => s.push_str(&to_text(other)),
                    }
                }
                Ok(Value::String(s))
            }
            "format" => {
                if n == 0 {
                    return Err(at_least_one(f));
                }
                let fmt = str_arg(f, &a[0], "first ")?;
                dotnet_format(&fmt, &a[1..]).map(Value::String)
            }
            "string" => {
                exact(1)?;
                Ok(Value::String(match &a[0] {
                    Value::String(s) => s.clone(),
                    Value::Array(_) | Value::Object(_) => serde_json::to_string(&a[0]).unwrap_or_default(),
                    other => to_text(other),
                }))
            }
            "tolower" | "toupper" | "trim" => {
                exact(1)?;
                let s = str_arg(f, &a[0], "")?;
                Ok(Value::String(match lower {
                    "tolower" => s.to_lowercase(),
                    "toupper" => s.to_uppercase(),
                    _ => s.trim().to_string(),
                }))
            }
            "substring" => {
                range(1, 3)?;
                let s = str_arg(f, &a[0], "first ")?;
                let chars: Vec<char> = s.chars().collect();
                let start = a.get(1).map(|v| int_arg(f, v, "second ")).transpose()?.unwrap_or(0);
                let len = a.get(2).map(|v| int_arg(f, v, "third ")).transpose()?.unwrap_or(chars.len() as i64 - start);
                if start < 0 || len < 0 || start + len > chars.len() as i64 {
                    return lang(format!(
                        "The index and length parameters must refer to a location within the string. The index parameter: '{start}', the length parameter: '{len}', the length of the string parameter: '{}'. Please see https://aka.ms/arm-template-expressions#substring for usage details.",
                        chars.len()
                    ));
                }
                Ok(Value::String(chars[start as usize..(start + len) as usize].iter().collect()))
            }
            "replace" => {
                exact(3)?;
                let s = str_arg(f, &a[0], "first ")?;
                let old = str_arg(f, &a[1], "second ")?;
                let new = str_arg(f, &a[2], "third ")?;
                if old.is_empty() {
                    return lang("The template language function 'replace' expects its second parameter to be a non-empty string. Please see https://aka.ms/arm-template-expressions#replace for usage details.");
                }
                Ok(Value::String(s.replace(&old, &new)))
            }
            "split" => {
                exact(2)?;
                let s = str_arg(f, &a[0], "first ")?;
                let delims: Vec<String> = match &a[1] {
                    Value::String(d) => vec![d.clone()],
                    Value::Array(ds) => ds.iter().map(|d| d.as_str().map(str::to_string).ok_or_else(|| type_error(f, "second ", "String", d))).collect::<EvalResult<_>>()?,
                    other => return Err(type_error(f, "second ", "String", other)),
                };
                let mut parts = vec![s];
                for d in delims.iter().filter(|d| !d.is_empty()) {
                    parts = parts.iter().flat_map(|p| p.split(d.as_str()).map(str::to_string).collect::<Vec<_>>()).collect();
                }
                Ok(Value::Array(parts.into_iter().map(Value::String).collect()))
            }
            "startswith" | "endswith" => {
                exact(2)?;
                let (s, t) = match (&a[0], &a[1]) {
                    (Value::String(s), Value::String(t)) => (s.to_lowercase(), t.to_lowercase()),
                    (x, y) => return lang(format!("The template language function '{f}' expects its parameters to be of type string and string. The provided value is of type '{}' and '{}'. Please see https://aka.ms/arm-template-expressions#{f} for usage details.", type_name(x), type_name(y))),
                };
                Ok(Value::Bool(if lower == "startswith" { s.starts_with(&t) } else { s.ends_with(&t) }))
            }
            "indexof" | "lastindexof" => {
                exact(2)?;
                match (&a[0], &a[1]) {
                    (Value::String(s), Value::String(t)) => {
                        let (s, t) = (s.to_lowercase(), t.to_lowercase());
                        let found = if lower == "indexof" { s.find(&t) } else { s.rfind(&t) };
                        Ok(json!(found.map(|b| s[..b].chars().count() as i64).unwrap_or(-1)))
                    }
                    (Value::Array(items), v) => {
                        let pos = if lower == "indexof" { items.iter().position(|i| i == v) } else { items.iter().rposition(|i| i == v) };
                        Ok(json!(pos.map(|p| p as i64).unwrap_or(-1)))
                    }
                    (x, y) => lang(format!("The template language function '{f}' expects its parameters to be of type string and string. The provided value is of type '{}' and '{}'. Please see https://aka.ms/arm-template-expressions#{f} for usage details.", type_name(x), type_name(y))),
                }
            }
            "padleft" => {
                if !(2..=3).contains(&n) {
                    return lang(format!("Unable to evaluate template language function 'padLeft': function requires minimum two and maximum three arguments while '{n}' was provided. The syntax is padLeft(string, totalWidth [, paddingChar]). Please see https://aka.ms/arm-template-expressions/#padleft for usage details."));
                }
                let s = match &a[0] {
                    Value::String(s) => s.clone(),
                    Value::Number(x) => x.to_string(),
                    other => return Err(type_error(f, "first ", "String", other)),
                };
                let width = int_arg(f, &a[1], "second ")?;
                let pad = match a.get(2) {
                    Some(Value::String(p)) if p.chars().count() == 1 => p.chars().next().unwrap_or(' '),
                    Some(Value::String(_)) => return lang("The template language function 'padLeft' expects its third parameter to be a single character. Please see https://aka.ms/arm-template-expressions#padleft for usage details."),
                    Some(other) => return Err(type_error(f, "third ", "String", other)),
                    None => ' ',
                };
                let len = s.chars().count() as i64;
                Ok(Value::String(if width > len { std::iter::repeat_n(pad, (width - len) as usize).chain(s.chars()).collect() } else { s }))
            }
            "base64" => {
                if n != 1 {
                    return lang("The template language function 'base64' must have only one parameter. Please see https://aka.ms/arm-template-expressions for usage details.");
                }
                let s = str_arg(f, &a[0], "")?;
                Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())))
            }
            "base64tostring" | "base64tojson" => {
                exact(1)?;
                let s = match &a[0] {
                    Value::String(s) => s.clone(),
                    other => return lang(format!("The template language function '{f}' expects its parameter to be a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#{f} for usage details.", type_name(other))),
                };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .map_err(|_| EvalError::Language(format!("The template language function '{f}' expects its parameter to be a valid base64 string. Please see https://aka.ms/arm-template-expressions#{f} for usage details.")))?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if lower == "base64tojson" {
                    return parse_json_text(f, &text);
                }
                Ok(Value::String(text))
            }
            "datauri" => {
                exact(1)?;
                let s = str_arg(f, &a[0], "")?;
                Ok(Value::String(format!("data:text/plain;charset=utf8;base64,{}", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))))
            }
            "datauritostring" => {
                exact(1)?;
                let s = match &a[0] {
                    Value::String(s) => s.clone(),
                    other => return lang(format!("The template language function 'dataUriToString' expects its parameter to be a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#dataUriToString for usage details.", type_name(other))),
                };
                let bad = || EvalError::Language(format!("The template language function 'dataUriToString' expects its parameter to be formatted as a valid data URI. The provided value '{s}' was not formatted correctly. Please see https://aka.ms/arm-template-expressions#dataUriToString for usage details."));
                let rest = s.strip_prefix("data:").ok_or_else(bad)?;
                let (meta, data) = rest.split_once(',').ok_or_else(bad)?;
                if meta.ends_with(";base64") {
                    let bytes = base64::engine::general_purpose::STANDARD.decode(data).map_err(|_| bad())?;
                    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
                } else {
                    Ok(Value::String(percent::decode_lossy(data, Plus::Space)))
                }
            }
            "uri" => {
                exact(2)?;
                let base = str_arg(f, &a[0], "first ")?;
                let rel = str_arg(f, &a[1], "second ")?;
                Ok(Value::String(join_uri(&base, &rel)))
            }
            "uricomponent" => {
                exact(1)?;
                let s = str_arg(f, &a[0], "")?;
                Ok(Value::String(percent::encode_component(&s)))
            }
            "uricomponenttostring" => {
                exact(1)?;
                let s = str_arg(f, &a[0], "")?;
                Ok(Value::String(percent::decode_lossy(&s, Plus::Space)))
            }
            "json" => {
                exact(1)?;
                let s = str_arg(f, &a[0], "")?;
                parse_json_text(f, &s)
            }
            // ---- arrays and objects -------------------------------------------------------
            "array" => {
                exact(1)?;
                Ok(match &a[0] {
                    Value::Array(_) => a[0].clone(),
                    other => Value::Array(vec![other.clone()]),
                })
            }
            "createarray" => Ok(Value::Array(a)),
            "createobject" => {
                if !n.is_multiple_of(2) {
                    return lang(format!("The template language function 'createObject' must have an even number of parameters. The provided number of parameters is '{n}'. Please see https://aka.ms/arm-template-expressions#createobject for usage details."));
                }
                let mut m = Map::new();
                for pair in a.chunks(2) {
                    let k = str_arg(f, &pair[0], "")?;
                    m.insert(k, pair[1].clone());
                }
                Ok(Value::Object(m))
            }
            "length" => {
                exact(1)?;
                Ok(json!(match &a[0] {
                    Value::String(s) => s.chars().count(),
                    Value::Array(x) => x.len(),
                    Value::Object(m) => m.len(),
                    other => return lang(format!("The template language function 'length' expects its parameter to be an array, an object, or a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#length for usage details.", type_name(other))),
                }))
            }
            "empty" => {
                exact(1)?;
                Ok(Value::Bool(match &a[0] {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(x) => x.is_empty(),
                    Value::Object(m) => m.is_empty(),
                    other => return lang(format!("The template function 'empty' expects its parameter to be an object, an array, or a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#empty for usage details.", type_name(other))),
                }))
            }
            "first" | "last" => {
                exact(1)?;
                let first = lower == "first";
                Ok(match &a[0] {
                    Value::String(s) => Value::String(if first { s.chars().next() } else { s.chars().last() }.map(String::from).unwrap_or_default()),
                    Value::Array(x) => if first { x.first() } else { x.last() }.cloned().unwrap_or(Value::Null),
                    Value::Null => Value::Null,
                    other => return lang(format!("The template language function '{f}' expects its parameter be an array or a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#{f} for usage details.", type_name(other))),
                })
            }
            "skip" | "take" => {
                exact(2)?;
                let k = int_arg(f, &a[1], "second ")?.max(0) as usize;
                let skip = lower == "skip";
                Ok(match &a[0] {
                    Value::String(s) => Value::String(if skip { s.chars().skip(k).collect() } else { s.chars().take(k).collect() }),
                    Value::Array(x) => Value::Array(if skip { x.iter().skip(k).cloned().collect() } else { x.iter().take(k).cloned().collect() }),
                    other => return lang(format!("The template language function '{f}' expects its first parameter to be an array or a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#{f} for usage details.", type_name(other))),
                })
            }
            "contains" => {
                exact(2)?;
                Ok(Value::Bool(match (&a[0], &a[1]) {
                    (Value::String(s), v) => s.contains(&to_text(v)),
                    (Value::Array(x), v) => x.iter().any(|i| i == v),
                    (Value::Object(m), Value::String(k)) => m.keys().any(|x| x.eq_ignore_ascii_case(k)),
                    (other, _) => return lang(format!("The template language function 'contains' expects its first parameter to be an object, an array, or a string. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions#contains for usage details.", type_name(other))),
                }))
            }
            "union" | "intersection" => {
                if n < 2 {
                    return lang(format!("Unable to evaluate template language function '{f}': function requires at least 2 argument(s) while {n} were provided. Please see https://aka.ms/arm-template-expressions/#{f} for usage details."));
                }
                if a.iter().all(Value::is_object) {
                    let maps: Vec<&Map<String, Value>> = a.iter().filter_map(Value::as_object).collect();
                    if lower == "union" {
                        let mut out = Map::new();
                        for m in maps {
                            for (k, v) in m {
                                out.insert(k.clone(), v.clone());
                            }
                        }
                        return Ok(Value::Object(out));
                    }
                    let mut out = maps[0].clone();
                    out.retain(|k, v| maps[1..].iter().all(|m| m.get(k) == Some(v)));
                    return Ok(Value::Object(out));
                }
                if a.iter().all(Value::is_array) {
                    let arrays: Vec<&Vec<Value>> = a.iter().filter_map(Value::as_array).collect();
                    let mut out: Vec<Value> = Vec::new();
                    if lower == "union" {
                        for x in arrays.iter().flat_map(|v| v.iter()) {
                            if !out.contains(x) {
                                out.push(x.clone());
                            }
                        }
                    } else {
                        for x in arrays[0] {
                            if arrays[1..].iter().all(|o| o.contains(x)) && !out.contains(x) {
                                out.push(x.clone());
                            }
                        }
                    }
                    return Ok(Value::Array(out));
                }
                lang(format!("The template language function '{f}' expects its parameters to be either arrays or objects. Please see https://aka.ms/arm-template-expressions#{f} for usage details."))
            }
            "range" => {
                exact(2)?;
                let start = int_arg(f, &a[0], "first ")?;
                let count = int_arg(f, &a[1], "second ")?;
                if !(0..=10000).contains(&count) {
                    return lang("The template language function 'range' expects its second parameter to be a non-negative integer not greater than 10000. Please see https://aka.ms/arm-template-expressions#range for usage details.");
                }
                Ok(Value::Array((start..start + count).map(|i| json!(i)).collect()))
            }
            "min" | "max" => {
                if n == 0 {
                    return Err(at_least_one(f));
                }
                let items: Vec<Value> = if n == 1 { a[0].as_array().cloned().unwrap_or_else(|| a.clone()) } else { a.clone() };
                let mut best: Option<i64> = None;
                for v in &items {
                    let x = int_arg(f, v, "")?;
                    best = Some(match best {
                        None => x,
                        Some(b) if lower == "min" => b.min(x),
                        Some(b) => b.max(x),
                    });
                }
                Ok(best.map(|b| json!(b)).unwrap_or(Value::Null))
            }
            "join" => {
                exact(2)?;
                let items = match &a[0] {
                    Value::Array(x) => x.clone(),
                    other => return Err(type_error(f, "first ", "Array", other)),
                };
                let d = str_arg(f, &a[1], "second ")?;
                Ok(Value::String(items.iter().map(to_text).collect::<Vec<_>>().join(&d)))
            }
            "flatten" => {
                exact(1)?;
                let mut out = Vec::new();
                for v in a[0].as_array().ok_or_else(|| type_error(f, "", "Array", &a[0]))? {
                    match v {
                        Value::Array(x) => out.extend(x.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                }
                Ok(Value::Array(out))
            }
            "items" => {
                exact(1)?;
                let m = a[0].as_object().ok_or_else(|| type_error(f, "", "Object", &a[0]))?;
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by_key(|k| k.to_lowercase());
                Ok(Value::Array(keys.into_iter().map(|k| json!({"key": k, "value": m[k]})).collect()))
            }
            "objectkeys" => {
                exact(1)?;
                let m = a[0].as_object().ok_or_else(|| type_error(f, "", "Object", &a[0]))?;
                Ok(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect()))
            }
            "null" => {
                exact(0)?;
                Ok(Value::Null)
            }
            // ---- logical and comparison ---------------------------------------------------
            "true" | "false" => {
                exact(0)?;
                Ok(Value::Bool(lower == "true"))
            }
            "not" => {
                exact(1)?;
                match &a[0] {
                    Value::Bool(b) => Ok(Value::Bool(!b)),
                    other => Err(type_error(f, "", "Boolean", other)),
                }
            }
            "bool" => {
                exact(1)?;
                match &a[0] {
                    Value::Bool(b) => Ok(Value::Bool(*b)),
                    Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
                    Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
                    Value::Number(x) if x.as_i64() == Some(1) => Ok(Value::Bool(true)),
                    Value::Number(x) if x.as_i64() == Some(0) => Ok(Value::Bool(false)),
                    other => lang(format!("The template language function 'bool' was invoked with a parameter that is not valid. The value cannot be converted to the target type. The provided value is '{}'. Please see https://aka.ms/arm-template-expressions#bool for usage details.", to_text(other))),
                }
            }
            "equals" => {
                exact(2)?;
                Ok(Value::Bool(a[0] == a[1]))
            }
            "less" | "lessorequals" | "greater" | "greaterorequals" => {
                exact(2)?;
                let ord = match (&a[0], &a[1]) {
                    (Value::Number(x), Value::Number(y)) => x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)),
                    (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                    (x, y) => return lang(format!("The template language function '{f}' expects two parameters of matching types: either integers or strings. The provided values are of type '{}' and '{}'. Please see https://aka.ms/arm-template-expressions#{f} for usage details.", type_name(x), type_name(y))),
                };
                use std::cmp::Ordering::*;
                Ok(Value::Bool(matches!(
                    (lower, ord),
                    ("less", Some(Less)) | ("greater", Some(Greater)) | ("lessorequals", Some(Less | Equal)) | ("greaterorequals", Some(Greater | Equal))
                )))
            }
            // ---- numbers ------------------------------------------------------------------
            "add" | "sub" | "mul" | "div" | "mod" => {
                exact(2)?;
                let x = int_arg(f, &a[0], "first ")?;
                let y = int_arg(f, &a[1], "second ")?;
                if (lower == "div" || lower == "mod") && y == 0 {
                    return lang(format!("The template language function '{f}' expects its second parameter to be a non-zero integer. Please see https://aka.ms/arm-template-expressions#{f} for usage details."));
                }
                Ok(json!(match lower {
                    "add" => x.wrapping_add(y),
                    "sub" => x.wrapping_sub(y),
                    "mul" => x.wrapping_mul(y),
                    "div" => x / y,
                    _ => x % y,
                }))
            }
            "int" => {
                exact(1)?;
                match &a[0] {
                    Value::Number(x) => Ok(json!(x.as_i64().unwrap_or_else(|| x.as_f64().unwrap_or(0.0) as i64))),
                    Value::String(s) => s.trim().parse::<i64>().map(|i| json!(i)).map_err(|_| {
                        EvalError::Language(format!("The template language function 'int' was invoked with a parameter that is not valid. The value cannot be converted to the target type. The provided value is '{s}'. Please see https://aka.ms/arm-template-expressions#int for usage details."))
                    }),
                    other => Err(type_error(f, "", "String", other)),
                }
            }
            "float" => {
                exact(1)?;
                match &a[0] {
                    Value::Number(x) => Ok(json!(x.as_f64().unwrap_or(0.0))),
                    Value::String(s) => s.trim().parse::<f64>().map(|x| json!(x)).map_err(|_| EvalError::Language(format!("The template language function 'float' was invoked with a parameter that is not valid. The provided value is '{s}'."))),
                    other => Err(type_error(f, "", "String", other)),
                }
            }
            "datetimeadd" => {
                range(2, 3)?;
                let base = str_arg(f, &a[0], "first ")?;
                let dur = str_arg(f, &a[1], "second ")?;
                let t = chrono::DateTime::parse_from_rfc3339(&base)
                    .map(|d| d.with_timezone(&chrono::Utc))
                    .or_else(|_| chrono::NaiveDateTime::parse_from_str(&base, "%Y%m%dT%H%M%SZ").map(|n| n.and_utc()))
                    .map_err(|_| EvalError::Language(format!("The template language function 'dateTimeAdd' expects its first parameter to be a valid date time string. The provided value is '{base}'.")))?;
                let d = iso_duration(&dur).ok_or_else(|| EvalError::Language(format!("The template language function 'dateTimeAdd' expects its second parameter to be a valid ISO 8601 duration. The provided value is '{dur}'.")))?;
                let r = t + d;
                Ok(Value::String(match a.get(2) {
                    Some(Value::String(fmt)) => dotnet_date(&r, fmt),
                    _ => r.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                }))
            }
            _ => lang(format!("The template function '{name}' is not valid. Please see https://aka.ms/arm-functions for usage details.")),
        }
    }

    /// `resourceId([subscriptionId], [resourceGroupName], type, name1, ...)`.
    fn resource_id(&self, a: &[Value]) -> EvalResult<Value> {
        let f = "resourceId";
        if a.is_empty() {
            return Err(arity_range(f, 1, usize::MAX, a.len()));
        }
        let strs = strings(f, a)?;
        let pos = type_position(&strs).ok_or_else(|| resource_id_shape(f, &strs))?;
        let (sub, rg) = match pos {
            0 => (self.scope.subscription_id.clone(), self.scope.resource_group.clone()),
            1 => (self.scope.subscription_id.clone(), Some(strs[0].clone())),
            2 => (Some(strs[0].clone()), Some(strs[1].clone())),
            _ => return Err(resource_id_shape(f, &strs)),
        };
        let rest = &strs[pos..];
        let ty = rest[0].trim_matches('/');
        if ty.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups") && rest.len() == 2 {
            return Ok(Value::String(format!("/subscriptions/{}/resourceGroups/{}", sub.unwrap_or_default(), rest[1])));
        }
        let path = type_and_names(f, rest)?;
        let sub = sub.unwrap_or_default();
        Ok(Value::String(match rg {
            Some(rg) => format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}"),
            None => format!("/subscriptions/{sub}/providers/{path}"),
        }))
    }

    /// `reference()`'s target: a resource id, or the name of a resource this template declares.
    pub fn resolve_reference(&self, target: &str, api: Option<String>) -> (String, Option<String>) {
        if target.starts_with('/') {
            let declared = self.declared.iter().find(|d| d.id.eq_ignore_ascii_case(target));
            return (target.to_string(), api.or_else(|| declared.map(|d| d.api_version.clone())));
        }
        let found = self
            .declared
            .iter()
            .find(|d| d.symbolic.as_deref().is_some_and(|s| s == target))
            .or_else(|| self.declared.iter().find(|d| d.name.eq_ignore_ascii_case(target)))
            .or_else(|| self.declared.iter().find(|d| format!("{}/{}", d.full_type, d.name).eq_ignore_ascii_case(target)));
        match found {
            Some(d) => (d.id.clone(), api.or_else(|| Some(d.api_version.clone()))),
            None => {
                // `Namespace/type/name` relative to the deployment's scope.
                let segs: Vec<&str> = target.split('/').collect();
                if segs.len() >= 3 && segs.len() % 2 == 1 {
                    let ty = format!("{}/{}", segs[0], segs[1..].iter().step_by(2).cloned().collect::<Vec<_>>().join("/"));
                    let names: Vec<&str> = segs[2..].iter().step_by(2).cloned().collect();
                    if let Ok(Value::String(id)) = self.resource_id(
                        &std::iter::once(Value::String(ty)).chain(names.iter().map(|n| Value::String(n.to_string()))).collect::<Vec<_>>(),
                    ) {
                        return (id, api);
                    }
                }
                (target.to_string(), api)
            }
        }
    }
}

fn is_property_copy(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(|s| s.get("name").is_some() && s.get("count").is_some() && s.get("input").is_some()))
}

/// The argument position of the resource type in resourceId-like functions (the first
/// argument with a namespace: `Namespace/type`).
fn type_position(strs: &[String]) -> Option<usize> {
    strs.iter().position(|s| s.trim_matches('/').contains('/') && !s.starts_with('/'))
}

fn resource_id_shape(f: &str, strs: &[String]) -> EvalError {
    EvalError::Language(format!(
        "Unable to evaluate template language function '{f}': function requires exactly one multi-segmented argument which must be resource type including resource provider namespace. Current function arguments '{}'. Please see https://aka.ms/arm-template-expressions/#{} for usage details.",
        strs.join(","),
        f.to_ascii_lowercase()
    ))
}

/// `Namespace/t1/t2`, `n1`, `n2` → `Namespace/t1/n1/t2/n2` (names may carry `/` themselves).
fn type_and_names(f: &str, rest: &[String]) -> EvalResult<String> {
    let ty = rest[0].trim_matches('/');
    let segs: Vec<&str> = ty.split('/').filter(|s| !s.is_empty()).collect();
    let names: Vec<&str> = rest[1..].iter().flat_map(|n| n.trim_matches('/').split('/')).filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 || names.len() != segs.len() - 1 {
        return lang(format!(
            "Unable to evaluate template language function '{f}': the type '{ty}' requires '{}' resource name argument(s). Please see https://aka.ms/arm-template-expressions/#{} for usage details.",
            segs.len().saturating_sub(1),
            f.to_ascii_lowercase()
        ));
    }
    let mut out = segs[0].to_string();
    for (t, n) in segs[1..].iter().zip(names) {
        out.push_str(&format!("/{t}/{n}"));
    }
    Ok(out)
}

fn strings(f: &str, a: &[Value]) -> EvalResult<Vec<String>> {
    a.iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(EvalError::Language(format!(
                "The template language function '{f}' expects its parameters to be of type 'String'. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions for usage details.",
                type_name(other)
            ))),
        })
        .collect()
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "Float",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// How .NET renders a scalar in string concatenation (`True`, not `true`).
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn str_arg(f: &str, v: &Value, ordinal: &str) -> EvalResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(type_error(f, ordinal, "String", other)),
    }
}

fn int_arg(f: &str, v: &Value, ordinal: &str) -> EvalResult<i64> {
    match v {
        Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or(0)),
        other => Err(type_error(f, ordinal, "Integer", other)),
    }
}

fn type_error(f: &str, ordinal: &str, expected: &str, got: &Value) -> EvalError {
    EvalError::Language(format!(
        "The template language function '{f}' expects its {ordinal}parameter to be of type '{expected}'. The provided value is of type '{}'. Please see https://aka.ms/arm-template-expressions for usage details.",
        type_name(got)
    ))
}

fn arity(f: &str, want: usize, got: usize) -> EvalError {
    EvalError::Language(format!(
        "Unable to evaluate template language function '{f}': function requires {want} argument(s) while {got} were provided. Please see https://aka.ms/arm-template-expressions/#{f} for usage details."
    ))
}

fn arity_range(f: &str, lo: usize, hi: usize, got: usize) -> EvalError {
    if hi == usize::MAX {
        return EvalError::Language(format!(
            "Unable to evaluate template language function '{f}': function requires at least {lo} argument(s) while {got} were provided. Please see https://aka.ms/arm-template-expressions/#{f} for usage details."
        ));
    }
    EvalError::Language(format!(
        "Unable to evaluate template language function '{f}': function requires between {lo} and {hi} argument(s) while {got} were provided. Please see https://aka.ms/arm-template-expressions/#{f} for usage details."
    ))
}

fn at_least_one(f: &str) -> EvalError {
    EvalError::Language(format!(
        "Unable to evaluate template language function '{f}'. At least one parameter should be provided. Please see https://aka.ms/arm-template-expressions for usage details."
    ))
}

/// Property access: case-insensitive, as ARM's JSON is.
pub fn property(v: &Value, name: &str) -> EvalResult<Value> {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                return Ok(x.clone());
            }
            if let Some((_, x)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                return Ok(x.clone());
            }
            lang(format!(
                "The language expression property '{name}' doesn't exist, available properties are '{}'.",
                m.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        }
        Value::Null => lang(format!(
            "The language expression property '{name}' can't be evaluated, property name must be a string and the object cannot be null."
        )),
        other => {
            lang(format!("The language expression property '{name}' can't be evaluated, the value is of type '{}'.", type_name(other)))
        }
    }
}

fn index(v: &Value, i: &Value) -> EvalResult<Value> {
    match (v, i) {
        (Value::Array(items), Value::Number(n)) => {
            let k = n.as_i64().unwrap_or(-1);
            if k < 0 || k as usize >= items.len() {
                return lang(format!("The language expression property array index '{k}' is out of bounds."));
            }
            Ok(items[k as usize].clone())
        }
        (Value::Object(_), Value::String(s)) => property(v, s),
        (Value::Array(_), other) => {
            lang(format!("The language expression property array index '{}' is not valid; the index must be an integer.", to_text(other)))
        }
        (other, _) => lang(format!(
            "The language expression property '{}' can't be evaluated, the value is of type '{}'.",
            to_text(i),
            type_name(other)
        )),
    }
}

fn parse_json_text(f: &str, s: &str) -> EvalResult<Value> {
    if s.trim().is_empty() {
        return Ok(Value::Null);
    }
    mimic_wire::jsonnet::parse(s).map(|p| p.value).map_err(|e| {
        EvalError::Language(format!(
            "The template language function '{f}' expects its parameter to be a valid JSON string. The provided value '{s}' cannot be parsed: '{}'. Please see https://aka.ms/arm-template-expressions#{} for usage details.",
            e.render(),
            f.to_ascii_lowercase()
        ))
    })
}

/// .NET composite formatting: `{0}`, `{1:N0}`, `{{`/`}}`.
fn dotnet_format(fmt: &str, args: &[Value]) -> EvalResult<String> {
    let bad = || {
        EvalError::Language(format!("The template language function 'format' was invoked with an invalid format string '{fmt}'. Please see https://aka.ms/arm-template-expressions#format for usage details."))
    };
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                out.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                out.push('}');
                i += 2;
            }
            '{' => {
                let end = chars[i..].iter().position(|c| *c == '}').ok_or_else(bad)? + i;
                let spec: String = chars[i + 1..end].iter().collect();
                let (idx, f) = spec.split_once(':').map(|(a, b)| (a, Some(b))).unwrap_or((&spec, None));
                let (idx, _align) = idx.split_once(',').unwrap_or((idx, ""));
                let k: usize = idx.trim().parse().map_err(|_| bad())?;
                let v = args.get(k).ok_or_else(|| {
                    EvalError::Language("The template language function 'format' failed: Index (zero based) must be greater than or equal to zero and less than the size of the argument list. Please see https://aka.ms/arm-template-expressions#format for usage details.".to_string())
                })?;
                out.push_str(&format_one(v, f));
                i = end + 1;
            }
            '}' => return Err(bad()),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn format_one(v: &Value, spec: Option<&str>) -> String {
    let Some(spec) = spec.filter(|s| !s.is_empty()) else { return to_text(v) };
    let Some(n) = v.as_f64() else { return to_text(v) };
    let (kind, digits) = spec.split_at(1);
    let digits: usize = digits.parse().unwrap_or(if kind.eq_ignore_ascii_case("n") { 2 } else { 0 });
    match kind {
        "N" | "n" => {
            let s = format!("{:.*}", digits, n.abs());
            let (int, frac) = s.split_once('.').map(|(a, b)| (a.to_string(), Some(b.to_string()))).unwrap_or((s.clone(), None));
            let mut grouped = String::new();
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            format!("{}{grouped}{}", if n < 0.0 { "-" } else { "" }, frac.map(|f| format!(".{f}")).unwrap_or_default())
        }
        "D" | "d" => format!("{:0width$}", n as i64, width = digits),
        "X" => format!("{:0width$X}", n as i64, width = digits),
        "x" => format!("{:0width$x}", n as i64, width = digits),
        _ => to_text(v),
    }
}

/// The .NET custom date formats templates use with utcNow (`yyyyMMddHHmmss`, `u`, `d`...).
fn dotnet_date(t: &chrono::DateTime<chrono::Utc>, fmt: &str) -> String {
    match fmt {
        "u" => return t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        "d" => return t.format("%-m/%-d/%Y").to_string(),
        "o" | "O" => return t.format("%Y-%m-%dT%H:%M:%S%.7fZ").to_string(),
        "s" => return t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => {}
    }
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|x| **x == c).count();
        let piece = match (c, run) {
            ('y', 4) => t.format("%Y").to_string(),
            ('y', 2) => t.format("%y").to_string(),
            ('M', 2) => t.format("%m").to_string(),
            ('M', 1) => t.format("%-m").to_string(),
            ('d', 2) => t.format("%d").to_string(),
            ('d', 1) => t.format("%-d").to_string(),
            ('H', 2) => t.format("%H").to_string(),
            ('h', 2) => t.format("%I").to_string(),
            ('m', 2) => t.format("%M").to_string(),
            ('s', 2) => t.format("%S").to_string(),
            ('f', k) => t.format("%f").to_string()[..k.min(9)].to_string(),
            _ => chars[i..i + run].iter().collect(),
        };
        out.push_str(&piece);
        i += run;
    }
    out
}

fn iso_duration(s: &str) -> Option<chrono::Duration> {
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-').strip_prefix('P')?;
    let (date, time) = s.split_once('T').unwrap_or((s, ""));
    let mut total = chrono::Duration::zero();
    let mut num = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        total += match c {
            'Y' => chrono::Duration::days(365 * n),
            'M' => chrono::Duration::days(30 * n),
            'W' => chrono::Duration::weeks(n),
            'D' => chrono::Duration::days(n),
            _ => return None,
        };
    }
    for c in time.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += match c {
            'H' => chrono::Duration::seconds((n * 3600.0) as i64),
            'M' => chrono::Duration::seconds((n * 60.0) as i64),
            'S' => chrono::Duration::milliseconds((n * 1000.0) as i64),
            _ => return None,
        };
    }
    Some(if neg { -total } else { total })
}

/// `uri(base, relative)`: .NET's `new Uri(new Uri(base), relative)`.
fn join_uri(base: &str, rel: &str) -> String {
    if rel.contains("://") {
        return rel.to_string();
    }
    let (scheme_host, path) = match base.find("://").and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j)) {
        Some(p) => (&base[..p], &base[p..]),
        None => (base, "/"),
    };
    if rel.starts_with('/') {
        return format!("{scheme_host}{rel}");
    }
    let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)];
    format!("{scheme_host}{dir}{rel}")
}

/// The canonical spelling of built-in function names (for messages).
pub fn canonical(lower: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|b| b.eq_ignore_ascii_case(lower)).copied()
}

/// Every built-in function Mimic evaluates (plus `list*`).
pub const BUILTINS: &[&str] = &[
    "parameters",
    "variables",
    "copyIndex",
    "resourceGroup",
    "subscription",
    "tenant",
    "deployment",
    "environment",
    "managementGroup",
    "resourceId",
    "subscriptionResourceId",
    "tenantResourceId",
    "extensionResourceId",
    "reference",
    "resourceInfo",
    "providers",
    "utcNow",
    "newGuid",
    "uniqueString",
    "guid",
    "concat",
    "format",
    "string",
    "toLower",
    "toUpper",
    "trim",
    "substring",
    "replace",
    "split",
    "startsWith",
    "endsWith",
    "indexOf",
    "lastIndexOf",
    "padLeft",
    "base64",
    "base64ToString",
    "base64ToJson",
    "dataUri",
    "dataUriToString",
    "uri",
    "uriComponent",
    "uriComponentToString",
    "json",
    "array",
    "createArray",
    "createObject",
    "length",
    "empty",
    "first",
    "last",
    "skip",
    "take",
    "contains",
    "union",
    "intersection",
    "range",
    "min",
    "max",
    "join",
    "flatten",
    "items",
    "objectKeys",
    "null",
    "true",
    "false",
    "not",
    "bool",
    "equals",
    "less",
    "lessOrEquals",
    "greater",
    "greaterOrEquals",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "int",
    "float",
    "dateTimeAdd",
    "if",
    "and",
    "or",
    "coalesce",
];

/// Whether `name` is a function the evaluator knows (built-ins, `list*`, user functions).
pub fn is_known_function(name: &str, user: &HashMap<String, Value>) -> bool {
    let lower = name.to_ascii_lowercase();
    canonical(&lower).is_some() || (lower.starts_with("list") && lower.len() > 4) || user.contains_key(&lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            tenant_id: "t".into(),
            subscription_id: Some("00000000-0000-0000-0000-000000000001".into()),
            resource_group: Some("myRG".into()),
            subscription: json!({"id": "/subscriptions/00000000-0000-0000-0000-000000000001", "subscriptionId": "00000000-0000-0000-0000-000000000001"}),
            resource_group_object: json!({"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/myRG", "name": "myRG", "location": "westus"}),
            ..Default::default()
        }
    }

    fn ev(s: &str) -> EvalResult<Value> {
        let sc = scope();
        let mut e = Evaluator::new(&sc, None);
        e.params.insert("vmname".into(), json!("myVM"));
        e.variable_defs.insert("idName".into(), json!("[concat('id-', parameters('vmName'))]"));
        e.string(s)
    }

    #[test]
    fn functions_templates_use() {
        assert_eq!(ev("[resourceID('Microsoft.ManagedIdentity/userAssignedIdentities/',variables('idName'))]").unwrap(),
            json!("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/myRG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-myVM"));
        assert_eq!(ev("[resourceGroup().location]").unwrap(), json!("westus"));
        assert_eq!(ev("[format('{0}-{1:N0}', 'a', 8175133)]").unwrap(), json!("a-8,175,133"));
        assert_eq!(ev("[concat('a', 1, true())]").unwrap(), json!("a1True"));
        assert_eq!(ev("[if(equals(1, 2), fail(), 'ok')]").unwrap(), json!("ok"));
        assert_eq!(ev("[[notAnExpression]").unwrap(), json!("[notAnExpression]"));
        assert_eq!(ev("[uniqueString('aaa')]").unwrap(), json!("zavj67f3en4hc"));
        assert_eq!(ev("[length(split('a,b;c', createArray(',', ';')))]").unwrap(), json!(3));
        assert_eq!(ev("[json('{\"a\": [1]}').a[0]]").unwrap(), json!(1));
        assert_eq!(ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')]").unwrap(),
            json!("/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"));
        assert_eq!(ev("[reference('x')]").unwrap_err(), EvalError::Deferred);
    }

    #[test]
    fn errors_read_as_azures() {
        assert_eq!(
            ev("[nonexistent()]").unwrap_err().message(),
            "The template function 'nonexistent' is not valid. Please see https://aka.ms/arm-functions for usage details."
        );
        assert_eq!(ev("[base64(1)]").unwrap_err().message(), "The template language function 'base64' expects its parameter to be of type 'String'. The provided value is of type 'Integer'. Please see https://aka.ms/arm-template-expressions for usage details.");
        assert_eq!(ev("[empty()]").unwrap_err().message(), "Unable to evaluate template language function 'empty': function requires 1 argument(s) while 0 were provided. Please see https://aka.ms/arm-template-expressions/#empty for usage details.");
        assert!(ev("[resourceId('Microsoft.Compute/virtualMachines')]")
            .unwrap_err()
            .message()
            .contains("requires '1' resource name argument(s)"));
    }

    /// Runs `f` on a thread with a 2 MiB stack (tokio's and the blocking pool's default), so a
    /// test past the budget proves the deepest evaluation allowed fits there.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap()
    }

    #[test]
    fn evaluation_depth_is_bounded() {
        // Variables each naming the next: as deep as the template is long.
        let r = on_small_stack(|| {
            let sc = scope();
            let mut e = Evaluator::new(&sc, None);
            for i in 0..5_000 {
                e.variable_defs.insert(format!("v{i}"), json!(format!("[createArray(variables('v{}'))]", i + 1)));
            }
            e.variable_defs.insert("v5000".into(), json!(1));
            e.variable("v0").map_err(|e| e.message())
        });
        let m = r.unwrap_err();
        assert!(m.contains("nested too deeply") || m.contains("more than '64' levels deep"), "{m}");
        // A user function calling itself ends in the same error.
        let r = on_small_stack(|| {
            let sc = scope();
            let mut e = Evaluator::new(&sc, None);
            e.functions.insert("ns.f".into(), json!({"parameters": [], "output": {"type": "string", "value": "[ns.f()]"}}));
            e.string("[ns.f()]").map_err(|e| e.message())
        });
        assert!(r.unwrap_err().contains("nested too deeply"));
        // Function results stay within the value budget: each createArray adds a level.
        let r = on_small_stack(|| {
            let sc = scope();
            let mut e = Evaluator::new(&sc, None);
            for i in 0..40 {
                e.variable_defs.insert(format!("v{i}"), json!(format!("[createArray(createArray(variables('v{}')))]", i + 1)));
            }
            e.variable_defs.insert("v40".into(), json!(1));
            e.variable("v0").map_err(|e| e.message())
        });
        assert!(r.unwrap_err().contains("more than '64' levels deep"));
        // Within the budget everything still evaluates.
        let nested = format!("[{}'a'{}]", "concat(".repeat(limits::MAX_DEPTH - 1), ")".repeat(limits::MAX_DEPTH - 1));
        assert_eq!(on_small_stack(move || ev(&nested).map_err(|e| e.message())).unwrap(), json!("a"));
    }
}
