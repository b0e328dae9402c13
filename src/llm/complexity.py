"""The O(n^2) cost of attention, measured: time and peak memory against sequence length n, for the formula written
out (naive_attention materialises the n x n score and weight matrices) and PyTorch's fused
scaled_dot_product_attention (a flash-attention style kernel on CPU: it walks over blocks of keys with a running
softmax, so the n x n matrix never exists). Both do the same ~4 n^2 d multiply-adds, so both TIMES grow as n^2;
only the fused kernel's MEMORY grows as n (the inputs and output). A fitted log-log slope makes that visible.

Also here: the KV cache's effect on generation speed, and the attention weights of a trained GPT (heatmaps).
"""

import ctypes
import functools
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from src.benchmark import best_time
from src.llm.attention import naive_attention

_CLEAR_REFS = Path("/proc/self/clear_refs")


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_memory_mib(fn) -> float:
    """Extra resident memory at the peak of fn() (MiB): hands freed heap memory back to the OS (glibc's
    malloc_trim, else a reused free block would not show), resets the kernel's high-water mark (writing 5 to
    /proc/self/clear_refs), runs fn, and reads VmHWM - VmRSS before. Linux only."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    _CLEAR_REFS.write_text("5")
    before = _rss_kib("VmRSS:")
    fn()
    return max(0, _rss_kib("VmHWM:") - before) / 1024


def attention_scaling(lengths, heads: int = 4, head_dim: int = 64, seed: int = 0, max_seconds: float = 0.5):
    """Rows (implementation, n, seconds, peak_mib) for the forward pass of one sequence of each length."""
    generator = torch.Generator().manual_seed(seed)
    implementations = {
        "naive": naive_attention,
        "sdpa": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
    }
    rows = []
    for n in lengths:
        q, k, v = (torch.randn(1, heads, n, head_dim, generator=generator) for _ in range(3))
        for name, fn in implementations.items():
            call = functools.partial(fn, q, k, v)
            with torch.no_grad():
                memory = peak_memory_mib(call)
                seconds = best_time(call, repeats=3, min_seconds=0.02, max_calls=50)
            rows.append({"implementation": name, "seq_len": n, "seconds": seconds, "peak_mib": memory})
            if seconds > max_seconds:  # keep the measurement short on a slow machine
                implementations = {k: f for k, f in implementations.items() if k != name}
    return rows


def loglog_slope(xs, ys) -> float:
    """The exponent b of y ~ x^b: least-squares slope of log y on log x."""
    xs, ys = np.log(np.asarray(xs, float)), np.log(np.maximum(np.asarray(ys, float), 1e-12))
    return float(np.polyfit(xs, ys, 1)[0])


def generation_speed(model, prompt, new_tokens: int, repeats: int = 3) -> dict[str, float]:
    """Tokens per second generating with and without the KV cache (same model, same prompt, same seed), best of
    `repeats`, and whether both produced the same tokens."""
    model.eval()
    out, speed = {}, {}
    for use_cache in (True, False):
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            tokens = model.generate(prompt, new_tokens, top_k=1, use_cache=use_cache)
            best = min(best, time.perf_counter() - started)
        out[use_cache], speed[use_cache] = tokens, new_tokens * prompt.shape[0] / best
    return {
        "tokens_per_second_cache": speed[True],
        "tokens_per_second_no_cache": speed[False],
        "speedup": speed[True] / speed[False],
        "identical_tokens": float(torch.equal(out[True], out[False])),
    }


@torch.no_grad()
def attention_maps(model, idx) -> np.ndarray:
    """(layers, heads, time, time) attention weights of a GPT2 on one sequence idx (1, time)."""
    attentions = [block.attn for block in model.blocks]
    model.eval()
    for attn in attentions:
        attn.fused = False
    try:
        model(idx)
        return np.stack([attn.last_weights[0].float().numpy() for attn in attentions])
    finally:
        for attn in attentions:
            attn.fused, attn.last_weights = True, None
