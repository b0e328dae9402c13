"""The load test's arithmetic: the model's ceiling from its batch curve, and the figure that draws it."""

import pytest

from src.production.loadtest import offline_issues_per_second
from src.visualization.serving import load_test_figure

CURVE = [
    {"batch_size": 1, "ms_per_call": 30.0, "ms_per_issue": 30.0},
    {"batch_size": 8, "ms_per_call": 80.0, "ms_per_issue": 10.0},
    {"batch_size": 32, "ms_per_call": 384.0, "ms_per_issue": 12.0},
]


def test_the_ceiling_is_the_cheapest_batch_size_per_issue():
    assert offline_issues_per_second(CURVE) == pytest.approx(100.0)  # 10 ms per issue at batch 8


def test_the_figure_draws_the_ceiling_next_to_the_servers():
    results = {
        "bentoml_batched": [
            {"clients": c, "throughput_rps": r, "p50_ms": 50, "p99_ms": 90}
            for c, r in ((1, 30.0), (8, 70.0), (32, 82.0))
        ]
    }
    figure = load_test_figure(results, CURVE, offline_issues_per_second(CURVE))
    throughput = figure.axes[0]
    assert [line.get_label() for line in throughput.lines] == ["bentoml_batched", "the model alone, best batch"]
    assert throughput.lines[1].get_ydata()[0] == pytest.approx(100.0)
