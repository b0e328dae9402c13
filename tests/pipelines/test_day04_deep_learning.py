"""Day 4 end to end under profile=smoke: the five models side by side in MLflow with their curves, saved models,
metrics, plots and figures; config errors named before any training."""

import json
import time

import pytest
from mlflow.tracking import MlflowClient

import pipelines.day04_deep_learning as day04
from src.config import ConfigError, validate
from src.data.mnist import train_validation_test
from src.ml.deep_learning import NeuralNetwork
from tests.conftest import run_stage

VARIANTS = ("scratch_linear_stack", "scratch_mlp", "scratch_cnn", "torch_cnn", "scratch_lstm")
# Ten classes: a model that learned nothing scores about 0.1 (the smoke LSTM did, at 0.099, before the smoke
# profile gave it enough steps). Every smoke model scores 0.3-0.7 over seeds; 0.25 is out of a broken one's reach.
ACCURACY_FLOOR = 0.25


def test_smoke_stage_trains_every_model_and_records_them_side_by_side(tracking_store, smoke_config, tmp_path):
    day04.main(smoke_config())

    out = tmp_path / "reports" / "day04_deep_learning"
    metrics = json.loads((out / "metrics.json").read_text())
    for variant in VARIANTS:
        assert ACCURACY_FLOOR < metrics[variant]["test_accuracy"] <= 1.0, variant
        assert metrics[variant]["train_images_per_second"] > 0 and metrics[variant]["epochs"] == 1
    assert metrics["scratch_mlp"]["test_accuracy"] > 0.5  # 1,000 images, one epoch: far above chance (0.1)
    ratio = metrics["stage"]["cnn_throughput_ratio_scratch_over_torch"]
    assert ratio == metrics["scratch_cnn"]["train_images_per_second"] / metrics["torch_cnn"]["train_images_per_second"]
    # the vanishing/exploding-gradient answer: sigmoid's first layer gets far less gradient than its last
    assert metrics["gradient_flow"]["grad_norm_first_over_last_sigmoid_xavier_init"] < 1.0

    # the saved from-scratch model, in models/<stage>/, is the one that was scored
    models = tmp_path / "models" / "day04_deep_learning"
    assert {p.name for p in models.iterdir()} == {*(f"{v}.npz" for v in VARIANTS if v != "torch_cnn"), "torch_cnn.pt"}
    X_test, y_test = train_validation_test(1200, 200, 500, seed=0)["test"]  # the smoke profile's test_size: 500
    accuracy = NeuralNetwork.load(models / "scratch_cnn.npz").evaluate(X_test[:, None], y_test)["accuracy"]
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
    started = time.perf_counter()
    result = run_stage("day04_deep_learning", "profile=smoke", "day04.cnn.dropout=1.5")
    assert result.returncode == 1
    assert "config error: config key 'day04.cnn.dropout' must be < 1, got 1.5" in result.stderr
    assert time.perf_counter() - started < 30  # refused at start, not after training (it was 9 s into it)
    assert MlflowClient(tracking_store).get_experiment_by_name("day04-deep-learning") is None


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("day04.mlp.hidden=[0]", r"day04\.mlp\.hidden' element 0 \(0\) must be >= 1"),
        ("day04.validation_size=1200", r"day04\.validation_size \(1200\) must be below day04\.train_size"),
        ("day04.cnn.channels=[4,8,16,32]", r"day04\.cnn\.channels needs 1 to 3 entries"),
    ],
)
def test_settings_that_would_train_nonsense_are_refused(smoke_config, override, message):
    with pytest.raises(ConfigError, match=message):
        validate(smoke_config(override), day04.SECTION, day04.SCHEMA)
