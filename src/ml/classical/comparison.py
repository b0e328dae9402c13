"""From scratch vs scikit-learn on the same data: which models, built with which settings, compared how.

Each model name maps to a pair of constructors that take the SAME hyperparameters, one for our model and one
for scikit-learn's. Both see the same stratified k folds; the SVM's features are standardised inside each fold
(mean and variance from the training part only) for both. A multiclass SVM is one-vs-rest on both sides
(scikit-learn's SVC alone would be one-vs-one), so the two solve the same problems.
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as sk_datasets
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from src.ml.classical import SVM, DecisionTree, NaiveBayes, RandomForest

# scikit-learn's bundled datasets: they ship inside the package, so nothing is downloaded.
DATASETS = {
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "digits": sk_datasets.load_digits,
}
IMPLEMENTATIONS = ("scratch", "sklearn")


def load_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {list(DATASETS)}")
    return DATASETS[name](return_X_y=True)


def _svm_reference(n_classes: int, **params):
    svc = SVC(**params)
    return svc if n_classes == 2 else OneVsRestClassifier(svc)


def _tree_reference(criterion="gini", **params):
    # scikit-learn has no gain ratio: its nearest criterion is plain information gain
    return DecisionTreeClassifier(criterion="entropy" if criterion == "gain_ratio" else criterion, **params)


@dataclass(frozen=True)
class ModelPair:
    """How to build one model both ways from one dict of hyperparameters."""

    scratch: type
    reference: object  # a callable(n_classes, seed, **params) -> scikit-learn estimator
    seeded: bool = False  # pass random_state=seed to both
    standardise: bool = False

    def build(self, implementation: str, params: dict, n_classes: int, seed: int):
        params = dict(params, random_state=seed) if self.seeded else dict(params)
        if implementation == "scratch":
            return self.scratch(**params)
        return self.reference(n_classes, **params)


MODELS = {
    "decision_tree": ModelPair(DecisionTree, lambda k, **p: _tree_reference(**p), seeded=True),
    "random_forest": ModelPair(RandomForest, lambda k, **p: RandomForestClassifier(**p), seeded=True),
    "svm": ModelPair(SVM, _svm_reference, standardise=True),
    "gaussian_nb": ModelPair(lambda **p: NaiveBayes("gaussian", **p), lambda k, **p: GaussianNB(**p)),
    "multinomial_nb": ModelPair(lambda **p: NaiveBayes("multinomial", **p), lambda k, **p: MultinomialNB(**p)),
}


def build_model(model: str, implementation: str, params: dict, n_classes: int, seed: int = 0):
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {list(MODELS)}")
    return MODELS[model].build(implementation, params, n_classes, seed)


def scaling(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training data's per-feature mean and standard deviation (1 for a constant feature, left at 0)."""
    std = train.std(axis=0)
    return train.mean(axis=0), np.where(std > 0, std, 1.0)


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale both parts with the training part's mean and standard deviation."""
    mean, std = scaling(train)
    return (train - mean) / std, (test - mean) / std


class Standardised:
    """A model behind the standardisation the comparison gives it: fit learns the training data's mean and
    standard deviation, and predict applies them again, so a saved model takes raw features."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y) -> "Standardised":
        self.mean_, self.std_ = scaling(X)
        self.estimator.fit((X - self.mean_) / self.std_, y)
        return self

    def predict(self, X) -> np.ndarray:
        return self.estimator.predict((np.asarray(X, dtype=float) - self.mean_) / self.std_)

    def score(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))


def fit_on_all(model: str, params: dict, X, y, seed: int) -> dict:
    """{implementation: the model fitted on all of X, y} with the settings the cross-validation used: the models
    a stage keeps (cross-validation measured how well this recipe generalises; these are its result)."""
    n_classes = len(np.unique(y))
    fitted = {}
    for implementation in IMPLEMENTATIONS:
        estimator = build_model(model, implementation, params, n_classes, seed)
        fitted[implementation] = (Standardised(estimator) if MODELS[model].standardise else estimator).fit(X, y)
    return fitted


def cross_validate(model: str, params: dict, X, y, folds: int, seed: int) -> dict[str, dict[str, float]]:
    """Both implementations on the same stratified folds: {implementation: metrics}.

    Metrics: cv_accuracy (mean over folds), cv_accuracy_std, cv_macro_f1, fit_seconds and predict_seconds (the
    fastest fold: the least disturbed by whatever else runs on the machine)."""
    n_classes = len(np.unique(y))
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y))
    results = {}
    for implementation in IMPLEMENTATIONS:
        accuracy, f1, fit_seconds, predict_seconds = [], [], [], []
        for train, test in splits:
            X_train, X_test = X[train], X[test]
            if MODELS[model].standardise:
                X_train, X_test = standardise(X_train, X_test)
            estimator = build_model(model, implementation, params, n_classes, seed)
            start = time.perf_counter()
            estimator.fit(X_train, y[train])
            fit_seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            predicted = estimator.predict(X_test)
            predict_seconds.append(time.perf_counter() - start)
            accuracy.append(accuracy_score(y[test], predicted))
            f1.append(f1_score(y[test], predicted, average="macro"))
        results[implementation] = {
            "cv_accuracy": float(np.mean(accuracy)),
            "cv_accuracy_std": float(np.std(accuracy)),
            "cv_macro_f1": float(np.mean(f1)),
            "fit_seconds": min(fit_seconds),
            "predict_seconds": min(predict_seconds),
        }
    scratch, reference = results["scratch"], results["sklearn"]
    scratch["accuracy_gap_points"] = 100 * (scratch["cv_accuracy"] - reference["cv_accuracy"])
    scratch["fit_time_ratio"] = scratch["fit_seconds"] / reference["fit_seconds"]
    scratch["predict_time_ratio"] = scratch["predict_seconds"] / reference["predict_seconds"]
    return results
