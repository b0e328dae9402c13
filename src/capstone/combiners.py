"""Two honest ways to combine the members, scored on the same folds as everything else (analysis variants: they
are reported next to the fixed-weight ensemble, not served).

The fixed ensemble weight (0.6 x tfidf + 0.4 x minilm) was chosen by looking at all folds' scores, so its CV score
is slightly optimistic. Both variants here choose on the other folds only (nested): the combination that predicts
fold k is fit on the out-of-fold rows of the folds != k, so it never sees a label of the rows it is scored on.

- `ensemble_nested_weight`: the tfidf weight w in {0, 0.05, ..., 1} that maximises macro F1 on the other folds.
- `stacked`: logistic regression on the members' out-of-fold log-probabilities (6 features: 3 classes x 2
  members), a learned combiner that may weight each member differently per class (Wolpert 1992, stacked
  generalisation).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from src.capstone.data import LABELS

WEIGHTS = np.round(np.linspace(0, 1, 21), 2)


def nested_weight_out_of_fold(tfidf: np.ndarray, minilm: np.ndarray, labels, folds) -> tuple[np.ndarray, list[float]]:
    """(probabilities, the weight chosen for each fold): w * tfidf + (1 - w) * minilm, w chosen without fold k."""
    truth, out, chosen = np.asarray(labels), np.zeros_like(tfidf), []
    for train, test in folds:

        def f1(w, rows=train):
            predicted = np.array(LABELS)[(w * tfidf[rows] + (1 - w) * minilm[rows]).argmax(1)]
            return f1_score(truth[rows], predicted, average="macro")

        w = float(max(WEIGHTS, key=f1))
        out[test] = w * tfidf[test] + (1 - w) * minilm[test]
        chosen.append(w)
    return out, chosen


def stacked_out_of_fold(members: dict[str, np.ndarray], labels, folds, C: float = 1.0) -> np.ndarray:
    """Probabilities from a logistic regression on the members' log-probabilities, fit without fold k."""
    features = np.hstack([np.log(np.clip(p, 1e-6, 1.0)) for p in members.values()])
    targets = np.array([LABELS.index(label) for label in np.asarray(labels)])
    out = np.zeros((len(targets), len(LABELS)))
    for train, test in folds:
        combiner = LogisticRegression(C=C, max_iter=1000).fit(features[train], targets[train])
        out[test] = combiner.predict_proba(features[test])
    return out
