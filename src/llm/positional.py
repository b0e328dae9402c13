"""Positional encodings: self-attention is permutation-equivariant, so order must be injected.

- sinusoidal (Vaswani et al. 2017, sec. 3.5): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same). Fixed,
  added to the token embeddings, defined for any position (so a model can at least be run past its training length).
- learned (GPT-2, BERT): a trainable table with one row per position, so it stops at the table's length.
- rotary, RoPE (Su et al. 2021, "RoFormer"): rotate each pair (x_{2i}, x_{2i+1}) of a query or key at position p
  by the angle p * theta_i, theta_i = 10000^(-2i/d). A rotation R(a) satisfies R(a)^T R(b) = R(b - a), so
      <R(p theta) q, R(s theta) k> = q^T R((s - p) theta) k:
  the attention score depends on the positions only through their difference (tested directly). Nothing is added
  to the embeddings; it is applied to q and k inside attention, in every layer.
"""

import math

import numpy as np
import torch
from torch import nn


def sinusoidal_encoding(n_positions: int, d_model: int) -> np.ndarray:
    """(n_positions, d_model) table of sines and cosines (d_model even)."""
    if d_model % 2:
        raise ValueError(f"sinusoidal encoding needs an even d_model, got {d_model}")
    position = np.arange(n_positions)[:, None]
    frequency = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    table = np.zeros((n_positions, d_model))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)
    return table


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table; grows it on demand, so any length works."""

    def __init__(self, d_model: int, max_len: int = 1024):
        super().__init__()
        self.d_model = d_model
        self.register_buffer("table", torch.tensor(sinusoidal_encoding(max_len, d_model), dtype=torch.float32))

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        end = offset + x.shape[1]
        if end > len(self.table):
            table = sinusoidal_encoding(2 * end, self.d_model)
            self.table = torch.tensor(table, dtype=self.table.dtype, device=self.table.device)
        return x + self.table[offset:end].to(x.dtype)


class LearnedPositionalEmbedding(nn.Module):
    """Adds a trainable vector per position (GPT-2's wpe); it has none beyond max_len."""

    def __init__(self, d_model: int, max_len: int):
        super().__init__()
        self.max_len = max_len
        self.weight = nn.Embedding(max_len, d_model)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        end = offset + x.shape[1]
        if end > self.max_len:
            raise ValueError(
                f"sequence of {end} positions is longer than the {self.max_len} learned position embeddings: "
                f"crop the input to its last {self.max_len} tokens, or use sinusoidal or rope positions"
            )
        return x + self.weight(torch.arange(offset, end, device=x.device))


class RotaryPositionalEmbedding(nn.Module):
    """RoPE on (batch, heads, time, head_dim) queries/keys: rotate pairs of features by position * theta_i.

    Uses the interleaved-pairs convention of the paper: features (2i, 2i+1) form a 2-D vector rotated by
    p * base^(-2i/head_dim)."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"RoPE rotates pairs of features: head_dim must be even, got {head_dim}")
        self.register_buffer("inv_freq", base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))

    def angles(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        theta = positions.to(torch.float64)[:, None] * self.inv_freq[None, :]  # (time, head_dim / 2)
        return torch.cos(theta), torch.sin(theta)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        positions = torch.arange(offset, offset + x.shape[-2], device=x.device)
        cos, sin = (a.to(x.dtype) for a in self.angles(positions))
        even, odd = x[..., 0::2], x[..., 1::2]
        rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
        return rotated.flatten(-2)
