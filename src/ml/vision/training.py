"""Train and score any torch image classifier on CIFAR-style arrays: ResNet18's short CPU budget, the small
torch ResNet next to the from-scratch one, and the ablation nets all go through `train_classifier`.

The loop is deliberately plain (what a learner writes first): SGD with Nesterov momentum and weight decay, the
fast net's triangular learning-rate schedule (lr_factor), optional label smoothing, optional flip + translate
augmentation, optional bf16 autocast. Every epoch is timed (training only) and optionally scored on an
evaluation set, so curves and images/s come out of the same call.
"""

import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from src.ml.vision.fast_cifar import (
    accuracy,
    autocast,
    lr_factor,
    predict_logits,
    random_translate,
    resolve_device,
    to_normalised_tensor,
)


def augment_batch(images: torch.Tensor, translate: int, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip of half the images and a random shift of up to `translate` pixels."""
    flip = (torch.rand(len(images), generator=generator) < 0.5).to(images.device).view(-1, 1, 1, 1)
    images = torch.where(flip, images.flip(-1), images)
    if translate:
        padded = F.pad(images, (translate,) * 4, mode="reflect")
        images = random_translate(padded, images.shape[-1], generator)
    return images


def train_classifier(
    model: nn.Module,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    label_smoothing: float = 0.0,
    augment: bool = True,
    translate: int = 2,
    bf16: bool = True,
    eval_images: np.ndarray | None = None,
    eval_labels: np.ndarray | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    device: str = "cpu",
    desc: str = "train",
    verbose: bool = True,
) -> list[dict]:
    """Train `model` in place on uint8 NHWC images; returns per-epoch records {epoch, seconds (cumulative
    training time), images_per_second, train_loss, train_accuracy[, eval_accuracy]}."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    device = resolve_device(device)
    x = to_normalised_tensor(train_images).to(device)
    y = torch.from_numpy(train_labels.astype(np.int64)).to(device)
    x_eval = to_normalised_tensor(eval_images) if eval_images is not None else None
    model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=momentum, nesterov=momentum > 0, weight_decay=weight_decay
    )
    steps_per_epoch = max(len(x) // batch_size, 1)
    total_steps, step, trained = steps_per_epoch * epochs, 0, 0.0
    history = []
    for epoch in range(epochs):
        model.train()
        started = time.perf_counter()
        order = torch.randperm(len(x), generator=generator).to(device)
        losses, correct, seen = [], 0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"{desc} {epoch + 1}/{epochs}", disable=not verbose, leave=False)
        for i in bar:
            index = order[i * batch_size : (i + 1) * batch_size]
            inputs = augment_batch(x[index], translate, generator) if augment else x[index]
            for group in optimizer.param_groups:
                group["lr"] = lr * lr_factor(step, total_steps)
            with autocast(device, bf16):
                logits = model(inputs)
            loss = F.cross_entropy(logits.float(), y[index], label_smoothing=label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: the loss became {loss.item()} at step {step}; lower the lr")
            losses.append(loss.item())
            correct += (logits.argmax(1) == y[index]).sum().item()
            seen += len(index)
        seconds = time.perf_counter() - started
        trained += seconds
        record = {
            "epoch": epoch + 1,
            "seconds": trained,
            "images_per_second": seen / seconds,
            "train_loss": float(np.mean(losses)),
            "train_accuracy": correct / seen,
        }
        if x_eval is not None:
            record["eval_accuracy"] = accuracy(predict_logits(model, x_eval, 0, bf16), eval_labels)
        history.append(record)
        if on_epoch:
            on_epoch(record)
    return history


def inference_images_per_second(model: nn.Module, images: np.ndarray, bf16: bool = True) -> float:
    """Images/s of a forward pass in evaluation mode over `images` (batches of 500)."""
    x = to_normalised_tensor(images)
    started = time.perf_counter()
    predict_logits(model, x, 0, bf16, batch_size=500)
    return len(x) / (time.perf_counter() - started)


def save_model(model: nn.Module, path) -> None:
    """The model's state_dict, written atomically (a crash never leaves half a file for DVC to cache)."""
    from src.atomic_io import atomic_write

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_write(path, lambda tmp: torch.save(state, tmp))
