"""Secrets at rest: the data directory is its owner's alone, and a copy of the
store (the SQLite file, a `pg_dump`) holds no usable private key: the signing keys and the CA key
are sealed under a master key that is not in the store.

* modes: data directory 0700; every file in it 0600, SQLite's -wal/-shm included;
* scans of the SQLite file (+ WAL) and of a `pg_dump` for PEM private keys, the DER of a PKCS#8
  key (RSA and EC algorithm identifiers), and the modulus of the key the server's JWKS publishes;
* a store in the old layout (clear keys, open modes: made here from a current one, or by an
  older binary given as MIMIC_OLD_BIN) migrates on start: tokens minted before still verify, the
  keys come out sealed, the modes tightened;
* a PostgreSQL replica without the master key, or with another one, refuses to start with one
  line (skipped without MIMIC_TEST_POSTGRES).
"""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from mimic_harness import GRAPH_SCOPE, RG_API, MimicError, MimicServer, open_sealed, unique

needs_postgres = pytest.mark.skipif(
    not os.environ.get("MIMIC_TEST_POSTGRES"),
    reason="MIMIC_TEST_POSTGRES is unset: start a cluster with scripts/postgres-test-cluster.sh start DIR and export its URL",
)

SEALED = b"mimic-sealed:v1:"
# Algorithm identifiers as a PKCS#8 private key carries them in DER: rsaEncryption with its NULL
# parameters, and id-ecPublicKey (the CA's P-256 key).
RSA_ALGORITHM = bytes.fromhex("06092a864886f70d0101010500")
EC_ALGORITHM = bytes.fromhex("06072a8648ce3d0201")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def jwks_moduli(server: MimicServer) -> list[bytes]:
    keys = server.http.get(f"{server.login_url}/{server.tenant_id}/discovery/v2.0/keys", timeout=30).json()["keys"]
    assert keys
    return [base64.urlsafe_b64decode(k["n"] + "=" * (-len(k["n"]) % 4)) for k in keys]


def clear_key_material(blob: bytes, moduli: list[bytes]) -> list[str]:
    """What in `blob` is private key material in clear (empty when none)."""
    found = []
    if b"PRIVATE KEY" in blob:
        found.append("a PEM private key")
    if RSA_ALGORITHM in blob:
        found.append("a DER RSA key")
    if EC_ALGORITHM in blob:
        found.append("a DER EC key")
    for n in moduli:
        if n.lstrip(b"\0") in blob:
            found.append("the JWKS key's modulus")
    return found


def write_something(server: MimicServer) -> None:
    rg = unique("rg-secrets")
    r = server.arm("PUT", f"/subscriptions/{server.subscription_id}/resourcegroups/{rg}", api_version=RG_API,
                   json={"location": "westeurope"})
    assert r.status_code in (200, 201), r.text


def sqlite_server(mimic_factory, **kw) -> MimicServer:
    return mimic_factory(store="sqlite", **kw)


def test_the_data_directory_and_every_file_in_it_are_the_owners_alone(mimic_factory):
    server = sqlite_server(mimic_factory)
    write_something(server)
    d = server.data_dir
    assert mode(d) == 0o700
    names = {p.name for p in d.iterdir()}
    for expected in ("mimic.db", "mimic.db-wal", "mimic.db-shm", "bootstrap.json", "endpoints.json", "master.key", "ca.pem"):
        assert expected in names, f"{expected} missing from {sorted(names)}"
    loose = {p.name: oct(mode(p)) for p in d.iterdir() if p.is_file() and mode(p) != 0o600}
    assert not loose, f"files not 0600: {loose}"


def test_the_sqlite_file_holds_no_private_key_in_clear(mimic_factory):
    server = sqlite_server(mimic_factory)
    write_something(server)
    # A second key, written while serving.
    r = server.http.post(f"{server.graph_url}/mimic/signing-keys/rotate", timeout=30,
                         headers={"Authorization": f"Bearer {server.sp_token(scope=GRAPH_SCOPE)}"})
    assert r.status_code == 200, r.text
    moduli = jwks_moduli(server)
    assert len(moduli) >= 2
    db = server.data_dir / "mimic.db"
    blob = db.read_bytes() + (db.with_name("mimic.db-wal").read_bytes() if db.with_name("mimic.db-wal").exists() else b"")
    assert clear_key_material(blob, moduli) == []
    assert SEALED in blob
    server.stop()
    # After a clean stop too (WAL checkpointed into the main file).
    blob = db.read_bytes()
    assert clear_key_material(blob, moduli) == []


@needs_postgres
def test_a_pg_dump_holds_no_private_key_in_clear(mimic_factory):
    server = mimic_factory(store="postgres")
    write_something(server)
    moduli = jwks_moduli(server)
    dump = subprocess.run(["pg_dump", "--no-owner", server.store], capture_output=True, timeout=120, check=True).stdout
    # bytea columns are dumped as hex: look for the key material both raw and hex-encoded.
    hexed = [n.lstrip(b"\0").hex().encode() for n in moduli]
    assert clear_key_material(dump, moduli) == []
    for needle in [RSA_ALGORITHM.hex().encode(), EC_ALGORITHM.hex().encode(), b"PRIVATE KEY".hex().encode(), *hexed]:
        assert needle not in dump.lower()
    assert SEALED.hex().encode() in dump.lower() or SEALED in dump


# ---- migration from the old layout ---------------------------------------------------------


def make_old_layout(data_dir: Path) -> None:
    """Turns a stopped current store into what versions before sealing left: clear PKCS#8 in
    `signing_keys`, the CA key as clear PEM, no master key, 0755/0644 modes."""
    key_file = data_dir / "master.key"
    db = sqlite3.connect(data_dir / "mimic.db")
    with db:
        for kid, value in db.execute("SELECT kid, pkcs8 FROM signing_keys").fetchall():
            db.execute("UPDATE signing_keys SET pkcs8 = ? WHERE kid = ?", (open_sealed(key_file, f"signing_keys/{kid}", value), kid))
        (ca,) = db.execute("SELECT value FROM meta WHERE key = 'tls.ca_key'").fetchone()
        db.execute("UPDATE meta SET value = ? WHERE key = 'tls.ca_key'", (open_sealed(key_file, "meta/tls.ca_key", ca.encode()).decode(),))
        db.execute("DELETE FROM meta WHERE key = 'master_key.check'")
    db.close()
    key_file.unlink()
    data_dir.chmod(0o755)
    for p in data_dir.iterdir():
        p.chmod(0o644)


def assert_migrated(server: MimicServer, old_token: str, old_moduli: list[bytes]) -> None:
    d = server.data_dir
    assert mode(d) == 0o700
    assert {p.name: mode(p) for p in d.iterdir() if p.is_file() and mode(p) != 0o600} == {}
    # The token minted before the migration verifies (same key, now opened from its sealed row).
    r = server.arm("GET", f"/subscriptions/{server.subscription_id}/resourcegroups", token=old_token, api_version=RG_API)
    assert r.status_code == 200, r.text
    assert set(jwks_moduli(server)) == set(old_moduli)
    server.stop()
    db = sqlite3.connect(d / "mimic.db")
    rows = db.execute("SELECT pkcs8 FROM signing_keys").fetchall()
    (ca,) = db.execute("SELECT value FROM meta WHERE key = 'tls.ca_key'").fetchone()
    db.close()
    assert rows and all(bytes(v).startswith(SEALED) for (v,) in rows)
    assert ca.startswith(SEALED.decode())
    assert clear_key_material((d / "mimic.db").read_bytes(), old_moduli) == []


def test_a_store_with_clear_keys_is_sealed_on_start_and_its_tokens_stay_valid(mimic_factory):
    server = sqlite_server(mimic_factory)
    token, moduli = server.sp_token(), jwks_moduli(server)
    ca_before = server.ca_path.read_text()
    server.stop()
    make_old_layout(server.data_dir)
    server.start()
    assert server.ca_path.read_text() == ca_before  # the same CA, clients keep trusting it
    assert_migrated(server, token, moduli)


@pytest.mark.skipif(not os.environ.get("MIMIC_OLD_BIN"), reason="MIMIC_OLD_BIN (a mimic binary from before sealed keys) is unset")
def test_a_store_an_older_version_made_is_sealed_on_start(mimic_factory):
    old = sqlite_server(mimic_factory, binary=Path(os.environ["MIMIC_OLD_BIN"]))
    write_something(old)
    token, moduli = old.sp_token(), jwks_moduli(old)
    old.stop()
    new = sqlite_server(mimic_factory, start=False)
    new.root, new.data_dir, new.log_path = old.root, old.data_dir, old.log_path
    new.bootstrap = old.bootstrap
    new.start()
    assert_migrated(new, token, moduli)


# ---- PostgreSQL replicas and the master key ------------------------------------------------


def refusal(server: MimicServer) -> str:
    with pytest.raises(MimicError):
        server.start()
    assert server.proc.returncode not in (0, None, -6, 134)  # an error exit, not an abort
    log = server.log_path.read_text()
    run = log[log.rindex("===== start #"):].splitlines()[1:]
    lines = [line for line in run if line.strip()]
    assert "panicked" not in log
    return lines[-1]


@needs_postgres
def test_a_replica_without_the_master_key_refuses_to_start_with_one_line(mimic_factory):
    first = mimic_factory(store="postgres")
    second = mimic_factory(store=first.store, master_key=False, start=False)
    line = refusal(second)
    assert line.startswith("mimic: a PostgreSQL store needs a master key: pass --master-key-file")
    assert len([x for x in second.log_path.read_text().splitlines() if x.startswith("mimic:")]) == 1


@needs_postgres
def test_a_replica_with_another_master_key_refuses_to_start(mimic_factory, tmp_path):
    first = mimic_factory(store="postgres")
    other = tmp_path / "other.key"
    other.write_text(base64.b64encode(os.urandom(32)).decode())
    second = mimic_factory(store=first.store, master_key=False, start=False, extra_args=["--master-key-file", str(other)])
    line = refusal(second)
    assert line.startswith("mimic: the master key from ") and "is not the one this store is sealed under" in line
