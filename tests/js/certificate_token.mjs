// An app signs in with its certificate in JavaScript, as one writes it for Azure: @azure/identity's
// ClientCertificateCredential with the PEM file `az ad sp create-for-rbac --create-cert` wrote
// (private key and certificate). The authority host is Mimic's login URL; its certificate is
// trusted through NODE_EXTRA_CA_CERTS. Driven by tests/test_certificates.py.
//
//   node certificate_token.mjs AUTHORITY_HOST TENANT_ID CLIENT_ID PEM_PATH SCOPE
//
// Prints one JSON line: {"token": ...}, or on refusal {"error": <the message>}.
import { ClientCertificateCredential } from "@azure/identity";

const [authorityHost, tenantId, clientId, certificatePath, scope] = process.argv.slice(2);
if (!scope) throw new Error("usage: certificate_token.mjs AUTHORITY_HOST TENANT_ID CLIENT_ID PEM_PATH SCOPE");
const credential = new ClientCertificateCredential(tenantId, clientId, { certificatePath }, { authorityHost, disableInstanceDiscovery: true });

try {
  const { token } = await credential.getToken(scope);
  console.log(JSON.stringify({ token }));
} catch (e) {
  if (e?.name !== "AuthenticationError" && e?.name !== "CredentialUnavailableError") throw e;
  console.log(JSON.stringify({ error: e.message }));
}
