"""Scaled dot-product attention and multi-head attention (Vaswani et al. 2017, sec. 3.2).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V

Each query row scores every key by a dot product; dividing by sqrt(d_k) keeps the scores' variance at 1 when q
and k have unit-variance entries (their dot product sums d_k such terms), so softmax does not saturate. The mask M
is 0 where attention is allowed and -inf where not (causal: key j > query i; padding: key is a pad), so those
weights come out exactly 0. The n x n score matrix is why time and memory grow as O(n^2) (complexity.py).

Backward, with P = softmax(S), O = P V and G = dL/dO:
    dV = P^T G,   dP = G V^T,   dS = P * (dP - rowsum(dP * P))   (the softmax Jacobian, applied row by row),
    dQ = dS K / sqrt(d_k),   dK = dS^T Q / sqrt(d_k).
The NumPy version below runs on the day-4 autograd engine (its matmul, transpose and add) with one fused softmax
op that implements the dS line; the torch version is what the models use (PyTorch's fused kernel, or the same
formula written out for the heatmaps and the O(n^2) measurements).

Masks here are boolean with True = may attend, broadcastable to (batch, heads, queries, keys), as in
torch.nn.functional.scaled_dot_product_attention.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from src.llm.positional import RotaryPositionalEmbedding
from src.ml.deep_learning.tensor import Tensor, as_tensor

__all__ = [
    "MultiHeadAttention",
    "NumpyMultiHeadAttention",
    "RotaryPositionalEmbedding",
    "causal_mask",
    "naive_attention",
    "padding_mask",
    "scaled_dot_product_attention",
    "softmax",
]


# -- masks ---------------------------------------------------------------------------------------------------
def causal_mask(n_queries: int, n_keys: int | None = None) -> np.ndarray:
    """(n_queries, n_keys) bool, True on and below the diagonal: position i sees keys 0..i. With a KV cache the
    queries are the last n_queries of n_keys positions, so the diagonal shifts right."""
    n_keys = n_queries if n_keys is None else n_keys
    return np.tril(np.ones((n_queries, n_keys), dtype=bool), k=n_keys - n_queries)


def padding_mask(lengths, max_len: int) -> np.ndarray:
    """(batch, 1, 1, max_len) bool, True on each sequence's real tokens, False on its padding."""
    lengths = np.asarray(lengths)
    return (np.arange(max_len)[None, :] < lengths[:, None])[:, None, None, :]


# -- NumPy, on the day-4 autograd engine ----------------------------------------------------------------------
def softmax(scores: Tensor) -> Tensor:
    """Softmax over the last axis as one op: P = exp(S - max S) / sum; backward dS = P * (G - rowsum(G * P))."""
    shifted = scores.data - scores.data.max(axis=-1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=-1, keepdims=True)

    def backward(g):
        return (p * (g - (g * p).sum(axis=-1, keepdims=True)),)

    return Tensor.from_op(p, (scores,), backward, "softmax")


def scaled_dot_product_attention(q, k, v, mask: np.ndarray | None = None) -> Tensor:
    """softmax(q k^T / sqrt(d) + M) v for Tensors (..., n, d); mask bool, True = may attend."""
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    scores = (q @ k.transpose(*range(k.ndim - 2), k.ndim - 1, k.ndim - 2)) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores + Tensor(np.where(mask, 0.0, -np.inf).astype(scores.dtype))
    return softmax(scores) @ v


class NumpyMultiHeadAttention:
    """Multi-head attention on the engine, weights laid out as torch.nn.MultiheadAttention's (so tests copy them):
    in_proj_weight (3 d, d) stacks W_q, W_k, W_v; out_proj (d, d); y = x W^T + b."""

    def __init__(self, d_model: int, num_heads: int, seed: int = 0, dtype="float64"):
        _check_heads(d_model, num_heads)
        rng = np.random.default_rng(seed)
        bound = 1 / math.sqrt(d_model)
        self.num_heads, self.head_dim = num_heads, d_model // num_heads
        self.in_proj_weight = Tensor(rng.uniform(-bound, bound, (3 * d_model, d_model)).astype(dtype), True)
        self.in_proj_bias = Tensor(np.zeros(3 * d_model, dtype=dtype), True)
        self.out_proj_weight = Tensor(rng.uniform(-bound, bound, (d_model, d_model)).astype(dtype), True)
        self.out_proj_bias = Tensor(np.zeros(d_model, dtype=dtype), True)

    def parameters(self) -> list[Tensor]:
        return [self.in_proj_weight, self.in_proj_bias, self.out_proj_weight, self.out_proj_bias]

    def __call__(self, x, mask: np.ndarray | None = None) -> Tensor:
        """x (batch, time, d_model) -> (batch, time, d_model); mask broadcastable to (batch, heads, time, time)."""
        x = as_tensor(x)
        batch, time, d_model = x.shape
        qkv = x @ self.in_proj_weight.T + self.in_proj_bias  # (batch, time, 3 d)
        heads = qkv.reshape(batch, time, 3, self.num_heads, self.head_dim).transpose(2, 0, 3, 1, 4)
        out = scaled_dot_product_attention(heads[0], heads[1], heads[2], mask)  # (batch, heads, time, head_dim)
        out = out.transpose(0, 2, 1, 3).reshape(batch, time, d_model)
        return out @ self.out_proj_weight.T + self.out_proj_bias


# -- torch ------------------------------------------------------------------------------------------------------
def naive_attention(q, k, v, mask=None, return_weights: bool = False, dropout_p: float = 0.0):
    """The formula written out in torch: materialises the (n, n) score matrix (what the O(n^2) figure measures,
    and the weights the heatmaps show)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    out = F.dropout(weights, dropout_p) @ v if dropout_p else weights @ v
    return (out, weights) if return_weights else out


def _check_heads(d_model: int, num_heads: int):
    if num_heads < 1 or d_model % num_heads:
        raise ValueError(
            f"d_model ({d_model}) must be divisible by num_heads ({num_heads}): each head gets d_model / num_heads "
            f"features. Try num_heads in {[h for h in range(1, d_model + 1) if d_model % h == 0][:8]}..."
        )


class MultiHeadAttention(nn.Module):
    """h heads of attention over d_model / h features each, in parallel, then mixed by an output projection.

    forward(x, mask=None, causal=False, cache=None) -> (out, new_cache). `cache` holds the keys and values of the
    positions already seen (a KV cache, for generation): new tokens attend to them without recomputing them.
    `rope` applies rotary positions to q and k. Weights: qkv (d, 3d) and proj (d, d) as nn.Linear."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True, rope: bool = False):
        super().__init__()
        _check_heads(d_model, num_heads)
        self.num_heads, self.head_dim, self.dropout = num_heads, d_model // num_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)
        self.rope = RotaryPositionalEmbedding(self.head_dim) if rope else None
        self.fused = True  # False: naive_attention, keeping the weights in self.last_weights (heatmaps)
        self.last_weights = None

    def forward(self, x, mask=None, causal: bool = False, cache=None):
        batch, time, d_model = x.shape
        q, k, v = self.qkv(x).view(batch, time, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        past = 0 if cache is None else cache[0].shape[-2]
        if self.rope is not None:
            q, k = self.rope(q, offset=past), self.rope(k, offset=past)
        if cache is not None:
            k, v = torch.cat((cache[0], k), dim=-2), torch.cat((cache[1], v), dim=-2)
        if causal and (past or mask is not None or not self.fused):  # SDPA's is_causal assumes square
            causal_part = torch.from_numpy(causal_mask(time, past + time)).to(x.device)
            mask = causal_part if mask is None else mask & causal_part
            causal = False
        drop = self.dropout if self.training else 0.0
        if self.fused:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop, is_causal=causal)
        else:
            out, weights = naive_attention(q, k, v, mask, return_weights=True, dropout_p=drop)
            self.last_weights = weights.detach()
        out = out.transpose(1, 2).reshape(batch, time, d_model)
        return self.proj(out), (k, v)
