//! Microsoft.Resources/deployments: the deployment engine's errors (texts as ARM returns them,
//! docs/azure-behaviour.md §3; the engine writes a `target` before the message). The template errors' texts
//! are mimic-domain's template engine's ([`TemplateError`], `engine::runtime_error`).

use std::fmt::Display;

use axum::http::StatusCode;
use mimic_domain::template::engine::TemplateError;
use mimic_wire::arm::{AdditionalInfo, ErrorDetail};
use serde_json::{json, Value};

use super::ArmError;

/// A template resource the caller may not write, as preflight reports it.
pub struct DeniedResource<'a> {
    pub name: &'a str,
    pub resource_type: &'a str,
    pub action: &'a str,
    pub id: &'a str,
}

impl ArmError {
    /// The deployment engine's own detail.
    fn engine(code: &str, message: impl Into<String>) -> ErrorDetail {
        ErrorDetail::new(code, message)
    }

    // ---- the deployment resource -------------------------------------------------------

    pub fn deployment_not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "DeploymentNotFound", format!("Deployment '{name}' could not be found."))
    }

    pub fn deployment_operation_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "DeploymentOperationNotFound", format!("Deployment operation '{id}' could not be found."))
    }

    pub fn invalid_deployment_name(name: &str) -> Self {
        Self::bad_request(
            "InvalidDeploymentName",
            format!("The deployment name '{name}' is invalid. It can contain only letters, digits, '-', '_', '.', '(' and ')', and be at most 64 characters long."),
        )
    }

    /// A PUT while the deployment of that name (started at `since`) still runs.
    pub fn deployment_active(name: &str, since: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "DeploymentActive",
            format!(
                "Unable to edit or replace deployment '{name}': previous deployment from '{since}' is still active. Please see https://aka.ms/arm-deploy for usage details."
            ),
        )
    }

    /// A DELETE of a running deployment (Azure's exact text is unrecorded: the code is the one
    /// Azure gives for an active deployment in the way, the wording Mimic's).
    pub fn deployment_active_on_delete(name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "DeploymentActive",
            format!("Unable to delete deployment '{name}': the deployment is still active. Cancel it or wait for it to finish. Please see https://aka.ms/arm-deploy for usage details."),
        )
    }

    pub fn deployment_cannot_be_cancelled(name: &str, state: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "DeploymentCannotBeCancelled",
            format!("The deployment '{name}' cannot be cancelled because it is in a terminal state '{state}'."),
        )
    }

    // ---- the request and its template --------------------------------------------------

    /// `detail`: the JSON reader's text, with the place within the template.
    pub fn template_parse_failed(detail: &str) -> Self {
        Self::bad_request("InvalidTemplate", format!("Deployment template parse failed: '{detail}'."))
    }

    pub fn template_not_an_object() -> Self {
        Self::template_parse_failed("The template must be a JSON object.")
    }

    /// A `templateLink` or `parametersLink`: Mimic downloads nothing.
    pub fn invalid_content_link(uri: &str, tracking_id: impl Display) -> Self {
        Self::bad_request(
            "InvalidContentLink",
            format!("Unable to download deployment content from '{uri}'. The tracking Id is '{tracking_id}'. Please see https://aka.ms/arm-deploy-resources for usage details."),
        )
    }

    pub fn complete_mode_at_subscription() -> Self {
        Self::bad_request(
            "InvalidDeploymentMode",
            "The deployment mode 'Complete' is not supported for deployments at subscription scope. Please see https://aka.ms/arm-deploy for usage details.",
        )
    }

    /// `onErrorDeployment` where ARM takes none: at subscription scope (rollback is for
    /// resource-group deployments only, learn.microsoft.com "Rollback on error to successful
    /// deployment"), or `SpecificDeployment` without a name. [INFERRED: code and text]
    pub fn invalid_on_error_deployment(why: &str) -> Self {
        Self::bad_request("InvalidOnErrorDeployment", format!("The 'onErrorDeployment' property is not valid: {why}"))
    }

    /// A template the engine refuses, with its `TemplateViolation` (line, position, path).
    pub fn from_template(e: &TemplateError) -> Self {
        let mut err = Self::bad_request(&e.code, e.message.clone());
        if let Some((l, p, path)) = &e.violation {
            err.error
                .additional_info
                .push(AdditionalInfo { kind: "TemplateViolation".into(), info: json!({"lineNumber": l, "linePosition": p, "path": path}) });
        }
        err
    }

    /// Preflight: the caller may not write some of the template's resources.
    pub fn preflight_authorization_failed(caller: &str, object_id: impl Display, denied: &[DeniedResource]) -> Self {
        let failures: Vec<String> = denied
            .iter()
            .map(|d| {
                format!(
                    "Authorization failed for template resource '{}' of type '{}'. The client '{caller}' with object id '{object_id}' does not have permission to perform action '{}' at scope '{}'.",
                    d.name, d.resource_type, d.action, d.id
                )
            })
            .collect();
        let message = match failures.as_slice() {
            [one] => format!("The template deployment failed with error: '{one}'."),
            _ => format!("Deployment failed with multiple errors: '{}'", failures.join(":")),
        };
        Self::bad_request("InvalidTemplateDeployment", message)
    }

    // ---- running it --------------------------------------------------------------------

    /// A template expression failing at run time (`engine::runtime_error`'s code and text).
    pub fn template_runtime(code: &str, message: String) -> Self {
        Self::bad_request(code, message)
    }

    pub fn deployment_nesting_limit_exceeded(name: &str, limit: usize) -> Self {
        Self::bad_request("DeploymentNestingLimitExceeded", format!("The deployment '{name}' exceeds the nesting limit of '{limit}'."))
    }

    /// A resource's PUT or DELETE refused by its provider: the provider's envelope relayed
    /// (code, else the status's name; message, else `no_message`).
    pub fn resource_operation_failed(status: StatusCode, response: &Value, no_message: impl FnOnce() -> String) -> Self {
        let code = response["error"]["code"].as_str().map(str::to_string).unwrap_or_else(|| Self::status_name(status));
        let message = response["error"]["message"].as_str().map(str::to_string).unwrap_or_else(no_message);
        Self::new(status, &code, message)
    }

    /// A status as ARM names it in deployment operations (`BadRequest`, `NotFound`).
    pub fn status_name(s: StatusCode) -> String {
        s.canonical_reason().unwrap_or("OK").replace(' ', "")
    }

    /// Outputs that did not evaluate: `failed` is each output's name and why.
    pub fn output_evaluation_failed(failed: Vec<(String, String)>) -> ErrorDetail {
        let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
        let mut d = Self::engine(
            "DeploymentOutputEvaluationFailed",
            format!("Unable to evaluate template outputs: '{}'. Please see error details and deployment operations. Please see https://aka.ms/arm-debug for usage details.", names.join(",")),
        );
        d.details = failed
            .into_iter()
            .map(|(n, m)| ErrorDetail { target: Some(n), ..Self::engine("DeploymentOutputEvaluationFailed", m) })
            .collect();
        d
    }

    /// A deployment whose resources failed: `details` are their errors (`target`: the deployment).
    pub fn deployment_failed(deployment_id: &str, details: Vec<ErrorDetail>) -> ErrorDetail {
        ErrorDetail {
            target: Some(deployment_id.to_string()),
            details,
            ..Self::engine(
                "DeploymentFailed",
                "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
            )
        }
    }
}
