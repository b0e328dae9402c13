"""Champion vs challenger on the issue data, offline: which model would have been right for each issue.

Both are the capstone's TF-IDF + logistic regression; the champion reads only the title, the challenger the
title and cleaned body (the capstone's text). Out-of-fold predictions (folds by repository x label) say for
every issue whether each model's answer was right: the rewards a bandit, a canary or a plain A/B split would
have collected had that issue arrived as a request.
"""

import numpy as np
import pandas as pd

from src.capstone.cross_validation import stratified_folds, tfidf_out_of_fold
from src.capstone.data import LABELS
from src.capstone.text import prepare_texts


def issue_subset(frame: pd.DataFrame, per_repo_label: int) -> pd.DataFrame:
    """The first `per_repo_label` issues of each (repository, label), in file order."""
    return frame.groupby(["repo", "label"], sort=False).head(per_repo_label).reset_index(drop=True)


def champion_challenger_outcomes(frame: pd.DataFrame, n_folds: int, seed: int, params: dict) -> np.ndarray:
    """(issues, 2) booleans: [title-only model right, title+body model right], out of fold."""
    folds = stratified_folds(frame["repo"], frame["label"], n_folds, seed)
    labels = frame["label"].to_numpy()
    right = []
    for texts in (prepare_texts(frame["title"], [""] * len(frame)), prepare_texts(frame["title"], frame["body"])):
        proba, _ = tfidf_out_of_fold(texts, labels, folds, {**params, "seed": seed})
        right.append(np.asarray(LABELS)[proba.argmax(axis=1)] == labels)
    return np.stack(right, axis=1)


def requests_until_share(curve: np.ndarray, target: float) -> int:
    """The first request after which the curve stays at or above `target` (len + 1 if it never does)."""
    below = np.flatnonzero(np.asarray(curve) < target)
    return int(below[-1] + 2) if len(below) else 1
