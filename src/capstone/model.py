"""IssueClassifier: the served model. A weighted average of its members' class probabilities, as an MLflow pyfunc.

Input: a DataFrame with string columns `title` and `body` (one row per issue).
Output: a DataFrame with `label` (the most probable class) and one `proba_<label>` column per class.

Every member has `predict_proba(texts) -> array (n, len(LABELS))` with columns in LABELS order, so a TF-IDF model
and a fine-tuned transformer combine by averaging. Averaging probabilities helps when the members make different
mistakes: TF-IDF keys on exact tokens (error names, template headings), the transformer on meaning.
"""

import mlflow.pyfunc
import numpy as np
import pandas as pd

from src.capstone.data import LABELS
from src.capstone.text import prepare_texts

PROBA_COLUMNS = [f"proba_{label}" for label in LABELS]
INPUT_COLUMNS = ("title", "body")
# What the capstone can choose: either member alone, or both averaged; `_int8`: the same with MiniLM quantised.
MODELS = ("tfidf", "minilm", "ensemble", "minilm_int8", "ensemble_int8")
INT8 = "_int8"


def member_weights(model: str, tfidf_weight: float) -> dict[str, float]:
    """The members of `model` and their weights: the ensemble is tfidf_weight * tfidf + (1 - w) * minilm.
    An `_int8` model has the same members (its MiniLM is quantised, see is_int8)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}: one of {list(MODELS)}")
    base = model.removesuffix(INT8)
    if base == "ensemble":
        return {"tfidf": tfidf_weight, "minilm": 1 - tfidf_weight}
    return {base: 1.0}


def is_int8(model: str) -> bool:
    return model.endswith(INT8)


def float_twin(model: str) -> str:
    """minilm_int8 -> minilm, ensemble_int8 -> ensemble (others are their own twin)."""
    return model.removesuffix(INT8)


def int8_stands_in(model: str, score: float, other: str | None, other_score: float, tolerance: float) -> bool:
    """Does `model` replace `other` by the int8 rule: it is other's int8 twin and scores at most `tolerance` below
    it? One rule for the stage's choice (cross_validation.choose) and the registry's promotion gate."""
    return is_int8(model) and float_twin(model) == other and score >= other_score - tolerance


def normalised(weights: dict[str, float], members) -> dict[str, float]:
    """The weights scaled to sum to 1, after checking there is one per member, none negative, not all zero."""
    if set(weights) != set(members) or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"weights {weights} must be non-negative, not all zero, one per member {list(members)}")
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


def average_probabilities(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """sum_m w_m * p_m / sum_m w_m: the members' class probabilities averaged with normalised weights."""
    weights = normalised(weights, probabilities)
    return sum(weights[name] * p for name, p in probabilities.items())


def predicted_labels(probabilities: np.ndarray) -> np.ndarray:
    """The most probable label of each row (columns in LABELS order)."""
    return np.array(LABELS)[np.asarray(probabilities).argmax(axis=1)]


def with_predictions(issues: pd.DataFrame, probabilities: np.ndarray) -> pd.DataFrame:
    """repo, label, title, body of each issue with the model's `prediction` and PROBA_COLUMNS: the reference
    table the monitor compares traffic with (src/monitoring/traffic.py reads it back)."""
    table = issues[["repo", "label", "title", "body"]].assign(prediction=predicted_labels(probabilities))
    table[PROBA_COLUMNS] = probabilities
    return table


class IssueClassifier(mlflow.pyfunc.PythonModel):
    def __init__(self, members: dict, weights: dict[str, float] | None = None, max_chars: int = 4000):
        if not members:
            raise ValueError("an IssueClassifier needs at least one member model")
        self.members = members
        self.weights = normalised(weights or {name: 1.0 for name in members}, members)
        self.max_chars = max_chars

    def predict_proba(self, titles, bodies) -> np.ndarray:
        texts = prepare_texts(titles, bodies, self.max_chars)
        return average_probabilities({name: m.predict_proba(texts) for name, m in self.members.items()}, self.weights)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        missing = [column for column in INPUT_COLUMNS if column not in model_input.columns]
        if missing:
            raise ValueError(f"input lacks column(s) {missing}: send a table with columns title and body")
        frame = model_input.fillna("")
        proba = self.predict_proba(frame["title"].astype(str), frame["body"].astype(str))
        result = pd.DataFrame(proba, columns=PROBA_COLUMNS, index=model_input.index)
        result.insert(0, "label", predicted_labels(proba))
        return result
