"""Day 1's least-squares race: gradient descent and the normal equations, from scratch, against LAPACK's
numpy.linalg.lstsq, on the same synthetic regression, timed in this process.

Gradient descent approaches the least-squares solution one step at a time (its loss curve is the figure); the
normal equations solve X^T X w = X^T y directly (squaring X's condition number, the reason lstsq uses QR/SVD).
"""

import numpy as np

from src.benchmark import best_time
from src.core import linear_algebra as la


def regression_data(n_samples: int, n_features: int, noise: float, rng: np.random.Generator):
    """X ~ N(0, 1), y = X w_true + noise * N(0, 1): (X, y)."""
    X = rng.standard_normal((n_samples, n_features))
    w_true = rng.standard_normal(n_features)
    return X, X @ w_true + noise * rng.standard_normal(n_samples)


def compare_least_squares(X, y, lr: float | None, n_steps: int, tol: float) -> tuple[dict[str, dict], list[float]]:
    """({variant: metrics}, gradient descent's MSE per step). Variants: numpy_lstsq (final_mse, seconds),
    scratch_gradient_descent and scratch_normal_equations (their weights' largest difference from lstsq's,
    seconds, time ratio; gradient descent also its final MSE and the steps it took)."""

    def lstsq():
        return np.linalg.lstsq(X, y, rcond=None)[0]

    def gradient_descent():
        return la.lstsq_gradient_descent(X, y, lr=lr, n_steps=n_steps, tol=tol)

    def normal_equations():
        return la.lstsq_normal_equations(X, y)

    w_ref = lstsq()
    ref_seconds = best_time(lstsq)
    w_gd, losses = gradient_descent()
    gd_seconds = best_time(gradient_descent)
    w_ne = normal_equations()
    ne_seconds = best_time(normal_equations)
    metrics = {
        "numpy_lstsq": {"final_mse": float(np.mean((X @ w_ref - y) ** 2)), "seconds": ref_seconds},
        "scratch_gradient_descent": {
            "weights_max_abs_diff": np.abs(w_gd - w_ref).max(),
            "final_mse": losses[-1],
            "steps": len(losses) - 1,
            "seconds": gd_seconds,
            "time_ratio_vs_reference": gd_seconds / ref_seconds,
        },
        "scratch_normal_equations": {
            "weights_max_abs_diff": np.abs(w_ne - w_ref).max(),
            "seconds": ne_seconds,
            "time_ratio_vs_reference": ne_seconds / ref_seconds,
        },
    }
    return metrics, losses
