"""Deterministic replays of traffic through the champion model, written as the service's prediction log.

`dvc repro` has no live service to watch, so the monitor stage makes its own traffic: it sends issues through
the champion (loaded with mlflow.pyfunc, no HTTP) and logs each prediction with the service's PredictionLog, so
the report reads exactly the format the service writes. Three streams:

- in_distribution: training issues held out of the reference (a stratified split: reference and current never
  share a row). Expected: no drift.
- one_repo: the held-out issues of one repository only. A subtler shift: the text of one project's templates.
- non_issue: passages of Shakespeare sent as issues. Expected: drift in the text and in the predictions.

Why the reference predictions are recomputed here: the champion was trained on every reference issue, so its
predictions on a held-out *training* issue are in-sample (confident), while the reference file's predictions are
out-of-fold (honest for unseen issues). Comparing the two would flag drift in the probabilities that is only the
train/test gap. The replay therefore compares in-sample with in-sample: the champion predicts both sides.
"""

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from src.capstone.data import strata
from src.capstone.model import PROBA_COLUMNS
from src.capstone.prediction_log import PredictionLog
from src.monitoring.traffic import load_traffic

REPLAY_START = datetime(2026, 1, 1, tzinfo=UTC)  # fixed timestamps: the same replay writes the same log
STREAMS = ("in_distribution", "one_repo", "non_issue")


def split_reference(
    issues: pd.DataFrame, current_share: float, seed: int, max_issues: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, held_out): a split stratified by repository x label, so both halves have every repository
    and class in the same proportions and no issue is on both sides. `max_issues` first takes a stratified
    sample (smaller replays)."""
    if not 0 < current_share < 1:
        raise ValueError(f"current_share must be between 0 and 1, got {current_share}")
    if max_issues is not None and max_issues < len(issues):
        stratum = strata(issues["repo"], issues["label"])
        issues, _ = train_test_split(issues, train_size=max_issues, stratify=stratum, random_state=seed)
    stratum = strata(issues["repo"], issues["label"])
    reference, held_out = train_test_split(issues, test_size=current_share, stratify=stratum, random_state=seed)
    return reference.sort_index(), held_out.sort_index()


def non_issue_passages(path: str | Path, n: int, seed: int) -> pd.DataFrame:
    """`n` speeches from a play (blank-line separated, the first line names the speaker) as title/body pairs:
    text that is plainly not a GitHub issue."""
    speeches = [block.strip() for block in Path(path).read_text(encoding="utf-8").split("\n\n") if block.strip()]
    chosen = np.sort(np.random.default_rng(seed).choice(len(speeches), size=min(n, len(speeches)), replace=False))
    rows = []
    for index in chosen:
        speaker, _, speech = speeches[index].partition("\n")
        rows.append({"title": speaker.rstrip(":"), "body": speech})
    return pd.DataFrame(rows)


def predict(model, issues: pd.DataFrame, batch_size: int, desc: str) -> pd.DataFrame:
    """The pyfunc's output (label, proba_*) for every issue, in batches, with a progress bar."""
    parts = [
        model.predict(issues[["title", "body"]].iloc[start : start + batch_size])
        for start in tqdm(range(0, len(issues), batch_size), desc=desc, unit="batch")
    ]
    return pd.concat(parts).set_axis(issues.index)


def replay(
    model, issues: pd.DataFrame, folder: str | Path, stream: str, model_version: str, batch_size: int = 64
) -> pd.DataFrame:
    """Classify `issues` with `model` and write one log record per issue into `folder` (emptied first), as the
    service would. An issue with a `label` column also logs it as `feedback_label`. Returns the predictions."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)  # PredictionLog appends: a rerun must not double the traffic
    predictions = predict(model, issues, batch_size, desc=f"replay {stream}")
    records = []
    for i, (index, issue) in enumerate(issues.iterrows()):
        predicted = predictions.loc[index]
        record = {
            "timestamp": (REPLAY_START + timedelta(seconds=i)).isoformat(timespec="milliseconds"),
            "request_id": f"{stream}-{i:05d}",
            "model_version": str(model_version),
            "title": issue["title"],
            "body": issue["body"],
            "label": predicted["label"],
            **{column: float(predicted[column]) for column in PROBA_COLUMNS},
        }
        if "label" in issues.columns:
            record["feedback_label"] = issue["label"]
        records.append(record)
    PredictionLog(folder).write(records)
    return predictions


def replay_streams(
    model,
    issues: pd.DataFrame,
    *,
    current_share: float,
    max_issues: int | None,
    one_repo: str,
    non_issue_path: str | Path,
    non_issue_size: int,
    log_dir: str | Path,
    model_version: str,
    batch_size: int,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, dict[str, float]]]:
    """The replay the monitor stage reports on. `issues` is the training reference (load_reference): it is split
    (split_reference) into the reference side, which `model` predicts (in-sample, see above), and held-out
    issues. The three STREAMS go through `model` into prediction logs under log_dir/<stream>/ and are read back
    as the service's log would be. Returns (reference, {stream: traffic}, {stream: {rows,
    predictions_per_second}})."""
    if one_repo not in set(issues["repo"]):
        raise ValueError(f"replay.one_repo {one_repo!r} is not in the reference: {sorted(set(issues['repo']))}")
    reference, held_out = split_reference(issues, current_share, seed, max_issues)
    predicted = predict(model, reference, batch_size, desc="reference")
    reference = reference.assign(prediction=predicted["label"], **{c: predicted[c] for c in PROBA_COLUMNS})
    sources = {
        "in_distribution": held_out,
        "one_repo": held_out[held_out["repo"] == one_repo],
        "non_issue": non_issue_passages(non_issue_path, non_issue_size, seed),
    }
    streams, stats = {}, {}
    for stream, sent in sources.items():
        folder = Path(log_dir) / stream
        started = time.perf_counter()
        replay(model, sent, folder, stream, model_version, batch_size)
        seconds = time.perf_counter() - started
        streams[stream] = load_traffic(folder)  # read back: the report sees exactly what a service would log
        stats[stream] = {"rows": len(sent), "predictions_per_second": len(sent) / seconds}
    return reference, streams, stats
