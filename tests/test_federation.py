"""Workload identity federation: a pipeline's OIDC token exchanged for a token of a
user-assigned identity or an app registration that trusts it through a federated identity
credential, with Microsoft's unmodified clients (azure-identity's WorkloadIdentityCredential
and ClientAssertionCredential, `az login --federated-token`, `az identity federated-credential`,
`az ad app federated-credential`), and the hostile cases: another key, expired, deleted
credential, `alg: none`, another tenant's issuer.

Tokens come from Mimic's hosted issuers (`mimic oidc-token`) and, for the fetch path (OpenID
configuration and JWKS over HTTP), from a loopback issuer this module runs itself.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from mimic_harness import (
    ARM_SCOPE,
    CONTRIBUTOR,
    MSI_API,
    READER,
    MimicServer,
    assign_role,
    b64url,
    graph,
    jwt_parts,
    make_uai,
    rg_id,
    uai_id,
    unique,
    unsigned_jwt,
)

EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FIC_API = "2023-01-31"


def mint(mimic: MimicServer, issuer: str, subject: str, *extra: str, audience: str | None = None,
         out: Path | None = None) -> str:
    args = ["oidc-token", "--issuer", issuer, "--subject", subject, *extra]
    if audience:
        args += ["--audience", audience]
    if out:
        args += ["--output-file", str(out)]
    p = mimic.mimic_cli(*args)
    assert p.returncode == 0, p.stderr
    return out.read_text() if out else p.stdout.strip()


def issuer_url(name: str) -> str:
    return f"https://token.actions.githubusercontent.com/{name}"


def exchange(mimic: MimicServer, client_id: str, assertion: str, scope: str = ARM_SCOPE, **kw) -> requests.Response:
    return mimic.token_request({
        "grant_type": "client_credentials", "client_id": client_id, "scope": scope,
        "client_assertion_type": JWT_BEARER, "client_assertion": assertion,
    }, **kw)


def aadsts(r: requests.Response) -> int:
    body = r.json()
    return body["error_codes"][0]


def put_fic(mimic: MimicServer, identity: str, name: str, props: dict) -> requests.Response:
    return mimic.arm("PUT", f"{identity}/federatedIdentityCredentials/{name}", api_version=FIC_API,
                     json={"properties": props})


@pytest.fixture
def uai(mimic: MimicServer):
    """A resource group with a user-assigned identity that is Contributor on the group."""
    rg = unique("fed")
    mimic.create_rg(rg)
    identity = make_uai(mimic, rg, "pipeline")
    assign_role(mimic, identity["properties"]["principalId"], CONTRIBUTOR, rg_id(mimic, rg))
    return rg, identity


def test_workload_identity_credential_signs_in_as_the_identity_and_its_rbac_applies(
        mimic: MimicServer, az_sp, uai, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_ca):
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
    from azure.identity import WorkloadIdentityCredential
    from azure.mgmt.resource import ResourceManagementClient

    rg, identity = uai
    issuer = unique("gh").lower()
    subject = "repo:contoso/app:ref:refs/heads/main"
    # The seed-style command, verbatim flags of `az identity federated-credential create`.
    fic = az_sp("identity", "federated-credential", "create", "--name", "github-main", "--identity-name", "pipeline",
                "--resource-group", rg, "--issuer", issuer_url(issuer), "--subject", subject,
                "--audiences", EXCHANGE_AUDIENCE)
    assert fic["issuer"] == issuer_url(issuer) and fic["subject"] == subject, fic
    assert fic["audiences"] == [EXCHANGE_AUDIENCE], fic

    token_file = tmp_path / "token"
    mint(mimic, issuer, subject, out=token_file)
    # What AKS's workload identity webhook sets (the authority host is Mimic's login URL).
    for k, v in {"AZURE_AUTHORITY_HOST": mimic.login_url, "AZURE_TENANT_ID": mimic.tenant_id,
                 "AZURE_CLIENT_ID": identity["properties"]["clientId"],
                 "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}.items():
        monkeypatch.setenv(k, v)
    cred = WorkloadIdentityCredential(disable_instance_discovery=True)
    token = cred.get_token(ARM_SCOPE)
    _, claims, _ = jwt_parts(token.token)
    assert claims["oid"] == identity["properties"]["principalId"]
    assert claims["appid"] == identity["properties"]["clientId"]
    assert claims["xms_mirid"].lower() == uai_id(mimic, rg, "pipeline").lower()
    assert claims["idtyp"] == "app"

    client = ResourceManagementClient(cred, mimic.subscription_id, base_url=mimic.arm_url, credential_scopes=[ARM_SCOPE])
    updated = client.resource_groups.update(rg, {"tags": {"set-by": "pipeline"}})
    assert updated.tags == {"set-by": "pipeline"}
    other = unique("fed-other")
    mimic.create_rg(other)
    with pytest.raises(HttpResponseError) as denied:
        client.resource_groups.get(other)
    assert denied.value.status_code == 403 and "AuthorizationFailed" in str(denied.value)

    # A token of another branch is refused with AADSTS70021.
    mint(mimic, issuer, "repo:contoso/app:ref:refs/heads/feature", out=token_file)
    with pytest.raises(ClientAuthenticationError) as refused:
        WorkloadIdentityCredential(disable_instance_discovery=True).get_token(ARM_SCOPE)
    assert "AADSTS70021" in str(refused.value)


def test_client_assertion_credential_and_the_hostile_assertions(mimic: MimicServer, uai, client_ca):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientAssertionCredential

    rg, identity = uai
    ident_id = uai_id(mimic, rg, "pipeline")
    client_id = identity["properties"]["clientId"]
    issuer = unique("k8s").lower()
    subject = "system:serviceaccount:default:workload"
    r = put_fic(mimic, ident_id, "k8s", {"issuer": issuer_url(issuer), "subject": subject})
    assert r.status_code in (200, 201), r.text
    assert r.json()["properties"]["audiences"] == [EXCHANGE_AUDIENCE], "the default audience"

    assertion = mint(mimic, issuer, subject)
    cred = ClientAssertionCredential(mimic.tenant_id, client_id, lambda: assertion,
                                     authority=mimic.login_url, disable_instance_discovery=True)
    assert jwt_parts(cred.get_token(ARM_SCOPE).token)[1]["oid"] == identity["properties"]["principalId"]

    # Raw exchanges, each with Entra's code.
    assert exchange(mimic, client_id, assertion).status_code == 200
    expired = mint(mimic, issuer, subject, "--claim", "exp=1000", "--claim", "nbf=900", "--claim", "iat=900")
    r = exchange(mimic, client_id, expired)
    assert r.status_code == 400 and aadsts(r) == 700024, r.text
    other_aud = mint(mimic, issuer, subject, audience="api://something-else")
    r = exchange(mimic, client_id, other_aud)
    assert r.status_code == 400 and aadsts(r) == 700212, r.text
    header, claims, _ = jwt_parts(assertion)
    for alg in ("none", "HS256"):
        forged = unsigned_jwt({**header, "alg": alg}, claims)
        r = exchange(mimic, client_id, forged)
        assert r.status_code in (400, 401) and aadsts(r) in (50027, 5002738), r.text
    # The claims re-signed by nobody: the issuer's key does not verify them.
    tampered = unsigned_jwt(header, {**claims, "sub": subject}, signature=b64url(b"\x00" * 256))
    r = exchange(mimic, client_id, tampered)
    assert r.status_code == 401 and aadsts(r) == 700027, r.text
    r = exchange(mimic, client_id, "not-a-jwt")
    assert r.status_code == 400 and aadsts(r) == 50027, r.text
    # An issuer no credential trusts is refused before anything is fetched from it.
    foreign = unsigned_jwt(header, {**claims, "iss": "https://issuer.invalid"}, signature="AAAA")
    r = exchange(mimic, client_id, foreign)
    assert r.status_code == 400 and aadsts(r) == 700211, r.text

    # Deleting the credential stops the very assertion that worked a moment ago (a replay).
    r = mimic.arm("DELETE", f"{ident_id}/federatedIdentityCredentials/k8s", api_version=FIC_API)
    assert r.status_code == 200, r.text
    r = exchange(mimic, client_id, assertion)
    assert r.status_code == 400 and aadsts(r) == 700211, r.text
    with pytest.raises(ClientAuthenticationError):
        ClientAssertionCredential(mimic.tenant_id, client_id, lambda: assertion, authority=mimic.login_url,
                                  disable_instance_discovery=True).get_token(ARM_SCOPE)


def test_credentials_follow_entras_rules(mimic: MimicServer, uai):
    rg, _ = uai
    ident_id = uai_id(mimic, rg, "pipeline")
    iss = "https://token.actions.githubusercontent.com"
    for name, props in [
        ("bad.name", {"issuer": iss, "subject": "s"}),
        ("no-issuer", {"subject": "s"}),
        ("plain-http", {"issuer": "http://issuer.example.com", "subject": "s"}),
        ("neither", {"issuer": iss}),
        ("both", {"issuer": iss, "subject": "s",
                  "claimsMatchingExpression": {"value": "claims['sub'] matches 'repo:*'", "languageVersion": 1}}),
        ("two-audiences", {"issuer": iss, "subject": "s", "audiences": ["a", "b"]}),
    ]:
        r = put_fic(mimic, ident_id, name, props)
        assert r.status_code == 400, (name, r.text)
    for i in range(20):
        r = put_fic(mimic, ident_id, f"fic-{i}", {"issuer": iss, "subject": f"repo:o/r:environment:e{i}"})
        assert r.status_code in (200, 201), r.text
    r = put_fic(mimic, ident_id, "fic-20", {"issuer": iss, "subject": "repo:o/r:environment:e20"})
    assert r.status_code == 400, r.text
    r = put_fic(mimic, ident_id, "fic-0", {"issuer": iss, "subject": "repo:o/r:environment:e1"})
    assert r.status_code in (400, 409), "issuer and subject are unique together: " + r.text
    # Replacing one by name stays within the limit; the list is this identity's only.
    assert put_fic(mimic, ident_id, "fic-0", {"issuer": iss, "subject": "repo:o/r:environment:prod"}).status_code == 200
    other = make_uai(mimic, rg, "other")
    assert other
    r = mimic.arm("GET", f"{uai_id(mimic, rg, 'other')}/federatedIdentityCredentials", api_version=FIC_API)
    assert r.status_code == 200 and r.json()["value"] == [], r.text
    r = mimic.arm("GET", f"{ident_id}/federatedIdentityCredentials", api_version=FIC_API)
    assert len(r.json()["value"]) == 20


def test_claims_matching_expression_trusts_every_branch_it_names(mimic: MimicServer, uai):
    rg, identity = uai
    ident_id = uai_id(mimic, rg, "pipeline")
    issuer = unique("flex").lower()
    r = mimic.arm("PUT", f"{ident_id}/federatedIdentityCredentials/any-release", api_version="2025-01-31-preview", json={
        "properties": {"issuer": issuer_url(issuer), "audiences": [EXCHANGE_AUDIENCE], "claimsMatchingExpression": {
            "value": "claims['sub'] matches 'repo:contoso/app:ref:refs/heads/release/*'", "languageVersion": 1}}})
    assert r.status_code in (200, 201), r.text
    client_id = identity["properties"]["clientId"]
    ok = mint(mimic, issuer, "repo:contoso/app:ref:refs/heads/release/2026.12")
    assert exchange(mimic, client_id, ok).status_code == 200
    r = exchange(mimic, client_id, mint(mimic, issuer, "repo:contoso/app:ref:refs/heads/main"))
    assert r.status_code == 400 and aadsts(r) == 70021, r.text


def test_az_login_with_a_federated_token_for_an_app_registration(mimic: MimicServer, az_sp, az, tmp_path: Path):
    """The GitHub Actions flow of `azure/login` with OIDC: an app registration with a federated
    credential for the repository's environment, then `az login --federated-token`."""
    rg = unique("fed-app")
    mimic.create_rg(rg)
    app = az_sp("ad", "app", "create", "--display-name", unique("gh-deployer"))
    sp = az_sp("ad", "sp", "create", "--id", app["appId"])
    assign_role(mimic, sp["id"], READER, rg_id(mimic, rg))
    issuer = unique("contoso").lower()
    subject = "repo:contoso/app:environment:production"
    params = tmp_path / "fic.json"
    params.write_text(json.dumps({"name": "production", "issuer": issuer_url(issuer), "subject": subject,
                                  "description": "deploys from the production environment",
                                  "audiences": [EXCHANGE_AUDIENCE]}))
    created = az_sp("ad", "app", "federated-credential", "create", "--id", app["appId"], "--parameters", str(params))
    assert created["subject"] == subject and created["name"] == "production", created
    listed = az_sp("ad", "app", "federated-credential", "list", "--id", app["appId"])
    assert [c["name"] for c in listed] == ["production"]

    # A second shell, logged in as the app with the pipeline's token only.
    token = mint(mimic, issuer, subject)
    pipeline = type(az)(mimic, tmp_path / "pipeline-config")
    (tmp_path / "pipeline-config").mkdir()
    pipeline.register_cloud()
    pipeline("cloud", "set", "--name", "Mimic")
    pipeline("login", "--service-principal", "-u", app["appId"], "--tenant", mimic.tenant_id, "--federated-token", token)
    shown = pipeline("group", "show", "--name", rg)
    assert shown["name"] == rg
    denied = pipeline.run("group", "create", "--name", unique("nope"), "--location", "westus", check=False)
    assert denied.returncode != 0 and "AuthorizationFailed" in denied.stderr

    # Another environment's token does not sign in.
    wrong = mint(mimic, issuer, "repo:contoso/app:environment:staging")
    r = exchange(mimic, app["appId"], wrong)
    assert r.status_code == 400 and aadsts(r) == 70021, r.text
    # Deleting the credential through az stops the exchange.
    az_sp("ad", "app", "federated-credential", "delete", "--id", app["appId"], "--federated-credential-id", "production")
    r = exchange(mimic, app["appId"], token)
    assert r.status_code == 400 and aadsts(r) == 700211, r.text


def test_graph_federated_credentials_validate_and_are_listed(mimic: MimicServer):
    r = graph(mimic, "POST", "/v1.0/applications", json={"displayName": unique("fic-graph")})
    assert r.status_code == 201, r.text
    app = r.json()
    base = f"/v1.0/applications/{app['id']}/federatedIdentityCredentials"
    good = {"name": "main", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:o/r:ref:refs/heads/main",
            "audiences": [EXCHANGE_AUDIENCE]}
    r = graph(mimic, "POST", base, json=good)
    assert r.status_code == 201, r.text
    fic = r.json()
    assert fic["id"] and fic["name"] == "main" and fic["audiences"] == [EXCHANGE_AUDIENCE]
    assert graph(mimic, "POST", base, json=good).status_code in (400, 409)
    assert graph(mimic, "POST", base, json={**good, "name": "x", "issuer": "not a url"}).status_code == 400
    assert graph(mimic, "POST", base, json={**good, "name": "y", "color": "blue"}).status_code == 400
    assert graph(mimic, "GET", f"{base}/{fic['id']}").json()["subject"] == good["subject"]
    assert graph(mimic, "PATCH", f"{base}/main", json={"subject": "repo:o/r:ref:refs/heads/dev"}).status_code == 204
    assert graph(mimic, "GET", f"{base}/main").json()["subject"] == "repo:o/r:ref:refs/heads/dev"
    assert graph(mimic, "DELETE", f"{base}/{fic['id']}").status_code == 204
    assert graph(mimic, "GET", base).json()["value"] == []


def test_hosted_issuer_documents_through_the_proxy_and_tenant_ownership(mimic: MimicServer, tmp_path: Path):
    import jwt as pyjwt

    name = unique("owned").lower()
    token = mint(mimic, name, "repo:o/r:ref:refs/heads/main")
    proxies = {"https": mimic.proxy_url}
    config = requests.get(f"{issuer_url(name)}/.well-known/openid-configuration", proxies=proxies,
                          verify=str(mimic.ca_path), timeout=30).json()
    assert config["issuer"] == issuer_url(name)
    jwks = requests.get(config["jwks_uri"], proxies=proxies, verify=str(mimic.ca_path), timeout=30).json()
    key = pyjwt.PyJWK(jwks["keys"][0]).key
    claims = pyjwt.decode(token, key, algorithms=["RS256"], audience=EXCHANGE_AUDIENCE, issuer=issuer_url(name))
    assert claims["sub"] == "repo:o/r:ref:refs/heads/main"
    # Its keys are not the token service's.
    login_keys = requests.get(f"{mimic.login_url}/{mimic.tenant_id}/discovery/v2.0/keys", verify=str(mimic.ca_path),
                              timeout=30).json()
    assert {k["kid"] for k in login_keys["keys"]}.isdisjoint({k["kid"] for k in jwks["keys"]})

    # Another tenant cannot mint from an issuer this one owns.
    p = mimic.mimic_cli("admin", "tenant", "create", "--name", "Fabrikam")
    assert p.returncode == 0, p.stderr
    creds = tmp_path / "fabrikam.json"
    creds.write_text(p.stdout)
    p = mimic.mimic_cli("oidc-token", "--issuer", name, "--subject", "repo:o/r:ref:refs/heads/main", "--credentials", str(creds))
    assert p.returncode != 0 and "another tenant" in p.stderr, p.stderr


class LoopbackIssuer:
    """An OIDC issuer on loopback plain HTTP (what Mimic allows for tests): its own RSA key."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.published = self.key
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                issuer.fetches += 1
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/keys"}
                elif self.path == "/keys":
                    import jwt as pyjwt

                    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(issuer.published.public_key()))
                    body = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict, key=None) -> str:
        import jwt as pyjwt

        now = int(time.time())
        body = {"iss": self.url, "aud": EXCHANGE_AUDIENCE, "iat": now, "nbf": now, "exp": now + 600, **claims}
        return pyjwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": "k1"})

    def close(self):
        self.server.shutdown()


def test_an_external_issuer_is_read_over_http_and_another_key_is_refused(mimic: MimicServer, uai):
    from cryptography.hazmat.primitives.asymmetric import rsa

    rg, identity = uai
    ident_id = uai_id(mimic, rg, "pipeline")
    client_id = identity["properties"]["clientId"]
    issuer = LoopbackIssuer()
    try:
        r = put_fic(mimic, ident_id, "loopback", {"issuer": issuer.url, "subject": "ci-job"})
        assert r.status_code in (200, 201), r.text
        r = exchange(mimic, client_id, issuer.sign({"sub": "ci-job"}))
        assert r.status_code == 200, r.text
        assert jwt_parts(r.json()["access_token"])[1]["oid"] == identity["properties"]["principalId"]
        # The same kid signed with another key: the issuer's published key does not verify it.
        attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        r = exchange(mimic, client_id, issuer.sign({"sub": "ci-job"}, key=attacker))
        assert r.status_code == 401 and aadsts(r) == 700027, r.text
        # A second exchange is answered from the cache: the issuer is not asked again.
        before = issuer.fetches
        assert exchange(mimic, client_id, issuer.sign({"sub": "ci-job"})).status_code == 200
        assert issuer.fetches == before
    finally:
        issuer.close()


def test_a_dead_issuer_is_refused_with_entras_error(mimic: MimicServer, uai):
    rg, identity = uai
    dead = LoopbackIssuer()
    dead.close()
    dead.server.server_close()
    r = put_fic(mimic, uai_id(mimic, rg, "pipeline"), "dead", {"issuer": dead.url, "subject": "s"})
    assert r.status_code in (200, 201), r.text
    r = exchange(mimic, identity["properties"]["clientId"], dead.sign({"sub": "s"}))
    assert r.status_code == 400 and aadsts(r) == 50166, r.text


def test_az_identity_federated_credential_commands_round_trip(mimic: MimicServer, az_sp, uai):
    """`az identity federated-credential` create (subject or claims expression, default
    audience), show, list, update and delete, as the Azure CLI's own scenario drives them."""
    rg, _ = uai
    iss = "https://token.actions.githubusercontent.com"
    common = ["--identity-name", "pipeline", "--resource-group", rg]
    az_sp("identity", "federated-credential", "create", "--name", "fic1", *common, "--subject", "system:serviceaccount:ns:a",
          "--issuer", iss)
    made = az_sp("identity", "federated-credential", "create", "--name", "fic2", *common, "--issuer", iss,
                 "--claims-matching-expression-version", "1", "--claims-matching-expression-value", "claims['sub'] eq 'foo'")
    assert made["claimsMatchingExpression"] == {"languageVersion": 1, "value": "claims['sub'] eq 'foo'"}, made
    assert made["audiences"] == [EXCHANGE_AUDIENCE]
    listed = az_sp("identity", "federated-credential", "list", *common)
    assert [c["name"] for c in listed] == ["fic1", "fic2"]
    updated = az_sp("identity", "federated-credential", "update", "--name", "fic1", *common, "--subject",
                    "system:serviceaccount:ns:b", "--issuer", iss, "--audiences", EXCHANGE_AUDIENCE)
    assert updated["subject"] == "system:serviceaccount:ns:b"
    bad = az_sp.run("identity", "federated-credential", "create", "--name", "fic3", *common, "--issuer", iss,
                    "--subject", "system:serviceaccount:ns:b", check=False)
    assert bad.returncode != 0, "issuer and subject must be unique on the identity"
    for name in ("fic1", "fic2"):
        az_sp("identity", "federated-credential", "delete", "--name", name, *common, "--yes")
    assert az_sp("identity", "federated-credential", "list", *common) == []
