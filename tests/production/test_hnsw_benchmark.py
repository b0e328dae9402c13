"""The full-layout HNSW benchmark, on a tiny slice: it writes recall/QPS rows for all three indexes."""

import json

import src.production.hnsw_benchmark as bench


def test_tiny_run_writes_rows_for_every_index(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "REPORTS", tmp_path)
    bench.main(["--base", "300", "--queries", "20", "--M", "8", "--ef-construction", "32", "--efs", "16", "64"])
    results = json.loads((tmp_path / "bench" / "day07_hnsw_mnist.json").read_text())
    assert results["dim"] == 784 and {r["index"] for r in results["rows"]} == {"brute_force", "scratch_hnsw", "hnswlib"}
    ours = [r for r in results["rows"] if r["index"] == "scratch_hnsw"]
    assert max(r["recall_at_10"] for r in ours) > 0.8 and (tmp_path / "bench" / "day07_hnsw_mnist.png").exists()
