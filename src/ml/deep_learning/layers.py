"""Layers: Dense, Conv2D, MaxPool2D, Flatten, BatchNorm, Dropout and activations, built on the autograd Tensor.

A layer holds its parameters as Tensors with requires_grad=True and computes its output with Tensor operations,
so its backward pass comes for free from the engine. Weight layouts: Dense keeps W as (in, out) so the forward
pass reads x @ W + b; Conv2D keeps PyTorch's (out_channels, in_channels, kh, kw).

Every layer records the arguments it was built with in `self.config`, which is what `NeuralNetwork.save` writes
next to the weights so that `load` can rebuild the same architecture.
"""

from abc import ABC, abstractmethod

import numpy as np

from src.ml.deep_learning import activations
from src.ml.deep_learning.convolution import conv2d, max_pool2d
from src.ml.deep_learning.initializers import get_initializer
from src.ml.deep_learning.tensor import Tensor


class Layer(ABC):
    """A building block of a NeuralNetwork: parameters, a forward pass, and the config to rebuild it."""

    def __init__(self, **config):
        self.config = config
        self.training = True

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    @abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """The layer's output, computed with Tensor operations (so backward comes from the engine)."""

    def parameters(self) -> list[Tensor]:
        """Trainable tensors, in the order they were created."""
        return [value for value in vars(self).values() if isinstance(value, Tensor) and value.requires_grad]

    def buffers(self) -> dict[str, np.ndarray]:
        """State that is saved but not trained (BatchNorm's running statistics)."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{type(self).__name__}({args})"


def _parameter(values: np.ndarray) -> Tensor:
    return Tensor(values, requires_grad=True)


def _default_init(activation: str | None) -> str:
    return "he" if activation in ("relu", "gelu") else "xavier"


class Dense(Layer):
    """y = activation(x @ W + b): every output unit a weighted sum of every input."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: str | None = None,
        init=None,
        dtype="float32",
        seed: int | None = None,
    ):
        super().__init__(
            in_features=in_features,
            out_features=out_features,
            activation=activation,
            init=init or _default_init(activation),
            dtype=str(np.dtype(dtype)),
        )
        rng = np.random.default_rng(seed)
        self.activation = activations.get_activation(activation)
        self.weight = _parameter(get_initializer(self.config["init"])((in_features, out_features), rng, dtype))
        self.bias = _parameter(np.zeros(out_features, dtype=dtype))

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.config["in_features"]:
            raise ValueError(
                f"Dense expects input (batch, {self.config['in_features']}), got {x.shape}; "
                "add a Flatten() layer before it for images"
            )
        out = x @ self.weight + self.bias
        return self.activation(out) if self.activation else out


class Conv2D(Layer):
    """Filters slid over the image (see convolution.py): NCHW in, NCHW out."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        activation: str | None = None,
        init=None,
        dtype="float32",
        seed: int | None = None,
    ):
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            activation=activation,
            init=init or _default_init(activation),
            dtype=str(np.dtype(dtype)),
        )
        rng = np.random.default_rng(seed)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.activation = activations.get_activation(activation)
        self.weight = _parameter(get_initializer(self.config["init"])(shape, rng, dtype))
        self.bias = _parameter(np.zeros(out_channels, dtype=dtype))

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(
                f"Conv2D expects images (batch, channels, height, width), got shape {x.shape}; "
                "reshape flat MNIST rows with X.reshape(-1, 1, 28, 28)"
            )
        out = conv2d(x, self.weight, self.bias, self.config["stride"], self.config["padding"])
        return self.activation(out) if self.activation else out


class MaxPool2D(Layer):
    def __init__(self, kernel_size: int = 2, stride: int | None = None):
        super().__init__(kernel_size=kernel_size, stride=stride)

    def forward(self, x):
        return max_pool2d(x, self.config["kernel_size"], self.config["stride"])


class Flatten(Layer):
    """(batch, ...) -> (batch, everything else): from convolutional feature maps to a Dense layer."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class Activation(Layer):
    def __init__(self, name: str):
        super().__init__(name=name)
        self.function = activations.get_activation(name)

    def forward(self, x):
        return self.function(x)


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability p and scale the survivors by 1 / (1 - p), so
    the expected activation is unchanged and evaluation is the identity."""

    def __init__(self, p: float = 0.5, seed: int | None = None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout p must lie in [0, 1), got {p}")
        super().__init__(p=p)
        self.rng = np.random.default_rng(seed)

    def forward(self, x):
        p = self.config["p"]
        if not self.training or p == 0:
            return x
        keep = (self.rng.random(x.shape) >= p).astype(x.dtype) / (1 - p)
        return x * keep


class BatchNorm(Layer):
    """Normalise each feature (or channel, for NCHW input) over the batch, then scale and shift:
        y = gamma * (x - mean) / sqrt(var + eps) + beta
    Training uses the batch's mean and (biased) variance and keeps running averages
    (running = (1 - momentum) * running + momentum * batch, with the unbiased variance, as PyTorch does);
    evaluation uses the running averages, so a prediction does not depend on the rest of its batch."""

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype="float32"):
        super().__init__(num_features=num_features, momentum=momentum, eps=eps, dtype=str(np.dtype(dtype)))
        self.gamma = _parameter(np.ones(num_features, dtype=dtype))
        self.beta = _parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, x):
        if x.ndim not in (2, 4) or x.shape[1] != self.config["num_features"]:
            raise ValueError(
                f"BatchNorm({self.config['num_features']}) expects (batch, "
                f"{self.config['num_features']}) or (batch, {self.config['num_features']}, h, w), "
                f"got {x.shape}"
            )
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
        eps, momentum = self.config["eps"], self.config["momentum"]
        if self.training:
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            count = x.size // x.shape[1]
            self.running_mean[:] = (1 - momentum) * self.running_mean + momentum * mean.data.ravel()
            unbiased = var.data.ravel() * count / max(count - 1, 1)
            self.running_var[:] = (1 - momentum) * self.running_var + momentum * unbiased
            x_hat = centered * (var + eps) ** -0.5
        else:
            scale = 1.0 / np.sqrt(self.running_var + eps)
            x_hat = (x - self.running_mean.reshape(shape)) * scale.reshape(shape).astype(x.dtype)
        return x_hat * self.gamma.reshape(shape) + self.beta.reshape(shape)


class ReLU(Activation):
    def __init__(self):
        super().__init__("relu")
        self.config = {}


class Sigmoid(Activation):
    def __init__(self):
        super().__init__("sigmoid")
        self.config = {}


class Tanh(Activation):
    def __init__(self):
        super().__init__("tanh")
        self.config = {}


class GELU(Activation):
    def __init__(self):
        super().__init__("gelu")
        self.config = {}
