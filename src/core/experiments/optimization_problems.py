"""The three problems day 2's optimizers race on, each with its loss, gradient, start and known minimum f*.

- rosenbrock: f(x, y) = (a - x)^2 + b (y - x^2)^2, minimum 0 at (a, a^2) at the end of a long curved valley:
  the gradient points across the valley, not along it, so plain gradient descent zig-zags.
- ill_conditioned_quadratic: f(x) = x^T A x / 2 with A's eigenvalues spread over [1/kappa, 1]: gradient descent's
  safe step is set by the largest curvature and its progress by the smallest, so it needs ~kappa steps.
- logistic_regression: the mean negative log-likelihood of breast_cancer's labels plus an L2 penalty (the
  intercept unpenalized); f* comes from scikit-learn's Newton solver.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from src.core.probability import logistic_log_likelihood, logistic_log_likelihood_grad


@dataclass
class Problem:
    name: str
    loss: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    x0: np.ndarray
    optimum: float  # f* = min f, so f(x) - f* >= 0 is the excess loss the comparison plots
    tol: float  # "converged" once f(x) - f* <= tol


def rosenbrock(start=(-1.2, 1.0), a: float = 1.0, b: float = 100.0, tol: float = 1e-6) -> Problem:
    def loss(p):
        x, y = p
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad(p):
        x, y = p
        return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])

    return Problem("rosenbrock", loss, grad, np.array(start, dtype=float), 0.0, tol)


def ill_conditioned_quadratic(dim: int, condition_number: float, rng: np.random.Generator, tol: float = 1e-8):
    """A = Q diag(lambda) Q^T, lambda log-spaced from 1/kappa to 1, Q a random rotation; start at a random
    unit vector (every eigen-direction has to be solved, the flat ones too)."""
    if dim < 2 or condition_number < 1:
        raise ValueError(f"need dim >= 2 and condition_number >= 1, got {dim}, {condition_number}.")
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = (Q * np.logspace(-np.log10(condition_number), 0, dim)) @ Q.T
    x0 = rng.standard_normal(dim)
    return Problem("quadratic", lambda x: 0.5 * float(x @ A @ x), lambda x: A @ x, x0 / np.linalg.norm(x0), 0.0, tol)


BREAST_CANCER_PATIENTS = 569  # rows of scikit-learn's bundled breast_cancer (212 malignant)


def breast_cancer_feature_names() -> list[str]:
    from sklearn.datasets import load_breast_cancer

    return [str(n) for n in load_breast_cancer().feature_names]


def breast_cancer_design(features: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """scikit-learn's bundled breast_cancer: standardized features with an intercept column first, y = 1 for
    malignant (sklearn codes malignant as 0). `features` picks columns by name (None: all 30)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = breast_cancer_feature_names()
    if features:
        unknown = sorted(set(features) - set(names))
        if unknown:
            raise ValueError(f"unknown breast_cancer features {unknown}; choose from {names}.")
        columns = [names.index(f) for f in features]
    else:
        columns = list(range(len(names)))
    X = data.data[:, columns]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.column_stack([np.ones(len(X)), X]), (data.target == 0).astype(float), [names[c] for c in columns]


def logistic_regression(X: np.ndarray, y: np.ndarray, l2: float, tol: float = 1e-8) -> Problem:
    """f(w) = -(1/n) log-likelihood(w) + (l2/2) ||w[1:]||^2 (w[0] the intercept), started at w = 0."""
    n = len(y)
    penalty = np.ones(X.shape[1])
    penalty[0] = 0.0

    def loss(w):
        return -logistic_log_likelihood(w, X, y) / n + 0.5 * l2 * float(np.sum(penalty * w * w))

    def grad(w):
        return -logistic_log_likelihood_grad(w, X, y) / n + l2 * penalty * w

    w_star = sklearn_logistic_optimum(X, y, l2)
    return Problem("logistic", loss, grad, np.zeros(X.shape[1]), loss(w_star), tol)


def sklearn_logistic_optimum(X: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """The reference minimizer: scikit-learn minimizes C * sum(log-loss) + ||w||^2 / 2, which is ours times
    n C when C = 1 / (n l2). Newton-Cholesky converges to machine precision on this small problem."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1 / (len(y) * l2), solver="newton-cholesky", tol=1e-14, max_iter=100)
    model.fit(X[:, 1:], y)
    return np.concatenate([model.intercept_, model.coef_[0]])
