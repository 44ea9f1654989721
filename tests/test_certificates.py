"""Certificate credentials: an app registration's `keyCredentials` (written by `az ad sp
create-for-rbac --create-cert`, `az ad app credential reset --create-cert`, Graph PATCH and
`addKey`/`removeKey`), and client assertions signed with the certificate's key as MSAL sends
them (PS256 with `x5t#S256`, or RS256 with `x5t`): `az login --service-principal --certificate`,
azure-identity's CertificateCredential (Python) and ClientCertificateCredential (JavaScript).
The hostile cases: an unregistered certificate, a forged signature naming a registered one, an
expired credential, `alg: none`, another audience or subject.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import uuid
from pathlib import Path

import pytest
import requests

from mimic_harness import (
    ARM_SCOPE,
    READER,
    MimicServer,
    assign_role,
    b64url,
    graph,
    js_clients_installed,
    jwt_parts,
    node_script,
    rg_id,
    unique,
    unsigned_jwt,
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PROOF_AUDIENCE = "00000002-0000-0000-c000-000000000000"


class Cert:
    """A self-signed RSA certificate and its key, made with `cryptography` as az does."""

    def __init__(self, not_before: dt.datetime | None = None, not_after: dt.datetime | None = None, cn: str = "mimic-test"):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        now = dt.datetime.now(dt.timezone.utc)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(not_before or now - dt.timedelta(minutes=5))
                     .not_valid_after(not_after or now + dt.timedelta(days=30))
                     .sign(self.key, hashes.SHA256()))

    @property
    def der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding
        return self.cert.public_bytes(Encoding.DER)

    @property
    def key_b64(self) -> str:
        return base64.b64encode(self.der).decode()

    @property
    def thumbprint(self) -> str:
        return hashlib.sha1(self.der).hexdigest().upper()

    def pem_file(self, path: Path) -> Path:
        """Private key then certificate, the layout `az ... --create-cert` writes."""
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
        path.write_bytes(self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
                         + self.cert.public_bytes(Encoding.PEM))
        return path

    def sign(self, claims: dict, *, pss: bool = True, header: dict | None = None) -> str:
        """A JWS over `claims` with this key; the header names this certificate unless given."""
        import jwt
        if header is None:
            header = ({"x5t#S256": b64url(hashlib.sha256(self.der).digest())} if pss
                      else {"x5t": b64url(hashlib.sha1(self.der).digest())})
        return jwt.encode(claims, self.key, algorithm="PS256" if pss else "RS256", headers=header)


def pem_thumbprint(pem: Path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    der = x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper()


def token_endpoint(mimic: MimicServer) -> str:
    return f"{mimic.login_url}/{mimic.tenant_id}/oauth2/v2.0/token"


def assertion_claims(mimic: MimicServer, app_id: str, **over) -> dict:
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    return {"aud": token_endpoint(mimic), "iss": app_id, "sub": app_id, "jti": str(uuid.uuid4()),
            "iat": now, "nbf": now, "exp": now + 600, **over}


def exchange(mimic: MimicServer, app_id: str, assertion: str) -> requests.Response:
    return mimic.token_request({"grant_type": "client_credentials", "client_id": app_id, "scope": ARM_SCOPE,
                                "client_assertion_type": JWT_BEARER, "client_assertion": assertion})


def aadsts(r: requests.Response) -> int:
    return r.json()["error_codes"][0]


def new_app(mimic: MimicServer, **body) -> dict:
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("cert-app"), **body})
    assert r.status_code == 201, r.text
    app = r.json()
    r = graph(mimic, "POST", "/v1.0/servicePrincipals", json={"appId": app["appId"]})
    assert r.status_code == 201, r.text
    return app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`az ... --create-cert` writes its PEM file into the home directory: a fresh one per test."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    return h


def test_create_for_rbac_with_a_certificate_signs_in_az_python_and_javascript(
        mimic: MimicServer, az_sp, az, home: Path, tmp_path: Path, client_ca):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import CertificateCredential

    rg = unique("cert")
    mimic.create_rg(rg)
    created = az_sp("ad", "sp", "create-for-rbac", "--name", unique("cert-sp"), "--create-cert",
                    "--role", "Reader", "--scopes", rg_id(mimic, rg))
    pem = Path(created["fileWithCertAndPrivateKey"])
    assert pem.parent == home and pem.exists(), created
    assert created["password"] is None, created
    app_id = created["appId"]

    listed = az_sp("ad", "app", "credential", "list", "--id", app_id, "--cert")
    assert len(listed) == 1, listed
    assert listed[0]["customKeyIdentifier"] == pem_thumbprint(pem), listed
    assert listed[0]["displayName"] == "CN=CLI-Login" and listed[0]["key"] is None, listed
    assert listed[0]["type"] == "AsymmetricX509Cert" and listed[0]["usage"] == "Verify", listed

    # A second shell, logged in with the certificate file only.
    ci = type(az)(mimic, tmp_path / "ci-config")
    (tmp_path / "ci-config").mkdir()
    ci.register_cloud()
    ci("cloud", "set", "--name", "Mimic")
    ci("login", "--service-principal", "-u", app_id, "--tenant", mimic.tenant_id, "--certificate", str(pem))
    assert ci("group", "show", "--name", rg)["name"] == rg
    denied = ci.run("group", "create", "--name", unique("nope"), "--location", "westus", check=False)
    assert denied.returncode != 0 and "AuthorizationFailed" in denied.stderr

    # azure-identity (MSAL: PS256 and x5t#S256).
    cred = CertificateCredential(mimic.tenant_id, app_id, certificate_path=str(pem), authority=mimic.login_url,
                                 disable_instance_discovery=True)
    _, claims, _ = jwt_parts(cred.get_token(ARM_SCOPE).token)
    assert claims["appid"] == app_id and claims["appidacr"] == "2" and claims["idtyp"] == "app", claims

    # The JavaScript client.
    if js_clients_installed():
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "HTTP", "HTTPS"))}
        env["NODE_EXTRA_CA_CERTS"] = str(mimic.ca_path)
        got = node_script("certificate_token.mjs", env, args=[mimic.login_url, mimic.tenant_id, app_id, str(pem), ARM_SCOPE])
        assert "token" in got, got
        assert jwt_parts(got["token"])[1]["appid"] == app_id

    # A certificate the app does not hold is refused with Entra's error, naming its thumbprint.
    stranger = Cert()
    other = CertificateCredential(mimic.tenant_id, app_id, certificate_path=str(stranger.pem_file(tmp_path / "other.pem")),
                                  authority=mimic.login_url, disable_instance_discovery=True)
    with pytest.raises(ClientAuthenticationError) as e:
        other.get_token(ARM_SCOPE)
    assert "AADSTS700027" in str(e.value) and "is not registered on application" in str(e.value), e.value
    r = exchange(mimic, app_id, stranger.sign(assertion_claims(mimic, app_id), pss=False))
    assert r.status_code == 401 and aadsts(r) == 700027, r.text
    assert f"Thumbprint of key used by client: '{stranger.thumbprint}'" in r.json()["error_description"], r.text


def test_credential_reset_with_a_certificate_replaces_appends_and_deletes(mimic: MimicServer, az_sp, home: Path):
    app = az_sp("ad", "app", "create", "--display-name", unique("cert-reset"))
    az_sp("ad", "sp", "create", "--id", app["appId"])
    app_id = app["appId"]
    first = az_sp("ad", "app", "credential", "reset", "--id", app_id, "--create-cert")
    pem1 = Path(first["fileWithCertAndPrivateKey"])
    second = az_sp("ad", "app", "credential", "reset", "--id", app_id, "--create-cert", "--append")
    pem2 = Path(second["fileWithCertAndPrivateKey"])
    creds = az_sp("ad", "app", "credential", "list", "--id", app_id, "--cert")
    assert len(creds) == 2, creds

    def signs_in(pem: Path) -> requests.Response:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
        data = pem.read_bytes()
        c = Cert.__new__(Cert)
        c.key, c.cert = load_pem_private_key(data, None), x509.load_pem_x509_certificate(data)
        return exchange(mimic, app_id, c.sign(assertion_claims(mimic, app_id)))

    assert signs_in(pem1).status_code == 200 and signs_in(pem2).status_code == 200
    # Deleting one credential by keyId PATCHes back the other as read (its `key` null): it stays.
    first_key = next(c["keyId"] for c in creds if c["customKeyIdentifier"] == pem_thumbprint(pem1))
    az_sp("ad", "app", "credential", "delete", "--id", app_id, "--key-id", first_key, "--cert")
    left = az_sp("ad", "app", "credential", "list", "--id", app_id, "--cert")
    assert [c["keyId"] for c in left] == [c["keyId"] for c in creds if c["keyId"] != first_key], left
    assert signs_in(pem1).status_code == 401 and signs_in(pem2).status_code == 200
    # A reset without --append replaces both certificates.
    az_sp("ad", "app", "credential", "reset", "--id", app_id, "--create-cert")
    assert signs_in(pem1).status_code == 401 and signs_in(pem2).status_code == 401


def test_key_credentials_are_validated_as_graph_does(mimic: MimicServer):
    cert = Cert()
    app = new_app(mimic, keyCredentials=[{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.key_b64,
                                          "displayName": "deploy"}])
    got = graph(mimic, "GET", f"/v1.0/applications/{app['id']}").json()["keyCredentials"]
    assert len(got) == 1 and got[0]["key"] is None and got[0]["displayName"] == "deploy", got
    assert got[0]["customKeyIdentifier"] == cert.thumbprint
    # The window defaults to the certificate's validity.
    assert got[0]["endDateTime"].startswith(cert.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S")), got

    def patch(creds) -> requests.Response:
        return graph(mimic, "PATCH", f"/v1.0/applications/{app['id']}", json={"keyCredentials": creds})

    bad = [
        ([{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.b64encode(b"not a certificate").decode()}],
         "KeyCredentialsInvalidValue"),
        ([{"type": "AsymmetricX509Cert", "usage": "Verify", "keyId": str(uuid.uuid4())}], "KeyCredentialsInvalidValue"),
        ([{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.key_b64,
           "endDateTime": (cert.cert.not_valid_after_utc + dt.timedelta(days=1)).isoformat()}], "KeyCredentialsInvalidEndDate"),
        ([{"type": "AsymmetricX509Cert", "usage": "Encrypt", "key": cert.key_b64}], "Request_BadRequest"),
        ([{"type": "Symmetric", "usage": "Verify", "key": cert.key_b64}], "Request_BadRequest"),
        ("everything", None),
    ]
    for creds, code in bad:
        r = patch(creds)
        assert r.status_code == 400, (creds, r.text)
        if code:
            assert r.json()["error"]["code"] == code, r.text
    assert graph(mimic, "GET", f"/v1.0/applications/{app['id']}").json()["keyCredentials"] == got, "refused writes change nothing"
    # Sending back what was read keeps the credential; an empty list removes it.
    assert patch(got).status_code == 204
    assert graph(mimic, "GET", f"/v1.0/applications/{app['id']}").json()["keyCredentials"] == got
    assert exchange(mimic, app["appId"], cert.sign(assertion_claims(mimic, app["appId"]))).status_code == 200
    assert patch([]).status_code == 204
    r = exchange(mimic, app["appId"], cert.sign(assertion_claims(mimic, app["appId"])))
    assert r.status_code == 401 and aadsts(r) == 700027, r.text


def test_hostile_assertions_are_refused(mimic: MimicServer):
    cert = Cert()
    app = new_app(mimic, keyCredentials=[{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.key_b64}])
    app_id = app["appId"]
    ok = exchange(mimic, app_id, cert.sign(assertion_claims(mimic, app_id), pss=False))
    assert ok.status_code == 200, ok.text
    assert jwt_parts(ok.json()["access_token"])[1]["appid"] == app_id

    # Another key, naming the registered certificate's thumbprint.
    forger = Cert()
    forged = forger.sign(assertion_claims(mimic, app_id), header={"x5t#S256": b64url(hashlib.sha256(cert.der).digest())})
    r = exchange(mimic, app_id, forged)
    assert r.status_code == 401 and aadsts(r) == 700027 and "invalid signature" in r.text, r.text
    # Unsigned.
    none = unsigned_jwt({"alg": "none", "x5t": b64url(hashlib.sha1(cert.der).digest())}, assertion_claims(mimic, app_id))
    r = exchange(mimic, app_id, none)
    assert r.status_code == 400 and aadsts(r) == 5002738, r.text
    # Expired, another audience, another subject.
    past = int(dt.datetime.now(dt.timezone.utc).timestamp()) - 7200
    r = exchange(mimic, app_id, cert.sign(assertion_claims(mimic, app_id, iat=past, nbf=past, exp=past + 600)))
    assert r.status_code == 400 and aadsts(r) == 700024, r.text
    r = exchange(mimic, app_id, cert.sign(assertion_claims(mimic, app_id, aud="https://login.example.com/token")))
    assert r.status_code == 401 and aadsts(r) == 700023, r.text
    r = exchange(mimic, app_id, cert.sign(assertion_claims(mimic, app_id, sub=str(uuid.uuid4()))))
    assert r.status_code == 401 and aadsts(r) == 700021, r.text
    # Malformed.
    r = exchange(mimic, app_id, "a.b")
    assert r.status_code == 400, r.text

    # A credential whose window has ended: the certificate is still valid, the registration not.
    old = Cert(not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), not_after=dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc))
    r = graph(mimic, "PATCH", f"/v1.0/applications/{app['id']}", json={"keyCredentials": [
        {"type": "AsymmetricX509Cert", "usage": "Verify", "key": old.key_b64,
         "startDateTime": "2020-01-02T00:00:00Z", "endDateTime": "2021-01-01T00:00:00Z"}]})
    assert r.status_code == 204, r.text
    r = exchange(mimic, app_id, old.sign(assertion_claims(mimic, app_id)))
    assert r.status_code == 401 and aadsts(r) == 700027 and "is expired on application" in r.text, r.text


def test_add_key_and_remove_key_need_a_proof_from_a_current_certificate(mimic: MimicServer):
    cert, new = Cert(), Cert()
    app = new_app(mimic, keyCredentials=[{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.key_b64}])
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())

    def proof(signer: Cert, **over) -> str:
        return signer.sign({"aud": PROOF_AUDIENCE, "iss": app["id"], "nbf": now, "exp": now + 600, **over}, pss=False)

    def add(p: str) -> requests.Response:
        return graph(mimic, "POST", f"/v1.0/applications/{app['id']}/addKey", json={
            "keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": new.key_b64},
            "passwordCredential": None, "proof": p})

    for p in (proof(new), proof(cert, aud="api://other"), proof(cert, iss=str(uuid.uuid4())), "junk"):
        r = add(p)
        assert r.status_code == 400, r.text
    r = add(proof(cert))
    assert r.status_code == 200, r.text
    added = r.json()
    assert added["customKeyIdentifier"] == new.thumbprint and added["type"] == "AsymmetricX509Cert", added
    assert exchange(mimic, app["appId"], new.sign(assertion_claims(mimic, app["appId"]))).status_code == 200

    # The new certificate proves the removal of the old one.
    old_id = next(c["keyId"] for c in graph(mimic, "GET", f"/v1.0/applications/{app['id']}").json()["keyCredentials"]
                  if c["customKeyIdentifier"] == cert.thumbprint)
    r = graph(mimic, "POST", f"/v1.0/applications/{app['id']}/removeKey", json={"keyId": old_id, "proof": proof(new)})
    assert r.status_code == 204, r.text
    r = exchange(mimic, app["appId"], cert.sign(assertion_claims(mimic, app["appId"])))
    assert r.status_code == 401 and aadsts(r) == 700027, r.text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ROPC, on purpose
def test_a_confidential_client_proves_itself_with_its_certificate_on_user_flows(mimic: MimicServer, client_ca, monkeypatch):
    """MSAL's ConfidentialClientApplication with a certificate (PS256, `x5t#S256`) in place of a
    secret: the password grant, then the refresh of its token, which needs the credential again."""
    import msal
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from msal.authority import Authority

    monkeypatch.setattr(Authority, "_domains_without_user_realm_discovery", {"127.0.0.1"})

    cert = Cert()
    app = new_app(mimic, keyCredentials=[{"type": "AsymmetricX509Cert", "usage": "Verify", "key": cert.key_b64}])
    domain = mimic.admin["userName"].split("@")[1]
    upn, password = f"{unique('cu')}@{domain}", "Cert-Flow-Passw0rd!"
    r = graph(mimic, "POST", "/v1.0/users", json={"accountEnabled": True, "displayName": upn, "mailNickname": upn.split("@")[0],
                                                  "userPrincipalName": upn, "passwordProfile": {"password": password}})
    assert r.status_code == 201, r.text
    credential = {"private_key": cert.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
                  "public_certificate": cert.cert.public_bytes(Encoding.PEM).decode()}
    cca = msal.ConfidentialClientApplication(app["appId"], client_credential=credential,
                                             authority=f"{mimic.login_url}/{mimic.tenant_id}", instance_discovery=False)
    result = cca.acquire_token_by_username_password(upn, password, scopes=[ARM_SCOPE])
    assert "access_token" in result, result
    refreshed = cca.acquire_token_by_refresh_token(result["refresh_token"], scopes=[ARM_SCOPE])
    assert "access_token" in refreshed, refreshed
    # Another certificate does not stand in for it.
    stranger = Cert()
    other = msal.ConfidentialClientApplication(
        app["appId"], authority=f"{mimic.login_url}/{mimic.tenant_id}", instance_discovery=False,
        client_credential={"private_key": stranger.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
                           "public_certificate": stranger.cert.public_bytes(Encoding.PEM).decode()})
    assert 700027 in other.acquire_token_by_username_password(upn, password, scopes=[ARM_SCOPE])["error_codes"]


def test_service_principal_credentials_sign_the_application_in(mimic: MimicServer, az_sp, az, home: Path, tmp_path: Path):
    """`az ad sp credential reset`: a secret, then a certificate, on the service principal rather
    than the application; either signs the application in (as Entra accepts both objects')."""
    rg = unique("sp-cred")
    mimic.create_rg(rg)
    app = az_sp("ad", "app", "create", "--display-name", unique("sp-cred"))
    sp = az_sp("ad", "sp", "create", "--id", app["appId"])
    assign_role(mimic, sp["id"], READER, rg_id(mimic, rg))
    reset = az_sp("ad", "sp", "credential", "reset", "--id", app["appId"])
    assert reset["password"], reset
    shown = graph(mimic, "GET", f"/v1.0/servicePrincipals/{sp['id']}").json()
    assert len(shown["passwordCredentials"]) == 1 and shown["passwordCredentials"][0]["secretText"] is None, shown
    assert graph(mimic, "GET", f"/v1.0/applications/{app['id']}").json()["passwordCredentials"] == []
    ci = type(az)(mimic, tmp_path / "ci-config")
    (tmp_path / "ci-config").mkdir()
    ci.register_cloud()
    ci("cloud", "set", "--name", "Mimic")
    ci("login", "--service-principal", "-u", app["appId"], "-p", reset["password"], "--tenant", mimic.tenant_id)
    assert ci("group", "show", "--name", rg)["name"] == rg

    cert = az_sp("ad", "sp", "credential", "reset", "--id", app["appId"], "--create-cert")
    pem = Path(cert["fileWithCertAndPrivateKey"])
    listed = az_sp("ad", "sp", "credential", "list", "--id", app["appId"], "--cert")
    assert [c["customKeyIdentifier"] for c in listed] == [pem_thumbprint(pem)], listed
    ci("login", "--service-principal", "-u", app["appId"], "--tenant", mimic.tenant_id, "--certificate", str(pem))
    assert ci("group", "show", "--name", rg)["name"] == rg
    # The reset removed the secret.
    r = mimic.token_request({"grant_type": "client_credentials", "client_id": app["appId"], "client_secret": reset["password"],
                             "scope": ARM_SCOPE})
    assert r.status_code == 401 and aadsts(r) == 7000215, r.text


def test_managed_identity_principals_have_no_settable_credentials(mimic: MimicServer):
    from mimic_harness import make_uai
    rg = unique("mi-cred")
    mimic.create_rg(rg)
    identity = make_uai(mimic, rg, "noKeys")
    sp_id = identity["properties"]["principalId"]
    r = graph(mimic, "POST", f"/v1.0/servicePrincipals/{sp_id}/addPassword", json={})
    assert r.status_code == 400, r.text
    r = graph(mimic, "PATCH", f"/v1.0/servicePrincipals/{sp_id}", json={"keyCredentials": [
        {"type": "AsymmetricX509Cert", "usage": "Verify", "key": Cert().key_b64}]})
    assert r.status_code == 400, r.text
