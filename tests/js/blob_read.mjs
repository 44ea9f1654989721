// A workload on a VM reads a blob with its managed identity, in JavaScript, as one writes it for
// Azure: @azure/storage-blob's BlobServiceClient with @azure/identity's DefaultAzureCredential.
// No endpoint settings and no credential: under `mimic vm run` the VM's IMDS gives the token and
// `{account}.blob.core.windows.net` reaches Mimic through the proxy the workload is given
// (HTTPS_PROXY/NO_PROXY), its certificate trusted through NODE_EXTRA_CA_CERTS. Driven by
// tests/test_blob.py.
//
//   node blob_read.mjs ACCOUNT_URL CONTAINER BLOB
//
// Prints one JSON line: {"text": ...} (the blob's content as UTF-8), or on the service's
// refusal (RestError) {"status", "code"} (Storage's x-ms-error-code).
import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient } from "@azure/storage-blob";

const [accountUrl, container, blob] = process.argv.slice(2);
if (!accountUrl || !container || !blob) throw new Error("usage: blob_read.mjs ACCOUNT_URL CONTAINER BLOB");
const client = new BlobServiceClient(accountUrl, new DefaultAzureCredential());

try {
  const buffer = await client.getContainerClient(container).getBlobClient(blob).downloadToBuffer();
  console.log(JSON.stringify({ text: buffer.toString("utf8") }));
} catch (e) {
  if (e?.name !== "RestError") throw e;
  // A HEAD's refusal has no body: the client keeps Storage's x-ms-error-code header as
  // `details.errorCode` (the operation's declared error headers).
  console.log(JSON.stringify({ status: e.statusCode, code: e.details?.errorCode ?? e.code ?? null }));
}
