"""The NLBSE'24 report: precision, recall and F1 per class and macro, per repository and overall.

The benchmark's headline number is the mean over repositories of each repository's macro F1, so a model can't
hide a weak repository behind a strong one.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from src.capstone.data import LABELS


def scores(y_true, y_pred) -> dict[str, float]:
    """{'bug.precision': ..., ..., 'macro.f1': ...} for one set of predictions."""
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    row = {}
    for i, label in enumerate(LABELS):
        row.update({f"{label}.precision": precision[i], f"{label}.recall": recall[i], f"{label}.f1": f1[i]})
    row.update({"macro.precision": precision.mean(), "macro.recall": recall.mean(), "macro.f1": f1.mean()})
    return {key: float(value) for key, value in row.items()}


def nlbse_report(repos, y_true, y_pred) -> pd.DataFrame:
    """One row per repository, then `overall` (all issues pooled) and `mean` (the mean of the repositories'
    rows: the benchmark's headline is mean.macro.f1)."""
    repos, y_true, y_pred = np.asarray(repos), np.asarray(y_true), np.asarray(y_pred)
    rows = {repo: scores(y_true[repos == repo], y_pred[repos == repo]) for repo in sorted(set(repos))}
    per_repo = pd.DataFrame.from_dict(rows, orient="index")
    report = pd.concat([per_repo, pd.DataFrame([scores(y_true, y_pred)], index=["overall"])])
    report.loc["mean"] = per_repo.mean()
    return report


def report_metrics(report: pd.DataFrame, prefix: str) -> dict[str, float]:
    """An nlbse_report as flat metric names: `<prefix>_mean_repo_macro_f1` (the headline) and
    `<prefix>.<repository short name | overall | mean>.<label | macro>.<precision | recall | f1>`."""
    metrics = {f"{prefix}_mean_repo_macro_f1": float(report.loc["mean", "macro.f1"])}
    for row in report.index:
        name = row.split("/")[-1]
        metrics.update({f"{prefix}.{name}.{key}": float(value) for key, value in report.loc[row].items()})
    return metrics


def mean_repo_macro_f1(repos, y_true, y_pred) -> float:
    return float(nlbse_report(repos, y_true, y_pred).loc["mean", "macro.f1"])


def confusion(y_true, y_pred) -> np.ndarray:
    return confusion_matrix(y_true, y_pred, labels=list(LABELS))
