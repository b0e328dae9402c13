"""The capacity model's arithmetic against hand-computed cases, and its inputs' error messages."""

import json

import pytest

from src.case_studies import capacity
from src.case_studies.capacity import GIB, MeasuredInputError


def test_llm_cost_the_issue_example():
    # 1,000 QPS x 250 tokens x $0.01/1K over a 30-day month: 250,000 tokens/s x 2,592,000 s = 6.48e11 tokens
    assert capacity.llm_monthly_cost(1000, 250, 0.01) == pytest.approx(6_480_000)
    assert capacity.llm_monthly_cost(1000, 250, 0.01, cache_hit_rate=0.3) == pytest.approx(0.7 * 6_480_000)


def test_search_cost_scaling():
    assert capacity.scaled_qps(100, 1000, 1_000_000, "linear") == pytest.approx(0.1)
    assert capacity.scaled_qps(100, 1000, 1_000_000, "log") == pytest.approx(50)  # ln 1e3 / ln 1e6 = 1/2
    with pytest.raises(ValueError, match="scaling"):
        capacity.scaled_qps(1, 1, 1, "quadratic")


def test_search_tier_by_hand():
    cluster = capacity.Cluster(
        node_memory_gib=1, usable_memory_fraction=0.5, cores_per_node=4, target_utilisation=0.5, min_replicas=2
    )
    tier = capacity.search_tier(
        1_000_000, 1536, 1000, lambda n: capacity.scaled_qps(100, 100_000, n, "linear"), cluster
    )
    # 1.536e9 bytes = 1.43 GiB over 0.5 GiB usable per node -> 3 shards of 333,333 vectors -> 30 q/s per core;
    # 1000 q/s / (30 * 4 cores * 0.5) = 16.7 -> 17 replicas; 51 nodes; 204 cores
    assert tier["index_gib"] == pytest.approx(1.536e9 / GIB)
    assert (tier["shards"], tier["replicas"], tier["nodes"], tier["cores"]) == (3, 17, 51, 204)
    assert tier["per_core_qps_per_shard"] == pytest.approx(30)
    low = capacity.search_tier(1000, 1536, 1, lambda n: 1e6, cluster)
    assert (low["shards"], low["replicas"]) == (1, 2)  # availability floor


def test_rag_capacity_applies_the_cache_to_retrieval_and_llm():
    inputs = {"retrieval_qps": 100, "retrieval_measured_vectors": 100_000, "bytes_per_vector": 1536}
    inputs |= {"measured_dim": 384, "recall_at_10": 1}
    targets = capacity.RagTargets(1_000_000, 1, 1000, 250, 0.01, (0.0, 0.5), 384, 4, "linear")
    cluster = capacity.Cluster(64, 0.7, 16, 0.6, 2)
    report = capacity.rag_capacity(inputs, targets, cluster)
    none, half = report["by_cache_hit_rate"]
    assert report["index_bytes_per_vector"] == 1536  # exact search: no overhead beyond the vectors themselves
    assert none["llm_cost_per_month"] == pytest.approx(6_480_000) and half["llm_cost_per_month"] == pytest.approx(
        3_240_000
    )
    # 1000 q/s at 10 q/s per core (1e6 vectors, linear from 100 at 1e5): 1000 / (10 * 16 * 0.6) = 10.4 -> 11
    assert (none["shards"], none["replicas"], none["cores"]) == (1, 11, 176)
    assert half["replicas"] == 6  # 500 / 96 = 5.2 -> 6


def test_dynamic_batching_by_hand():
    curve = [{"batch_size": 1, "ms_per_call": 10.0}, {"batch_size": 4, "ms_per_call": 20.0}]
    targets = capacity.ServingTargets(qps=300, p99_ms=100, max_wait_ms=50, target_utilisation=0.5)
    one, four = capacity.batch_options(curve, targets)
    # b=1: 100 req/s per replica, 300 / 50 -> 6 replicas, p99 bound 0 + 2 * 10 = 20 ms
    assert (one["replica_capacity_rps"], one["replicas"], one["p99_bound_ms"]) == (100, 6, 20)
    # b=4: 200 req/s, 300 / 100 -> 3 replicas at 100 req/s each; filling 3 more takes 30 ms; 30 + 2 * 20 = 70 ms
    assert (four["replica_capacity_rps"], four["replicas"], four["fill_wait_ms"], four["p99_bound_ms"]) == (
        200,
        3,
        30,
        70,
    )
    chosen = capacity.serving_capacity(curve, targets, replica_cores=2, model_mb=512, load_test=[])
    assert chosen["chosen"]["batch_size"] == 4 and chosen["cores"] == 6 and chosen["model_memory_gib"] == 1.5
    strict = capacity.ServingTargets(qps=300, p99_ms=60, max_wait_ms=50, target_utilisation=0.5)
    assert capacity.serving_capacity(curve, strict, 2, 512, [])["chosen"]["batch_size"] == 1


def test_recommender_by_hand():
    inputs = {"retrieval_qps": 100, "retrieval_measured_vectors": 1000, "bytes_per_vector": 1800, "measured_dim": 384}
    targets = capacity.RecommenderTargets(1_000_000, 100_000, 64, 4, 100, 500, "log")
    report = capacity.recommender_capacity(inputs, targets, capacity.Cluster(64, 0.7, 16, 0.6, 2))
    assert report["user_embeddings_gib"] == pytest.approx(256e6 / GIB)
    assert report["index_bytes_per_item"] == 256 + (1800 - 1536)  # own bytes + the measured graph overhead
    assert report["candidates_per_second"] == 50_000


def test_lookup_dotted_keys_lists_and_errors(tmp_path):
    tree = {"ensemble": {"cv.mean.f1": 0.8}, "results": {"batched": [{"p99_ms": 5}, {"p99_ms": 7}]}}
    assert capacity.lookup(tree, "ensemble.cv.mean.f1", "m.json") == 0.8
    assert capacity.lookup(tree, "results.batched.1.p99_ms", "m.json") == 7
    with pytest.raises(MeasuredInputError, match="m.json: no key 'ensemble.cv.max'"):
        capacity.lookup(tree, "ensemble.cv.max", "m.json")
    with pytest.raises(MeasuredInputError, match="not an index"):
        capacity.lookup(tree, "results.batched.5.p99_ms", "m.json")
    (tmp_path / "r.json").write_text(json.dumps(tree))
    with pytest.raises(MeasuredInputError, match="reports/day07_rag/metrics.json is missing"):
        capacity.read_inputs({"qps": {"file": "reports/day07_rag/metrics.json", "key": "scratch_hnsw.qps"}}, tmp_path)
    with pytest.raises(MeasuredInputError, match="r.json: key 'results.batched' \\(input x\\) is .* not a number"):
        capacity.read_inputs({"x": {"file": "r.json", "key": "results.batched"}}, tmp_path)


def test_index_bytes_per_vector_moves_the_measured_overhead_to_another_dimension():
    # day 7's HNSW on 784-dim MNIST: 3,284 bytes per vector, 3,136 of them the vector -> 148 bytes of graph links
    measured = {"bytes_per_vector": 3284, "measured_dim": 784}
    assert capacity.index_bytes_per_vector(measured, 384, 4) == 384 * 4 + 148
    assert capacity.index_bytes_per_vector(measured, 384, 1) == 384 + 148  # int8 quantised
    assert capacity.index_bytes_per_vector({"bytes_per_vector": 1000, "measured_dim": 384}, 64, 4) == 256
