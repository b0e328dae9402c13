"""Day 8's figures: bandit regret curves, traffic share over time (bandit and canary), CV with and without leakage."""

import matplotlib.pyplot as plt
import numpy as np

# DataWraith/banditbench's published mean regrets (10 Bernoulli arms, means ~ U[0, 1], horizon 500).
BANDITBENCH = {"thompson": 28.9, "kl_ucb": 29.6, "epsilon_greedy": 35.8, "ucb1": 86.8, "random": 204.0}


def regret_curves(steps, curves: dict[str, tuple[np.ndarray, np.ndarray]], horizon: int):
    """Mean cumulative regret by pull with a 95% band; the published final regrets as markers."""
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for name, (mean, half) in curves.items():
        line = ax.plot(steps, mean, label=name)[0]
        ax.fill_between(steps, mean - half, mean + half, color=line.get_color(), alpha=0.2)
        if name in BANDITBENCH:
            ax.plot([horizon], [BANDITBENCH[name]], marker="D", color=line.get_color(), ms=6)
    ax.set(xlabel="pull", ylabel="cumulative regret (mean, 95% CI)", yscale="log", ylim=(1, None))
    ax.set_title("Bandits on 10 Bernoulli arms, means ~ U[0,1] (diamonds: banditbench's published finals)")
    ax.legend()
    return fig


def traffic_share(bandit_curve, canary_good, canary_bad, window: int):
    """Left: the challenger's share of the last `window` requests under Thompson sampling. Right: the challenger's
    cumulative share under a canary, for a better and a worse challenger (which rolls back)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(np.arange(1, len(bandit_curve) + 1), bandit_curve)
    left.axhline(0.5, color="k", lw=0.6, ls=":")
    left.set(xlabel="request", ylabel=f"challenger share of the last {window} requests", ylim=(0, 1))
    left.set_title("Thompson sampling: traffic moves to the better model")
    for rows, label in ((canary_good, "better challenger"), (canary_bad, "worse challenger")):
        right.plot([r["request"] for r in rows], [r["challenger_share"] for r in rows], label=label)
    right.set(xlabel="request", ylabel="challenger share so far")
    right.set_title("Canary: fixed share, automatic rollback")
    right.legend()
    return fig


def leakage(scores: dict[str, dict[str, float]]):
    """Cross-validated mean per-repository macro F1 by feature join, for each model."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    joins = list(dict.fromkeys(j for model in scores.values() for j in model))
    x = np.arange(len(joins))
    width = 0.8 / len(scores)
    for i, (model, by_join) in enumerate(scores.items()):
        values = [by_join.get(j, np.nan) for j in joins]
        bars = ax.bar(x + (i - (len(scores) - 1) / 2) * width, values, width, label=model)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(x, joins)
    ax.set(ylabel="CV mean per-repository macro F1", ylim=(0, 1))
    ax.set_title("Repository features: point-in-time join vs leaking joins vs none")
    ax.legend()
    return fig
