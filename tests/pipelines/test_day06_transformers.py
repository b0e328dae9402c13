"""Day 6 end to end under profile=smoke: every model and measurement recorded side by side in MLflow, the GPT
learned something (loss well below a uniform guess over the vocabulary), saved models, samples, plots and
figures; a bad config value is named before any training."""

import json
import math

import torch
from mlflow.tracking import MlflowClient

from src.llm.transformer import GPT2
from tests.conftest import run_stage

STAGE = "day06_transformers"
GPTS = ("nanogpt_recipe", "gpt_budget", "gpt_long")
ENCODINGS = ("none", "sinusoidal", "learned", "rope")


def test_smoke_stage_records_every_model_side_by_side(tracking_store, tmp_path):
    result = run_stage(STAGE, "profile=smoke")
    assert result.returncode == 0, result.stderr[-3000:]

    out = tmp_path / "reports" / STAGE
    metrics = json.loads((out / "metrics.json").read_text())
    uniform = math.log(metrics["stage"]["vocab_size"])  # 4.17 nats: what an untrained model scores
    assert metrics["stage"]["vocab_size"] == 65 and metrics["stage"]["train_chars"] == 1_003_854  # nanoGPT's split
    for variant in GPTS:
        assert metrics[variant]["iterations"] >= 1 and metrics[variant]["tokens_per_second"] > 0
        assert metrics[variant]["val_loss"] < uniform - 0.3, (variant, metrics[variant])  # it learned something
    assert metrics["nanogpt_recipe"]["iterations"] == 30  # the recipe's iteration count, not time, ends it
    assert metrics["bert_mlm"]["masked_loss"] < uniform - 0.3
    assert 0 < metrics["bert_mlm"]["most_frequent_accuracy"] < 0.3  # the space: about 15 % of the characters
    assert metrics["kv_cache"]["identical_tokens"] == 1.0 and metrics["kv_cache"]["speedup"] > 0
    for encoding in ENCODINGS:
        assert metrics[f"positional_{encoding}"]["val_loss"] < uniform
    assert "val_loss_2x_block" not in metrics["positional_learned"]  # it cannot run past its table
    assert metrics["positional_rope"]["val_loss_2x_block"] > 0
    assert metrics["attention_naive"]["max_seq_len"] == 64

    # the saved model is the one that was scored, and it loads back into GPT2
    saved = torch.load(tmp_path / "models" / STAGE / "gpt_long.pt")
    cfg = saved["config"]
    model = GPT2(len(saved["config"]["chars"]), cfg["block_size"], cfg["n_layer"], cfg["n_head"], cfg["n_embd"])
    model.load_state_dict(saved["state_dict"])

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day06-transformers")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    by_name = {r.data.tags["mlflow.runName"]: r for r in runs}
    for variant in GPTS:
        history = client.get_metric_history(by_name[variant].info.run_id, "val_loss")
        assert len(history) == 2  # one checkpoint and the end
    samples = client.list_artifacts(by_name["gpt_long"].info.run_id, "samples")
    assert len(samples) == 2 and all(s.path.endswith(".txt") for s in samples)
    assert (out / "samples").is_dir() and len(list((out / "samples").iterdir())) == 2
    figures = {a.path.removeprefix("figures/") for a in client.list_artifacts(parent.info.run_id, "figures")}
    expected = {
        "attention_scaling",
        "val_loss_vs_time",
        "attention_heatmaps",
        "bert_mlm_accuracy",
        "positional_ablation",
    }
    assert figures == {f"{name}.png" for name in expected}
    plots = {p.name for p in (out / "plots").iterdir()}
    assert plots == {"attention_scaling.csv", "positional_ablation.csv", *(f"curve_{v}.csv" for v in GPTS)} | {
        f"curve_positional_{e}.csv" for e in ENCODINGS
    }


def test_bad_config_value_is_named_before_any_training(tracking_store):
    result = run_stage(STAGE, "profile=smoke", "day06.gpt_long.n_head=5")
    assert result.returncode == 1
    assert "day06.gpt_long.n_embd (32) must be divisible by day06.gpt_long.n_head (5)" in result.stderr
    result = run_stage(STAGE, "profile=smoke", "day06.bert.mask_prob=1.5")
    assert result.returncode == 1 and "day06.bert.mask_prob" in result.stderr
