"""Vectors and calculus from scratch: dot products, norms, numerical derivatives, gradient descent.

The vector functions use explicit Python loops on purpose: the loop *is* the definition. The tests in
tests/core/test_math_operations.py hold each one equal to NumPy.
"""

import math
import numbers
from collections.abc import Callable

import numpy as np

from src.core.checks import require_finite


def _as_vector(v, name: str) -> np.ndarray:
    """Return v as a 1-D float array, or raise a ValueError that says what is wrong."""
    v = np.asarray(v, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector, got shape {v.shape}; flatten it with np.ravel first.")
    require_finite(v, name)
    return v


def _same_length(u: np.ndarray, v: np.ndarray) -> None:
    if len(u) != len(v):
        raise ValueError(f"u and v must have the same length, got {len(u)} and {len(v)}.")


def dot(u, v) -> float:
    """Dot product u . v = sum_i u_i v_i."""
    u, v = _as_vector(u, "u"), _as_vector(v, "v")
    _same_length(u, v)
    return float(sum(ui * vi for ui, vi in zip(u, v, strict=True)))


def norm(v, ord=2) -> float:
    """Vector norm: ord=1 sum |v_i|, ord=2 sqrt(sum v_i^2), ord=inf max |v_i|."""
    v = _as_vector(v, "v")
    if ord == 1:
        return float(sum(abs(vi) for vi in v))
    if ord == 2:
        return math.sqrt(sum(vi * vi for vi in v))
    if ord == math.inf:
        return float(max((abs(vi) for vi in v), default=0.0))
    raise ValueError(f"ord must be 1, 2 or np.inf, got {ord!r}.")


def outer(u, v) -> np.ndarray:
    """Outer product (u v^T)_ij = u_i v_j, an len(u) x len(v) matrix."""
    u, v = _as_vector(u, "u"), _as_vector(v, "v")
    return np.array([[ui * vj for vj in v] for ui in u]).reshape(len(u), len(v))


def cosine_similarity(u, v) -> float:
    """cos(u, v) = u . v / (||u|| ||v||), in [-1, 1]."""
    u, v = _as_vector(u, "u"), _as_vector(v, "v")
    _same_length(u, v)
    nu, nv = norm(u), norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("cosine similarity is undefined for a zero vector (it has no direction).")
    return dot(u, v) / (nu * nv)


def _check_point(x, eps: float) -> np.ndarray:
    x = np.array(x, dtype=float)  # a copy: we perturb it in place
    require_finite(x, "x", "derivatives are only defined at finite points")
    if not eps > 0:
        raise ValueError(f"eps must be a positive step size, got {eps!r}.")
    return x


def numerical_gradient(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """Central differences: df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps); error O(eps^2).

    f maps an array shaped like x to a scalar; the result has x's shape.
    """
    x = _check_point(x, eps)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        f_plus = f(x)
        x[i] = saved - eps
        f_minus = f(x)
        x[i] = saved
        if np.ndim(f_plus) != 0:
            raise ValueError(f"f must return a scalar, got shape {np.shape(f_plus)}; use numerical_jacobian.")
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def numerical_jacobian(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian J[a, i] = d f_a / d x_i.

    The result has shape f(x).shape + x.shape: (m, n) for f from R^n to R^m.
    """
    x = _check_point(x, eps)
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        f_plus = np.asarray(f(x), dtype=float)
        x[i] = saved - eps
        f_minus = np.asarray(f(x), dtype=float)
        x[i] = saved
        jac[(...,) + i] = (f_plus - f_minus) / (2 * eps)
    return jac


def gradient_descent(grad: Callable, x0, lr: float, n_steps: int, tol: float = 0.0, callback=None):
    """Iterate x_{k+1} = x_k - lr * grad(x_k); stop after n_steps or once ||grad(x_k)||_2 < tol.

    Returns (x, history) with history the list of iterates [x_0, x_1, ...] (copies).
    callback(k, x_k), if given, is called after each step. A gradient that turns NaN/inf (the step
    diverged, usually because lr is too large) raises a ValueError naming the step.
    """
    if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}.")
    if not (isinstance(n_steps, numbers.Integral) and n_steps >= 1):
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}.")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0 (0 disables early stopping), got {tol!r}.")
    x = _check_point(x0, eps=1.0)
    history = [x.copy()]
    for k in range(1, n_steps + 1):
        g = np.asarray(grad(x), dtype=float)
        if g.shape != x.shape:
            raise ValueError(f"grad(x) must have x's shape {x.shape}, got {g.shape}.")
        with np.errstate(over="ignore"):  # a huge gradient overflows g * g: reported just below
            g_norm = np.sqrt(np.sum(g * g))
        if not np.isfinite(g_norm):
            raise ValueError(f"the gradient became NaN or inf at step {k}; lr={lr} is probably too large.")
        if g_norm < tol:
            break
        x = x - lr * g
        history.append(x.copy())
        if callback is not None:
            callback(k, x)
    return x, history
