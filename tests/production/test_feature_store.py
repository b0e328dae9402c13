"""Point-in-time join, online store and push, and the same answers from Feast on the same definitions."""

import numpy as np
import pandas as pd
import pytest

from src.production import issue_features
from src.production.feature_store import FeatureDefinitionError, FeatureView, OfflineStore, OnlineStore

T = pd.Timestamp("2024-01-01", tz="UTC")
VIEW = FeatureView("stats", "repo", ("x", "y"), ttl=pd.Timedelta(days=10))
ROWS = pd.DataFrame(
    {
        "repo": ["a", "a", "a", "b"],
        "event_timestamp": [T, T + pd.Timedelta(days=2), T + pd.Timedelta(days=5), T + pd.Timedelta(days=1)],
        "x": [1.0, 2.0, 3.0, 10.0],
        "y": [0.1, 0.2, 0.3, 1.0],
    }
)
ENTITIES = pd.DataFrame(
    {
        "repo": ["a", "a", "a", "b", "b", "a"],
        "event_timestamp": [T + pd.Timedelta(days=d) for d in (1, 2, 4.9, 0.5, 30, 14)],
    }
)


def test_point_in_time_join_takes_the_newest_row_not_after_the_entity_time():
    store = OfflineStore()
    store.register(VIEW, ROWS)
    frame = store.get_historical_features(ENTITIES, "stats")
    # exact timestamp counts (day 2); day 4.9 must not see day 5; b at 0.5 has nothing yet; b at 30 is stale
    np.testing.assert_array_equal(frame["x"].to_numpy(), [1.0, 2.0, 2.0, np.nan, np.nan, 3.0])
    assert list(frame["repo"]) == list(ENTITIES["repo"])
    naive = store.naive_join(ENTITIES, "stats")
    np.testing.assert_array_equal(naive["x"], [3.0, 3.0, 3.0, 10.0, 10.0, 3.0])  # the future, everywhere


def test_online_materialize_and_push():
    offline = OfflineStore()
    offline.register(VIEW, ROWS)
    online = OnlineStore()
    assert online.materialize(offline, "stats", T - pd.Timedelta(days=1), T + pd.Timedelta(days=3)) == 2
    now = T + pd.Timedelta(days=6)
    assert online.get_online_features(VIEW, ["a", "b", "c"], now=now)["x"].tolist()[:2] == [2.0, 10.0]
    online.push(VIEW, ROWS.iloc[[2]])
    online.push(VIEW, ROWS.iloc[[0]])  # older than what is held: ignored
    got = online.get_online_features(VIEW, ["a", "c"], now=now)
    assert got["x"].tolist()[0] == 3.0 and np.isnan(got["x"].tolist()[1])
    assert np.isnan(online.get_online_features(VIEW, ["b"], now=T + pd.Timedelta(days=20))["x"][0])  # ttl


@pytest.mark.parametrize(
    "view, rows, message",
    [
        (FeatureView("v", "repo", ("x", "z")), ROWS, "lacks column"),
        (FeatureView("v", "repo", ()), ROWS, "at least one feature"),
        (FeatureView("v", "repo", ("x", "x")), ROWS, "distinct"),
        (FeatureView("v", "repo", ("x",), ttl=pd.Timedelta(0)), ROWS, "ttl"),
    ],
)
def test_a_malformed_feature_definition_fails_at_registration(view, rows, message):
    with pytest.raises(FeatureDefinitionError, match=message):
        OfflineStore().register(view, rows)


def test_issue_snapshots_never_show_an_issue_its_own_label():
    frame = pd.DataFrame(
        {
            "repo": ["r"] * 4,
            "created_at": ["2024-01-01 00:00:00", "2024-01-02 00:00:00", "2024-01-03 00:00:00", "2024-01-03 00:00:00"],
            "label": ["bug", "bug", "question", "feature"],
        }
    )
    view = FeatureView("s", "repo", tuple(issue_features.FEATURES))
    store = OfflineStore()
    store.register(view, issue_features.repo_snapshots(frame, pd.Timedelta(hours=1), window=2))
    joined = store.get_historical_features(issue_features.entity_frame(frame), "s")
    assert np.isnan(joined["labelled_issues"][0])
    assert joined["labelled_issues"].tolist()[1:] == [1.0, 2.0, 2.0]  # same-instant issues see neither label
    assert joined["bug_share"][2] == pytest.approx((2 + 1) / (2 + 3))
    leaky = OfflineStore()
    leaky.register(view, issue_features.repo_snapshots(frame, pd.Timedelta(0), window=2))
    assert leaky.get_historical_features(issue_features.entity_frame(frame), "s")["labelled_issues"][0] == 1.0
    with pytest.raises(ValueError, match="created_at"):
        issue_features.repo_snapshots(frame.drop(columns="created_at"), pd.Timedelta(0), 2)


def test_same_training_frame_and_online_values_as_feast(tmp_path):
    from src.production.feast_store import compare_with_feast

    push = pd.DataFrame({"repo": ["a"], "event_timestamp": [T + pd.Timedelta(days=6)], "x": [4.0], "y": [0.4]})
    metrics, ours = compare_with_feast(tmp_path / "feast", VIEW, ROWS, ENTITIES, push)
    assert metrics["historical_max_abs_diff"] == 0 and metrics["historical_missing_mismatches"] == 0
    assert metrics["online_max_abs_diff"] == 0 and metrics["online_missing_mismatches"] == 0
    assert metrics["push_max_abs_diff"] == 0 and metrics["push_missing_mismatches"] == 0
    assert len(ours) == len(ENTITIES)
