"""The PyTorch side of day 4: train and evaluate a torch.nn model on exactly the batches NeuralNetwork.fit uses.

Same seed -> same shuffles and the same augmentation draws in the same order as the from-scratch loop
(network.py), so the two CNNs see identical data and their curves and speeds compare like for like.
"""

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from src import atomic_io


def save(model: torch.nn.Module, path: str | Path) -> Path:
    """The model's state_dict to `path`, atomically: a crash mid-write leaves the previous file whole."""
    return atomic_io.atomic_write(Path(path), lambda tmp: torch.save(model.state_dict(), tmp))


def evaluate(model: torch.nn.Module, X: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> dict[str, float]:
    probabilities = predict_proba(model, X, batch_size)
    loss = -np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-12, None)).mean()
    return {"loss": float(loss), "accuracy": float((probabilities.argmax(axis=1) == y).mean())}


def predict_proba(model: torch.nn.Module, X: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return np.concatenate(
            [
                torch.softmax(model(torch.from_numpy(X[i : i + batch_size])), 1).numpy()
                for i in range(0, len(X), batch_size)
            ]
        )


def train_step(model: torch.nn.Module, optimizer, inputs: torch.Tensor, targets: torch.Tensor):
    """One optimisation step on one batch (the counterpart of NeuralNetwork.train_step): forward,
    cross-entropy, backward, update. Returns (loss, logits)."""
    optimizer.zero_grad()
    logits = model(inputs)
    loss = torch.nn.functional.cross_entropy(logits, targets)
    loss.backward()
    optimizer.step()
    return loss, logits


def fit(
    model: torch.nn.Module,
    X,
    y,
    validation_data,
    epochs: int,
    batch_size: int,
    lr: float,
    cosine_schedule: bool = False,
    augment: Callable | None = None,
    seed: int = 0,
    verbose: bool = True,
    on_epoch_end: Callable | None = None,
    checkpoint: str | Path | None = None,
) -> dict:
    """Adam on cross-entropy; returns the same history keys as NeuralNetwork.fit. checkpoint, if given, is a
    path where the state_dict is saved (atomically) after every epoch, as NeuralNetwork.fit does."""
    X_val, y_val = validation_data
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs) if cosine_schedule else None
    history = {k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_second")}
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(X))
        total_loss = correct = 0.0
        started = time.perf_counter()
        batches = range(0, len(X), batch_size)
        for start in tqdm(
            batches, desc=f"torch epoch {epoch}/{epochs}", unit="batch", disable=not verbose, leave=False
        ):
            index = order[start : start + batch_size]
            inputs = torch.from_numpy(augment(X[index], rng) if augment else X[index])
            targets = torch.from_numpy(y[index])
            loss, logits = train_step(model, optimizer, inputs, targets)
            total_loss += loss.item() * len(index)
            correct += (logits.argmax(1) == targets).sum().item()
        seconds = time.perf_counter() - started
        if scheduler:
            scheduler.step()
        logs = {
            "loss": total_loss / len(X),
            "accuracy": correct / len(X),
            "seconds": seconds,
            "images_per_second": len(X) / seconds,
        }
        logs |= {f"val_{k}": v for k, v in evaluate(model, X_val, y_val).items()}
        for key, value in logs.items():
            history[key].append(value)
        if on_epoch_end:
            on_epoch_end(epoch, logs)
        if checkpoint:
            save(model, checkpoint)
    return history
