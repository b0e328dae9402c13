"""Day 1's least-squares race: both from-scratch solvers land on LAPACK's solution, and the race reports it."""

import numpy as np
import pytest

from src.core.experiments.least_squares import compare_least_squares, regression_data


def test_regression_data_is_a_noisy_linear_model():
    X, y = regression_data(2000, 3, 0.1, np.random.default_rng(0))
    assert X.shape == (2000, 3) and y.shape == (2000,)
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.mean((X @ w - y) ** 2) == pytest.approx(0.01, rel=0.1)  # the residual is the noise, variance 0.1^2


def test_both_solvers_match_lstsq_and_gradient_descent_converges():
    X, y = regression_data(200, 4, 0.1, np.random.default_rng(1))
    metrics, losses = compare_least_squares(X, y, lr=None, n_steps=5000, tol=1e-10)
    assert metrics["scratch_normal_equations"]["weights_max_abs_diff"] < 1e-10
    assert metrics["scratch_gradient_descent"]["weights_max_abs_diff"] < 1e-8
    assert metrics["scratch_gradient_descent"]["final_mse"] == pytest.approx(metrics["numpy_lstsq"]["final_mse"])
    assert metrics["scratch_gradient_descent"]["steps"] == len(losses) - 1 < 5000  # stopped on tol
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:], strict=False))  # 1/L: never up
    assert all(m["seconds"] > 0 for m in metrics.values())
