"""A newcomer's first hour: one server per data directory, client commands that say
what to do when the server is gone, a busy port found before anything is created, a readable
terminal, and quiet logs."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess

import pytest

from mimic_harness import SURFACES, MimicServer, _clean_env


def serve_cmd(server: MimicServer, **ports: str) -> list[str]:
    cmd = [str(server.binary), "serve", "--data-dir", str(server.data_dir)]
    for s in SURFACES:
        cmd += [f"--{s}", ports.get(s, "127.0.0.1:0")]
    return cmd


def run(cmd: list[str], env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=_clean_env({"MIMIC_LOG_FORMAT": "text", **(env or {})}))


def test_second_serve_on_the_same_directory_refuses_and_leaves_the_first_alone(mimic_factory):
    first = mimic_factory()
    endpoints_before = (first.data_dir / "endpoints.json").read_text()
    # A busy port: what made the second server delete the first one's endpoints.json.
    busy_port = first.arm_url.rsplit(":", 1)[1]
    for ports in ({"arm": f"127.0.0.1:{busy_port}"}, {}):
        p = run(serve_cmd(first, **ports))
        assert p.returncode != 0
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        assert len(lines) == 1, p.stderr
        assert f"PID {first.proc.pid}" in lines[0] and str(first.data_dir) in lines[0], lines[0]
        assert p.stdout == ""
    assert (first.data_dir / "endpoints.json").read_text() == endpoints_before
    assert first.running()
    env = first.mimic_cli("env", "--output", "json")
    assert env.returncode == 0, env.stderr
    r = first.arm("GET", f"/subscriptions/{first.subscription_id}/resourcegroups", api_version="2021-04-01")
    assert r.status_code == 200


def test_after_sigkill_client_commands_explain_the_stale_state(mimic_factory):
    server = mimic_factory()
    server.kill()
    assert (server.data_dir / "endpoints.json").exists()  # what a killed server leaves
    dd = ["--data-dir", str(server.data_dir)]
    for args in (["env", *dd], ["admin", *dd, "sp", "create", "--name", "x"], ["vm", "run", *dd, "rg/vm", "--", "true"]):
        p = run([str(server.binary), *args])
        assert p.returncode != 0, (args, p.stdout)
        assert p.stdout == ""
        assert "stale" in p.stderr and "mimic serve" in p.stderr and str(server.data_dir) in p.stderr, (args, p.stderr)
        assert "os error" not in p.stderr
    # Started again, the same data directory works.
    server.start()
    assert server.mimic_cli("env").returncode == 0


def test_busy_port_fails_before_bootstrap(mimic_factory, tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        port = holder.getsockname()[1]
        server = mimic_factory(start=False)
        p = run(serve_cmd(server, proxy=f"127.0.0.1:{port}"))
        assert p.returncode != 0
        assert f"127.0.0.1:{port}" in p.stderr and "--proxy" in p.stderr, p.stderr
        assert p.stdout == "", "no secrets printed"
        assert not (server.data_dir / "bootstrap.json").exists()
        assert not (server.data_dir / "mimic.db").exists()
    finally:
        holder.close()


def test_ready_line_lists_every_listener(mimic_factory):
    server = mimic_factory()
    ready = [l for l in server.log_path.read_text().splitlines() if "mimic is ready" in l]
    assert len(ready) == 1
    for s in SURFACES:
        assert f"{s}={server.endpoints[s]}" in ready[0], (s, ready[0])


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_format_flag(mimic_factory, fmt):
    server = mimic_factory(extra_args=["--log-format", fmt])
    lines = [l for l in server.log_path.read_text().splitlines() if "mimic is ready" in l]
    assert lines
    if fmt == "json":
        record = json.loads(lines[0])
        assert record["fields"]["message"] == "mimic is ready" and record["fields"]["proxy"] == server.proxy_url
    else:
        assert not lines[0].lstrip().startswith("{") and " INFO " in lines[0]


def test_json_logs_when_stderr_is_not_a_terminal(mimic_factory):
    server = mimic_factory(start=False)
    env = _clean_env()
    env.pop("MIMIC_LOG_FORMAT", None)
    p = subprocess.Popen(serve_cmd(server), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = p.stderr.readline()
        assert json.loads(first)["level"] in ("INFO", "WARN"), first
    finally:
        p.terminate()
        p.wait(10)


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
@pytest.mark.parametrize("level", [None, "warn", "info,rustls=warn"])
def test_no_illegal_sni_lines_after_an_ip_sni_client(mimic_factory, level):
    """Clients that send an IP address as SNI (Node, OpenSSL-based tools) made rustls warn once
    per connection, also under an explicit MIMIC_LOG level; only a filter naming rustls shows it
    (which also proves this client sends one)."""
    server = mimic_factory(env={"MIMIC_LOG": level} if level else None)
    host, port = server.arm_url.removeprefix("https://").rsplit(":", 1)
    for _ in range(3):
        subprocess.run(["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", "127.0.0.1",
                        "-CAfile", str(server.ca_path)], input="", capture_output=True, text=True, timeout=20)
    r = server.arm("GET", f"/subscriptions/{server.subscription_id}/resourcegroups", api_version="2021-04-01")
    assert r.status_code == 200
    log = server.log_path.read_text()
    assert ("Illegal SNI" in log) == ("rustls" in (level or "")), log[-2000:]
