"""Canary with automatic rollback, and the blue-green alias switch (in memory and on a real MLflow registry)."""

import numpy as np
import pytest

from src.production import rollout


def test_routing_is_stable_per_request_and_hits_the_share():
    canary = rollout.Canary(share=0.1, max_error_rate=0.5, min_requests=10)
    routes = [canary.route(f"req-{i}") for i in range(20000)]
    assert routes == [canary.route(f"req-{i}") for i in range(20000)]
    assert abs(routes.count(rollout.CHALLENGER) / 20000 - 0.1) < 0.01


def test_a_bad_challenger_is_rolled_back_once_the_bound_is_passed():
    canary = rollout.Canary(share=0.2, max_error_rate=0.3, min_requests=20)
    n = 2000
    rows = rollout.canary_replay(canary, range(n), np.ones(n, bool), np.zeros(n, bool))
    assert canary.rolled_back and canary.rolled_back_after == 20  # every answer wrong: trips at the minimum
    served = [r["model"] for r in rows]
    last_challenger = max(i for i, m in enumerate(served) if m == rollout.CHALLENGER)
    assert served.count(rollout.CHALLENGER) == 20 and last_challenger < 200
    assert all(canary.route(f"x{i}") == rollout.CHAMPION for i in range(100))
    canary.reset()
    assert not canary.rolled_back and canary.error_rate(rollout.CHALLENGER) == 0


def test_a_good_challenger_keeps_its_share():
    rng = np.random.default_rng(0)
    canary = rollout.Canary(share=0.3, max_error_rate=0.3, min_requests=20)
    rollout.canary_replay(canary, range(3000), rng.random(3000) < 0.7, rng.random(3000) < 0.85)
    assert not canary.rolled_back
    assert canary.error_rate(rollout.CHALLENGER) < 0.2


@pytest.mark.parametrize("kwargs", [{"share": 1.5}, {"max_error_rate": -0.1}, {"min_requests": 0}])
def test_canary_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError):
        rollout.Canary(**{"share": 0.1, "max_error_rate": 0.2, "min_requests": 5, **kwargs})
    with pytest.raises(ValueError, match="champion"):
        rollout.Canary(0.1, 0.2, 5).record("other", True)


def test_blue_green_switch_and_rollback_in_memory():
    aliases = rollout.MemoryAliases({"blue": "1", "green": "2"})
    switch = rollout.BlueGreen(aliases)
    assert switch.live_version == "1" and switch.live_side() == "blue"
    with pytest.raises(ValueError, match="roll back"):
        switch.rollback()
    assert switch.switch() == "2" and aliases.get("live") == "2"
    assert switch.rollback() == "1"
    with pytest.raises(ValueError, match="green"):
        rollout.BlueGreen(rollout.MemoryAliases({"blue": "1"}))


def test_blue_green_moves_a_real_mlflow_registry_alias(tracking_store, tmp_path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_store)
    client.create_registered_model("m")
    for _ in range(2):
        client.create_model_version("m", str(tmp_path))
    aliases = rollout.MlflowAliases(client, "m")
    aliases.set("blue", "1")
    aliases.set("green", "2")
    switch = rollout.BlueGreen(aliases)
    switch.switch()
    assert str(client.get_model_version_by_alias("m", "live").version) == "2"
    switch.rollback()
    assert str(client.get_model_version_by_alias("m", "live").version) == "1"
    assert aliases.get("nope") is None
