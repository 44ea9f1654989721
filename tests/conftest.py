"""pytest fixtures for the real-client tests (see tests/README.md).

* `mimic`: one `mimic serve` per xdist worker (session scope), on free ports, own data dir.
* `mimic_factory`: for a test that needs its own server (restart, clock games); stopped at teardown.
* `seed_server`: a server of the test's own from `mimic_factory`, for the seeds' verbatim names.
* `az`: the venv's az with a fresh private config dir, pointed at `mimic`, not logged in.
* `az_sp`: the same after `az cloud register/set` + `az login --service-principal`.

On failure the report gets the tail of every involved server's log and the last az commands.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The shared helpers' asserts (arm_error, make_vm, ...) report like the tests' own.
pytest.register_assert_rewrite("mimic_harness")

from mimic_harness import Az, MimicServer  # noqa: E402 (after register_assert_rewrite)


class MimicFactory:
    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self._tmp = tmp_path_factory
        self.servers: list[MimicServer] = []

    def __call__(self, *, start: bool = True, env: dict | None = None, **kw) -> MimicServer:
        server = MimicServer(self._tmp.mktemp("mimic-own"), **kw)
        self.servers.append(server)
        if start:
            server.start(env=env)
        return server

    def stop_all(self) -> None:
        for s in self.servers:
            s.stop()


@pytest.fixture(scope="session")
def mimic(tmp_path_factory: pytest.TempPathFactory) -> MimicServer:
    server = MimicServer(tmp_path_factory.mktemp("mimic"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mimic_factory(tmp_path_factory: pytest.TempPathFactory) -> MimicFactory:
    factory = MimicFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture
def seed_server(mimic_factory) -> MimicServer:
    """A server of the test's own, so the seeds' names (myResourceGroup, myVM) are used verbatim."""
    return mimic_factory()


@pytest.fixture
def az(mimic: MimicServer, tmp_path: Path) -> Az:
    config = tmp_path / "azure-config"
    config.mkdir()
    return Az(mimic, config)


@pytest.fixture
def az_sp(az: Az) -> Az:
    az.setup_sp()
    return az


@pytest.fixture
def client_ca(mimic: MimicServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Trust Mimic's CA the way a user of requests-based SDKs does (REQUESTS_CA_BUNDLE)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(mimic.ca_path))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return mimic.ca_path


# ---- failure diagnostics ------------------------------------------------------------------


def _involved(item: pytest.Item) -> tuple[list[MimicServer], list[Az]]:
    servers: list[MimicServer] = []
    azs: list[Az] = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, MimicServer):
            servers.append(value)
        elif isinstance(value, MimicFactory):
            servers.extend(value.servers)
        elif isinstance(value, Az):
            azs.append(value)
            servers.append(value.server)
    unique_servers = list({id(s): s for s in servers}.values())
    unique_azs = list({id(a): a for a in azs}.values())
    return unique_servers, unique_azs


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    servers, azs = _involved(item)
    lines = int(os.environ.get("MIMIC_LOG_TAIL", "60"))
    for s in servers:
        report.sections.append((f"mimic serve log (last {lines} lines of {s.log_path})", s.log_tail(lines)))
    for a in azs:
        if a.history:
            report.sections.append((f"az commands ({a.config_dir})", a.history_text()))
