"""From validated issues to the service's answers: one call of the MLflow pyfunc for the whole batch."""

import pandas as pd

from src.capstone.data import LABELS


def predict_issues(model, issues: list[dict[str, str]], model_version: str) -> list[dict]:
    """[{"title", "body"}, ...] -> [{"label", "probabilities": {label: p}, "model_version"}, ...], in order.
    `model` is the IssueClassifier pyfunc (its predict returns label and proba_<label> columns)."""
    frame = pd.DataFrame({"title": [i["title"] for i in issues], "body": [i["body"] for i in issues]})
    rows = model.predict(frame).to_dict("records")
    return [
        {
            "label": row["label"],
            "probabilities": {label: float(row[f"proba_{label}"]) for label in LABELS},
            "model_version": model_version,
        }
        for row in rows
    ]
