"""Recall@10 against queries per second for approximate nearest-neighbour indexes, ann-benchmarks style:
exact neighbours by brute force, one query at a time on one thread, each index at several search-time ef.

    rows = sweep_hnsw(base, queries, M=16, ef_construction=100, efs=[10, 20, 40, 80])
"""

import os
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

from src.production.vector_db import BruteForceIndex, HNSWIndex


def exact_neighbours(base: np.ndarray, queries: np.ndarray, k: int, batch: int = 500) -> np.ndarray:
    base_sq = np.einsum("ij,ij->i", base, base)
    out = []
    for start in range(0, len(queries), batch):
        distances = base_sq[None, :] - 2 * queries[start : start + batch] @ base.T
        part = np.argpartition(distances, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(distances, part, axis=1), axis=1)
        out.append(np.take_along_axis(part, order, axis=1))
    return np.vstack(out)


def recall_at_k(found: list, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(
        np.mean([len(set(np.asarray(f)[:k].tolist()) & set(t.tolist())) / k for f, t in zip(found, truth, strict=True)])
    )


def timed_queries(search, queries: np.ndarray) -> tuple[list, float]:
    """(results, queries per second), one query at a time on one BLAS thread."""
    with threadpool_limits(1):
        start = time.perf_counter()
        results = [search(q) for q in queries]
        seconds = time.perf_counter() - start
    return results, len(queries) / seconds


def sweep(base, queries, M: int, ef_construction: int, efs: list[int], k: int = 10, seed: int = 0, progress=None):
    """Rows of {index, ef, recall_at_10, queries_per_second} plus a summary dict per index (build time, bytes
    per vector, the vector dimension)."""
    import hnswlib

    truth = exact_neighbours(base, queries, k)
    rows, summary = [], {}
    brute = BruteForceIndex(base.shape[1])
    brute.add(base)
    found, qps = timed_queries(lambda q: brute.search(q, k)[0], queries)
    rows.append({"index": "brute_force", "ef": 0, "recall_at_10": recall_at_k(found, truth), "queries_per_second": qps})
    summary["brute_force"] = {"queries_per_second": qps, "bytes_per_vector": base.shape[1] * 4, "dim": base.shape[1]}

    start = time.perf_counter()
    ours = HNSWIndex(base.shape[1], M=M, ef_construction=ef_construction, ef=efs[0], seed=seed)
    chunks = np.array_split(np.arange(len(base)), 20)
    for chunk in chunks if progress is None else progress(chunks, desc="HNSW build (ours)"):
        ours.add(base[chunk])
    summary["scratch_hnsw"] = {
        "build_seconds": time.perf_counter() - start,
        "bytes_per_vector": ours.memory_bytes() / len(base),
        "dim": base.shape[1],  # day 9's capacity model scales bytes_per_vector and QPS by it
    }
    start = time.perf_counter()
    theirs = hnswlib.Index(space="l2", dim=base.shape[1])
    theirs.init_index(max_elements=len(base), ef_construction=ef_construction, M=M, random_seed=seed)
    theirs.set_num_threads(1)
    theirs.add_items(base)
    summary["hnswlib"] = {"build_seconds": time.perf_counter() - start, "dim": base.shape[1]}
    with tempfile.TemporaryDirectory() as tmp:
        theirs.save_index(os.path.join(tmp, "index.bin"))
        summary["hnswlib"]["bytes_per_vector"] = os.path.getsize(os.path.join(tmp, "index.bin")) / len(base)
    for ef in efs:
        found, qps = timed_queries(lambda q, ef=ef: ours.search(q, k, ef)[0], queries)
        rows.append(
            {"index": "scratch_hnsw", "ef": ef, "recall_at_10": recall_at_k(found, truth), "queries_per_second": qps}
        )
        theirs.set_ef(max(ef, k))
        found, qps = timed_queries(lambda q: theirs.knn_query(q, k)[0][0], queries)
        rows.append(
            {"index": "hnswlib", "ef": ef, "recall_at_10": recall_at_k(found, truth), "queries_per_second": qps}
        )
    return rows, summary


def best_at_recall(rows: list[dict], index: str, target: float) -> dict | None:
    """The fastest row of `index` whose recall reaches `target` (None if none does)."""
    good = [r for r in rows if r["index"] == index and r["recall_at_10"] >= target]
    return max(good, key=lambda r: r["queries_per_second"]) if good else None
