"""The benchmark measures what it says: every implementation, every size, consistent units."""

import pytest

from src.benchmark import best_time
from src.core.experiments.matmul_benchmark import benchmark_matmul, speedups


def test_rows_cover_each_implementation_and_size():
    rows = benchmark_matmul([4, 8, 16], pure_python_max_size=8, repeats=1)
    seen = {(r["implementation"], r["size"]) for r in rows}
    assert ("pure_python", 16) not in seen  # above the pure-Python cap
    assert {("numpy_blas", 16), ("numpy_rows", 16), ("pure_python", 8)} <= seen
    for row in rows:
        assert row["seconds"] > 0
        assert row["gflops"] == pytest.approx(2 * row["size"] ** 3 / row["seconds"] / 1e9)


def test_speedups_are_taken_at_the_largest_common_size():
    rows = [
        {"implementation": "pure_python", "size": 8, "seconds": 1.0},
        {"implementation": "numpy_blas", "size": 8, "seconds": 0.01},
        {"implementation": "numpy_blas", "size": 16, "seconds": 0.02},
    ]
    assert speedups(rows) == (8, {"numpy_blas": pytest.approx(100.0)})


def test_best_time_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        best_time(lambda: None, repeats=0)
