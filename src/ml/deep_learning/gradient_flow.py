"""Vanishing and exploding gradients, measured: the norm of dLoss/dW for every layer of a deep MLP at
initialisation, for several activation / initialisation pairs.

Backpropagation multiplies, layer by layer from the loss towards the input, by W^T and by the activation's
derivative. If each layer scales the gradient by a factor a, the first layer sees about a^depth times what the last
one sees: a < 1 vanishes (sigmoid, whose derivative is at most 1/4; or too-small weights), a > 1 explodes (too-large
weights), a ~ 1 is what He initialisation achieves for ReLU (see initializers.py).
"""

import re

import numpy as np

from src.ml.deep_learning.layers import Dense, Flatten
from src.ml.deep_learning.losses import softmax_cross_entropy
from src.ml.deep_learning.network import NeuralNetwork

# label -> (activation, init): init is 'he', 'xavier' or the standard deviation of a plain normal init
SETTINGS = {
    "sigmoid, Xavier init": ("sigmoid", "xavier"),
    "ReLU, He init": ("relu", "he"),
    "ReLU, N(0, 1) init (too large)": ("relu", 1.0),
    "ReLU, N(0, 0.01) init (too small)": ("relu", 0.01),
}


def deep_mlp(activation: str, init, depth: int, width: int, n_inputs: int, seed: int) -> NeuralNetwork:
    sizes = [n_inputs] + [width] * depth
    model = NeuralNetwork([Flatten()])
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        model.add(Dense(n_in, n_out, activation=activation, init=init, dtype="float64", seed=seed + i))
    return model.add(Dense(width, 10, activation=None, init=init, dtype="float64", seed=seed + depth))


def gradient_norms_at_init(X: np.ndarray, y: np.ndarray, depth: int, width: int, seed: int = 0) -> list[dict]:
    """One row per (setting, layer): the Frobenius norm of the loss gradient w.r.t. that layer's weights on one
    batch (X, y) at initialisation. Layer 1 is the closest to the input."""
    rows = []
    for label, (activation, init) in SETTINGS.items():
        model = deep_mlp(activation, init, depth, width, int(np.prod(X.shape[1:])), seed)
        loss = softmax_cross_entropy(model(X.astype(np.float64)), y)
        loss.backward()
        dense_layers = [layer for layer in model.layers if isinstance(layer, Dense)]
        for number, layer in enumerate(dense_layers, start=1):
            rows.append({"setting": label, "layer": number, "grad_norm": float(np.linalg.norm(layer.weight.grad))})
    return rows


def slug(setting: str) -> str:
    """'ReLU, N(0, 1) init (too large)' -> 'relu_n_0_1_init': a name for a metric or CSV column."""
    return re.sub(r"[^a-z0-9]+", "_", setting.split(" (")[0].lower()).strip("_")


def norms_by_setting(rows: list[dict]) -> dict[str, list[float]]:
    """gradient_norms_at_init's rows pivoted: {slug(setting): [norm of layer 1, layer 2, ...]}."""
    by_setting: dict[str, list[float]] = {}
    for row in sorted(rows, key=lambda r: r["layer"]):
        by_setting.setdefault(slug(row["setting"]), []).append(row["grad_norm"])
    return by_setting
