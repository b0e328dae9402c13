"""Softmax and cross-entropy, fused so that they are numerically stable and their gradient is one line.

For logits z of one example and its true class y:
    softmax(z)_k = e^{z_k} / sum_j e^{z_j}
    loss = -log softmax(z)_y = logsumexp(z) - z_y
Computing e^{z} directly overflows for z ~ 1000; subtracting max(z) first changes nothing mathematically
(it cancels between numerator and denominator) and keeps every exponent <= 0.
The gradient of the mean loss over n examples is (softmax(z) - onehot(y)) / n: no division by a probability that
might be 0, which is why frameworks fuse the two instead of chaining softmax then log.
"""

import numpy as np

from src.ml.deep_learning.tensor import Tensor


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """Mean cross-entropy of (n, classes) logits against integer labels (n,)."""
    labels = np.asarray(labels)
    n, n_classes = logits.shape
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be {n} integer class indices for logits of shape {logits.shape}, got "
            f"{labels.dtype} {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}, got range {labels.min()}..{labels.max()}")
    log_p = log_softmax(logits.data)
    rows = np.arange(n)
    loss = -log_p[rows, labels].mean()

    def backward(g):
        grad = np.exp(log_p)
        grad[rows, labels] -= 1.0
        return (grad * (g / n),)

    return Tensor.from_op(np.asarray(loss, dtype=logits.dtype), (logits,), backward, "softmax_cross_entropy")
