//! Async operations: the status ARM's `Location` / `Azure-AsyncOperation` URLs report. The
//! status lives in the store, so any replica can answer a poll.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use mimic_wire::arm::ErrorBody;
use serde_json::json;
use uuid::Uuid;

use super::ctx::Ctx;
use super::error::{ArmError, ArmResult};

const KIND: &str = "operation";
const KEEP_SECS: i64 = 24 * 3600;

/// Records an operation that has already finished (Mimic applies writes synchronously and
/// durably; the LRO protocol is kept so clients poll as they do against Azure).
pub fn record_done(ctx: &Ctx, sub: &str, error: Option<ErrorBody>) -> ArmResult<String> {
    let id = Uuid::new_v4().to_string();
    let now = Utc::now();
    let status = if error.is_some() { "Failed" } else { "Succeeded" };
    let doc = json!({
        "subscription": sub.to_ascii_lowercase(), "status": status,
        "startTime": now.to_rfc3339(), "endTime": now.to_rfc3339(), "error": error,
    });
    ctx.state.store.write(|tx| tx.put_document(KIND, &id, &doc, Some(now.timestamp() + KEEP_SECS)))?;
    Ok(id)
}

/// `GET /subscriptions/{s}/operationresults/{id}`: 200 once done (202 while running).
pub fn result(ctx: &Ctx, sub: &str, id: &str) -> ArmResult<Response> {
    let s = ctx.subscription(sub)?;
    // Anyone with a role in the subscription may poll (the caller of an operation on its own
    // resource group included); a caller with none is refused like any subscription read.
    ctx.authorize_list("Microsoft.Resources/subscriptions/operationresults/read", &format!("/subscriptions/{}", s.id))?;
    let doc = ctx.state.store.read(|tx| tx.document(KIND, id))?;
    let doc = doc
        .filter(|d| d["subscription"].as_str() == Some(s.id.to_string().as_str()))
        .ok_or_else(|| ArmError::new(StatusCode::NOT_FOUND, "OperationNotFound", format!("The operation '{id}' could not be found.")))?;
    match doc["status"].as_str() {
        Some("Succeeded") => Ok(StatusCode::OK.into_response()),
        Some("Failed") => {
            let code = doc["error"]["code"].as_str().unwrap_or("InternalServerError").to_string();
            let message = doc["error"]["message"].as_str().unwrap_or("The operation failed.").to_string();
            Err(ArmError::bad_request(&code, message))
        }
        _ => Ok(StatusCode::ACCEPTED.into_response()),
    }
}
