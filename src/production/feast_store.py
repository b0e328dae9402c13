"""The same feature view in Feast (the reference): local provider, file (dask) offline store, SQLite online store.

`FeastRepo` builds a Feast repository in a folder from one of our FeatureView definitions and a frame of feature
rows (written to parquet as the batch source), so both stores answer from the same data and definitions:
    get_historical_features(entity_df) -> the training frame        (ours: OfflineStore.get_historical_features)
    materialize(start, end), get_online_features(keys)               (ours: OnlineStore.materialize / get)
    push(rows)                                                       (ours: OnlineStore.push)
Feast is imported here only (it takes a few seconds to import).
"""

from pathlib import Path

import pandas as pd

from src.production.feature_store import FeatureView


class FeastRepo:
    def __init__(self, folder: Path, view: FeatureView, rows: pd.DataFrame, project: str = "issues"):
        from feast import Entity, FeatureStore, Field, FileSource, PushSource, RepoConfig, ValueType
        from feast import FeatureView as FeastFeatureView
        from feast.infra.offline_stores.dask import DaskOfflineStoreConfig
        from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
        from feast.types import Float64

        view.check(rows)
        self.view, folder = view, Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        source_path = folder / f"{view.name}.parquet"
        frame = rows[[view.entity, view.timestamp_field, *view.features]].copy()
        frame[view.timestamp_field] = pd.to_datetime(frame[view.timestamp_field], utc=True)
        frame.to_parquet(source_path, index=False)
        config = RepoConfig(
            project=project,
            registry=str(folder / "registry.db"),
            provider="local",
            offline_store=DaskOfflineStoreConfig(),
            online_store=SqliteOnlineStoreConfig(path=str(folder / "online.db")),
            entity_key_serialization_version=3,
        )
        self.store = FeatureStore(config=config)
        entity = Entity(name=view.entity, join_keys=[view.entity], value_type=ValueType.STRING)
        batch = FileSource(name=f"{view.name}_source", path=str(source_path), timestamp_field=view.timestamp_field)
        self.push_source = PushSource(name=f"{view.name}_push", batch_source=batch)
        feast_view = FeastFeatureView(
            name=view.name,
            entities=[entity],
            ttl=view.ttl.to_pytimedelta() if view.ttl is not None else None,
            schema=[Field(name=feature, dtype=Float64) for feature in view.features],
            source=self.push_source,
            online=True,
        )
        self.store.apply([entity, feast_view, self.push_source])
        self.refs = [f"{view.name}:{feature}" for feature in view.features]

    def get_historical_features(self, entity_df: pd.DataFrame) -> pd.DataFrame:
        """Feast's point-in-time join, returned in entity_df's row order with our column order.

        Observed with feast 0.67.0's file (dask) offline store: an entity row with no feature row at or before
        its time (here: each repository's first issue, before any label is known) is *dropped* from the result
        rather than returned with nulls. Such rows come back here with NaN features, as ours gives them, and
        `self.dropped_rows` counts them so the comparison can say so."""
        left = entity_df.copy()
        left["_order"] = range(len(left))
        left[self.view.timestamp_field] = pd.to_datetime(left[self.view.timestamp_field], utc=True)
        frame = self.store.get_historical_features(entity_df=left, features=self.refs).to_df()
        self.dropped_rows = len(left) - frame["_order"].nunique()
        frame = left[["_order"]].merge(frame[["_order", *self.view.features]], on="_order", how="left")
        frame = pd.concat([entity_df.reset_index(drop=True), frame[list(self.view.features)]], axis=1)
        return frame

    def materialize(self, start, end) -> None:
        self.store.materialize(
            start_date=pd.Timestamp(start).to_pydatetime(), end_date=pd.Timestamp(end).to_pydatetime()
        )

    def push(self, rows: pd.DataFrame) -> None:
        from feast.data_source import PushMode

        rows = rows.copy()
        rows[self.view.timestamp_field] = pd.to_datetime(rows[self.view.timestamp_field], utc=True)
        self.store.push(self.push_source.name, rows, to=PushMode.ONLINE)

    def get_online_features(self, keys) -> pd.DataFrame:
        rows = [{self.view.entity: key} for key in keys]
        frame = self.store.get_online_features(features=self.refs, entity_rows=rows).to_df()
        return frame[[self.view.entity, *self.view.features]]


def compare_with_feast(folder: Path, view: FeatureView, rows: pd.DataFrame, entity_df: pd.DataFrame, push_rows):
    """Ours and Feast on the same definitions and rows: the training frame, the online values after
    materialising everything, and after a push. Returns (metrics, our training frame)."""
    import time

    import numpy as np

    from src.production.feature_store import OfflineStore, OnlineStore

    def gap(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, int]:
        x, y = a[list(view.features)].to_numpy(float), b[list(view.features)].to_numpy(float)
        both = ~np.isnan(x) & ~np.isnan(y)
        return float(np.abs(x - y)[both].max(initial=0.0)), int((np.isnan(x) != np.isnan(y)).sum())

    started = time.perf_counter()
    offline = OfflineStore()
    offline.register(view, rows)
    ours = offline.get_historical_features(entity_df, view.name)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    feast = FeastRepo(folder, view, rows)
    apply_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs = feast.get_historical_features(entity_df)
    feast_seconds = time.perf_counter() - started
    historical_gap, historical_nan_mismatch = gap(ours, theirs)

    end = pd.to_datetime(rows[view.timestamp_field], utc=True).max()
    start = pd.to_datetime(rows[view.timestamp_field], utc=True).min() - pd.Timedelta(seconds=1)
    online = OnlineStore()
    online.materialize(offline, view.name, start, end)
    feast.materialize(start, end + pd.Timedelta(seconds=1))  # Feast's end bound is exclusive
    keys = [*sorted(rows[view.entity].unique()), "no/such-repo"]
    online_gap, online_nan_mismatch = gap(
        online.get_online_features(view, keys, now=end), feast.get_online_features(keys)
    )
    online.push(view, push_rows)
    feast.push(push_rows)
    pushed_gap, pushed_nan_mismatch = gap(
        online.get_online_features(view, keys, now=end), feast.get_online_features(keys)
    )
    metrics = {
        "historical_max_abs_diff": historical_gap,
        "historical_missing_mismatches": historical_nan_mismatch,
        "historical_rows": len(ours),
        "feast_dropped_rows": feast.dropped_rows,
        "online_max_abs_diff": online_gap,
        "online_missing_mismatches": online_nan_mismatch,
        "push_max_abs_diff": pushed_gap,
        "push_missing_mismatches": pushed_nan_mismatch,
        "ours_join_seconds": ours_seconds,
        "feast_join_seconds": feast_seconds,
        "feast_apply_seconds": apply_seconds,
        "join_speed_ratio": feast_seconds / max(ours_seconds, 1e-9),
    }
    return metrics, ours
