"""Day 4's figures (MNIST, deep learning): training curves, the confusion matrix, the misclassified digits, the
first layer's filters, gradient norms per layer at initialisation, and accuracy against training speed.

Inputs are plain NumPy arrays, lists and dicts, so the figures do not depend on the autograd engine or on PyTorch."""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm

LOSS_FLOOR = 1e-8  # losses are drawn on a log scale: a loss of exactly 0 sits on this floor


def training_curves(histories: dict[str, dict[str, list[float]]]):
    """Loss (log scale) and accuracy per epoch, one colour per model, training solid and validation dashed.
    Look for a validation curve that leaves its training curve (overfitting) and for which model gets there first."""
    if not histories:
        raise ValueError("training_curves needs at least one model's history, e.g. {'scratch_mlp': {'loss': [...]}}.")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, (model, history) in enumerate(histories.items()):
        missing = [key for key in ("loss", "accuracy") if key not in history]
        if missing:
            raise ValueError(f"history of '{model}' lacks {missing}; it has {sorted(history)}.")
        colour = f"C{i % 10}"
        for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            for split, style in (("", "-"), ("val_", "--")):
                values = np.asarray(history.get(split + key, []), dtype=float)
                if values.size == 0:
                    continue
                if key == "loss":
                    values = np.clip(values, LOSS_FLOOR, None)
                epochs = np.arange(1, values.size + 1)
                label = f"{model} ({'validation' if split else 'train'})"
                ax.plot(epochs, values, style, color=colour, marker="o", ms=3, label=label)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss (log)", yscale="log", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax_acc.legend(fontsize=8, loc="lower right")
    fig.suptitle("Training curves: solid = train, dashed = validation")
    fig.tight_layout()
    return fig


def confusion_matrix_counts(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """counts[i, j] = number of images of true class i predicted as class j (rows = true class)."""
    y_true, y_pred = _labels(y_true, y_pred, n_classes)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_matrix(y_true, y_pred, title: str):
    """Each row normalised to rates (colour, square-root scale so that rare confusions still show) with the counts
    written in the cells. Off-diagonal cells are the mistakes: look for the pairs that share strokes (4/9, 3/5, 7/2)."""
    if np.size(y_true) == 0:
        raise ValueError("confusion_matrix needs at least one prediction; y_true is empty.")
    n_classes = max(10, int(np.max(y_true)) + 1, int(np.max(y_pred)) + 1)  # 10 digits unless the labels say more
    counts = confusion_matrix_counts(y_true, y_pred, n_classes)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    accuracy = np.trace(counts) / counts.sum()
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    image = ax.imshow(rates, cmap="Blues", norm=PowerNorm(gamma=0.5, vmin=0.0, vmax=1.0))
    for i, j in zip(*np.nonzero(counts), strict=True):
        ax.text(
            j, i, str(counts[i, j]), ha="center", va="center", fontsize=7, color="white" if rates[i, j] > 0.4 else "k"
        )
    ticks = np.arange(n_classes)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.set_title(f"{title}\naccuracy {accuracy:.4f} on {counts.sum():,} images (cells: counts)")
    fig.colorbar(image, ax=ax, label="fraction of the true class (square-root scale)", shrink=0.85)
    return fig


def misclassified_grid(images, y_true, y_pred, confidence=None, max_images: int = 36, title: str = ""):
    """The first misclassified digits, each titled true→predicted (and the model's confidence in its wrong answer).
    Look for digits a person would also hesitate on, and for confident mistakes, which hint at a real weakness."""
    if max_images < 1:
        raise ValueError(f"max_images must be at least 1, got {max_images}.")
    images = _digit_images(images)
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if not len(images) == len(y_true) == len(y_pred):
        raise ValueError(
            f"images, y_true and y_pred must have one entry per image; got {len(images)}, {len(y_true)}, {len(y_pred)}."
        )
    if confidence is not None:
        confidence = np.asarray(confidence, dtype=float).ravel()
        if len(confidence) != len(images):
            raise ValueError(f"confidence must have one value per image ({len(images)}), got {len(confidence)}.")
    wrong = np.flatnonzero(y_true != y_pred)
    heading = f"{title}: " if title else ""
    if wrong.size == 0:
        fig, ax = plt.subplots(figsize=(5, 2))
        ax.text(0.5, 0.5, f"No misclassified images among {len(images):,}.", ha="center", va="center")
        ax.set_axis_off()
        fig.suptitle(f"{heading}misclassified digits")
        return fig
    shown = wrong[:max_images]
    n_cols = math.ceil(math.sqrt(shown.size))
    n_rows = math.ceil(shown.size / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.3 * n_cols + 0.4, 1.45 * n_rows + 0.7), squeeze=False)
    for ax in axes.ravel()[shown.size :]:
        fig.delaxes(ax)  # the grid's unused cells: keep exactly one axes per misclassified image
    for ax, index in zip(axes.ravel(), shown, strict=False):
        ax.imshow(images[index], cmap="Greys")
        label = f"{y_true[index]}→{y_pred[index]}"
        if confidence is not None:
            label += f" ({confidence[index]:.2f})"
        ax.set_title(label, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{heading}first {shown.size} of {wrong.size:,} misclassified (true→predicted)", fontsize=11)
    fig.tight_layout()
    return fig


def first_layer_filters(filters: dict[str, np.ndarray]):
    """The first convolution's kernels (input channel 0), one row block per model, red = positive weight and
    blue = negative, on a scale symmetric around 0 for each model. Trained filters look like stroke and edge
    detectors (a positive side next to a negative side); filters that still look like noise have learnt little."""
    if not filters:
        raise ValueError("first_layer_filters needs at least one model's weights, e.g. {'scratch_cnn': W}.")
    for model, weights in filters.items():
        if np.ndim(weights) != 4:
            raise ValueError(
                f"weights of '{model}' must be (F, C, KH, KW) conv weights, got shape {np.shape(weights)}."
            )
    n_cols = min(16, max(len(w) for w in filters.values()))
    block_rows = [math.ceil(len(w) / n_cols) for w in filters.values()]
    fig = plt.figure(
        figsize=(0.8 * n_cols + 3.5, 0.8 * sum(block_rows) + 0.3 * len(filters) + 0.6), layout="constrained"
    )
    # One grid for all models so every kernel gets the same cell size; the last, narrow column holds the colour bars.
    grid = fig.add_gridspec(sum(block_rows), n_cols + 1, width_ratios=[1] * n_cols + [0.2])
    first_row = 0
    for (model, weights), n_rows in zip(filters.items(), block_rows, strict=True):
        kernels = np.asarray(weights, dtype=float)[:, 0]
        scale = float(np.max(np.abs(kernels))) or 1.0  # an all-zero layer still gets a valid colour scale
        for f, kernel in enumerate(kernels):
            ax = fig.add_subplot(grid[first_row + f // n_cols, f % n_cols])
            image = ax.imshow(kernel, cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_xticks([])
            ax.set_yticks([])
            if f == 0:
                label = f"{model}\n{len(kernels)} filters {kernels.shape[1]}x{kernels.shape[2]}"
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        colour_bar = fig.colorbar(image, cax=fig.add_subplot(grid[first_row : first_row + n_rows, -1]))
        colour_bar.ax.tick_params(labelsize=7)
        first_row += n_rows
    fig.suptitle(
        "First convolution layer's filters (input channel 0); colour = weight, red > 0 > blue, scale per model"
    )
    return fig


def gradient_norms(rows: list[dict]):
    """Norm of the loss gradient with respect to each layer's weights at initialisation, one line per setting.
    Read it from the output (right) to the input (layer 1, left): a line that falls toward layer 1 means the
    gradient vanishes on its way back, one that rises means it explodes; a flat line is a healthy initialisation."""
    if not rows:
        raise ValueError("gradient_norms needs rows with 'setting', 'layer' and 'grad_norm'.")
    norms = np.array([float(r["grad_norm"]) for r in rows])
    usable = norms[np.isfinite(norms) & (norms > 0)]
    # Zero, inf and nan cannot sit on a log axis: draw them on a floor / ceiling one decade past the data.
    floor = usable.min() / 10 if usable.size else 1e-12
    ceiling = usable.max() * 10 if usable.size else 1e12
    fig, ax = plt.subplots(figsize=(10, 5))
    clipped_low = clipped_high = False
    for i, setting in enumerate(dict.fromkeys(r["setting"] for r in rows)):
        mine = sorted((r for r in rows if r["setting"] == setting), key=lambda r: r["layer"])
        layers = np.array([r["layer"] for r in mine])
        values = np.array([float(r["grad_norm"]) for r in mine])
        low = np.isfinite(values) & (values <= floor)
        high = ~np.isfinite(values) | (values >= ceiling)
        drawn = np.where(low, floor, np.where(high, ceiling, values))
        colour = f"C{i % 10}"
        ax.plot(layers, drawn, "o-", color=colour, label=setting)
        ax.plot(layers[low], drawn[low], "v", color=colour, ms=10)
        ax.plot(layers[high], drawn[high], "^", color=colour, ms=10)
        clipped_low |= bool(low.any())
        clipped_high |= bool(high.any())
    ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="layer (1 = closest to the input)", ylabel="‖∂loss/∂W‖ at initialisation (log)")
    notes = []
    if clipped_low:
        notes.append(f"▼ = 0 or below {floor:.1e}, drawn at {floor:.1e}")
    if clipped_high:
        notes.append(f"▲ = inf/nan or above {ceiling:.1e}, drawn at {ceiling:.1e}")
    subtitle = (
        "Falls toward layer 1 (the input): vanishing gradients. Rises toward layer 1: exploding.\n"
        "Healthy: level and of order 1 (a level line far above or below 1 makes training stall or blow up)."
    )
    ax.set_title("\n".join([subtitle, *notes]), fontsize=9)
    fig.suptitle("Gradient norm per layer at initialisation")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="setting")
    fig.tight_layout()
    return fig


def model_comparison(rows: list[dict]):
    """Test accuracy (zoomed axis) and training throughput per model, side by side: the from-scratch models pay
    in images per second for being readable, and the accuracy panel shows what (if anything) that costs."""
    if not rows:
        raise ValueError("model_comparison needs rows with 'model', 'test_accuracy', 'images_per_second'.")
    models = [r["model"] for r in rows]
    accuracy = np.array([float(r["test_accuracy"]) for r in rows])
    speed = np.array([float(r["images_per_second"]) for r in rows])
    seconds = [float(r["train_seconds"]) for r in rows]
    y = np.arange(len(rows))
    fig, (ax_acc, ax_speed) = plt.subplots(1, 2, figsize=(12, 0.55 * len(rows) + 2), sharey=True)
    ax_acc.barh(y, accuracy, color="tab:blue")
    lowest = max(0.0, accuracy.min() - 0.01)
    for yi, value in zip(y, accuracy, strict=True):
        inside = value - lowest > 0.25 * (1.0 - lowest)  # a short bar gets its value outside, after its end
        ax_acc.text(
            value,
            yi,
            f" {value:.4f} " if inside else f" {value:.4f}",
            ha="right" if inside else "left",
            va="center",
            color="white" if inside else "k",
        )
    ax_acc.set(xlim=(lowest, 1.0), xlabel="test accuracy (zoomed axis)", title="Test accuracy")
    ax_speed.barh(y, speed, color="tab:orange")
    log_speed = speed.min() > 0 and speed.max() / speed.min() >= 50
    for yi, value, secs in zip(y, speed, seconds, strict=True):
        duration = f"{secs:,.0f} s" if secs >= 10 else f"{secs:.1f} s"
        ax_speed.text(value, yi, f" {value:,.0f} img/s ({duration})", ha="left", va="center", fontsize=9)
    if log_speed:
        ax_speed.set(xscale="log", xlim=(speed.min() / 2, speed.max() * 15))
    else:
        ax_speed.set(xlim=(0, speed.max() * 1.45))
    ax_speed.set(
        xlabel=f"training images per second{' (log)' if log_speed else ''}", title="Training throughput (total time)"
    )
    ax_acc.set_yticks(y, models)
    ax_acc.invert_yaxis()  # first row on top
    for ax in (ax_acc, ax_speed):
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("Models on MNIST")
    fig.tight_layout()
    return fig


def _labels(y_true, y_pred, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}.")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class labels, got dtype {labels.dtype}; pass argmax(...).")
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"{name} has labels outside 0..{n_classes - 1} (min {labels.min()}, max {labels.max()}).")
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def _digit_images(images) -> np.ndarray:
    """(n, H, W) from (n, H, W), a CNN's (n, 1, H, W), or flat square images (n, H*W)."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 4 and images.shape[1] == 1:
        return images[:, 0]
    if images.ndim == 2 and math.isqrt(images.shape[1]) ** 2 == images.shape[1]:
        side = math.isqrt(images.shape[1])
        return images.reshape(-1, side, side)
    if images.ndim == 3:
        return images
    raise ValueError(f"images must be (n, H, W), (n, 1, H, W) or (n, H*W) square, got shape {images.shape}.")
