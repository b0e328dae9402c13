"""2-D convolution and max-pooling as autograd operations, with im2col.

im2col turns convolution into one matrix product, which is what BLAS is fast at. For an input x of shape
(N, C, H, W) and filters w of shape (F, C, KH, KW), every output position (n, i, j) sees one KH x KW patch of every
channel; unrolling each patch into a row gives `cols` of shape (N*OH*OW, KH*KW*C), and

    out = cols @ w_mat.T        # w_mat: the filters unrolled the same way, (F, KH*KW*C); out is (N*OH*OW, F)

Backward is the same matrix calculus as a dense layer: dW = G^T cols, and dcols = G W followed by col2im, which
adds every patch row's gradient back onto the input pixels it was copied from. With stride 1 the input's
gradient is also a convolution, of G with the flipped filters (see input_gradient), which is faster here.
Shapes follow PyTorch: NCHW, weights (F, C, KH, KW), out size OH = (H + 2 padding - KH) // stride + 1.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from src.ml.deep_learning.tensor import Tensor


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"input size {size} is smaller than the kernel {kernel} (padding {padding})")
    return out


def im2col(x_nhwc: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """Channels-last images (N, H, W, C) -> every patch, (N, OH, OW, KH, KW, C). For C > 1 a view: reshaping it
    to (N*OH*OW, KH*KW*C) makes the one copy im2col costs, and with channels last it moves runs of C numbers."""
    if padding:
        x_nhwc = np.pad(x_nhwc, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    n, h, w, c = x_nhwc.shape
    if c == 1:  # one channel (the first layer): KH*KW shifted copies of the image beat a copy with runs of 1
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
        patches = np.empty((n, oh, ow, kh, kw, 1), dtype=x_nhwc.dtype)
        for i in range(kh):
            for j in range(kw):
                patches[:, :, :, i, j] = x_nhwc[:, i : i + stride * oh : stride, j : j + stride * ow : stride]
        return patches
    windows = sliding_window_view(x_nhwc, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # (N, OH, OW, C, KH, KW)
    return windows.transpose(0, 1, 2, 4, 5, 3)


def unroll_filters(weight: np.ndarray) -> np.ndarray:
    """(F, C, KH, KW) -> (F, KH*KW*C): each filter as one row, in the order im2col unrolls a patch."""
    return weight.transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)


def col2im(d_cols: np.ndarray, x_shape_nhwc: tuple, stride: int, padding: int) -> np.ndarray:
    """The adjoint of im2col: add each patch's gradient (N, OH, OW, KH, KW, C) back onto the pixels it was
    copied from, giving (N, H, W, C). Pixels shared by overlapping patches collect several contributions."""
    n, h, w, c = x_shape_nhwc
    _, oh, ow, kh, kw, _ = d_cols.shape
    dx = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype=d_cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, i : i + stride * oh : stride, j : j + stride * ow : stride, :] += d_cols[:, :, :, i, j, :]
    return dx[:, padding : padding + h, padding : padding + w, :]


def input_gradient(g_nhwc: np.ndarray, weight: np.ndarray, x_shape_nhwc: tuple, stride: int, padding: int):
    """dL/dx of a convolution, (N, H, W, C), from dL/dout (N, OH, OW, F).

    With stride 1 this is itself a convolution: every input pixel receives g times each filter tap that read it,
    which is g convolved ('full', padding K - 1 - padding) with the filters rotated 180 degrees and with their
    in/out channels swapped. One more im2col + matrix product, and no scattered additions. Other strides (or
    padding wider than the kernel) take the general route: d_cols = G W, then col2im."""
    f, c, kh, kw = weight.shape
    n, oh, ow, _ = g_nhwc.shape
    if stride == 1 and padding <= min(kh, kw) - 1 and kh == kw:
        flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, KH, KW)
        cols = im2col(g_nhwc, kh, kw, 1, kh - 1 - padding).reshape(-1, kh * kw * f)
        return (cols @ unroll_filters(flipped).T).reshape(x_shape_nhwc)
    d_cols = (g_nhwc.reshape(-1, f) @ unroll_filters(weight)).reshape(n, oh, ow, kh, kw, c)
    return col2im(d_cols, x_shape_nhwc, stride, padding)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0) -> Tensor:
    """PyTorch's Conv2d: x (N, C, H, W), weight (F, C, KH, KW), bias (F,) -> (N, F, OH, OW).

    Memory-layout trade-off: inside, images are channels-last (N, H, W, C), so im2col copies runs of C
    contiguous numbers and the matrix product's (N*OH*OW, F) result already IS the output in channels-last
    order. The (N, F, OH, OW) tensor returned is a transposed view of it, no copy; the layers after it (ReLU,
    pooling) keep that layout, so the gradient that comes back is channels-last again."""
    n, c, h, w = x.shape
    f, wc, kh, kw = weight.shape
    if wc != c:
        raise ValueError(f"conv2d: input has {c} channels but the filters expect {wc} (input shape {x.shape})")
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    cols = im2col(x.data.transpose(0, 2, 3, 1), kh, kw, stride, padding).reshape(n * oh * ow, kh * kw * c)
    out = cols @ unroll_filters(weight.data).T
    if bias is not None:
        out += bias.data
    out = out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)

    def backward(g):
        g_nhwc = g.transpose(0, 2, 3, 1)
        g_mat = g_nhwc.reshape(n * oh * ow, f)  # rows in the same order as cols
        d_weight = (g_mat.T @ cols).reshape(f, kh, kw, c).transpose(0, 3, 1, 2)
        d_x = None
        if x.requires_grad:
            d_x = input_gradient(g_nhwc, weight.data, (n, h, w, c), stride, padding).transpose(0, 3, 1, 2)
        if bias is None:
            return d_x, d_weight
        # dL/db sums G over every position: written as a product with a ones vector, which BLAS does several
        # times faster than NumPy's sum down a long axis of a narrow (N*OH*OW, F) matrix
        return d_x, d_weight, np.ones(len(g_mat), dtype=g_mat.dtype) @ g_mat

    parents = (x, weight, bias) if bias is not None else (x, weight)
    return Tensor.from_op(out, parents, backward, "conv2d")


def max_pool2d(x: Tensor, kernel_size: int = 2, stride: int | None = None) -> Tensor:
    """The largest value of each window. For every position (i, j) inside the window, the strided slice
    x[..., i::stride, j::stride] holds that position of every window at once, so the output is the elementwise
    maximum of kernel_size^2 slices. The gradient goes only to the window's maximum (the first position holding
    it on ties, as in PyTorch), so 2x2 pooling passes on a quarter of its gradients. Works channels-last, like
    conv2d, so that slices read contiguous runs of channels."""
    stride = stride or kernel_size
    n, c, h, w = x.shape
    oh, ow = output_size(h, kernel_size, stride, 0), output_size(w, kernel_size, stride, 0)
    x_nhwc = x.data.transpose(0, 2, 3, 1)
    offsets = [(i, j) for i in range(kernel_size) for j in range(kernel_size)]

    def window_position(i, j):  # (N, OH, OW, C): entry (i, j) of every window
        return x_nhwc[:, i : i + stride * oh : stride, j : j + stride * ow : stride, :]

    out = window_position(0, 0).copy()
    for i, j in offsets[1:]:
        np.maximum(out, window_position(i, j), out=out)

    def backward(g):
        g_nhwc = g.transpose(0, 2, 3, 1)
        tiled = stride == kernel_size and h == oh * stride and w == ow * stride  # every pixel in exactly one window
        d_x = np.empty_like(x_nhwc) if tiled else np.zeros_like(x_nhwc)
        unclaimed = np.ones(out.shape, dtype=bool)
        for i, j in offsets:
            won = (window_position(i, j) == out) & unclaimed
            target = d_x[:, i : i + stride * oh : stride, j : j + stride * ow : stride, :]
            if tiled:
                np.multiply(g_nhwc, won, out=target)
            else:
                target += g_nhwc * won  # overlapping windows: a pixel can win in several
            unclaimed ^= won  # won is a subset of unclaimed: this removes it
        return (d_x.transpose(0, 3, 1, 2),)

    return Tensor.from_op(out.transpose(0, 3, 1, 2), (x,), backward, "max_pool2d")
