"""Attention held against PyTorch: the NumPy version on the day-4 engine against
torch.nn.functional.scaled_dot_product_attention and torch.nn.MultiheadAttention (values and gradients, float64,
masked and unmasked), the torch module against nn.MultiheadAttention, RoPE's relative-position property, masks."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from src.llm.attention import (
    MultiHeadAttention,
    NumpyMultiHeadAttention,
    RotaryPositionalEmbedding,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from src.llm.positional import LearnedPositionalEmbedding, sinusoidal_encoding
from src.ml.deep_learning.tensor import Tensor

TOL = dict(rtol=1e-6, atol=1e-6)


def _masks(batch, time):
    rng = np.random.default_rng(3)
    both = causal_mask(time)[None, None] & padding_mask(rng.integers(1, time + 1, batch), time)
    return [None, causal_mask(time), padding_mask([time, time - 2], time), both]


@pytest.mark.parametrize("mask_index", range(4))
def test_numpy_sdpa_values_and_gradients_equal_torch(mask_index):
    rng = np.random.default_rng(0)
    batch, heads, time, dim = 2, 3, 5, 4
    mask = _masks(batch, time)[mask_index]
    arrays = [rng.normal(size=(batch, heads, time, dim)) for _ in range(3)]
    grad_out = rng.normal(size=(batch, heads, time, dim))

    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = scaled_dot_product_attention(*ours, mask=mask)
    out.backward(grad_out)

    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    attn_mask = None if mask is None else torch.from_numpy(mask)
    expected = F.scaled_dot_product_attention(*theirs, attn_mask=attn_mask)
    expected.backward(torch.tensor(grad_out))

    np.testing.assert_allclose(out.data, expected.detach().numpy(), **TOL)
    for mine, ref in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), **TOL)


def _torch_mha_like(ours_weights, d_model, heads):
    ref = torch.nn.MultiheadAttention(d_model, heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(ours_weights[0]))
        ref.in_proj_bias.copy_(torch.tensor(ours_weights[1]))
        ref.out_proj.weight.copy_(torch.tensor(ours_weights[2]))
        ref.out_proj.bias.copy_(torch.tensor(ours_weights[3]))
    return ref


@pytest.mark.parametrize("masked", [False, True])
def test_numpy_multi_head_attention_equals_torch_multihead_attention(masked):
    rng = np.random.default_rng(1)
    batch, time, d_model, heads = 2, 6, 8, 2
    ours = NumpyMultiHeadAttention(d_model, heads, seed=0)
    ours.in_proj_bias.data[:] = rng.normal(size=3 * d_model)
    ours.out_proj_bias.data[:] = rng.normal(size=d_model)
    ref = _torch_mha_like([p.data for p in ours.parameters()], d_model, heads)
    x = rng.normal(size=(batch, time, d_model))
    grad_out = rng.normal(size=(batch, time, d_model))
    mask = causal_mask(time) if masked else None

    x_ours = Tensor(x.copy(), requires_grad=True)
    ours(x_ours, mask).backward(grad_out)
    x_ref = torch.tensor(x, requires_grad=True)
    attn_mask = None if mask is None else ~torch.from_numpy(mask)  # nn.MultiheadAttention: True = blocked
    expected, _ = ref(x_ref, x_ref, x_ref, attn_mask=attn_mask, need_weights=False)
    expected.backward(torch.tensor(grad_out))

    np.testing.assert_allclose(ours(Tensor(x), mask).data, expected.detach().numpy(), **TOL)
    np.testing.assert_allclose(x_ours.grad, x_ref.grad.numpy(), **TOL)
    for mine, theirs in zip(
        ours.parameters(), [ref.in_proj_weight, ref.in_proj_bias, ref.out_proj.weight, ref.out_proj.bias], strict=True
    ):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **TOL)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_torch_multi_head_attention_equals_nn_multihead_attention(fused, masked):
    torch.manual_seed(0)
    batch, time, d_model, heads = 2, 7, 12, 3
    ours = MultiHeadAttention(d_model, heads).double()
    ours.fused = fused
    ref = torch.nn.MultiheadAttention(d_model, heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(torch.randn(3 * d_model, dtype=torch.float64))
        ours.qkv.bias.copy_(ref.in_proj_bias)
        ref.out_proj.weight.copy_(ours.proj.weight)
        ref.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(batch, time, d_model, dtype=torch.float64)
    pad = torch.from_numpy(padding_mask([time, 4], time)) if masked else None
    out, _ = ours(x, mask=pad, causal=masked)
    blocked = ~torch.from_numpy(causal_mask(time)) if masked else None
    key_padding = ~pad[:, 0, 0, :] if masked else None
    expected, _ = ref(x, x, x, attn_mask=blocked, key_padding_mask=key_padding, need_weights=False)
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    torch.testing.assert_close(ours.qkv.weight.grad, ref.in_proj_weight.grad, rtol=1e-6, atol=1e-6)


def test_d_model_not_divisible_by_heads_is_refused_clearly():
    with pytest.raises(ValueError, match=r"d_model \(10\) must be divisible by num_heads \(4\)"):
        MultiHeadAttention(d_model=10, num_heads=4)
    with pytest.raises(ValueError, match="divisible"):
        NumpyMultiHeadAttention(10, 3)


def test_the_roadmaps_call_works():
    attn = MultiHeadAttention(d_model=512, num_heads=8)
    out, _ = attn(torch.randn(1, 3, 512))
    assert out.shape == (1, 3, 512) and attn.head_dim == 64


def test_rope_scores_depend_only_on_the_position_difference():
    rope = RotaryPositionalEmbedding(head_dim=8).double()
    torch.manual_seed(0)
    q, k = torch.randn(8, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    n = 40
    rotated_q = rope(q.expand(1, 1, n, 8))[0, 0]  # q placed at every position 0..n-1
    rotated_k = rope(k.expand(1, 1, n, 8))[0, 0]
    scores = rotated_q @ rotated_k.T  # scores[i, j] = <q at i, k at j>
    for offset in (-7, 0, 3, 20):
        diagonal = torch.diagonal(scores, offset=offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), rtol=1e-10, atol=1e-10)
    assert not torch.allclose(torch.diagonal(scores, 0)[0], torch.diagonal(scores, 5)[0])  # but it does depend on it
    torch.testing.assert_close(rotated_q.norm(dim=-1), q.norm().expand(n))  # a rotation keeps lengths


def test_rope_offset_continues_positions():
    rope = RotaryPositionalEmbedding(head_dim=4)
    x = torch.randn(1, 2, 6, 4)
    torch.testing.assert_close(rope(x)[..., 4:, :], rope(x[..., 4:, :], offset=4))


def test_sinusoidal_table_matches_the_formula():
    table = sinusoidal_encoding(50, 16)
    p, i = 7, 3
    assert table[p, 2 * i] == pytest.approx(np.sin(p / 10000 ** (2 * i / 16)))
    assert table[p, 2 * i + 1] == pytest.approx(np.cos(p / 10000 ** (2 * i / 16)))


def test_learned_positions_refuse_a_sequence_longer_than_the_table():
    with pytest.raises(ValueError, match="longer than the 8 learned position embeddings"):
        LearnedPositionalEmbedding(4, max_len=8)(torch.zeros(1, 9, 4))


def test_causal_mask_with_a_cache_sees_every_earlier_key():
    assert causal_mask(2, 5).tolist() == [[True, True, True, True, False], [True, True, True, True, True]]
