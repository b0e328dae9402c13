"""A fast CIFAR-10 classifier for a CPU, in the spirit of airbench (Keller Jordan, "94% on CIFAR-10 in 3.29
seconds on a single GPU", 2024, github.com/KellerJordan/cifar10-airbench).

What makes it fast is not one trick but a stack of them, each of which buys accuracy per second of training:

1. A small VGG-like net: a fixed 2x2 whitening conv, then three groups (conv 3x3 -> max-pool 2 -> BN -> GELU ->
   conv 3x3 -> BN -> GELU) of widths 64, 256, 256, a global max-pool and one linear layer. About 2 M parameters,
   a fifth of ResNet18's, and every conv after the first pool runs at 1/4, 1/16, 1/64 of the pixels.
2. Whitening: the first layer's 2x2x3 = 12-dimensional patches are decorrelated with the eigenvectors of their
   covariance (PCA whitening, W = diag(1/sqrt(lambda + eps)) V^T), computed once from training images. Both W
   and -W are used (24 channels) so a GELU after it loses no information. Frozen: the net starts from a
   well-conditioned input instead of having to learn one. Only its bias trains, for the first epochs.
3. BatchNorm without a learnable scale (the following conv can scale), a high-momentum running average, and
   dirac (identity) initialisation of the first filters of each conv, so the untrained net already passes its
   input through.
4. Label smoothing (0.2): the loss stops pushing confident logits further, a regulariser that costs nothing.
5. Augmentation: random translation by up to 2 pixels (reflect-padded crops) and horizontal flips. The flip is
   "alternating": a random half of the images is flipped in epoch 0 and every image is flipped in every other
   epoch after that, so over two epochs each image is seen once each way (less redundancy than coin flips).
6. Nesterov SGD with a triangular learning-rate schedule, and a large learning rate for the BN biases.
7. Lookahead / EMA: every 5 steps the weights are pulled toward (and replaced by) an exponential moving average
   whose weight grows over training; at the end the average is the model. Averaging late in training removes
   the noise of the last SGD steps, worth a few tenths of a percent.
8. Test-time augmentation: average the logits of the image and its mirror image (level 1), and of one-pixel
   translations of both (level 2).

On a CPU two more choices matter: bf16 autocast (these CPUs multiply bfloat16 matrices natively, about 1.7x
faster than float32 here) and channels-last memory layout for the convolutions (oneDNN's preferred layout).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


@dataclass
class FastRecipe:
    """The hyperparameters of the recipe, in airbench's decoupled form (lr and weight decay per 1,024 examples,
    independent of the momentum): changing one does not silently change the others' effect."""

    epochs: float
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    bias_scaler: float
    label_smoothing: float
    whiten_bias_epochs: int
    widths: tuple[int, int, int]
    bn_momentum: float
    translate: int
    flip: bool
    tta_level: int
    lookahead: bool
    bf16: bool


class GhostlessBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose scale is fixed at 1 (the next conv can scale) and whose shift is learned.
    `momentum` is the weight of the OLD running average (0.6 keeps 60 %), the convention of the recipe;
    torch's own argument is the weight of the new batch, hence 1 - momentum."""

    def __init__(self, channels: int, momentum: float):
        super().__init__(channels, eps=1e-12, momentum=1 - momentum)
        self.weight.requires_grad = False


class DiracConv(nn.Conv2d):
    """A 3x3 'same' conv without bias whose first in_channels filters start as the identity (dirac)."""

    def __init__(self, channels_in: int, channels_out: int):
        super().__init__(channels_in, channels_out, kernel_size=3, padding="same", bias=False)
        with torch.no_grad():
            nn.init.dirac_(self.weight[: min(channels_in, channels_out)])


class ConvGroup(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, bn_momentum: float):
        super().__init__()
        self.conv1 = DiracConv(channels_in, channels_out)
        self.norm1 = GhostlessBatchNorm(channels_out, bn_momentum)
        self.conv2 = DiracConv(channels_out, channels_out)
        self.norm2 = GhostlessBatchNorm(channels_out, bn_momentum)

    def forward(self, x):
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.norm2(self.conv2(x)))


class FastNet(nn.Module):
    """whiten (2x2, 24 ch) -> GELU -> 3 ConvGroups -> global max-pool -> linear, logits scaled by 1/9."""

    WHITEN_KERNEL = 2

    def __init__(self, widths=(64, 256, 256), bn_momentum: float = 0.6, num_classes: int = 10):
        super().__init__()
        whiten_width = 2 * 3 * self.WHITEN_KERNEL**2
        self.whiten = nn.Conv2d(3, whiten_width, self.WHITEN_KERNEL, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        nn.init.zeros_(self.whiten.bias)
        channels = (whiten_width, *widths)
        pairs = zip(channels[:-1], channels[1:], strict=True)
        self.groups = nn.Sequential(*(ConvGroup(a, b, bn_momentum) for a, b in pairs))
        self.head = nn.Linear(widths[-1], num_classes, bias=False)
        self.logit_scale = 1 / 9  # keeps the initial logits small: a calm start at a high learning rate

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"FastNet expects normalised images (batch, 3, height, width), got {tuple(x.shape)}")
        x = self.groups(F.gelu(self.whiten(x)))
        x = torch.amax(x, dim=(2, 3))  # global max-pool (the 3x3 map left after three 2x2 pools of 31 pixels)
        return self.head(x) * self.logit_scale

    @torch.no_grad()
    def init_whitening(self, images: torch.Tensor, eps: float = 5e-4):
        """PCA-whiten the 2x2 patches of `images` (normalised, NCHW float): filters V^T / sqrt(lambda + eps),
        the largest-variance direction first, and their negatives."""
        k = self.WHITEN_KERNEL
        patches = images.unfold(2, k, 1).unfold(3, k, 1)  # (N, C, H-1, W-1, k, k)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, 3 * k * k).double()
        covariance = patches.T @ patches / len(patches)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
        order = eigenvalues.argsort(descending=True)
        filters = eigenvectors[:, order].T / torch.sqrt(eigenvalues[order] + eps)[:, None]
        filters = filters.reshape(-1, 3, k, k).float()
        self.whiten.weight.copy_(torch.cat([filters, -filters]))


def resolve_device(name: str) -> torch.device:
    """'auto' -> the GPU where one exists, else the CPU; 'cpu' / 'cuda' as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast(device: torch.device, enabled: bool):
    """bfloat16 autocast on the CPU (AVX-512 bf16) or the GPU: matrix products in bf16, reductions in fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def to_normalised_tensor(images_nhwc: np.ndarray) -> torch.Tensor:
    """uint8 (N, 32, 32, 3) -> float32 (N, 3, 32, 32) with the CIFAR channel means and stds removed."""
    x = torch.from_numpy(np.ascontiguousarray(images_nhwc)).permute(0, 3, 1, 2).float().div_(255)
    mean, std = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR_STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def random_translate(padded: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """A random size x size crop of each reflect-padded image: a shift of up to `pad` pixels each way.
    Images with the same shift are cut out together, (2 pad + 1)^2 slicing operations in all."""
    pad = (padded.shape[-1] - size) // 2
    shifts = torch.randint(-pad, pad + 1, (len(padded), 2), generator=generator).to(padded.device)
    out = torch.empty((len(padded), padded.shape[1], size, size), dtype=padded.dtype, device=padded.device)
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            chosen = ((shifts[:, 0] == dy) & (shifts[:, 1] == dx)).nonzero().squeeze(1)
            if len(chosen):
                out[chosen] = padded[chosen, :, pad + dy : pad + dy + size, pad + dx : pad + dx + size]
    return out


class EpochImages:
    """The training images each epoch, augmented as the recipe says (translate + alternating flip)."""

    def __init__(self, images: torch.Tensor, translate: int, flip: bool, generator: torch.Generator):
        self.translate, self.flip, self.generator = translate, flip, generator
        if flip:  # epoch 0 flips a random half; later epochs flip every image on odd epochs (alternating)
            half = (torch.rand(len(images), generator=generator) < 0.5).to(images.device)
            images = torch.where(half.view(-1, 1, 1, 1), images.flip(-1), images)
        self.base = F.pad(images, (translate,) * 4, mode="reflect") if translate else images
        self.size = images.shape[-1]

    def for_epoch(self, epoch: int) -> torch.Tensor:
        images = random_translate(self.base, self.size, self.generator) if self.translate else self.base
        return images.flip(-1) if self.flip and epoch % 2 == 1 else images


def lr_factor(step: int, total_steps: int) -> float:
    """Triangular schedule: 0.2 -> 1 over the first 23 % of steps, then linearly down to 0.07."""
    warmup = max(int(total_steps * 0.23), 1)
    if step < warmup:
        frac = step / warmup
        return 0.2 * (1 - frac) + frac
    frac = (step - warmup) / max(total_steps - warmup, 1)
    return (1 - frac) + 0.07 * frac


class Lookahead:
    """Keeps an EMA of the weights (and BN statistics); every update pulls the net onto the average."""

    def __init__(self, model: nn.Module):
        self.average = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float):
        state = model.state_dict()
        for name, average in self.average.items():
            average.lerp_(state[name], 1 - decay)
            state[name].copy_(average)


@torch.no_grad()
def predict_logits(
    model: nn.Module, images: torch.Tensor, tta_level: int = 0, bf16: bool = True, batch_size: int = 1000
) -> torch.Tensor:
    """Logits for normalised images, averaged over test-time augmentations: 0 none, 1 + mirror image,
    2 + one-pixel translations (up-left and down-right) of both, weighted half and half."""
    model.eval()
    device = next(model.parameters()).device

    def mirror(x):
        return model(x) if tta_level == 0 else 0.5 * (model(x) + model(x.flip(-1)))

    def views(x):
        logits = mirror(x)
        if tta_level < 2:
            return logits
        padded = F.pad(x, (1,) * 4, mode="reflect")
        size = x.shape[-1]
        shifted = 0.5 * (mirror(padded[:, :, :size, :size]) + mirror(padded[:, :, 2:, 2:]))
        return 0.5 * logits + 0.5 * shifted

    with autocast(device, bf16):
        return torch.cat([views(batch.to(device)).float().cpu() for batch in images.split(batch_size)])


def accuracy(logits: torch.Tensor, labels: np.ndarray) -> float:
    return float((logits.argmax(1).numpy() == labels).mean())


def train_fast_net(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    recipe: FastRecipe,
    seed: int,
    eval_images: np.ndarray | None = None,
    eval_labels: np.ndarray | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    verbose: bool = True,
    device: str = "cpu",
) -> tuple[FastNet, list[dict]]:
    """Train FastNet on uint8 NHWC images; after every epoch (and at the end, with the lookahead average in
    place) score `eval_images` without TTA and call `on_epoch` with {epoch, seconds, cpu_seconds,
    images_per_second, train_loss, eval_accuracy}. `seconds` is training wall time only, cumulative, as in
    airbench; cpu_seconds the process's CPU time over the same spans (on a shared machine, wall time also
    counts other people's work; with T threads on an idle machine cpu_seconds ~ T x seconds)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    device = resolve_device(device)
    x_train = to_normalised_tensor(train_images).to(device)
    y_train = torch.from_numpy(train_labels.astype(np.int64)).to(device)
    x_eval = to_normalised_tensor(eval_images) if eval_images is not None else None

    model = FastNet(recipe.widths, recipe.bn_momentum).to(device, memory_format=torch.channels_last)
    model.init_whitening(x_train[:5000])
    batch = recipe.batch_size
    steps_per_epoch = len(x_train) // batch
    if steps_per_epoch < 1:
        raise ValueError(f"batch_size {batch} is larger than the {len(x_train)} training images")
    total_steps = math.ceil(steps_per_epoch * recipe.epochs)

    # Decoupled -> torch's SGD: with Nesterov momentum m a constant gradient makes steps 1 + 1/(1-m) times the
    # gradient, so the lr is divided by that (per 1,024 examples); torch multiplies weight decay by the lr,
    # so it is divided by the lr again.
    scale = 1024 * (1 + 1 / (1 - recipe.momentum))
    lr, wd = recipe.lr / scale, recipe.weight_decay * batch / scale
    bn_biases = [p for n, p in model.named_parameters() if "norm" in n and p.requires_grad]
    others = [p for n, p in model.named_parameters() if "norm" not in n and p.requires_grad]
    lr_bias = lr * recipe.bias_scaler
    optimizer = torch.optim.SGD(
        [
            {"params": bn_biases, "lr": lr_bias, "weight_decay": wd / lr_bias, "initial_lr": lr_bias},
            {"params": others, "lr": lr, "weight_decay": wd / lr, "initial_lr": lr},
        ],
        momentum=recipe.momentum,
        nesterov=True,
    )
    lookahead = Lookahead(model) if recipe.lookahead else None
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing, reduction="sum")
    epoch_images = EpochImages(x_train, recipe.translate, recipe.flip, generator)

    history, step, trained_seconds, cpu_seconds = [], 0, 0.0, 0.0
    for epoch in range(math.ceil(recipe.epochs)):
        started, cpu_started = time.perf_counter(), time.process_time()
        model.train()
        model.whiten.bias.requires_grad = epoch < recipe.whiten_bias_epochs
        images = epoch_images.for_epoch(epoch)
        order = torch.randperm(len(images), generator=generator).to(device)
        losses, seen = [], 0
        batches = range(steps_per_epoch)
        for i in tqdm(batches, desc=f"fast net epoch {epoch + 1}", unit="batch", disable=not verbose, leave=False):
            index = order[i * batch : (i + 1) * batch]
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] * lr_factor(step, total_steps)
            with autocast(device, recipe.bf16):
                logits = model(images[index])
            loss = loss_fn(logits.float(), y_train[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            seen += len(index)
            losses.append(loss.item() / len(index))
            if lookahead and step % 5 == 0:
                lookahead.update(model, decay=0.95**5 * (step / total_steps) ** 3)
            if step >= total_steps:
                break
        if lookahead and step >= total_steps:
            lookahead.update(model, decay=1.0)  # decay 1: the average itself becomes the model
        seconds = time.perf_counter() - started
        trained_seconds += seconds
        cpu_seconds += time.process_time() - cpu_started
        record = {
            "epoch": epoch + 1,
            "seconds": trained_seconds,
            "cpu_seconds": cpu_seconds,  # CPU time of all threads: what the work costs, whatever else runs
            "images_per_second": seen / seconds,
            "train_loss": float(np.mean(losses)),
        }
        if x_eval is not None:
            record["eval_accuracy"] = accuracy(predict_logits(model, x_eval, 0, recipe.bf16), eval_labels)
        history.append(record)
        if on_epoch:
            on_epoch(record)
        if verbose:
            print(" ".join(f"{k}={v:.4g}" for k, v in record.items()), flush=True)
    return model, history
