"""Cross-validated models for the case studies: folds, out-of-fold predictions, calibration, metrics, and the
leakage guard.

Every figure a case study reports comes from out-of-fold predictions: each row is scored by a model that never
saw it (stratified k-fold, so every fold keeps the class ratio). Preprocessing that learns anything (scaling,
spline knots) sits inside the model's pipeline, so it too is fitted on the training folds only.

Three models per case, the same three for churn and fraud:
- `logistic`: scikit-learn's LogisticRegression on standardised features, with cubic B-splines on the columns
  named in `spline_columns` (a monotone-ish bend in tenure or charges, which a straight line misses);
- `hist_gb`: scikit-learn's HistGradientBoostingClassifier (LightGBM-style binned boosting);
- `scratch_forest`: day 3's from-scratch RandomForest (src/ml/classical), the baseline.
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from src.ml.classical import RandomForest

MODELS = ("logistic", "hist_gb", "scratch_forest")


class LeakageError(AssertionError):
    """The evaluation could see what it predicts: a row in two folds, or a feature made from the target."""


class _ScratchForest(RandomForest):
    """Day 3's RandomForest, with the scikit-learn tags CalibratedClassifierCV asks for (it is a classifier)."""

    _estimator_type = "classifier"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier", target_tags=TargetTags(required=True), classifier_tags=ClassifierTags()
        )


def build_model(kind: str, params: dict, seed: int, spline_columns: list[int] = ()):
    """A fresh, unfitted model of `kind` with `params` (its section of the config)."""
    if kind == "logistic":
        steps = []
        if spline_columns:
            splines = SplineTransformer(n_knots=params["spline_knots"], degree=3)
            steps.append(ColumnTransformer([("splines", splines, list(spline_columns))], remainder="passthrough"))
        logistic = LogisticRegression(C=params["C"], max_iter=5000)
        return make_pipeline(*steps, StandardScaler(), logistic)
    if kind == "hist_gb":
        return HistGradientBoostingClassifier(
            learning_rate=params["learning_rate"],
            max_iter=params["max_iter"],
            max_depth=params["max_depth"],
            min_samples_leaf=params["min_samples_leaf"],
            random_state=seed,
        )
    if kind == "scratch_forest":
        return _ScratchForest(
            n_estimators=params["n_estimators"],
            max_depth=params["max_depth"],
            min_samples_leaf=params["min_samples_leaf"],
            random_state=seed,
        )
    raise ValueError(f"unknown model {kind!r}; choose from {MODELS}")


def fold_ids(y: np.ndarray, n_splits: int, seed: int, groups=None) -> np.ndarray:
    """The stratified fold (0..n_splits-1) that holds each row out. With `groups`, rows of one group (e.g.
    identical transactions) share a fold, so a duplicate is never scored by a model that trained on its twin."""
    folds = np.full(len(y), -1)
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    else:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
        folds[test] = k
    return folds


def check_no_leakage(ids, folds, feature_names, target_name: str, X=None, y=None, max_abs_corr: float = 0.98):
    """Raise LeakageError if an id sits in two folds, a feature is named after the target, or a feature equals
    the target up to scale (|correlation| > max_abs_corr): the usual ways a churn AUC above 0.90 happens."""
    ids, folds = np.asarray(ids), np.asarray(folds)
    if (folds < 0).any():
        raise LeakageError(f"{int((folds < 0).sum())} row(s) are in no fold")
    per_id = {}
    for identity, fold in zip(ids, folds, strict=True):
        per_id.setdefault(identity, set()).add(int(fold))
    shared = [i for i, fs in per_id.items() if len(fs) > 1]
    if shared:
        raise LeakageError(f"{len(shared)} id(s) appear in more than one fold, e.g. {shared[0]!r}")
    named = [f for f in feature_names if target_name.lower() in str(f).lower()]
    if named:
        raise LeakageError(f"feature(s) {named} are named after the target '{target_name}'")
    if X is not None and y is not None:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        spread = X.std(axis=0) > 0
        corr = np.zeros(X.shape[1])
        centred = (X[:, spread] - X[:, spread].mean(axis=0)) / X[:, spread].std(axis=0)
        corr[spread] = centred.T @ ((y - y.mean()) / y.std()) / len(y)
        leaking = [feature_names[j] for j in np.flatnonzero(np.abs(corr) > max_abs_corr)]
        if leaking:
            raise LeakageError(f"feature(s) {leaking} correlate with the target beyond {max_abs_corr}")


def out_of_fold(model, X, y, folds, calibration: dict | None = None, desc: str = "") -> dict:
    """Fit a clone of `model` on each training part, score its held-out fold. With `calibration`
    ({"method": "isotonic" | "sigmoid", "inner_folds": k}) each training part is itself split k ways and the
    model calibrated on them (scikit-learn's CalibratedClassifierCV), so calibration never sees the held-out
    fold either. Returns {"proba": (n,), "fit_seconds": total}. One thread: the machine is shared, and
    OpenMP boosting on a busy machine is many times slower than on one core."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    proba = np.full(len(y), np.nan)
    seconds = 0.0
    n_folds = int(folds.max()) + 1
    with threadpool_limits(1):
        for k in tqdm(range(n_folds), desc=desc or "folds", unit="fold", leave=False):
            train, test = folds != k, folds == k
            fitted = clone(model)
            if calibration is not None:
                fitted = CalibratedClassifierCV(fitted, method=calibration["method"], cv=calibration["inner_folds"])
            started = time.perf_counter()
            fitted.fit(X[train], y[train])
            seconds += time.perf_counter() - started
            proba[test] = fitted.predict_proba(X[test])[:, 1]
    return {"proba": proba, "fit_seconds": seconds}


def classification_metrics(y, proba, folds, sample_weight=None) -> dict[str, float]:
    """ROC-AUC per fold (mean, std) and pooled, AUPRC (average precision), Brier score, log loss."""
    y, proba = np.asarray(y), np.asarray(proba)
    per_fold = [roc_auc_score(y[folds == k], proba[folds == k]) for k in range(int(folds.max()) + 1)]
    clipped = np.clip(proba, 1e-12, 1 - 1e-12)
    return {
        "cv_roc_auc": float(np.mean(per_fold)),
        "cv_roc_auc_std": float(np.std(per_fold)),
        "pooled_roc_auc": float(roc_auc_score(y, proba, sample_weight=sample_weight)),
        "auprc": float(average_precision_score(y, proba, sample_weight=sample_weight)),
        "brier": float(brier_score_loss(y, proba, sample_weight=sample_weight)),
        "log_loss": float(log_loss(y, clipped, sample_weight=sample_weight)),
    }


def reliability_curve(y, proba, n_bins: int) -> list[dict]:
    """Rows (bin, mean predicted, observed rate, count) over equal-width probability bins: a calibrated model's
    points lie on the diagonal."""
    y, proba = np.asarray(y, dtype=float), np.asarray(proba)
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            rows.append(
                {
                    "bin": b,
                    "mean_predicted": float(proba[inside].mean()),
                    "observed_rate": float(y[inside].mean()),
                    "count": int(inside.sum()),
                }
            )
    return rows


def fit_full(model, X, y):
    """The model fitted on every row (for explanations), on one thread."""
    with threadpool_limits(1):
        return clone(model).fit(np.asarray(X, dtype=float), np.asarray(y))
