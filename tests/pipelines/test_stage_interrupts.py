"""SIGTERM at random moments of a real smoke stage: every time the stage exits non-zero (unless it had already
finished), metrics.json is the old or the new one, whole, and no MLflow run is left RUNNING.

AI_MASTERY_KILLS sets how many kills (the closing note's figure is 20; `make test` runs 6 to stay quick).
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

from mlflow.tracking import MlflowClient

from src.paths import ROOT

KILLS = int(os.environ.get("AI_MASTERY_KILLS", "6"))
STAGE = "day01_math"


def start_stage():
    return subprocess.Popen(
        [sys.executable, "-m", f"pipelines.{STAGE}", "profile=smoke"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_at_random_moments_never_leaves_a_mess(tracking_store, tmp_path):
    metrics_file = tmp_path / "reports" / STAGE / "metrics.json"
    started = time.perf_counter()
    first = start_stage()
    assert first.wait(timeout=300) == 0, first.stderr.read()
    duration = time.perf_counter() - started
    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name(STAGE.replace("_", "-")).experiment_id

    rng = random.Random(20261130)
    outcomes = []
    for _ in range(KILLS):
        before = metrics_file.read_text()
        stage = start_stage()
        time.sleep(rng.uniform(0.2, duration * 1.05))  # anywhere from start-up to the wind-down
        finished_first = stage.poll() is not None
        for _ in range(rng.choice([1, 2, 3])):  # repeated signals, as an impatient user or a CI runner sends
            if stage.poll() is None:
                stage.send_signal(signal.SIGTERM)
                time.sleep(rng.uniform(0.0, 0.3))
        code = stage.wait(timeout=120)
        stderr = stage.stderr.read()
        outcomes.append(code)
        statuses = [r.info.status for r in client.search_runs([experiment])]
        assert "RUNNING" not in statuses, f"exit {code}; a run left RUNNING\n{stderr[-2000:]}"
        after = metrics_file.read_text()
        json.loads(after)  # whole, never half-written
        if code == 0:  # only when it had finished its work: then metrics.json is the new one
            assert finished_first or after != before, "exit 0 after SIGTERM without finishing its work"
        # exit != 0: old metrics.json, or the new one when the signal came after it was written (wind-down)
        assert not list(metrics_file.parent.rglob(".*.tmp")), "a temporary file was left in the outputs"
    assert any(code != 0 for code in outcomes), f"no kill landed while the stage ran: {outcomes}"
