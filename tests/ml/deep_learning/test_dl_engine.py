"""How the autograd engine behaves as a whole: accumulation, shared tensors, no_grad, errors, deep graphs, dtypes."""

import sys

import numpy as np
import pytest
import torch

from src.ml.deep_learning import LSTM, BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, NeuralNetwork, Tensor, no_grad
from src.ml.deep_learning.activations import relu, sigmoid
from src.ml.deep_learning.losses import softmax_cross_entropy
from src.ml.deep_learning.tensor import stack


def leaf(values) -> Tensor:
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- accumulation and shared tensors -------------------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0, 3.0])
    loss = (x * x).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    loss.backward()  # the same graph again
    np.testing.assert_array_equal(x.grad, 4 * x.data)
    (x * 3.0).sum().backward()  # a new graph adds on top
    np.testing.assert_array_equal(x.grad, 4 * x.data + 3.0)
    x.zero_grad()
    assert x.grad is None


def test_a_tensor_used_twice_gets_the_sum_of_both_gradients():
    a, b = leaf([1.0, 2.0]), leaf([3.0, -4.0])
    (a * b + a).sum().backward()
    np.testing.assert_array_equal(a.grad, b.data + 1.0)
    np.testing.assert_array_equal(b.grad, a.data)

    x = leaf([0.5, -1.5])
    (x + x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_diamond_graph_sums_every_path_before_passing_the_gradient_on():
    """h is used by two branches that meet again; h's gradient must be complete before it flows to x."""
    x = leaf([1.5, -0.5])
    h = x * 2.0
    y = (h * h + h.exp() * h).sum()  # dy/dh = 2h + e^h + h e^h
    y.backward()
    hd = 2.0 * x.data
    np.testing.assert_allclose(x.grad, 2.0 * (2 * hd + np.exp(hd) + hd * np.exp(hd)), rtol=1e-14)


def test_only_leaves_that_asked_receive_gradients():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    x = Tensor(np.array([[1.0, -1.0]]))  # an input: no gradient wanted
    hidden = x @ w
    (hidden * hidden).sum().backward()
    assert x.grad is None and not x.requires_grad
    assert hidden.grad is None  # intermediate results keep no gradient
    assert w.grad is not None


def test_detach_cuts_the_graph():
    x = leaf([2.0, 3.0])
    y = x * x
    (y.detach() * x).sum().backward()  # y is a constant here: d/dx = y
    np.testing.assert_array_equal(x.grad, x.data**2)


# -- no_grad ---------------------------------------------------------------------------------------------------
def test_no_grad_records_no_graph_and_restores_afterwards():
    w = leaf(np.ones((3, 2)))
    x = Tensor(np.ones((4, 3)))
    with no_grad():
        out = relu(x @ w + 1.0).sum()
        with no_grad():
            pass
        inner = x @ w  # still off after a nested block ended
    for tensor in (out, inner):
        assert not tensor.requires_grad and tensor.parents == () and tensor.backward_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.backward()
    assert (x @ w).requires_grad  # on again outside


def test_no_grad_is_restored_even_when_the_block_raises():
    w = leaf([1.0])
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert (w * 2.0).requires_grad


def test_no_grad_inference_of_a_network_builds_no_graph():
    model = NeuralNetwork([Dense(4, 3, activation="relu", seed=0), Dense(3, 2, seed=1)])
    with no_grad():
        out = model(np.ones((2, 4)))
    assert not out.requires_grad and out.parents == ()


# -- errors ----------------------------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_without_a_gradient_raises():
    y = leaf([[1.0, 2.0], [3.0, 4.0]]) * 2.0
    with pytest.raises(RuntimeError, match=r"needs a scalar.*\(2, 2\)"):
        y.backward()
    y.backward(np.ones((2, 2)))  # with an explicit gradient it works


def test_backward_on_a_constant_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(3)).sum().backward()


def test_bad_operations_raise_clear_errors():
    with pytest.raises(ValueError, match="only float tensors can require gradients"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="exponent must be a number"):
        leaf([1.0]) ** leaf([2.0])
    with pytest.raises(ValueError, match="matmul needs operands with >= 2 dimensions"):
        leaf([1.0, 2.0]) @ leaf([[1.0], [2.0]])
    with pytest.raises(ValueError, match="labels must be 2 integer class indices"):
        softmax_cross_entropy(leaf(np.zeros((2, 3))), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2"):
        softmax_cross_entropy(leaf(np.zeros((2, 3))), np.array([0, 3]))


# -- deep graphs -----------------------------------------------------------------------------------------------
def test_a_deep_chain_does_not_hit_the_recursion_limit():
    depth = 5_000
    assert depth > sys.getrecursionlimit()  # a recursive walk of this graph would fail
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(depth):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(y.data, x.data + depth)
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])

    z = x
    for _ in range(depth):
        z = z * 1.0001  # a multiplicative chain: the gradient is the product of the local derivatives
    z.sum().backward()
    np.testing.assert_allclose(x.grad, 1.0 + 1.0001**depth, rtol=1e-10)


def test_a_long_lstm_sequence_backpropagates():
    lstm = LSTM(2, 3, return_sequences=True, dtype="float64", seed=0)
    x = leaf(np.random.default_rng(0).standard_normal((2, 400, 2)))  # thousands of nodes through time
    lstm(x).sum().backward()
    assert np.isfinite(x.grad).all() and np.abs(x.grad[:, 0]).sum() > 0


# -- dtypes ----------------------------------------------------------------------------------------------------
def test_float32_networks_keep_float32_values_and_gradients():
    """Parameters are float32 by default; nothing along the way may silently turn them (and the optimizer's
    work) into float64."""
    rng = np.random.default_rng(0)
    cnn = NeuralNetwork(
        [Conv2D(1, 2, 3, activation="relu", seed=0), BatchNorm(2), MaxPool2D(2), Flatten(), Dense(8, 3, seed=1)]
    )
    images = rng.standard_normal((4, 1, 6, 6)).astype(np.float32)
    lstm = LSTM(3, 4, seed=0)
    sequences = Tensor(rng.standard_normal((2, 5, 3)).astype(np.float32))
    for logits, params in [(cnn(images), cnn.parameters()), (Dense(4, 3, seed=0)(lstm(sequences)), lstm.parameters())]:
        assert logits.dtype == np.float32
        loss = softmax_cross_entropy(logits, np.arange(len(logits.data)) % 3)
        assert loss.dtype == np.float32
        loss.backward()
        assert all(p.grad.dtype == np.float32 for p in params), [p.grad.dtype for p in params]


def test_stack_and_sigmoid_compose_in_a_graph():
    a, b = leaf([[1.0, -1.0]]), leaf([[0.5, 2.0]])
    s = sigmoid(stack([a, b], axis=0))
    s.sum().backward()
    expected = s.data * (1 - s.data)
    np.testing.assert_allclose(a.grad, expected[0], rtol=1e-14)
    np.testing.assert_allclose(b.grad, expected[1], rtol=1e-14)


@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (1, False), (0, True), ((0, 1), False)])
def test_max_shares_the_gradient_among_ties_like_torch_amax(axis, keepdims):
    """Tensor.max splits the gradient equally among tied maxima, as torch.amax does (max_pool2d, like
    torch's pooling, instead picks the first: tested in test_dl_layers_vs_torch.py)."""
    values = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0]])
    x = leaf(values)
    out = x.max(axis=axis, keepdims=keepdims)
    weight = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    out.backward(weight)
    torch_x = torch.tensor(values, requires_grad=True)
    dims = (0, 1) if axis is None else axis
    torch.amax(torch_x, dim=dims, keepdim=keepdims).backward(torch.tensor(weight))
    np.testing.assert_allclose(x.grad, torch_x.grad.numpy(), rtol=1e-12)
