"""Weight initialisation: pick the scale so that signals neither shrink nor blow up from layer to layer.

A unit sums fan_in inputs times weights; if inputs and weights are independent with variance v_x and v_w, the
sum has variance fan_in * v_w * v_x. Keeping it equal to v_x from layer to layer needs v_w = 1 / fan_in,
corrected for what the activation does:
- Xavier/Glorot (tanh, sigmoid, linear): Var(w) = 2 / (fan_in + fan_out), a compromise between the forward
  (fan_in) and the backward (fan_out) pass;
- He/Kaiming (ReLU): Var(w) = 2 / fan_in, because ReLU zeroes half of its inputs and so halves the variance.
Too small a scale and activations and gradients vanish with depth; too large and they explode
(the stage's gradient-norm figure shows both).
"""

import numpy as np


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a Dense weight (in, out) or a conv weight (out_channels, in_channels, kh, kw)."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = int(np.prod(shape[2:]))
    return shape[1] * receptive_field, shape[0] * receptive_field


def he_normal(shape, rng, dtype=np.float32):
    fan_in, _ = fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def xavier_uniform(shape, rng, dtype=np.float32):
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))  # uniform(-a, a) has variance a^2 / 3 = 2 / (fan_in + fan_out)
    return rng.uniform(-limit, limit, shape).astype(dtype)


def normal(std: float):
    """A fixed-scale initialiser, N(0, std^2), whatever the layer's size: the 'bad' init of the experiments."""

    def init(shape, rng, dtype=np.float32):
        return (rng.standard_normal(shape) * std).astype(dtype)

    return init


INITIALIZERS = {"he": he_normal, "xavier": xavier_uniform}


def get_initializer(name: str | float):
    """'he', 'xavier', or a number: the standard deviation of a plain normal init."""
    if isinstance(name, int | float) and not isinstance(name, bool):
        return normal(float(name))
    if name not in INITIALIZERS:
        raise ValueError(f"unknown init {name!r}: use 'he', 'xavier' or a standard deviation (a number)")
    return INITIALIZERS[name]
