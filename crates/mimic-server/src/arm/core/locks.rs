//! Management locks as every ARM write and delete meets them. [`Registry::dispatch`](super::Registry::dispatch)
//! calls [`enforce`] before any provider runs, for requests from the network and for the calls
//! a template deployment makes, so no provider can write past a lock. The subscription's locks
//! are one store document, read through the generation-checked cache: one read per write at
//! most, none while nothing changed.

use std::sync::Arc;

use axum::http::Method;
use mimic_domain::lock::{Operation, SubscriptionLocks};
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::documents::{Docs, LOCKS};

use super::ctx::Ctx;
use super::endpoint::{Endpoint, AUTHORIZATION_NAMESPACE, MIMIC_NAMESPACE};
use super::error::{ArmError, ArmResult};

/// The locks of subscription `sub` (any casing).
pub fn of_subscription(ctx: &Ctx, sub: &str) -> ArmResult<Arc<SubscriptionLocks>> {
    let key = sub.to_ascii_lowercase();
    let generation = ctx.state.store.generation();
    ctx.state
        .caches
        .locks
        .get_or_load(generation, &key, || Ok::<_, ArmError>(Arc::new(ctx.state.store.read(|tx| tx.get(LOCKS, &key))?.unwrap_or_default())))
}

/// Refuses with 409 `ScopeLocked` a request that a lock at, above (or, for a delete, below) its
/// target stops.
pub fn enforce(ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<()> {
    let Some((target, op)) = guarded(&ctx.method, endpoint) else {
        return Ok(());
    };
    let Some(sub) = ResourceId::parse(&target).ok().and_then(|id| id.subscription) else {
        return Ok(());
    };
    // Locks are shown only to callers of the subscription's tenant with some role in reach of
    // the target (who may read them anyway); everyone else gets the handler's own refusal.
    if ctx.subscription(&sub).is_err() || !ctx.has_any_access_within(&target)? {
        return Ok(());
    }
    let locks = of_subscription(ctx, &sub)?;
    let mut scopes: Vec<&str> = Vec::new();
    for l in locks.blocking(op, &target) {
        if !scopes.iter().any(|s| resource_id::key(s) == resource_id::key(&l.scope)) {
            scopes.push(&l.scope);
        }
    }
    if scopes.is_empty() {
        return Ok(());
    }
    Err(ArmError::scope_locked(&target, op.verb(), &scopes))
}

/// What a request does, as locks see it: the scope it changes and whether it writes or deletes.
/// Reads, Microsoft.Authorization (locks themselves, role assignments) and Mimic's own calls
/// are never locked; nor are the POSTs that only read (a deployment's validate, whatIf and
/// exportTemplate, a group's exportTemplate).
fn guarded(method: &Method, endpoint: &Endpoint) -> Option<(String, Operation)> {
    if *method == Method::GET || *method == Method::HEAD {
        return None;
    }
    let ns = endpoint.namespace();
    if ns.eq_ignore_ascii_case(AUTHORIZATION_NAMESPACE) || ns == MIMIC_NAMESPACE {
        return None;
    }
    let op = if *method == Method::DELETE { Operation::Delete } else { Operation::Write };
    match endpoint {
        Endpoint::Resource { id } => Some((id.render(), op)),
        Endpoint::ResourceAction { id, action } if *method == Method::POST => {
            let reads = id.full_type().is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments"))
                && ["validate", "whatIf", "exportTemplate"].iter().any(|a| a.eq_ignore_ascii_case(action));
            (!reads).then(|| (id.render(), Operation::Write))
        }
        Endpoint::ResourceGroup { sub, rg } => Some((resource_id::resource_group_id(sub, rg), op)),
        // A move writes both groups; the handler checks the target's locks itself.
        Endpoint::MoveResources { sub, rg, validate_only: false } => Some((resource_id::resource_group_id(sub, rg), Operation::Write)),
        // Tags are part of the scope that carries them: removing them changes it, deletes nothing.
        Endpoint::Tags { scope } => Some((scope.clone(), Operation::Write)),
        Endpoint::TagNames { sub } | Endpoint::TagName { sub, .. } | Endpoint::TagValue { sub, .. } => {
            Some((resource_id::subscription_scope(sub), Operation::Write))
        }
        Endpoint::Register { sub, .. } => Some((resource_id::subscription_scope(sub), Operation::Write)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::core::endpoint::parse;

    #[test]
    fn what_locks_guard() {
        let s = "00000000-0000-0000-0000-000000000001";
        let rg = format!("/subscriptions/{s}/resourceGroups/rg");
        let vm = format!("{rg}/providers/Microsoft.Compute/virtualMachines/vm");
        let at = |m: Method, path: &str| guarded(&m, &parse(path).unwrap());
        assert_eq!(at(Method::GET, &vm), None);
        assert_eq!(at(Method::PUT, &vm), Some((vm.clone(), Operation::Write)));
        assert_eq!(at(Method::PATCH, &rg), Some((rg.clone(), Operation::Write)));
        assert_eq!(at(Method::DELETE, &rg), Some((rg.clone(), Operation::Delete)));
        assert_eq!(at(Method::POST, &format!("{vm}/start")), Some((vm.clone(), Operation::Write)));
        assert_eq!(at(Method::DELETE, &format!("{rg}/providers/Microsoft.Resources/tags/default")), Some((rg.clone(), Operation::Write)));
        assert_eq!(at(Method::PUT, &format!("{rg}/providers/Microsoft.Authorization/locks/l")), None);
        assert_eq!(at(Method::PUT, &format!("{rg}/providers/Microsoft.Authorization/roleAssignments/a")), None);
        assert_eq!(at(Method::POST, &format!("{rg}/providers/Microsoft.Resources/deployments/d/validate")), None);
        assert_eq!(at(Method::POST, &format!("{rg}/exportTemplate")), None);
        let d = format!("{rg}/providers/Microsoft.Resources/deployments/d");
        assert_eq!(at(Method::PUT, &d), Some((d.clone(), Operation::Write)));
    }
}
