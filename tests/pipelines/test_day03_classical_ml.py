"""Day 3 end to end under profile=smoke: side-by-side runs in MLflow, metrics, plots, figures, config errors."""

import json
import re

import pytest
from mlflow.tracking import MlflowClient

import pipelines.day03_classical_ml as day03
from src.config import ConfigError, validate
from src.ml.classical import comparison
from src.ml.classical.persistence import load_model
from tests.conftest import run_stage

MODELS = ("decision_tree", "random_forest", "svm", "gaussian_nb", "multinomial_nb")


def test_smoke_stage_records_side_by_side_runs_metrics_and_figures(tracking_store, smoke_config, tmp_path):
    day03.main(smoke_config())

    out = tmp_path / "reports" / "day03_classical_ml"
    metrics = json.loads((out / "metrics.json").read_text())
    for model in MODELS:
        for dataset in ("iris", "wine"):
            scratch, sklearn = metrics[f"scratch_{model}_{dataset}"], metrics[f"sklearn_{model}_{dataset}"]
            assert scratch["accuracy_gap_points"] == 100 * (scratch["cv_accuracy"] - sklearn["cv_accuracy"])
            assert abs(scratch["accuracy_gap_points"]) <= 5, (model, dataset)  # 2 folds: a few samples at most
            assert scratch["fit_time_ratio"] > 0 and sklearn["fit_seconds"] > 0
            # chance is 0.33 (iris) and 0.40 (wine): a model that learned nothing stays far below this floor
            assert min(scratch["cv_accuracy"], sklearn["cv_accuracy"]) > 0.8, (model, dataset)
    assert metrics["scratch_linear_svm_iris_2d"]["dual_objective_abs_diff"] < 1e-3
    assert metrics["stage"]["cv_folds"] == 2
    assert metrics["scratch_random_forest_wine"]["oob_error_10_trees"] < 0.3  # chance: 0.6

    # every model, refitted on its whole dataset, is kept under models/ and predicts raw features on loading
    saved = tmp_path / "models" / "day03_classical_ml"
    assert {p.name for p in saved.iterdir()} == {
        f"{impl}_{model}_{dataset}.joblib"
        for impl in ("scratch", "sklearn")
        for model in MODELS
        for dataset in ("iris", "wine")
    }
    X, y = comparison.load_dataset("wine")
    assert load_model(saved / "scratch_svm_wine.joblib").score(X, y) > 0.9
    assert load_model(saved / "scratch_random_forest_wine.joblib").score(X, y) > 0.9

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day03-classical-ml")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    assert parent.data.params["day03.cv_folds"] == "2"
    svm_wine = [r for r in runs if r.data.tags.get("model") == "svm" and r.data.tags.get("dataset") == "wine"]
    assert sorted(r.data.tags["implementation"] for r in svm_wine) == ["scratch", "sklearn"]
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in svm_wine)
    figures = {a.path.removeprefix("figures/") for a in client.list_artifacts(parent.info.run_id, "figures")}
    expected = {"comparison", "decision_boundaries", "depth_vs_accuracy", "oob_error", "entropy_vs_gini", "svm_margin"}
    assert figures == {f"{name}.png" for name in expected}
    assert {p.name for p in (out / "plots").iterdir()} == {"comparison.csv", "depth_accuracy.csv", "oob_error.csv"}
    oob = client.get_metric_history(
        next(r for r in runs if r.data.tags["mlflow.runName"] == "scratch_random_forest_wine").info.run_id,
        "oob_error",
    )
    assert len(oob) == 10


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day03_classical_ml", "profile=smoke", "day03.datasets=[iris,mnist]")
    assert result.returncode == 1
    assert "config error: config key 'day03.datasets' element 1 ('mnist') must be one of" in result.stderr


def test_a_setting_that_is_a_word_or_a_number_refuses_other_words_and_bad_numbers(smoke_config):
    assert validate(smoke_config("day03.models.svm.gamma=0.5"), day03.SECTION, day03.SCHEMA).models.svm.gamma == 0.5
    for override, key in (
        ("day03.models.svm.gamma=auto", "day03.models.svm.gamma"),
        ("day03.models.svm.gamma=-1", "day03.models.svm.gamma"),
        ("day03.models.random_forest.max_features=0", "day03.models.random_forest.max_features"),
    ):
        with pytest.raises(ConfigError, match=re.escape(key)):
            validate(smoke_config(override), day03.SECTION, day03.SCHEMA)
