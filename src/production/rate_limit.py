"""A token bucket per key (API key, client address): the service's rate limit.

Each key has a bucket of `capacity` tokens, refilled continuously at `rate` tokens per second up to the
capacity. A request takes one token; with none left it is refused (HTTP 429) and told when a token will be there
(Retry-After = (1 - tokens) / rate seconds, rounded up for the header). Capacity is the burst a client may send
at once; rate the sustained requests per second. Buckets are created on first use and idle full ones are
dropped so that memory does not grow with the number of keys ever seen.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: float  # tokens left after this request
    retry_after: float  # seconds until a token is available (0 when allowed)

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class TokenBucketLimiter:
    def __init__(self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic, max_keys=100_000):
        if rate <= 0 or capacity < 1:
            raise ValueError(f"token bucket needs rate > 0 and capacity >= 1, got rate={rate}, capacity={capacity}")
        self.rate, self.capacity, self.clock, self.max_keys = rate, capacity, clock, max_keys
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, time of last update)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, then = self.buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - then) * self.rate)

    def take(self, key: str, cost: float = 1.0) -> Decision:
        with self._lock:
            now = self.clock()
            tokens = self._tokens(key, now)
            if tokens >= cost:
                self.buckets[key] = (tokens - cost, now)
                decision = Decision(True, tokens - cost, 0.0)
            else:
                self.buckets[key] = (tokens, now)
                decision = Decision(False, tokens, (cost - tokens) / self.rate)
            if len(self.buckets) > self.max_keys:
                self._drop_full(now)
            return decision

    def _drop_full(self, now: float) -> None:
        for key in [k for k in self.buckets if self._tokens(k, now) >= self.capacity]:
            del self.buckets[key]


def replay_arrivals(rate: float, capacity: float, arrivals) -> list[Decision]:
    """Decisions for one key's requests arriving at the given times (seconds from 0), on a simulated clock."""
    now = [0.0]
    limiter = TokenBucketLimiter(rate, capacity, clock=lambda: now[0])
    decisions = []
    for when in arrivals:
        now[0] = float(when)
        decisions.append(limiter.take("client"))
    return decisions


class RateLimitMiddleware:
    """ASGI middleware: one token bucket per key (the bearer token if any, else the client address); a request
    without a token gets 429 with Retry-After, before the app reads its body. Probe routes are not limited."""

    def __init__(
        self, app, limiter: TokenBucketLimiter, open_paths=frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
    ):
        self.app, self.limiter, self.open_paths = app, limiter, open_paths

    @staticmethod
    def key(scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                return "key:" + value.decode("latin-1")
        client = scope.get("client") or ("unknown", 0)
        return f"addr:{client[0]}"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") in self.open_paths:
            return await self.app(scope, receive, send)
        decision = self.limiter.take(self.key(scope))
        if decision.allowed:
            return await self.app(scope, receive, send)
        body = b'{"detail": "rate limit exceeded: retry after the Retry-After header\'s seconds"}'
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", decision.retry_after_header.encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
