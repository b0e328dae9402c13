"""Training on a wall-clock budget: random windows of the text, AdamW, a warm-up + cosine learning rate that is a
function of the fraction of the budget used (not of an iteration count, which a time budget doesn't fix in
advance), optional bf16 autocast, and masked-language-model masking for BERT.

    history = train_by_budget(model, batches, loss_fn, peak_lr=2e-3, max_seconds=82, ...)

Only the training steps count against the budget: evaluations and samples at checkpoints stop the clock.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

IGNORE = -100  # cross_entropy's ignore_index: positions that carry no MLM label


def random_windows(ids: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator):
    """batch_size random windows of block_size + 1 tokens: inputs (batch, block) and next-token targets."""
    if len(ids) <= block_size:
        raise ValueError(f"text of {len(ids)} tokens is too short for windows of {block_size} + 1")
    starts = rng.integers(0, len(ids) - block_size, batch_size)
    windows = torch.from_numpy(np.stack([ids[s : s + block_size + 1] for s in starts]))
    return windows[:, :-1], windows[:, 1:]


def lr_at(fraction: float, peak_lr: float, warmup_fraction: float, min_lr_ratio: float) -> float:
    """Linear warm-up over the first warmup_fraction of the budget, then cosine decay to min_lr_ratio * peak."""
    if fraction < warmup_fraction:
        return peak_lr * (fraction / warmup_fraction)
    progress = min(1.0, (fraction - warmup_fraction) / max(1e-9, 1 - warmup_fraction))
    return peak_lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model, lr: float, weight_decay: float, beta2: float):
    """AdamW with decay on matrices only (not biases, LayerNorm gains or anything 1-D), as nanoGPT does."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, beta2))


@dataclass
class History:
    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    iterations: int = 0
    tokens: int = 0


def train_by_budget(
    model: torch.nn.Module,
    batches: Callable[[], tuple],
    loss_fn: Callable,
    *,
    peak_lr: float,
    max_seconds: float,
    max_iters: int | None = None,
    warmup_fraction: float = 0.05,
    min_lr_ratio: float = 0.1,
    weight_decay: float = 0.1,
    beta2: float = 0.99,
    grad_clip: float = 1.0,
    bf16: bool = False,
    evaluate: Callable[[], float] | None = None,
    n_checkpoints: int = 4,
    on_checkpoint: Callable[[int, float], None] | None = None,
    log_every: int = 10,
    desc: str = "train",
) -> History:
    """Train until max_seconds of training time (or max_iters, when given, whichever comes first).

    The learning-rate schedule runs on the fraction of the budget used (time, or iterations when max_iters is the
    binding limit). `evaluate()` runs at n_checkpoints evenly spaced points of the budget and at the end, with the
    clock stopped; on_checkpoint(step, val_loss) after each (e.g. to sample text)."""
    device = next(model.parameters()).device  # batches follow the model (cpu or cuda)
    optimizer = make_optimizer(model, peak_lr, weight_decay, beta2)
    history = History()
    next_checkpoint, elapsed, step = 1, 0.0, 0
    # the bar counts training seconds (fractions of one per step): shown rounded, with the step count beside it
    seconds_bar = "{l_bar}{bar}| {n:.0f}/{total:.0f} s of training [{elapsed} on the clock{postfix}]"
    bar = tqdm(total=round(max_seconds), desc=desc, unit="s", leave=False, bar_format=seconds_bar)

    def checkpoint():
        if evaluate is None:
            return
        model.eval()
        val = evaluate()
        model.train()
        history.eval_steps.append(step)
        history.eval_seconds.append(elapsed)
        history.val_loss.append(val)
        if on_checkpoint is not None:
            on_checkpoint(step, val)

    model.train()
    progress = 0.0  # the fraction of the budget used: of the time, or of max_iters if that is nearer its end
    while elapsed < max_seconds and (max_iters is None or step < max_iters):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(progress, peak_lr, warmup_fraction, min_lr_ratio)
        started = time.perf_counter()
        inputs, targets = (t.to(device) for t in batches())
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model, inputs, targets)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        history.tokens += inputs.numel()
        if step % log_every == 0:
            history.steps.append(step)
            history.train_loss.append(loss.item())
        took = time.perf_counter() - started
        elapsed += took
        bar.update(min(took, max_seconds - bar.n))
        if step % log_every == 0:
            bar.set_postfix_str(f"step {step}", refresh=False)
        progress = elapsed / max_seconds if max_iters is None else max(elapsed / max_seconds, step / max_iters)
        if next_checkpoint <= n_checkpoints and progress >= next_checkpoint / (n_checkpoints + 1):
            checkpoint()
            next_checkpoint += 1
    bar.close()
    history.train_seconds, history.iterations = elapsed, step
    checkpoint()
    return history


def next_token_loss(model, inputs, targets):
    return model(inputs, targets)[1]


@torch.no_grad()
def evaluate_lm(model, ids: np.ndarray, block_size: int, batch_size: int, n_batches: int, seed: int) -> float:
    """Mean next-token cross-entropy (nats) over n_batches fixed random windows (the same windows every call,
    so checkpoints and models compare on identical text)."""
    was_training = model.training
    model.eval()
    rng = np.random.default_rng(seed)
    device = next(model.parameters()).device
    losses = []
    for _ in range(n_batches):
        inputs, targets = random_windows(ids, batch_size, block_size, rng)
        losses.append(next_token_loss(model, inputs.to(device), targets.to(device)).item())
    model.train(was_training)
    return float(np.mean(losses))


# -- BERT's masked-language-model objective -------------------------------------------------------------------
def mask_tokens(ids: torch.Tensor, mask_id: int, vocab_size: int, rng: torch.Generator, mask_prob: float = 0.15):
    """BERT's rule (Devlin et al. 2019, sec. 3.1): choose mask_prob of the positions to predict; of those 80 % become
    [MASK], 10 % a random token, 10 % stay unchanged (so the model can't learn that only [MASK] needs predicting).
    Returns (inputs, labels) with labels IGNORE where nothing is predicted."""
    chosen = torch.rand(ids.shape, generator=rng) < mask_prob
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    roll = torch.rand(ids.shape, generator=rng)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = mask_id
    randomised = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[randomised] = torch.randint(0, vocab_size, ids.shape, generator=rng)[randomised]
    return inputs, labels


def mlm_loss(model, inputs, labels):
    logits = model(inputs)
    return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=IGNORE)


@torch.no_grad()
def evaluate_mlm(model, windows, mask_id: int, vocab_size: int, seed: int, mask_prob: float = 0.15) -> dict:
    """Masked-token cross-entropy and accuracy on fixed windows (batch, time), with the same masking every call
    (seed), and the labels it scored: {"masked_loss", "masked_accuracy", "n_masked", "labels"}."""
    model.eval()
    inputs, labels = mask_tokens(windows, mask_id, vocab_size, torch.Generator().manual_seed(seed), mask_prob)
    device = next(model.parameters()).device
    logits = model(inputs.to(device)).cpu()
    picked = labels != IGNORE
    loss = F.cross_entropy(logits[picked].float(), labels[picked]).item()
    accuracy = (logits[picked].argmax(-1) == labels[picked]).float().mean().item()
    return {"masked_loss": loss, "masked_accuracy": accuracy, "n_masked": int(picked.sum()), "labels": labels[picked]}


def unigram_baselines(train_ids: np.ndarray, targets: np.ndarray, vocab_size: int) -> dict[str, float]:
    """What a model that ignores context achieves on the target characters: always the most frequent training
    character (accuracy), and the unigram distribution of the training text (expected accuracy when sampling from
    it, and cross-entropy, comparable to the masked-LM loss)."""
    counts = np.bincount(train_ids, minlength=vocab_size).astype(float)
    p = (counts + 1) / (counts + 1).sum()  # add-one smoothing: no character gets probability 0
    return {
        "most_frequent_accuracy": float(np.mean(targets == counts.argmax())),
        "unigram_sampling_accuracy": float(np.mean(p[targets])),
        "unigram_loss": float(-np.mean(np.log(p[targets]))),
    }
