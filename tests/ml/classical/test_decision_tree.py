"""The decision tree against scikit-learn's, and the behaviour its parameters promise."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_classification
from sklearn.tree import DecisionTreeClassifier

from src.ml.classical import DecisionTree
from src.ml.classical.decision_tree import LEAF, best_split, impurity


def perfectly_separable(seed=0, n=200):
    """Feature 2 separates the classes at 0.5; the other features are noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 5))
    return X, (X[:, 2] > 0.5).astype(int)


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_a_perfect_split_is_found_and_predicts_like_sklearn(criterion):
    X, y = perfectly_separable()
    ours = DecisionTree(criterion=criterion).fit(X, y)
    theirs = DecisionTreeClassifier(criterion=criterion, random_state=0).fit(X, y)
    assert ours.n_leaves_ == theirs.get_n_leaves() == 2
    assert ours.tree_feature_[0] == theirs.tree_.feature[0] == 2
    # scikit-learn stores X as float32, so its halfway threshold is between the float32-rounded values
    assert ours.tree_threshold_[0] == pytest.approx(theirs.tree_.threshold[0], rel=1e-7)
    X_new = np.random.default_rng(1).random((500, 5))
    np.testing.assert_array_equal(ours.predict(X_new), theirs.predict(X_new))
    np.testing.assert_array_equal(ours.feature_importances_, [0, 0, 1, 0, 0])


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_impurity_probabilities_and_importances_equal_sklearn(criterion):
    # Gaussian features: no two splits tie (on iris two petal features tie at the root, and on breast_cancer
    # two texture features give the same partition at depth 2; a tie is broken differently by each library)
    X, y = make_classification(n_samples=2000, n_features=6, n_informative=4, n_classes=3, random_state=0)
    ours = DecisionTree(criterion=criterion, max_depth=4).fit(X, y)
    theirs = DecisionTreeClassifier(criterion=criterion, max_depth=4, random_state=0).fit(X, y)
    assert ours.tree_impurity_[0] == pytest.approx(theirs.tree_.impurity[0])  # entropy in bits, as sklearn
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X))
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_, atol=1e-12)


@pytest.mark.parametrize(("load", "alpha"), [(load_breast_cancer, 0.01), (load_digits, 0.01), (load_iris, 0.02)])
def test_cost_complexity_pruning_prunes_like_sklearn(load, alpha):
    X, y = load(return_X_y=True)
    ours = DecisionTree(ccp_alpha=alpha).fit(X, y)
    theirs = DecisionTreeClassifier(ccp_alpha=alpha, random_state=0).fit(X, y)
    assert ours.n_leaves_ == theirs.get_n_leaves()
    assert ours.n_leaves_ < DecisionTree().fit(X, y).n_leaves_
    assert np.mean(ours.predict(X) == theirs.predict(X)) >= 0.99


def test_the_roadmaps_call_runs_and_depth_limits_hold():
    X, y = load_digits(return_X_y=True)
    tree = DecisionTree(max_depth=10).fit(X[:1200], y[:1200])
    assert tree.depth_ <= 10 and tree.score(X[1200:], y[1200:]) > 0.7
    leafy = DecisionTree(min_samples_leaf=20).fit(X, y)
    assert leafy.tree_n_samples_[leafy.tree_feature_ == LEAF].min() >= 20
    np.testing.assert_allclose(leafy.predict_proba(X).sum(axis=1), 1.0)
    stubby = DecisionTree(min_samples_split=400).fit(X, y)
    inner = stubby.tree_feature_ != LEAF
    assert stubby.tree_n_samples_[inner].min() >= 400


def test_gain_ratio_avoids_the_split_that_chops_off_a_few_samples():
    # Feature 0 splits 4 of 100 samples off perfectly (gain ~0.24 bits, split info 0.24: ratio ~1);
    # feature 1 halves the data with a better-than-average gain but a full bit of split info.
    y = np.array([1] * 4 + [0] * 46 + [1] * 40 + [0] * 10)
    f0 = np.r_[np.zeros(4), np.ones(96)]
    f1 = np.r_[np.zeros(50), np.ones(50)]
    X = np.column_stack([f0, f1])
    gains = {c: DecisionTree(criterion=c, max_depth=1).fit(X, y).tree_feature_[0] for c in ("entropy", "gain_ratio")}
    assert gains["entropy"] == 1  # information gain: feature 1 (0.36 bits) beats feature 0
    column, _, decrease = best_split(X, np.eye(2)[y], "gain_ratio", 1)
    assert column == 1 and decrease > 0


def test_impurity_formulas():
    assert impurity(np.array([5.0, 5.0]), "gini") == pytest.approx(0.5)
    assert impurity(np.array([5.0, 5.0]), "entropy") == pytest.approx(1.0)  # one bit
    assert impurity(np.array([7.0, 0.0]), "entropy") == 0.0  # 0 log 0 = 0


def test_one_class_constant_feature_and_sample_weight():
    X, y = perfectly_separable()
    single = DecisionTree().fit(X, np.full(len(X), 7))
    assert single.n_leaves_ == 1 and (single.predict(X) == 7).all()
    X_const = np.column_stack([np.full(len(X), 3.0), X])
    assert 0 not in DecisionTree().fit(X_const, y).tree_feature_  # a constant feature is never split on
    assert DecisionTree().fit(np.ones((10, 2)), [0, 1] * 5).n_leaves_ == 1  # nothing to split on: one leaf
    doubled = DecisionTree().fit(np.r_[X, X], np.r_[y, y])
    weighted = DecisionTree().fit(X, y, sample_weight=np.full(len(X), 2.0))
    np.testing.assert_array_equal(doubled.tree_threshold_, weighted.tree_threshold_)
    with pytest.raises(ValueError, match="sample_weight must be 200 non-negative"):
        DecisionTree().fit(X, y, sample_weight=-np.ones(len(X)))


def test_bad_parameters_are_named():
    X, y = perfectly_separable()
    with pytest.raises(ValueError, match="criterion must be one of"):
        DecisionTree(criterion="log_loss").fit(X, y)
    with pytest.raises(ValueError, match="max_depth must be None or >= 1"):
        DecisionTree(max_depth=0).fit(X, y)
    with pytest.raises(ValueError, match=r"max_features must be in \[1, 5\]"):
        DecisionTree(max_features=9).fit(X, y)
