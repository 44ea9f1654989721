"""Zero-configuration use: with nothing but what `mimic env` prints, clients written
for Azure reach Mimic under Azure's own host names through Mimic's proxy — az with the default
AzureCloud (no `az cloud register`), azure-identity and the SDKs with no endpoint settings."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests

from mimic_harness import (
    REPO_ROOT,
    Az,
    MimicServer,
    _clean_env,
    js_clients_installed,
    jwt_parts,
    make_nic,
    node_script,
    unique,
)
from test_vm_identity import check_js_sdk_steps

VENV_PY = str(REPO_ROOT / ".venv" / "bin" / "python")


def env_vars(mimic: MimicServer) -> dict[str, str]:
    """Exactly what `mimic env` prints, as a dict."""
    p = mimic.mimic_cli("env", "--output", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["variables"]


class ProxiedAz(Az):
    """az with only `mimic env`'s variables: default cloud, no custom endpoints."""

    def env(self) -> dict[str, str]:
        env = _clean_env(env_vars(self.server))
        env.update({"AZURE_CONFIG_DIR": str(self.config_dir), "AZURE_CORE_COLLECT_TELEMETRY": "false",
                    "AZURE_CORE_NO_COLOR": "1", "AZURE_CORE_SURVEY_MESSAGE": "false",
                    "AZURE_CORE_ERROR_RECOMMENDATION": "off", "AZURE_CORE_LOGIN_EXPERIENCE_V2": "off"})
        for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
            env.pop(k, None)  # az takes credentials on its command line
        return env


@pytest.fixture
def paz(mimic: MimicServer, tmp_path) -> ProxiedAz:
    config = tmp_path / "azure-config"
    config.mkdir()
    return ProxiedAz(mimic, config)


def test_az_service_principal_login_with_default_cloud(paz: ProxiedAz, mimic: MimicServer):
    assert paz("cloud", "show")["name"] == "AzureCloud"
    sp = mimic.sp
    accounts = paz("login", "--service-principal", "-u", sp["clientId"], "-p", sp["clientSecret"], "--tenant", mimic.tenant_id)
    assert accounts[0]["id"] == mimic.subscription_id
    rg = unique("proxy")
    created = paz("group", "create", "--name", rg, "--location", "westus")
    assert created["id"] == f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"
    assert rg in [g["name"] for g in paz("group", "list")]
    token = paz("account", "get-access-token")
    _, claims, _ = jwt_parts(token["accessToken"])
    assert claims["aud"] == "https://management.core.windows.net/"


def test_az_user_password_login_with_default_cloud(paz: ProxiedAz, mimic: MimicServer):
    """`az login -u -p` (ROPC): MSAL's user-realm call goes to port 443 of the login host,
    which only works when Azure's host names reach Mimic (docs/azure-behaviour.md §11.4)."""
    accounts = paz("login", "-u", mimic.admin["userName"], "-p", mimic.admin["password"])
    assert accounts[0]["id"] == mimic.subscription_id
    assert accounts[0]["user"] == {"name": mimic.admin["userName"], "type": "user"}
    assert paz("account", "show")["tenantId"] == mimic.tenant_id


def test_python_sdk_written_for_azure(mimic: MimicServer):
    rg = unique("proxysdk")
    code = f"""
import os, json
from azure.identity import ClientSecretCredential, DefaultAzureCredential
from azure.mgmt.resource import ResourceManagementClient
cred = ClientSecretCredential(os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"])
client = ResourceManagementClient(cred, os.environ["AZURE_SUBSCRIPTION_ID"])
client.resource_groups.create_or_update("{rg}", {{"location": "westus"}})
names = [g.name for g in ResourceManagementClient(DefaultAzureCredential(), os.environ["AZURE_SUBSCRIPTION_ID"]).resource_groups.list()]
print(json.dumps(names))
"""
    p = subprocess.run([VENV_PY, "-c", code], capture_output=True, text=True, timeout=120, env=_clean_env(env_vars(mimic)))
    assert p.returncode == 0, p.stderr
    assert rg in json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not js_clients_installed(), reason="node packages not installed (scripts/test-setup.sh)")
def test_javascript_sdks_written_for_azure(mimic: MimicServer):
    """@azure/identity + @azure/arm-compute + @azure/arm-msi with no endpoint settings: only
    `mimic env`'s variables (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, AZURE_*)."""
    rg = unique("proxyjs")
    mimic.create_rg(rg)
    env = _clean_env(env_vars(mimic))
    assert "MIMIC_ARM" not in env and "NODE_EXTRA_CA_CERTS" in env
    env.update({"MIMIC_RG": rg, "MIMIC_NIC": make_nic(mimic, rg, "proxynic"), "MIMIC_VM": "proxyvm"})
    check_js_sdk_steps(mimic, node_script("vm_identity_sdk.mjs", env))


def test_other_hosts_are_refused_with_proxy_others_refuse_and_logged_once(mimic_factory):
    """`--proxy-others refuse`: no request leaves the machine (the default tunnels them)."""
    mimic = mimic_factory(extra_args=["--proxy-others", "refuse"])
    proxies = {"https": mimic.proxy_url, "http": mimic.proxy_url}
    for _ in range(2):
        with pytest.raises(requests.exceptions.ProxyError):
            requests.get("https://example.com/", proxies=proxies, timeout=10)
    r = requests.get("http://example.com/", proxies=proxies, timeout=10)
    assert r.status_code == 403 and "example.com" in r.text
    log = mimic.log_path.read_text()
    refusals = [line for line in log.splitlines() if "proxy refused" in line and "example.com" in line]
    assert len(refusals) == 1, refusals


def test_discovery_through_proxy_names_azure_hosts(mimic: MimicServer):
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override `verify`
    s.proxies = {"https": mimic.proxy_url}
    s.verify = str(mimic.ca_path)
    doc = s.get(f"https://login.microsoftonline.com/{mimic.tenant_id}/v2.0/.well-known/openid-configuration", timeout=10).json()
    assert doc["issuer"] == f"https://login.microsoftonline.com/{mimic.tenant_id}/v2.0"
    assert doc["token_endpoint"] == f"https://login.microsoftonline.com/{mimic.tenant_id}/oauth2/v2.0/token"
    meta = s.get("https://management.azure.com/metadata/endpoints?api-version=2022-09-01", timeout=10).json()
    assert meta["resourceManager"] == "https://management.azure.com/"
    assert meta["authentication"]["loginEndpoint"] == "https://login.microsoftonline.com/"


# ---- hosts Mimic does not serve: tunnelled unchanged ---------------------------------------

#: A public host this machine can reach: the package registries are the only ones here.
FOREIGN = "pypi.org"


def _reachable_directly(host: str) -> bool:
    import socket
    try:
        socket.create_connection((host, 443), timeout=5).close()
        return True
    except OSError:
        return False


def _tunnel(proxy_url: str, host: str, port: int = 443):
    """A CONNECT through the proxy by hand; returns (status line, the socket)."""
    import socket
    from urllib.parse import urlsplit
    p = urlsplit(proxy_url)
    s = socket.create_connection((p.hostname, p.port), timeout=10)
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return head.split(b"\r\n", 1)[0].decode(), s


def test_other_hosts_are_tunnelled_unchanged_with_the_sites_own_certificate(mimic: MimicServer):
    """The default: a CONNECT to a host Mimic does not serve is a plain tunnel. The client talks
    TLS with the site itself (its certificate does not chain to Mimic's CA), and a client using
    the bundle `mimic env` exports (system roots + Mimic's CA) verifies it."""
    import ssl
    if not _reachable_directly(FOREIGN):
        pytest.skip(f"{FOREIGN} is not reachable from this machine")
    status, s = _tunnel(mimic.proxy_url, FOREIGN)
    assert status.split()[1] == "200", status
    bundle = mimic.data_dir / "ca-bundle.pem"
    ctx = ssl.create_default_context(cafile=str(bundle))
    with ctx.wrap_socket(s, server_hostname=FOREIGN) as tls:
        issuer = dict(x[0] for x in tls.getpeercert()["issuer"])
        assert "Mimic" not in json.dumps(issuer), issuer
    # Mimic's CA alone would not verify it: nothing was decrypted and re-signed.
    status, s = _tunnel(mimic.proxy_url, FOREIGN)
    only_mimic = ssl.create_default_context(cafile=str(mimic.ca_path))
    with pytest.raises(ssl.SSLCertVerificationError):
        only_mimic.wrap_socket(s, server_hostname=FOREIGN)
    s.close()
    # requests as a shell after `mimic env` has it
    r = requests.get(f"https://{FOREIGN}/simple/six/", proxies={"https": mimic.proxy_url}, verify=str(bundle), timeout=30)
    assert r.status_code == 200, r.status_code


@pytest.mark.parametrize("target", ["127.0.0.1", "localhost", "169.254.169.254", "[::1]", "0.0.0.0"])
def test_the_tunnel_never_reaches_this_machine(mimic: MimicServer, target: str):
    """A workload could otherwise tunnel to another VM's IMDS listener or Mimic's own ports."""
    from urllib.parse import urlsplit
    port = urlsplit(mimic.arm_url).port
    status, s = _tunnel(mimic.proxy_url, target, port)
    s.close()
    assert status.split()[1] in ("403", "502"), status
