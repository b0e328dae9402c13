"""GPT-2 (a decoder: predicts the next token), BERT (an encoder: fills in masked tokens), and the encoder stack.

GPT2 follows Radford et al. 2019 and nanoGPT: token + position embeddings, pre-LN blocks with causal attention, a
final LayerNorm, and an output layer that shares its weights with the token embedding ("tied": the same vector
that reads a token in writes its logit out; Press & Wolf 2017). GPT-2's initialisation: every weight N(0, 0.02),
and the projections that write into the residual stream N(0, 0.02 / sqrt(2 n_layer)), since each of the 2 n_layer
residual additions adds variance (GPT-2 paper, sec. 2.3).

BERT follows Devlin et al. 2019: token + position + segment embeddings, LayerNorm, post-LN encoder layers with
bidirectional attention, and the masked-LM head (dense, GELU, LayerNorm, then the tied output layer plus a bias).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from src.llm.blocks import PostLNEncoderLayer, PreLNBlock
from src.llm.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding

POSITIONAL = ("none", "sinusoidal", "learned", "rope")


class GPT2(nn.Module):
    """forward(idx (batch, time) int64, targets=None) -> (logits (batch, time, vocab), mean cross-entropy or None)."""

    def __init__(
        self,
        vocab_size: int,
        block_size: int,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 128,
        dropout: float = 0.0,
        positional: str = "learned",
        bias: bool = True,
    ):
        super().__init__()
        if positional not in POSITIONAL:
            raise ValueError(f"positional must be one of {POSITIONAL}, got {positional!r}")
        self.block_size, self.positional = block_size, positional
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = {
            "learned": lambda: LearnedPositionalEmbedding(n_embd, block_size),
            "sinusoidal": lambda: SinusoidalPositionalEncoding(n_embd, 2 * block_size),
        }.get(positional, nn.Identity)()
        self.drop = nn.Dropout(dropout)
        rope = positional == "rope"
        self.blocks = nn.ModuleList(PreLNBlock(n_embd, n_head, dropout, bias, rope) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd, bias=bias)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied embeddings
        self.apply(_gpt2_init)
        for name, p in self.named_parameters():
            if name.endswith(("attn.proj.weight", "mlp.proj.weight")):  # residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, targets=None, caches=None):
        logits, _ = self.forward_cached(idx, caches)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())

    def forward_cached(self, idx, caches=None):
        """Logits and each layer's (keys, values); `caches` from the previous call makes idx the continuation."""
        past = 0 if caches is None else caches[0][0].shape[-2]
        if self.positional == "learned" and past + idx.shape[1] > self.block_size:
            raise ValueError(
                f"sequence of {past + idx.shape[1]} tokens is longer than block_size {self.block_size}, the "
                f"number of learned positions: crop it to its last {self.block_size} tokens"
            )
        x = self.wte(idx)
        x = self.drop(x if self.positional in ("none", "rope") else self.wpe(x, offset=past))
        new_caches = []
        for i, block in enumerate(self.blocks):
            x, cache = block(x, None if caches is None else caches[i])
            new_caches.append(cache)
        return self.lm_head(self.ln_f(x)), new_caches

    @torch.no_grad()
    def generate(
        self,
        idx,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        use_cache: bool = True,
        generator: torch.Generator | None = None,
    ):
        """Sample max_new_tokens continuations of idx (batch, time). Each step: logits of the last position,
        divided by temperature (< 1 sharper, > 1 flatter), optionally only the top_k kept, then sampled.

        With use_cache, each step feeds only the new token and reuses every earlier position's keys and values
        (O(n) work per token instead of O(n^2)). Past block_size the context is cropped to its last block_size
        tokens, which shifts every position, so the cache is rebuilt from the cropped context (as without it)."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        caches, feed = None, idx
        for _ in range(max_new_tokens):
            if idx.shape[1] > self.block_size:  # crop: positions move, so the cache is stale
                caches, feed = None, idx[:, -self.block_size :]
            if not use_cache:
                feed = idx[:, -self.block_size :]
            logits, new_caches = self.forward_cached(feed, caches if use_cache else None)
            caches = new_caches if use_cache else None
            logits = logits[:, -1, :].float() / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, [-1]]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            next_id = torch.multinomial(logits.softmax(dim=-1), 1, generator=generator)
            idx = torch.cat((idx, next_id), dim=1)
            feed = next_id
        return idx


def _gpt2_init(module):
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)


class TransformerEncoder(nn.Module):
    """A stack of post-LN encoder layers: (batch, time, d_model) -> same shape; mask True = may attend."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_layers: int,
        d_ff: int | None = None,
        dropout: float = 0.0,
        eps: float = 1e-12,
    ):
        super().__init__()
        d_ff = d_ff or 4 * d_model
        self.layers = nn.ModuleList(
            PostLNEncoderLayer(d_model, num_heads, d_ff, dropout, eps) for _ in range(num_layers)
        )

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask)
        return x


class BERT(nn.Module):
    """forward(idx, attention_mask=None (batch, time) 1 = token, 0 = pad) -> MLM logits (batch, time, vocab)."""

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        d_model: int = 128,
        num_heads: int = 4,
        num_layers: int = 4,
        d_ff: int | None = None,
        dropout: float = 0.1,
        type_vocab_size: int = 2,
        eps: float = 1e-12,
    ):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = LearnedPositionalEmbedding(d_model, max_len)
        self.seg = nn.Embedding(type_vocab_size, d_model)
        self.ln = nn.LayerNorm(d_model, eps=eps)
        self.drop = nn.Dropout(dropout)
        self.encoder = TransformerEncoder(d_model, num_heads, num_layers, d_ff, dropout, eps)
        self.head_dense = nn.Linear(d_model, d_model)
        self.head_act = nn.GELU()
        self.head_ln = nn.LayerNorm(d_model, eps=eps)
        self.decoder = nn.Linear(d_model, vocab_size)
        self.decoder.weight = self.tok.weight  # tied, as in BERT
        self.apply(_gpt2_init)  # BERT's init too: N(0, 0.02), zero biases

    def forward(self, idx, attention_mask=None, token_type_ids=None):
        segments = torch.zeros_like(idx) if token_type_ids is None else token_type_ids
        x = self.drop(self.ln(self.pos(self.tok(idx)) + self.seg(segments)))
        mask = None if attention_mask is None else attention_mask.bool()[:, None, None, :]  # keys that are tokens
        h = self.encoder(x, mask)
        return self.decoder(self.head_ln(self.head_act(self.head_dense(h))))
