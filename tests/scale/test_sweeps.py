"""Sweeps beyond one process, for real: Hydra's joblib launcher (jobs in parallel processes) and a local Ray cluster
(`ray start --head` on 127.0.0.1, started here, stopped by process id) running each job of a day-1 sweep as a task
whose MLflow run lands on the shared PostgreSQL-backed tracking server."""

import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest
from mlflow.tracking import MlflowClient

from src.paths import ROOT
from src.production.server_process import free_port
from src.scale import ray_sweep
from tests.scale.conftest import assert_recorded

pytestmark = pytest.mark.slow


def test_joblib_launcher_runs_the_jobs_in_parallel_each_with_its_own_run(tracking_store, tmp_path):
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "src.scale.launch", "day01_math", "--multirun"]
    result = subprocess.run(
        [
            *command,
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={sweep}",
            "profile=smoke",
            "day01.least_squares.n_steps=20,30",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day01-math")
    parents = [r for r in client.search_runs([experiment.experiment_id]) if "variant" not in r.data.tags]
    assert sorted(r.data.params["day01.least_squares.n_steps"] for r in parents) == ["20", "30"]
    assert all(r.info.status == "FINISHED" for r in parents)
    first, second = parents  # in parallel: two worker processes, and each started before the other ended
    assert first.data.tags["process"] != second.data.tags["process"]
    assert first.info.start_time < second.info.end_time and second.info.start_time < first.info.end_time
    assert {r.data.tags["hydra_overrides"] for r in parents} == {
        "profile=smoke day01.least_squares.n_steps=20",
        "profile=smoke day01.least_squares.n_steps=30",
    }
    for job in ("0", "1"):  # each job's files in its own folder, none in the reports DVC owns
        assert (sweep / job / "reports" / "day01_math" / "metrics.json").exists()
    assert not (tmp_path / "reports" / "day01_math").exists()


@pytest.fixture(scope="module")
def ray_cluster():
    """A one-node Ray cluster on 127.0.0.1 (2 CPUs), in its own process group; afterwards no Ray process is left."""
    temp = Path(tempfile.mkdtemp(prefix="ray-"))  # short: Ray's Unix socket paths must fit in 107 bytes
    port = free_port()
    head = ray_sweep.start_cluster(port, num_cpus=2, temp_dir=temp, log_path=temp / "head.log")
    started = []
    try:
        handler = signal.getsignal(signal.SIGTERM)
        ray_sweep.wait_for_cluster(f"127.0.0.1:{port}", head)  # connects a driver (ray.init) in this process
        assert signal.getsignal(signal.SIGTERM) is handler, "ray.init's SIGTERM handler was left in this process"
        started = psutil.Process(head.pid).children(recursive=True)
        yield f"127.0.0.1:{port}"
    finally:
        ray_sweep.stop_cluster(head, grace=5)
        shutil.rmtree(temp, ignore_errors=True)
    left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"Ray processes left running: {[(p.pid, p.name()) for p in left]}"


def test_a_ray_sweep_runs_each_job_as_a_task_and_both_land_on_the_tracking_server(ray_cluster, server, tmp_path):
    """Two jobs at once (2 CPUs, 1 per job) write to the PostgreSQL-backed server: nothing of either is lost."""
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "src.scale.ray_sweep", "run", "--address", ray_cluster, "--sweep-dir", str(sweep)]
    command += ["day01_math", "profile=smoke", "day01.least_squares.n_steps=50,70"]
    env = {**_clean_env(), "MLFLOW_TRACKING_URI": server.url, "AI_MASTERY_REPORTS": str(tmp_path / "reports")}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.count(" ok ") == 2, result.stdout

    for job, n_steps in ((0, 50), (1, 70)):
        parent = assert_recorded(server, sweep / str(job) / "reports" / "day01_math" / "metrics.json", n_steps)
        assert parent.data.tags["hydra_overrides"] == f"profile=smoke day01.least_squares.n_steps={n_steps}"
    assert not (tmp_path / "reports" / "day01_math").exists()  # the sweep never wrote into DVC's outputs


def _clean_env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING_URI", "AI_MASTERY_"))}


def test_an_optuna_search_records_its_best_value_and_a_run_per_trial(tracking_store, tmp_path):
    """hydra-optuna-sweeper (TPE, seeded) searching day 1's gradient-descent step size on the smoke profile: the
    study's best value is the smallest objective any trial's metrics.json holds, each trial has its MLflow run."""
    import json

    import yaml

    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "src.scale.launch", "day01_math", "--objective", OBJECTIVE, "--multirun"]
    command += ["hydra/sweeper=optuna", "hydra.sweeper.direction=minimize", "hydra.sweeper.n_trials=4"]
    command += ["hydra.sweeper.sampler.seed=0", f"hydra.sweep.dir={sweep}", "profile=smoke"]
    command += ["day01.least_squares.n_steps=30", "day01.least_squares.lr=interval(0.01,0.5)"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    study = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    variant, metric = OBJECTIVE.split(".")
    trials = [json.loads(p.read_text())[variant][metric] for p in sweep.glob("*/reports/day01_math/metrics.json")]
    assert len(trials) == 4 and study["best_value"] == pytest.approx(min(trials))
    assert 0.01 <= study["best_params"]["day01.least_squares.lr"] <= 0.5

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day01-math")
    parents = [r for r in client.search_runs([experiment.experiment_id]) if "variant" not in r.data.tags]
    assert len({r.data.params["day01.least_squares.lr"] for r in parents}) == 4


OBJECTIVE = "scratch_gradient_descent.final_mse"
