"""Day 5 end to end under profile=smoke: the fast net, ResNet18 and the small ResNets (from scratch and in
torch) side by side in MLflow with their curves, saved models, metrics, plots and figures; the JPEG cost is
measured; config errors are named before any training."""

import json

import torch
from mlflow.tracking import MlflowClient

import pipelines.day05_vision as day05
from src.data.cifar10 import evaluation_indices, load_processed
from src.ml.vision.fast_cifar import FastNet, predict_logits, to_normalised_tensor
from tests.conftest import run_stage

VARIANTS = ("fast_net", "torch_resnet18", "scratch_small_resnet", "torch_small_resnet")
FIGURES = ("accuracy_vs_time", "per_class_accuracy", "confusion_matrix", "misclassified", "first_layer_filters")


def test_smoke_stage_trains_every_model_and_records_them(tracking_store, cifar10_data, smoke_config, tmp_path):
    day05.main(smoke_config())

    out = tmp_path / "reports" / "day05_vision"
    metrics = json.loads((out / "metrics.json").read_text())
    fast = metrics["fast_net"]
    # 2,000 JPEG images, two epochs: a working net is well above chance (0.1) on 500 test images (measured
    # 0.24; chance's standard deviation there is 0.013), a broken one (no learning, shuffled labels) is not
    assert fast["test_accuracy"] >= 0.17 and fast["test_accuracy_no_tta"] >= 0.17
    assert 0 <= fast["lossless_1000_accuracy"] <= 1 and fast["jpeg_cost"] == (
        fast["lossless_1000_accuracy"] - fast["jpeg_1000_accuracy"]
    )
    assert fast["images_per_second"] > 0 and fast["train_cpu_minutes"] > 0
    assert metrics["torch_resnet18"]["parameters"] == 11_173_962
    assert metrics["scratch_small_resnet"]["speed_ratio_to_torch"] > 0
    for variant in VARIANTS:
        assert 0 <= metrics[variant]["test_accuracy"] <= 1 and metrics[variant]["images_per_second"] > 0

    # the saved fast net is the one that was scored (no TTA, last epoch)
    data = load_processed()
    subset = evaluation_indices(500, 42)  # the smoke profile's test_size, and the seed
    model = FastNet(widths=(16, 32, 32))
    model.load_state_dict(torch.load(tmp_path / "models" / "day05_vision" / "fast_net.pt"))
    logits = predict_logits(model, to_normalised_tensor(data["test_x"][subset]), 0, bf16=True)
    assert (logits.argmax(1).numpy() == data["test_y"][subset]).mean() == fast["test_accuracy_no_tta"]

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day05-vision")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    by_name = {r.data.tags["mlflow.runName"]: r for r in runs}
    assert set(VARIANTS) <= set(by_name)
    history = client.get_metric_history(by_name["fast_net"].info.run_id, "eval_accuracy")
    assert sorted(m.step for m in history) == [1, 2]
    assert {f"{name}.png" for name in FIGURES} <= {p.name for p in (out / "figures").iterdir()}
    assert {"curves_fast_net.csv", "curves_resnet18.csv", "per_class_accuracy.csv"} <= {
        p.name for p in (out / "plots").iterdir()
    }


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day05_vision", "profile=smoke", "day05.fast.label_smoothing=1.5")
    assert result.returncode == 1
    assert "label_smoothing" in result.stderr


def test_unknown_config_key_fails_at_start(tracking_store):
    result = run_stage("day05_vision", "profile=smoke", "+day05.fast.epochz=3")
    assert result.returncode == 1
    assert "epochz" in result.stderr
