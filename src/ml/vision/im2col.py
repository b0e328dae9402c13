"""Convolution three ways, for teaching: a naive loop, im2col + one matrix product, and (elsewhere) torch.

Shapes follow PyTorch: x (N, C, H, W), weight (F, C, KH, KW), bias (F,), out (N, F, OH, OW) with

    OH = (H + 2 padding - KH) // stride + 1          (and the same for OW)

because the last window must start at or before row H + 2 padding - KH of the padded image, and windows start
every `stride` rows from row 0.

The naive loop computes each output number as its definition says: out[n, f, oh, ow] = b[f] + the sum over
(c, ki, kj) of w[f, c, ki, kj] * x_padded[n, c, oh*stride + ki, ow*stride + kj]. That is N*F*OH*OW small dot
products of length C*KH*KW, each one a trip through the Python interpreter.

im2col ("image to columns") moves all the work into one matrix product. Every output position (n, oh, ow) reads
one patch of C*KH*KW input numbers; copying each patch into one row of a matrix gives

    cols: (N*OH*OW, C*KH*KW),    row r = (n*OH + oh)*OW + ow,    column q = (c*KH + ki)*KW + kj

and with the filters flattened in the same (c, ki, kj) order, w_mat = weight.reshape(F, C*KH*KW),

    out = cols @ w_mat.T + b       # (N*OH*OW, F), then reshaped to (N, OH, OW, F) and transposed to NCHW

The index arithmetic (`patch_indices`): the element in column q of row r comes from channel c = q // (KH*KW),
kernel offset ki = (q // KW) % KH, kj = q % KW, and from padded input row oh*stride + ki, column ow*stride + kj.
Building those index arrays once and gathering with them (x_padded[:, c, i, j]) is the whole of im2col. The
price is memory: every input pixel is copied up to KH*KW times (9x for a 3x3 kernel at stride 1).

Backward is a dense layer's backward on `cols`: dW = G^T cols and db = sum of G over rows, where G is dL/dout
as (N*OH*OW, F); and d_cols = G W_mat. col2im is im2col's adjoint: it adds each entry of d_cols back onto the
input pixel it was copied from. A pixel that sat in several patches (overlapping windows) receives the sum of
their gradients, so the scatter must accumulate (np.add.at), not assign.

The day-4 engine (src/ml/deep_learning/convolution.py) uses the same idea with channels-last strided views,
which avoids the gather through index arrays; `src.ml.vision.conv_benchmark` times all of them against torch.
"""

import numpy as np


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"a {kernel}-wide kernel does not fit in {size} pixels with padding {padding}")
    return out


def patch_indices(x_shape: tuple, kh: int, kw: int, stride: int, padding: int):
    """Index arrays (c, i, j), each of shape (OH*OW, C*KH*KW): entry [p, q] says which padded-input element
    (channel c, row i, column j) lands in column q of output position p = oh*OW + ow."""
    _, c, h, w = x_shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    q = np.arange(c * kh * kw)
    channel, ki, kj = q // (kh * kw), (q // kw) % kh, q % kw  # column q = (c*KH + ki)*KW + kj
    p = np.arange(oh * ow)
    row_start, col_start = (p // ow) * stride, (p % ow) * stride  # top-left corner of window p
    rows = row_start[:, None] + ki[None, :]
    cols = col_start[:, None] + kj[None, :]
    return np.broadcast_to(channel, rows.shape), rows, cols


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else x


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """(N, C, H, W) -> cols (N*OH*OW, C*KH*KW): one row per output position, one column per filter tap."""
    channel, rows, cols = patch_indices(x.shape, kh, kw, stride, padding)
    patches = pad(x, padding)[:, channel, rows, cols]  # (N, OH*OW, C*KH*KW): a gather, one copy
    return patches.reshape(-1, channel.shape[1])


def col2im(d_cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The adjoint of im2col: (N*OH*OW, C*KH*KW) -> (N, C, H, W), summing where patches overlapped."""
    n, c, h, w = x_shape
    channel, rows, cols = patch_indices(x_shape, kh, kw, stride, padding)
    d_padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=d_cols.dtype)
    # add.at accumulates repeated indices (a pixel in several windows); d_padded[...] += would keep only one
    np.add.at(d_padded, (slice(None), channel, rows, cols), d_cols.reshape(n, *channel.shape))
    return d_padded[:, :, padding : padding + h, padding : padding + w]


def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0):
    """im2col convolution: returns (out (N, F, OH, OW), cache for conv2d_backward)."""
    n, c, h, w = x.shape
    f, wc, kh, kw = weight.shape
    if wc != c:
        raise ValueError(f"input has {c} channels but the filters expect {wc}")
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)
    out = cols @ weight.reshape(f, -1).T + bias  # (N*OH*OW, F)
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2), (x.shape, cols, weight, stride, padding)


def conv2d_backward(d_out: np.ndarray, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dL/dx, dL/dweight, dL/dbias) from dL/dout (N, F, OH, OW)."""
    x_shape, cols, weight, stride, padding = cache
    f, _, kh, kw = weight.shape
    g = d_out.transpose(0, 2, 3, 1).reshape(-1, f)  # rows in cols' order: (n, oh, ow)
    d_weight = (g.T @ cols).reshape(weight.shape)
    d_x = col2im(g @ weight.reshape(f, -1), x_shape, kh, kw, stride, padding)
    return d_x, d_weight, g.sum(axis=0)


def conv2d_naive_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0):
    """The definition, one output number at a time (four nested loops; the dot product over the window is
    the only vectorised part). Returns (out, cache)."""
    n, _, h, w = x.shape
    f, _, kh, kw = weight.shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    xp = pad(x, padding)
    out = np.empty((n, f, oh, ow), dtype=x.dtype)
    for b in range(n):
        for k in range(f):
            for i in range(oh):
                for j in range(ow):
                    window = xp[b, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
                    out[b, k, i, j] = np.sum(window * weight[k]) + bias[k]
    return out, (x, weight, stride, padding)


def conv2d_naive_backward(d_out: np.ndarray, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same loops backwards: each output number passes its gradient to the window and filter it read."""
    x, weight, stride, padding = cache
    n, f, oh, ow = d_out.shape
    _, _, kh, kw = weight.shape
    xp = pad(x, padding)
    d_xp, d_weight = np.zeros_like(xp), np.zeros_like(weight)
    for b in range(n):
        for k in range(f):
            for i in range(oh):
                for j in range(ow):
                    g = d_out[b, k, i, j]
                    rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    d_weight[k] += g * xp[b, :, rows, cols]
                    d_xp[b, :, rows, cols] += g * weight[k]
    h, w = x.shape[2:]
    return d_xp[:, :, padding : padding + h, padding : padding + w], d_weight, d_out.sum(axis=(0, 2, 3))
