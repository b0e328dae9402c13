"""A residual block and a small ResNet from scratch, on the day-4 NumPy autograd engine (src/ml/deep_learning).

    block = ScratchResidualBlock(16, 32, stride=2)       # conv-BN-ReLU-conv-BN + projection shortcut, then ReLU
    net = small_resnet(widths=(16, 32, 64))              # a NeuralNetwork: stem, one block per width, pool, dense

The block is the same computation as src.ml.vision.resnet.ResidualBlock (PyTorch); `copy_from_torch` loads a
torch block's weights so tests can hold the two equal, forward and every gradient. Nothing new is
differentiated here: the block is a composition of the engine's Conv2D, BatchNorm and ReLU, and the skip
connection is one Tensor addition, whose backward copies the incoming gradient to both branches -- the
"+ I" in dy/dx = dF/dx + I that keeps gradients alive through deep stacks.

The engine's Conv2D always has a bias; before a BatchNorm a bias is redundant (BN subtracts the batch mean, so
the bias's gradient is exactly zero), so the block freezes it at zero, matching torch's bias=False.
"""

import numpy as np

from src.ml.deep_learning.layers import BatchNorm, Conv2D, Dense, Layer, ReLU
from src.ml.deep_learning.network import NeuralNetwork
from src.ml.deep_learning.tensor import Tensor


def _conv_without_bias(in_channels, out_channels, kernel, stride, padding, dtype, seed) -> Conv2D:
    conv = Conv2D(in_channels, out_channels, kernel, stride=stride, padding=padding, init="he", dtype=dtype, seed=seed)
    conv.bias = Tensor(np.zeros(out_channels, dtype=dtype))  # requires_grad False: not a parameter
    return conv


class ScratchResidualBlock(Layer):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is a strided 1x1 conv + BN when the
    stride or the number of channels changes, else the identity."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dtype="float32", seed: int = 0):
        super().__init__(in_channels=in_channels, out_channels=out_channels, stride=stride, dtype=str(np.dtype(dtype)))
        self.conv1 = _conv_without_bias(in_channels, out_channels, 3, stride, 1, dtype, seed)
        self.bn1 = BatchNorm(out_channels, dtype=dtype)
        self.conv2 = _conv_without_bias(out_channels, out_channels, 3, 1, 1, dtype, seed + 1)
        self.bn2 = BatchNorm(out_channels, dtype=dtype)
        self.relu = ReLU()
        self.projection = stride != 1 or in_channels != out_channels
        if self.projection:
            self.shortcut_conv = _conv_without_bias(in_channels, out_channels, 1, stride, 0, dtype, seed + 2)
            self.shortcut_bn = BatchNorm(out_channels, dtype=dtype)

    def sublayers(self) -> list[Layer]:
        own = [self.conv1, self.bn1, self.conv2, self.bn2]
        return own + ([self.shortcut_conv, self.shortcut_bn] if self.projection else [])

    @property
    def training(self) -> bool:
        return self._training

    @training.setter
    def training(self, mode: bool):  # NeuralNetwork.train/eval set this; BN layers inside must follow
        self._training = mode
        if hasattr(self, "relu"):  # Layer.__init__ sets it before the sublayers exist
            for layer in self.sublayers():
                layer.training = mode

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.sublayers() for p in layer.parameters()]

    def buffers(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.sublayers()) for k, v in layer.buffers().items()}

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = self.shortcut_bn(self.shortcut_conv(x)) if self.projection else x
        return self.relu(out + shortcut)

    def copy_from_torch(self, block) -> "ScratchResidualBlock":
        """Load the weights and BN state of a src.ml.vision.resnet.ResidualBlock (same shape) into this one."""
        pairs = [(self.conv1, block.conv1), (self.conv2, block.conv2)]
        norms = [(self.bn1, block.bn1), (self.bn2, block.bn2)]
        if self.projection:
            pairs.append((self.shortcut_conv, block.shortcut[0]))
            norms.append((self.shortcut_bn, block.shortcut[1]))
        dtype = self.config["dtype"]
        for ours, theirs in pairs:
            ours.weight.data[...] = theirs.weight.detach().numpy().astype(dtype)
        for ours, theirs in norms:
            ours.gamma.data[...] = theirs.weight.detach().numpy().astype(dtype)
            ours.beta.data[...] = theirs.bias.detach().numpy().astype(dtype)
            ours.running_mean[...] = theirs.running_mean.numpy().astype(dtype)
            ours.running_var[...] = theirs.running_var.numpy().astype(dtype)
            ours.config["momentum"], ours.config["eps"] = theirs.momentum, theirs.eps
        return self


class GlobalAveragePool(Layer):
    """(N, C, H, W) -> (N, C): the mean of each feature map."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(axis=(2, 3))


def small_resnet(widths=(16, 32, 64), num_classes: int = 10, dtype="float32", seed: int = 0) -> NeuralNetwork:
    """stem conv3x3(3 -> widths[0]) + BN + ReLU, one residual block per width (stride 2 from the second on),
    global average pooling, a dense layer: a ResNet small enough to train in NumPy in minutes."""
    stem = _conv_without_bias(3, widths[0], 3, 1, 1, dtype, seed)
    layers = [stem, BatchNorm(widths[0], dtype=dtype), ReLU()]
    channels = widths[0]
    for i, width in enumerate(widths):
        layers.append(ScratchResidualBlock(channels, width, 1 if i == 0 else 2, dtype=dtype, seed=seed + 10 * (i + 1)))
        channels = width
    layers += [GlobalAveragePool(), Dense(channels, num_classes, dtype=dtype, seed=seed + 99)]
    return NeuralNetwork(layers)
