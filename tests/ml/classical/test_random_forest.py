"""The random forest against scikit-learn's: accuracy, OOB estimate, and what its parameters promise."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from src.ml.classical import RandomForest
from src.ml.classical.random_forest import out_of_bag_votes


@pytest.fixture(scope="module")
def cancer_split():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def test_accuracy_and_oob_score_are_close_to_sklearns(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    ours = RandomForest(n_estimators=60, oob_score=True, random_state=0).fit(X_train, y_train)
    theirs = RandomForestClassifier(n_estimators=60, oob_score=True, random_state=0).fit(X_train, y_train)
    # different random draws: the two forests differ, so "close" is a few test samples (171 of them)
    assert abs(ours.score(X_test, y_test) - theirs.score(X_test, y_test)) <= 0.03
    assert abs(ours.oob_score_ - theirs.oob_score_) <= 0.03
    assert ours.oob_error_curve(X_train, y_train)[-1] == pytest.approx(1 - ours.oob_score_)
    np.testing.assert_allclose(ours.feature_importances_.sum(), 1.0)


def test_out_of_bag_votes_equal_sklearns_oob_decision_function(cancer_split):
    """The one OOB vote loop (our forest's oob_score_, its curve, and the day-3 figure's sklearn curve) fed
    scikit-learn's own trees and bootstrap samples reproduces scikit-learn's OOB estimate exactly."""
    X_train, _, y_train, _ = cancer_split
    theirs = RandomForestClassifier(n_estimators=30, oob_score=True, random_state=0).fit(X_train, y_train)
    trees = [
        (tree.predict_proba, ~np.isin(np.arange(len(X_train)), drawn))
        for tree, drawn in zip(theirs.estimators_, theirs.estimators_samples_, strict=True)
    ]
    votes, errors = out_of_bag_votes(X_train, np.searchsorted(theirs.classes_, y_train), 2, trees)
    np.testing.assert_allclose(votes / votes.sum(axis=1, keepdims=True), theirs.oob_decision_function_, atol=1e-12)
    assert errors.shape == (30,) and errors[-1] == pytest.approx(1 - theirs.oob_score_)


def test_bootstrap_leaves_about_a_third_out_of_bag(cancer_split):
    X_train, _, y_train, _ = cancer_split
    forest = RandomForest(n_estimators=20, random_state=1).fit(X_train, y_train)
    out_of_bag = np.mean([np.mean(c == 0) for c in forest.bootstrap_counts_])
    assert out_of_bag == pytest.approx(np.exp(-1), abs=0.03)  # (1 - 1/n)^n -> 1/e


def test_same_seed_same_forest_and_parallel_fit_changes_nothing():
    X, y = load_wine(return_X_y=True)
    one = RandomForest(n_estimators=8, random_state=3).fit(X, y).predict_proba(X)
    again = RandomForest(n_estimators=8, random_state=3).fit(X, y).predict_proba(X)
    parallel = RandomForest(n_estimators=8, random_state=3, n_jobs=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(one, again)
    np.testing.assert_array_equal(one, parallel)
    assert not np.array_equal(one, RandomForest(n_estimators=8, random_state=4).fit(X, y).predict_proba(X))


def test_plain_bagging_and_no_bootstrap_options():
    X, y = load_wine(return_X_y=True)
    assert RandomForest(n_estimators=5, max_features=None, random_state=0).fit(X, y).score(X, y) > 0.95
    with pytest.raises(ValueError, match="oob_score=True needs bootstrap=True"):
        RandomForest(bootstrap=False, oob_score=True).fit(X, y)
    with pytest.raises(ValueError, match="in every bootstrap sample"):
        RandomForest(n_estimators=1, oob_score=True, random_state=0).fit(X, y)
