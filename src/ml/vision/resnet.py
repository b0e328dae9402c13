"""ResNet in PyTorch: the residual block and ResNet18 in its CIFAR form (He et al., "Deep Residual Learning for
Image Recognition", CVPR 2016, arXiv:1512.03385; the CIFAR variant as in kuangliu/pytorch-cifar).

A residual block computes y = relu(F(x) + shortcut(x)) with F = conv3x3 -> BN -> ReLU -> conv3x3 -> BN. The
shortcut is the identity when shapes match, else a 1x1 conv with the block's stride and a BN (the "projection
shortcut", option B of the paper). Why it helps: dy/dx = dF/dx + I (through the identity path), so the gradient
reaching an early layer is a sum that always contains the gradient of the layers above unchanged; it cannot
vanish through a product of many small Jacobians, and a block that has nothing to add can learn F = 0 instead of
having to learn the identity through two convolutions.

ResNet18 for 32x32 images: a 3x3 stem (64 channels, stride 1, no max-pool: the ImageNet 7x7/2 stem + pool would
shrink a CIFAR image to 8x8 before the first block), then four stages of two blocks, 64/128/256/512 channels,
the last three starting with stride 2 (32 -> 16 -> 8 -> 4 pixels), global average pooling and a linear layer.
11,173,962 parameters for 10 classes.
"""

import torch
import torch.nn.functional as F
from torch import nn


class ResidualBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); projection shortcut when stride or width change."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, batch_norm: bool = True):
        super().__init__()
        norm = nn.BatchNorm2d if batch_norm else (lambda _: nn.Identity())
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=not batch_norm)
        self.bn2 = norm(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=not batch_norm), norm(out_channels)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet18, CIFAR variant: (N, 3, 32, 32) images -> (N, num_classes) logits."""

    STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, stride of the stage's first block)

    def __init__(self, num_classes: int = 10, blocks_per_stage: tuple[int, ...] = (2, 2, 2, 2)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        layers, channels = [], 64
        for (width, stride), count in zip(self.STAGES, blocks_per_stage, strict=True):
            for i in range(count):
                layers.append(ResidualBlock(channels, width, stride if i == 0 else 1))
                channels = width
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] < 8 or x.shape[3] < 8:
            raise ValueError(
                f"ResNet18 expects RGB images as (batch, 3, height, width) with height and width >= 8, e.g. "
                f"(N, 3, 32, 32) for CIFAR-10; got {tuple(x.shape)}. Channels-last arrays (N, 32, 32, 3) need "
                "x.permute(0, 3, 1, 2); a single image needs x.unsqueeze(0)."
            )
        out = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class SmallResNet(nn.Module):
    """The torch twin of src.ml.vision.scratch_resnet.small_resnet: stem conv3x3 + BN + ReLU, one residual block
    per width (stride 2 from the second on), global average pooling, a linear layer."""

    def __init__(self, widths=(16, 32, 64), num_classes: int = 10):
        super().__init__()
        stem_conv = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.stem = nn.Sequential(stem_conv, nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, channels = [], widths[0]
        for i, width in enumerate(widths):
            blocks.append(ResidualBlock(channels, width, 1 if i == 0 else 2))
            channels = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))
