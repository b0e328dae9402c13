"""The monitor stage end to end under profile=smoke, with the tiny TF-IDF champion in the test's own store:
a replay of in-distribution traffic shows no drift, non-issue text does; live mode reads a service log.
The stage runs in its own process, as `dvc repro` runs it: the test's store and reports folder reach it through
the environment (tests/conftest.py's tracking_store)."""

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import pipelines.monitor as monitor
from src.capstone.data import TRAIN_FILE, load_issues
from src.capstone.model import with_predictions
from src.capstone.prediction_log import PredictionLog
from src.config import ConfigError, validate
from src.data import verified_path
from tests.conftest import run_stage


@pytest.fixture
def capstone_outputs(tmp_path, tiny_champion):  # noqa: F811
    """What the day10_capstone stage hands the monitor, where it writes them (reports/day10_capstone/ under
    the test's reports folder): reference_predictions.csv (every training issue with the champion's
    predictions) and champion.json. Returns the override that keeps the replay logs in the test's folder."""
    import mlflow

    model_uri, version = tiny_champion
    issues = load_issues(verified_path(TRAIN_FILE))
    predicted = mlflow.pyfunc.load_model(model_uri).predict(issues[["title", "body"]])
    handed_over = tmp_path / "reports" / "day10_capstone"
    handed_over.mkdir(parents=True)
    with_predictions(issues, predicted[["proba_bug", "proba_feature", "proba_question"]].to_numpy()).to_csv(
        handed_over / "reference_predictions.csv", index=False
    )
    champion = {"model_uri": model_uri, "version": version, "metric": 0.5, "promoted": True}
    (handed_over / "champion.json").write_text(json.dumps(champion))
    return [f"monitor.replay.log_dir={tmp_path / 'replay_logs'}"]


def monitor_stage(*overrides: str):
    result = run_stage("monitor", "profile=smoke", *overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _drifted_share(report_json) -> tuple[float, float]:
    """(share of drifted columns, the share that means drift), read from Evidently's own JSON report."""
    metrics = json.loads(report_json.read_text())["metrics"]
    count = next(m for m in metrics if m["config"]["type"].endswith(":DriftedColumnsCount"))
    return count["value"]["share"], count["config"]["drift_share"]


@pytest.mark.slow
def test_replay_finds_no_drift_in_distribution_and_drift_on_non_issue_text(tracking_store, capstone_outputs, tmp_path):
    monitor_stage(*capstone_outputs)

    out = tmp_path / "reports" / "monitor"
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
    assert parent.info.status == "FINISHED" and parent.data.params["monitor.source"] == "replay"
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert figures == {"figures/drift_matrix.png", "figures/distributions.png"}
    assert "evidently/html/non_issue_drift.html" in {
        a.path for a in client.list_artifacts(parent.info.run_id, "evidently/html")
    }


@pytest.mark.slow
def test_live_mode_reports_the_service_log_with_quality_from_feedback(
    tracking_store,
    capstone_outputs,
    tiny_champion,  # noqa: F811
    issue_sample,  # noqa: F811
    tmp_path,
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

    monitor_stage(*capstone_outputs, "monitor.source=live", f"monitor.live_log_dir={tmp_path / 'serving'}")

    out = tmp_path / "reports" / "monitor"
    metrics = json.loads((out / "live" / "metrics.json").read_text())
    assert metrics["live"]["rows"] == 30 and metrics["live"]["labelled_rows"] == 10
    # the champion trained on these very issues: at least half of its 10 labelled answers are right (chance: 1/3)
    assert 0.5 <= metrics["live"]["accuracy"] <= 1
    assert (out / "live" / "html" / "live_quality.html").exists()
    assert not (out / "metrics.json").exists()  # the replay's files are untouched


def test_live_mode_without_traffic_exits_with_the_reason_and_starts_no_run(tracking_store, tmp_path):
    result = run_stage("monitor", "profile=smoke", "monitor.source=live", f"monitor.live_log_dir={tmp_path / 'none'}")
    assert result.returncode == 1
    assert f"monitor: prediction log folder {tmp_path / 'none'} does not exist" in result.stderr
    assert MlflowClient(tracking_store).get_experiment_by_name("monitor") is None


def test_replay_without_a_champion_says_to_train_one(tracking_store, tmp_path):
    result = run_stage("monitor", "profile=smoke")
    assert result.returncode == 1
    assert "champion.json does not exist: train and register a champion first" in result.stderr
    assert MlflowClient(tracking_store).get_experiment_by_name("monitor") is None


def test_bad_monitor_config_is_refused_naming_the_key(smoke_config):
    with pytest.raises(ConfigError, match=r"'monitor\.source' must be one of \['replay', 'live'\], got 'kafka'"):
        validate(smoke_config("monitor.source=kafka"), monitor.SECTION, monitor.SCHEMA)
    with pytest.raises(ConfigError, match=r"'monitor\.replay\.current_share' must be < 1, got 1.5"):
        validate(smoke_config("monitor.replay.current_share=1.5"), monitor.SECTION, monitor.SCHEMA)
