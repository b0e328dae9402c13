"""DVC end to end in a throwaway copy of the project: -S overrides change what runs, a second repro is a
no-op, and an edit to conf/ reaches the stage's params."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from src.paths import ROOT

pytestmark = pytest.mark.slow

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def _sh(cmd: list[str], cwd: Path, env: dict) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory):
    """The project's files as git sees them (tracked and new, minus ignored), committed in a new repo."""
    copy = tmp_path_factory.mktemp("project")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{copy / 'test-mlflow.db'}",
        "DVC_NO_ANALYTICS": "1",
    }
    env.pop("AI_MASTERY_REPORTS", None)
    _sh(["git", "init", "-q"], copy, env)
    _sh(["git", "add", "-A"], copy, env)
    _sh(["git", "commit", "-qm", "snapshot"], copy, env)
    return copy, env


def test_exp_run_set_param_changes_what_runs(project_copy):
    copy, env = project_copy
    # One stage, not the whole pipeline: the DVC and Hydra wiring is the same for every stage.
    _sh(["dvc", "exp", "run", "day01_math", "-S", "profile=smoke", "-S", "day01.least_squares.n_steps=7"], copy, env)

    params = yaml.safe_load((copy / "params.yaml").read_text())
    assert params["day01"]["least_squares"]["n_steps"] == 7 and params["profile"]["name"] == "smoke"
    metrics = json.loads((copy / "reports" / "day01_math" / "metrics.json").read_text())
    assert metrics["scratch_gradient_descent"]["steps"] == 7  # the stage really ran 7 steps

    from mlflow.tracking import MlflowClient

    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    exp = client.get_experiment_by_name("day01-math")
    parents = [r for r in client.search_runs([exp.experiment_id]) if "variant" not in r.data.tags]
    assert [r.data.params["day01.least_squares.n_steps"] for r in parents] == ["7"]


def test_second_repro_does_nothing_and_dag_shows_the_stage(project_copy):
    copy, env = project_copy
    _sh(["dvc", "repro", "day01_math"], copy, env)  # brings the stage up to date with params.yaml
    second = _sh(["dvc", "repro", "day01_math"], copy, env)
    assert "didn't change, skipping" in second and "Running stage" not in second
    assert "day01_math" in _sh(["dvc", "dag"], copy, env)
    assert "scratch_svd.reconstruction_error" in _sh(["dvc", "metrics", "show"], copy, env)


def test_edit_to_conf_reaches_the_stage_after_make_params(project_copy):
    copy, env = project_copy
    conf = copy / "conf" / "day01" / "default.yaml"
    conf.write_text(conf.read_text().replace("n_samples: 500", "n_samples: 321"))
    stale = subprocess.run(
        [sys.executable, "-m", "src.params", "--check"], cwd=copy, env=env, capture_output=True, text=True
    )
    assert stale.returncode == 1 and "stale" in stale.stdout
    _sh([sys.executable, "-m", "src.params"], copy, env)
    status = _sh(["dvc", "status"], copy, env)
    assert "day01_math" in status and "modified" in status and "day01" in status
