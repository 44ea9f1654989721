"""The suite's own set-up, as a newcomer meets it: the throwaway PostgreSQL cluster that
`scripts/test` starts must work from a checkout in a directory only its owner may enter (root's
home is 0700 on most Linux systems, and so is any `mktemp -d` directory).

As root the cluster belongs to Debian's `postgres` user (initdb refuses root), who cannot enter
such a checkout; scripts/test therefore keeps the cluster in a directory of its own under the
system's temporary directory. These tests copy `scripts/` into a private (0700) checkout and run
the cluster script there exactly as scripts/test does: as root, and as an ordinary account.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
    reason="PostgreSQL server binaries not installed (scripts/test's PostgreSQL stage installs them as root)")


def private_checkout(owner_uid: int | None = None) -> tuple[Path, Path]:
    """A 0700 directory holding a copy of the checkout's scripts, as a clone in a private home
    would; returns (the private directory, the checkout inside it)."""
    home = Path(tempfile.mkdtemp(prefix="mimic-private-home-"))
    assert (home.stat().st_mode & 0o777) == 0o700
    checkout = home / "mimic"
    shutil.copytree(REPO / "scripts", checkout / "scripts")
    if owner_uid is not None:
        for p in [home, *home.rglob("*")]:
            os.chown(p, owner_uid, -1)
    return home, checkout


def run_cluster(checkout: Path, user: str | None = None) -> None:
    """scripts/test's PostgreSQL stage, with the same commands: a cluster in a directory of its
    own, used, then stopped and removed. `user`: run it as that account instead of the current one."""
    script = ('set -e; eval "$(scripts/postgres-test-cluster.sh start)"; trap "scripts/postgres-test-cluster.sh stop" EXIT; '
              'echo "$MIMIC_TEST_POSTGRES_DIR"; psql "$MIMIC_TEST_POSTGRES" -Atqc "select 40 + 2"')
    cmd = ["bash", "-c", script]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    p = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    pg_dir, answer = p.stdout.split()
    assert answer == "42"
    # outside the private directory, and gone afterwards
    assert not Path(pg_dir).is_relative_to(checkout.parent)
    assert not Path(pg_dir).exists()


def test_postgres_cluster_starts_from_a_checkout_in_a_private_directory():
    home, checkout = private_checkout()
    try:
        run_cluster(checkout)
    finally:
        shutil.rmtree(home)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another account")
def test_postgres_cluster_starts_for_an_ordinary_user_in_a_private_directory():
    # Debian's `postgres` account stands in for an ordinary user: the script then runs initdb as
    # that user itself, in its own private checkout.
    import pwd
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        pytest.skip("no postgres account")
    home, checkout = private_checkout(owner_uid=uid)
    try:
        run_cluster(checkout, user="postgres")
    finally:
        shutil.rmtree(home)
