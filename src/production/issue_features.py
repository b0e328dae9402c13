"""Per-repository features of the issue stream that change over time, and so can leak.

For each repository, after each issue's label becomes known, one snapshot row of its state:
    labelled_issues          issues of this repository labelled so far
    bug_share, feature_share, question_share         smoothed label shares so far: (count + 1) / (n + 3)
    recent_bug_share, recent_feature_share, recent_question_share   the same over the last `window` labels
    issues_30d               issues this repository opened in the 30 days up to the snapshot

The snapshot's event timestamp is when its newest label became known: created_at + label_delay (a label is not
known the moment an issue is opened). Joining these rows to an issue *as of its created_at* (point in time)
therefore never shows the model the issue's own label nor any later one. The classic mistake stamps the rows
with created_at (label latency forgotten): the same point-in-time join then includes the issue's own label in
its features, and cross-validation rewards the leak (the stage measures by how much).
"""

import pandas as pd

from src.capstone.data import LABELS

SHARE_FEATURES = [f"{label}_share" for label in LABELS]
RECENT_FEATURES = [f"recent_{label}_share" for label in LABELS]
FEATURES = ["labelled_issues", *SHARE_FEATURES, *RECENT_FEATURES, "issues_30d"]
ENTITY, TIMESTAMP = "repo", "event_timestamp"


def issue_times(frame: pd.DataFrame) -> pd.Series:
    """created_at as UTC timestamps; a clear error when the column is missing or unreadable."""
    if "created_at" not in frame.columns:
        raise ValueError("the issue frame has no created_at column: point-in-time features need it")
    times = pd.to_datetime(frame["created_at"], utc=True, errors="coerce")
    if times.isna().any():
        rows = frame.index[times.isna()].tolist()[:5]
        raise ValueError(f"created_at is empty or unreadable in rows {rows}")
    return times


def repo_snapshots(frame: pd.DataFrame, label_delay: pd.Timedelta, window: int) -> pd.DataFrame:
    """One row per (repo, time a label became known), columns repo, event_timestamp and FEATURES."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    data = pd.DataFrame({"repo": frame["repo"].to_numpy(), "label": frame["label"].to_numpy()})
    data["created"] = issue_times(frame).to_numpy()
    data = data.sort_values(["repo", "created"], kind="stable")
    rows = []
    for repo, issues in data.groupby("repo", sort=True):
        created = issues["created"].reset_index(drop=True)
        counts = dict.fromkeys(LABELS, 0)
        recent: list[str] = []
        for i, (label, when) in enumerate(zip(issues["label"], created, strict=True)):
            counts[label] += 1
            recent = [*recent, label][-window:]
            n = i + 1
            opened_30d = int(((created > when - pd.Timedelta(days=30)) & (created <= when)).sum())
            row = {ENTITY: repo, TIMESTAMP: when + label_delay, "labelled_issues": float(n)}
            row.update({f"{lab}_share": (counts[lab] + 1) / (n + 3) for lab in LABELS})
            row.update({f"recent_{lab}_share": (recent.count(lab) + 1) / (len(recent) + 3) for lab in LABELS})
            row["issues_30d"] = float(opened_30d)
            rows.append(row)
    snapshots = pd.DataFrame(rows)
    # Two labels of one repository known at the same instant: keep the state after both.
    return snapshots.drop_duplicates([ENTITY, TIMESTAMP], keep="last").reset_index(drop=True)


def entity_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows to fetch features for: one per issue, (repo, event_timestamp = created_at), in frame order."""
    return pd.DataFrame({ENTITY: frame["repo"].to_numpy(), TIMESTAMP: issue_times(frame).to_numpy()})


class OnlineRepoFeatures:
    """The service's read side (serving config `online_features`): the snapshots of an issue file, materialised
    into the online store (latest row per repository), looked up per request. The view has no ttl: the embedded
    data is years old and would otherwise read as stale."""

    def __init__(self, frame: pd.DataFrame, label_delay: pd.Timedelta, window: int):
        from src.production.feature_store import FeatureView, OfflineStore, OnlineStore

        self.view = FeatureView("repo_stats", ENTITY, tuple(FEATURES), ttl=None, timestamp_field=TIMESTAMP)
        snapshots = repo_snapshots(frame, label_delay, window)
        offline = OfflineStore()
        offline.register(self.view, snapshots)
        self.online = OnlineStore()
        times = offline.rows[self.view.name][TIMESTAMP]
        self.rows = self.online.materialize(offline, self.view.name, times.min() - pd.Timedelta(seconds=1), times.max())

    def lookup(self, repo) -> dict | None:
        """The repository's latest features, or None (no repo given, or one the store has never seen)."""
        if not isinstance(repo, str) or not repo.strip():
            return None
        row = self.online.get_online_features(self.view, [repo.strip()]).iloc[0]
        values = row[list(FEATURES)]
        return None if values.isna().all() else {name: float(value) for name, value in values.items()}
