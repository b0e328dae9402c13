"""A feature store from scratch: feature views, an offline store with a point-in-time join, an online store.

The two halves answer two questions about the same feature definitions:
- offline (training): "what did this entity's features look like at time t?" for many (entity, t) pairs. The
  point-in-time join takes, for each entity row, the newest feature row of that entity with
      feature_timestamp <= entity_timestamp   and   feature_timestamp > entity_timestamp - ttl
  (the same rule as Feast's get_historical_features: a feature row stamped exactly at the entity time counts).
  Anything newer is the future and would leak; anything older than the ttl is stale and becomes missing (NaN).
- online (serving): "what are this entity's features now?", one lookup per request. `materialize` copies the
  newest row per key of an interval from offline to online; `push` writes a new row as it happens (the
  streaming path), kept only when it is newer than what the online store holds.

The join is pandas.merge_asof (sorted by time, matched backward per key); see tests for the check against Feast.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd


class FeatureDefinitionError(ValueError):
    """A feature view that cannot work (caught when it is registered, not at the first query)."""


@dataclass(frozen=True)
class FeatureView:
    name: str
    entity: str  # the join key column, e.g. "repo"
    features: tuple[str, ...]
    ttl: pd.Timedelta | None = None  # a feature row older than this is treated as missing; None: never stale
    timestamp_field: str = "event_timestamp"

    def check(self, rows: pd.DataFrame | None = None) -> None:
        if not self.name or not self.entity or not self.features:
            raise FeatureDefinitionError(f"feature view {self!r} needs a name, an entity and at least one feature")
        if len(set(self.features)) != len(self.features) or self.entity in self.features:
            raise FeatureDefinitionError(f"feature view {self.name!r}: features must be distinct and not the key")
        if self.ttl is not None and self.ttl <= pd.Timedelta(0):
            raise FeatureDefinitionError(f"feature view {self.name!r}: ttl must be positive or None, got {self.ttl}")
        if rows is not None:
            missing = [c for c in (self.entity, self.timestamp_field, *self.features) if c not in rows.columns]
            if missing:
                raise FeatureDefinitionError(
                    f"feature view {self.name!r}: its source lacks column(s) {missing}; it has {list(rows.columns)}"
                )


def _utc(times) -> pd.Series:
    return pd.to_datetime(pd.Series(times), utc=True)


class OfflineStore:
    def __init__(self):
        self.views: dict[str, FeatureView] = {}
        self.rows: dict[str, pd.DataFrame] = {}

    def register(self, view: FeatureView, rows: pd.DataFrame) -> None:
        view.check(rows)
        frame = rows[[view.entity, view.timestamp_field, *view.features]].copy()
        frame[view.timestamp_field] = _utc(frame[view.timestamp_field]).to_numpy()
        self.views[view.name], self.rows[view.name] = view, frame

    def _view(self, name: str) -> FeatureView:
        if name not in self.views:
            raise KeyError(f"no feature view {name!r}; registered: {sorted(self.views)}")
        return self.views[name]

    def get_historical_features(self, entity_df: pd.DataFrame, view_name: str, timestamp: str = "event_timestamp"):
        """entity_df (entity key, timestamp) -> the same rows, in the same order, with the view's features as
        they were at each row's time (NaN when none existed yet or the newest is older than the ttl)."""
        view = self._view(view_name)
        left = entity_df.copy()
        left["_order"] = np.arange(len(left))
        left["_ts"] = _utc(left[timestamp]).to_numpy()
        right = self.rows[view_name].rename(columns={view.timestamp_field: "_feature_ts"})
        joined = pd.merge_asof(
            left.sort_values("_ts"),
            right.sort_values("_feature_ts"),
            left_on="_ts",
            right_on="_feature_ts",
            by=view.entity,
            direction="backward",
            allow_exact_matches=True,
        )
        if view.ttl is not None:
            stale = joined["_feature_ts"] <= joined["_ts"] - view.ttl
            joined.loc[stale, list(view.features)] = np.nan
        joined = joined.sort_values("_order").drop(columns=["_order", "_ts", "_feature_ts"])
        return joined.reset_index(drop=True)

    def naive_join(self, entity_df: pd.DataFrame, view_name: str) -> pd.DataFrame:
        """The mistake the point-in-time join exists to prevent: every row gets the entity's *latest* values."""
        view = self._view(view_name)
        latest = self.rows[view_name].sort_values(view.timestamp_field).groupby(view.entity).tail(1)
        merged = entity_df.merge(latest.drop(columns=[view.timestamp_field]), on=view.entity, how="left")
        return merged.reset_index(drop=True)


class OnlineStore:
    """Latest feature values per (view, key), with the timestamp they were valid from."""

    def __init__(self):
        self.table: dict[tuple[str, object], tuple[pd.Timestamp, dict]] = {}

    def _write(self, view: FeatureView, rows: pd.DataFrame) -> int:
        written = 0
        for record in rows.to_dict("records"):
            key, ts = (view.name, record[view.entity]), pd.Timestamp(record[view.timestamp_field])
            if key not in self.table or ts >= self.table[key][0]:
                self.table[key] = (ts, {f: record[f] for f in view.features})
                written += 1
        return written

    def materialize(self, offline: OfflineStore, view_name: str, start, end) -> int:
        """Copy the newest row per key with start < timestamp <= end from the offline store; rows written."""
        view = offline._view(view_name)
        rows = offline.rows[view_name]
        ts = rows[view.timestamp_field]
        inside = rows[(ts > pd.Timestamp(start)) & (ts <= pd.Timestamp(end))]
        latest = inside.sort_values(view.timestamp_field).groupby(view.entity).tail(1)
        return self._write(view, latest)

    def push(self, view: FeatureView, rows: pd.DataFrame) -> int:
        """The streaming path: new feature rows as they happen (older than what is held: ignored)."""
        view.check(rows)
        rows = rows.copy()
        rows[view.timestamp_field] = _utc(rows[view.timestamp_field]).to_numpy()
        return self._write(view, rows.sort_values(view.timestamp_field))

    def get_online_features(self, view: FeatureView, keys, now=None) -> pd.DataFrame:
        """One row per key: the held values, or NaN for an unknown key or one older than the ttl at `now`."""
        now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
        out = []
        for key in keys:
            held = self.table.get((view.name, key))
            fresh = held is not None and (view.ttl is None or held[0] > now - view.ttl)
            out.append({view.entity: key, **(held[1] if fresh else dict.fromkeys(view.features, np.nan))})
        return pd.DataFrame(out)
