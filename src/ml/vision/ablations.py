"""What each ingredient buys: skip connections (plain vs residual nets of two depths), batch norm, augmentation.

The nets are He et al.'s CIFAR ResNets (arXiv:1512.03385, section 4.2): a 3x3 stem of 16 channels, three stages
of n blocks each (16, 32, 64 channels, the last two starting with stride 2), global average pooling and a linear
layer; depth = 6n + 2 (20 for n = 3, 56 for n = 9). The plain net is the same stack with the shortcut removed
(the block's output is relu(bn2(conv2(...))) instead of relu(... + shortcut(x))): same parameters except the
projection shortcuts, same compute. The paper's finding, the "degradation problem", is that the deeper plain
net has HIGHER training error than the shallower one (so it is not overfitting: optimisation gets harder), and
that residual nets reverse this.

Every variant trains with src.ml.vision.training.train_classifier on the same images, seed and schedule.
"""

import numpy as np
import torch
from torch import nn

from src.ml.vision.fast_cifar import to_normalised_tensor
from src.ml.vision.resnet import ResidualBlock
from src.ml.vision.training import train_classifier


class PlainBlock(ResidualBlock):
    """ResidualBlock without the skip connection: relu(bn2(conv2(relu(bn1(conv1(x))))))."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, batch_norm: bool = True):
        super().__init__(in_channels, out_channels, stride, batch_norm)
        self.shortcut = nn.Sequential()  # no projection either: nothing bypasses the convolutions

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)))


class CifarResNet(nn.Module):
    """depth = 6n + 2 layers; residual=False gives the plain net, batch_norm=False drops every BN."""

    def __init__(self, depth: int, residual: bool = True, batch_norm: bool = True, num_classes: int = 10):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, ...), got {depth}")
        n = (depth - 2) // 6
        block = ResidualBlock if residual else PlainBlock
        norm = nn.BatchNorm2d(16) if batch_norm else nn.Identity()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=not batch_norm), norm, nn.ReLU())
        layers, channels = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(block(channels, width, stride if i == 0 else 1, batch_norm=batch_norm))
                channels = width
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def variants(depths: list[int]) -> dict[str, dict[str, dict]]:
    """{ablation: {variant name: CifarResNet/training kwargs}}. The shallower residual net with BN and
    augmentation is the baseline every ablation changes one thing of."""
    shallow, deep = min(depths), max(depths)
    skip = {}
    for depth in sorted(set(depths)):
        skip[f"plain_{depth}"] = {"depth": depth, "residual": False}
        skip[f"residual_{depth}"] = {"depth": depth, "residual": True}
    base = {"depth": shallow, "residual": True}
    return {
        f"skip connections (plain vs residual, depth {shallow} and {deep})": skip,
        "batch norm": {f"residual_{shallow}": base, f"residual_{shallow}_no_bn": {**base, "batch_norm": False}},
        "augmentation": {
            f"residual_{shallow}": base,
            f"residual_{shallow}_no_augmentation": {**base, "augment": False},
        },
    }


def gradient_norm_ratio(model: CifarResNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    """||dL/dW|| of the stem conv over that of the last block's second conv, at initialisation, one batch:
    how much of the loss's gradient still reaches the first layer."""
    model.train()
    model.zero_grad()
    nn.functional.cross_entropy(model(images), labels).backward()
    first = model.stem[0].weight.grad.norm().item()
    last = model.blocks[-1].conv2.weight.grad.norm().item()
    return first / last


def run_variant(
    spec: dict, data: dict, *, epochs: int, batch_size: int, lr: float, seed: int, bf16: bool, on_epoch=None
):
    """Train one variant; returns (history, gradient-norm ratio at init, diverged). A variant whose loss
    becomes NaN (no BN at a BN-sized learning rate can) is recorded as diverged, not as a crash."""
    spec = dict(spec)
    augment = spec.pop("augment", True)
    torch.manual_seed(seed)
    model = CifarResNet(**spec)
    probe = to_normalised_tensor(data["train_x"][:128])
    ratio = gradient_norm_ratio(model, probe, torch.from_numpy(data["train_y"][:128].astype(np.int64)))
    history = []

    def keep(record):
        history.append(record)
        if on_epoch:
            on_epoch(record)

    try:
        train_classifier(
            model,
            data["train_x"],
            data["train_y"],
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            augment=augment,
            bf16=bf16,
            eval_images=data["eval_x"],
            eval_labels=data["eval_y"],
            on_epoch=keep,
            desc=str(spec),
        )
        diverged = False
    except FloatingPointError:
        diverged = True
    return history, ratio, diverged
