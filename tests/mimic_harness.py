"""Boots a real `mimic serve` and drives it with Microsoft's unmodified clients.

* `MimicServer`: one `mimic serve` process on free ports with its own data directory; start, stop
  (SIGTERM), restart on the same data directory, log capture, plus a raw `requests` requester for
  what SDKs never send (`arm(...)`, `token_request(...)`). `store=` picks the store
  (`--store`); `MIMIC_TEST_STORE=postgres` gives every server its own PostgreSQL database in
  the test cluster (`MIMIC_TEST_POSTGRES`), so the whole suite runs against PostgreSQL.
* `Az`: the venv's `az` with a private `AZURE_CONFIG_DIR`, Mimic's CA and the settings a user needs
  for a custom cloud; returns parsed JSON, raises `AzError` (with stderr) on a non-zero exit.
* ARM/Graph helpers the test files share: `arm_error` (ARM's error envelope), resource ids
  (`rg_id`, `vm_id`, `uai_id`, `deployment_id`), `make_nic`/`vm_body`/`make_vm`/`get_vm`,
  `make_uai`, `assign_role`, `wait_deployment`, `graph`, `graph_sp`, and the api-versions, scopes
  and role ids they use; `replica_of` for a second server over one PostgreSQL store.
* JWT helpers for forging and inspecting tokens.

Nothing here knows Mimic's internals: only the contract in docs/ARCHITECTURE.md (flags, endpoints.json,
bootstrap.json, ca.pem) and Azure's public protocols.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
SURFACES = ("arm", "login", "graph", "portal", "imds", "proxy")

#: Azure CLI's well-known public client id (az login -u/-p, device code).
AZ_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
#: The ARM scope SDKs ask for by default (azure-mgmt-* `credential_scopes`).
ARM_SCOPE = "https://management.azure.com/.default"
#: What az asks for: `authentication.audiences[0]` of the cloud metadata + "/.default" (az-cli.md §3).
AZ_ARM_SCOPE = "https://management.core.windows.net//.default"
#: The audiences Azure's ARM accepts (docs/azure-behaviour.md §3, InvalidAuthenticationTokenAudience message).
ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)

#: api-versions of the tests' raw ARM calls (a test file that needs another one defines its own).
RG_API = "2021-04-01"  # resource groups: any version az/SDKs use would do
AUTHZ_API = "2022-04-01"
VM_API = "2024-11-01"  # what az sends for VM PATCH (az-cli.md §6)
NET_API = "2024-05-01"
MSI_API = "2023-01-31"
DEPLOY_API = "2025-04-01"  # what az deployment sends (az-cli.md §6)
GRAPH_API = "v1.0"  # Microsoft Graph's version path segment
#: What SDKs ask for to call Microsoft Graph.
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
#: Built-in Azure roles' definition ids (docs/azure-behaviour.md §4).
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"

MSAL_VERSION = "1.39.0"  # what tests/requirements.lock pins; sent as x-client-ver like MSAL does

START_TIMEOUT = float(os.environ.get("MIMIC_START_TIMEOUT", "10"))
STOP_TIMEOUT = 10.0
AZ_TIMEOUT = 120.0
HTTP_TIMEOUT = 30.0

_DEFAULT = object()  # "use the bootstrap service principal's token"


class MimicError(RuntimeError):
    pass


def mimic_binary() -> Path:
    return Path(os.environ.get("MIMIC_BIN") or REPO_ROOT / "target" / "release" / "mimic")


def az_binary() -> Path:
    if os.environ.get("MIMIC_AZ"):
        return Path(os.environ["MIMIC_AZ"])
    venv_az = REPO_ROOT / ".venv" / "bin" / "az"
    if venv_az.exists():
        return venv_az
    return Path(sys.executable).parent / "az"


def unique(prefix: str) -> str:
    """A name no other test uses (tests share a server per xdist worker)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent environment minus anything that would send client traffic elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
        and not k.startswith(("AZURE_", "MSI_", "IDENTITY_", "ARM_"))
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if extra:
        env.update(extra)
    return env


JS_DIR = REPO_ROOT / "tests" / "js"


def node_script(script: str, env: Mapping[str, str], timeout: float = 120, args: Sequence[str] = ()) -> Any:
    """Runs one of tests/js/*.mjs (Microsoft's JavaScript clients) with `env` and `args` and returns
    the JSON its last output line holds; fails with its output when it exits non-zero."""
    p = subprocess.run(["node", str(JS_DIR / script), *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(env), cwd=JS_DIR)
    if p.returncode != 0:
        raise AssertionError(f"node {script} exited {p.returncode}:\n{p.stderr}\n{p.stdout}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def js_clients_installed() -> bool:
    return (JS_DIR / "node_modules" / "@azure" / "identity").exists()


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def new_postgres_database() -> str:
    """A fresh, empty database in the test cluster (`MIMIC_TEST_POSTGRES`, as printed by
    scripts/postgres-test-cluster.sh); returns its URL."""
    admin = os.environ.get("MIMIC_TEST_POSTGRES")
    if not admin:
        raise MimicError("MIMIC_TEST_POSTGRES is unset: start a cluster with scripts/postgres-test-cluster.sh start DIR")
    name = f"mimic_{uuid.uuid4().hex[:16]}"
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
    server, _, _ = admin.partition("?")[0].rpartition("/")
    return f"{server}/{name}"


def _store_for_new_server(store: str | None) -> str | None:
    """`--store` for a new server: the given one, a new PostgreSQL database for "postgres"
    (or for no choice under MIMIC_TEST_STORE=postgres), else the default SQLite."""
    if store is None:
        store = os.environ.get("MIMIC_TEST_STORE") or None
    if store == "postgres":
        return new_postgres_database()
    if store in (None, "sqlite"):
        return None
    return store


#: One master key file per PostgreSQL store, shared by every replica over it, as an operator gives
#: every replica the same file (`--master-key-file`).
_MASTER_KEYS: dict[str, Path] = {}
#: Replicas may start from several threads at once (test_postgres_replicas.py): one file each store.
_MASTER_KEYS_LOCK = threading.Lock()


def master_key_file_for(store: str) -> Path:
    """The master key file of the PostgreSQL store `store` (created, 0600, on first use)."""
    url = store.partition("?")[0]
    with _MASTER_KEYS_LOCK:
        path = _MASTER_KEYS.get(url)
        if path is None:
            path = Path(tempfile.mkdtemp(prefix="mimic-master-key-")) / "master.key"
            path.touch(mode=0o600)
            path.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
            _MASTER_KEYS[url] = path
        return path


SEALED_PREFIX = b"mimic-sealed:v1:"


def open_sealed(master_key_file: Path, purpose: str, value: bytes) -> bytes:
    """A value Mimic sealed under its master key (crates/mimic-server/src/master_key.rs):
    AES-256-GCM, nonce first, `purpose` as additional data. For tests that need the server's
    own key material (signing with it, making an old-format store)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = base64.b64decode(master_key_file.read_text().strip())
    body = bytes(value)[len(SEALED_PREFIX):]
    raw = base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    return AESGCM(key).decrypt(raw[:12], raw[12:], purpose.encode())


class MimicServer:
    """One `mimic serve` with its own data directory under `root` and its log in `root/serve.log`."""

    def __init__(self, root: Path, *, binary: Path | None = None, extra_args: Sequence[str] = (), store: str | None = None,
                 master_key: bool = True):
        self.root = Path(root)
        #: Over PostgreSQL, pass the store's shared master key file (False: none, to see the
        #: server refuse to start without one).
        self.master_key = master_key
        #: `--store` (a postgres:// URL), or None for SQLite in the data directory. A replica
        #: joining another server's store takes `store=other.store` and `bootstrap=other.bootstrap`.
        self.store = _store_for_new_server(store)
        self.data_dir = self.root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "serve.log"
        self.binary = Path(binary) if binary else mimic_binary()
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.endpoints: dict[str, str] = {}
        self.bootstrap: dict[str, Any] = {}
        self._log_file = None
        self._tokens: dict[tuple, str] = {}
        self._session: requests.Session | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def command(self) -> list[str]:
        cmd = [str(self.binary), "serve", "--data-dir", str(self.data_dir)]
        for surface in SURFACES:
            cmd += [f"--{surface}", "127.0.0.1:0"]
        if self.store:
            cmd += ["--store", self.store]
            if self.master_key and self.store.startswith(("postgres://", "postgresql://")):
                cmd += ["--master-key-file", str(master_key_file_for(self.store))]
        return cmd + self.extra_args

    def start(self, timeout: float = START_TIMEOUT, env: Mapping[str, str] | None = None) -> "MimicServer":
        if self.proc and self.proc.poll() is None:
            raise MimicError("already running")
        if not self.binary.exists():
            raise MimicError(f"{self.binary} does not exist: build it (cargo build --release) or set MIMIC_BIN")
        endpoints_file = self.data_dir / "endpoints.json"
        endpoints_file.unlink(missing_ok=True)  # rewritten by every start; wait for the new one
        self.starts += 1
        cmd = self.command()
        self._log_file = open(self.log_path, "ab", buffering=0)
        extra = "" if not env else " with " + " ".join(f"{k}={v}" for k, v in env.items())
        self._log_file.write(f"\n===== start #{self.starts}: {shlex.join(cmd)}{extra}\n".encode())
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=_clean_env({"RUST_BACKTRACE": "1",
                            # readable lines in failure reports (an explicit MIMIC_LOG_FORMAT wins)
                            "MIMIC_LOG_FORMAT": os.environ.get("MIMIC_LOG_FORMAT", "text"),
                            "NO_COLOR": "1",
                            # deployments run without provisioning time unless a test asks
                            # for it (tests/test_deployment_lro.py); the default is 1 s per resource
                            "MIMIC_PROVISIONING_DELAY": os.environ.get("MIMIC_PROVISIONING_DELAY", "off"),
                            **(env or {})}),
            cwd=self.root,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self._close_log()
                raise MimicError(f"mimic serve exited with {code} while starting (endpoints.json not read)\n{self.log_tail()}")
            if endpoints_file.exists():
                try:
                    endpoints = json.loads(endpoints_file.read_text())
                    if all(endpoints.get(s) for s in SURFACES):
                        break
                except (json.JSONDecodeError, OSError):
                    pass  # being written
            if time.monotonic() > deadline:
                self.kill()
                raise MimicError(f"no complete endpoints.json after {timeout} s\n{self.log_tail()}")
            time.sleep(0.05)
        self.endpoints = {k: v.rstrip("/") for k, v in endpoints.items() if isinstance(v, str)}
        bootstrap_file = self.data_dir / "bootstrap.json"
        if bootstrap_file.exists():
            self.bootstrap = json.loads(bootstrap_file.read_text())
        elif not self.bootstrap:  # a replica joining a store knows the secrets from the first server
            raise MimicError(f"{bootstrap_file} missing after start\n{self.log_tail()}")
        if not self.ca_path.exists():
            raise MimicError(f"{self.ca_path} missing after start\n{self.log_tail()}")
        self._session = None
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._log(f"===== did not stop {timeout} s after SIGTERM: SIGKILL")
                self.proc.kill()
                self.proc.wait(5)
        code = self.proc.returncode
        self._log(f"===== exited with {code}")
        self._close_log()
        return code

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._close_log()

    def restart(self, **kw) -> "MimicServer":
        self.stop()
        return self.start(**kw)

    def running(self) -> bool:
        return bool(self.proc) and self.proc.poll() is None

    def _log(self, line: str) -> None:
        if self._log_file and not self._log_file.closed:
            self._log_file.write(f"\n{line}\n".encode())

    def _close_log(self) -> None:
        if self._log_file and not self._log_file.closed:
            self._log_file.close()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # ---- contract files --------------------------------------------------------------------

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "ca.pem"

    # Base URLs from endpoints.json, without a trailing slash. (`arm` itself is the requester.)
    arm_url = property(lambda self: self.endpoints["arm"])
    login_url = property(lambda self: self.endpoints["login"])
    graph_url = property(lambda self: self.endpoints["graph"])
    portal_url = property(lambda self: self.endpoints["portal"])
    imds_url = property(lambda self: self.endpoints["imds"])
    proxy_url = property(lambda self: self.endpoints["proxy"])

    @property
    def tenant_id(self) -> str:
        return self.bootstrap["tenantId"]

    @property
    def subscription_id(self) -> str:
        return self.bootstrap["subscriptionId"]

    @property
    def sp(self) -> dict[str, str]:
        return self.bootstrap["servicePrincipal"]

    @property
    def admin(self) -> dict[str, str]:
        return self.bootstrap["admin"]

    def client_env(self) -> dict[str, str]:
        """What a user exports so requests-based clients (az, MSAL, azure-core) trust Mimic."""
        return {"REQUESTS_CA_BUNDLE": str(self.ca_path)}

    # ---- raw HTTP --------------------------------------------------------------------------

    @property
    def http(self) -> requests.Session:
        if self._session is None:
            s = requests.Session()
            s.trust_env = False  # no proxies from the environment; the CA is passed explicitly
            s.verify = str(self.ca_path)
            self._session = s
        return self._session

    def _url(self, base: str, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else base + path

    def arm(
        self,
        method: str,
        path: str,
        *,
        token: Any = _DEFAULT,
        json: Any = None,
        data: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        api_version: str | None = None,
        allow_redirects: bool = False,
    ) -> requests.Response:
        """One ARM request. `token`: default = the bootstrap SP's token, None = no Authorization
        header, a str = that bearer token. `api_version` is added to `params` when given."""
        h = dict(headers or {})
        if token is _DEFAULT:
            token = self.sp_token()
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        p = dict(params or {})
        if api_version:
            p["api-version"] = api_version
        return self.http.request(
            method, self._url(self.arm_url, path), json=json, data=data, params=p or None, headers=h,
            timeout=HTTP_TIMEOUT, allow_redirects=allow_redirects,
        )

    def token_request(
        self, form: Mapping[str, str], *, tenant: str | None = None, v1: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """POST a form to `{login}/{tenant}/oauth2/v2.0/token` (or the v1 `/oauth2/token`)."""
        tenant = tenant or self.tenant_id
        path = f"/{tenant}/oauth2/token" if v1 else f"/{tenant}/oauth2/v2.0/token"
        return self.http.post(self.login_url + path, data=dict(form), headers=dict(headers or {}),
                              timeout=HTTP_TIMEOUT)

    def client_credentials(
        self, *, client_id: str | None = None, secret: str | None = None, scope: str = ARM_SCOPE,
        tenant: str | None = None,
    ) -> requests.Response:
        """The client-credentials grant as a plain HTTP client sends it."""
        return self.token_request(
            {
                "grant_type": "client_credentials",
                "client_id": client_id or self.sp["clientId"],
                "client_secret": secret if secret is not None else self.sp["clientSecret"],
                "scope": scope,
            },
            tenant=tenant,
        )

    def sp_token(self, scope: str = ARM_SCOPE) -> str:
        """An access token of the bootstrap service principal (cached per server start)."""
        key = (self.starts, scope)
        if key not in self._tokens:
            r = self.client_credentials(scope=scope)
            if r.status_code != 200:
                raise MimicError(f"client_credentials for {scope} failed: {r.status_code} {r.text}")
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    # MSAL's request headers (az-cli.md §3/§4); the values that identify the library.
    @staticmethod
    def msal_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
        h = {
            "Accept": "application/json",
            "x-client-sku": "MSAL.Python",
            "x-client-ver": MSAL_VERSION,
            "x-client-os": sys.platform,
            "x-client-cpu": platform.machine(),
            "x-ms-lib-capability": "retry-after, h429",
            "client-request-id": str(uuid.uuid4()),
            "x-client-current-telemetry": "4|84,3|",
        }
        h.update(extra or {})
        return h

    def ropc(
        self, *, username: str | None = None, password: str | None = None, scope: str = AZ_ARM_SCOPE,
        tenant: str = "organizations", client_id: str = AZ_CLI_CLIENT_ID,
    ) -> requests.Response:
        """`az login -u -p`'s password grant exactly as MSAL 1.39 sends it (az-cli.md §4)."""
        username = username or self.admin["userName"]
        return self.token_request(
            {
                "client_id": client_id,
                "grant_type": "password",
                "username": username,
                "password": password if password is not None else self.admin["password"],
                "scope": f"{scope} offline_access openid profile",
                "client_info": "1",
                "claims": json_dumps_compact({"access_token": {"xms_cc": {"values": ["CP1"]}}}),
            },
            tenant=tenant,
            headers=self.msal_headers({"X-AnchorMailbox": f"upn:{username}"}),
        )

    def refresh(
        self, refresh_token: str, *, scope: str = AZ_ARM_SCOPE, tenant: str | None = None,
        client_id: str = AZ_CLI_CLIENT_ID, anchor: str | None = None,
    ) -> requests.Response:
        """The refresh-token grant as MSAL sends it for az (az-cli.md §4)."""
        extra = {"X-AnchorMailbox": anchor} if anchor else {}
        return self.token_request(
            {
                "client_id": client_id,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "scope": f"{scope} offline_access openid profile",
                "client_info": "1",
                "claims": json_dumps_compact({"access_token": {"xms_cc": {"values": ["CP1"]}}}),
            },
            tenant=tenant,
            headers=self.msal_headers(extra),
        )

    def admin_token(self, scope: str = AZ_ARM_SCOPE) -> str:
        key = (self.starts, "admin", scope)
        if key not in self._tokens:
            r = self.ropc(scope=scope)
            if r.status_code != 200:
                raise MimicError(f"password grant for the admin failed: {r.status_code} {r.text}")
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    # ---- convenience -----------------------------------------------------------------------

    def rg_path(self, name: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourcegroups/{name}"

    def create_rg(self, name: str, location: str = "westus", token: Any = _DEFAULT) -> dict:
        r = self.arm("PUT", self.rg_path(name), json={"location": location}, api_version=RG_API, token=token)
        if r.status_code not in (200, 201):
            raise MimicError(f"PUT resource group {name}: {r.status_code} {r.text}")
        return r.json()

    def mimic_cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run another `mimic` command (env, admin, vm ...) against this server's data dir."""
        return subprocess.run(
            [str(self.binary), *args, "--data-dir", str(self.data_dir)],
            capture_output=True, text=True, timeout=timeout, env=_clean_env(), stdin=subprocess.DEVNULL,
        )


def replica_of(mimic_factory, first: MimicServer) -> MimicServer:
    """A second `mimic serve` over `first`'s store, with its own data directory and ports
    (`mimic_factory`: the conftest.py fixture)."""
    second = mimic_factory(store=first.store, start=False)
    second.bootstrap = first.bootstrap  # the secrets are printed once, by the replica that created them
    return second.start()


# --------------------------------------------------------------------------------------------
# az
# --------------------------------------------------------------------------------------------


class AzError(RuntimeError):
    def __init__(self, result: "AzResult"):
        self.result = result
        super().__init__(
            f"{result.cmdline} exited {result.returncode} after {result.seconds:.1f} s\n"
            f"--- stderr ---\n{result.stderr.strip()}\n--- stdout ---\n{result.stdout.strip()[:4000]}"
        )


@dataclass
class AzResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def cmdline(self) -> str:
        return "az " + shlex.join(self.args)

    @property
    def json(self) -> Any:
        return json.loads(self.stdout) if self.stdout.strip() else None


@dataclass
class Az:
    """The venv's `az`, isolated in its own config dir and pointed at one Mimic."""

    server: MimicServer
    config_dir: Path
    binary: Path = field(default_factory=az_binary)
    history: list[AzResult] = field(default_factory=list, repr=False)

    def env(self) -> dict[str, str]:
        return _clean_env(
            {
                "AZURE_CONFIG_DIR": str(self.config_dir),
                "REQUESTS_CA_BUNDLE": str(self.server.ca_path),
                # MSAL would call login.microsoftonline.com/common/discovery/instance (az-cli.md §2)
                "AZURE_CORE_INSTANCE_DISCOVERY": "false",
                "AZURE_CORE_COLLECT_TELEMETRY": "false",
                "AZURE_CORE_NO_COLOR": "1",
                "AZURE_CORE_SURVEY_MESSAGE": "false",
                "AZURE_CORE_ERROR_RECOMMENDATION": "off",  # no online "did you mean" lookups
                "AZURE_CORE_DISABLE_PROGRESS_BAR": "true",
                "AZURE_CORE_LOGIN_EXPERIENCE_V2": "off",
                "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
                # Warnings stay visible on stderr (no AZURE_CORE_ONLY_SHOW_ERRORS): they help debugging.
            }
        )

    def run(self, *args: str, check: bool = True, timeout: float = AZ_TIMEOUT, output: str | None = "json") -> AzResult:
        __tracebackhide__ = True  # pytest: show the test's line and AzError, not this function
        argv = list(args)
        if output and "--output" not in argv and "-o" not in argv:
            argv += ["--output", output]
        t0 = time.monotonic()
        try:
            p = subprocess.run(
                [str(self.binary), *argv], capture_output=True, text=True, timeout=timeout, env=self.env(),
                stdin=subprocess.DEVNULL, cwd=self.config_dir,
            )
            result = AzResult(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
        except subprocess.TimeoutExpired as e:
            result = AzResult(argv, -1, _text(e.stdout), _text(e.stderr) + f"\n(timed out after {timeout} s)",
                              time.monotonic() - t0)
        self.history.append(result)
        if check and result.returncode != 0:
            raise AzError(result)
        return result

    def __call__(self, *args: str, **kw) -> Any:
        """Run az and return its parsed JSON output (None when it printed nothing)."""
        __tracebackhide__ = True
        return self.run(*args, **kw).json

    def register_cloud(self, name: str = "Mimic") -> Any:
        # The ARM URL as a user would type it (no trailing slash: with one, az requests
        # `//metadata/endpoints`, az-cli.md §1; test_metadata_endpoints covers that path).
        return self("cloud", "register", "--name", name, "--endpoint-resource-manager", self.server.arm_url)

    def login_sp(self) -> Any:
        sp = self.server.sp
        return self("login", "--service-principal", "-u", sp["clientId"], "-p", sp["clientSecret"],
                    "--tenant", self.server.tenant_id)

    def setup_sp(self, name: str = "Mimic") -> Any:
        """Register and select the cloud, then log in as the bootstrap service principal."""
        self.register_cloud(name)
        self("cloud", "set", "--name", name)
        return self.login_sp()

    def history_text(self, last: int = 8) -> str:
        out = []
        for r in self.history[-last:]:
            out.append(f"$ {r.cmdline}  -> exit {r.returncode} in {r.seconds:.1f} s")
            if r.stderr.strip():
                out.append("  stderr: " + r.stderr.strip()[-1500:].replace("\n", "\n          "))
        return "\n".join(out)


def _text(b: Any) -> str:
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


# --------------------------------------------------------------------------------------------
# ARM and Graph helpers shared by the test files (raw HTTP through `MimicServer`)
# --------------------------------------------------------------------------------------------


def arm_error(r: requests.Response, status: int, code: str | None = None) -> dict:
    """Asserts ARM's error envelope {"error":{"code","message"}} (docs/azure-behaviour.md §3), and
    `code` when given; returns `error`."""
    assert r.status_code == status, f"expected {status} {code}, got {r.status_code}: {r.text[:2000]}"
    body = r.json()
    assert isinstance(body.get("error"), dict), f"not ARM's error shape: {r.text[:2000]}"
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], err
    assert isinstance(err.get("message"), str) and err["message"], err
    if code is not None:
        assert err["code"] == code, f"expected code {code}, got {err}"
    return err


def rg_id(mimic: MimicServer, rg: str) -> str:
    return f"/subscriptions/{mimic.subscription_id}/resourceGroups/{rg}"


def vm_id(mimic: MimicServer, rg: str, name: str) -> str:
    return f"{rg_id(mimic, rg)}/providers/Microsoft.Compute/virtualMachines/{name}"


def uai_id(mimic: MimicServer, rg: str, name: str) -> str:
    # Seeds and az write user-assigned identity ids with lower-case `resourcegroups` (docs/azure-behaviour.md §3).
    return f"/subscriptions/{mimic.subscription_id}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


def deployment_id(mimic: MimicServer, rg: str, name: str) -> str:
    return f"{rg_id(mimic, rg)}/providers/Microsoft.Resources/deployments/{name}"


def make_nic(mimic: MimicServer, rg: str, name: str) -> str:
    """A NIC as a generic tracked resource (docs/ARCHITECTURE.md "Contract"): Azure needs one for a VM.
    Returns its id."""
    nic = f"{rg_id(mimic, rg)}/providers/Microsoft.Network/networkInterfaces/{name}"
    r = mimic.arm("PUT", nic, api_version=NET_API, json={"location": "westus", "properties": {
        "ipConfigurations": [{"name": "ipconfig1", "properties": {"privateIPAllocationMethod": "Dynamic"}}]}})
    assert r.status_code in (200, 201), r.text
    return nic


def vm_body(nic: str, identity: dict | None = None, name: str = "myVM", *, linux: bool = False) -> dict:
    """A VM's PUT body on the NIC `nic`: the REST seed's (seed 004: Windows Server 2016,
    Standard_D2_v2), or with `linux` a small Ubuntu 22.04 VM (Standard_B1s)."""
    if linux:
        body = {
            "location": "westus",
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B1s"},
                "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy",
                                                       "sku": "22_04-lts-gen2", "version": "latest"},
                                   "osDisk": {"createOption": "FromImage", "osType": "Linux"}},
                "osProfile": {"computerName": name, "adminUsername": "azureuser", "adminPassword": "myPassword12!x"},
                "networkProfile": {"networkInterfaces": [{"id": nic}]},
            },
        }
    else:
        body = {
            "location": "westus", "name": name,
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_D2_v2"},
                "storageProfile": {
                    "imageReference": {"sku": "2016-Datacenter", "publisher": "MicrosoftWindowsServer", "version": "latest", "offer": "WindowsServer"},
                    "osDisk": {"caching": "ReadWrite", "managedDisk": {"storageAccountType": "StandardSSD_LRS"}, "name": f"{name}osdisk", "createOption": "FromImage"},
                },
                "osProfile": {"adminUsername": "azureuser", "computerName": name, "adminPassword": "myPassword12"},
                "networkProfile": {"networkInterfaces": [{"id": nic, "properties": {"primary": True}}]},
            },
        }
    if identity is not None:
        body["identity"] = identity
    return body


def make_vm(mimic: MimicServer, rg: str, name: str, identity: dict | None = None, *, linux: bool = False,
            read_back: bool = False) -> dict:
    """A new VM `name` (`vm_body`, with `identity` when given) on a new NIC `{name}-nic`; its PUT
    answers 201 (docs/azure-behaviour.md §1). Returns the PUT's answer (provisioningState `Creating`)
    or, with `read_back`, the VM as a GET reads it afterwards."""
    nic = make_nic(mimic, rg, f"{name}-nic")
    r = mimic.arm("PUT", vm_id(mimic, rg, name), api_version=VM_API, json=vm_body(nic, identity, name, linux=linux))
    assert r.status_code == 201, r.text
    return get_vm(mimic, rg, name) if read_back else r.json()


def get_vm(mimic: MimicServer, rg: str, name: str = "myVM", *, api: str = VM_API) -> dict:
    r = mimic.arm("GET", vm_id(mimic, rg, name), api_version=api)
    assert r.status_code == 200, r.text
    return r.json()


def make_uai(mimic: MimicServer, rg: str, name: str, *, api: str = MSI_API, token: Any = _DEFAULT) -> dict:
    """A user-assigned identity `name` (docs/azure-behaviour.md §2), made with `api`, as `token`
    (`MimicServer.arm`'s); returns it."""
    r = mimic.arm("PUT", uai_id(mimic, rg, name), api_version=api, json={"location": "westus"}, token=token)
    assert r.status_code in (200, 201), r.text
    return r.json()


def assign_role(mimic: MimicServer, principal: str, role: str, scope: str, *, principal_type: str = "ServicePrincipal",
                exists_ok: bool = False) -> str:
    """Assigns the role definition `role` (a GUID) to `principal` at `scope`: 201 (docs/azure-behaviour.md
    §4); returns the assignment's id. With `exists_ok`, an identical existing assignment (Azure's 409
    RoleAssignmentExists, e.g. on VMs a module's tests share) is fine and "" is returned."""
    assignment = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    r = mimic.arm("PUT", assignment, api_version=AUTHZ_API, json={"properties": {
        "roleDefinitionId": f"/subscriptions/{mimic.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        "principalId": principal, "principalType": principal_type}})
    if exists_ok and r.status_code == 409:
        assert r.json()["error"]["code"] == "RoleAssignmentExists", r.text
        return ""
    assert r.status_code == 201, r.text
    return assignment


def wait_deployment(mimic: MimicServer, deployment: str, *, token: Any = _DEFAULT, timeout: float = 60) -> dict:
    """Polls the deployment `deployment` (its id) as `token` until it is no longer Accepted or Running
    (deployments are long-running, docs/azure-behaviour.md §3) and returns it; fails after `timeout` s."""
    end = time.monotonic() + timeout
    while True:
        r = mimic.arm("GET", deployment, api_version=DEPLOY_API, token=token)
        assert r.status_code == 200, r.text
        state = r.json()["properties"]["provisioningState"]
        if state not in ("Accepted", "Running"):
            return r.json()
        if time.monotonic() > end:
            raise AssertionError(f"deployment {deployment} still {state} after {timeout} s")
        time.sleep(0.1)


def graph(mimic: MimicServer, method: str, path: str, *, token: str | None = None, timeout: float = HTTP_TIMEOUT,
          **kw) -> requests.Response:
    """One Microsoft Graph request to `path` under Mimic's Graph URL (or a whole URL), as `token` or
    else the bootstrap service principal (Global Administrator) with a token for Mimic's Graph URL,
    the audience az asks for. `headers` are added to the Authorization header; `kw` go to requests."""
    token = token or mimic.sp_token(mimic.graph_url + "/.default")
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return mimic.http.request(method, mimic._url(mimic.graph_url, path), headers=headers, timeout=timeout, **kw)


def graph_sp(mimic: MimicServer, object_id: str) -> dict | None:
    """The directory's service principal (Microsoft Graph), or None when it does not exist."""
    r = mimic.http.get(f"{mimic.graph_url}/{GRAPH_API}/servicePrincipals/{object_id}",
                       headers={"Authorization": f"Bearer {mimic.sp_token(GRAPH_SCOPE)}"}, timeout=30)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json()


# --------------------------------------------------------------------------------------------
# JWT helpers
# --------------------------------------------------------------------------------------------


def json_dumps_compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token: str) -> tuple[dict, dict, str]:
    """(header, claims, signature) without verifying anything."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


def unsigned_jwt(header: dict, claims: dict, signature: str = "") -> str:
    return f"{b64url(json_dumps_compact(header).encode())}.{b64url(json_dumps_compact(claims).encode())}.{signature}"
