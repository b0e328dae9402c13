"""Day 5 figures: accuracy against wall time, per-class accuracy, confusion matrix, misclassified CIFAR images,
first-layer filters, ablation curves. Each function returns a matplotlib Figure; the stage records it."""

import math

import matplotlib.pyplot as plt
import numpy as np

from src.visualization.deep_learning import confusion_matrix_counts


def accuracy_vs_time(curves: dict[str, list[dict]], target: float | None = None, budget_seconds: float | None = None):
    """Accuracy after every epoch against cumulative training seconds (left) and epochs (right)."""
    fig, (ax_time, ax_epoch) = plt.subplots(1, 2, figsize=(11, 4))
    for name, history in curves.items():
        rows = [r for r in history if "eval_accuracy" in r]
        ax_time.plot([r["seconds"] / 60 for r in rows], [r["eval_accuracy"] for r in rows], "o-", label=name)
        ax_epoch.plot([r["epoch"] for r in rows], [r["eval_accuracy"] for r in rows], "o-", label=name)
    for ax in (ax_time, ax_epoch):
        if target is not None:
            ax.axhline(target, color="grey", ls="--", lw=1, label=f"target {target:.0%}")
        ax.set_ylabel("test accuracy (no TTA)")
        ax.grid(alpha=0.3)
    if budget_seconds:
        ax_time.axvline(budget_seconds / 60, color="red", ls=":", lw=1, label="time budget")
    ax_time.set_xlabel("training minutes")
    ax_epoch.set_xlabel("epoch")
    ax_time.legend(fontsize=8)
    fig.suptitle("CIFAR-10: accuracy after every epoch")
    fig.tight_layout()
    return fig


def per_class_accuracy(predictions: dict[str, tuple[np.ndarray, np.ndarray]], classes):
    """Grouped bars: for each class, the share of its test images each model gets right.
    predictions: {model: (y_true, y_pred)} (models may be scored on different test subsets)."""
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(predictions)
    for i, (name, (y_true, y_pred)) in enumerate(predictions.items()):
        rates = [np.mean(y_pred[y_true == c] == c) for c in range(len(classes))]
        ax.bar(np.arange(len(classes)) + i * width, rates, width, label=name)
    ax.set_xticks(np.arange(len(classes)) + width * (len(predictions) - 1) / 2, classes, rotation=30)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy on the class's test images")
    ax.legend(fontsize=8)
    ax.set_title("Per-class test accuracy")
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, classes, title: str):
    counts = confusion_matrix_counts(y_true, y_pred, len(classes))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(counts / np.maximum(counts.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=7, color="black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="share of the true class")
    fig.tight_layout()
    return fig


def misclassified_grid(images, y_true, y_pred, confidence, classes, max_images: int = 24, title: str = ""):
    """The most confidently wrong test images, with 'true -> predicted (confidence)' above each."""
    wrong = np.flatnonzero(y_true != y_pred)
    wrong = wrong[np.argsort(-confidence[wrong])][:max_images]
    cols = min(8, max(len(wrong), 1))
    rows = max(math.ceil(len(wrong) / cols), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong, strict=False):
        ax.imshow(images[i], interpolation="nearest")
        ax.set_title(f"{classes[y_true[i]]}\n-> {classes[y_pred[i]]} ({confidence[i]:.2f})", fontsize=7)
    fig.suptitle(title or "Most confident mistakes (true -> predicted)")
    fig.tight_layout()
    return fig


def first_layer_filters(filters: dict[str, np.ndarray]):
    """Each model's first-layer filters (F, 3, k, k) as small RGB images, each scaled to its own range."""
    fig, axes = plt.subplots(len(filters), 1, figsize=(12, 1.8 * len(filters)), squeeze=False)
    for ax, (name, weights) in zip(axes[:, 0], filters.items(), strict=True):
        f, _, k, _ = weights.shape
        cols = min(f, 32)
        rows = math.ceil(f / cols)
        canvas = np.ones((rows * (k + 1), cols * (k + 1), 3))
        for i, w in enumerate(weights):
            w = w.transpose(1, 2, 0)
            w = (w - w.min()) / (w.max() - w.min() + 1e-12)
            r, c = divmod(i, cols)
            canvas[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = w
        ax.imshow(canvas, interpolation="nearest")
        ax.set_title(f"{name}: {f} filters of {k}x{k}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def ablation_curves(groups: dict[str, dict[str, list[dict]]], key: str = "train_loss"):
    """One panel per ablation (skip connections, batch norm, augmentation), one line per variant: `key` by
    epoch, solid, and test accuracy by epoch, dashed, on a second axis."""
    fig, axes = plt.subplots(1, len(groups), figsize=(5.2 * len(groups), 4), squeeze=False)
    for ax, (group, runs) in zip(axes[0], groups.items(), strict=True):
        right = ax.twinx()
        for i, (name, history) in enumerate(runs.items()):
            color = f"C{i}"
            epochs = [r["epoch"] for r in history]
            ax.plot(epochs, [r[key] for r in history], "-o", color=color, ms=3, label=f"{name} {key}")
            if all("eval_accuracy" in r for r in history):
                right.plot(epochs, [r["eval_accuracy"] for r in history], "--", color=color, label=f"{name} test acc")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{key} (solid)")
        right.set_ylabel("test accuracy (dashed)")
        ax.set_title(group)
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig
