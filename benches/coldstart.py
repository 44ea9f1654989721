#!/usr/bin/env python3
"""Cold start to ready: time from spawning `mimic serve` to `endpoints.json` appearing.

Usage: coldstart.py MIMIC_BINARY WORK_DIR RUNS [PEER_CLI [MOTO_SERVER]]

Two cases, RUNS timed runs each (plus one untimed warm-up run, so the binary's pages are cached):
  fresh    a new, empty data directory every run: the first start creates the store, the
           tenant and principals (argon2 hash of the admin password), the signing key and the CA.
  restart  one existing data directory (made by an untimed first start), started again and again.
Every run binds 127.0.0.1 on port 0 for each listener, is stopped with SIGTERM once ready, and
must exit before the next starts. With PEER_CLI (oauth2-mock-server's CLI script), also times
the peer from spawn to its "listening on" line ("peer": [ms...]), the same way; with
MOTO_SERVER (moto's `moto_server` script), moto from spawn to accepting a TCP connection on its
port ("moto": [ms...]).
Prints one JSON object: {"fresh": [ms...], "restart": [ms...], "peer": [ms...],
"killed_by_early_sigterm": N}, N counting the stops where the server died of the SIGTERM sent
right after endpoints.json appeared instead of shutting down (its handler was not yet installed).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

BINARY, WORK, RUNS = sys.argv[1], sys.argv[2], int(sys.argv[3])
LISTENERS = ["--arm", "--login", "--graph", "--portal", "--imds", "--proxy"]
ENV = dict(os.environ, MIMIC_LOG="warn")
TIMEOUT_S = 10.0
UNCLEAN = []  # runs where SIGTERM right after endpoints.json killed the server outright


def start_once(data_dir):
    """Spawns the server, returns milliseconds until endpoints.json exists, then stops it."""
    ready = os.path.join(data_dir, "endpoints.json")
    # A file left by an earlier run that did not stop cleanly would read as an instant start.
    if os.path.exists(ready):
        os.unlink(ready)
    args = [BINARY, "serve", "--data-dir", data_dir, "--log-format", "json"]
    for flag in LISTENERS:
        args += [flag, "127.0.0.1:0"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(ready):
            if proc.poll() is not None:
                raise SystemExit(f"mimic serve exited with {proc.returncode} before it was ready ({data_dir})")
            if time.perf_counter() - t0 > TIMEOUT_S:
                raise SystemExit(f"mimic serve not ready after {TIMEOUT_S}s ({data_dir})")
            time.sleep(0.0002)
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise SystemExit(f"mimic serve did not stop within 15 s of SIGTERM ({data_dir})")
    if rc == -signal.SIGTERM:
        # SIGTERM arrived before the server had installed its handler: killed, not shut down.
        UNCLEAN.append(data_dir)
    elif rc != 0:
        raise SystemExit(f"mimic serve exited with {rc} after SIGTERM ({data_dir})")
    return elapsed_ms


def peer_once(cli):
    """Spawns `node CLI -a 127.0.0.1 -p 0`, returns milliseconds until it prints that it listens."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["node", cli, "-a", "127.0.0.1", "-p", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if "listening on" in line:
                return (time.perf_counter() - t0) * 1000.0
        raise SystemExit(f"the peer exited with {proc.wait()} before listening")
    finally:
        proc.send_signal(signal.SIGINT)  # its CLI stops on SIGINT
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_once(server):
    """Spawns `moto_server -H 127.0.0.1 -p PORT`, returns milliseconds until the port accepts."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"moto_server exited with {proc.returncode} before listening")
            if time.perf_counter() - t0 > 30:
                raise SystemExit("moto_server not listening after 30 s")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return (time.perf_counter() - t0) * 1000.0
            except OSError:
                time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    os.makedirs(WORK, exist_ok=True)
    # Warm-up (untimed): also creates the data directory the restart case reuses.
    restart_dir = os.path.join(WORK, "restart")
    start_once(restart_dir)
    fresh = [start_once(os.path.join(WORK, f"fresh-{i}")) for i in range(RUNS)]
    restart = [start_once(restart_dir) for _ in range(RUNS)]
    result = {"fresh": fresh, "restart": restart, "killed_by_early_sigterm": len(UNCLEAN)}
    if len(sys.argv) > 4:
        peer_once(sys.argv[4])  # warm-up
        result["peer"] = [peer_once(sys.argv[4]) for _ in range(RUNS)]
    if len(sys.argv) > 5:
        moto_once(sys.argv[5])  # warm-up
        result["moto"] = [moto_once(sys.argv[5]) for _ in range(RUNS)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
