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


def predict_by_arm(models: dict[str, tuple[object, str]], issues: list[dict[str, str]]) -> list[dict]:
    """Issues that each name their arm ("champion" / "challenger") -> answers in order, each from its arm's model.
    `models` maps arm -> (pyfunc, registry version). One model call per arm present in the batch, so adaptive
    batching still pays each model's per-call overhead once."""
    unknown = {issue["arm"] for issue in issues} - set(models)
    if unknown:
        raise ValueError(f"no model loaded for arm(s) {sorted(unknown)}: loaded {sorted(models)}")
    results: list[dict | None] = [None] * len(issues)
    for arm, (model, version) in models.items():
        positions = [i for i, issue in enumerate(issues) if issue["arm"] == arm]
        if positions:
            answers = predict_issues(model, [issues[i] for i in positions], version)
            for i, answer in zip(positions, answers, strict=True):
                results[i] = {**answer, "arm": arm}
    return results
