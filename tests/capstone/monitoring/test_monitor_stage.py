"""The monitor stage end to end under profile=smoke, with the tiny TF-IDF champion in the test's own store:
a replay of in-distribution traffic shows no drift, non-issue text does; live mode reads a service log."""

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import pipelines.monitor as monitor
from src.capstone.data import TRAIN_FILE, load_issues
from src.capstone.prediction_log import PredictionLog
from src.config import ConfigError, validate
from src.data import verified_path


@pytest.fixture
def capstone_outputs(tmp_path, tiny_champion):
    """What the day10_capstone stage hands the monitor: reference_predictions.csv (every training issue with the
    champion's predictions) and champion.json. Returns Hydra overrides pointing the monitor at them."""
    import mlflow

    model_uri, version = tiny_champion
    issues = load_issues(verified_path(TRAIN_FILE))
    predicted = mlflow.pyfunc.load_model(model_uri).predict(issues[["title", "body"]])
    reference = issues[["repo", "label", "title", "body"]].assign(prediction=predicted.pop("label"), **predicted)
    reference.to_csv(tmp_path / "reference_predictions.csv", index=False)
    champion = {"model_uri": model_uri, "version": version, "metric": 0.5, "promoted": True}
    (tmp_path / "champion.json").write_text(json.dumps(champion))
    return [
        f"monitoring.reference_file={tmp_path / 'reference_predictions.csv'}",
        f"monitoring.champion_file={tmp_path / 'champion.json'}",
        f"monitoring.replay.log_dir={tmp_path / 'replay_logs'}",
    ]


def _drifted_share(report_json) -> tuple[float, float]:
    """(share of drifted columns, the share that means drift), read from Evidently's own JSON report."""
    metrics = json.loads(report_json.read_text())["metrics"]
    count = next(m for m in metrics if m["config"]["type"].endswith(":DriftedColumnsCount"))
    return count["value"]["share"], count["config"]["drift_share"]


@pytest.mark.slow
def test_replay_finds_no_drift_in_distribution_and_drift_on_non_issue_text(
    tracking_store, smoke_config, capstone_outputs, tmp_path
):
    monitor.main(smoke_config(*capstone_outputs))

    out = tmp_path / "reports" / "monitoring"
    share, threshold = _drifted_share(out / "json" / "in_distribution_drift.json")
    assert share < threshold  # held-out training issues look like the reference
    share, threshold = _drifted_share(out / "json" / "non_issue_drift.json")
    assert share >= threshold  # Shakespeare does not
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["in_distribution"]["drift_detected"] == 0 and metrics["non_issue"]["drift_detected"] == 1
    assert 0 <= metrics["in_distribution"]["macro_f1"] <= 1  # feedback labels -> a quality report
    assert "macro_f1" not in metrics["non_issue"]  # no labels for non-issue text
    for stream in ("in_distribution", "one_repo", "non_issue"):
        assert (out / "html" / f"{stream}_drift.html").stat().st_size > 10_000
        assert (tmp_path / "replay_logs" / stream / "predictions.jsonl").exists()
    scores = pd.read_csv(out / "plots" / "drift_scores.csv")
    assert set(scores["stream"]) == {"in_distribution", "one_repo", "non_issue"}
    assert {"text_length", "code_share", "prediction", "proba_bug"} <= set(scores["column"])

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("monitor")
    (parent,) = [r for r in client.search_runs([experiment.experiment_id]) if "variant" not in r.data.tags]
    assert parent.info.status == "FINISHED" and parent.data.params["monitoring.source"] == "replay"
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert figures == {"figures/drift_matrix.png", "figures/distributions.png"}
    assert "evidently/html/non_issue_drift.html" in {
        a.path for a in client.list_artifacts(parent.info.run_id, "evidently/html")
    }


@pytest.mark.slow
def test_live_mode_reports_the_service_log_with_quality_from_feedback(
    tracking_store, smoke_config, capstone_outputs, tiny_champion, issue_sample, tmp_path
):
    import mlflow

    issues = issue_sample.groupby("label").head(10)
    predicted = mlflow.pyfunc.load_model(tiny_champion[0]).predict(issues[["title", "body"]])
    records = [
        {"title": issue.title, "body": issue.body, **predicted.iloc[i].to_dict(), "model_version": tiny_champion[1]}
        | ({"feedback_label": issue.label} if i % 3 == 0 else {})
        for i, issue in enumerate(issues.itertuples())
    ]
    PredictionLog(tmp_path / "serving").write(records)

    monitor.main(
        smoke_config(*capstone_outputs, "monitoring.source=live", f"monitoring.live_log_dir={tmp_path / 'serving'}")
    )

    metrics = json.loads((tmp_path / "reports" / "monitoring" / "live" / "metrics.json").read_text())
    assert metrics["live"]["rows"] == 30 and metrics["live"]["labelled_rows"] == 10
    assert 0 <= metrics["live"]["accuracy"] <= 1
    assert (tmp_path / "reports" / "monitoring" / "live" / "html" / "live_quality.html").exists()
    assert not (tmp_path / "reports" / "monitoring" / "metrics.json").exists()  # the replay's files are untouched


def test_live_mode_without_traffic_exits_with_the_reason_and_starts_no_run(tracking_store, smoke_config, tmp_path):
    with pytest.raises(SystemExit, match=r"monitor: prediction log folder .*no-service-yet does not exist"):
        monitor.main(smoke_config("monitoring.source=live", f"monitoring.live_log_dir={tmp_path / 'no-service-yet'}"))
    assert MlflowClient(tracking_store).get_experiment_by_name("monitor") is None


def test_replay_without_a_champion_says_to_train_one(tracking_store, smoke_config, tmp_path):
    with pytest.raises(SystemExit, match=r"champion.json does not exist: train and register a champion first"):
        monitor.main(smoke_config(f"monitoring.champion_file={tmp_path / 'champion.json'}"))


def test_bad_monitoring_config_is_refused_naming_the_key(smoke_config):
    with pytest.raises(ConfigError, match="source must be one of"):
        validate(smoke_config("monitoring.source=kafka"), "monitoring", monitor.MonitoringConfig)
    with pytest.raises(ConfigError, match="current_share"):
        validate(smoke_config("monitoring.replay.current_share=1.5"), "monitoring", monitor.MonitoringConfig)
