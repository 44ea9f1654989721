"""The objects benches/run.sh measures, made through ARM in a running Mimic: a resource group
`benchrg` (read and tag-PATCHed), a user-assigned identity and a VM with a system-assigned
identity (identity-PATCHed, and its IMDS token). Prints one JSON object: rgPath, vmPath, imds,
identityBodies (the two PATCH bodies sent in turn, see live_mimic.identity_patch_bodies).
Usage: mimic_setup.py DATA_DIR"""
import json
import sys

from live_mimic import RG_API, VM_API, MimicApi, identity_patch_bodies

api = MimicApi(sys.argv[1])
rg = api.rg("benchrg")
api.call("PATCH", rg, RG_API, {"tags": {"bench": "probe"}})
uai = api.user_identity(rg, "benchidentity")
vm, _ = api.vm(rg, "benchvm", system_identity=True)
bodies = identity_patch_bodies(uai)
for b in bodies:  # both PATCHes answer 200 before wrk repeats them
    api.call("PATCH", vm, VM_API, json.loads(b))
print(json.dumps({"rgPath": f"{rg}?api-version={RG_API}", "vmPath": f"{vm}?api-version={VM_API}",
                  "imds": api.imds(vm), "identityBodies": bodies}))
