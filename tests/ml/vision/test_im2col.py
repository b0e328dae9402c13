"""im2col / col2im and the naive loop against torch.conv2d, forward and every gradient, in float64 to 1e-6,
for every shape of the benchmark's table (the naive loop on the shapes the benchmark times it on)."""

import numpy as np
import pytest

from src.ml.vision import im2col
from src.ml.vision.conv_benchmark import CONV_SHAPES, IMPLEMENTATIONS, NAIVE_MAX_DOTS, make_arrays, naive_dots

TOL = 1e-6


def check_against_torch(name, shape):
    arrays = make_arrays(shape, dtype=np.float64)
    stride, padding = shape[5], shape[6]
    ours = IMPLEMENTATIONS[name](arrays, stride, padding)
    reference = IMPLEMENTATIONS["torch"](arrays, stride, padding)
    for what, a, b in zip(("output", "d_input", "d_weight", "d_bias"), ours, reference, strict=True):
        assert a.shape == b.shape, f"{name} {what}: {a.shape} != {b.shape}"
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL, err_msg=f"{name} {what} {shape}")


@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
@pytest.mark.parametrize("name", ["im2col_numpy", "day4_engine"])
def test_im2col_conv_equals_torch(name, shape):
    check_against_torch(name, shape)


@pytest.mark.parametrize("shape", [s for s in CONV_SHAPES if naive_dots(s) <= NAIVE_MAX_DOTS], ids=str)
def test_naive_loop_equals_torch(shape):
    check_against_torch("naive_loop", shape)


def test_naive_loop_is_timed_on_some_shapes():
    assert sum(naive_dots(s) <= NAIVE_MAX_DOTS for s in CONV_SHAPES) >= 3


def test_im2col_index_arithmetic_on_a_tiny_image():
    # 1 image, 1 channel, 3x3 pixels numbered 0..8, 2x2 kernel, stride 1: four windows, read row by row
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    cols = im2col.im2col(x, 2, 2)
    np.testing.assert_array_equal(cols, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])
    # col2im of all-ones counts how many windows saw each pixel: the centre pixel is in all four
    counts = im2col.col2im(np.ones_like(cols), x.shape, 2, 2)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), y> = <x, col2im(y)> for any x, y: the defining property of the adjoint (the backward pass)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 7))
    y = rng.standard_normal(im2col.im2col(x, 3, 3, 2, 1).shape)
    lhs = (im2col.im2col(x, 3, 3, 2, 1) * y).sum()
    rhs = (x * im2col.col2im(y, x.shape, 3, 3, 2, 1)).sum()
    assert abs(lhs - rhs) < 1e-9


def test_mismatched_channels_are_named():
    with pytest.raises(ValueError, match="3 channels but the filters expect 4"):
        im2col.conv2d_forward(np.zeros((1, 3, 8, 8)), np.zeros((2, 4, 3, 3)), np.zeros(2))


def test_kernel_larger_than_image_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        im2col.im2col(np.zeros((1, 1, 2, 2)), 5, 5)
