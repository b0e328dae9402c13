"""Token bucket: bursts up to capacity, sustained rate, Retry-After, per-key isolation."""

import pytest

from src.production.rate_limit import TokenBucketLimiter, replay_arrivals


def test_burst_then_refill_at_the_rate():
    decisions = replay_arrivals(rate=2.0, capacity=3, arrivals=[0, 0, 0, 0, 0.25, 0.5, 1.0])
    assert [d.allowed for d in decisions] == [True, True, True, False, False, True, True]
    assert decisions[3].retry_after == pytest.approx(0.5)  # one token takes 1/rate seconds
    assert decisions[4].retry_after == pytest.approx(0.25)
    assert decisions[3].retry_after_header == "1"


def test_sustained_rate_is_the_refill_rate():
    arrivals = [i * 0.01 for i in range(1000)]  # 100 requests/s for 10 s against 5/s
    allowed = sum(d.allowed for d in replay_arrivals(5.0, 10, arrivals))
    assert allowed == pytest.approx(10 + 5 * 9.99, abs=2)


def test_keys_have_their_own_buckets_and_full_idle_buckets_are_dropped():
    now = [0.0]
    limiter = TokenBucketLimiter(1.0, 1, clock=lambda: now[0], max_keys=2)
    assert limiter.take("a").allowed and not limiter.take("a").allowed
    assert limiter.take("b").allowed
    now[0] = 5.0
    limiter.take("c")
    assert "a" not in limiter.buckets and "b" not in limiter.buckets


def test_bad_settings():
    with pytest.raises(ValueError):
        TokenBucketLimiter(0, 1)
    with pytest.raises(ValueError):
        TokenBucketLimiter(1, 0.5)


def test_middleware_answers_429_with_retry_after_and_leaves_probes_alone():
    import asyncio

    from src.production.rate_limit import RateLimitMiddleware

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    now = [0.0]
    middleware = RateLimitMiddleware(app, TokenBucketLimiter(0.5, 2, clock=lambda: now[0]))

    def call(path, key=b"Bearer a"):
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": path, "headers": [(b"authorization", key)], "client": ("127.0.0.1", 1)}
        asyncio.run(middleware(scope, None, send))
        return sent[0]

    assert [call("/classify")["status"] for _ in range(3)] == [200, 200, 429]
    refused = call("/classify")
    assert dict(refused["headers"])[b"retry-after"] == b"2"  # one token at 0.5/s
    assert call("/classify", key=b"Bearer b")["status"] == 200  # another key, another bucket
    assert call("/metrics")["status"] == 200
    now[0] = 2.0
    assert call("/classify")["status"] == 200
