"""Day 4 end to end under profile=smoke: the five models side by side in MLflow with their curves, saved models,
metrics, plots and figures; config errors named before any training."""

import json

import numpy as np
from mlflow.tracking import MlflowClient

import pipelines.day04_deep_learning as day04
from src.ml.deep_learning import NeuralNetwork
from tests.conftest import run_stage

VARIANTS = ("scratch_linear_stack", "scratch_mlp", "scratch_cnn", "torch_cnn", "scratch_lstm")


def test_smoke_stage_trains_every_model_and_records_them_side_by_side(tracking_store, smoke_config, tmp_path):
    day04.main(smoke_config())

    out = tmp_path / "reports" / "day04_deep_learning"
    metrics = json.loads((out / "metrics.json").read_text())
    for variant in VARIANTS:
        assert 0.0 <= metrics[variant]["test_accuracy"] <= 1.0
        assert metrics[variant]["train_images_per_second"] > 0 and metrics[variant]["epochs"] == 1
    assert metrics["scratch_mlp"]["test_accuracy"] > 0.5  # 1,000 images, one epoch: far above chance (0.1)
    ratio = metrics["stage"]["cnn_throughput_ratio_scratch_over_torch"]
    assert ratio == metrics["scratch_cnn"]["train_images_per_second"] / metrics["torch_cnn"]["train_images_per_second"]
    # the vanishing/exploding-gradient answer: sigmoid's first layer gets far less gradient than its last
    assert metrics["gradient_flow"]["grad_norm_first_over_last_sigmoid_xavier_init"] < 1.0

    # the saved from-scratch model is the one that was scored
    _, (X_test, y_test) = day04.load_mnist()
    cnn = NeuralNetwork.load(out / "models" / "scratch_cnn.npz")
    n_test = 500  # the smoke profile's test_size
    accuracy = cnn.evaluate(day04.as_float(X_test[:n_test])[:, None], y_test[:n_test].astype(np.int64))["accuracy"]
    assert accuracy == metrics["scratch_cnn"]["test_accuracy"]

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day04-deep-learning")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    by_name = {r.data.tags["mlflow.runName"]: r for r in runs}
    for variant in VARIANTS:
        history = client.get_metric_history(by_name[variant].info.run_id, "val_accuracy")
        assert [m.step for m in history] == [1]
        assert [a.path for a in client.list_artifacts(by_name[variant].info.run_id, "model")]
    figures = {a.path.removeprefix("figures/") for a in client.list_artifacts(parent.info.run_id, "figures")}
    expected = {
        "training_curves",
        "confusion_matrix_scratch_cnn",
        "confusion_matrix_torch_cnn",
        "misclassified_scratch_cnn",
        "first_layer_filters",
        "gradient_norms_at_init",
        "model_comparison",
    }
    assert figures == {f"{name}.png" for name in expected}
    plots = {p.name for p in (out / "plots").iterdir()}
    assert plots == {"model_comparison.csv", "gradient_norms_at_init.csv", *(f"curves_{v}.csv" for v in VARIANTS)}


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day04_deep_learning", "profile=smoke", "day04.validation_size=0")
    assert result.returncode == 1
    assert "config error: bad value in config section 'day04'" in result.stderr
    assert "validation_size" in result.stderr
