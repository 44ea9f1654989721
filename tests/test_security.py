"""Attacks on bearer tokens: every forged, stale, misdirected or orphaned token
is refused by ARM and Graph with Azure's errors.

ARM's 401 codes and texts: docs/azure-behaviour.md §3 (`InvalidAuthenticationToken` "The access token is
invalid.", `ExpiredAuthenticationToken`, `InvalidAuthenticationTokenAudience`,
`InvalidAuthenticationTokenTenant`), always with a `WWW-Authenticate: Bearer ...
error="invalid_token"` challenge. Graph answers 401 `InvalidAuthenticationToken` (Graph's error
shape). test_foundation.py already covers garbage, lower-case `alg: none`, a foreign RSA key,
tampered claims, a Graph token on ARM and expiry through libfaketime; this file adds the rest.

Reaching the checks behind the signature: Mimic keeps one tenant per store and nothing public
creates a second one or signs with Mimic's key, so a token "from another tenant", "not yet
valid" or "for another issuer" that is *correctly signed* cannot be obtained from outside. To
prove those checks exist on their own (not only as a side effect of a bad signature), the
`signer` fixture signs with the server's own key, read from its data directory (the
`signing_keys` table of mimic.db, opened with the data directory's master.key): the only place these tests use knowledge of Mimic's
internals. Control: the same signer's faithful copy of a real token is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_der_private_key

from mimic_harness import (
    GRAPH_SCOPE,
    READER,
    RG_API,
    MimicServer,
    assign_role,
    b64url,
    jwt_parts,
    make_uai,
    make_vm,
    open_sealed,
    unique,
    unsigned_jwt,
)
from test_imds import vm_imds

ARM_REFUSALS = {"InvalidAuthenticationToken", "ExpiredAuthenticationToken", "InvalidAuthenticationTokenAudience",
                "InvalidAuthenticationTokenTenant", "AuthenticationFailed"}


# ---- helpers ------------------------------------------------------------------------------


def arm_refused(mimic: MimicServer, token: str, code: str) -> dict:
    """ARM refuses `token` with 401 `code`, ARM's error shape and a Bearer challenge."""
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=token, api_version=RG_API)
    assert r.status_code == 401, f"expected 401 {code}, got {r.status_code}: {r.text[:1000]}"
    err = r.json()["error"]
    assert err["code"] == code, err
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    return err


def graph_refused(mimic: MimicServer, token: str) -> dict:
    """Graph refuses `token` with 401 InvalidAuthenticationToken in Graph's error shape."""
    r = mimic.http.get(mimic.graph_url + "/v1.0/servicePrincipals", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 401, f"expected 401, got {r.status_code}: {r.text[:1000]}"
    err = r.json()["error"]
    assert err["code"] == "InvalidAuthenticationToken", err
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
    return err


class Signer:
    """Signs arbitrary claims with the server's active RS256 key (see the module docstring)."""

    def __init__(self, server: MimicServer):
        db = server.data_dir / "mimic.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
            kid, der = c.execute("SELECT kid, pkcs8 FROM signing_keys WHERE active = 1 ORDER BY created DESC LIMIT 1").fetchone()
        self.kid = kid
        der = open_sealed(server.data_dir / "master.key", f"signing_keys/{kid}", der)
        self.key = load_der_private_key(der, password=None)

    def sign(self, claims: dict, **header) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid, **header})

    def sign_raw(self, header: dict, claims: dict) -> str:
        """RS256 over any header, even one PyJWT refuses to build (a numeric kid)."""
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        sig = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).sign(signing_input.encode(), self.key)
        return f"{signing_input}.{b64url(sig)}"

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def signer(mimic: MimicServer) -> Signer:
    return Signer(mimic)


@pytest.fixture(scope="module")
def sp_claims(mimic: MimicServer) -> dict:
    return jwt_parts(mimic.sp_token())[1]


def test_control_a_faithful_resigned_token_is_accepted(mimic: MimicServer, signer: Signer, sp_claims: dict):
    """Without this, every refusal below could be the signer's fault rather than the check's."""
    token = signer.sign(dict(sp_claims))
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=token, api_version=RG_API)
    assert r.status_code == 200, r.text


# ---- signature and algorithm --------------------------------------------------------------


def test_forged_signature_is_refused(mimic: MimicServer):
    h, p, s = mimic.sp_token().split(".")
    sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    sig[len(sig) // 2] ^= 0x01  # one flipped bit
    arm_refused(mimic, f"{h}.{p}.{b64url(bytes(sig))}", "InvalidAuthenticationToken")
    arm_refused(mimic, f"{h}.{p}.{b64url(os.urandom(len(sig)))}", "InvalidAuthenticationToken")
    arm_refused(mimic, f"{h}.{p}.", "InvalidAuthenticationToken")
    graph_refused(mimic, ".".join(mimic.sp_token(GRAPH_SCOPE).split(".")[:2]) + "." + b64url(bytes(sig)))


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE"])
def test_alg_none_in_any_case_with_or_without_signature_is_refused(mimic: MimicServer, alg: str):
    token = mimic.sp_token()
    header, claims, sig = jwt_parts(token)
    arm_refused(mimic, unsigned_jwt({**header, "alg": alg}, claims), "InvalidAuthenticationToken")
    arm_refused(mimic, unsigned_jwt({**header, "alg": alg}, claims, sig), "InvalidAuthenticationToken")
    gheader, gclaims, _ = jwt_parts(mimic.sp_token(GRAPH_SCOPE))
    graph_refused(mimic, unsigned_jwt({**gheader, "alg": alg}, gclaims))


def test_hs256_with_the_public_key_as_secret_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict):
    """The classic RS256→HS256 confusion: HMAC keyed with the published public key (PEM as
    verifiers load it, and the JWKS modulus bytes)."""
    jwks = mimic.http.get(f"{mimic.login_url}/{mimic.tenant_id}/discovery/v2.0/keys", timeout=30).json()["keys"]
    kid = jwt_parts(mimic.sp_token())[0]["kid"]
    jwk = next(k for k in jwks if k["kid"] == kid)
    secrets = [signer.public_pem(), base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), json.dumps(jwk).encode()]
    for secret in secrets:
        header = {"typ": "JWT", "alg": "HS256", "kid": kid, "x5t": kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(sp_claims).encode())}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        arm_refused(mimic, f"{signing_input}.{b64url(mac)}", "InvalidAuthenticationToken")


@pytest.mark.parametrize("kid", ["unknown", "", None, "../../etc/passwd", 42], ids=["unknown", "empty", "missing", "path", "number"])
def test_wrong_or_missing_kid_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict, kid):
    # Correctly signed by the server's key: only the kid is wrong, so this proves keys are chosen by kid.
    header = {"typ": "JWT", "alg": "RS256"}
    if kid is not None:
        header["kid"] = kid
    token = signer.sign_raw(header, sp_claims)
    control = signer.sign_raw({**header, "kid": signer.kid}, sp_claims)  # the same token with the right kid passes
    assert mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=control, api_version=RG_API).status_code == 200
    arm_refused(mimic, token, "InvalidAuthenticationToken")


# ---- lifetime -----------------------------------------------------------------------------


def test_expired_token_is_refused_with_expired_authentication_token(mimic: MimicServer, signer: Signer, sp_claims: dict):
    now = int(time.time())
    token = signer.sign({**sp_claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 60})
    err = arm_refused(mimic, token, "ExpiredAuthenticationToken")
    assert "is earlier than current UTC time" in err["message"], err
    graph_claims = jwt_parts(mimic.sp_token(GRAPH_SCOPE))[1]
    graph_refused(mimic, signer.sign({**graph_claims, "exp": now - 60}))


def test_token_without_exp_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict):
    claims = {k: v for k, v in sp_claims.items() if k != "exp"}
    arm_refused(mimic, signer.sign(claims), "InvalidAuthenticationToken")


def test_not_yet_valid_token_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict):
    # Entra tolerates 5 minutes of clock skew; an hour ahead is not skew. Azure's exact code for
    # a future nbf is not documented; ARM's generic refusal is InvalidAuthenticationToken.
    now = int(time.time())
    token = signer.sign({**sp_claims, "iat": now + 3600, "nbf": now + 3600, "exp": now + 7200})
    arm_refused(mimic, token, "InvalidAuthenticationToken")
    graph_claims = jwt_parts(mimic.sp_token(GRAPH_SCOPE))[1]
    graph_refused(mimic, signer.sign({**graph_claims, "nbf": now + 3600, "exp": now + 7200}))


# ---- audience, issuer, tenant -------------------------------------------------------------


@pytest.mark.parametrize("aud", ["https://vault.azure.net", "https://management.azure.com.evil.example/",
                                 "https://graph.microsoft.com/", "", None])
def test_wrong_audience_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict, aud):
    claims = dict(sp_claims)
    if aud is None:
        del claims["aud"]
    else:
        claims["aud"] = aud
    arm_refused(mimic, signer.sign(claims), "InvalidAuthenticationTokenAudience")


def test_arm_token_on_graph_is_refused(mimic: MimicServer):
    graph_refused(mimic, mimic.sp_token())


@pytest.mark.parametrize("iss", ["https://sts.windows.net/{other}/", "https://login.microsoftonline.com/{tid}/v2.0",
                                 "https://sts.windows.net/{tid}", "https://evil.example/{tid}/", ""])
def test_wrong_issuer_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict, iss: str):
    # The v2 issuer of *Azure's* login host is not this Mimic's (its v2 issuer is its own login URL).
    claims = {**sp_claims, "iss": iss.format(tid=mimic.tenant_id, other=uuid.uuid4())}
    err = arm_refused(mimic, signer.sign(claims), "InvalidAuthenticationTokenTenant")
    assert "wrong issuer" in err["message"], err
    graph_claims = jwt_parts(mimic.sp_token(GRAPH_SCOPE))[1]
    graph_refused(mimic, signer.sign({**graph_claims, "iss": claims["iss"]}))


def test_token_of_an_unknown_tenant_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict):
    """Another tenant's token, as far as one Mimic can show it: tid and issuer of a tenant this
    Mimic does not hold (it has one tenant per store and no public way to make a second)."""
    other = str(uuid.uuid4())
    claims = {**sp_claims, "tid": other, "iss": f"https://sts.windows.net/{other}/", "idp": f"https://sts.windows.net/{other}/"}
    arm_refused(mimic, signer.sign(claims), "InvalidAuthenticationTokenTenant")
    graph_claims = jwt_parts(mimic.sp_token(GRAPH_SCOPE))[1]
    graph_refused(mimic, signer.sign({**graph_claims, "tid": other, "iss": f"https://sts.windows.net/{other}/"}))


def test_token_of_an_unknown_principal_is_refused(mimic: MimicServer, signer: Signer, sp_claims: dict):
    claims = {**sp_claims, "oid": str(uuid.uuid4()), "sub": str(uuid.uuid4())}
    arm_refused(mimic, signer.sign(claims), "InvalidAuthenticationToken")


@pytest.mark.parametrize("claims", [{"tid": 7}, {"oid": ["x"]}, {"exp": "tomorrow"}, {"aud": ["https://management.azure.com/"]}],
                         ids=["tid-number", "oid-list", "exp-string", "aud-list"])
def test_claims_of_the_wrong_type_are_refused(mimic: MimicServer, signer: Signer, sp_claims: dict, claims: dict):
    r = mimic.arm("GET", f"/subscriptions/{mimic.subscription_id}/resourcegroups", token=signer.sign({**sp_claims, **claims}),
                  api_version=RG_API)
    assert r.status_code == 401 and r.json()["error"]["code"] in ARM_REFUSALS, r.text


# ---- managed identity tokens replayed after the identity is gone --------------------------


def _imds_token(mimic: MimicServer, vm: str, extra: str = "") -> str:
    base = vm_imds(mimic, vm)
    r = mimic.http.get(base + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/" + extra,
                       headers={"Metadata": "true"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_managed_identity_tokens_replayed_after_their_identity_is_deleted(mimic: MimicServer):
    rg = unique("replay")
    mimic.create_rg(rg)
    uai = make_uai(mimic, rg, "replayuai")
    vm = make_vm(mimic, rg, "replayvm", {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai["id"]: {}}},
                 linux=True, read_back=True)
    scope = mimic.rg_path(rg)
    assign_role(mimic, vm["identity"]["principalId"], READER, scope, exists_ok=True)
    assign_role(mimic, uai["properties"]["principalId"], READER, scope, exists_ok=True)
    system_token = _imds_token(mimic, f"{rg}/replayvm")
    user_token = _imds_token(mimic, f"{rg}/replayvm", f"&client_id={uai['properties']['clientId']}")
    for token in (system_token, user_token):
        r = mimic.arm("GET", scope, token=token, api_version=RG_API)
        assert r.status_code == 200, r.text  # the tokens work while their identities exist

    # Deleting the user-assigned identity ends its token at once (its principal is gone), though
    # the token itself has hours left and IMDS had handed it out.
    r = mimic.arm("DELETE", uai["id"], api_version="2023-01-31")
    assert r.status_code in (200, 204), r.text
    arm_refused(mimic, user_token, "InvalidAuthenticationToken")
    # Disabling the system-assigned identity deletes its service principal: same end.
    r = mimic.arm("PATCH", vm["id"], api_version="2024-11-01", json={"identity": {"type": "None"}})
    assert r.status_code in (200, 202), r.text
    arm_refused(mimic, system_token, "InvalidAuthenticationToken")
    graph_refused(mimic, system_token)
    assert time.time() < jwt_parts(system_token)[1]["exp"]  # refused for the principal, not for age
