"""The data behind day 3's figures: each computed both ways, and each saying what the figure claims."""

import numpy as np
import pytest

from src.ml.classical import RandomForest
from src.ml.classical import experiments as ex
from src.ml.classical.comparison import load_dataset


def test_depth_sweep_fits_the_training_data_ever_better_and_agrees_with_sklearn_at_depth_one():
    X, y = load_dataset("wine")
    rows = ex.depth_sweep(X, y, max_depth=4, test_size=0.3, seed=0)
    assert [r["depth"] for r in rows] == [1, 2, 3, 4]
    train = [r["scratch_gini_train"] for r in rows]
    assert train == sorted(train) and train[-1] > 0.95  # deeper trees fit the training set better
    assert rows[0]["scratch_gini_test"] == pytest.approx(rows[0]["sklearn_gini_test"])  # one split: the same stump


def test_oob_curves_end_at_each_forests_oob_estimate():
    X, y = load_dataset("wine")
    params = {"max_features": "sqrt", "max_depth": None, "min_samples_leaf": 1}
    rows = ex.oob_error_curves(X, y, params, n_trees=40, seed=0)
    assert [r["n_trees"] for r in rows] == list(range(1, 41))
    ours = RandomForest(**params, n_estimators=40, oob_score=True, random_state=0).fit(X, y)
    assert rows[-1]["scratch"] == pytest.approx(1 - ours.oob_score_)
    assert rows[-1]["sklearn"] < 0.1 and rows[-1]["scratch"] < 0.1  # chance on wine: 0.6


def test_projection_is_two_uncorrelated_components_and_regions_cover_the_grid():
    X, y = load_dataset("iris")
    X2 = ex.project_2d(X)
    assert X2.shape == (150, 2) and abs(np.corrcoef(X2.T)[0, 1]) < 1e-10
    regions = ex.decision_regions(X2, y, {"gaussian_nb": {"var_smoothing": 1e-9}}, grid_size=20, seed=0)
    assert regions["regions"][("gaussian_nb", "scratch")].shape == (20, 20)
    assert regions["accuracy"][("gaussian_nb", "scratch")] == pytest.approx(
        regions["accuracy"][("gaussian_nb", "sklearn")]
    )


def test_linear_svm_margins_agree_with_libsvm():
    X, y = load_dataset("iris")
    two = y > 0
    margins = ex.svm_margins(ex.project_2d(X[two]), y[two], C=1.0)
    differences = ex.margin_differences(margins)
    assert differences["dual_objective_abs_diff"] < 1e-3 * abs(margins["sklearn"]["dual_objective"])
    assert differences["weights_max_abs_diff"] < 0.05
