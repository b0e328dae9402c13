"""Day 4: deep learning from scratch on NumPy -- an autograd engine, layers, and a Keras-like NeuralNetwork.

    from src.ml.deep_learning import NeuralNetwork, Dense, Conv2D
    model = NeuralNetwork(); model.add(Dense(784, 100)); model.add(Dense(100, 10)); model.fit(X_train, y_train)

Modules, one concept each: tensor (the autograd Tensor), activations, losses (fused softmax cross-entropy),
convolution (im2col conv2d and max-pooling), initializers (He, Xavier), layers, recurrent (LSTM), network.
"""

from src.ml.deep_learning.layers import (
    GELU,
    Activation,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from src.ml.deep_learning.network import NeuralNetwork
from src.ml.deep_learning.recurrent import LSTM
from src.ml.deep_learning.tensor import Tensor, no_grad

__all__ = [
    "GELU",
    "LSTM",
    "Activation",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPool2D",
    "NeuralNetwork",
    "ReLU",
    "Sigmoid",
    "Tensor",
    "Tanh",
    "no_grad",
]
