"""Benchmark: attention against sequence length and the KV cache's effect on generation, in one process.

    python -m src.llm.benchmark                       # -> reports/bench/day06_transformers.json
    python -m src.llm.benchmark --max-len 1024 --new-tokens 64

1. Attention forward time and peak memory vs sequence length: naive (n x n matrix) vs torch's fused
   scaled_dot_product_attention, with the fitted log-log slopes (src/llm/complexity.py).
2. The from-scratch NumPy attention (day-4 engine) against torch SDPA, forward + backward on the same inputs,
   ratio = NumPy seconds / torch seconds.
3. Generation with and without the KV cache: tokens/s of a GPT2 shaped like the stage's gpt_long (random weights:
   speed does not depend on what was learned), speed-up and whether the tokens are identical.
"""

import argparse
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see pipelines/day06_transformers.py

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import yaml  # noqa: E402

from src import atomic_io  # noqa: E402
from src.benchmark import best_time  # noqa: E402
from src.llm import complexity  # noqa: E402
from src.llm.attention import scaled_dot_product_attention  # noqa: E402
from src.llm.transformer import GPT2  # noqa: E402
from src.ml.deep_learning.tensor import Tensor  # noqa: E402
from src.paths import PARAMS_FILE, REPORTS  # noqa: E402


def numpy_vs_torch(batch: int, heads: int, time: int, dim: int, repeats: int) -> dict:
    """Forward + backward of causal attention, from scratch on the engine and torch SDPA (float32)."""
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(batch, heads, time, dim)).astype(np.float32) for _ in range(3)]
    mask = np.tril(np.ones((time, time), dtype=bool))

    def ours():
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        scaled_dot_product_attention(*tensors, mask=mask).sum().backward()

    def theirs():
        tensors = [torch.from_numpy(a).requires_grad_() for a in arrays]
        F.scaled_dot_product_attention(*tensors, is_causal=True).sum().backward()

    scratch, reference = best_time(ours, repeats), best_time(theirs, repeats)
    shape = [batch, heads, time, dim]
    return {"shape": shape, "numpy_seconds": scratch, "torch_seconds": reference, "ratio": scratch / reference}


def main():
    gpt = yaml.safe_load(PARAMS_FILE.read_text())["day06"]["gpt_long"]
    parser = argparse.ArgumentParser(description="Attention cost vs sequence length; KV-cache generation speed.")
    parser.add_argument("--max-len", type=int, default=4096, help="longest sequence timed")
    parser.add_argument("--new-tokens", type=int, default=120, help="tokens generated with and without the cache")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    lengths = [n for n in (64, 128, 256, 512, 1024, 2048, 4096, 8192) if n <= args.max_len]
    rows = complexity.attention_scaling(lengths, max_seconds=3.0)
    slopes = {}
    for name in ("naive", "sdpa"):
        mine = [r for r in rows if r["implementation"] == name]
        upper = [r for r in mine if r["seq_len"] >= 512] or mine
        slopes[name] = {
            key: complexity.loglog_slope([r["seq_len"] for r in upper], [r[key] for r in upper])
            for key in ("seconds", "peak_mib")
        }
        for r in mine:
            print(f"{name:>5} n={r['seq_len']:>5}: {r['seconds'] * 1e3:9.2f} ms, peak {r['peak_mib']:8.1f} MiB")
        print(f"{name:>5} log-log slopes: time {slopes[name]['seconds']:.2f}, memory {slopes[name]['peak_mib']:.2f}")

    scratch = numpy_vs_torch(8, 4, 128, 32, args.repeats)
    print(f"NumPy attention fwd+bwd {scratch['shape']}: {scratch['ratio']:.2f}x torch SDPA's time")

    torch.manual_seed(0)
    model = GPT2(65, gpt["block_size"], gpt["n_layer"], gpt["n_head"], gpt["n_embd"])
    prompt = torch.randint(0, 65, (1, 8))
    new_tokens = min(args.new_tokens, gpt["block_size"] - prompt.shape[1])
    generation = complexity.generation_speed(model, prompt, new_tokens, args.repeats)
    print(
        f"generation of {new_tokens} tokens: {generation['tokens_per_second_cache']:.0f} tok/s with the KV cache, "
        f"{generation['tokens_per_second_no_cache']:.0f} without, speed-up {generation['speedup']:.2f}x, "
        f"identical tokens: {bool(generation['identical_tokens'])}"
    )
    path = atomic_io.write_json(
        REPORTS / "bench" / "day06_transformers.json",
        {
            "attention_scaling": rows,
            "slopes": slopes,
            "numpy_vs_torch_attention": scratch,
            "kv_cache_generation": {**generation, "new_tokens": new_tokens, "model": gpt},
            "threads": torch.get_num_threads(),
        },
    )
    print("->", path)


if __name__ == "__main__":
    main()
