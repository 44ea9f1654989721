//! A template as ARM validates and deploys it: parameters bound (provided values, defaults,
//! types, allowed values), variables, resources expanded (child resources, `copy` loops,
//! `condition`), their ids computed for the deployment's scope, `dependsOn` and the implicit
//! dependencies of `reference()` resolved and ordered with cycle detection, and outputs.
//!
//! Messages are Azure's: "Deployment template validation failed: 'The template resource 'x'
//! at line 'L' and column 'C' is not valid: ...'", "The value for the template parameter 'x'
//! ... is not provided", "Circular dependency detected on resource: '...'".

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::eval::{self, Declared, EvalError, Evaluator, Host, Scope};
use super::expr::{self, classify, StringKind};
use mimic_wire::jsonnet::{path_index, path_prop};

/// A template within its request body (for positions in messages).
#[derive(Debug, Clone)]
pub struct Template {
    pub root: Map<String, Value>,
    /// Where the template is in the body (`properties.template`), for Json.NET paths.
    pub path: String,
    pub positions: Arc<HashMap<String, (usize, usize)>>,
}

/// A deployment-level failure with Azure's code and message, and where in the body it is.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub code: String,
    pub message: String,
    /// `TemplateViolation` additional info: line, position, path.
    pub violation: Option<(usize, usize, String)>,
}

impl TemplateError {
    fn invalid(inner: String, at: Option<(usize, usize, String)>) -> Self {
        TemplateError {
            code: "InvalidTemplate".into(),
            message: format!("Deployment template validation failed: '{inner}'."),
            violation: at,
        }
    }
}

/// A bound parameter: the template's name, its canonical type and value.
#[derive(Debug, Clone)]
pub struct BoundParam {
    pub name: String,
    pub ty: &'static str,
    pub value: Value,
}

impl BoundParam {
    pub fn secure(&self) -> bool {
        self.ty.starts_with("Secure")
    }
}

/// One resource instance the deployment will write.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The resource's path in the body (`properties.template.resources[2]`).
    pub path: String,
    pub symbolic: Option<String>,
    /// The resource definition with absolute `type` and `name` (children flattened).
    pub def: Value,
    pub copy: Option<(String, i64)>,
    pub name: String,
    pub full_type: String,
    pub api_version: String,
    pub id: String,
    /// `None`: depends on `reference()`, decided while deploying.
    pub condition: Option<bool>,
    pub depends_on: Vec<usize>,
    pub existing: bool,
}

impl Planned {
    pub fn is_deployment(&self) -> bool {
        self.full_type.eq_ignore_ascii_case("Microsoft.Resources/deployments")
    }
}

#[derive(Debug, Clone)]
pub struct Prepared {
    pub params: Vec<BoundParam>,
    pub resources: Vec<Planned>,
    /// Indices of `resources` in an order that respects every dependency.
    pub order: Vec<usize>,
}

const PARAM_TYPES: &[&str] = &["String", "SecureString", "Int", "Bool", "Object", "SecureObject", "Array"];

fn canonical_type(t: &str) -> Option<&'static str> {
    PARAM_TYPES.iter().find(|c| c.eq_ignore_ascii_case(t)).copied()
}

/// The keys of a resource definition that are template syntax, not part of the resource body.
const TEMPLATE_KEYS: &[&str] = &[
    "type",
    "apiVersion",
    "name",
    "dependsOn",
    "copy",
    "condition",
    "comments",
    "scope",
    "resources",
    "resourceGroup",
    "subscriptionId",
    "existing",
    "import",
    "metadata",
    "id",
];

impl Template {
    fn pos(&self, rel: &str) -> Option<(usize, usize, String)> {
        let path = if rel.is_empty() {
            self.path.clone()
        } else if self.path.is_empty() {
            rel.to_string()
        } else {
            format!("{}.{rel}", self.path)
        };
        self.positions.get(&path).map(|(l, c)| (*l, *c, path))
    }

    fn pos_abs(&self, path: &str) -> Option<(usize, usize, String)> {
        self.positions.get(path).map(|(l, c)| (*l, *c, path.to_string()))
    }

    fn abs(&self, rel: &str) -> String {
        if self.path.is_empty() {
            rel.to_string()
        } else if rel.starts_with('[') {
            format!("{}{rel}", self.path)
        } else {
            format!("{}.{rel}", self.path)
        }
    }

    pub fn section(&self, name: &str) -> Option<&Value> {
        self.root.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// An evaluator for this template with bound parameters.
    pub fn evaluator<'a>(
        &self,
        scope: &'a Scope,
        host: Option<&'a dyn Host>,
        params: &[BoundParam],
        declared: &[Planned],
    ) -> Evaluator<'a> {
        let mut ev = Evaluator::new(scope, host);
        for p in params {
            ev.params.insert(p.name.to_ascii_lowercase(), p.value.clone());
        }
        if let Some(Value::Object(v)) = self.section("variables") {
            ev.variable_defs = v.clone();
        }
        ev.functions = user_functions(self);
        ev.declared = declared
            .iter()
            .map(|p| Declared {
                symbolic: p.symbolic.clone(),
                name: p.name.clone(),
                full_type: p.full_type.clone(),
                id: p.id.clone(),
                api_version: p.api_version.clone(),
            })
            .collect();
        ev
    }
}

fn user_functions(t: &Template) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for ns in t.section("functions").and_then(Value::as_array).into_iter().flatten() {
        let Some(prefix) = ns["namespace"].as_str() else { continue };
        for (name, def) in ns["members"].as_object().into_iter().flatten() {
            out.insert(format!("{prefix}.{name}").to_ascii_lowercase(), def.clone());
        }
    }
    out
}

/// Binds provided parameter values to the template's parameters.
pub fn bind_parameters(t: &Template, scope: &Scope, provided: &Map<String, Value>) -> Result<Vec<BoundParam>, TemplateError> {
    let defs = match t.section("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(TemplateError::invalid("The template 'parameters' section must be a JSON object.".into(), t.pos("parameters")))
        }
    };
    let unknown: Vec<&String> = provided.keys().filter(|k| !defs.keys().any(|d| d.eq_ignore_ascii_case(k))).collect();
    if !unknown.is_empty() {
        return Err(TemplateError::invalid(
            format!(
                "The template parameters '{}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '{}'. Please see https://aka.ms/arm-pass-parameter-values for usage details.",
                unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                defs.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            None,
        ));
    }
    let mut bound: Vec<BoundParam> = Vec::new();
    for (name, def) in &defs {
        let rel = path_prop(&path_prop("", "parameters"), name);
        let at = t.pos(&rel);
        let ty_text = def["type"].as_str().unwrap_or("");
        let ty = canonical_type(ty_text).ok_or_else(|| {
            TemplateError::invalid(
                format!(
                    "The template parameter '{name}' at line '{}' and column '{}' has an invalid type '{ty_text}'. The supported types are 'String, SecureString, Int, Bool, Object, SecureObject, Array'. Please see https://aka.ms/arm-syntax-parameters for usage details.",
                    at.as_ref().map(|a| a.0).unwrap_or(0),
                    at.as_ref().map(|a| a.1).unwrap_or(0)
                ),
                at.clone(),
            )
        })?;
        let given = provided.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
        let value = match given {
            Some(g) if g.get("reference").is_some() => {
                return Err(TemplateError {
                    code: "InvalidDeploymentParameterKeyVaultReference".into(),
                    message: format!("The value of deployment parameter '{name}' is a Key Vault reference; Mimic does not host Key Vault."),
                    violation: None,
                })
            }
            Some(g) => match g.get("value") {
                Some(v) => v.clone(),
                None if g.is_object() => Value::Null,
                None => g.clone(),
            },
            None => match def.get("defaultValue") {
                Some(d) => {
                    let mut ev = Evaluator::new(scope, None);
                    for p in &bound {
                        ev.params.insert(p.name.to_ascii_lowercase(), p.value.clone());
                    }
                    ev.functions = user_functions(t);
                    ev.in_parameter_default = true;
                    ev.value(d).map_err(|e| {
                        TemplateError::invalid(
                            format!(
                                "The template parameter '{name}' at line '{}' and column '{}' is not valid: {}. Please see https://aka.ms/arm-syntax-parameters for usage details.",
                                at.as_ref().map(|a| a.0).unwrap_or(0),
                                at.as_ref().map(|a| a.1).unwrap_or(0),
                                e.message()
                            ),
                            at.clone(),
                        )
                    })?
                }
                None => {
                    return Err(TemplateError::invalid(
                        format!(
                            "The value for the template parameter '{name}' at line '{}' and column '{}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.",
                            at.as_ref().map(|a| a.0).unwrap_or(0),
                            at.as_ref().map(|a| a.1).unwrap_or(0)
                        ),
                        at.clone(),
                    ))
                }
            },
        };
        check_type(ty, &value).map_err(|actual| {
            let expected = match ty {
                "String" | "SecureString" => "String, Uri",
                "Int" => "Integer",
                "Bool" => "Boolean",
                "Object" | "SecureObject" => "Object",
                _ => "Array",
            };
            TemplateError::invalid(
                format!("Template parameter JToken type is not valid. Expected '{expected}'. Actual '{actual}'. Please see https://aka.ms/arm-create-parameter-file for usage details."),
                at.clone(),
            )
        })?;
        if let Some(Value::Array(allowed)) = def.get("allowedValues") {
            let ok = match &value {
                Value::Array(items) => items.iter().all(|i| allowed.contains(i)),
                v => allowed.contains(v),
            };
            if !ok {
                return Err(TemplateError::invalid(
                    format!(
                        "The provided value for the template parameter '{name}' is not valid. The value '{}' is not part of the allowed value(s): '{}'. Please see https://aka.ms/arm-syntax-parameters for usage details.",
                        eval::to_text(&value),
                        allowed.iter().map(eval::to_text).collect::<Vec<_>>().join(",")
                    ),
                    at.clone(),
                ));
            }
        }
        check_limits(name, def, &value).map_err(|m| TemplateError::invalid(m, at.clone()))?;
        bound.push(BoundParam { name: name.clone(), ty, value });
    }
    Ok(bound)
}

fn check_type(ty: &str, v: &Value) -> Result<(), &'static str> {
    let ok = match ty {
        "String" | "SecureString" => v.is_string(),
        "Int" => v.as_i64().is_some(),
        "Bool" => v.is_boolean(),
        "Object" | "SecureObject" => v.is_object(),
        _ => v.is_array(),
    };
    if ok {
        Ok(())
    } else {
        Err(eval::type_name(v))
    }
}

fn check_limits(name: &str, def: &Value, v: &Value) -> Result<(), String> {
    if let (Some(min), Some(x)) = (def["minValue"].as_i64(), v.as_i64()) {
        if x < min {
            return Err(format!("The provided value '{x}' for the template parameter '{name}' is not valid. The parameter value is less than the minimum value '{min}'. Please see https://aka.ms/arm-syntax-parameters for usage details."));
        }
    }
    if let (Some(max), Some(x)) = (def["maxValue"].as_i64(), v.as_i64()) {
        if x > max {
            return Err(format!("The provided value '{x}' for the template parameter '{name}' is not valid. The parameter value is greater than the maximum value '{max}'. Please see https://aka.ms/arm-syntax-parameters for usage details."));
        }
    }
    let len = match v {
        Value::String(s) => Some(s.chars().count() as i64),
        Value::Array(a) => Some(a.len() as i64),
        _ => None,
    };
    if let (Some(min), Some(l)) = (def["minLength"].as_i64(), len) {
        if l < min {
            return Err(format!("The provided value for the template parameter '{name}' is not valid. Length of the value should be greater than or equal to '{min}'. Please see https://aka.ms/arm-syntax-parameters for usage details."));
        }
    }
    if let (Some(max), Some(l)) = (def["maxLength"].as_i64(), len) {
        if l > max {
            return Err(format!("The provided value for the template parameter '{name}' is not valid. Length of the value should be less than or equal to '{max}'. Please see https://aka.ms/arm-syntax-parameters for usage details."));
        }
    }
    Ok(())
}

/// Evaluates every variable once (Azure validates them all), so errors surface at validation.
pub fn check_variables(t: &Template, ev: &Evaluator) -> Result<(), TemplateError> {
    let Some(Value::Object(vars)) = t.section("variables") else { return Ok(()) };
    let mut names: Vec<String> = vars.keys().filter(|k| !k.eq_ignore_ascii_case("copy")).cloned().collect();
    for spec in vars.iter().find(|(k, _)| k.eq_ignore_ascii_case("copy")).and_then(|(_, v)| v.as_array()).into_iter().flatten() {
        if let Some(n) = spec["name"].as_str() {
            names.push(n.to_string());
        }
    }
    for name in names {
        match ev.variable(&name) {
            Ok(_) | Err(EvalError::Deferred) => {}
            Err(e) => {
                let at = t.pos(&path_prop("variables", &name));
                let m = e.message();
                let inner = if m.starts_with(&format!("The template variable '{name}'")) {
                    m
                } else {
                    format!("The template variable '{name}' is not valid: {m}. Please see https://aka.ms/arm-functions#variables for usage details.")
                };
                return Err(TemplateError::invalid(inner, at));
            }
        }
    }
    Ok(())
}

/// Every function name called anywhere in a JSON value must exist (checked before evaluating,
/// as ARM parses every expression of a resource when validating).
fn check_functions(v: &Value, user: &HashMap<String, Value>) -> Result<(), String> {
    match v {
        Value::String(s) => {
            if let StringKind::Expression(text) = classify(s) {
                let e = expr::parse(text)?;
                let mut names = Vec::new();
                expr::called_functions(&e, &mut names);
                for n in names {
                    if !eval::is_known_function(&n, user) {
                        return Err(format!(
                            "The template function '{n}' is not valid. Please see https://aka.ms/arm-functions for usage details."
                        ));
                    }
                }
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(|x| check_functions(x, user)),
        Value::Object(m) => {
            for (k, x) in m {
                check_functions(&Value::String(k.clone()), user)?;
                // A nested template with inner scope is checked by its own deployment.
                if k.eq_ignore_ascii_case("template") {
                    continue;
                }
                check_functions(x, user)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

struct RawResource {
    path: String,
    symbolic: Option<String>,
    def: Value,
    parent: Option<(String, String)>,
}

/// The template's resources, children flattened under their parents.
fn raw_resources(t: &Template) -> Result<Vec<RawResource>, TemplateError> {
    let mut out = Vec::new();
    match t.section("resources") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, r) in items.iter().enumerate() {
                out.push(RawResource { path: t.abs(&path_index("resources", i)), symbolic: None, def: r.clone(), parent: None });
            }
        }
        Some(Value::Object(m)) => {
            for (name, r) in m {
                out.push(RawResource {
                    path: t.abs(&path_prop("resources", name)),
                    symbolic: Some(name.clone()),
                    def: r.clone(),
                    parent: None,
                });
            }
        }
        Some(_) => return Err(TemplateError::invalid("The template 'resources' section must be an array.".into(), t.pos("resources"))),
    }
    Ok(out)
}

fn str_field<'v>(def: &'v Value, key: &str) -> Option<&'v Value> {
    def.as_object().and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn resource_error(t: &Template, path: &str, name: &str, msg: &str) -> TemplateError {
    let at = t.pos_abs(path);
    let (l, c) = at.as_ref().map(|a| (a.0, a.1)).unwrap_or((0, 0));
    TemplateError::invalid(
        format!("The template resource '{name}' at line '{l}' and column '{c}' is not valid: {msg}. Please see https://aka.ms/arm-template/#resources for usage details."),
        at,
    )
}

const SEGMENTS: &str = "incorrect segment lengths";

/// The id a resource gets in this deployment's scope.
pub fn resource_id(
    scope: &Scope,
    full_type: &str,
    name: &str,
    resource_scope: Option<&str>,
    rg: Option<&str>,
    sub: Option<&str>,
) -> Result<String, String> {
    let sub = sub.map(str::to_string).or_else(|| scope.subscription_id.clone()).unwrap_or_default();
    let ty_segs: Vec<&str> = full_type.split('/').filter(|s| !s.is_empty()).collect();
    let name_segs: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    let bad = || SEGMENTS.to_string();
    // Extension resources written as `Ns/type/providers/roleAssignments` + `name/Ns2/guid`.
    if let Some(p) = ty_segs.iter().position(|s| s.eq_ignore_ascii_case("providers")) {
        let base_ty = &ty_segs[..p];
        let ext_ty = &ty_segs[p + 1..];
        let base_names = base_ty.len().saturating_sub(1);
        if name_segs.len() != base_names + 1 + ext_ty.len() || base_ty.len() < 2 || ext_ty.is_empty() {
            return Err(bad());
        }
        let base = resource_id(scope, &base_ty.join("/"), &name_segs[..base_names].join("/"), resource_scope, rg, Some(&sub))?;
        let ext_ns = name_segs[base_names];
        let mut id = format!("{base}/providers/{ext_ns}");
        for (t, n) in ext_ty.iter().zip(&name_segs[base_names + 1..]) {
            id.push_str(&format!("/{t}/{n}"));
        }
        return Ok(id);
    }
    if ty_segs.len() < 2 || name_segs.len() != ty_segs.len() - 1 {
        return Err(bad());
    }
    if full_type.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups") {
        return Ok(format!("/subscriptions/{sub}/resourceGroups/{name}"));
    }
    let base = match resource_scope {
        Some(s) if s.starts_with('/') => s.trim_end_matches('/').to_string(),
        Some(rel) => {
            // `Ns/type/name` relative to the deployment's scope.
            let segs: Vec<&str> = rel.split('/').collect();
            if segs.len() < 3 {
                return Err(format!("The scope '{rel}' is not valid"));
            }
            let ty = format!("{}/{}", segs[0], segs[1..].iter().step_by(2).cloned().collect::<Vec<_>>().join("/"));
            let names = segs[2..].iter().step_by(2).cloned().collect::<Vec<_>>().join("/");
            resource_id(scope, &ty, &names, None, rg, Some(&sub))?
        }
        None => match rg.map(str::to_string).or_else(|| if sub_given(sub.as_str(), scope) { scope.resource_group.clone() } else { None }) {
            Some(rg) => format!("/subscriptions/{sub}/resourceGroups/{rg}"),
            None => format!("/subscriptions/{sub}"),
        },
    };
    let mut id = format!("{base}/providers/{}", ty_segs[0]);
    for (t, n) in ty_segs[1..].iter().zip(&name_segs) {
        id.push_str(&format!("/{t}/{n}"));
    }
    Ok(id)
}

fn sub_given(sub: &str, scope: &Scope) -> bool {
    scope.subscription_id.as_deref().is_none_or(|s| s.eq_ignore_ascii_case(sub))
}

/// Expands, evaluates names and orders the template's resources; evaluates variables and the
/// parts of each resource that do not need the deployment to run.
pub fn prepare(t: &Template, scope: &Scope, provided: &Map<String, Value>) -> Result<Prepared, TemplateError> {
    let params = bind_parameters(t, scope, provided)?;
    let ev = t.evaluator(scope, None, &params, &[]);
    check_variables(t, &ev)?;
    let user = user_functions(t);

    // Expand: children flattened, copy loops unrolled.
    let mut planned: Vec<Planned> = Vec::new();
    let mut loops: HashMap<String, Vec<usize>> = HashMap::new();
    let mut symbols: HashMap<String, Vec<usize>> = HashMap::new();
    let mut queue: Vec<(RawResource, Option<(String, i64)>)> = raw_resources(t)?.into_iter().map(|r| (r, None)).collect();
    queue.reverse();
    let mut raw_deps: Vec<(usize, Vec<Value>, Option<usize>)> = Vec::new();
    let mut parent_of: HashMap<usize, usize> = HashMap::new();
    while let Some((raw, inherited_copy)) = queue.pop() {
        let display_path = raw.path.clone();
        if !raw.def.is_object() {
            return Err(resource_error(t, &raw.path, &display_path, "The resource definition must be a JSON object"));
        }
        check_functions(&raw.def, &user).map_err(|m| {
            let name = str_field(&raw.def, "name").and_then(Value::as_str).unwrap_or(&display_path).to_string();
            resource_error(t, &raw.path, &name, m.trim_end_matches('.'))
        })?;
        let copy = str_field(&raw.def, "copy").cloned();
        let instances: Vec<Option<(String, i64)>> = match &copy {
            Some(c) if c.is_object() => {
                let loop_name = c["name"].as_str().unwrap_or("").to_string();
                let mut e = t.evaluator(scope, None, &params, &[]);
                e.resource_copy = inherited_copy.clone();
                let count =
                    e.count(&c["count"]).map_err(|e| resource_error(t, &raw.path, &display_path, e.message().trim_end_matches('.')))?;
                (0..count).map(|i| Some((loop_name.clone(), i))).collect()
            }
            _ => vec![inherited_copy.clone()],
        };
        let loop_key = copy.as_ref().and_then(|c| c["name"].as_str()).map(str::to_ascii_lowercase);
        for inst in instances {
            let mut e = t.evaluator(scope, None, &params, &[]);
            e.resource_copy = inst.clone();
            let fail = |name: &str, m: String| resource_error(t, &raw.path, name, m.trim_end_matches('.'));
            let mut ty = match str_field(&raw.def, "type").map(|v| e.value(v)) {
                Some(Ok(Value::String(s))) => s,
                Some(Err(err)) => return Err(fail(&display_path, err.message())),
                _ => return Err(fail(&display_path, "Required property 'type' not found in JSON".into())),
            };
            let mut name = match str_field(&raw.def, "name").map(|v| e.value(v)) {
                Some(Ok(Value::String(s))) if !s.is_empty() => s,
                Some(Err(err)) => return Err(fail(&display_path, err.message())),
                _ => {
                    let at = t.pos_abs(&raw.path);
                    let (l, c) = at.as_ref().map(|a| (a.0, a.1)).unwrap_or((0, 0));
                    return Err(TemplateError::invalid(
                        format!("The template resource '{}' of type '{ty}' at line '{l}' and column '{c}' is not valid. The name property cannot be null or empty. Please see https://aka.ms/arm-syntax-resources for usage details.", raw.path),
                        at,
                    ));
                }
            };
            let api_version = match str_field(&raw.def, "apiVersion").map(|v| e.value(v)) {
                Some(Ok(Value::String(s))) => s,
                Some(Err(err)) => return Err(fail(&name, err.message())),
                _ => return Err(fail(&name, "Required property 'apiVersion' not found in JSON".into())),
            };
            // Child resources: relative type and name under their parent.
            if let Some((parent_type, parent_name)) = &raw.parent {
                if !ty.contains('/') || ty.split('/').count() < 2 || !ty.contains('.') {
                    ty = format!("{parent_type}/{ty}");
                }
                if name.split('/').count() < ty.split('/').count() - 1 {
                    name = format!("{parent_name}/{name}");
                }
            }
            let sub = str_field(&raw.def, "subscriptionId").map(|v| e.value(v)).transpose().map_err(|err| fail(&name, err.message()))?;
            let rg = str_field(&raw.def, "resourceGroup").map(|v| e.value(v)).transpose().map_err(|err| fail(&name, err.message()))?;
            let rscope = str_field(&raw.def, "scope").map(|v| e.value(v)).transpose().map_err(|err| fail(&name, err.message()))?;
            let rscope = match rscope {
                Some(Value::String(s)) => Some(resolve_scope(&s, &symbols, &planned).unwrap_or(s)),
                _ => None,
            };
            let id = resource_id(scope, &ty, &name, rscope.as_deref(), rg.as_ref().and_then(Value::as_str), sub.as_ref().and_then(Value::as_str))
                .map_err(|m| {
                    let at = t.pos_abs(&raw.path);
                    let (l, c) = at.as_ref().map(|a| (a.0, a.1)).unwrap_or((0, 0));
                    if m == SEGMENTS {
                        TemplateError::invalid(
                            format!(
                                "The template resource '{name}' for type '{ty}' at line '{l}' and column '{c}' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-template/#resources for usage details."
                            ),
                            at,
                        )
                    } else {
                        resource_error(t, &raw.path, &name, &m)
                    }
                })?;
            let condition = match str_field(&raw.def, "condition") {
                None => Some(true),
                Some(c) => match e.value(c) {
                    Ok(Value::Bool(b)) => Some(b),
                    Ok(Value::String(s)) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                        Some(s.eq_ignore_ascii_case("true"))
                    }
                    Ok(other) => {
                        return Err(fail(
                            &name,
                            format!(
                                "The template condition must evaluate to a boolean value. The provided value is of type '{}'",
                                eval::type_name(&other)
                            ),
                        ))
                    }
                    Err(EvalError::Deferred) => None,
                    Err(err) => return Err(fail(&name, err.message())),
                },
            };
            let existing = str_field(&raw.def, "existing").and_then(Value::as_bool).unwrap_or(false);
            let mut def = raw.def.clone();
            if let Some(m) = def.as_object_mut() {
                m.retain(|k, _| !k.eq_ignore_ascii_case("resources"));
            }
            let idx = planned.len();
            let deps: Vec<Value> = str_field(&raw.def, "dependsOn").and_then(Value::as_array).cloned().unwrap_or_default();
            raw_deps.push((idx, deps, None));
            planned.push(Planned {
                path: raw.path.clone(),
                symbolic: raw.symbolic.clone(),
                def,
                copy: inst.clone(),
                name: name.clone(),
                full_type: ty.clone(),
                api_version,
                id,
                condition,
                depends_on: Vec::new(),
                existing,
            });
            if let Some(k) = &loop_key {
                loops.entry(k.clone()).or_default().push(idx);
            }
            if let Some(s) = &raw.symbolic {
                symbols.entry(s.clone()).or_default().push(idx);
            }
            if let Some(p) = raw.parent.as_ref().and_then(|_| parent_index(&planned, idx)) {
                parent_of.insert(idx, p);
            }
            // Children of this instance, in order, right after it.
            if let Some(Value::Array(children)) = str_field(&raw.def, "resources") {
                for (ci, child) in children.iter().enumerate().rev() {
                    queue.push((
                        RawResource {
                            path: format!("{}.resources[{ci}]", raw.path),
                            symbolic: None,
                            def: child.clone(),
                            parent: Some((ty.clone(), name.clone())),
                        },
                        inst.clone(),
                    ));
                }
            }
        }
    }

    // Dependencies: explicit dependsOn, parents, and the implicit ones of reference().
    for (idx, deps, _) in &raw_deps {
        let mut e = t.evaluator(scope, None, &params, &planned);
        e.resource_copy = planned[*idx].copy.clone();
        let mut resolved = Vec::new();
        for d in deps {
            let text = match e.value(d) {
                Ok(Value::String(s)) => s,
                Ok(_) => continue,
                Err(err) => return Err(resource_error(t, &planned[*idx].path, &planned[*idx].name, err.message().trim_end_matches('.'))),
            };
            let matches = match_dependency(&text, &planned, &loops, &symbols);
            if matches.is_empty() {
                return Err(TemplateError::invalid(
                    format!(
                        "The resource '{text}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details."
                    ),
                    t.pos_abs(&planned[*idx].path),
                ));
            }
            resolved.extend(matches);
        }
        if let Some(p) = parent_of.get(idx) {
            resolved.push(*p);
        }
        planned[*idx].depends_on = resolved;
    }
    for idx in 0..planned.len() {
        let mut e = t.evaluator(scope, None, &params, &planned);
        e.resource_copy = planned[idx].copy.clone();
        let mut body = body_of(&planned[idx]);
        if planned[idx].is_deployment() {
            // A nested template is validated by its own deployment.
            if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) {
                props.retain(|k, _| !k.eq_ignore_ascii_case("template"));
            }
        }
        match e.value(&body) {
            Ok(_) | Err(EvalError::Deferred) => {}
            Err(err) => return Err(resource_error(t, &planned[idx].path, &planned[idx].name, err.message().trim_end_matches('.'))),
        }
        let refs: Vec<String> = e.references.borrow().clone();
        for r in refs {
            let found: Vec<usize> = (0..planned.len()).filter(|&j| planned[j].id.eq_ignore_ascii_case(&r)).collect();
            for j in found {
                if !planned[idx].depends_on.contains(&j) {
                    planned[idx].depends_on.push(j);
                }
            }
        }
    }
    let order = order(&planned).map_err(|i| {
        TemplateError::invalid(
            format!(
                "Circular dependency detected on resource: '{}'. Please see https://aka.ms/arm-template/#resources for usage details.",
                planned[i].id
            ),
            t.pos_abs(&planned[i].path),
        )
    })?;
    Ok(Prepared { params, resources: planned, order })
}

fn parent_index(planned: &[Planned], child: usize) -> Option<usize> {
    let c = &planned[child];
    let (pt, _) = c.full_type.rsplit_once('/')?;
    let (pn, _) = c.name.rsplit_once('/')?;
    planned[..child].iter().rposition(|p| p.full_type.eq_ignore_ascii_case(pt) && p.name.eq_ignore_ascii_case(pn))
}

/// A resource-level `scope` may name a symbolic resource (languageVersion 2.0).
fn resolve_scope(s: &str, symbols: &HashMap<String, Vec<usize>>, planned: &[Planned]) -> Option<String> {
    let i = *symbols.get(s)?.first()?;
    Some(planned[i].id.clone())
}

fn match_dependency(
    text: &str,
    planned: &[Planned],
    loops: &HashMap<String, Vec<usize>>,
    symbols: &HashMap<String, Vec<usize>>,
) -> Vec<usize> {
    if let Some(v) = symbols.get(text) {
        return v.clone();
    }
    if let Some(v) = loops.get(&text.to_ascii_lowercase()) {
        return v.clone();
    }
    let by_id: Vec<usize> = (0..planned.len()).filter(|&i| planned[i].id.eq_ignore_ascii_case(text)).collect();
    if !by_id.is_empty() {
        return by_id;
    }
    let by_type_name: Vec<usize> =
        (0..planned.len()).filter(|&i| format!("{}/{}", planned[i].full_type, planned[i].name).eq_ignore_ascii_case(text)).collect();
    if !by_type_name.is_empty() {
        return by_type_name;
    }
    (0..planned.len()).filter(|&i| planned[i].name.eq_ignore_ascii_case(text)).collect()
}

/// Topological order (template order among independent resources); `Err(i)`: `i` is on a cycle.
fn order(planned: &[Planned]) -> Result<Vec<usize>, usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(i: usize, planned: &[Planned], marks: &mut [Mark], out: &mut Vec<usize>) -> Result<(), usize> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Active => return Err(i),
            Mark::New => {}
        }
        marks[i] = Mark::Active;
        for &d in &planned[i].depends_on {
            if d == i {
                return Err(i);
            }
            visit(d, planned, marks, out)?;
        }
        marks[i] = Mark::Done;
        out.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; planned.len()];
    let mut out = Vec::new();
    for i in 0..planned.len() {
        visit(i, planned, &mut marks, &mut out)?;
    }
    Ok(out)
}

/// The resource's body as the provider receives it (template syntax removed).
pub fn body_of(p: &Planned) -> Value {
    let mut m = p.def.as_object().cloned().unwrap_or_default();
    m.retain(|k, _| !TEMPLATE_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k)));
    Value::Object(m)
}

/// A runtime expression failure in a resource, as the deployment reports it.
pub fn runtime_error(t: &Template, p: &Planned, e: &EvalError) -> (String, String) {
    match e {
        EvalError::Provider { code, message } => (code.clone(), message.clone()),
        other => {
            let (l, c) = t.pos_abs(&p.path).map(|a| (a.0, a.1)).unwrap_or((0, 0));
            (
                "InvalidTemplate".into(),
                format!(
                    "Unable to process template language expressions for resource '{}' at line '{l}' and column '{c}'. '{}'",
                    p.id,
                    other.message()
                ),
            )
        }
    }
}

/// Evaluates the outputs once the resources are deployed: `Ok(outputs)` or the names that
/// failed with their messages.
pub fn outputs(t: &Template, ev: &Evaluator) -> Result<Map<String, Value>, Vec<(String, String)>> {
    let mut out = Map::new();
    let mut failed = Vec::new();
    let Some(Value::Object(defs)) = t.section("outputs") else { return Ok(out) };
    for (name, def) in defs {
        if let Some(c) = str_field(def, "condition") {
            match ev.value(c) {
                Ok(Value::Bool(false)) => continue,
                Ok(_) => {}
                Err(e) => {
                    failed.push((name.clone(), format!("The template output '{name}' is not valid: {}.", e.message())));
                    continue;
                }
            }
        }
        let ty = str_field(def, "type").and_then(Value::as_str).and_then(canonical_type).unwrap_or("Object");
        let value = match str_field(def, "copy") {
            Some(c) if c.is_object() => (|| {
                let count = ev.count(&c["count"])?;
                let spec = json!([{ "name": "__output", "count": count, "input": c["input"] }]);
                let v = ev.value(&json!({ "copy": spec }))?;
                Ok(v["__output"].clone())
            })(),
            _ => str_field(def, "value").map(|v| ev.value(v)).unwrap_or(Ok(Value::Null)),
        };
        match value {
            Ok(v) => {
                if let Err(actual) = check_type(ty, &v) {
                    if !v.is_null() {
                        failed.push((name.clone(), format!("The template output '{name}' is not valid: Template output JToken type is not valid. Expected '{}'. Actual '{actual}'..", ty)));
                        continue;
                    }
                }
                if ty.starts_with("Secure") {
                    out.insert(name.clone(), json!({ "type": ty }));
                } else {
                    out.insert(name.clone(), json!({ "type": ty, "value": v }));
                }
            }
            Err(e) => failed.push((name.clone(), format!("The template output '{name}' is not valid: {}.", e.message()))),
        }
    }
    if failed.is_empty() {
        Ok(out)
    } else {
        Err(failed)
    }
}

/// Escapes literal strings so that a value handed to another template stays literal.
pub fn escape_literal(v: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with('[') => Value::String(format!("[{s}")),
        Value::Array(a) => Value::Array(a.iter().map(escape_literal).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), escape_literal(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            tenant_id: "t".into(),
            subscription_id: Some("s1".into()),
            resource_group: Some("rg".into()),
            subscription: json!({"id": "/subscriptions/s1", "subscriptionId": "s1"}),
            resource_group_object: json!({"id": "/subscriptions/s1/resourceGroups/rg", "name": "rg", "location": "westus"}),
            ..Default::default()
        }
    }

    fn template(v: Value) -> Template {
        Template { root: v.as_object().cloned().unwrap(), path: "properties.template".into(), positions: Arc::new(HashMap::new()) }
    }

    #[test]
    fn expands_orders_and_detects_cycles() {
        let t = template(json!({
            "parameters": {"n": {"type": "int", "defaultValue": 2}},
            "variables": {"vnet": "v"},
            "resources": [
                {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2020-01-01", "name": "[concat('nic', copyIndex())]",
                 "copy": {"name": "nics", "count": "[parameters('n')]"}, "dependsOn": ["[variables('vnet')]"]},
                {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2020-01-01", "name": "v",
                 "resources": [{"type": "subnets", "apiVersion": "2020-01-01", "name": "s"}]},
                {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2018-06-01", "name": "vm", "dependsOn": ["nics"],
                 "properties": {"x": "[reference(resourceId('Microsoft.Network/virtualNetworks', 'v')).id]"}},
            ]
        }));
        let p = prepare(&t, &scope(), &Map::new()).unwrap();
        let names: Vec<&str> = p.order.iter().map(|&i| p.resources[i].name.as_str()).collect();
        assert_eq!(names, vec!["v", "nic0", "nic1", "v/s", "vm"]);
        assert_eq!(p.resources[3].id, "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s");

        let cyc = template(json!({"resources": [
            {"type": "A.B/c", "apiVersion": "1", "name": "a", "dependsOn": ["b"]},
            {"type": "A.B/c", "apiVersion": "1", "name": "b", "dependsOn": ["a"]},
        ]}));
        let e = prepare(&cyc, &scope(), &Map::new()).unwrap_err();
        assert!(e.message.starts_with("Deployment template validation failed: 'Circular dependency detected on resource: '/subscriptions/s1/resourceGroups/rg/providers/A.B/c/"), "{}", e.message);
    }

    #[test]
    fn parameters_are_checked() {
        let t = template(json!({"parameters": {"a": {"type": "string", "allowedValues": ["x"]}}, "resources": []}));
        let e = prepare(&t, &scope(), &Map::new()).unwrap_err();
        assert!(e.message.contains("The value for the template parameter 'a'"), "{}", e.message);
        let e = prepare(&t, &scope(), json!({"a": {"value": "y"}}).as_object().unwrap()).unwrap_err();
        assert!(e.message.contains("is not part of the allowed value(s): 'x'"), "{}", e.message);
        let e = prepare(&t, &scope(), json!({"b": {"value": "y"}}).as_object().unwrap()).unwrap_err();
        assert!(e.message.contains("The template parameters 'b' in the parameters file are not valid"), "{}", e.message);
    }

    #[test]
    fn extension_and_subscription_ids() {
        let s = scope();
        assert_eq!(
            resource_id(&s, "Microsoft.Compute/virtualMachines/providers/roleAssignments", "vm/Microsoft.Authorization/g", None, None, None).unwrap(),
            "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments/g"
        );
        let mut sub = s.clone();
        sub.resource_group = None;
        assert_eq!(
            resource_id(&sub, "Microsoft.Resources/resourceGroups", "x", None, None, None).unwrap(),
            "/subscriptions/s1/resourceGroups/x"
        );
        assert_eq!(
            resource_id(&sub, "Microsoft.Authorization/roleAssignments", "g", None, None, None).unwrap(),
            "/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/g"
        );
    }
}
