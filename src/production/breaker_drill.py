"""The circuit breaker's two checks, shared by the tests and the stage:

- `play_script`: one failure script (calls that succeed or fail, and waits) played through a breaker; each call's
  outcome is recorded as ok / error (the dependency's error passed through) / open (the breaker refused or just
  tripped), with whether the dependency was actually called. Run on ours and on pybreaker, the two lists must be
  equal.
- `fault_drill`: the breaker around real HTTP calls to the local fault-injecting server: healthy, then errors,
  then timeouts, then recovery; how many requests reached the server and how long the callers waited.
"""

import time

from src.production.circuit_breaker import CircuitBreaker, CircuitOpenError
from src.production.fault_server import FaultServer, get

# A script: ("ok", n) n successful calls, ("fail", n) n failing calls, ("wait", seconds).
DEFAULT_SCRIPT = [("ok", 2), ("fail", 2), ("ok", 1), ("fail", 3), ("fail", 2), ("wait", 1.5), ("fail", 1),
                  ("fail", 1), ("wait", 1.5), ("ok", 3), ("fail", 2), ("ok", 1)]  # fmt: skip


class DependencyError(RuntimeError):
    pass


def play_script(call, script, open_errors: tuple[type[BaseException], ...], time_unit: float) -> list[tuple]:
    """call(fn) runs fn through a breaker. Waits are multiplied by `time_unit` (seconds per scripted unit)."""
    outcomes = []
    for action, amount in script:
        if action == "wait":
            time.sleep(amount * time_unit)
            continue
        for _ in range(int(amount)):
            called = []

            def dependency(fail=action == "fail", called=called):
                called.append(True)
                if fail:
                    raise DependencyError("scripted failure")
                return "ok"

            try:
                call(dependency)
                outcome = "ok"
            except open_errors:
                outcome = "open"
            except DependencyError:
                outcome = "error"
            outcomes.append((action, outcome, bool(called)))
    return outcomes


def compare_with_pybreaker(script, failure_threshold: int, reset_timeout: float) -> dict:
    """Ours and pybreaker on the same script (reset_timeout seconds = one scripted time unit)."""
    import pybreaker

    ours = CircuitBreaker(failure_threshold, reset_timeout)
    reference = pybreaker.CircuitBreaker(fail_max=failure_threshold, reset_timeout=reset_timeout)
    mine = play_script(ours.call, script, (CircuitOpenError,), reset_timeout)
    theirs = play_script(reference.call, script, (pybreaker.CircuitBreakerError,), reset_timeout)
    return {
        "calls": len(mine),
        "mismatches": sum(a != b for a, b in zip(mine, theirs, strict=True)),
        "fail_fast_calls": sum(outcome == "open" and not called for _, outcome, called in mine),
        "ours": mine,
        "pybreaker": theirs,
    }


def fault_drill(failure_threshold: int, reset_timeout: float, timeout: float, calls_per_phase: int) -> list[dict]:
    """Phases ok -> error -> (wait reset_timeout) slow -> (wait) ok against a real local server; one row per phase:
    calls made, calls that reached the server, outcomes, mean seconds a caller waited, breaker state after."""
    rows = []
    breaker = CircuitBreaker(failure_threshold, reset_timeout, name="fault-server")
    with FaultServer(delay=timeout * 5) as server:
        for phase in ("ok", "error", "slow", "recovered"):
            if phase in ("slow", "recovered"):  # let the breaker go half-open: the first call is a trial
                time.sleep(reset_timeout * 1.1)
            server.mode = "ok" if phase == "recovered" else phase
            before, waited, outcomes = server.requests, [], {"ok": 0, "error": 0, "open": 0}
            for _ in range(calls_per_phase):
                started = time.perf_counter()
                try:
                    breaker.call(get, server.url, timeout)
                    outcomes["ok"] += 1
                except CircuitOpenError:
                    outcomes["open"] += 1
                except OSError:  # HTTPError (500), URLError, socket timeout
                    outcomes["error"] += 1
                waited.append(time.perf_counter() - started)
            rows.append(
                {
                    "phase": phase,
                    "calls": calls_per_phase,
                    "reached_server": server.requests - before,
                    **outcomes,
                    "mean_wait_ms": 1000 * sum(waited) / len(waited),
                    "state_after": breaker.state,
                }
            )
    return rows
