//! The VM `identity` block rules: any JSON as the request's identity block and as the stored
//! identities, for every api-version shape and both PUT and PATCH, never panics; a plan never
//! lists an identity twice, and everything it adds is in its result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimic_domain::identity::{self, ApiShape, Method, VmIdentity};
use mimic_domain::resource_id;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // Two JSON documents separated by a NUL byte: the request's identity block, then the stored one.
    let mut parts = data.splitn(2, |b| *b == 0);
    let Some(request) = parts.next().and_then(|b| serde_json::from_slice::<Value>(b).ok()) else { return };
    let stored = parts.next().and_then(|b| serde_json::from_slice::<Value>(b).ok());
    let current = VmIdentity::from_stored(stored.as_ref());
    let _ = current.to_stored();
    let _ = current.attached("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", None);
    for version in ["2017-12-01", "2018-06-01", "2024-11-01"] {
        let shape = ApiShape::for_api_version(version);
        let Ok(write) = identity::IdentityWrite::parse(Some(&request), shape) else { continue };
        let Ok(req) = identity::request(write) else { continue };
        for method in [Method::Put, Method::Patch] {
            if let Ok(plan) = identity::plan(&current, req.as_ref(), method) {
                let mut keys: Vec<String> = plan.user.iter().map(|u| resource_id::key(u)).collect();
                keys.sort();
                let n = keys.len();
                keys.dedup();
                assert_eq!(n, keys.len(), "an identity listed twice: {:?}", plan.user);
                for a in &plan.added {
                    assert!(keys.contains(&resource_id::key(a)), "added {a} is not in the result {:?}", plan.user);
                }
                let _ = plan.kind();
            }
        }
    }
});
