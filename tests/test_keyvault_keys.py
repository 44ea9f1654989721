"""Key Vault keys and backups with Microsoft's clients: az 2.91 creates RSA and EC keys, signs
and verifies digests, encrypts and decrypts, backs up and restores keys and secrets; code on a
VM, under `mimic vm run`, signs and wraps with azure-keyvault-keys' CryptographyClient and
DefaultAzureCredential (no credential anywhere), refused with 403 ForbiddenByRbac until the VM's
identity holds Key Vault Crypto User. The SDK verifies and wraps locally with the public key it
reads, so these also check that the JSON Web Key Mimic answers is the key that signed.

Key Vault's behaviour is in docs/azure-behaviour.md §14.
"""

from __future__ import annotations

import base64
import hashlib
import json

from mimic_harness import MimicServer, make_vm, replica_of, unique
from test_imds import py_workload, vm_run
from test_keyvault_secrets import paz, proxied, sp_object_id  # noqa: F401  (paz is a fixture)
from test_proxy import ProxiedAz
from test_secrets_at_rest import clear_key_material, needs_postgres

CRYPTO_OFFICER = "Key Vault Crypto Officer"
CRYPTO_USER = "Key Vault Crypto User"
SECRETS_OFFICER = "Key Vault Secrets Officer"

USE_KEY = """
import json, sys
from azure.identity import DefaultAzureCredential
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm, KeyWrapAlgorithm
from azure.core.exceptions import HttpResponseError
import hashlib
try:
    client = CryptographyClient(sys.argv[1], DefaultAzureCredential())
    digest = hashlib.sha256(b"release artefact").digest()
    signed = client.sign(SignatureAlgorithm.rs256, digest)
    verified = client.verify(SignatureAlgorithm.rs256, digest, signed.signature).is_valid
    wrapped = client.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
    unwrapped = client.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key
    print(json.dumps({"verified": verified, "unwrapped": unwrapped == b"k" * 32, "kid": signed.key_id}))
except HttpResponseError as e:
    print(json.dumps({"status": e.status_code, "code": e.error.code if e.error else None,
                      "inner": (e.error.innererror or {}).get("code") if e.error else None}))
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rbac_vault(mimic: MimicServer, paz: ProxiedAz, rg: str, name: str) -> dict:
    paz("group", "create", "-n", rg, "-l", "westus")
    vault = paz("keyvault", "create", "-g", rg, "-n", name, "-l", "westus", "--enable-rbac-authorization", "true")
    me = sp_object_id(mimic, paz)
    for role in (CRYPTO_OFFICER, SECRETS_OFFICER):
        paz("role", "assignment", "create", "--role", role, "--assignee-object-id", me,
            "--assignee-principal-type", "ServicePrincipal", "--scope", vault["id"])
    return vault


def test_az_creates_keys_signs_verifies_encrypts_and_restores_backups(mimic: MimicServer, paz: ProxiedAz, tmp_path):
    rg, name = unique("kvkeys"), unique("kvk")[:20]
    rbac_vault(mimic, paz, rg, name)
    key = paz("keyvault", "key", "create", "--vault-name", name, "-n", "signer", "--kty", "RSA", "--size", "3072")
    assert key["key"]["kty"] == "RSA" and len(base64.urlsafe_b64decode(key["key"]["n"] + "==")) == 384
    ec = paz("keyvault", "key", "create", "--vault-name", name, "-n", "ec", "--kty", "EC", "--curve", "P-256")
    assert ec["key"]["crv"] == "P-256"
    assert sorted(k["name"] for k in paz("keyvault", "key", "list", "--vault-name", name)) == ["ec", "signer"]

    digest = b64(hashlib.sha256(b"hello").digest())
    signed = paz("keyvault", "key", "sign", "--vault-name", name, "-n", "signer", "-a", "RS256", "--digest", digest)
    ok = paz("keyvault", "key", "verify", "--vault-name", name, "-n", "signer", "-a", "RS256", "--digest", digest,
             "--signature", signed["signature"])
    assert ok["isValid"] is True
    other = b64(hashlib.sha256(b"other").digest())
    bad = paz("keyvault", "key", "verify", "--vault-name", name, "-n", "signer", "-a", "RS256", "--digest", other,
              "--signature", signed["signature"])
    assert bad["isValid"] is False
    es = paz("keyvault", "key", "sign", "--vault-name", name, "-n", "ec", "-a", "ES256", "--digest", digest)
    assert paz("keyvault", "key", "verify", "--vault-name", name, "-n", "ec", "-a", "ES256", "--digest", digest,
               "--signature", es["signature"])["isValid"] is True

    sealed = paz("keyvault", "key", "encrypt", "--vault-name", name, "-n", "signer", "-a", "RSA-OAEP",
                 "--value", b64(b"attack at dawn"), "--data-type", "base64")
    opened = paz("keyvault", "key", "decrypt", "--vault-name", name, "-n", "signer", "-a", "RSA-OAEP",
                 "--value", sealed["result"], "--data-type", "base64")
    assert base64.b64decode(opened["result"]) == b"attack at dawn"

    # Backups: a deleted-and-purged key and secret come back from their blobs.
    paz("keyvault", "secret", "set", "--vault-name", name, "-n", "pw", "--value", "s3cret")
    for kind, obj in (("key", "signer"), ("secret", "pw")):
        blob = tmp_path / f"{obj}.blob"
        paz.run("keyvault", kind, "backup", "--vault-name", name, "-n", obj, "--file", str(blob))
        assert blob.stat().st_size > 0
        paz.run("keyvault", kind, "delete", "--vault-name", name, "-n", obj)
        paz.run("keyvault", kind, "purge", "--vault-name", name, "-n", obj)
        paz("keyvault", kind, "restore", "--vault-name", name, "--file", str(blob))
    restored = paz("keyvault", "key", "show", "--vault-name", name, "-n", "signer")
    assert restored["key"]["n"] == key["key"]["n"]
    assert paz("keyvault", "key", "verify", "--vault-name", name, "-n", "signer", "-a", "RS256", "--digest", digest,
               "--signature", signed["signature"])["isValid"] is True
    assert paz("keyvault", "secret", "show", "--vault-name", name, "-n", "pw")["value"] == "s3cret"


def test_vm_identity_signs_and_wraps_only_while_it_holds_crypto_user(mimic: MimicServer, paz: ProxiedAz):
    rg, name = unique("kvkvm"), unique("kvc")[:20]
    vault = rbac_vault(mimic, paz, rg, name)
    vm = make_vm(mimic, rg, "keyvm", {"type": "SystemAssigned"}, linux=True, read_back=True)
    kid = paz("keyvault", "key", "create", "--vault-name", name, "-n", "cmk", "--kty", "RSA")["key"]["kid"]

    def use() -> dict:
        p = vm_run(mimic, f"{rg}/keyvm", *py_workload(USE_KEY), kid)
        assert p.returncode == 0, p.stderr + p.stdout
        return json.loads(p.stdout.strip().splitlines()[-1])

    assert use() == {"status": 403, "code": "Forbidden", "inner": "ForbiddenByRbac"}
    paz("role", "assignment", "create", "--role", CRYPTO_USER, "--assignee-object-id", vm["identity"]["principalId"],
        "--assignee-principal-type", "ServicePrincipal", "--scope", f"{vault['id']}/keys/cmk")
    assert use() == {"verified": True, "unwrapped": True, "kid": kid}


def logged_in(server: MimicServer, config) -> ProxiedAz:
    config.mkdir()
    az = ProxiedAz(server, config)
    az("login", "--service-principal", "-u", server.sp["clientId"], "-p", server.sp["clientSecret"], "--tenant", server.tenant_id)
    return az


def test_keys_and_secret_values_are_sealed_at_rest(mimic_factory, tmp_path):
    server = mimic_factory(store="sqlite")
    az = logged_in(server, tmp_path / "az")
    name = unique("kvrest")[:20]
    rbac_vault(server, az, unique("kvrest"), name)
    key = az("keyvault", "key", "create", "--vault-name", name, "-n", "k", "--kty", "RSA")
    az("keyvault", "secret", "set", "--vault-name", name, "-n", "s", "--value", "plain-text-secret-value")
    db = server.data_dir / "mimic.db"
    blob = db.read_bytes() + (db.with_name("mimic.db-wal").read_bytes() if db.with_name("mimic.db-wal").exists() else b"")
    modulus = base64.urlsafe_b64decode(key["key"]["n"] + "==")
    assert clear_key_material(blob, [modulus]) == [], "the private key is sealed (the public one is kept as base64url text)"
    assert b"plain-text-secret-value" not in blob


@needs_postgres
def test_keys_and_secrets_made_on_one_replica_serve_on_the_other(mimic_factory, tmp_path):
    """az makes a key and a secret through replica A; the data plane of replica B (through B's
    proxy, with A's token: one token service) reads the secret and signs with the key; A verifies."""
    a = mimic_factory(store="postgres")
    b = replica_of(mimic_factory, a)
    az_a = logged_in(a, tmp_path / "a")
    name = unique("kvrep")[:20]
    rbac_vault(a, az_a, unique("kvrep"), name)
    az_a("keyvault", "key", "create", "--vault-name", name, "-n", "k", "--kty", "EC")
    az_a("keyvault", "secret", "set", "--vault-name", name, "-n", "s", "--value", "shared")
    token = az_a("account", "get-access-token", "--resource", "https://vault.azure.net")["accessToken"]
    on_b = proxied(b)
    on_b.headers["Authorization"] = f"Bearer {token}"
    url = f"https://{name}.vault.azure.net"
    r = on_b.get(f"{url}/secrets/s", params={"api-version": "7.5"}, timeout=60)
    assert r.status_code == 200 and r.json()["value"] == "shared", r.text
    digest = hashlib.sha256(b"x").digest()
    r = on_b.post(f"{url}/keys/k/sign", params={"api-version": "7.5"}, timeout=60,
                  json={"alg": "ES256", "value": base64.urlsafe_b64encode(digest).decode().rstrip("=")})
    assert r.status_code == 200, r.text
    signature = base64.urlsafe_b64decode(r.json()["value"] + "==")
    assert az_a("keyvault", "key", "verify", "--vault-name", name, "-n", "k", "-a", "ES256", "--digest", b64(digest),
                "--signature", b64(signature))["isValid"] is True
