"""Day 3's figures: model comparison, decision boundaries, bias-variance by depth, OOB error by number of trees,
entropy vs gini, and the SVM margin with its support vectors. Each draws from scratch next to scikit-learn."""

import matplotlib.pyplot as plt
import numpy as np

from src.ml.classical.decision_tree import CRITERIA, impurity


def comparison(rows: list[dict]):
    """Cross-validated accuracy (top) and fit-time ratio (bottom, log) per model and dataset."""
    pairs = list(dict.fromkeys((r["model"], r["dataset"]) for r in rows))
    by_key = {(r["model"], r["dataset"], r["implementation"]): r for r in rows}
    x = np.arange(len(pairs))
    fig, (ax_acc, ax_time) = plt.subplots(2, 1, figsize=(max(8, 0.6 * len(pairs)), 8), sharex=True)
    for offset, implementation in ((-0.2, "scratch"), (0.2, "sklearn")):
        accuracy = [by_key[(m, d, implementation)]["cv_accuracy"] for m, d in pairs]
        ax_acc.bar(x + offset, accuracy, 0.4, label=implementation)
    ratios = [by_key[(m, d, "scratch")]["fit_seconds"] / by_key[(m, d, "sklearn")]["fit_seconds"] for m, d in pairs]
    ax_time.bar(x, ratios, 0.6, color="tab:red")
    ax_time.axhline(1, color="k", lw=0.8)
    lowest = min(r["cv_accuracy"] for r in rows)
    ax_acc.set(ylabel="k-fold CV accuracy", ylim=(max(0.0, lowest - 0.05), 1.0))
    ax_acc.set_title("From scratch vs scikit-learn")
    ax_acc.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax_time.set(ylabel="fit time ratio (scratch / sklearn)", yscale="log")
    ax_time.set_xticks(x, [f"{m}\n{d}" for m, d in pairs], rotation=60, ha="right", fontsize=8)
    return fig


def decision_boundaries(result: dict, labels, title: str):
    """One column per model, from scratch on top and scikit-learn below, on the same 2-D projection."""
    models = list(dict.fromkeys(m for m, _ in result["regions"]))
    fig, axes = plt.subplots(2, len(models), figsize=(3.2 * len(models), 6.4), squeeze=False)
    for col, model in enumerate(models):
        for row, implementation in enumerate(("scratch", "sklearn")):
            ax = axes[row, col]
            ax.contourf(
                result["xx"], result["yy"], result["regions"][(model, implementation)], alpha=0.3, cmap="viridis"
            )
            ax.scatter(*result["points"].T, c=labels, s=8, cmap="viridis", edgecolors="k", linewidths=0.2)
            accuracy = result["accuracy"][(model, implementation)]
            ax.set_title(f"{implementation} {model}\ntrain acc {accuracy:.3f}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title)
    return fig


def depth_vs_accuracy(rows: list[dict], dataset: str):
    """Bias-variance: train accuracy climbs to 1 with depth while test accuracy levels off or falls."""
    depth = [r["depth"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for implementation, style in (("scratch", "-"), ("sklearn", "--")):
        for split, marker in (("train", "o"), ("test", "s")):
            ax.plot(
                depth,
                [r[f"{implementation}_gini_{split}"] for r in rows],
                style,
                marker=marker,
                label=f"{implementation} gini, {split}",
            )
    ax.set(xlabel="max_depth", ylabel="accuracy", title=f"Depth vs accuracy (bias-variance), {dataset}")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def oob_error(rows: list[dict], dataset: str):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    n_trees = [r["n_trees"] for r in rows]
    for implementation in ("scratch", "sklearn"):
        ax.plot(n_trees, [r[implementation] for r in rows], label=implementation)
    ax.set(xlabel="number of trees", ylabel="out-of-bag error", title=f"Random forest OOB error, {dataset}")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def entropy_vs_gini(rows: list[dict], dataset: str):
    """Left: the impurities of a two-class node against p (entropy/2 and Gini nearly coincide, so they mostly
    pick the same splits). Right: test accuracy by depth for each splitting criterion."""
    p = np.linspace(0, 1, 201)
    weights = np.column_stack([p, 1 - p])
    fig, (ax_imp, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax_imp.plot(p, impurity(weights, "entropy"), label="entropy (bits)")
    ax_imp.plot(p, impurity(weights, "entropy") / 2, ":", label="entropy / 2")
    ax_imp.plot(p, impurity(weights, "gini"), label="Gini")
    ax_imp.plot(p, 1 - np.maximum(p, 1 - p), "--", label="misclassification")
    ax_imp.set(xlabel="p (fraction of class 1)", ylabel="impurity", title="Impurity of a two-class node")
    depth = [r["depth"] for r in rows]
    for criterion in CRITERIA:
        ax_acc.plot(depth, [r[f"scratch_{criterion}_test"] for r in rows], "o-", label=f"scratch {criterion}")
    for criterion in ("gini", "entropy"):
        ax_acc.plot(depth, [r[f"sklearn_{criterion}_test"] for r in rows], "--", label=f"sklearn {criterion}")
    ax_acc.set(xlabel="max_depth", ylabel="test accuracy", title=f"Splitting criteria, {dataset}")
    for ax in (ax_imp, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def svm_margin(X2, y, margins: dict, C: float):
    """The separating line f(x) = 0, the margins f(x) = +-1, and the support vectors circled, both ways."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True, sharey=True)
    xs = np.linspace(X2[:, 0].min() - 0.5, X2[:, 0].max() + 0.5, 200)
    ys = np.linspace(X2[:, 1].min() - 0.5, X2[:, 1].max() + 0.5, 200)
    xx, yy = np.meshgrid(xs, ys)
    for ax, implementation in zip(axes, ("scratch", "sklearn"), strict=True):
        m = margins[implementation]
        f = m["w"][0] * xx + m["w"][1] * yy + m["b"]
        ax.contour(xx, yy, f, levels=[-1, 0, 1], colors="k", linestyles=["--", "-", "--"])
        ax.scatter(*X2.T, c=y, cmap="coolwarm", s=15)
        ax.scatter(*m["support_vectors"].T, s=80, facecolors="none", edgecolors="k", label="support vectors")
        ax.set(
            title=f"{implementation}: {len(m['support_vectors'])} SVs, dual objective {m['dual_objective']:.4f}",
            xlabel="PC 1",
            ylabel="PC 2",
        )
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Linear SVM, C={C}: margin and support vectors")
    return fig
