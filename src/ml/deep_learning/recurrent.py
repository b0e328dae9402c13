"""An LSTM layer built from autograd operations; backpropagation through time is just `backward()` on the
unrolled graph.

At each time step t, with input x_t, previous hidden state h and cell state c (gates in PyTorch's order i, f, g, o):
    i, f, o = sigmoid(...)   input, forget and output gates, each in (0, 1)
    g       = tanh(...)      the candidate values
    c_t = f * c + i * g      the cell keeps what the forget gate lets through and adds what the input gate admits
    h_t = o * tanh(c_t)
where every (...) is x_t @ W_ih + h @ W_hh + b, sliced into four blocks of `hidden_size` columns.
(Projecting all time steps' inputs in one product before the loop would be one big matmul instead of T small
ones, but slicing that result per step makes each step's backward allocate a gradient of the whole sequence.)
The additive cell update is why an LSTM learns long dependencies where a plain RNN cannot: dc_t/dc_{t-1} = f,
a gate the network can hold near 1, instead of a product of weight matrices and tanh' factors that vanishes.
"""

import numpy as np

from src.ml.deep_learning.activations import sigmoid, tanh
from src.ml.deep_learning.layers import Layer
from src.ml.deep_learning.tensor import Tensor, stack


class LSTM(Layer):
    """Batch-first: input (batch, time, input_size); output the last hidden state (batch, hidden_size), or every
    hidden state (batch, time, hidden_size) with return_sequences=True. Weights are initialised like PyTorch's,
    uniform(-1/sqrt(hidden), 1/sqrt(hidden)); one bias vector plays the part of PyTorch's b_ih + b_hh."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        return_sequences: bool = False,
        dtype="float32",
        seed: int | None = None,
    ):
        super().__init__(
            input_size=input_size,
            hidden_size=hidden_size,
            return_sequences=return_sequences,
            dtype=str(np.dtype(dtype)),
        )
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)

        def uniform(*shape):
            return Tensor(rng.uniform(-bound, bound, shape).astype(dtype), requires_grad=True)

        self.weight_ih = uniform(input_size, 4 * hidden_size)
        self.weight_hh = uniform(hidden_size, 4 * hidden_size)
        self.bias = uniform(4 * hidden_size)

    def forward(self, x: Tensor) -> Tensor:
        n, steps, features = x.shape if x.ndim == 3 else (None, None, None)
        if x.ndim != 3 or features != self.config["input_size"]:
            raise ValueError(f"LSTM expects (batch, time, {self.config['input_size']}), got shape {x.shape}")
        hidden = self.config["hidden_size"]
        h = Tensor(np.zeros((n, hidden), dtype=x.dtype))
        c = Tensor(np.zeros((n, hidden), dtype=x.dtype))
        outputs = []
        for t in range(steps):
            gates = x[:, t] @ self.weight_ih + h @ self.weight_hh + self.bias
            i = sigmoid(gates[:, :hidden])
            f = sigmoid(gates[:, hidden : 2 * hidden])
            g = tanh(gates[:, 2 * hidden : 3 * hidden])
            o = sigmoid(gates[:, 3 * hidden :])
            c = f * c + i * g
            h = o * tanh(c)
            outputs.append(h)
        return stack(outputs, axis=1) if self.config["return_sequences"] else h
