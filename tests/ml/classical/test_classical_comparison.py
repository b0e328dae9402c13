"""The comparison protocol of day 3: same hyperparameters, same folds, ratios computed, errors named."""

import numpy as np
import pytest

from src.ml.classical import comparison
from src.ml.classical.benchmark import benchmark_model


def test_cross_validate_scores_both_implementations_on_the_same_folds():
    X, y = comparison.load_dataset("iris")
    results = comparison.cross_validate("gaussian_nb", {"var_smoothing": 1e-9}, X, y, folds=3, seed=0)
    scratch, sklearn = results["scratch"], results["sklearn"]
    assert scratch["cv_accuracy"] == pytest.approx(sklearn["cv_accuracy"])  # same model, same folds
    assert scratch["accuracy_gap_points"] == pytest.approx(0.0, abs=1e-9)
    assert scratch["fit_time_ratio"] == pytest.approx(scratch["fit_seconds"] / sklearn["fit_seconds"])
    assert 0.9 < scratch["cv_macro_f1"] <= 1.0


def test_the_svm_reference_is_one_vs_rest_and_data_is_standardised_per_fold():
    ovr = comparison.build_model("svm", "sklearn", {"C": 2.0}, n_classes=3)
    assert type(ovr).__name__ == "OneVsRestClassifier" and ovr.estimator.C == 2.0
    assert type(comparison.build_model("svm", "sklearn", {}, n_classes=2)).__name__ == "SVC"
    train, test = np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[2.0, 7.0]])
    scaled_train, scaled_test = comparison.standardise(train, test)
    np.testing.assert_allclose(scaled_train, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(scaled_test, [[0, 2]])  # the test part uses the training mean and std


def test_models_fitted_on_all_data_standardise_inside_so_they_take_raw_features():
    X, y = comparison.load_dataset("wine")
    fitted = comparison.fit_on_all("svm", {"kernel": "rbf", "C": 1.0, "gamma": "scale", "tol": 1e-3}, X, y, seed=0)
    assert set(fitted) == set(comparison.IMPLEMENTATIONS)
    for model in fitted.values():
        assert isinstance(model, comparison.Standardised)
        scaled, _ = comparison.standardise(X, X[:1])
        np.testing.assert_array_equal(model.predict(X), model.estimator.predict(scaled))  # the same scaling
        assert model.score(X, y) > 0.95  # an RBF SVM on raw wine features (range 0.1 to 1680) would not be
    tree = comparison.fit_on_all("decision_tree", {"max_depth": 2}, X, y, seed=0)["scratch"]
    assert not isinstance(tree, comparison.Standardised) and tree.max_depth == 2


def test_gain_ratio_is_compared_with_sklearns_entropy_tree():
    tree = comparison.build_model("decision_tree", "sklearn", {"criterion": "gain_ratio"}, 3, seed=1)
    assert tree.criterion == "entropy" and tree.random_state == 1


def test_unknown_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'; choose from \['iris'"):
        comparison.load_dataset("mnist")
    with pytest.raises(ValueError, match="unknown model 'knn'"):
        comparison.build_model("knn", "scratch", {}, 2)


def test_benchmark_row_has_both_timings_and_the_ratio():
    row = benchmark_model("multinomial_nb", {"alpha": 1.0}, "iris", repeats=1)
    assert row["fit_ratio"] == pytest.approx(row["scratch_fit_seconds"] / row["sklearn_fit_seconds"])
    assert row["scratch_train_accuracy"] == row["sklearn_train_accuracy"]
    assert row["fit_ratio_target"] == 3 and isinstance(row["meets_target"], bool)
