"""SMO against libsvm (scikit-learn's SVC): the dual objective, the decision function, the support vectors."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics.pairwise import linear_kernel, polynomial_kernel, rbf_kernel
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from src.ml.classical import SVM
from src.ml.classical.svm import kernel_matrix

# Both solvers stop when the KKT conditions hold to tol = 1e-3, so they agree to about that, not to rounding:
# the dual objective to 1e-5 relative (it is flat at its maximum), the decision function to 0.05 absolute.
DUAL_RTOL, DECISION_ATOL = 1e-5, 0.05


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X[:250]), y[:250]


def dual_objective_of_sklearn(svc, kernel, gamma, degree=3, coef0=0.0):
    coef = svc.dual_coef_[0]  # a_i y_i of the support vectors
    K = kernel_matrix(svc.support_vectors_, svc.support_vectors_, kernel, gamma, degree, coef0)
    return np.abs(coef).sum() - 0.5 * coef @ K @ coef


@pytest.mark.parametrize("kernel", ["linear", "rbf", "poly"])
@pytest.mark.parametrize("C", [0.1, 1.0])
def test_dual_objective_and_decision_function_match_libsvm(cancer, kernel, C):
    X, y = cancer
    ours = SVM(kernel=kernel, C=C).fit(X, y)
    theirs = SVC(kernel=kernel, C=C).fit(X, y)
    machine = ours.machines_[0]
    assert machine["converged"]
    reference = dual_objective_of_sklearn(theirs, kernel, ours.gamma_)
    assert machine["dual_objective"] == pytest.approx(reference, rel=DUAL_RTOL)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=DECISION_ATOL)
    assert np.mean(ours.predict(X) == theirs.predict(X)) >= 0.99
    assert abs(len(ours.support_) - theirs.support_.size) <= 2


def test_one_vs_rest_predicts_like_sklearn_one_vs_rest():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = SVM(kernel="rbf", C=1.0).fit(X, y)
    theirs = OneVsRestClassifier(SVC(kernel="rbf", C=1.0)).fit(X, y)
    assert ours.decision_function(X).shape == (150, 3)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=DECISION_ATOL)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_kernels_equal_sklearns():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((6, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(kernel_matrix(A, B, "linear", 0.5, 3, 1.0), linear_kernel(A, B), atol=1e-12)
    np.testing.assert_allclose(kernel_matrix(A, B, "rbf", 0.5, 3, 1.0), rbf_kernel(A, B, gamma=0.5), atol=1e-12)
    expected = polynomial_kernel(A, B, degree=3, gamma=0.5, coef0=1.0)
    np.testing.assert_allclose(kernel_matrix(A, B, "poly", 0.5, 3, 1.0), expected, atol=1e-12)


def test_gamma_scale_is_sklearns_and_constant_data_falls_back_to_one():
    X, y = load_iris(return_X_y=True)
    assert SVM().fit(X, y).gamma_ == pytest.approx(1 / (X.shape[1] * X.var()))
    X_const = np.column_stack([np.ones(6), np.ones(6)])
    assert SVM().fit(X_const, [0, 1, 0, 1, 0, 1]).gamma_ == 1.0  # fits, as libsvm does


def test_a_constant_feature_changes_nothing(cancer):
    X, y = cancer
    plain = SVM(kernel="linear").fit(X, y).decision_function(X)
    padded = np.column_stack([X, np.full(len(X), 2.0)])
    np.testing.assert_allclose(SVM(kernel="linear").fit(padded, y).decision_function(padded), plain, atol=DECISION_ATOL)


def test_bad_inputs_give_clear_errors(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="at least 2 classes"):
        SVM().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="kernel must be one of"):
        SVM(kernel="sigmoid").fit(X, y)
    with pytest.raises(ValueError, match="gamma must be 'scale' or a positive number"):
        SVM(gamma=-1.0).fit(X, y)
