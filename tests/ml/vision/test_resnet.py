"""The PyTorch ResNet18 (CIFAR variant): the roadmap's call works, the parameter count is the standard one,
shapes flow as documented, and a wrong input shape gets an error that says what to do."""

import pytest
import torch

from src.ml.vision import ResidualBlock, ResNet18
from src.ml.vision.resnet import count_parameters


def test_roadmap_call_gives_logits():
    model = ResNet18(num_classes=10).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_standard_parameter_count():
    assert count_parameters(ResNet18(num_classes=10)) == 11_173_962  # kuangliu/pytorch-cifar's ResNet18


def test_cifar_stem_has_no_maxpool_and_keeps_resolution():
    model = ResNet18()
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert model.stem(torch.zeros(1, 3, 32, 32)).shape == (1, 64, 32, 32)
    assert model.stages(model.stem(torch.zeros(1, 3, 32, 32))).shape == (1, 512, 4, 4)


@pytest.mark.parametrize("shape", [(2, 32, 32, 3), (3, 32, 32), (2, 1, 32, 32), (2, 3, 4, 4)])
def test_wrong_input_shape_is_explained(shape):
    with pytest.raises(ValueError, match=r"ResNet18 expects RGB images as \(batch, 3, height, width\)"):
        ResNet18()(torch.zeros(shape))


def test_block_uses_projection_only_when_shapes_change():
    assert len(ResidualBlock(64, 64).shortcut) == 0
    assert len(ResidualBlock(64, 128, stride=2).shortcut) == 2
    assert ResidualBlock(64, 128, stride=2)(torch.zeros(1, 64, 8, 8)).shape == (1, 128, 4, 4)
