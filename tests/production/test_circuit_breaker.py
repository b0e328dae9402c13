"""The circuit breaker step by step, against pybreaker on the same script, and against a real failing server."""

import pytest

from src.production import breaker_drill
from src.production.circuit_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpenError


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def fail():
    raise ConnectionError("down")


def test_states_closed_open_half_open_closed():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock)
    with pytest.raises(ConnectionError):
        breaker.call(fail)
    assert breaker.state == CLOSED
    with pytest.raises(CircuitOpenError):  # the tripping call says so
        breaker.call(fail)
    assert breaker.state == OPEN
    calls = []
    with pytest.raises(CircuitOpenError):
        breaker.call(calls.append, 1)
    assert calls == []  # open: the dependency is not touched
    clock.now = 10.0
    assert breaker.call(lambda: "up") == "up"
    assert breaker.state == CLOSED and breaker.transitions == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


def test_a_failed_trial_reopens_for_another_timeout():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    with pytest.raises(CircuitOpenError):
        breaker.call(fail)
    clock.now = 5.0
    with pytest.raises(CircuitOpenError):
        breaker.call(fail)
    assert breaker.state == OPEN and breaker.opened_at == 5.0
    clock.now = 9.9
    with pytest.raises(CircuitOpenError, match="failing fast"):
        breaker.call(lambda: "up")


def test_success_resets_the_count_and_excluded_errors_are_not_failures():
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=1, excluded=(ValueError,))
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(fail)
        breaker.call(lambda: None)
    for _ in range(5):
        with pytest.raises(ValueError):
            breaker.call(int, "x")
    assert breaker.state == CLOSED


def test_same_behaviour_as_pybreaker_on_a_failure_script():
    result = breaker_drill.compare_with_pybreaker(breaker_drill.DEFAULT_SCRIPT, failure_threshold=3, reset_timeout=0.2)
    assert result["ours"] == result["pybreaker"] and result["mismatches"] == 0
    assert result["fail_fast_calls"] >= 2


def test_against_a_real_fault_injecting_server():
    rows = {
        row["phase"]: row for row in breaker_drill.fault_drill(3, reset_timeout=0.3, timeout=0.1, calls_per_phase=6)
    }
    assert rows["ok"]["ok"] == 6 and rows["ok"]["state_after"] == CLOSED
    assert rows["error"]["reached_server"] == 3 and rows["error"]["open"] == 4  # 3rd failure trips, 3 fail fast
    assert rows["slow"]["reached_server"] == 1 and rows["slow"]["open"] == 6  # the trial timed out: open again
    assert rows["slow"]["mean_wait_ms"] < 100  # one 0.1 s timeout, five calls that did not wait
    assert rows["recovered"]["ok"] == 6 and rows["recovered"]["state_after"] == CLOSED


@pytest.mark.parametrize(
    "kwargs", [{"failure_threshold": 0, "reset_timeout": 1}, {"failure_threshold": 1, "reset_timeout": 0}]
)
def test_bad_settings(kwargs):
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)
