"""Timing helpers shared by stages and `make bench`: measure, don't guess."""

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeats: int = 3, min_seconds: float = 0.1, max_calls: int = 1000) -> float:
    """Seconds for the fastest call of `fn`.

    One untimed warm-up call first (page faults, BLAS thread-pool start-up, cold caches), then at least
    `repeats` timed calls, and more until `min_seconds` have been spent, so microsecond-scale calls are
    measured many times. The minimum is the least noisy estimate of the cost: every slower call was slowed
    by something else on the machine, never by the code itself."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    fn()
    best, spent, calls = float("inf"), 0.0, 0
    while calls < repeats or (spent < min_seconds and calls < max_calls):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return best
