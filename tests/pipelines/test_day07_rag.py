"""Day 7 end to end under profile=smoke: every retriever recorded side by side, floors a broken one cannot reach."""

import json

from mlflow.tracking import MlflowClient

import pipelines.day07_rag as day07
import pipelines.day07_rerank_train as day07_rerank_train
from tests.conftest import run_stage


def test_smoke_stage_records_every_variant_with_floors(tracking_store, smoke_config, tmp_path):
    day07_rerank_train.main(smoke_config())  # the smoke cross-encoder, where day07_rag reads it
    day07.main(smoke_config())

    out = tmp_path / "reports" / "day07_rag"
    metrics = json.loads((out / "metrics.json").read_text())
    # 20 test queries over ~180 documents: a random ranking scores nDCG@10 ~0.05
    for variant in ("scratch_bm25", "minilm_dense", "hybrid_rrf", "hybrid_weighted", "bm25_rm3", "chunk_fixed"):
        assert metrics[variant]["ndcg_at_10"] > 0.5, variant
        assert metrics[variant]["recall_at_100"] >= metrics[variant]["recall_at_10"]
    # the smoke re-ranker (9 queries, 3 steps) is barely trained: its blend, chosen on dev, must not sink far
    assert metrics["cross_encoder_blend"]["ndcg_at_10"] > 0.5 and metrics["cross_encoder_rerank"]["ndcg_at_10"] > 0.2
    assert metrics["cross_encoder_rerank"]["pairs_scored"] == (20 + 3) * 5  # test + dev queries x depth
    assert metrics["scratch_metrics"]["max_abs_diff_vs_ir_measures"] < 1e-9
    assert metrics["scratch_bm25"]["max_abs_score_diff_vs_bm25s"] < 1e-5
    assert metrics["scratch_bm25"]["queries_per_second"] > 0 and metrics["rank_bm25"]["queries_per_second"] > 0
    assert metrics["scratch_hnsw"]["recall_at_10"] > 0.5 and metrics["scratch_hnsw"]["bytes_per_vector"] > 784 * 4
    assert metrics["scratch_hnsw"]["dim"] == metrics["hnswlib"]["dim"] == 784  # MNIST-784, read by day 9
    assert metrics["scratch_hnsw_scifact"]["recall_at_10_vs_exact"] > 0.8
    assert metrics["scratch_hnsw_scifact"]["dim"] == 384  # all-MiniLM-L6-v2
    cache = metrics["semantic_cache"]
    assert cache["repeat_hit_rate"] == 1.0 and cache["hit_rate"] > 0.2 and cache["false_hit_rate"] <= 0.5
    assert metrics["rag_extractive"]["answer_cites_relevant_rate"] > 0.3
    assert "Mars" in (out / "hyde_capital_of_mars.txt").read_text()
    example = json.loads((out / "rag_example.json").read_text())
    assert example["citations"] and all(f"[{doc}]" in example["answer"] for doc in example["citations"])

    client = MlflowClient(tracking_store)
    runs = client.search_runs([client.get_experiment_by_name("day07-rag").experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    names = {r.data.tags["mlflow.runName"] for r in runs if "variant" in r.data.tags}
    assert {"scratch_bm25", "bm25s", "rank_bm25", "scratch_hnsw", "hnswlib", "semantic_cache"} <= names
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"ndcg_at_10_by_variant.png", "hnsw_recall_vs_qps.png", "hybrid_vs_parts.png", "recall_at_k.png"} <= figures


def test_unreachable_redis_is_reported_and_the_stage_still_finishes(
    tracking_store, smoke_config, tmp_path, monkeypatch
):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    day07.main(smoke_config("day07.hnsw.base_size=100", "day07.hnsw.ef_grid=[16]", "day07.rerank.enabled=false"))
    metrics = json.loads((tmp_path / "reports" / "day07_rag" / "metrics.json").read_text())
    assert "semantic_cache" not in metrics and metrics["scratch_bm25"]["ndcg_at_10"] > 0.5


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day07_rag", "profile=smoke", "day07.bm25.method=bm42")
    assert result.returncode == 1
    assert "day07.bm25.method" in result.stderr and "bm42" in result.stderr
