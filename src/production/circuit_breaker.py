"""A circuit breaker for outbound calls (Nygard, "Release It!", 2007), written out.

    closed    -- calls go through; consecutive failures are counted, a success resets the count. The call
                 that makes it `failure_threshold` trips the breaker: state open, and that call raises
                 CircuitOpenError (the caller learns at once that the dependency is now considered down).
    open      -- calls fail fast with CircuitOpenError, the dependency is not touched, until `reset_timeout`
                 seconds have passed since the trip.
    half-open -- the first call after the timeout is a trial: success closes the breaker (count reset),
                 failure opens it again for another `reset_timeout` (and raises CircuitOpenError).

Why: a dependency that is down answers slowly or not at all; without a breaker every request waits for its
timeout, the callers' workers pile up, and the failure spreads. With it, requests fail (or fall back) in
microseconds while the dependency recovers, and one trial request a timeout tests whether it has.

The same rules as pybreaker 1.4 (fail_max, reset_timeout, success_threshold=1, throw_new_error_on_trip=True);
tests/production/test_circuit_breaker.py plays one failure script through both and compares every step.
Exceptions listed in `excluded` (e.g. a 4xx answer: the caller's fault, not the dependency's) count as success.
"""

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpenError(RuntimeError):
    """The breaker is open: the call was not made (or it just tripped the breaker)."""


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        reset_timeout: float,
        excluded: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.monotonic,
        name: str = "breaker",
    ):
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout must be > 0 seconds, got {reset_timeout}")
        self.failure_threshold, self.reset_timeout = failure_threshold, reset_timeout
        self.excluded, self.clock, self.name = excluded, clock, name
        self._state, self.failures, self.opened_at = CLOSED, 0, None
        self.transitions: list[tuple[str, str]] = []  # (from, to), for metrics and tests
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        return self._state

    def _move(self, state: str) -> None:
        if state != self._state:
            self.transitions.append((self._state, state))
            self._state = state
        if state == OPEN:
            self.opened_at = self.clock()
        if state == CLOSED:
            self.failures = 0

    def _enter(self) -> bool:
        """Before a call: fail fast when open; move to half-open when the timeout has passed. -> is it a trial?"""
        with self._lock:
            if self._state == OPEN:
                if self.clock() < self.opened_at + self.reset_timeout:
                    raise CircuitOpenError(f"{self.name}: open, failing fast (retry after the reset timeout)")
                self._move(HALF_OPEN)
            return self._state == HALF_OPEN

    def _failure(self, error: Exception, trial: bool) -> None:
        with self._lock:
            self.failures += 1
            if trial or self.failures >= self.failure_threshold:
                self._move(OPEN)
                raise CircuitOpenError(f"{self.name}: opened after {self.failures} failure(s): {error}") from error

    @contextmanager
    def _watching(self):
        """Around one call, sync or async alike: fail fast or admit it, then count its outcome."""
        trial = self._enter()
        try:
            yield
        except self.excluded:
            self._success()
            raise
        except Exception as error:
            self._failure(error, trial)
            raise
        self._success()

    def call(self, fn: Callable, *args, **kwargs):
        with self._watching():
            return fn(*args, **kwargs)

    async def call_async(self, fn: Callable, *args, **kwargs):
        """The same for a coroutine function (the service's call to its model service)."""
        with self._watching():
            return await fn(*args, **kwargs)

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when not open)."""
        if self._state != OPEN:
            return 0.0
        return max(0.0, self.opened_at + self.reset_timeout - self.clock())

    def _success(self) -> None:
        with self._lock:
            self.failures = 0
            if self._state == HALF_OPEN:
                self._move(CLOSED)

    def __call__(self, fn: Callable) -> Callable:
        """Use as a decorator: @breaker."""

        def wrapped(*args, **kwargs):
            return self.call(fn, *args, **kwargs)

        return wrapped
