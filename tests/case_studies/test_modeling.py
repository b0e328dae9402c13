"""Folds, the leakage guard, calibration of the from-scratch forest, reliability curves."""

import numpy as np
import pytest

from src.case_studies import modeling


def test_folds_are_stratified_and_groups_stay_together():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    folds = modeling.fold_ids(y, 5, seed=1)
    assert set(folds) == set(range(5))
    assert max(abs(y[folds == k].mean() - y.mean()) for k in range(5)) < 0.05
    groups = np.arange(300) // 3  # triplets of identical rows
    folds = modeling.fold_ids(y, 5, seed=1, groups=groups)
    assert all(len(set(folds[groups == g])) == 1 for g in range(100))


def test_leakage_guard_refuses_shared_ids_target_names_and_target_copies():
    y = np.array([0, 1, 0, 1, 1, 0])
    folds = np.array([0, 0, 1, 1, 2, 2])
    X = np.column_stack([np.arange(6.0), [3, 1, 4, 1, 5, 9]])
    modeling.check_no_leakage(list("abcdef"), folds, ["a", "b"], "Churn", X, y)
    with pytest.raises(modeling.LeakageError, match="appear in more than one fold"):
        modeling.check_no_leakage(list("abcdea"), folds, ["a", "b"], "Churn")
    with pytest.raises(modeling.LeakageError, match="named after the target"):
        modeling.check_no_leakage(list("abcdef"), folds, ["tenure", "Churn_Yes"], "Churn")
    with pytest.raises(modeling.LeakageError, match="correlate with the target"):
        modeling.check_no_leakage(
            list("abcdef"), folds, ["a", "refund_flag"], "Churn", np.column_stack([X[:, 0], 2 * y + 1]), y
        )


def test_out_of_fold_scores_every_row_and_calibrates_the_scratch_forest():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(200) > 0).astype(int)
    folds = modeling.fold_ids(y, 3, seed=0)
    forest = modeling.build_model("scratch_forest", {"n_estimators": 5, "max_depth": 3, "min_samples_leaf": 5}, 0)
    raw = modeling.out_of_fold(forest, X, y, folds)
    calibrated = modeling.out_of_fold(forest, X, y, folds, {"method": "sigmoid", "inner_folds": 2})
    for result in (raw, calibrated):
        assert np.isfinite(result["proba"]).all() and ((0 <= result["proba"]) & (result["proba"] <= 1)).all()
    assert modeling.classification_metrics(y, raw["proba"], folds)["cv_roc_auc"] > 0.8
    with pytest.raises(ValueError, match="unknown model"):
        modeling.build_model("svm", {}, 0)


def test_reliability_curve_by_hand():
    rows = modeling.reliability_curve([0, 1, 1, 0], [0.05, 0.15, 0.95, 0.85], n_bins=2)
    assert rows == [
        {"bin": 0, "mean_predicted": pytest.approx(0.1), "observed_rate": 0.5, "count": 2},
        {"bin": 1, "mean_predicted": pytest.approx(0.9), "observed_rate": 0.5, "count": 2},
    ]
