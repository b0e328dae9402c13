"""The from-scratch residual block (day-4 NumPy engine) against the PyTorch block with the same weights, in
float64 to 1e-6: the output, the input's gradient and every parameter's gradient, in training mode (batch
statistics) and evaluation mode (running statistics), with and without the projection shortcut."""

import numpy as np
import pytest
import torch

from src.ml.deep_learning import Tensor
from src.ml.vision import ResidualBlock, ScratchResidualBlock, small_resnet

TOL = 1e-6


def torch_gradients(block):
    names = ["conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"]
    if len(block.shortcut):
        names += ["shortcut.0.weight", "shortcut.1.weight", "shortcut.1.bias"]
    params = dict(block.named_parameters())
    return [params[name].grad.numpy() for name in names]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("c_in", "c_out", "stride"), [(4, 4, 1), (4, 6, 2), (3, 5, 1)])
def test_block_equals_torch(c_in, c_out, stride, training):
    torch.manual_seed(0)
    theirs = ResidualBlock(c_in, c_out, stride).double()
    with torch.no_grad():  # non-trivial BN state, so evaluation mode is a real test
        for module in theirs.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    ours = ScratchResidualBlock(c_in, c_out, stride, dtype="float64").copy_from_torch(theirs)
    theirs.train(training)
    ours.training = training

    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, c_in, 8, 8))
    x_torch = torch.from_numpy(x).requires_grad_()
    out_torch = theirs(x_torch)
    upstream = rng.standard_normal(out_torch.shape)
    out_torch.backward(torch.from_numpy(upstream))

    x_ours = Tensor(x, requires_grad=True)
    out = ours(x_ours)
    out.backward(upstream)

    np.testing.assert_allclose(out.data, out_torch.detach().numpy(), rtol=TOL, atol=TOL, err_msg="output")
    np.testing.assert_allclose(x_ours.grad, x_torch.grad.numpy(), rtol=TOL, atol=TOL, err_msg="d_input")
    ours_grads = [p.grad for p in ours.parameters()]
    their_grads = torch_gradients(theirs)
    assert len(ours_grads) == len(their_grads)
    for i, (a, b) in enumerate(zip(ours_grads, their_grads, strict=True)):
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL, err_msg=f"gradient of parameter {i}")
    if training:  # the running statistics move the same way
        for ours_bn, theirs_bn in [(ours.bn1, theirs.bn1), (ours.bn2, theirs.bn2)]:
            np.testing.assert_allclose(ours_bn.running_mean, theirs_bn.running_mean.numpy(), rtol=TOL, atol=TOL)
            np.testing.assert_allclose(ours_bn.running_var, theirs_bn.running_var.numpy(), rtol=TOL, atol=TOL)


def test_network_train_eval_reaches_the_blocks_batch_norms():
    net = small_resnet(widths=(4, 8))
    net.eval()
    block = net.layers[4]  # the second block: 4 -> 8 channels, stride 2, projection shortcut
    assert not block.bn1.training and not block.shortcut_bn.training
    net.train()
    assert block.bn2.training


def test_small_resnet_learns_a_tiny_problem():
    # two classes that differ in mean brightness: a working net separates them within a few epochs
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = (rng.standard_normal((64, 3, 8, 8)) + 1.5 * (2 * y - 1)[:, None, None, None]).astype(np.float32)
    net = small_resnet(widths=(4, 8), num_classes=2)
    net.fit(x, y, epochs=5, batch_size=16, lr=1e-2, validation_split=0, verbose=False)
    assert net.evaluate(x, y)["accuracy"] >= 0.9
