// The SDK route of the seeds, in JavaScript: @azure/arm-msi creates a user-assigned identity,
// @azure/arm-compute creates a VM and enables/disables its system-assigned identity and
// adds/removes the user-assigned one, each step a PATCH (beginUpdateAndWait) as the seeds' SDK
// samples do. Driven by tests/test_vm_identity.py and tests/test_proxy.py.
//
// Environment: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID,
// MIMIC_RG, MIMIC_NIC (a NIC id), MIMIC_VM; MIMIC_ARM and MIMIC_LOGIN when Mimic is a custom
// cloud. Without them the script is exactly what one writes for Azure (no endpoint settings):
// the zero-configuration proxy (HTTPS_PROXY, NODE_EXTRA_CA_CERTS) brings it to Mimic.
// Prints one JSON line: the identity block after each step.
import { ClientSecretCredential } from "@azure/identity";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const sub = env("AZURE_SUBSCRIPTION_ID");
const rg = env("MIMIC_RG");
const vmName = env("MIMIC_VM");
const arm = process.env.MIMIC_ARM;
const login = process.env.MIMIC_LOGIN;

const cred = login
  ? new ClientSecretCredential(env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET"),
      { authorityHost: login, disableInstanceDiscovery: true })
  : new ClientSecretCredential(env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET"));
const options = arm ? { endpoint: arm, credentialScopes: ["https://management.azure.com/.default"] } : {};
const compute = new ComputeManagementClient(cred, sub, options);
const msi = new ManagedServiceIdentityClient(cred, sub, options);

const steps = {};
const identityOf = (vm) => (vm.identity ? {
  type: vm.identity.type,
  principalId: vm.identity.principalId ?? null,
  userAssigned: Object.keys(vm.identity.userAssignedIdentities ?? {}),
} : null);

const ua = await msi.userAssignedIdentities.createOrUpdate(rg, `${vmName}-id`, { location: "westus" });
steps.userAssigned = { id: ua.id, principalId: ua.principalId, clientId: ua.clientId, tenantId: ua.tenantId };

let vm = await compute.virtualMachines.beginCreateOrUpdateAndWait(rg, vmName, {
  location: "westus",
  hardwareProfile: { vmSize: "Standard_B1s" },
  storageProfile: { imageReference: { publisher: "Canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts", version: "latest" } },
  osProfile: { computerName: vmName, adminUsername: "azureuser", adminPassword: "Secure-Passw0rd!" },
  networkProfile: { networkInterfaces: [{ id: env("MIMIC_NIC"), primary: true }] },
});
steps.created = { provisioningState: vm.provisioningState, identity: identityOf(vm), adminPasswordEchoed: vm.osProfile?.adminPassword !== undefined };

vm = await compute.virtualMachines.beginUpdateAndWait(rg, vmName, { identity: { type: "SystemAssigned" } });
steps.systemOn = identityOf(vm);

vm = await compute.virtualMachines.beginUpdateAndWait(rg, vmName, {
  identity: { type: "SystemAssigned, UserAssigned", userAssignedIdentities: { [ua.id]: {} } },
});
steps.userAdded = identityOf(vm);
steps.userAddedValue = vm.identity.userAssignedIdentities[Object.keys(vm.identity.userAssignedIdentities)[0]];

vm = await compute.virtualMachines.beginUpdateAndWait(rg, vmName, { identity: { type: "SystemAssigned" } });
steps.userRemoved = identityOf(vm);

vm = await compute.virtualMachines.beginUpdateAndWait(rg, vmName, { identity: { type: "None" } });
steps.none = identityOf(vm);

steps.listed = [];
for await (const v of compute.virtualMachines.list(rg)) steps.listed.push(v.name);
steps.identities = [];
for await (const i of msi.userAssignedIdentities.listByResourceGroup(rg)) steps.identities.push(i.name);

await compute.virtualMachines.beginDeleteAndWait(rg, vmName);
await msi.userAssignedIdentities.delete(rg, `${vmName}-id`);
console.log(JSON.stringify(steps));
