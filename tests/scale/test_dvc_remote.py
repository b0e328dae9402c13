"""A DVC remote round trip on the smoke profile: repro and push in one copy of the project, a fresh git clone pulls
and its repro is a no-op with the same outputs; a remote folder that is gone fails naming the remote."""

import filecmp
import subprocess
import sys

import pytest

from tests.test_dvc_pipeline import _sh, project_copy  # noqa: F401 (a fixture: the project committed in a new repo)

pytestmark = pytest.mark.slow

STAGE = "day01_math"


def _transfer(action: str, repo, env) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "src.scale.dvc_remote", action, STAGE]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def pushed(project_copy, tmp_path_factory):  # noqa: F811
    """The smoke repro of day 1 committed and pushed to a local-folder remote (committed in .dvc/config)."""
    copy, env = project_copy
    remote = tmp_path_factory.mktemp("dvc-remote")
    _sh(["dvc", "exp", "run", STAGE, "-S", "profile=smoke"], copy, env)
    _sh(["dvc", "remote", "add", "-d", "shared", str(remote)], copy, env)
    _sh(["git", "add", "-A"], copy, env)
    _sh(["git", "commit", "-qm", "smoke repro of day 1, remote added"], copy, env)
    result = _transfer("push", copy, env)
    assert result.returncode == 0, result.stdout + result.stderr
    return copy, env, remote


def test_a_fresh_clone_pulls_the_outputs_and_its_repro_is_a_no_op(pushed, tmp_path):
    copy, env, remote = pushed
    assert any(remote.rglob("*")), "dvc push sent nothing"
    clone = tmp_path / "clone"
    _sh(["git", "clone", "-q", str(copy), str(clone)], tmp_path, env)
    figures = clone / "reports" / STAGE / "figures"
    assert not figures.exists()  # DVC-cached: not in git

    result = _transfer("pull", clone, env)
    assert result.returncode == 0, result.stdout + result.stderr
    repro = _sh(["dvc", "repro", STAGE], clone, env)
    assert "didn't change, skipping" in repro and "Running stage" not in repro
    pulled = sorted(path.name for path in figures.iterdir())
    assert pulled == sorted(path.name for path in (copy / "reports" / STAGE / "figures").iterdir()) and pulled
    assert filecmp.cmp(clone / "reports" / STAGE / "metrics.json", copy / "reports" / STAGE / "metrics.json")
    for name in pulled:
        assert filecmp.cmp(figures / name, copy / "reports" / STAGE / "figures" / name, shallow=False), name


def test_a_remote_folder_that_is_gone_fails_naming_the_remote(pushed, tmp_path):
    copy, env, _ = pushed
    clone = tmp_path / "clone"
    _sh(["git", "clone", "-q", str(copy), str(clone)], tmp_path, env)
    missing = tmp_path / "unmounted-disk" / "dvc"
    _sh(["dvc", "remote", "modify", "--local", "shared", "url", str(missing)], clone, env)

    result = _transfer("pull", clone, env)
    assert result.returncode != 0
    assert f"DVC remote 'shared' is the folder {missing}, which does not exist" in result.stderr
    assert "dvc remote modify shared url" in result.stderr  # and what to do


def test_no_default_remote_says_how_to_add_one(pushed, tmp_path):
    copy, env, _ = pushed
    clone = tmp_path / "clone"
    _sh(["git", "clone", "-q", str(copy), str(clone)], tmp_path, env)
    _sh(["dvc", "remote", "default", "--unset"], clone, env)

    result = _transfer("pull", clone, env)
    assert result.returncode != 0 and "no default DVC remote is set: add one with `dvc remote add -d" in result.stderr
