"""The baseline: TF-IDF features (word 1-2 grams and character 2-5 grams) into a logistic regression.

Character n-grams catch what word tokens miss in issue text: identifiers, file extensions, error codes,
misspellings. Sublinear tf (1 + log tf) keeps a word repeated in a long log from dominating.
"""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

from src.capstone.data import LABELS


class TfidfClassifier:
    """fit(texts, labels) / predict_proba(texts) -> (n, len(LABELS)) with columns in LABELS order."""

    def __init__(self, C: float = 4.0, max_char_features: int = 200_000, min_df: int = 2, seed: int = 0):
        self.C, self.max_char_features, self.min_df, self.seed = C, max_char_features, min_df, seed

    def fit(self, texts: list[str], labels) -> "TfidfClassifier":
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=self.min_df)
        chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=self.min_df,
            max_features=self.max_char_features,
        )
        self.pipeline = make_pipeline(make_union(words, chars), LogisticRegression(C=self.C, max_iter=2000))
        self.pipeline.fit(list(texts), list(labels))
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        # Reorder the columns to LABELS: sklearn sorts classes, which happens to match, but don't rely on it.
        proba = self.pipeline.predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(label) for label in LABELS]
        return proba[:, order]
