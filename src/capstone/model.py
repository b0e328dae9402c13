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


class IssueClassifier(mlflow.pyfunc.PythonModel):
    def __init__(self, members: dict, weights: dict[str, float] | None = None, max_chars: int = 4000):
        if not members:
            raise ValueError("an IssueClassifier needs at least one member model")
        weights = weights or {name: 1.0 for name in members}
        if set(weights) != set(members) or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"weights {weights} must be non-negative, not all zero, one per member {list(members)}")
        total = sum(weights.values())
        self.members = members
        self.weights = {name: w / total for name, w in weights.items()}
        self.max_chars = max_chars

    def predict_proba(self, titles, bodies) -> np.ndarray:
        texts = prepare_texts(titles, bodies, self.max_chars)
        return sum(self.weights[name] * member.predict_proba(texts) for name, member in self.members.items())

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        missing = [column for column in INPUT_COLUMNS if column not in model_input.columns]
        if missing:
            raise ValueError(f"input lacks column(s) {missing}: send a table with columns title and body")
        frame = model_input.fillna("")
        proba = self.predict_proba(frame["title"].astype(str), frame["body"].astype(str))
        result = pd.DataFrame(proba, columns=PROBA_COLUMNS, index=model_input.index)
        result.insert(0, "label", np.array(LABELS)[proba.argmax(axis=1)])
        return result
