"""The roadmap's exercise "benchmark pure Python vs NumPy", for square matrix multiplication.

Three implementations of the same 2n^3 floating-point operations:
- pure_python: a triple loop over Python lists (every multiply-add is interpreted bytecode);
- numpy_rows: one Python loop over rows, each row times B done by NumPy (the interpreter cost drops n^2-fold);
- numpy_blas: A @ B, one call into an optimised BLAS (cache blocking, SIMD, both cores).

    python -m src.core.experiments.matmul_benchmark          # `make bench`: writes reports/bench/day01_matmul.json
"""

import argparse
from functools import partial

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

from src import atomic_io
from src.benchmark import best_time
from src.config import validate_or_exit
from src.core.linear_algebra import matmul_numpy_rows, matmul_pure_python
from src.paths import PARAMS_FILE, REPORTS

IMPLEMENTATIONS = ("pure_python", "numpy_rows", "numpy_blas")


def benchmark_matmul(sizes, pure_python_max_size: int, repeats: int, seed: int = 0) -> list[dict]:
    """One row per (implementation, size): seconds (fastest call) and GFLOP/s = 2 n^3 / seconds / 1e9.
    The pure-Python loop only runs up to `pure_python_max_size`: at n=1024 it would take an hour."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in tqdm(sizes, desc="matmul benchmark", unit="size"):
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        A_list, B_list = A.tolist(), B.tolist()  # converted outside the timed region
        calls = {
            "pure_python": partial(matmul_pure_python, A_list, B_list),
            "numpy_rows": partial(matmul_numpy_rows, A, B),
            "numpy_blas": partial(np.matmul, A, B),
        }
        for name in IMPLEMENTATIONS:
            if name == "pure_python" and n > pure_python_max_size:
                continue
            seconds = best_time(calls[name], repeats)
            rows.append({"implementation": name, "size": n, "seconds": seconds, "gflops": 2 * n**3 / seconds / 1e9})
    return rows


def speedups(rows: list[dict], baseline: str = "pure_python") -> tuple[int, dict[str, float]]:
    """(n, {implementation: speed-up over `baseline`}) at n, the largest size the baseline ran."""
    seconds = {(r["implementation"], r["size"]): r["seconds"] for r in rows}
    common = max(size for impl, size in seconds if impl == baseline)
    return common, {
        impl: seconds[(baseline, common)] / seconds[(impl, common)]
        for impl in IMPLEMENTATIONS
        if impl != baseline and (impl, common) in seconds
    }


def main():
    from pipelines.day01_math import SCHEMA, SECTION  # the stage's schema: the CLI is checked like the stage

    cfg = OmegaConf.load(PARAMS_FILE)
    defaults = validate_or_exit(cfg, SECTION, SCHEMA).matmul
    parser = argparse.ArgumentParser(description="Time pure-Python vs NumPy matrix multiplication.")
    parser.add_argument("--sizes", type=int, nargs="+", default=defaults.sizes)
    parser.add_argument("--pure-python-max-size", type=int, default=defaults.pure_python_max_size)
    parser.add_argument("--repeats", type=int, default=defaults.repeats)
    args = parser.parse_args()
    rows = benchmark_matmul(args.sizes, args.pure_python_max_size, args.repeats, cfg.seed)
    size, speedup = speedups(rows)
    result = {"rows": rows, "speedup_vs_pure_python": speedup, "speedup_size": size}
    path = atomic_io.write_json(REPORTS / "bench" / "day01_matmul.json", result)
    for row in rows:
        impl, n = row["implementation"], row["size"]
        print(f"{impl:>12} n={n:>5}  {row['seconds']:.6f} s  {row['gflops']:8.3f} GFLOP/s")
    print(f"speed-up over pure Python at n={size}:", {k: round(v, 1) for k, v in speedup.items()}, "->", path)


if __name__ == "__main__":
    main()
