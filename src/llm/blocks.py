"""The two transformer layers: GPT-2's pre-LayerNorm block and BERT's post-LayerNorm encoder layer.

Both are attention (tokens exchange information) then a position-wise MLP (each token transformed alone, 4x wider
in the middle), each wrapped in a residual connection and a LayerNorm. Where the LayerNorm sits is the difference:
- post-LN (the 2017 Transformer, BERT): x = LN(x + Sublayer(x)). The residual path passes through every LN.
- pre-LN (GPT-2, Radford et al. 2019, sec. 2.3): x = x + Sublayer(LN(x)), and one final LN. The residual path is
  an identity from input to output, so gradients reach early layers undiminished and training is stable without
  a long warm-up (Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture").
"""

from torch import nn

from src.llm.attention import MultiHeadAttention


class FeedForward(nn.Module):
    """Linear(d, d_ff) -> GELU -> Linear(d_ff, d) -> dropout (GPT-2: GELU tanh approximation, BERT: exact)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float, gelu: str = "none", bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(d_model, d_ff, bias=bias)
        self.act = nn.GELU(approximate=gelu)
        self.proj = nn.Linear(d_ff, d_model, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.proj(self.act(self.fc(x))))


class PreLNBlock(nn.Module):
    """GPT-2's block: x + attn(LN(x)), then x + mlp(LN(x)); causal self-attention."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True, rope: bool = False):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model, bias=bias)
        self.attn = MultiHeadAttention(d_model, num_heads, dropout, bias=bias, rope=rope)
        self.drop = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(d_model, bias=bias)
        self.mlp = FeedForward(d_model, 4 * d_model, dropout, gelu="tanh", bias=bias)

    def forward(self, x, cache=None):
        attended, cache = self.attn(self.ln_1(x), causal=True, cache=cache)
        x = x + self.drop(attended)
        return x + self.mlp(self.ln_2(x)), cache


class PostLNEncoderLayer(nn.Module):
    """BERT's layer: LN(x + attn(x)), then LN(x + mlp(x)); bidirectional attention (only padding is masked)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0, eps: float = 1e-12):
        super().__init__()
        self.attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.drop = nn.Dropout(dropout)
        self.ln_1 = nn.LayerNorm(d_model, eps=eps)
        self.mlp = FeedForward(d_model, d_ff, dropout)
        self.ln_2 = nn.LayerNorm(d_model, eps=eps)

    def forward(self, x, mask=None):
        attended, _ = self.attn(x, mask=mask)
        x = self.ln_1(x + self.drop(attended))
        return self.ln_2(x + self.mlp(x))
