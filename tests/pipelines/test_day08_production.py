"""Day 8 end to end under profile=smoke: bandits, replay, canaries, feature joins, breaker and rate limit recorded."""

import json

from mlflow.tracking import MlflowClient

import pipelines.day08_production as day08
from tests.conftest import run_stage


def test_smoke_stage_records_every_pattern(tracking_store, smoke_config, tmp_path):
    day08.main(smoke_config())

    out = tmp_path / "reports" / "day08_production"
    m = json.loads((out / "metrics.json").read_text())
    # 100 runs x 100 pulls: random loses ~41 per run; a bandit that learns nothing cannot get near these.
    assert m["bandit_thompson"]["mean_regret"] < 0.6 * m["bandit_random"]["mean_regret"]
    assert m["bandit_thompson"]["mean_regret"] < m["bandit_ucb1"]["mean_regret"]
    assert 35 < m["bandit_random"]["mean_regret"] < 47
    # 3 balanced classes: chance is 1/3
    assert m["sklearn_tfidf_challenger"]["oof_accuracy"] > 0.45
    assert m["tfidf_repo_features_none"]["cv_mean_repo_macro_f1"] > 0.4
    assert 0 <= m["thompson_replay"]["challenger_share_overall"] <= 1
    assert m["canary_worse_challenger"]["challenger_share_overall"] < 0.2
    assert m["scratch_vs_pybreaker_breaker"]["mismatches"] == 0 and m["scratch_vs_pybreaker_breaker"]["fail_fast"] > 0
    assert m["breaker_fault_error"]["reached_server"] == 3  # the threshold, then fail fast
    assert m["breaker_fault_recovered"]["ok"] == m["breaker_fault_recovered"]["calls"]
    bucket = m["token_bucket"]
    assert abs(bucket["allowed"] - bucket["expected_allowed"]) <= 1 and bucket["allowed"] < bucket["offered"]

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day08-production")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    assert parent.data.params["day08.bandits.runs"] == "100"
    variants = {r.data.tags["variant"] for r in runs if "variant" in r.data.tags}
    assert {"bandit_thompson", "scratch_vs_pybreaker_breaker", "tfidf_repo_features_point_in_time"} <= variants
    figures = {a.path.removeprefix("figures/") for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert figures == {"regret_curves.png", "traffic_share.png", "leakage.png"}
    assert {p.name for p in (out / "plots").iterdir()} == {"regret_curves.csv", "traffic_share.csv", "leakage.csv"}
    assert (out / "tables" / "breaker_fault_drill.csv").exists()


def test_bad_config_value_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("day08_production", "profile=smoke", "day08.canary.share=1.5")
    assert result.returncode == 1
    assert "day08.canary.share" in result.stderr
