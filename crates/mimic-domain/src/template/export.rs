//! A resource group's resources as an ARM template (`POST .../resourcegroups/{rg}/exportTemplate`):
//! each resource with its type, apiVersion, name, location, tags, identity and properties less the
//! read-only ones; top-level names become `String` parameters (`{type}_{name}_name`) unless the
//! options skip them; children name their parent through it and depend on it
//! (docs/azure-behaviour.md "Resource group export").

use serde_json::{json, Map, Value};

use crate::resource::Resource;

/// `ExportTemplateRequest.options`, a comma-separated list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    pub include_comments: bool,
    pub include_parameter_default_value: bool,
    pub skip_resource_name_parameterization: bool,
    pub skip_all_parameterization: bool,
}

impl ExportOptions {
    /// The options named in `options`; the first unknown one is the error.
    pub fn parse(options: &str) -> Result<Self, String> {
        let mut o = ExportOptions::default();
        for part in options.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let flag = match part.to_ascii_lowercase().as_str() {
                "includecomments" => &mut o.include_comments,
                "includeparameterdefaultvalue" => &mut o.include_parameter_default_value,
                "skipresourcenameparameterization" => &mut o.skip_resource_name_parameterization,
                "skipallparameterization" => &mut o.skip_all_parameterization,
                _ => return Err(part.to_string()),
            };
            *flag = true;
        }
        Ok(o)
    }

    fn parameterize(&self) -> bool {
        !(self.skip_resource_name_parameterization || self.skip_all_parameterization)
    }
}

/// Properties ARM computes and a template cannot set [INFERRED list].
const READ_ONLY_PROPERTIES: &[&str] = &["provisioningState", "resourceGuid", "vmId", "timeCreated", "uniqueId", "creationTime"];
/// Envelope members a template does not carry.
const READ_ONLY_MEMBERS: &[&str] = &["etag", "managedBy", "systemData"];

pub const DEPLOYMENT_TEMPLATE_SCHEMA: &str = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/// `virtualNetworks_vnet_1_name`: Azure's parameter name for a resource's name, the type's last
/// segment and the name joined, every character but letters, digits and `_` made `_`.
pub fn name_parameter(resource_type: &str, name: &str) -> String {
    let last = resource_type.rsplit('/').next().unwrap_or(resource_type);
    format!("{last}_{name}_name").chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// `(namespace/type segments, name segments)` of a resource id below its resource group.
fn type_and_names(r: &Resource) -> Option<(Vec<String>, Vec<String>)> {
    let id = r.parsed_id()?;
    let ns = id.namespace.clone()?;
    let types: Vec<String> = std::iter::once(ns).chain(id.types.iter().map(|(t, _)| t.clone())).collect();
    Some((types, id.types.iter().map(|(_, n)| n.clone()).collect()))
}

fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

fn identity(v: &Value) -> Value {
    let mut out = Map::new();
    if let Some(t) = v.get("type") {
        out.insert("type".into(), t.clone());
    }
    if let Some(Value::Object(uai)) = v.get("userAssignedIdentities") {
        out.insert("userAssignedIdentities".into(), Value::Object(uai.keys().map(|k| (k.clone(), json!({}))).collect()));
    }
    Value::Object(out)
}

/// The template of `resources` (each with the api-version to write it in), as `options` ask.
pub fn export(resources: &[(&Resource, String)], options: ExportOptions) -> Value {
    let mut parameters = Map::new();
    let mut out = Vec::new();
    let mut sorted: Vec<&(&Resource, String)> = resources.iter().collect();
    sorted.sort_by_key(|(r, _)| r.key());
    for (r, api_version) in sorted {
        let Some((types, names)) = type_and_names(r) else { continue };
        let top_type = format!("{}/{}", types[0], types[1]);
        let top_param = name_parameter(&top_type, &names[0]);
        let name = if options.parameterize() {
            let mut p = json!({"type": "String"});
            if options.include_parameter_default_value {
                p["defaultValue"] = names[0].clone().into();
            }
            parameters.entry(top_param.clone()).or_insert(p);
            if names.len() == 1 {
                format!("[parameters('{top_param}')]")
            } else {
                format!("[concat(parameters('{top_param}'), '/{}')]", quote(&names[1..].join("/")))
            }
        } else {
            names.join("/")
        };
        let mut entry = Map::new();
        if options.include_comments {
            entry.insert("comments".into(), format!("Generalized from resource: '{}'.", r.id).into());
        }
        entry.insert("type".into(), r.resource_type.clone().into());
        entry.insert("apiVersion".into(), api_version.clone().into());
        entry.insert("name".into(), name.into());
        if let Some(l) = &r.location {
            entry.insert("location".into(), l.clone().into());
        }
        for (k, v) in &r.extra {
            if !READ_ONLY_MEMBERS.iter().any(|m| m.eq_ignore_ascii_case(k)) {
                entry.insert(k.clone(), v.clone());
            }
        }
        if let Some(t) = &r.tags {
            entry.insert("tags".into(), Value::Object(t.clone()));
        }
        if let Some(i) = &r.identity {
            entry.insert("identity".into(), identity(i));
        }
        let mut props = r.properties.clone();
        if let Value::Object(m) = &mut props {
            m.retain(|k, _| !READ_ONLY_PROPERTIES.iter().any(|p| p.eq_ignore_ascii_case(k)));
        }
        entry.insert("properties".into(), props);
        if names.len() > 1 {
            // A child depends on its parent, named as the template names it.
            let parent_type = types[..types.len() - 1].join("/");
            let parent_names: Vec<String> = if options.parameterize() {
                std::iter::once(format!("parameters('{top_param}')"))
                    .chain(names[1..names.len() - 1].iter().map(|n| format!("'{}'", quote(n))))
                    .collect()
            } else {
                names[..names.len() - 1].iter().map(|n| format!("'{}'", quote(n))).collect()
            };
            entry.insert("dependsOn".into(), json!([format!("[resourceId('{parent_type}', {})]", parent_names.join(", "))]));
        }
        out.push(Value::Object(entry));
    }
    json!({
        "$schema": DEPLOYMENT_TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "variables": {},
        "resources": out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn res(id: &str, ty: &str, props: Value) -> Resource {
        let now = Utc::now();
        Resource {
            id: id.into(),
            name: id.rsplit('/').next().unwrap().into(),
            resource_type: ty.into(),
            location: Some("westus".into()),
            tags: Some(json!({"env": "dev"}).as_object().unwrap().clone()),
            properties: props,
            identity: None,
            extra: Map::new(),
            created: now,
            changed: now,
        }
    }

    #[test]
    fn names_become_parameters_unless_skipped() {
        let vnet = res(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-1",
            "Microsoft.Network/virtualNetworks",
            json!({"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "provisioningState": "Succeeded", "resourceGuid": "g"}),
        );
        let sub = res(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-1/subnets/a",
            "Microsoft.Network/virtualNetworks/subnets",
            json!({"addressPrefix": "10.0.0.0/24"}),
        );
        let all = [(&sub, "2024-05-01".to_string()), (&vnet, "2024-05-01".to_string())];
        let t = export(&all, ExportOptions { include_parameter_default_value: true, include_comments: true, ..Default::default() });
        assert_eq!(t["parameters"], json!({"virtualNetworks_vnet_1_name": {"type": "String", "defaultValue": "vnet-1"}}));
        let r = &t["resources"];
        assert_eq!(r[0]["name"], "[parameters('virtualNetworks_vnet_1_name')]");
        assert_eq!(r[0]["properties"], json!({"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}));
        assert_eq!(r[0]["tags"], json!({"env": "dev"}));
        assert!(r[0]["comments"].as_str().unwrap().contains(&vnet.id));
        assert_eq!(r[1]["name"], "[concat(parameters('virtualNetworks_vnet_1_name'), '/a')]");
        assert_eq!(
            r[1]["dependsOn"],
            json!(["[resourceId('Microsoft.Network/virtualNetworks', parameters('virtualNetworks_vnet_1_name'))]"])
        );

        let plain = export(&all, ExportOptions::parse("SkipAllParameterization").unwrap());
        assert_eq!(plain["parameters"], json!({}));
        assert_eq!(plain["resources"][0]["name"], "vnet-1");
        assert_eq!(plain["resources"][1]["name"], "vnet-1/a");
        assert_eq!(plain["resources"][1]["dependsOn"], json!(["[resourceId('Microsoft.Network/virtualNetworks', 'vnet-1')]"]));
        assert!(plain["resources"][0].get("comments").is_none());
        assert_eq!(ExportOptions::parse("IncludeComments, Bogus"), Err("Bogus".to_string()));
    }
}
