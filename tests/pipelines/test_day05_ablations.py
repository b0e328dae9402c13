"""Day 5 ablations under profile=smoke: every variant trains and is recorded (curves, metrics, the figure),
the plain and residual nets differ only by the skip connection, and a bad setting is named before training."""

import json

import pytest
import torch
from mlflow.tracking import MlflowClient

import pipelines.day05_ablations as ablations
from src.ml.vision.ablations import CifarResNet, variants
from src.ml.vision.resnet import count_parameters
from tests.conftest import run_stage


def test_smoke_stage_records_every_variant(tracking_store, cifar10_data, smoke_config, tmp_path):
    ablations.main(smoke_config())

    out = tmp_path / "reports" / "day05_ablations"
    metrics = json.loads((out / "metrics.json").read_text())
    names = {name for group in variants([8, 14]).values() for name in group}
    assert names == {
        "plain_8",
        "residual_8",
        "plain_14",
        "residual_14",
        "residual_8_no_bn",
        "residual_8_no_augmentation",
    }
    assert names <= set(metrics)
    for name in names:
        assert metrics[name]["grad_norm_first_over_last"] > 0
        if not metrics[name]["diverged"]:
            assert metrics[name]["epochs_completed"] == 2 and 0 <= metrics[name]["test_accuracy"] <= 1
    # a working baseline learns something in 2 epochs of 256 images: its training loss is below chance's ln 10
    assert metrics["residual_8"]["final_train_loss"] < 2.30
    assert (out / "figures" / "ablation_curves.png").exists()

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day05-ablations")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED"
    assert names <= {r.data.tags["mlflow.runName"] for r in runs}


def test_plain_and_residual_differ_only_by_the_shortcut():
    # depth 20: the stage changes (16 -> 32 -> 64 channels) add two projection shortcuts to the residual net
    plain, residual = CifarResNet(20, residual=False), CifarResNet(20, residual=True)
    projections = sum(count_parameters(b.shortcut) for b in residual.blocks)
    assert count_parameters(residual) - count_parameters(plain) == projections > 0
    with torch.no_grad():
        assert residual.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_depth_must_be_6n_plus_2():
    with pytest.raises(ValueError, match="6n \\+ 2"):
        CifarResNet(21)


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day05_ablations", "profile=smoke", "day05_ablations.depths=[20,21]")
    assert result.returncode == 1
    assert "depths" in result.stderr
