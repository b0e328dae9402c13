"""Day 3 end to end under profile=smoke: side-by-side runs in MLflow, metrics, plots, figures, config errors."""

import json

from mlflow.tracking import MlflowClient

import pipelines.day03_classical_ml as day03
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
    assert metrics["scratch_linear_svm_iris_2d"]["dual_objective_abs_diff"] < 1e-3
    assert metrics["stage"]["cv_folds"] == 2

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
    assert "config error: bad value in config section 'day03'" in result.stderr and "mnist" in result.stderr
