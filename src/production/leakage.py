"""The leakage lesson, measured: the issue classifier's cross-validated score with repository features joined
point-in-time correctly, joined with a leak, and without them.

The model: the capstone's TF-IDF text features (word and character n-grams) next to the standardised repository
features, into one logistic regression; plus the repository features alone (where a leak has nowhere to hide).
Folds are the capstone's (stratified by repository x label), the score its headline: mean per-repository
macro F1 of the out-of-fold predictions.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from src.capstone.data import LABELS
from src.capstone.evaluation import mean_repo_macro_f1

# A repository with no labelled issue yet: no issues, uniform label shares.
MISSING_DEFAULTS = {"labelled_issues": 0.0, "issues_30d": 0.0}


def fill_missing(features: pd.DataFrame) -> np.ndarray:
    filled = features.copy()
    for column in filled.columns:
        filled[column] = filled[column].fillna(MISSING_DEFAULTS.get(column, 1 / len(LABELS)))
    return filled.to_numpy(dtype=float)


def text_vectorizer(max_char_features: int, min_df: int):
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df, max_features=max_char_features
    )
    return make_union(words, chars)


def cross_validate(
    texts,
    labels,
    repos,
    folds,
    feature_sets: dict[str, np.ndarray | None],
    C: float,
    max_char_features: int,
    min_df: int,
    use_text: bool = True,
) -> dict[str, float]:
    """Mean per-repository macro F1 of out-of-fold predictions for each feature set (None = text only). The
    text vectoriser is fitted once per fold and shared by all feature sets, so they differ in features only."""
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    predictions = {name: np.empty(len(labels), dtype=object) for name in feature_sets}
    for train, test in tqdm(folds, desc="leakage: cv folds"):
        if use_text:
            vectorizer = text_vectorizer(max_char_features, min_df).fit(texts[train])
            text_train, text_test = vectorizer.transform(texts[train]), vectorizer.transform(texts[test])
        for name, features in feature_sets.items():
            blocks_train, blocks_test = ([text_train], [text_test]) if use_text else ([], [])
            if features is not None:
                scaler = StandardScaler().fit(features[train])
                blocks_train.append(sp.csr_matrix(scaler.transform(features[train])))
                blocks_test.append(sp.csr_matrix(scaler.transform(features[test])))
            model = LogisticRegression(C=C, max_iter=3000).fit(sp.hstack(blocks_train).tocsr(), labels[train])
            predictions[name][test] = model.predict(sp.hstack(blocks_test).tocsr())
    return {name: mean_repo_macro_f1(repos, labels, predicted) for name, predicted in predictions.items()}
