"""Day 6's figures (attention, GPT, BERT): validation loss against training time, attention cost against sequence
length (log-log, fitted slopes), attention heatmaps, the positional-encoding ablation and BERT against baselines.

Inputs are plain lists, dicts and NumPy arrays."""

import matplotlib.pyplot as plt
import numpy as np


def loss_vs_time(curves: dict[str, dict[str, list[float]]], references: dict[str, float]):
    """Validation loss against seconds of training, one line per model; horizontal lines for reference losses
    (the nanoGPT anchor, the target). Look for which model is lowest at a given time, not at a given step."""
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, curve in curves.items():
        ax.plot(curve["seconds"], curve["val_loss"], marker="o", label=name)
    for i, (label, value) in enumerate(references.items()):
        ax.axhline(value, color=f"C{7 + i}", linestyle="--", linewidth=1, label=f"{label} ({value:.3f})")
    ax.set(xlabel="training seconds (wall clock)", ylabel="validation loss (nats / char)", xscale="log")
    ax.set_title("Tiny Shakespeare, character level: validation loss vs training time")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def attention_scaling(rows: list[dict], slopes: dict[str, dict[str, float]]):
    """Time and peak memory against sequence length on log-log axes: a slope of 2 is O(n^2), of 1 is O(n)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, key, label in ((axes[0], "seconds", "forward time (s)"), (axes[1], "peak_mib", "peak extra memory (MiB)")):
        for i, name in enumerate(sorted({r["implementation"] for r in rows})):
            points = [(r["seq_len"], r[key]) for r in rows if r["implementation"] == name and r[key] > 0]
            if not points:
                continue
            n, y = zip(*points, strict=True)
            ax.plot(n, y, marker="o", color=f"C{i}", label=f"{name} (fitted slope {slopes[name][key]:.2f})")
        ax.set(xscale="log", yscale="log", xlabel="sequence length n", ylabel=label)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle("Attention cost vs sequence length: naive (n x n matrix) vs fused scaled_dot_product_attention")
    return fig


def attention_heatmaps(weights: np.ndarray, text: str):
    """A layer x head grid of attention weights (query rows, key columns) of a GPT on one text; causal, so the
    upper triangle is empty. Look for heads that attend to the previous character, to word starts, to spaces."""
    layers, heads = weights.shape[:2]
    fig, axes = plt.subplots(layers, heads, figsize=(2.6 * heads, 2.6 * layers), squeeze=False)
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer, head]
            ax.imshow(weights[layer, head], cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=9)
    shown = text.replace("\n", "\\n")
    fig.suptitle(f"GPT attention weights on {shown!r}" if len(shown) < 70 else "GPT attention weights", fontsize=10)
    return fig


def positional_ablation(rows: list[dict]):
    """Validation loss per positional encoding at the training length and at twice it (missing bar: the model
    cannot run there)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = [r["positional"] for r in rows]
    x = np.arange(len(names))
    for offset, key, label in ((-0.2, "val_loss", "at block size"), (0.2, "val_loss_2x", "at 2x block size")):
        values = [r[key] if r[key] is not None else np.nan for r in rows]
        ax.bar(x + offset, values, width=0.4, label=label)
        for xi, v in zip(x + offset, values, strict=True):
            ax.text(xi, 0.02 if np.isnan(v) else v, "n/a" if np.isnan(v) else f"{v:.2f}", ha="center", va="bottom")
    ax.set_xticks(x, names)
    ax.set(ylabel="validation loss (nats / char)", title="Positional encodings at equal training time")
    ax.legend()
    return fig


def mlm_accuracy(values: dict[str, float]):
    """Masked-character accuracy of BERT against context-free baselines."""
    fig, ax = plt.subplots(figsize=(7, 4))
    names, accuracies = list(values), list(values.values())
    ax.barh(names, accuracies, color=["C0"] + ["C7"] * (len(names) - 1))
    for i, a in enumerate(accuracies):
        ax.text(a, i, f" {a:.1%}", va="center")
    ax.set(xlabel="accuracy on masked characters (validation text)", xlim=(0, 1))
    ax.set_title("BERT masked-language model vs baselines")
    return fig
