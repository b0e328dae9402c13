"""Labelled GitHub issues in the NLBSE'24 format: columns repo, created_at, label, title, body."""

from pathlib import Path

import numpy as np
import pandas as pd

LABELS = ("bug", "feature", "question")
REQUIRED_COLUMNS = ("repo", "label", "title", "body")
TRAIN_FILE = "issues/nlbse24_train.csv"  # relative to data/raw, checked against MANIFEST.sha256


class IssueDataError(ValueError):
    """A labelled issue file that can't be used as it is."""


def load_issues(path: str | Path) -> pd.DataFrame:
    """Read a labelled issue CSV and check it: required columns present, labels known, no empty issue.
    Missing titles or bodies become empty strings (GitHub allows an empty body)."""
    path = Path(path)
    if not path.exists():
        raise IssueDataError(
            f"issue file {path} does not exist: pass the path of a CSV with columns {', '.join(REQUIRED_COLUMNS)}."
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise IssueDataError(f"{path} is not a readable CSV ({error}); check the file's format.") from error
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise IssueDataError(
            f"{path} lacks the column(s) {missing}; it has {list(frame.columns)}. "
            f"An issue file needs {', '.join(REQUIRED_COLUMNS)}."
        )
    unknown = sorted(set(frame["label"]) - set(LABELS))
    if unknown:
        raise IssueDataError(f"{path} has unknown label(s) {unknown[:5]}; labels must be one of {LABELS}.")
    empty = (frame["title"].str.strip() == "") & (frame["body"].str.strip() == "")
    if empty.any():
        rows = (frame.index[empty] + 2).tolist()[:5]  # +2: header line, 1-based
        raise IssueDataError(f"{path} has issues with neither title nor body (lines {rows}); remove them.")
    return frame.reset_index(drop=True)


def strata(repos, labels) -> np.ndarray:
    """The stratum of each issue, "<repo>|<label>": every split of the capstone (CV folds, subsamples, the
    monitor's reference / held-out split) keeps each repository's share of each class."""
    return np.array([f"{repo}|{label}" for repo, label in zip(repos, labels, strict=True)])


def stratified_subsample(issues: pd.DataFrame, n: int, min_per_stratum: int, seed: int) -> pd.DataFrame:
    """About `n` issues, the same number from every (repository, label) stratum and at least min_per_stratum
    (e.g. the CV folds, so each fold sees every stratum)."""
    groups = issues.groupby(strata(issues["repo"], issues["label"]))
    per_stratum = max(min_per_stratum, n // groups.ngroups)
    return groups.sample(per_stratum, random_state=seed).reset_index(drop=True)
