"""The stage contract: runs, nested variant runs, tags, params, metrics.json only on success, FAILED on crash."""

import json
import os
import signal
import time

import matplotlib.pyplot as plt
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from src.tracking import StageRun, config_digest, experiment_name, flatten


@pytest.fixture
def cfg():
    return OmegaConf.create(
        {"seed": 3, "profile": {"name": "smoke", "device": "cpu"}, "dayx": {"lr": 0.1, "sizes": [1, 2]}}
    )


def _runs(client, experiment="dayx-test"):
    exp = client.get_experiment_by_name(experiment)
    return {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}


def test_flatten_and_digest():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": None}) == {"a.b": "1", "a.c": "[1, 2]", "d": "None"}
    assert config_digest({"a": 1, "b": 2}) == config_digest({"b": 2, "a": 1})
    assert config_digest({"a": 1}) != config_digest({"a": 2})
    assert experiment_name("day04_deep_learning") == "day04-deep-learning"


def test_successful_stage_records_everything(tracking_store, cfg, tmp_path):
    with StageRun("dayx_test", cfg, section="dayx") as run:
        run.log_metrics({"accuracy": 0.9}, variant="scratch_model")
        run.log_metrics({"accuracy": 0.95}, variant="torch_model")
        run.log_series("loss", [3.0, 2.0, 1.0], variant="scratch_model")
        fig, ax = plt.subplots()
        ax.plot([1, 2])
        run.log_figure(fig, "curve")
        run.write_plot_data("curve", [{"step": 0, "loss": 3.0}, {"step": 1, "loss": 2.0}])

    out = tmp_path / "reports" / "dayx_test"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["scratch_model"]["accuracy"] == 0.9 and metrics["torch_model"]["accuracy"] == 0.95
    assert metrics["stage"]["wall_seconds"] > 0
    assert (out / "figures" / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "plots" / "curve.csv").read_text().splitlines() == ["step,loss", "0,3.0", "1,2.0"]

    client = MlflowClient(tracking_store)
    runs = _runs(client)
    parent, child = runs["dayx_test"], runs["scratch_model"]
    assert parent.info.status == "FINISHED" and child.info.status == "FINISHED"
    assert parent.data.params == {
        "dayx.lr": "0.1",
        "dayx.sizes": "[1, 2]",
        "seed": "3",
        "profile.name": "smoke",
        "profile.device": "cpu",
    }
    assert parent.data.tags["dvc_stage"] == "dayx_test" and parent.data.tags["profile"] == "smoke"
    assert len(parent.data.tags["config_digest"]) == 12 and parent.data.tags["git_commit"]
    assert child.data.tags["variant"] == "scratch_model"
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    history = client.get_metric_history(child.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 3.0), (1, 2.0), (2, 1.0)]
    artifacts = [a.path for a in client.list_artifacts(parent.info.run_id, "figures")]
    assert artifacts == ["figures/curve.png"]


def test_failing_stage_is_marked_failed_and_writes_no_metrics(tracking_store, cfg, tmp_path):
    out = tmp_path / "reports" / "dayx_test"
    with pytest.raises(RuntimeError, match="boom"):
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.5}, variant="scratch_model")
            raise RuntimeError("boom")

    assert not (out / "metrics.json").exists()
    assert not list(out.glob("**/*.tmp"))
    runs = _runs(MlflowClient(tracking_store))
    assert runs["dayx_test"].info.status == "FAILED"
    assert runs["scratch_model"].info.status == "FAILED"
    assert runs["dayx_test"].data.tags["error"] == "RuntimeError: boom"


def test_sigterm_ends_the_runs_killed(tracking_store, cfg, tmp_path):
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit):
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.5}, variant="scratch_model")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
    runs = _runs(MlflowClient(tracking_store))
    assert {r.info.status for r in runs.values()} == {"KILLED"}
    assert signal.getsignal(signal.SIGTERM) is previous  # the previous handler is back
    assert not (tmp_path / "reports" / "dayx_test" / "metrics.json").exists()


def test_failure_keeps_the_previous_complete_metrics(tracking_store, cfg, tmp_path):
    with StageRun("dayx_test", cfg, section="dayx") as run:
        run.log_metrics({"accuracy": 0.9}, variant="good")
    metrics_file = tmp_path / "reports" / "dayx_test" / "metrics.json"
    before = metrics_file.read_text()
    with pytest.raises(KeyError):
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.1}, variant="bad")
            raise KeyError("missing")
    assert metrics_file.read_text() == before


def test_store_failing_while_closing_the_runs_keeps_the_previous_metrics(tracking_store, cfg, tmp_path, monkeypatch):
    """Before: metrics.json was written, then closing the runs failed (the store died): the stage failed but left
    its new metrics.json for DVC to find."""
    import src.tracking

    with StageRun("dayx_test", cfg, section="dayx") as run:
        run.log_metrics({"accuracy": 0.9}, variant="good")
    metrics_file = tmp_path / "reports" / "dayx_test" / "metrics.json"
    before = metrics_file.read_text()
    real_close = src.tracking.StageRun._close

    def store_dies_on_finish(self, status, *exc):
        if status == "FINISHED":
            raise ConnectionError("the tracking store went away")
        return real_close(self, status, *exc)

    monkeypatch.setattr(src.tracking.StageRun, "_close", store_dies_on_finish)
    with pytest.raises(ConnectionError):
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.1}, variant="good")
    assert metrics_file.read_text() == before
    assert not list(metrics_file.parent.glob(".*.tmp"))
    client = MlflowClient(tracking_store)
    runs = client.search_runs([client.get_experiment_by_name("dayx-test").experiment_id])
    assert [r.info.status for r in runs].count("FAILED") == 2  # the second start's stage run and its variant


def test_experiment_artifacts_stay_beside_the_store(tracking_store, cfg, tmp_path):
    with StageRun("dayx_test", cfg, section="dayx"):
        pass
    exp = MlflowClient(tracking_store).get_experiment_by_name("dayx-test")
    assert exp.artifact_location == (tmp_path / "mlartifacts" / "dayx-test").as_uri()


def test_a_swallowed_sigterm_still_fails_the_stage(tracking_store, cfg, tmp_path):
    """Before: a SystemExit raised inside a weakref callback was dropped; the stage exited 0, wrote metrics.json
    and marked its run FINISHED."""
    with pytest.raises(SystemExit) as caught:
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.5}, variant="scratch_model")
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except SystemExit:
                pass  # what a callback that swallows exceptions does
    assert caught.value.code == 143
    assert {r.info.status for r in _runs(MlflowClient(tracking_store)).values()} == {"KILLED"}
    assert not (tmp_path / "reports" / "dayx_test" / "metrics.json").exists()


def test_sigterm_while_closing_the_runs_still_closes_them(tracking_store, cfg, tmp_path, monkeypatch):
    """Before: the handler was restored before metrics.json and the runs were closed; a signal then killed the
    process with the runs left RUNNING."""
    import src.tracking

    real_write = src.tracking.atomic_io.write_json

    def write_then_get_killed(path, data):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)  # the signal arrives mid wind-down
        return real_write(path, data)

    monkeypatch.setattr(src.tracking.atomic_io, "write_json", write_then_get_killed)
    with pytest.raises(SystemExit) as caught:
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.5}, variant="scratch_model")
    assert caught.value.code == 143
    assert {r.info.status for r in _runs(MlflowClient(tracking_store)).values()} == {"KILLED"}
    json.loads((tmp_path / "reports" / "dayx_test" / "metrics.json").read_text())  # whole, not half


def test_store_lost_mid_run_reports_the_original_error(tracking_store, cfg, tmp_path):
    """Before: deleting mlflow.db mid-run surfaced as 'attempt to write a readonly database' from closing the
    run, hiding the error that stopped the stage."""
    with pytest.raises(ValueError, match="the real failure"):
        with StageRun("dayx_test", cfg, section="dayx"):
            (tmp_path / "mlflow.db").unlink()
            raise ValueError("the real failure")


def test_unreachable_store_fails_before_any_work(cfg, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    started = time.perf_counter()
    with pytest.raises(SystemExit, match=r"tracking store error: MLflow server http://127\.0\.0\.1:9"):
        with StageRun("dayx_test", cfg, section="dayx"):
            raise AssertionError("the stage's work must not start")
    assert time.perf_counter() - started < 10


def test_open_experiment_takes_the_id_when_another_process_created_it_first(tracking_store):
    """Parallel sweep jobs on a fresh store: both see no experiment, both create it; the loser uses the winner's."""
    from src.tracking import open_experiment

    client = MlflowClient(tracking_store)
    created = client.create_experiment("dayx-race")

    class SawNothingYet:  # get_experiment_by_name ran before the other process's create_experiment
        def __init__(self):
            self.first = True

        def get_experiment_by_name(self, name):
            if self.first:
                self.first = False
                return None
            return client.get_experiment_by_name(name)

        def create_experiment(self, name, artifact_location=None):
            return client.create_experiment(name, artifact_location)  # fails: the name is taken

    assert open_experiment(SawNothingYet(), "dayx_race", tracking_store) == created
