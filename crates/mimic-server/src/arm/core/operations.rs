//! Async operations: the status ARM's `Location` / `Azure-AsyncOperation` URLs report. One store
//! document kind, written and read only here; the status lives in the store, so any replica can
//! answer a poll. Mimic applies writes synchronously and durably, so an operation is recorded
//! once it has finished; the LRO protocol is kept so clients poll as they do against Azure.

use axum::http::StatusCode;
use chrono::Utc;
use mimic_domain::operation::{AsyncOperation, OperationError, OperationStatus};
use mimic_store::documents::{Docs, ARM_OPERATION};
use mimic_store::Tx;
use uuid::Uuid;

use super::ctx::Ctx;
use super::error::{ArmError, ArmResult};
use super::reply::Reply;

const KEEP_SECS: i64 = 24 * 3600;

/// Records, inside `tx`, that operation `id` of `sub` has finished.
pub fn record(tx: &mut dyn Tx, id: &str, sub: &str, error: Option<OperationError>) -> ArmResult<()> {
    let now = Utc::now();
    let op = AsyncOperation {
        subscription: sub.to_ascii_lowercase(),
        status: if error.is_some() { OperationStatus::Failed } else { OperationStatus::Succeeded },
        start_time: now.to_rfc3339(),
        end_time: now.to_rfc3339(),
        error,
    };
    tx.put(ARM_OPERATION, id, &op, Some(now.timestamp() + KEEP_SECS))?;
    Ok(())
}

/// Records a finished operation in its own transaction; returns its id.
pub fn record_done(ctx: &Ctx, sub: &str, error: Option<OperationError>) -> ArmResult<String> {
    let id = Uuid::new_v4().to_string();
    ctx.state.store.write(|tx| record(tx, &id, sub, error.clone()))?;
    Ok(id)
}

/// Operation `id`, if it exists and ran in subscription `sub`.
pub fn load(ctx: &Ctx, sub: &str, id: &str) -> ArmResult<Option<AsyncOperation>> {
    let op = ctx.state.store.read(|tx| tx.get(ARM_OPERATION, id))?;
    Ok(op.filter(|o| o.subscription.eq_ignore_ascii_case(sub)))
}

/// `GET /subscriptions/{s}/operationresults/{id}`: 200 once done (202 while running).
pub fn result(ctx: &Ctx, sub: &str, id: &str) -> ArmResult<Reply> {
    let s = ctx.subscription(sub)?;
    // Anyone with a role in the subscription may poll (the caller of an operation on its own
    // resource group included); a caller with none is refused like any subscription read.
    ctx.authorize_list("Microsoft.Resources/subscriptions/operationresults/read", &format!("/subscriptions/{}", s.id))?;
    let op = load(ctx, &s.id.to_string(), id)?.ok_or_else(|| ArmError::operation_not_found(id))?;
    match op.status {
        OperationStatus::Succeeded => Ok(Reply::status(StatusCode::OK)),
        OperationStatus::Failed => Err(ArmError::operation_failed(op.error.map(|e| (e.code, e.message)))),
    }
}
