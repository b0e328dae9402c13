"""The service's online-feature read: snapshots materialised into the online store, the latest row per repo."""

import pandas as pd

from src.production.issue_features import FEATURES, OnlineRepoFeatures, repo_snapshots
from src.production.serving_config import load_serving_config


def issues():
    return pd.DataFrame(
        {
            "repo": ["a/x", "a/x", "a/x", "b/y"],
            "created_at": ["2023-01-01", "2023-01-05", "2023-03-01", "2023-02-01"],
            "label": ["bug", "bug", "question", "feature"],
        }
    )


def test_lookup_gives_the_latest_snapshot_per_repo_and_null_for_unknown():
    delay = pd.Timedelta(hours=24)
    store = OnlineRepoFeatures(issues(), delay, window=2)
    assert store.rows == 2
    latest = repo_snapshots(issues(), delay, 2).groupby("repo").tail(1).set_index("repo")
    got = store.lookup("a/x")
    assert set(got) == set(FEATURES)
    assert got == {name: float(latest.loc["a/x", name]) for name in FEATURES}
    assert got["labelled_issues"] == 3.0 and got["bug_share"] == (2 + 1) / (3 + 3)
    assert store.lookup(" b/y ")["feature_share"] == 2 / 4
    assert store.lookup("nobody/none") is None
    assert store.lookup(None) is None and store.lookup("") is None and store.lookup(42) is None


def test_online_features_are_off_by_default():
    config = load_serving_config()
    assert config.online_features.enabled is False
    assert config.model_breaker.failures >= 1 and config.model_breaker.reset_s > 0
