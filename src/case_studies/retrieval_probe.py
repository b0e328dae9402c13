"""An interim retrieval measurement for the capacity model: exact (brute-force) top-10 vector search on one core.

    python -m src.case_studies.retrieval_probe        # -> reports/bench/retrieval_probe.json

Day 7 measures the real retrieval figures (BM25, HNSW: queries/s, recall@10, bytes per vector) on SciFact;
conf/day09's capacity inputs point at its reports/day07_rag/metrics.json once that stage exists. Until then they
point here: the exact search every ANN index is judged against (recall 1 by construction), at the dimension of
the project's MiniLM embeddings, one query at a time (a matrix-vector product and a partial sort), on one
thread. Its cost grows linearly with the number of vectors (capacity scaling "linear").
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

from src import atomic_io
from src.benchmark import best_time
from src.paths import ROOT

OUTPUT = ROOT / "reports" / "bench" / "retrieval_probe.json"


def exact_top_k(index: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Ids of the k largest inner products (cosine similarity for unit vectors), best first."""
    scores = index @ query
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def measure(n_vectors: int, dim: int, k: int = 10, queries: int = 20, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    index = rng.standard_normal((n_vectors, dim), dtype=np.float32)
    index /= np.linalg.norm(index, axis=1, keepdims=True)
    probes = rng.standard_normal((queries, dim), dtype=np.float32)
    with threadpool_limits(1):
        seconds = best_time(lambda: [exact_top_k(index, q, k) for q in probes], repeats=3) / queries
    return {
        "numpy_exact": {
            "queries_per_second": 1 / seconds,
            "n_vectors": n_vectors,
            "dim": dim,
            "bytes_per_vector": index.nbytes / n_vectors,
            "recall_at_10": 1.0,  # exact search: the reference that recall is measured against
            "threads": 1,
        }
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    result = measure(args.vectors, args.dim)
    atomic_io.write_json(OUTPUT, result)
    print(result)


if __name__ == "__main__":
    main()
