"""Benchmark: day 8's from-scratch pieces against their references, in one process.

    python -m src.production.benchmark        # -> reports/bench/day08_production.json

- circuit breaker: the cost of one successful call through ours and through pybreaker 1.4 (the breaker sits on
  every outbound call, so its overhead matters);
- point-in-time join: ours (pandas merge_asof) and Feast's file offline store on the same view and the 1500 issues;
- token bucket and the Thompson-sampling router decision: cost per request (no library reference).
Each time is src.benchmark.best_time: a warm-up call, then the fastest of several.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from src import atomic_io
from src.benchmark import best_time
from src.paths import REPORTS


def breaker_overhead() -> dict:
    import pybreaker

    from src.production.circuit_breaker import CircuitBreaker

    ours, theirs = CircuitBreaker(5, 60), pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    noop = int  # a cheap dependency: int() -> 0

    def many(breaker_call):
        return lambda: [breaker_call(noop) for _ in range(1000)]

    ours_s = best_time(many(ours.call), repeats=5) / 1000
    theirs_s = best_time(many(theirs.call), repeats=5) / 1000
    return {"ours_us_per_call": 1e6 * ours_s, "pybreaker_us_per_call": 1e6 * theirs_s, "ratio": ours_s / theirs_s}


def join_times() -> dict:
    from src.capstone.data import TRAIN_FILE, load_issues
    from src.data import verified_path
    from src.production import issue_features
    from src.production.feast_store import FeastRepo
    from src.production.feature_store import FeatureView, OfflineStore

    frame = load_issues(verified_path(TRAIN_FILE))
    rows = issue_features.repo_snapshots(frame, pd.Timedelta(hours=24), 10)
    view = FeatureView("repo_stats", "repo", tuple(issue_features.FEATURES), ttl=pd.Timedelta(days=365))
    entities = issue_features.entity_frame(frame)
    store = OfflineStore()
    store.register(view, rows)
    ours_s = best_time(lambda: store.get_historical_features(entities, view.name), repeats=5)
    with tempfile.TemporaryDirectory() as folder:
        feast = FeastRepo(Path(folder), view, rows)
        feast_s = best_time(lambda: feast.get_historical_features(entities), repeats=3)
    return {"rows": len(entities), "ours_seconds": ours_s, "feast_seconds": feast_s, "ratio": ours_s / feast_s}


def per_request_costs() -> dict:
    from src.production.ab_testing import ThompsonSampling
    from src.production.rate_limit import TokenBucketLimiter

    limiter = TokenBucketLimiter(1e9, 1e9)
    bucket_s = best_time(lambda: [limiter.take("k") for _ in range(1000)], repeats=5) / 1000
    policy, rng = ThompsonSampling(2, runs=1), np.random.default_rng(0)

    def decide():
        for _ in range(1000):
            policy.update(policy.select(rng), [1.0])

    thompson_s = best_time(decide, repeats=5) / 1000
    return {"token_bucket_us": 1e6 * bucket_s, "thompson_select_update_us": 1e6 * thompson_s}


def main():
    results = {"breaker": breaker_overhead(), "point_in_time_join": join_times(), "per_request": per_request_costs()}
    path = atomic_io.write_json(REPORTS / "bench" / "day08_production.json", results)
    for name, row in results.items():
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
