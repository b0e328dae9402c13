"""Naive Bayes against scikit-learn: the probabilities themselves, to 1e-8."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.naive_bayes import GaussianNB, MultinomialNB

from src.ml.classical import NaiveBayes, NotFittedError


@pytest.mark.parametrize("load", [load_iris, load_wine, load_digits])
@pytest.mark.parametrize("var_smoothing", [1e-9, 1e-2])
def test_gaussian_probabilities_equal_sklearn(load, var_smoothing):
    X, y = load(return_X_y=True)
    ours = NaiveBayes("gaussian", var_smoothing=var_smoothing).fit(X[::2], y[::2])
    theirs = GaussianNB(var_smoothing=var_smoothing).fit(X[::2], y[::2])
    np.testing.assert_allclose(ours.predict_proba(X[1::2]), theirs.predict_proba(X[1::2]), rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(X[1::2]), theirs.predict(X[1::2]))


@pytest.mark.parametrize("load", [load_iris, load_digits])
@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.01])  # Laplace, then Lidstone
def test_multinomial_probabilities_equal_sklearn(load, alpha):
    X, y = load(return_X_y=True)
    ours = NaiveBayes("multinomial", alpha=alpha).fit(X[::2], y[::2])
    theirs = MultinomialNB(alpha=alpha).fit(X[::2], y[::2])
    np.testing.assert_allclose(ours.predict_proba(X[1::2]), theirs.predict_proba(X[1::2]), rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.feature_log_prob_, theirs.feature_log_prob_, rtol=1e-12)


def test_log_probabilities_stay_finite_where_probabilities_underflow():
    X, y = load_digits(return_X_y=True)
    log_proba = NaiveBayes("multinomial").fit(X, y).predict_log_proba(X * 50)  # exp() of these underflows
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(np.exp(log_proba).sum(axis=1), 1.0)


def test_a_single_class_is_predicted_with_certainty():
    X = np.random.default_rng(0).random((10, 3))
    model = NaiveBayes().fit(X, ["spam"] * 10)
    assert (model.predict(X) == "spam").all()
    np.testing.assert_allclose(model.predict_proba(X), 1.0)


def test_a_constant_feature_is_smoothed_not_divided_by_zero():
    X, y = load_iris(return_X_y=True)
    X = np.column_stack([X, np.full(len(X), 3.0)])
    ours, theirs = NaiveBayes().fit(X, y), GaussianNB().fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)


def test_bad_inputs_give_clear_errors():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="every feature is constant"):
        NaiveBayes().fit(np.ones((4, 2)), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="non-negative counts"):
        NaiveBayes("multinomial").fit(X - 5, y)
    with pytest.raises(ValueError, match="distribution must be one of"):
        NaiveBayes("bernoulli").fit(X, y)
    with pytest.raises(NotFittedError, match="call fit"):
        NaiveBayes().predict(X)
