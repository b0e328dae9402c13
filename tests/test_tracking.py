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
    with pytest.raises(SystemExit):
        with StageRun("dayx_test", cfg, section="dayx") as run:
            run.log_metrics({"accuracy": 0.5}, variant="scratch_model")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
    runs = _runs(MlflowClient(tracking_store))
    assert {r.info.status for r in runs.values()} == {"KILLED"}
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the previous handler is back
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


def test_experiment_artifacts_stay_beside_the_store(tracking_store, cfg, tmp_path):
    with StageRun("dayx_test", cfg, section="dayx"):
        pass
    exp = MlflowClient(tracking_store).get_experiment_by_name("dayx-test")
    assert exp.artifact_location == (tmp_path / "mlartifacts" / "dayx-test").as_uri()
