"""Blob storage a VM's identity is granted, and refused, by RBAC: the tutorial end to end with
unmodified clients. A workload on a VM, under `mimic vm run`, uploads and downloads a blob with
azure-storage-blob and DefaultAzureCredential only after `az role assignment create --role
"Storage Blob Data Contributor"` at the account; before it, and with only "Storage Blob Data
Reader" for an upload, Azure's 403 AuthorizationPermissionMismatch. The account and its blobs
are driven by az 2.91 through Mimic's proxy with the default AzureCloud (`az storage account
create`, `az storage container create`, `az storage blob upload|download|list|delete`, with
`--auth-mode login` and with the account's keys); JavaScript's @azure/storage-blob reads the blob.

Storage's behaviour (its audiences, Shared Key, the data actions, the XML errors) is in
docs/azure-behaviour.md "Blob storage".
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from mimic_harness import JS_DIR, MimicServer, js_clients_installed, make_vm, replica_of, unique
from test_imds import py_workload, vm_run
from test_proxy import ProxiedAz
from test_secrets_at_rest import needs_postgres

CONTRIBUTOR = "Storage Blob Data Contributor"
READER = "Storage Blob Data Reader"

WORKLOAD = """
import json, sys
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from azure.core.exceptions import HttpResponseError
url, container, op = sys.argv[1:4]
blob = BlobServiceClient(url, credential=DefaultAzureCredential()).get_blob_client(container, "report.txt")
try:
    if op == "upload":
        blob.upload_blob(b"written by the VM", overwrite=True)
        print(json.dumps({"ok": True}))
    else:
        print(json.dumps({"text": blob.download_blob().readall().decode()}))
except HttpResponseError as e:
    print(json.dumps({"status": e.status_code, "code": e.error_code}))
"""


@pytest.fixture
def paz(mimic: MimicServer, tmp_path) -> ProxiedAz:
    config = tmp_path / "azure-config"
    config.mkdir()
    az = ProxiedAz(mimic, config)
    az("login", "--service-principal", "-u", mimic.sp["clientId"], "-p", mimic.sp["clientSecret"], "--tenant", mimic.tenant_id)
    return az


def account_name(prefix: str) -> str:
    return unique(prefix).replace("-", "").replace("_", "").lower()[:24]


def on_vm(mimic: MimicServer, vm: str, url: str, container: str, op: str) -> dict:
    p = vm_run(mimic, vm, *py_workload(WORKLOAD), url, container, op)
    assert p.returncode == 0, p.stderr + p.stdout
    return json.loads(p.stdout.strip().splitlines()[-1])


def sp_object_id(mimic: MimicServer, paz: ProxiedAz) -> str:
    return paz("ad", "sp", "show", "--id", mimic.sp["clientId"])["id"]


def make_account(paz: ProxiedAz, rg: str, prefix: str, *extra: str) -> dict:
    name = account_name(prefix)
    return paz("storage", "account", "create", "-g", rg, "-n", name, "-l", "westus", "--sku", "Standard_LRS", *extra)


def test_vm_identity_uploads_only_with_blob_data_contributor(mimic: MimicServer, paz: ProxiedAz):
    rg = unique("blobvm")
    paz("group", "create", "-n", rg, "-l", "westus")
    vm = make_vm(mimic, rg, "blobvm", {"type": "SystemAssigned"}, linux=True, read_back=True)
    account = make_account(paz, rg, "vmblob")
    name, url = account["name"], account["primaryEndpoints"]["blob"]
    assert url == f"https://{name}.blob.core.windows.net/"
    # The subscription's Owner makes the container (a management action) without any data role.
    assert paz("storage", "container", "create", "--account-name", name, "-n", "reports", "--auth-mode", "login") == {"created": True}

    where = f"{rg}/blobvm"
    assert on_vm(mimic, where, url, "reports", "upload") == {"status": 403, "code": "AuthorizationPermissionMismatch"}
    principal = vm["identity"]["principalId"]
    reader = paz("role", "assignment", "create", "--role", READER, "--assignee-object-id", principal,
                 "--assignee-principal-type", "ServicePrincipal", "--scope", account["id"])
    assert on_vm(mimic, where, url, "reports", "upload") == {"status": 403, "code": "AuthorizationPermissionMismatch"}
    paz("role", "assignment", "create", "--role", CONTRIBUTOR, "--assignee-object-id", principal,
        "--assignee-principal-type", "ServicePrincipal", "--scope", account["id"])
    assert on_vm(mimic, where, url, "reports", "upload") == {"ok": True}
    assert on_vm(mimic, where, url, "reports", "download") == {"text": "written by the VM"}
    paz("role", "assignment", "delete", "--ids", reader["id"])
    # Still a contributor: reads go on.
    assert on_vm(mimic, where, url, "reports", "download") == {"text": "written by the VM"}


def test_az_blob_commands_with_login_and_with_keys(mimic: MimicServer, paz: ProxiedAz, tmp_path: Path):
    rg = unique("blobaz")
    paz("group", "create", "-n", rg, "-l", "westus")
    account = make_account(paz, rg, "azblob")
    name = account["name"]
    login = ["--account-name", name, "--auth-mode", "login"]
    paz("storage", "container", "create", "-n", "data", *login)
    src = tmp_path / "hello.txt"
    src.write_text("hello, blob")
    # Owner holds no data action: the upload is refused until a data role is assigned.
    refused = paz.run("storage", "blob", "upload", "-c", "data", "-n", "dir/hello.txt", "-f", str(src), *login, check=False)
    # az turns Storage's 403 AuthorizationPermissionMismatch into its advice on data roles.
    assert refused.returncode != 0 and "You do not have the required permissions" in refused.stderr, refused.stderr
    paz("role", "assignment", "create", "--role", CONTRIBUTOR, "--assignee-object-id", sp_object_id(mimic, paz),
        "--assignee-principal-type", "ServicePrincipal", "--scope", account["id"])
    uploaded = paz("storage", "blob", "upload", "-c", "data", "-n", "dir/hello.txt", "-f", str(src), *login)
    assert uploaded["etag"] and uploaded["lastModified"]
    listed = paz("storage", "blob", "list", "-c", "data", *login)
    assert [b["name"] for b in listed] == ["dir/hello.txt"]
    assert listed[0]["properties"]["contentLength"] == len("hello, blob")
    out = tmp_path / "out.txt"
    paz("storage", "blob", "download", "-c", "data", "-n", "dir/hello.txt", "-f", str(out), *login)
    assert out.read_text() == "hello, blob"
    shown = paz("storage", "blob", "show", "-c", "data", "-n", "dir/hello.txt", *login)
    assert shown["properties"]["contentLength"] == len("hello, blob")

    # The same with the account's keys (az's default without --auth-mode: it lists them over ARM).
    keys = ["--account-name", name]
    paz("storage", "container", "create", "-n", "bykey", *keys)
    paz("storage", "blob", "upload", "-c", "bykey", "-n", "k.txt", "-f", str(src), *keys)
    assert [b["name"] for b in paz("storage", "blob", "list", "-c", "bykey", *keys)] == ["k.txt"]
    key = paz("storage", "account", "keys", "list", "-n", name)[0]["value"]
    out2 = tmp_path / "out2.txt"
    paz("storage", "blob", "download", "-c", "bykey", "-n", "k.txt", "-f", str(out2), "--account-key", key, "--account-name", name)
    assert out2.read_text() == "hello, blob"
    paz("storage", "blob", "delete", "-c", "bykey", "-n", "k.txt", *keys)
    assert paz("storage", "blob", "list", "-c", "bykey", *keys) == []
    paz("storage", "blob", "delete", "-c", "data", "-n", "dir/hello.txt", *login)
    assert paz("storage", "blob", "list", "-c", "data", *login) == []

    # An account that forbids Shared Key refuses the keys, and still takes tokens.
    paz("storage", "account", "update", "-n", name, "-g", rg, "--allow-shared-key-access", "false")
    no_keys = paz.run("storage", "blob", "list", "-c", "bykey", "--account-key", key, "--account-name", name, check=False)
    assert no_keys.returncode != 0 and "KeyBasedAuthenticationNotPermitted" in no_keys.stderr, no_keys.stderr
    assert paz("storage", "blob", "list", "-c", "data", *login) == []


@pytest.mark.skipif(not js_clients_installed(), reason="node packages not installed (scripts/test-setup.sh)")
def test_javascript_workload_reads_the_blob(mimic: MimicServer, paz: ProxiedAz, tmp_path: Path):
    rg = unique("blobjs")
    paz("group", "create", "-n", rg, "-l", "westus")
    vm = make_vm(mimic, rg, "jsvm", {"type": "SystemAssigned"}, linux=True, read_back=True)
    account = make_account(paz, rg, "jsblob")
    name, url = account["name"], account["primaryEndpoints"]["blob"]
    paz("storage", "container", "create", "-n", "web", "--account-name", name)
    src = tmp_path / "page.txt"
    src.write_text("read from node")
    paz("storage", "blob", "upload", "-c", "web", "-n", "page.txt", "-f", str(src), "--account-name", name)

    def js() -> dict:
        p = vm_run(mimic, f"{rg}/jsvm", "node", str(JS_DIR / "blob_read.mjs"), url, "web", "page.txt")
        assert p.returncode == 0, p.stderr + p.stdout
        return json.loads(p.stdout.strip().splitlines()[-1])

    assert js() == {"status": 403, "code": "AuthorizationPermissionMismatch"}
    paz("role", "assignment", "create", "--role", READER, "--assignee-object-id", vm["identity"]["principalId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", f"{account['id']}/blobServices/default/containers/web")
    assert js() == {"text": "read from node"}


LARGE = """
import hashlib, json, sys
from azure.storage.blob import BlobServiceClient
url, key, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
MIB = 1 << 20

def chunks():
    # Deterministic bytes, one MiB at a time: the test never holds the blob either.
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)
    for i in range(mib):
        yield i.to_bytes(8, "big") + block[8:]

sent = hashlib.sha256()
for c in chunks():
    sent.update(c)
service = BlobServiceClient(url, credential=key, max_block_size=4 * MIB, max_single_put_size=4 * MIB)
blob = service.get_container_client("big").get_blob_client("large.bin")
if sys.argv[4] == "upload":
    blob.upload_blob(chunks(), length=mib * MIB, overwrite=True, max_concurrency=2)
got = hashlib.sha256()
for c in blob.download_blob().chunks():
    got.update(c)
print(json.dumps({"sent": sent.hexdigest(), "got": got.hexdigest(), "size": blob.get_blob_properties().size}))
"""

LARGE_MIB = int(os.environ.get("MIMIC_TEST_LARGE_BLOB_MIB", "1024"))


def peak_rss_mib(server: MimicServer) -> float:
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return kib / 1024


def test_a_large_upload_streams_in_blocks_in_bounded_memory_and_survives_kill_9(mimic_factory, tmp_path: Path):
    """A 1 GiB upload in 4 MiB blocks and its download (azure-storage-blob, account key, through
    the proxy) leave the server's peak RSS under 100 MiB; the acknowledged blob is whole after
    SIGKILL and a restart on the same data directory."""
    server: MimicServer = mimic_factory()
    config = tmp_path / "azure-config"
    config.mkdir()
    az = ProxiedAz(server, config)
    az("login", "--service-principal", "-u", server.sp["clientId"], "-p", server.sp["clientSecret"], "--tenant", server.tenant_id)
    rg = unique("bigblob")
    az("group", "create", "-n", rg, "-l", "westus")
    account = make_account(az, rg, "bigblob")
    name, url = account["name"], account["primaryEndpoints"]["blob"]
    key = az("storage", "account", "keys", "list", "-n", name)[0]["value"]
    az("storage", "container", "create", "-n", "big", "--account-name", name, "--account-key", key)
    def run(op: str) -> dict:
        # `mimic env` again each time: a restarted server has a new proxy port.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "HTTPS_PROXY", "HTTP_PROXY"))}
        env.update(az.env())
        p = subprocess.run([*py_workload(LARGE), url, key, str(LARGE_MIB), op], capture_output=True, text=True, env=env,
                           timeout=1200, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr[-3000:] + p.stdout
        return json.loads(p.stdout.strip().splitlines()[-1])

    before = peak_rss_mib(server)
    result = run("upload")
    assert result["sent"] == result["got"] and result["size"] == LARGE_MIB << 20
    peak = peak_rss_mib(server)
    assert peak < 100, f"peak RSS {peak:.0f} MiB (at start {before:.0f} MiB) for a {LARGE_MIB} MiB upload and download"

    server.kill()
    server.start()
    again = run("download")
    assert again == result


@needs_postgres
def test_blobs_written_on_one_replica_are_read_and_deleted_on_the_other(mimic_factory, tmp_path: Path):
    """Blob bytes live in the shared store: azure-storage-blob uploads 9 MiB in blocks through
    replica A's proxy, reads it back through replica B's, deletes it there; A no longer finds it."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.blob import BlobServiceClient

    a = mimic_factory(store="postgres")
    b = replica_of(mimic_factory, a)
    config = tmp_path / "az"
    config.mkdir()
    az = ProxiedAz(a, config)
    az("login", "--service-principal", "-u", a.sp["clientId"], "-p", a.sp["clientSecret"], "--tenant", a.tenant_id)
    rg = unique("blobrep")
    az("group", "create", "-n", rg, "-l", "westus")
    account = make_account(az, rg, "blobrep")
    key = az("storage", "account", "keys", "list", "-n", account["name"])[0]["value"]
    url = account["primaryEndpoints"]["blob"]

    def client(server: MimicServer) -> BlobServiceClient:
        return BlobServiceClient(url, credential=key, proxies={"https": server.proxy_url}, connection_verify=str(server.ca_path),
                                 max_block_size=4 << 20, max_single_put_size=4 << 20)

    data = os.urandom(9 << 20)
    on_a = client(a).get_container_client("shared")
    on_a.create_container()
    on_a.upload_blob("nine.bin", data)
    on_b = client(b).get_container_client("shared")
    assert [p.name for p in on_b.list_blobs()] == ["nine.bin"]
    assert on_b.download_blob("nine.bin").readall() == data
    on_b.delete_blob("nine.bin")
    with pytest.raises(ResourceNotFoundError):
        on_a.get_blob_client("nine.bin").get_blob_properties()
