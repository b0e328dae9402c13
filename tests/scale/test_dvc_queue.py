"""DVC's experiment queue on the smoke profile: two day-1 experiments queued with different settings, run by
`dvc queue start -j 2` (two background workers), each with its own metrics and its own MLflow run, at once."""

import json
import subprocess
import sys
import time

import psutil
import pytest
from mlflow.tracking import MlflowClient

from tests.scale.conftest import stage_runs
from tests.test_dvc_pipeline import _sh, project_copy  # noqa: F401 (a fixture: the project committed in a new repo)

pytestmark = pytest.mark.slow

STAGE = "day01_math"
N_STEPS = {"steps-7": 7, "steps-9": 9}  # experiment name -> day01.least_squares.n_steps (smoke: too few to converge)
TIMEOUT_S = 120  # both finish in 31-45 s here


def _queue_status(copy, env) -> dict[str, str]:
    """{experiment name: Queued | Running | Success | Failed} from `dvc queue status`'s table."""
    rows = _sh(["dvc", "queue", "status"], copy, env).splitlines()
    names = set(N_STEPS)
    return {cells[1]: cells[-1] for cells in (row.split() for row in rows) if len(cells) > 2 and cells[1] in names}


def _logs(status: dict[str, str], copy, env) -> str:
    """`dvc queue logs` of each experiment that did not succeed (its stage's output)."""
    failed = [name for name, state in status.items() if state != "Success"]
    logs = [
        subprocess.run(["dvc", "queue", "logs", name], cwd=copy, env=env, capture_output=True, text=True)
        for name in failed
    ]
    return f"{status}\n" + "\n".join(
        f"--- {name}:\n{log.stdout[-3000:]}{log.stderr[-1000:]}" for name, log in zip(failed, logs, strict=True)
    )


def _stop_workers(copy, env) -> None:
    """`dvc queue stop --kill`, then by pid whatever still runs in this copy of the project: the workers (cwd: the
    copy) and the experiments they run (cwd: .dvc/tmp/exps/... in it), so a failed or timed-out test leaves none."""
    subprocess.run(["dvc", "queue", "stop", "--kill"], cwd=copy, env=env, capture_output=True, timeout=60)
    time.sleep(2)
    left = []
    for process in psutil.process_iter(["cwd"]):
        cwd = process.info["cwd"] or ""
        if cwd == str(copy) or cwd.startswith(f"{copy}/"):
            left.append(process)
    for process in left:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(left, timeout=10)


def test_the_queue_runs_two_smoke_experiments_in_parallel_each_with_its_own_run(project_copy, tmp_path):  # noqa: F811
    copy, env = project_copy
    env = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    # Parallel workers on a fresh sqlite store race through MLflow's first migration: create it once first.
    _sh([sys.executable, "-m", "src.scale.launch", STAGE, "--prepare-store"], copy, env)
    for name, n_steps in N_STEPS.items():
        settings = ["-S", "profile=smoke", "-S", f"day01.least_squares.n_steps={n_steps}"]
        _sh(["dvc", "exp", "run", "--queue", "-n", name, STAGE, *settings], copy, env)
    assert set(_queue_status(copy, env).values()) == {"Queued"}

    started, wall = time.monotonic(), time.time()
    try:
        # To a file, not a pipe: the workers it leaves in the background would hold a pipe open until they end.
        with open(tmp_path / "queue-start.log", "w") as log:
            start = subprocess.run(
                ["dvc", "queue", "start", "-j", "2"], cwd=copy, env=env, stdout=log, stderr=log, timeout=60
            )
        assert start.returncode == 0, (tmp_path / "queue-start.log").read_text()
        while (status := _queue_status(copy, env)) and not all(s in {"Success", "Failed"} for s in status.values()):
            assert time.monotonic() - started < TIMEOUT_S, f"the queue did not finish in {TIMEOUT_S} s: {status}"
            time.sleep(5)
        elapsed = time.monotonic() - started
        assert status == {name: "Success" for name in N_STEPS}, _logs(status, copy, env)
    finally:
        _stop_workers(copy, env)

    shown = json.loads(_sh(["dvc", "exp", "show", "--json"], copy, env))
    experiments = {
        rev["name"]: rev["data"] for commit in shown for exp in commit["experiments"] or [] for rev in exp["revs"]
    }
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    runs = {}
    for name, n_steps in N_STEPS.items():
        data = experiments[name]
        assert data["params"]["params.yaml"]["data"]["day01"]["least_squares"]["n_steps"] == n_steps
        assert data["params"]["params.yaml"]["data"]["profile"]["name"] == "smoke"
        metrics = data["metrics"][f"reports/{STAGE}/metrics.json"]["data"]
        assert metrics["scratch_gradient_descent"]["steps"] == n_steps  # each ran its own setting
        parent, variants = stage_runs(client, n_steps)  # its own MLflow run, in the store under tmp_path
        assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
        logged = variants["scratch_gradient_descent"].data.metrics
        assert {key: logged.get(key) for key in metrics["scratch_gradient_descent"]} == pytest.approx(
            metrics["scratch_gradient_descent"]
        )
        runs[name] = parent
    seven, nine = (experiments[name]["metrics"][f"reports/{STAGE}/metrics.json"]["data"] for name in N_STEPS)
    assert seven["scratch_gradient_descent"]["final_mse"] != nine["scratch_gradient_descent"]["final_mse"]

    first, second = runs.values()  # in parallel: two worker processes, each started before the other ended
    assert first.data.tags["process"] != second.data.tags["process"]
    overlap = min(first.info.end_time, second.info.end_time) - max(first.info.start_time, second.info.start_time)
    print(f"dvc queue start -j 2: both done in {elapsed:.1f} s; the two runs overlapped {overlap / 1000:.1f} s")
    for name, run in runs.items():
        print(
            f"  {name}: run from +{run.info.start_time / 1000 - wall:.1f} s to +{run.info.end_time / 1000 - wall:.1f} s"
        )
    assert overlap > 0, "the queue ran the two experiments one after the other"
