"""day07_rerank_train under profile=smoke: MiniLM fine-tuned as a cross-encoder on a few train queries, saved where
day07_rag reads it, with its dev queries held out of training."""

import json

import pytest
from mlflow.tracking import MlflowClient

import pipelines.day07_rerank_train as stage
from src.llm import cross_encoder as ce
from tests.conftest import run_stage


def test_smoke_training_saves_a_cross_encoder_and_holds_out_dev_queries(tracking_store, smoke_config, tmp_path):
    stage.main(smoke_config())
    model, extra = ce.load(tmp_path / "models" / "day07_rerank_train" / stage.OUTPUT)
    assert extra["max_length"] == 48 and len(extra["dev_query_ids"]) == 3  # 25% of 12 train queries
    metrics = json.loads((tmp_path / "reports" / "day07_rerank_train" / "metrics.json").read_text())["cross_encoder"]
    assert metrics["fit_queries"] == 9 and metrics["dev_queries"] == 3 and metrics["group_size"] == 4
    assert 0 < metrics["last_loss"] < 3 * metrics["chance_loss"] and 0 <= metrics["dev_group_accuracy"] <= 1
    assert (tmp_path / "reports" / "day07_rerank_train" / "figures" / "cross_encoder_training_loss.png").exists()
    client = MlflowClient(tracking_store)
    runs = client.search_runs([client.get_experiment_by_name("day07-rerank-train").experiment_id])
    assert all(r.info.status == "FINISHED" for r in runs) and runs


@pytest.mark.parametrize("key", ["day07_rerank_train.train.lr=0", "day07_rerank_train.data.dev_fraction=1"])
def test_bad_settings_fail_before_any_work_naming_the_key(key, tmp_path):
    result = run_stage(stage.STAGE, "profile=smoke", key, env={"AI_MASTERY_MODELS": str(tmp_path)}, timeout=120)
    assert result.returncode != 0 and key.split("=")[0].split(".", 1)[1] in result.stderr + result.stdout
