//! Subnets: `.../virtualNetworks/{vnet}/subnets[/{name}]`. As in Azure, a virtual network's
//! subnets are one collection, whichever way they were made: the `subnets` array of the VNet
//! (`az network vnet create --subnet-name`, templates, `az vm create`) and PUTs of the child
//! resource (`az network vnet subnet create`) both land in that array, and the child
//! GET/list/DELETE read and change it. So `az network vnet show` and `az network vnet subnet
//! list` always agree. (Subnets stored on their own by earlier versions are still read.)

use axum::http::{Method, StatusCode};
use mimic_domain::resource::Resource;
use mimic_domain::resource_id::{self, ResourceId};
use mimic_store::Tx;
use mimic_wire::arm::Page;
use mimic_wire::jsonnet::JsonNetError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::rules::{self as network, eq, inline_subnet, SUBNET_TYPE, VNET_TYPE};
use crate::arm::core::{json_response, ArmError, ArmResult, Ctx, Registry, Reply};

fn is_vnet(id: &ResourceId) -> bool {
    id.namespace.as_deref().is_some_and(|n| eq(n, "Microsoft.Network")) && id.types.first().is_some_and(|(t, _)| eq(t, "virtualNetworks"))
}

/// `.../virtualNetworks/{vnet}/subnets/{name}`
pub fn is_subnet(id: &ResourceId) -> bool {
    is_vnet(id) && id.types.len() == 2 && eq(&id.types[1].0, "subnets")
}

/// `.../virtualNetworks/{vnet}/subnets` (the router's action form: the VNet id and `subnets`).
pub fn is_collection(id: &ResourceId, child: &str) -> bool {
    is_vnet(id) && id.types.len() == 1 && eq(child, "subnets")
}

fn vnet_of(subnet: &ResourceId) -> ResourceId {
    ResourceId { types: subnet.types[..1].to_vec(), ..subnet.clone() }
}

fn vnet_not_found(vnet: &ResourceId) -> ArmError {
    ArmError::resource_not_found(VNET_TYPE, vnet.name().unwrap_or_default(), vnet.resource_group.as_deref().unwrap_or_default())
}

fn subnets_of(vnet: &Resource) -> Vec<Value> {
    vnet.properties["subnets"].as_array().cloned().unwrap_or_default()
}

fn named<'a>(subnets: &'a [Value], name: &str) -> Option<&'a Value> {
    subnets.iter().find(|s| s["name"].as_str().is_some_and(|n| eq(n, name)))
}

/// The VNet's subnets plus any stored on their own under it (older data), by name.
fn all_subnets(tx: &mut dyn Tx, vnet: &Resource) -> ArmResult<Vec<Value>> {
    let mut out = subnets_of(vnet);
    for r in network::stored_subnets(tx, vnet)? {
        if named(&out, &r.name).is_none() {
            out.push(json!({ "name": r.name, "id": r.id, "type": SUBNET_TYPE, "properties": r.properties }));
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct SubnetWrite {
    properties: Option<Value>,
}

pub fn handle(ctx: &Ctx, id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(id.subscription.as_deref().unwrap_or_default())?;
    Registry::check_version(ctx, "Microsoft.Network", "virtualNetworks", None)?;
    let rg = id.resource_group.clone().unwrap_or_default();
    let scope = id.render();
    let name = id.name().unwrap_or_default().to_string();
    let vnet_id = vnet_of(id);
    let vnet_key = resource_id::key(&vnet_id.render());
    match ctx.method {
        Method::GET => {
            ctx.authorize(&format!("{SUBNET_TYPE}/read"), &scope)?;
            ctx.resource_group(&sub.id.to_string(), &rg)?;
            let found = ctx.state.store.read(|tx| {
                let vnet = tx.resource(&vnet_key)?.ok_or_else(|| vnet_not_found(&vnet_id))?;
                Ok::<_, ArmError>(named(&all_subnets(tx, &vnet)?, &name).cloned())
            })?;
            let s = found.ok_or_else(|| ArmError::resource_not_found(SUBNET_TYPE, &name, &rg))?;
            Ok(json_response(StatusCode::OK, &s))
        }
        Method::PUT => {
            ctx.authorize(&format!("{SUBNET_TYPE}/write"), &scope)?;
            let body: SubnetWrite = ctx.json()?;
            let mut properties = match body.properties {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m,
                Some(other) => {
                    return Err(ArmError::invalid_request_content(&JsonNetError::requires_object(
                        &other,
                        "SubnetPropertiesFormat",
                        "properties",
                    )))
                }
            };
            properties.remove("ipConfigurations"); // the Network RP's to fill, never the client's
            ctx.resource_group(&sub.id.to_string(), &rg)?;
            let (subnet, created) = ctx.state.store.write(|tx| {
                let old = tx.resource(&vnet_key)?.ok_or_else(|| vnet_not_found(&vnet_id))?;
                let mut vnet = old.clone();
                let mut subnets = subnets_of(&vnet);
                let entry = json!({ "name": name, "properties": properties.clone() });
                let created = match subnets.iter_mut().find(|s| s["name"].as_str().is_some_and(|n| eq(n, &name))) {
                    Some(s) => {
                        *s = entry;
                        false
                    }
                    None => {
                        subnets.push(entry);
                        true
                    }
                };
                vnet.properties["subnets"] = Value::Array(subnets);
                vnet.changed = chrono::Utc::now();
                network::before_write(Registry::installed(), tx, &mut vnet, Some(&old))?; // ids, type, kept ipConfigurations
                tx.put_resource(&vnet)?;
                let subnet = inline_subnet(&vnet.properties, &name).cloned().unwrap_or_default();
                Ok::<_, ArmError>((subnet, created))
            })?;
            Ok(json_response(if created { StatusCode::CREATED } else { StatusCode::OK }, &subnet))
        }
        Method::DELETE => {
            ctx.authorize(&format!("{SUBNET_TYPE}/delete"), &scope)?;
            ctx.resource_group(&sub.id.to_string(), &rg)?;
            let existed = ctx.state.store.write(|tx| {
                let Some(old) = tx.resource(&vnet_key)? else { return Ok(false) };
                let Some(entry) = inline_subnet(&old.properties, &name) else {
                    return Ok(tx.delete_resource(&resource_id::key(&scope))?); // one stored on its own
                };
                if let Some(user) = entry["properties"]["ipConfigurations"].as_array().and_then(|c| c.first()) {
                    return Err(ArmError::subnet_in_use(&name, user["id"].as_str().unwrap_or_default()));
                }
                let mut vnet = old.clone();
                let kept = subnets_of(&old).into_iter().filter(|s| !s["name"].as_str().is_some_and(|n| eq(n, &name))).collect();
                vnet.properties["subnets"] = Value::Array(kept);
                vnet.changed = chrono::Utc::now();
                tx.put_resource(&vnet)?;
                Ok::<_, ArmError>(true)
            })?;
            Ok(Reply::status(if existed { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path)),
    }
}

/// `GET .../virtualNetworks/{vnet}/subnets`
pub fn list(ctx: &Ctx, vnet_id: &ResourceId) -> ArmResult<Reply> {
    let sub = ctx.subscription(vnet_id.subscription.as_deref().unwrap_or_default())?;
    if ctx.method != Method::GET {
        return Err(ArmError::method_not_allowed(ctx.method.as_str(), &ctx.path));
    }
    Registry::check_version(ctx, "Microsoft.Network", "virtualNetworks", None)?;
    let scope = vnet_id.render();
    ctx.authorize(&format!("{SUBNET_TYPE}/read"), &scope)?;
    ctx.resource_group(&sub.id.to_string(), vnet_id.resource_group.as_deref().unwrap_or_default())?;
    let key = resource_id::key(&scope);
    let value = ctx.state.store.read(|tx| {
        let vnet = tx.resource(&key)?.ok_or_else(|| vnet_not_found(vnet_id))?;
        all_subnets(tx, &vnet)
    })?;
    Ok(json_response(StatusCode::OK, &Page { value, next_link: None }))
}
