"""Every autograd operation's gradient, checked twice in float64 to 1e-6: against central differences (day 1's
numerical_gradient) and against torch.autograd on the same inputs.

Each case is (name, our function, torch's function or None when the same expression works on both, input
makers). The output is reduced to a number with a fixed random weight G, sum(out * G), so every entry of the
output's gradient is exercised, not only the all-ones one. Inputs stay away from kinks: relu's inputs are not near
0, division and log get inputs away from 0, and continuous random inputs have no max ties (ties are tested on
their own in test_dl_layers_vs_torch.py).
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from src.core.math_operations import numerical_gradient
from src.ml.deep_learning.activations import gelu, relu, sigmoid, tanh
from src.ml.deep_learning.convolution import conv2d, max_pool2d
from src.ml.deep_learning.losses import softmax_cross_entropy
from src.ml.deep_learning.tensor import Tensor, concatenate, no_grad, stack

TOL = 1e-6


# -- input makers: (rng) -> float64 array ------------------------------------------------------------------------
def normal(*shape, scale=1.0):
    return lambda rng: scale * rng.standard_normal(shape)


def away_from_zero(*shape):
    """|x| in [0.3, 2], either sign: safe for relu's kink and as a denominator."""
    return lambda rng: rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


@dataclass
class Case:
    name: str
    ours: Callable
    theirs: Callable | None  # None: `ours` is an operator expression that works on torch tensors too
    inputs: tuple

    def __str__(self):
        return self.name


LABELS = np.array([0, 3, 4, 1])
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


def _reduction_cases() -> list[Case]:
    """sum / mean / max over every kind of axis argument, with and without keepdims."""
    torch_reductions = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}
    cases = []
    for op, torch_op in torch_reductions.items():
        for axis in (None, 1, -1, (0, 2)):
            for keepdims in (False, True):

                def ours(a, op=op, axis=axis, keepdims=keepdims):
                    return getattr(a, op)(axis=axis, keepdims=keepdims)

                def theirs(a, torch_op=torch_op, axis=axis, keepdims=keepdims):
                    dims = tuple(range(a.ndim)) if axis is None else axis
                    return torch_op(a, dim=dims, keepdim=keepdims)

                cases.append(Case(f"{op}(axis={axis},keepdims={keepdims})", ours, theirs, (normal(2, 3, 4),)))
    return cases


def _conv_cases() -> list[Case]:
    cases = []
    for x_shape, w_shape, stride, padding in [
        ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0),
        ((2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
        ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1),
        ((1, 2, 8, 8), (3, 2, 2, 2), 2, 0),
        ((2, 2, 6, 5), (3, 2, 3, 3), 3, 2),
        ((2, 3, 5, 5), (2, 3, 1, 1), 1, 0),
        ((1, 1, 6, 6), (2, 1, 5, 5), 1, 2),
    ]:
        for with_bias in (True, False):
            name = f"conv2d(x{x_shape},w{w_shape},stride={stride},padding={padding},bias={with_bias})"
            inputs = (normal(*x_shape), normal(*w_shape)) + ((normal(w_shape[0]),) if with_bias else ())

            def ours(x, w, b=None, stride=stride, padding=padding):
                return conv2d(x, w, b, stride=stride, padding=padding)

            def theirs(x, w, b=None, stride=stride, padding=padding):
                return F.conv2d(x, w, b, stride=stride, padding=padding)

            cases.append(Case(name, ours, theirs, inputs))
    return cases


def _pool_cases() -> list[Case]:
    cases = []
    for shape, kernel, stride in [
        ((2, 3, 6, 6), 2, 2),
        ((2, 3, 7, 6), 2, None),  # stride defaults to the kernel size; the 7th row is dropped, as in torch
        ((2, 3, 7, 7), 3, 2),  # overlapping windows
        ((1, 2, 5, 6), 2, 1),  # overlapping windows
        ((1, 2, 6, 6), 3, 3),
    ]:

        def ours(x, kernel=kernel, stride=stride):
            return max_pool2d(x, kernel, stride)

        def theirs(x, kernel=kernel, stride=stride):
            return F.max_pool2d(x, kernel, stride)

        cases.append(Case(f"max_pool2d(x{shape},kernel={kernel},stride={stride})", ours, theirs, (normal(*shape),)))
    return cases


CASES = [
    # elementwise arithmetic with broadcasting
    Case("add (3,1)+(1,4)", lambda a, b: a + b, None, (normal(3, 1), normal(1, 4))),
    Case("add (2,3,4)+(4,)", lambda a, b: a + b, None, (normal(2, 3, 4), normal(4))),
    Case("add (4,)+(2,3,4)", lambda a, b: a + b, None, (normal(4), normal(2, 3, 4))),
    Case("add (2,1,4)+(3,1)", lambda a, b: a + b, None, (normal(2, 1, 4), normal(3, 1))),
    Case("add number, both sides", lambda a: (a + 2.5) * (1.5 + a), None, (normal(3, 4),)),
    Case("sub (3,1)-(1,4)", lambda a, b: a - b, None, (normal(3, 1), normal(1, 4))),
    Case("sub (2,3,4)-(4,)", lambda a, b: a - b, None, (normal(2, 3, 4), normal(4))),
    Case("sub number, both sides", lambda a: (a - 2.0) * (1.5 - a), None, (normal(3, 4),)),
    Case("mul (3,1)*(1,4)", lambda a, b: a * b, None, (normal(3, 1), normal(1, 4))),
    Case("mul (2,3,4)*(4,)", lambda a, b: a * b, None, (normal(2, 3, 4), normal(4))),
    Case("mul number, both sides", lambda a: (a * 3.0) * (-2.0 * a), None, (normal(3, 4),)),
    Case("mul a*a (one tensor used twice)", lambda a: a * a, None, (normal(3, 4),)),
    Case("div (3,1)/(1,4)", lambda a, b: a / b, None, (normal(3, 1), away_from_zero(1, 4))),
    Case("div (2,3,4)/(4,)", lambda a, b: a / b, None, (normal(2, 3, 4), away_from_zero(4))),
    Case("div (4,)/(2,3,4)", lambda a, b: a / b, None, (normal(4), away_from_zero(2, 3, 4))),
    Case("div number, both sides", lambda a: (a / 3.0) * (2.0 / a), None, (away_from_zero(3, 4),)),
    Case("neg", lambda a: -a, None, (normal(3, 4),)),
    Case("pow 3", lambda a: a**3, None, (normal(3, 4),)),
    Case("pow 2", lambda a: a**2, None, (normal(2, 3, 4),)),
    Case("pow 0.5", lambda a: a**0.5, None, (positive(3, 4),)),
    Case("pow -1.5", lambda a: a**-1.5, None, (positive(3, 4),)),
    Case("exp", lambda a: a.exp(), None, (normal(3, 4),)),
    Case("log", lambda a: a.log(), None, (positive(3, 4),)),
    # matrix products
    Case("matmul 2-D", lambda a, b: a @ b, None, (normal(3, 4), normal(4, 5))),
    Case("matmul batched", lambda a, b: a @ b, None, (normal(2, 3, 4), normal(2, 4, 5))),
    Case("matmul batch @ matrix", lambda a, b: a @ b, None, (normal(2, 3, 4), normal(4, 5))),
    Case("matmul matrix @ batch", lambda a, b: a @ b, None, (normal(3, 4), normal(2, 4, 5))),
    Case("matmul batch (1,) @ (2,)", lambda a, b: a @ b, None, (normal(1, 3, 4), normal(2, 4, 5))),
    Case("matmul (2,1,3,4) @ (3,4,5)", lambda a, b: a @ b, None, (normal(2, 1, 3, 4), normal(3, 4, 5))),
    # reductions
    *_reduction_cases(),
    # shapes
    Case("reshape (2,3,4)->(4,6)", lambda a: a.reshape(4, 6), None, (normal(2, 3, 4),)),
    Case("reshape to a tuple with -1", lambda a: a.reshape((6, -1)), None, (normal(2, 3, 4),)),
    Case("reshape flat", lambda a: a.reshape(-1), None, (normal(2, 3, 4),)),
    Case("transpose (reverse)", lambda a: a.transpose(), lambda a: a.permute(2, 1, 0), (normal(2, 3, 4),)),
    Case("transpose (1,0,2)", lambda a: a.transpose(1, 0, 2), lambda a: a.permute(1, 0, 2), (normal(2, 3, 4),)),
    Case("transpose (2,0,1)", lambda a: a.transpose(2, 0, 1), lambda a: a.permute(2, 0, 1), (normal(2, 3, 4),)),
    Case(".T", lambda a: a.T, None, (normal(3, 4),)),
    # indexing
    Case("getitem slice", lambda a: a[1:3], None, (normal(4, 5),)),
    Case("getitem strided slices", lambda a: a[:, ::2], None, (normal(4, 5),)),
    Case("getitem int", lambda a: a[1], None, (normal(4, 5),)),
    Case("getitem negative int and slice", lambda a: a[-1, 1:], None, (normal(4, 5),)),
    Case("getitem ellipsis", lambda a: a[..., 2], None, (normal(2, 3, 4),)),
    Case("getitem None", lambda a: a[None, 1], None, (normal(4, 5),)),
    Case("getitem fancy with repeats", lambda a: a[[0, 0, 2]], None, (normal(4, 5),)),
    Case("getitem fancy columns with repeats", lambda a: a[:, [1, 1, 0, 1]], None, (normal(4, 5),)),
    Case("getitem fancy pairs with repeats", lambda a: a[[0, 2, 2, 0], [1, 3, 3, 1]], None, (normal(4, 5),)),
    Case("getitem int array", lambda a: a[np.array([3, 1, 3])], None, (normal(4, 5),)),
    Case("getitem boolean mask", lambda a: a[MASK], lambda a: a[torch.tensor(MASK)], (normal(3, 4),)),
    # joining
    Case("stack axis 0", lambda a, b, c: stack([a, b, c]), lambda a, b, c: torch.stack([a, b, c]), (normal(2, 3),) * 3),
    Case(
        "stack axis 1",
        lambda a, b, c: stack([a, b, c], axis=1),
        lambda a, b, c: torch.stack([a, b, c], dim=1),
        (normal(2, 3),) * 3,
    ),
    Case(
        "stack axis -1",
        lambda a, b: stack([a, b], axis=-1),
        lambda a, b: torch.stack([a, b], dim=-1),
        (normal(2, 3),) * 2,
    ),
    Case(
        "concatenate axis 0",
        lambda a, b: concatenate([a, b]),
        lambda a, b: torch.cat([a, b]),
        (normal(2, 3), normal(4, 3)),
    ),
    Case(
        "concatenate axis 1",
        lambda a, b, c: concatenate([a, b, c], axis=1),
        lambda a, b, c: torch.cat([a, b, c], dim=1),
        (normal(2, 1), normal(2, 3), normal(2, 2)),
    ),
    # activations
    Case("relu", relu, torch.relu, (away_from_zero(3, 4),)),
    Case("sigmoid", sigmoid, torch.sigmoid, (normal(3, 4, scale=3.0),)),
    Case("tanh", tanh, torch.tanh, (normal(3, 4, scale=2.0),)),
    Case("gelu", gelu, F.gelu, (normal(3, 4, scale=2.0),)),
    # the loss
    Case(
        "softmax_cross_entropy",
        lambda z: softmax_cross_entropy(z, LABELS),
        lambda z: F.cross_entropy(z, torch.tensor(LABELS)),
        (normal(4, 5, scale=2.0),),
    ),
    Case(
        "softmax_cross_entropy large logits",  # e^1000 overflows: the fused form must not
        lambda z: softmax_cross_entropy(z + 1000.0, LABELS),
        lambda z: F.cross_entropy(z + 1000.0, torch.tensor(LABELS)),
        (normal(4, 5, scale=5.0),),
    ),
    # convolution and pooling
    *_conv_cases(),
    *_pool_cases(),
    # a composite: several ops sharing inputs, as in a layer
    Case(
        "composite x@W+b -> tanh * sigmoid -> mean",
        lambda x, w, b: (tanh(x @ w + b) * sigmoid(x @ w)).mean(axis=0),
        lambda x, w, b: (torch.tanh(x @ w + b) * torch.sigmoid(x @ w)).mean(dim=0),
        (normal(5, 3), normal(3, 4), normal(4)),
    ),
]


def _make_inputs(case: Case) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))  # a fixed seed per case (hash() is salted)
    return [make(rng) for make in case.inputs]


def _our_forward_backward(case: Case, inputs: list[np.ndarray], rng) -> tuple[np.ndarray, np.ndarray, list]:
    tensors = [Tensor(x.copy(), requires_grad=True) for x in inputs]
    out = case.ours(*tensors)
    weight = rng.standard_normal(out.shape)  # d(loss)/d(out) for loss = sum(out * weight)
    out.backward(weight)
    return out.data, weight, [t.grad for t in tensors]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradient_equals_finite_differences(case):
    inputs = _make_inputs(case)
    _, weight, grads = _our_forward_backward(case, inputs, np.random.default_rng(1))

    for i, x in enumerate(inputs):

        def loss_of_input_i(xi, i=i):
            args = [Tensor(xi if j == i else a) for j, a in enumerate(inputs)]
            with no_grad():
                return float(np.sum(case.ours(*args).data * weight))

        assert grads[i] is not None and grads[i].shape == x.shape, f"input {i}: gradient missing or misshapen"
        np.testing.assert_allclose(
            grads[i], numerical_gradient(loss_of_input_i, x), rtol=TOL, atol=TOL, err_msg=f"input {i}"
        )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_value_and_gradient_equal_torch(case):
    inputs = _make_inputs(case)
    out, weight, grads = _our_forward_backward(case, inputs, np.random.default_rng(1))

    torch_inputs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    torch_out = (case.theirs or case.ours)(*torch_inputs)
    torch_out.backward(torch.tensor(weight))

    assert out.dtype == np.float64
    np.testing.assert_allclose(out, torch_out.detach().numpy(), rtol=TOL, atol=TOL)
    for i, t in enumerate(torch_inputs):
        assert grads[i].dtype == np.float64
        np.testing.assert_allclose(grads[i], t.grad.numpy(), rtol=TOL, atol=TOL, err_msg=f"input {i}")


def test_the_table_covers_every_operation():
    """A guard against a case silently dropping out of the table: each op named by the issue is in it."""
    names = " ".join(case.name for case in CASES)
    for op in [
        "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "matmul", "sum", "mean", "max", "reshape",
        "transpose", "getitem", "stack", "concatenate", "relu", "sigmoid", "tanh", "gelu", "softmax_cross_entropy",
        "conv2d", "max_pool2d",
    ]:  # fmt: skip
        assert op in names, op
    assert sum("conv2d" in case.name and "bias=False" in case.name for case in CASES) >= 3
