"""Evidently reports on classified traffic: text descriptors and prediction drift, and quality where labels exist.

What drifts is judged per column by Evidently's default statistical test for the column's type and size
(Kolmogorov-Smirnov or chi-square p-value < 0.05 with up to 1000 reference rows; Wasserstein or Jensen-Shannon
distance >= 0.1 above), unless the config names a method and threshold. The traffic as a whole drifts when the
share of drifted columns reaches `drift_share` (0.5 by default): a single column crossing p < 0.05 happens by
chance one time in twenty, half of them at once does not.

The columns compared:
- offline text descriptors of title + body, computed by Evidently without NLTK downloads: length, title length,
  word count, sentence count, share of non-letter characters, and share of the text inside ``` code fences;
- the prediction: the label and each class probability (a model that meets new text changes its answers).

Evidently is imported inside the functions: it takes ~3 s, and `python -m pipelines.monitor --help` shouldn't.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from src import atomic_io
from src.capstone.data import LABELS
from src.capstone.model import PROBA_COLUMNS
from src.capstone.text import CODE_BLOCK

DESCRIPTORS = ["text_length", "title_length", "word_count", "sentence_count", "non_letter_percentage", "code_share"]
PREDICTION_COLUMNS = ["prediction", *PROBA_COLUMNS]
DRIFT_COLUMNS = [*DESCRIPTORS, *PREDICTION_COLUMNS]


def code_share(text: str) -> float:
    """The share of the characters of `text` that sit inside fenced code blocks (stack traces, logs, snippets)."""
    return sum(len(match.group(0)) for match in CODE_BLOCK.finditer(text)) / max(len(text), 1)


def _code_share_column(column):
    from evidently.core.datasets import DatasetColumn

    return DatasetColumn(type="num", data=column.data.astype(str).map(code_share))


def to_dataset(frame: pd.DataFrame, with_target: bool = False):
    """An Evidently Dataset of the traffic, with the descriptors computed on title + body."""
    from evidently import DataDefinition, Dataset, MulticlassClassification
    from evidently.descriptors import (
        CustomColumnDescriptor,
        NonLetterCharacterPercentage,
        SentenceCount,
        TextLength,
        WordCount,
    )

    columns = ["title", "text", *PREDICTION_COLUMNS] + (["target"] if with_target else [])
    data = frame.assign(text=frame["title"] + "\n" + frame["body"])[columns]
    classification = [MulticlassClassification(target="target", prediction_labels="prediction")] if with_target else []
    definition = DataDefinition(
        text_columns=["title", "text"],
        categorical_columns=["prediction"] + (["target"] if with_target else []),
        numerical_columns=PROBA_COLUMNS,
        classification=classification or None,
    )
    descriptors = [
        TextLength("text", alias="text_length"),
        TextLength("title", alias="title_length"),
        WordCount("text", alias="word_count"),
        SentenceCount("text", alias="sentence_count"),
        NonLetterCharacterPercentage("text", alias="non_letter_percentage"),
        CustomColumnDescriptor("text", _code_share_column, alias="code_share"),
    ]
    return Dataset.from_pandas(data, data_definition=definition, descriptors=descriptors)


def drift_report(reference: pd.DataFrame, current: pd.DataFrame, drift_share: float = 0.5, method=None, threshold=None):
    """Run Evidently's drift preset on the descriptors and the predictions. Returns (snapshot, reference table,
    current table), the tables with their descriptor columns (for figures)."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference_data, current_data = to_dataset(reference), to_dataset(current)
    preset = DataDriftPreset(columns=DRIFT_COLUMNS, drift_share=drift_share, method=method, threshold=threshold)
    # A column constant on one side (no code fence in any Shakespeare speech) makes Evidently's correlation
    # summary divide 0 by 0; the drift tests themselves handle it. Keep that warning out of the log.
    with np.errstate(invalid="ignore", divide="ignore"):
        snapshot = Report([preset]).run(current_data=current_data, reference_data=reference_data)
    return snapshot, reference_data.as_dataframe(), current_data.as_dataframe()


def quality_report(reference: pd.DataFrame, current: pd.DataFrame):
    """Evidently's classification preset on the current rows that carry a true label (feedback), with the
    reference's out-of-fold quality beside it. None when no current row has a label."""
    from evidently import Report
    from evidently.presets import ClassificationPreset

    labelled = current[current["target"].notna()]
    if labelled.empty:
        return None
    return Report([ClassificationPreset()]).run(
        current_data=to_dataset(labelled, with_target=True), reference_data=to_dataset(reference, with_target=True)
    )


def _is_drift(score: float, method: str, threshold: float) -> bool:
    """A p-value drifts below its threshold; a distance (Wasserstein, Jensen-Shannon, PSI, ...) at or above it."""
    return score < threshold if "p_value" in method else score >= threshold


def summarize_drift(snapshot, drift_share: float) -> dict:
    """The verdicts out of the report: {drift_detected, drifted_count, drifted_share, columns: [...]}, one entry
    per column with its method, threshold, score and whether it drifted."""
    summary, columns = {}, []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":DriftedColumnsCount"):
            summary = {"drifted_count": metric["value"]["count"], "drifted_share": metric["value"]["share"]}
        elif config["type"].endswith(":ValueDrift"):
            score, method, threshold = float(metric["value"]), config["method"], float(config["threshold"])
            drifted = _is_drift(score, method, threshold)
            columns.append(
                dict(column=config["column"], method=method, threshold=threshold, score=score, drifted=drifted)
            )
    if not summary:
        raise RuntimeError("the Evidently report has no DriftedColumnsCount metric: has its format changed?")
    return {**summary, "drift_detected": summary["drifted_share"] >= drift_share, "columns": columns}


def summarize_quality(snapshot) -> dict[str, float]:
    """Accuracy, macro F1 and F1 per label of the current data, from the classification report."""
    values = {}
    for metric in snapshot.dict()["metrics"]:
        kind = metric["config"]["type"].rsplit(":", 1)[-1]
        if kind == "Accuracy":
            values["accuracy"] = float(metric["value"])
        elif kind == "F1Score":
            values["macro_f1"] = float(metric["value"])
        elif kind == "F1ByLabel":
            values.update(
                {f"f1_{label}": float(metric["value"][label]) for label in LABELS if label in metric["value"]}
            )
    return values


def save(snapshot, folder: Path, name: str) -> list[Path]:
    """<folder>/html/<name>.html (self-contained, opens offline; ~4 MB) and <folder>/json/<name>.json (a few KB:
    every metric's value), each written atomically."""
    html = atomic_io.atomic_write(Path(folder) / "html" / f"{name}.html", lambda tmp: snapshot.save_html(str(tmp)))
    json_path = atomic_io.atomic_write(Path(folder) / "json" / f"{name}.json", lambda tmp: snapshot.save_json(str(tmp)))
    return [html, json_path]
