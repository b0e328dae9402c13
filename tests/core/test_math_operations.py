"""src.core.math_operations held equal to NumPy and to analytic derivatives."""

import numpy as np
import pytest

from src.core.math_operations import (
    cosine_similarity,
    dot,
    gradient_descent,
    norm,
    numerical_gradient,
    numerical_jacobian,
    outer,
)

rng = np.random.default_rng(0)
U, V = rng.standard_normal(7), rng.standard_normal(7)


# vectors


def test_dot_equals_numpy():
    assert dot(U, V) == pytest.approx(U @ V, rel=1e-12)
    assert dot([1, 2, 3], [4, 5, 6]) == 32.0


@pytest.mark.parametrize("ord", [1, 2, np.inf])
def test_norm_equals_numpy(ord):
    assert norm(U, ord=ord) == pytest.approx(np.linalg.norm(U, ord=ord), rel=1e-12)


def test_outer_equals_numpy():
    np.testing.assert_allclose(outer(U, V[:3]), np.outer(U, V[:3]), rtol=1e-15)
    assert outer([1.0], [2.0, 3.0]).shape == (1, 2)


def test_cosine_similarity():
    expected = U @ V / (np.linalg.norm(U) * np.linalg.norm(V))
    assert cosine_similarity(U, V) == pytest.approx(expected, rel=1e-12)
    assert cosine_similarity(U, 3 * U) == pytest.approx(1.0)
    assert cosine_similarity(U, -U) == pytest.approx(-1.0)


def test_vector_functions_reject_bad_input():
    with pytest.raises(ValueError, match="same length"):
        dot([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="1-D vector"):
        dot(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN/inf"):
        norm([1.0, np.nan])
    with pytest.raises(ValueError, match="NaN/inf"):
        dot([1.0, np.inf], [1.0, 1.0])
    with pytest.raises(ValueError, match="ord must be"):
        norm(U, ord=3)
    with pytest.raises(ValueError, match="zero vector"):
        cosine_similarity(U, np.zeros(7))


# derivatives


@pytest.mark.parametrize(
    ("f", "grad"),
    [
        (lambda x: np.sum(x**2), lambda x: 2 * x),
        (
            lambda x: np.sin(x[0]) * np.exp(x[1]),
            lambda x: np.array([np.cos(x[0]), np.sin(x[0])]) * np.exp(x[1]),
        ),
        (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x))),  # log-sum-exp
        (lambda x: np.sum(np.tanh(x)), lambda x: 1 - np.tanh(x) ** 2),
    ],
    ids=["square", "sin_exp", "logsumexp", "tanh"],
)
def test_numerical_gradient_equals_analytic(f, grad):
    x = rng.standard_normal(2)
    np.testing.assert_allclose(numerical_gradient(f, x), grad(x), rtol=1e-6, atol=1e-8)


def test_numerical_gradient_of_a_matrix_argument():
    A, x0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    g = numerical_gradient(lambda X: np.sum(A * X**2), x0)  # d/dX sum(A X^2) = 2 A X
    assert g.shape == (3, 4)
    np.testing.assert_allclose(g, 2 * A * x0, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_does_not_modify_x():
    x = rng.standard_normal(3)
    before = x.copy()
    numerical_gradient(lambda z: np.sum(z**3), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_jacobian_equals_analytic():
    A = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    np.testing.assert_allclose(numerical_jacobian(lambda z: A @ z, x), A, rtol=1e-6, atol=1e-8)
    # f(x) = (x0 x1, sin x2): J = [[x1, x0, 0], [0, 0, cos x2]]
    x = rng.standard_normal(3)
    J = numerical_jacobian(lambda z: np.array([z[0] * z[1], np.sin(z[2])]), x)
    np.testing.assert_allclose(J, [[x[1], x[0], 0], [0, 0, np.cos(x[2])]], rtol=1e-6, atol=1e-8)


def test_derivatives_reject_bad_input():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda z: z, np.ones(2))
    with pytest.raises(ValueError, match="NaN/inf"):
        numerical_gradient(np.sum, [1.0, np.nan])
    with pytest.raises(ValueError, match="eps must be"):
        numerical_jacobian(np.sin, np.ones(2), eps=0.0)


# gradient descent


def test_gradient_descent_converges_on_a_quadratic():
    # f(x) = 1/2 x^T A x - b^T x, minimised at A^-1 b; A's eigenvalues lie in [1, 10], so lr = 1/10 is safe.
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = Q @ np.diag([1.0, 2.0, 5.0, 10.0]) @ Q.T
    b = rng.standard_normal(4)
    x, history = gradient_descent(lambda x: A @ x - b, np.zeros(4), lr=0.1, n_steps=500)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)
    assert len(history) == 501
    np.testing.assert_array_equal(history[0], np.zeros(4))
    losses = [0.5 * h @ A @ h - b @ h for h in history]
    assert all(np.diff(losses) <= 1e-15)


def test_gradient_descent_stops_early_and_calls_back():
    seen = []
    x, history = gradient_descent(
        lambda x: 2 * x,
        np.array([1.0, -2.0]),
        lr=0.25,
        n_steps=1000,
        tol=1e-8,
        callback=lambda k, x: seen.append(k),
    )
    assert np.linalg.norm(2 * x) < 1e-8
    assert len(history) < 100  # contracts by 1/2 per step: ~30 steps, not 1000
    assert seen == list(range(1, len(history)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0.0, "n_steps": 10}, "lr must be a positive"),
        ({"lr": -0.1, "n_steps": 10}, "lr must be a positive"),
        ({"lr": np.nan, "n_steps": 10}, "lr must be a positive"),
        ({"lr": 0.1, "n_steps": 0}, "n_steps must be an integer >= 1"),
        ({"lr": 0.1, "n_steps": 2.5}, "n_steps must be an integer >= 1"),
        ({"lr": 0.1, "n_steps": 10, "tol": -1.0}, "tol must be >= 0"),
    ],
)
def test_gradient_descent_validates_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradient_descent(lambda x: x, np.ones(2), **kwargs)


def test_gradient_descent_reports_divergence():
    with np.errstate(over="ignore"), pytest.raises(ValueError, match="lr=.* is probably too large"):
        gradient_descent(lambda x: 2 * x, np.ones(2), lr=10.0, n_steps=2000)
