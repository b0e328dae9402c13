"""Benchmark: our HNSW against hnswlib and brute force on ann-benchmarks' full MNIST-784 layout, in one process.

    python -m src.production.hnsw_benchmark                          # 60,000 base / 10,000 queries
    python -m src.production.hnsw_benchmark --base 20000 --queries 1000   # the day07_rag stage's subset
    -> reports/bench/day07_hnsw_mnist.json and .png

The day07_rag stage runs the same sweep (src/production/ann_benchmark.py) on a 20k/1k subset so that it fits the
stage's time budget; this is the full layout: the 60,000 training images as the base, the 10,000 test images as
queries, exact neighbours by brute force, recall@10 and queries/s (one query at a time, one thread) at each
search-time ef, M and ef_construction equal for ours and hnswlib.
"""

import argparse
import time

from tqdm import tqdm

from src import atomic_io
from src.data.mnist import as_float, load_mnist
from src.paths import REPORTS
from src.production.ann_benchmark import best_at_recall, sweep


def run(base_size: int, query_size: int, M: int, ef_construction: int, efs: list[int], target: float) -> dict:
    (train_images, _), (test_images, _) = load_mnist()
    base = as_float(train_images[:base_size]).reshape(base_size, -1)
    queries = as_float(test_images[:query_size]).reshape(query_size, -1)
    start = time.perf_counter()
    rows, summary = sweep(base, queries, M, ef_construction, efs, progress=tqdm)
    brute = summary["brute_force"]["queries_per_second"]
    chosen = {}
    for name in ("scratch_hnsw", "hnswlib"):
        row = best_at_recall(rows, name, target)
        chosen[name] = None if row is None else {**row, "speedup_vs_brute_force": row["queries_per_second"] / brute}
    ours = chosen["scratch_hnsw"]
    return {
        "base_size": base_size, "query_size": query_size, "dim": int(base.shape[1]), "M": M,
        "ef_construction": ef_construction, "target_recall": target, "rows": rows, "summary": summary,
        "fastest_at_target": chosen,
        "ours_vs_hnswlib_qps_at_equal_ef": {
            r["ef"]: r["queries_per_second"] / t["queries_per_second"]
            for r in rows if r["index"] == "scratch_hnsw"
            for t in rows if t["index"] == "hnswlib" and t["ef"] == r["ef"]
        },
        "ours_meets_target": bool(ours and ours["speedup_vs_brute_force"] >= 10),
        "seconds": time.perf_counter() - start,
    }  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=60000)
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument("--efs", type=int, nargs="+", default=[10, 20, 40, 80, 160])
    parser.add_argument("--target-recall", type=float, default=0.95)
    args = parser.parse_args(argv)
    results = run(args.base, args.queries, args.M, args.ef_construction, args.efs, args.target_recall)
    out = REPORTS / "bench" / "day07_hnsw_mnist.json"
    atomic_io.write_json(out, results)

    import matplotlib.pyplot as plt

    from src.visualization.rag import ann_tradeoff

    fig = ann_tradeoff(results["rows"], f"MNIST-784, {args.base:,} base / {args.queries:,} queries, M={args.M}")
    fig.savefig(out.with_suffix(".png"), dpi=120)
    plt.close(fig)
    for name, row in results["fastest_at_target"].items():
        print(name, row, results["summary"][name])
    print("brute force", results["summary"]["brute_force"])
    print(f"written to {out}")


if __name__ == "__main__":
    main()
