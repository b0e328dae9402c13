"""Day 7's figures: nDCG@10 of every retrieval variant, recall@k curves, HNSW recall against queries per second,
the hybrid's weight on train queries, and the semantic cache's hit rates against its threshold."""

import matplotlib.pyplot as plt


def ndcg_bars(scores: dict[str, float], highlight: tuple[str, ...] = ()):
    names = sorted(scores, key=scores.get)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(names) + 1.5))
    colours = ["tab:orange" if n in highlight else "tab:blue" for n in names]
    ax.barh(names, [scores[n] for n in names], color=colours)
    for i, n in enumerate(names):
        ax.text(scores[n] + 0.005, i, f"{scores[n]:.3f}", va="center", fontsize=8)
    ax.set(xlabel="nDCG@10 on SciFact test (300 queries)", xlim=(0, 1), title="Retrieval variants on BEIR SciFact")
    fig.tight_layout()
    return fig


def recall_curves(ks: list[int], curves: dict[str, list[float]]):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, values in curves.items():
        ax.plot(ks, values, marker="o", ms=3, label=name)
    ax.set(xscale="log", xlabel="k", ylabel="mean recall@k", title="Recall@k, SciFact test", ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ann_tradeoff(rows: list[dict], title: str):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for index, style in (("scratch_hnsw", "o-"), ("hnswlib", "s-")):
        points = sorted((r["recall_at_10"], r["queries_per_second"], r["ef"]) for r in rows if r["index"] == index)
        ax.plot([p[0] for p in points], [p[1] for p in points], style, label=index)
        for recall, qps, ef in points:
            ax.annotate(f"ef={ef}", (recall, qps), fontsize=6, xytext=(2, 2), textcoords="offset points")
    brute = next(r for r in rows if r["index"] == "brute_force")
    ax.axhline(brute["queries_per_second"], color="k", ls="--", label="brute force (exact)")
    ax.set(yscale="log", xlabel="recall@10", ylabel="queries per second (1 thread)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


def fusion_weight(weights: list[float], train_ndcg: list[float], chosen: float):
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(weights, train_ndcg, marker="o")
    ax.axvline(chosen, color="tab:orange", ls="--", label=f"chosen w={chosen:g}")
    ax.set(xlabel="dense weight w (0 = BM25 only, 1 = dense only)", ylabel="nDCG@10, train queries")
    ax.set_title("Weighted fusion: the weight is chosen on train queries")
    ax.legend()
    fig.tight_layout()
    return fig


def cache_thresholds(rows: list[dict], chosen: float):
    fig, ax = plt.subplots(figsize=(6.5, 4))
    thresholds = [r["threshold"] for r in rows]
    for key, label in (
        ("hit_rate", "hit rate"),
        ("paraphrase_hit_rate", "paraphrase hit rate"),
        ("false_hit_rate", "false-hit rate (of hits)"),
    ):
        ax.plot(thresholds, [r[key] for r in rows], marker="o", label=label)
    ax.axvline(chosen, color="k", ls="--", label=f"chosen {chosen:g} (train replay)")
    ax.set(
        xlabel="cosine similarity threshold", ylabel="rate", ylim=(0, 1.02), title="Semantic cache, train-query replay"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def hybrid_vs_parts(scores: dict[str, float]):
    """nDCG@10 of BM25, dense and the fusions, with the better part as a line: does fusion beat it?"""
    names = list(scores)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.bar(names, [scores[n] for n in names], color=["tab:blue", "tab:green"] + ["tab:orange"] * (len(names) - 2))
    best_part = max(scores[names[0]], scores[names[1]])
    ax.axhline(best_part, color="k", ls="--", label=f"better part {best_part:.3f}")
    for i, n in enumerate(names):
        ax.text(i, scores[n] + 0.005, f"{scores[n]:.3f}", ha="center", fontsize=8)
    ax.set(
        ylabel="nDCG@10, SciFact test", ylim=(max(0, min(scores.values()) - 0.1), min(1, max(scores.values()) + 0.05))
    )
    ax.set_title("Hybrid retrieval against its parts")
    ax.legend()
    fig.tight_layout()
    return fig


def training_loss(losses: list[float], group_size: int):
    """The cross-encoder's in-group softmax loss per step, with its moving average and the chance level."""
    import math

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = range(1, len(losses) + 1)
    ax.plot(steps, losses, alpha=0.35, label="loss per step")
    window = max(1, len(losses) // 20)
    if len(losses) >= window:
        smooth = [sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
                  for i in range(len(losses))]  # fmt: skip
        ax.plot(steps, smooth, label=f"moving mean ({window} steps)")
    ax.axhline(math.log(group_size), color="grey", ls="--", label=f"chance (log {group_size})")
    ax.set(xlabel="step", ylabel="cross-entropy of the positive in its group", title="Cross-encoder fine-tuning")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rerank_weight(grid: list[float], scores: list[float], chosen: float):
    """nDCG@10 of the re-ranked dev queries against the cross-encoder's weight (0 = the hybrid alone)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(grid, scores, marker="o")
    ax.axvline(chosen, color="tab:orange", ls="--", label=f"chosen w = {chosen}")
    ax.set(xlabel="cross-encoder weight w (1 = re-ranker alone)", ylabel="nDCG@10, dev queries (held out of training)",
           title="Blending the re-ranker with the hybrid")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
