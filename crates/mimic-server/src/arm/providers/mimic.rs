//! Mimic's own control calls on the ARM listener, under `/mimic/` (outside Azure's URL space),
//! authenticated and authorised like every ARM call.

use axum::http::{Method, StatusCode};
use mimic_domain::resource_id::{self, ResourceId};
use serde::Deserialize;
use serde_json::json;

use crate::arm::core::endpoint::MIMIC_NAMESPACE;
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Endpoint, Provider, Reply};

pub struct Control;

impl Provider for Control {
    fn namespace(&self) -> &'static str {
        MIMIC_NAMESPACE
    }

    fn handle(&self, ctx: &Ctx, endpoint: &Endpoint) -> ArmResult<Reply> {
        match endpoint {
            Endpoint::MimicVmImds => vm_imds(ctx),
            _ => Err(ArmError::not_found_route(&ctx.path)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VmImdsRequest {
    vm_id: String,
}

/// `POST /mimic/vm-imds {"vmId"}` → `{"vmId","imds"}`: the address of that VM's IMDS. Whoever
/// reaches it gets the VM's tokens, which Azure allows to whoever may run commands on the VM.
fn vm_imds(ctx: &Ctx) -> ArmResult<Reply> {
    if ctx.method != Method::POST {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    let body: VmImdsRequest = ctx.json()?;
    let id = ResourceId::parse(&body.vm_id).map_err(|_| ArmError::invalid_resource_id(&body.vm_id))?;
    let is_vm = id.namespace.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("Microsoft.Compute"))
        && id.types.len() == 1
        && id.types[0].0.eq_ignore_ascii_case("virtualMachines");
    if !is_vm {
        return Err(ArmError::not_a_virtual_machine(&body.vm_id));
    }
    ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    let canonical = id.render();
    ctx.authorize("Microsoft.Compute/virtualMachines/runCommand/action", &canonical)?;
    let key = resource_id::key(&canonical);
    let vm = ctx.state.store.read(|tx| tx.resource(&key))?.ok_or_else(|| {
        ArmError::resource_not_found(
            "Microsoft.Compute/virtualMachines",
            id.name().unwrap_or_default(),
            id.resource_group.as_deref().unwrap_or_default(),
        )
    })?;
    let addr = ctx.state.imds.endpoint_for(&ctx.state, &key).map_err(ArmError::internal)?;
    // Mimic's own endpoint: this one shape is its whole wire format.
    Ok(json_response(StatusCode::OK, &json!({"vmId": vm.id, "imds": format!("http://{addr}")})))
}
