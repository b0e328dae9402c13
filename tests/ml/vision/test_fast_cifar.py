"""The fast net's pieces: the whitening layer really whitens, the augmentations do what they say, the schedule
has its documented shape, the lookahead average becomes the model, and bad input is refused."""

import numpy as np
import pytest
import torch

from src.ml.vision import fast_cifar
from src.ml.vision.fast_cifar import EpochImages, FastNet, Lookahead, lr_factor, random_translate


def test_whitening_decorrelates_patches():
    # correlated random images: neighbouring pixels and channels share a component
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(400, 1, 16, 16, generator=generator)
    images = base + 0.3 * torch.randn(400, 3, 16, 16, generator=generator)
    images = images + torch.roll(images, 1, dims=3)
    net = FastNet(widths=(8, 8, 8))
    net.init_whitening(images, eps=0.0)
    with torch.no_grad():
        out = torch.nn.functional.conv2d(images, net.whiten.weight[:12])  # the first 12: W (the rest is -W)
    flat = out.permute(0, 2, 3, 1).reshape(-1, 12).double()
    covariance = flat.T @ flat / len(flat)
    np.testing.assert_allclose(covariance.numpy(), np.eye(12), atol=1e-3)


def test_random_translate_cuts_shifted_windows():
    image = torch.arange(36.0).view(1, 1, 6, 6).repeat(50, 1, 1, 1)
    out = random_translate(image, 4, torch.Generator().manual_seed(0))
    windows = {tuple(o.flatten().tolist()) for o in out}
    expected = {tuple(image[0, 0, dy : dy + 4, dx : dx + 4].flatten().tolist()) for dy in range(3) for dx in range(3)}
    assert windows <= expected and len(windows) > 3


def test_alternating_flip_mirrors_every_image_between_epochs():
    images = torch.randn(10, 3, 8, 8)
    epochs = EpochImages(images, translate=0, flip=True, generator=torch.Generator().manual_seed(0))
    first, second = epochs.for_epoch(0), epochs.for_epoch(1)
    assert torch.equal(second, first.flip(-1))
    flipped = [not torch.equal(first[i], images[i]) for i in range(10)]
    assert 0 < sum(flipped) < 10  # epoch 0: a random part flipped


def test_schedule_warms_up_then_decays():
    total = 100
    values = [lr_factor(s, total) for s in range(total)]
    assert values[0] == pytest.approx(0.2) and max(values) == pytest.approx(1.0)
    assert lr_factor(total, total) == pytest.approx(0.07) and values.index(max(values)) == 23


def test_lookahead_with_decay_one_installs_the_average():
    model = torch.nn.Linear(3, 2)
    lookahead = Lookahead(model)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    lookahead.update(model, decay=1.0)
    assert torch.equal(model.weight, saved["weight"])


def test_fast_net_refuses_channels_last_numpy_layout():
    with pytest.raises(ValueError, match=r"FastNet expects normalised images \(batch, 3, height, width\)"):
        FastNet()(torch.zeros(2, 32, 32, 3))


def test_fast_net_learns_on_a_few_batches():
    # 600 CIFAR-like images of two classes that differ in colour: a working recipe separates them in 2 epochs
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 600).astype(np.uint8)
    images = rng.integers(0, 256, (600, 32, 32, 3)).astype(np.uint8)
    images[labels == 1, :, :, 0] = np.minimum(images[labels == 1, :, :, 0], 60)
    recipe = fast_cifar.FastRecipe(
        epochs=2, batch_size=100, lr=11.5, momentum=0.85, weight_decay=0.0153, bias_scaler=64, label_smoothing=0.2,
        whiten_bias_epochs=1, widths=(8, 16, 16), bn_momentum=0.6, translate=2, flip=True, tta_level=2,
        lookahead=True, bf16=False,
    )  # fmt: skip
    model, history = fast_cifar.train_fast_net(images, labels, recipe, 0, images, labels, verbose=False)
    assert len(history) == 2 and history[-1]["eval_accuracy"] > 0.9
