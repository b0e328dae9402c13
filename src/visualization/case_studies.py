"""Day 9's figures: ROC and PR curves, reliability diagrams, profit and cost against the threshold, SHAP
summaries and individual explanations, and the three designs' architecture diagrams."""

import matplotlib.pyplot as plt
from sklearn.metrics import precision_recall_curve, roc_curve


def roc_pr(scores: dict, y, title: str, sample_weight=None, weight_label: str = ""):
    """ROC (left) and precision-recall (right) per model from {model: proba}; with sample_weight a dashed PR
    curve per model at the weighted class mix (the real prevalence)."""
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.6))
    for i, (name, proba) in enumerate(scores.items()):
        color = f"C{i}"
        fpr, tpr, _ = roc_curve(y, proba)
        ax_roc.plot(fpr, tpr, color=color, label=name)
        precision, recall, _ = precision_recall_curve(y, proba)
        ax_pr.plot(recall, precision, color=color, label=f"{name} (sample)")
        if sample_weight is not None:
            precision, recall, _ = precision_recall_curve(y, proba, sample_weight=sample_weight)
            ax_pr.plot(recall, precision, color=color, ls="--", label=f"{name} ({weight_label})")
    ax_roc.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out-of-fold)")
    ax_pr.set(xlabel="recall", ylabel="precision", title="Precision-recall (out-of-fold)", ylim=(0, 1.02))
    ax_roc.legend(loc="lower right", fontsize=8)
    ax_pr.legend(loc="lower left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def reliability(curves: dict, title: str):
    """Reliability diagram: {label: rows of reliability_curve}; the diagonal is perfect calibration."""
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfectly calibrated")
    for i, (label, rows) in enumerate(curves.items()):
        ls = "--" if "before" in label else "-"
        ax.plot(
            [r["mean_predicted"] for r in rows],
            [r["observed_rate"] for r in rows],
            marker="o",
            ls=ls,
            color=f"C{i // 2}",
            label=label,
        )
    ax.set(xlabel="mean predicted probability (bin)", ylabel="observed rate", title=title, xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=8)
    return fig


def profit_curve(rows: list[dict], best: tuple[float, float], everybody: float, title: str):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([r["threshold"] for r in rows], [r["profit"] for r in rows], label="offer when p >= threshold")
    ax.axhline(0, color="k", lw=0.8, label="offer to nobody ($0)")
    ax.axhline(everybody, color="tab:red", ls="--", label=f"offer to everybody (${everybody:,.0f})")
    ax.plot([best[0]], [best[1]], "o", color="tab:green", label=f"best: t={best[0]:.2f}, ${best[1]:,.0f}")
    ax.set(xlabel="threshold on calibrated churn probability", ylabel="profit ($, out-of-fold customers)", title=title)
    ax.legend(fontsize=8)
    return fig


def cost_curve(curves: dict, baselines: dict, title: str):
    """Expected cost per 100k transactions vs threshold, one line per policy, baselines as horizontal lines."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, rows in curves.items():
        ax.plot([r["threshold"] for r in rows], [r["cost"] for r in rows], label=label)
    for i, (label, value) in enumerate(baselines.items()):
        ax.axhline(value, color=f"C{i + 3}", ls=":", label=f"{label} (${value:,.0f})")
    ax.set(
        xlabel="threshold on the model's score (trained at the sample's 19.7 %)",
        ylabel="$ per 100k transactions (real prevalence)",
        title=title,
        yscale="log",
    )
    ax.legend(fontsize=8)
    return fig


def shap_summary(explanation, max_display: int, title: str):
    import shap

    shap.summary_plot(explanation, max_display=max_display, show=False, plot_size=(8, 6))
    fig = plt.gcf()
    fig.suptitle(title)
    return fig


def shap_customer(explanation_row, max_display: int, title: str):
    import shap

    shap.plots.waterfall(explanation_row, max_display=max_display, show=False)
    fig = plt.gcf()
    fig.set_size_inches(8, 5.5)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def architecture(columns: list[list[str]], title: str, notes: list[str] = ()):
    """A left-to-right architecture diagram: each column a tier of boxes, arrows from every box to the next tier
    (the same graph as the design document's Mermaid block)."""
    import textwrap

    rows = max(len(c) for c in columns)
    fig, ax = plt.subplots(figsize=(max(1.9 * len(columns), 8), 1.2 * rows + 1.4))
    ax.set_xlim(0, len(columns))
    ax.set_ylim(-0.2 - 0.3 * len(notes), rows + 0.2)
    ax.axis("off")
    centres = []
    for i, column in enumerate(columns):
        ys = [rows - (j + 0.5) * rows / len(column) for j in range(len(column))]
        centres.append([(i + 0.5, y) for y in ys])
        for (x, y), label in zip(centres[-1], column, strict=True):
            box = {"boxstyle": "round,pad=0.4", "fc": "#e8f0fe", "ec": "#3367d6"}
            ax.text(x, y, textwrap.fill(label, 14), ha="center", va="center", fontsize=8, bbox=box)
    for left, right in zip(centres, centres[1:], strict=False):
        for x0, y0 in left:
            for x1, y1 in right:
                arrow = {"arrowstyle": "->", "color": "0.4", "lw": 0.8}
                ax.annotate("", xy=(x1 - 0.36, y1), xytext=(x0 + 0.36, y0), arrowprops=arrow)
    for j, note in enumerate(notes):
        ax.text(0.05, -0.1 - 0.3 * j, note, fontsize=8, ha="left", va="center")
    ax.set_title(title)
    return fig
