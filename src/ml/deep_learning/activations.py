"""Activation functions as autograd operations, each with its derivative written out.

Why a network needs them: without one, Dense(784, 100) followed by Dense(100, 10) is x @ W1 @ W2 = x @ (W1 W2),
a single linear map however many layers are stacked (the day-4 stage trains exactly that and shows it). A
nonlinearity between layers lets them compose into curved decision boundaries.

Why the choice matters for depth: backpropagation multiplies one derivative per layer. sigmoid'(x) <= 1/4, so
through n sigmoid layers the gradient shrinks like (1/4)^n (vanishing); ReLU's derivative is exactly 1 where the
unit is active, so with He initialisation gradient norms stay level with depth (the stage's gradient-norm figure).
"""

import numpy as np
from scipy.special import erf

from src.ml.deep_learning.tensor import Tensor

SQRT_2 = np.sqrt(2.0)
INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def relu(x: Tensor) -> Tensor:
    """max(0, x); derivative 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    active = x.data > 0
    return Tensor.from_op(np.maximum(x.data, 0), (x,), lambda g: (g * active,), "relu")


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x); derivative s (1 - s). Written via tanh, which never overflows: s = (1 + tanh(x/2)) / 2."""
    s = 0.5 * (1.0 + np.tanh(0.5 * x.data))
    return Tensor.from_op(s, (x,), lambda g: (g * s * (1.0 - s),), "sigmoid")


def tanh(x: Tensor) -> Tensor:
    """tanh(x); derivative 1 - tanh(x)^2."""
    t = np.tanh(x.data)
    return Tensor.from_op(t, (x,), lambda g: (g * (1.0 - t * t),), "tanh")


def gelu(x: Tensor) -> Tensor:
    """x Phi(x) with Phi the standard normal CDF (the exact form, PyTorch's default);
    derivative Phi(x) + x phi(x), phi the normal density."""
    cdf = 0.5 * (1.0 + erf(x.data / SQRT_2))
    pdf = INV_SQRT_2PI * np.exp(-0.5 * x.data * x.data)
    return Tensor.from_op((x.data * cdf).astype(x.dtype), (x,), lambda g: (g * (cdf + x.data * pdf),), "gelu")


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "gelu": gelu}


def get_activation(name: str | None):
    """The function for a name ('relu', ...); None or 'linear' means no activation."""
    if name is None or name == "linear":
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)} or None")
    return ACTIVATIONS[name]
