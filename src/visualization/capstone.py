"""The capstone's figures: confusion matrices, F1 per repository, MiniLM's fine-tuning curves."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from src.capstone.data import LABELS


def confusion_matrices(matrices: dict[str, np.ndarray]):
    """One panel per model; rows are true labels, columns predictions, cells the share of the true class."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 3.8), squeeze=False)
    for ax, (model, counts) in zip(axes[0], matrices.items(), strict=True):
        shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(counts):
            ax.text(
                j,
                i,
                f"{count}\n{shares[i, j]:.0%}",
                ha="center",
                va="center",
                color="white" if shares[i, j] > 0.6 else "black",
                fontsize=9,
            )
        ax.set(
            xticks=range(len(LABELS)),
            yticks=range(len(LABELS)),
            xticklabels=LABELS,
            yticklabels=LABELS,
            xlabel="predicted",
            ylabel="true",
            title=f"{model} (out-of-fold)",
        )
    fig.tight_layout()
    return fig


def f1_by_repository(reports: dict[str, pd.DataFrame], baselines: dict[str, float]):
    """Macro F1 per repository and the mean (the benchmark's headline), per model, with published baselines."""
    rows = [name for name in next(iter(reports.values())).index if name != "overall"]
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(reports)
    for k, (model, report) in enumerate(reports.items()):
        ax.bar(np.arange(len(rows)) + k * width, report.loc[rows, "macro.f1"], width, label=model)
    for name, score in baselines.items():
        ax.axhline(score, ls="--", lw=1, color="gray")
        ax.text(len(rows) - 0.4, score, f" {name} {score}", va="center", fontsize=8, color="gray")
    ax.set_xticks(np.arange(len(rows)) + 0.4 - width / 2, rows, rotation=15)
    ax.set(ylabel="macro F1 (cross-validated)", ylim=(0.4, 1.0), title="Macro F1 per repository")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def fine_tuning_curves(losses: dict[int, list[float]]):
    """Training loss per epoch of each CV fold: are more epochs worth their CPU time?"""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for fold, curve in losses.items():
        ax.plot(range(1, len(curve) + 1), curve, "o-", label=f"fold {fold}")
    ax.set(xlabel="epoch", ylabel="mean cross-entropy", title="MiniLM fine-tuning (top layers)")
    ax.legend()
    fig.tight_layout()
    return fig
