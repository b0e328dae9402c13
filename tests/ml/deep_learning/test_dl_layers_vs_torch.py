"""Every layer against its torch.nn counterpart holding the same weights, in float64 to 1e-6: the output, the
gradient of the input and the gradient of every parameter, for a random upstream gradient G (loss = sum(out * G)).

Weight layouts differ in two places and the tests copy across them explicitly: Dense keeps W as (in, out) where
nn.Linear keeps (out, in); LSTM keeps weight_ih (in, 4H) and weight_hh (H, 4H) where nn.LSTM keeps the transposes,
and one bias where nn.LSTM has b_ih + b_hh.
"""

import numpy as np
import pytest
import torch
from torch import nn

from src.ml.deep_learning import (
    GELU,
    LSTM,
    Activation,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    NeuralNetwork,
    ReLU,
    Sigmoid,
    Tanh,
    Tensor,
)
from src.ml.deep_learning.losses import softmax_cross_entropy

TOL = 1e-6
TORCH_ACTIVATIONS = {None: nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU}


def close(ours, theirs, what=""):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert np.shape(ours) == np.shape(theirs), f"{what}: shape {np.shape(ours)} != {np.shape(theirs)}"
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL, err_msg=what)


def run_both(layer, module, x: np.ndarray, rng):
    """Forward and backward through our layer and the torch module; returns (ours, theirs) pairs:
    (out, out), (x.grad, x.grad)."""
    ours_x = Tensor(x.copy(), requires_grad=True)
    ours_out = layer(ours_x)
    weight = rng.standard_normal(ours_out.shape)
    ours_out.backward(weight)

    torch_x = torch.tensor(x, requires_grad=True)
    torch_out = module(torch_x)
    torch_out.backward(torch.tensor(weight))
    close(ours_out.data, torch_out, "output")
    close(ours_x.grad, torch_x.grad, "input gradient")
    return ours_out


def t(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.ascontiguousarray(array))


# -- Dense ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "gelu"])
def test_dense_equals_linear(activation):
    rng = np.random.default_rng(0)
    dense = Dense(6, 4, activation=activation, dtype="float64", seed=1)
    dense.bias.data[:] = rng.standard_normal(4)  # a non-zero bias, so that a missing bias term shows
    linear = nn.Linear(6, 4).double()
    with torch.no_grad():
        linear.weight.copy_(t(dense.weight.data.T))
        linear.bias.copy_(t(dense.bias.data))
    module = nn.Sequential(linear, TORCH_ACTIVATIONS[activation]())

    run_both(dense, module, rng.standard_normal((5, 6)), rng)
    close(dense.weight.grad, linear.weight.grad.T, "weight gradient")
    close(dense.bias.grad, linear.bias.grad, "bias gradient")
    assert dense.parameters() == [dense.weight, dense.bias]


# -- Conv2D --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kernel_size", "stride", "padding", "activation"),
    [(3, 1, 0, None), (3, 2, 1, None), (3, 1, 1, "relu"), (2, 2, 0, "tanh"), (5, 1, 2, None), (1, 1, 0, "gelu")],
)
def test_conv2d_equals_torch_conv2d(kernel_size, stride, padding, activation):
    rng = np.random.default_rng(0)
    conv = Conv2D(3, 4, kernel_size, stride=stride, padding=padding, activation=activation, dtype="float64", seed=1)
    conv.bias.data[:] = rng.standard_normal(4)
    torch_conv = nn.Conv2d(3, 4, kernel_size, stride=stride, padding=padding).double()
    with torch.no_grad():
        torch_conv.weight.copy_(t(conv.weight.data))  # the same (out, in, kh, kw) layout
        torch_conv.bias.copy_(t(conv.bias.data))
    module = nn.Sequential(torch_conv, TORCH_ACTIVATIONS[activation]())

    run_both(conv, module, rng.standard_normal((2, 3, 9, 8)), rng)
    close(conv.weight.grad, torch_conv.weight.grad, "weight gradient")
    close(conv.bias.grad, torch_conv.bias.grad, "bias gradient")


# -- MaxPool2D -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kernel_size", "stride"), [(2, None), (2, 2), (3, 2), (2, 1), (3, 1), (3, 3)])
def test_maxpool_equals_torch_maxpool(kernel_size, stride):
    rng = np.random.default_rng(0)
    run_both(MaxPool2D(kernel_size, stride), nn.MaxPool2d(kernel_size, stride), rng.standard_normal((2, 3, 9, 8)), rng)


def _tie_images() -> np.ndarray:
    """Hand-built ties: an all-equal window, a window whose max sits twice on a diagonal, two equal maxima on
    the last row, and (for overlapping windows) maxima shared between neighbouring windows."""
    image = np.array(
        [
            [1, 1, 0, 5, 2, 2],
            [1, 1, 5, 0, 2, 2],
            [3, 0, 7, 7, 0, 4],
            [0, 3, 1, 7, 4, 4],
            [2, 2, 2, 2, 9, 0],
            [2, 2, 2, 2, 0, 9],
        ],
        dtype=np.float64,
    )
    return np.stack([image, image.T, -image]).reshape(1, 3, 6, 6)


@pytest.mark.parametrize(("kernel_size", "stride"), [(2, 2), (3, 2), (2, 1), (3, 3), (3, 1)])
def test_maxpool_ties_send_the_gradient_to_the_first_maximum_like_torch(kernel_size, stride):
    rng = np.random.default_rng(0)
    module = nn.MaxPool2d(kernel_size, stride)
    run_both(MaxPool2D(kernel_size, stride), module, _tie_images(), rng)
    # and on random small integers, where most windows hold ties
    integers = rng.integers(0, 3, size=(2, 3, 8, 7)).astype(np.float64)
    run_both(MaxPool2D(kernel_size, stride), module, integers, rng)


def test_maxpool_tie_goes_to_the_first_position_in_row_major_order():
    x = Tensor(np.full((1, 1, 2, 2), 3.0), requires_grad=True)
    MaxPool2D(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1.0, 0.0], [0.0, 0.0]])


# -- Flatten and activation layers -----------------------------------------------------------------------------
def test_flatten_equals_torch_flatten():
    rng = np.random.default_rng(0)
    run_both(Flatten(), nn.Flatten(), rng.standard_normal((3, 2, 4, 5)), rng)


@pytest.mark.parametrize(
    ("layer", "module"),
    [
        (ReLU(), nn.ReLU()),
        (Sigmoid(), nn.Sigmoid()),
        (Tanh(), nn.Tanh()),
        (GELU(), nn.GELU()),
        (Activation("relu"), nn.ReLU()),
        (Activation("gelu"), nn.GELU()),
    ],
    ids=lambda value: type(value).__name__,
)
def test_activation_layers_equal_torch(layer, module):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 7)) * 3
    x[np.abs(x) < 0.1] = 0.5  # away from relu's kink
    run_both(layer, module, x, rng)


# -- BatchNorm -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "torch_class"), [((8, 5), nn.BatchNorm1d), ((4, 5, 3, 3), nn.BatchNorm2d)])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_batchnorm_equals_torch_in_training_and_evaluation(shape, torch_class, momentum):
    rng = np.random.default_rng(0)
    bn = BatchNorm(5, momentum=momentum, dtype="float64")
    bn.gamma.data[:] = rng.standard_normal(5)
    bn.beta.data[:] = rng.standard_normal(5)
    torch_bn = torch_class(5, momentum=momentum).double()
    with torch.no_grad():
        torch_bn.weight.copy_(t(bn.gamma.data))
        torch_bn.bias.copy_(t(bn.beta.data))

    # training mode: batch statistics, gradients through them, running averages updated (three batches)
    for step in range(3):
        for p in (bn.gamma, bn.beta):
            p.grad = None
        torch_bn.zero_grad()
        x = rng.standard_normal(shape) * (step + 1) + step  # shifted and scaled batches: the stats move
        run_both(bn, torch_bn, x, rng)
        close(bn.gamma.grad, torch_bn.weight.grad, "gamma gradient")
        close(bn.beta.grad, torch_bn.bias.grad, "beta gradient")
        close(bn.running_mean, torch_bn.running_mean, "running mean")
        close(bn.running_var, torch_bn.running_var, "running variance (unbiased)")
    assert not np.allclose(bn.running_mean, 0.0)

    # evaluation mode: the running averages, the same output whatever else is in the batch
    bn.training = False
    torch_bn.eval()
    x = rng.standard_normal(shape) * 2 + 1
    out = run_both(bn, torch_bn, x, rng)
    close(bn(Tensor(x[:1])).data, out.data[:1], "a one-example batch in evaluation")
    close(bn.gamma.grad, torch_bn.weight.grad, "gamma gradient (accumulated over the calls, like torch)")


def test_batchnorm_rejects_the_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"BatchNorm\(5\) expects"):
        BatchNorm(5)(Tensor(np.zeros((4, 6))))


# -- Dropout -------------------------------------------------------------------------------------------------------
def test_dropout_in_evaluation_is_the_identity():
    x = Tensor(np.random.default_rng(0).standard_normal((50, 40)), requires_grad=True)
    dropout = Dropout(0.5, seed=0)
    dropout.training = False
    out = dropout(x)
    np.testing.assert_array_equal(out.data, x.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones_like(x.data))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_in_training_scales_survivors_and_drops_a_fraction_p(p):
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.5, 1.5, (400, 500)), requires_grad=True)  # 200,000 units, none of them 0
    out = Dropout(p, seed=1)(x)
    kept = out.data != 0
    # the fraction dropped is binomial: its standard deviation sqrt(p (1-p) / n) is about 0.001 here
    assert abs((~kept).mean() - p) < 0.01
    np.testing.assert_allclose(out.data[kept], x.data[kept] / (1 - p), rtol=1e-12)
    assert out.data.mean() == pytest.approx(x.data.mean(), rel=0.02)  # inverted dropout keeps the expectation

    out.backward(np.ones_like(out.data))
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-12)  # the gradient is the mask itself


def test_dropout_draws_a_new_mask_each_call_and_p_zero_is_the_identity():
    x = Tensor(np.ones((20, 20)))
    dropout = Dropout(0.5, seed=0)
    assert not np.array_equal(dropout(x).data, dropout(x).data)
    np.testing.assert_array_equal(Dropout(0.0)(x).data, x.data)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="Dropout p must lie in"):
            Dropout(bad)


# -- LSTM ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("return_sequences", [True, False])
def test_lstm_equals_torch_lstm(return_sequences):
    rng = np.random.default_rng(0)
    n, steps, features, hidden = 3, 6, 4, 5
    lstm = LSTM(features, hidden, return_sequences=return_sequences, dtype="float64", seed=2)
    torch_lstm = nn.LSTM(features, hidden, batch_first=True).double()
    b_ih, b_hh = rng.standard_normal(4 * hidden), rng.standard_normal(4 * hidden)
    lstm.bias.data[:] = b_ih + b_hh  # our one bias is torch's two added
    with torch.no_grad():
        torch_lstm.weight_ih_l0.copy_(t(lstm.weight_ih.data.T))
        torch_lstm.weight_hh_l0.copy_(t(lstm.weight_hh.data.T))
        torch_lstm.bias_ih_l0.copy_(t(b_ih))
        torch_lstm.bias_hh_l0.copy_(t(b_hh))

    def module(x):
        sequence, (h_n, _) = torch_lstm(x)
        if return_sequences:
            return sequence
        close(sequence[:, -1].detach().numpy(), h_n[0], "the last output is h_n")
        return h_n[0]

    out = run_both(lstm, module, rng.standard_normal((n, steps, features)), rng)
    assert out.shape == ((n, steps, hidden) if return_sequences else (n, hidden))
    close(lstm.weight_ih.grad, torch_lstm.weight_ih_l0.grad.T, "weight_ih gradient")
    close(lstm.weight_hh.grad, torch_lstm.weight_hh_l0.grad.T, "weight_hh gradient")
    close(lstm.bias.grad, torch_lstm.bias_ih_l0.grad, "bias gradient (= b_ih's)")
    close(lstm.bias.grad, torch_lstm.bias_hh_l0.grad, "bias gradient (= b_hh's)")


# -- a whole network -------------------------------------------------------------------------------------------
def test_a_small_cnn_loss_and_gradients_equal_torch():
    """Conv2D -> ReLU -> MaxPool2D -> Conv2D -> Flatten -> Dense, through softmax cross-entropy: the layers compose
    as in torch (layouts, flatten order), and every parameter's gradient matches."""
    rng = np.random.default_rng(0)
    model = NeuralNetwork(
        [
            Conv2D(1, 3, 3, padding=1, activation="relu", dtype="float64", seed=1),
            MaxPool2D(2),
            Conv2D(3, 2, 3, stride=2, dtype="float64", seed=2),
            Flatten(),
            Dense(2 * 2 * 2, 5, dtype="float64", seed=3),
        ]
    )
    torch_model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 2, 3, stride=2), nn.Flatten()
    )
    torch_model.append(nn.Linear(8, 5))
    torch_model.double()
    torch_params = [p for p in torch_model.parameters()]
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), torch_params, strict=True):
            ours.data[...] = rng.standard_normal(ours.shape) * 0.5
            theirs.copy_(t(ours.data.T if ours.ndim == 2 else ours.data))  # Dense's (in, out) weight

    x, y = rng.standard_normal((4, 1, 10, 10)), np.array([0, 4, 2, 2])
    loss = softmax_cross_entropy(model(x), y)
    loss.backward()
    torch_loss = nn.functional.cross_entropy(torch_model(torch.tensor(x)), torch.tensor(y))
    torch_loss.backward()
    assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-12)
    for ours, theirs in zip(model.parameters(), torch_params, strict=True):
        close(ours.grad, theirs.grad.T if ours.ndim == 2 else theirs.grad, f"gradient of a {ours.shape} parameter")
