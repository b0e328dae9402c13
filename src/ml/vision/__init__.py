"""Day 5: computer vision -- convolution by im2col, residual networks, and a fast CIFAR-10 classifier.

    from src.ml.vision import ResNet18, ResidualBlock, Conv2D
    model = ResNet18(num_classes=10)        # torch.nn.Module: (N, 3, 32, 32) -> (N, 10) logits

Modules, one concept each: im2col (naive loop and im2col convolution, forward and backward, for teaching),
resnet (ResidualBlock and ResNet18 in PyTorch), scratch_resnet (the same block on the day-4 NumPy engine),
fast_cifar (the airbench-style fast net and its training recipe), training (ResNet training/evaluation
helpers), ablations (plain vs residual, BN, augmentation), conv_benchmark (naive vs im2col vs torch).
`Conv2D` is the day-4 engine's layer, exported again: one implementation of convolution from scratch.
"""

from src.ml.deep_learning.layers import Conv2D
from src.ml.vision.resnet import ResidualBlock, ResNet18
from src.ml.vision.scratch_resnet import ScratchResidualBlock, small_resnet

__all__ = ["Conv2D", "ResNet18", "ResidualBlock", "ScratchResidualBlock", "small_resnet"]
