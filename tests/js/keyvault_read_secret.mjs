// A workload on a VM reads a Key Vault secret with its managed identity, in JavaScript, exactly
// as one writes it for Azure: @azure/keyvault-secrets' SecretClient with @azure/identity's
// DefaultAzureCredential (or ManagedIdentityCredential for a user-assigned identity's client id).
// No endpoint settings and no credential: under `mimic vm run` the VM's IMDS gives the token, and
// the vault's host `{vault}.vault.azure.net` reaches Mimic through the proxy the workload is
// given (HTTPS_PROXY/NO_PROXY, which @azure/core-rest-pipeline's proxy policy honours), its
// certificate trusted through NODE_EXTRA_CA_CERTS. Driven by tests/test_keyvault_secrets.py.
//
//   node keyvault_read_secret.mjs VAULT_URL SECRET_NAME [CLIENT_ID]
//
// Prints one JSON line: {"value": ...}, or on the service's refusal (RestError)
// {"status", "code", "inner"} (the error code and its innererror code).
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";

const [vaultUrl, name, clientId] = process.argv.slice(2);
if (!vaultUrl || !name) throw new Error("usage: keyvault_read_secret.mjs VAULT_URL SECRET_NAME [CLIENT_ID]");
const credential = clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential();
const client = new SecretClient(vaultUrl, credential);

try {
  const secret = await client.getSecret(name);
  console.log(JSON.stringify({ value: secret.value }));
} catch (e) {
  if (e?.name !== "RestError") throw e;
  // The client puts Key Vault's {"error": {code, message, innererror}} on the RestError as
  // `details` (keyVaultErrorDeserializer: `innererror` becomes `innerError`).
  const error = e.details?.error ?? {};
  console.log(JSON.stringify({ status: e.statusCode, code: error.code ?? e.code ?? null, inner: error.innerError?.code ?? null }));
}
