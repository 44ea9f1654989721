//! `POST /subscriptions/{s}/resourcegroups/{rg}/exportTemplate`: the group's resources as a
//! template (rules in `mimic_domain::template::export`), with
//! `Microsoft.Resources/subscriptions/resourceGroups/exportTemplate/action`. Answered at once with
//! 200 and the result, which the 2019-08-01+ clients' long-running poller takes as final.

use axum::http::{Method, StatusCode};
use mimic_domain::resource::RESOURCE_GROUP_TYPE;
use mimic_domain::resource_id::{self, resource_group_id};
use mimic_domain::template::export::{self, ExportOptions};
use mimic_store::ResourceFilter;
use mimic_wire::export_template::{ExportTemplateRequest, ResourceGroupExportResult};

use crate::arm::core::api_versions::{self as v, RESOURCES};
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Registry, Reply};

const EXPORT: &str = "Microsoft.Resources/subscriptions/resourceGroups/exportTemplate/action";

/// The api-version a type is exported with: the newest its provider registers, else one the
/// generic store takes [INFERRED].
fn api_version_of(resource_type: &str) -> String {
    let (ns, path) = resource_type.split_once('/').unwrap_or((resource_type, ""));
    Registry::installed()
        .resource_type(ns, path)
        .and_then(|t| t.api_versions.iter().filter(|v| !v.contains("preview")).max().or(t.api_versions.first()))
        .map(|v| v.to_string())
        .unwrap_or_else(|| "2024-03-01".to_string())
}

pub fn export_group(ctx: &Ctx, sub: &str, rg: &str) -> ArmResult<Reply> {
    v::check(&ctx.api_version, RESOURCES)?;
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let sub = ctx.subscription(sub)?.id.to_string();
    let scope = resource_group_id(&sub, rg);
    ctx.authorize(EXPORT, &scope)?;
    let group = ctx.resource_group(&sub, rg)?;
    let body: ExportTemplateRequest = if ctx.body.is_empty() { ExportTemplateRequest::default() } else { ctx.json()? };
    let options = ExportOptions::parse(body.options.as_deref().unwrap_or("")).map_err(|o| ArmError::invalid_export_option(&o))?;
    let wanted: Option<Vec<String>> =
        body.resources.filter(|ids| !ids.iter().any(|i| i == "*")).map(|ids| ids.iter().map(|i| resource_id::key(i)).collect());
    let rg_key = group.name.to_ascii_lowercase();
    let rgt = RESOURCE_GROUP_TYPE.to_ascii_lowercase();
    let items = ctx.state.store.read(|tx| {
        tx.resources(&ResourceFilter {
            subscription: &sub,
            resource_group: Some(&rg_key),
            exclude_type: Some(&rgt),
            limit: 100_000,
            ..Default::default()
        })
    })?;
    let chosen: Vec<_> = items.iter().filter(|r| wanted.as_ref().is_none_or(|w| w.contains(&r.key()))).collect();
    let with_versions: Vec<_> = chosen.iter().map(|r| (*r, api_version_of(&r.resource_type))).collect();
    let template = export::export(&with_versions, options);
    Ok(json_response(StatusCode::OK, &ResourceGroupExportResult { template, error: None }))
}
