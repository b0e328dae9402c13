"""Day 4's MNIST models, from scratch and in PyTorch, built from the same settings.

    mlp([512, 256])                 784 -> 512 -> 256 -> 10, ReLU, dropout between hidden layers
    cnn([16, 32], 128)              conv3x3(16)-ReLU-pool2 -> conv3x3(32)-ReLU-pool2 -> dense(128)-ReLU -> 10
    torch_cnn([16, 32], 128)        the same CNN in torch.nn, layer for layer
    row_lstm(128)                   reads a 28x28 digit as 28 rows of 28 pixels, classifies the last hidden state
    linear_stack()                  the roadmap's Dense(784, 100) -> Dense(100, 10) with no activation at all

Convolutions use padding 1 ('same'), so a 28x28 image is 14x14 after the first pooling and 7x7 after the second.
"""

import torch

from src.ml.deep_learning.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D
from src.ml.deep_learning.network import NeuralNetwork
from src.ml.deep_learning.recurrent import LSTM

IMAGE_SIZE = 28
N_CLASSES = 10


def mlp(hidden: list[int], dropout: float = 0.0, seed: int = 0) -> NeuralNetwork:
    model = NeuralNetwork([Flatten()])
    sizes = [IMAGE_SIZE * IMAGE_SIZE, *hidden]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        model.add(Dense(n_in, n_out, activation="relu", seed=seed + i))
        if dropout:
            model.add(Dropout(dropout, seed=seed + i))
    return model.add(Dense(sizes[-1], N_CLASSES, seed=seed + len(hidden)))


def _flat_features(channels: list[int]) -> int:
    side = IMAGE_SIZE // 2 ** len(channels)  # each conv keeps the size, each pooling halves it
    return channels[-1] * side * side


def cnn(channels: list[int], dense: int, dropout: float = 0.0, seed: int = 0) -> NeuralNetwork:
    model = NeuralNetwork()
    for i, (c_in, c_out) in enumerate(zip([1, *channels], channels, strict=False)):
        model.add(Conv2D(c_in, c_out, kernel_size=3, padding=1, activation="relu", seed=seed + i))
        model.add(MaxPool2D(2))
    model.add(Flatten())
    model.add(Dense(_flat_features(channels), dense, activation="relu", seed=seed + len(channels)))
    if dropout:
        model.add(Dropout(dropout, seed=seed))
    return model.add(Dense(dense, N_CLASSES, seed=seed + len(channels) + 1))


def torch_cnn(channels: list[int], dense: int, dropout: float = 0.0, seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    layers = []
    for c_in, c_out in zip([1, *channels], channels, strict=False):
        layers += [torch.nn.Conv2d(c_in, c_out, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    layers += [torch.nn.Flatten(), torch.nn.Linear(_flat_features(channels), dense), torch.nn.ReLU()]
    if dropout:
        layers.append(torch.nn.Dropout(dropout))
    layers.append(torch.nn.Linear(dense, N_CLASSES))
    return torch.nn.Sequential(*layers)


def row_lstm(hidden: int, seed: int = 0) -> NeuralNetwork:
    """Input (batch, 28, 28) read as a sequence: time = image row, features = the 28 pixels of that row."""
    return NeuralNetwork([LSTM(IMAGE_SIZE, hidden, seed=seed), Dense(hidden, N_CLASSES, seed=seed + 1)])


def linear_stack(seed: int = 0) -> NeuralNetwork:
    """The roadmap's example as written: two Dense layers and no activation, so it is one linear map."""
    return NeuralNetwork([Flatten(), Dense(784, 100, seed=seed), Dense(100, N_CLASSES, seed=seed + 1)])
