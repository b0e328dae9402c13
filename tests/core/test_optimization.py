"""src.core.optimization held to torch.optim: the same parameter trajectory for 100 steps, to 1e-6 (float64)."""

import numpy as np
import pytest
import torch

from src.core import optimization as opt

N_STEPS = 100
TOL = 1e-6


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: torch's thread pool only adds contention (10x slower on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _initial_params():
    """Parameters of three shapes (a matrix, a vector, a scalar) so 'any shape' is really exercised."""
    rng = np.random.default_rng(7)
    return [rng.standard_normal((4, 3)), rng.standard_normal(3), np.array(0.5)]


def _loss(W, b, c, X, y):
    """A smooth non-quadratic problem: softmax regression plus a quartic term on the scalar c."""
    logits = X @ W + b + c
    return torch.nn.functional.cross_entropy(logits, y) + (c - 1.0) ** 4 + 0.1 * (W**2).sum()


def _data():
    rng = np.random.default_rng(3)
    X = torch.tensor(rng.standard_normal((32, 4)))
    y = torch.tensor(rng.integers(0, 3, 32))
    return X, y


def _gradients(params, X, y):
    """d loss / d params by torch autograd, returned as NumPy arrays: both sides see the same gradient function."""
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    _loss(*tensors, X, y).backward()
    return [t.grad.numpy() for t in tensors]


# (our optimizer, its keyword arguments, the torch.optim class, its keyword arguments): the same hyperparameters
PAIRS = {
    "sgd": (opt.SGD, {"lr": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    "sgd_weight_decay": (
        opt.SGD,
        {"lr": 0.1, "weight_decay": 0.05},
        torch.optim.SGD,
        {"lr": 0.1, "weight_decay": 0.05},
    ),
    "momentum": (opt.Momentum, {"lr": 0.05, "momentum": 0.9}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    "momentum_dampening": (
        opt.SGD,
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
    ),
    "nesterov": (
        opt.Nesterov,
        {"lr": 0.05, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    "adagrad": (opt.AdaGrad, {"lr": 0.3}, torch.optim.Adagrad, {"lr": 0.3}),
    "adagrad_decay": (
        opt.AdaGrad,
        {"lr": 0.3, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
        torch.optim.Adagrad,
        {"lr": 0.3, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
    "rmsprop": (opt.RMSprop, {"lr": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    "rmsprop_centered_momentum": (
        opt.RMSprop,
        {"lr": 0.005, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
        torch.optim.RMSprop,
        {"lr": 0.005, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    ),
    "adam": (opt.Adam, {"lr": 0.05}, torch.optim.Adam, {"lr": 0.05}),
    "adam_l2_amsgrad": (
        opt.Adam,
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True},
        torch.optim.Adam,
        {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True},
    ),
    "adamw": (opt.AdamW, {"lr": 0.05, "weight_decay": 0.1}, torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
}


@pytest.mark.parametrize("case", list(PAIRS))
def test_trajectory_matches_torch_optim_for_100_steps(case):
    ours_cls, ours_kwargs, torch_cls, torch_kwargs = PAIRS[case]
    X, y = _data()
    params = _initial_params()
    ours = ours_cls(params, **ours_kwargs)
    tensors = [torch.tensor(p, requires_grad=True) for p in _initial_params()]
    theirs = torch_cls(tensors, **torch_kwargs)

    worst = 0.0
    for _ in range(N_STEPS):
        ours.step(_gradients(params, X, y))
        theirs.zero_grad()
        _loss(*tensors, X, y).backward()
        theirs.step()
        for p, t in zip(params, tensors, strict=True):
            worst = max(worst, np.abs(p - t.detach().numpy()).max())
    assert worst < TOL, f"{case}: max |ours - torch| over {N_STEPS} steps = {worst:.2e}"
    moved = np.abs(params[0] - _initial_params()[0]).max()
    assert moved > 1e-2, f"{case}: the parameters barely moved, the comparison proves nothing"


def test_parameters_are_updated_in_place_and_zero_d_arrays_work():
    W, c = np.ones((2, 2)), np.array(3.0)
    optimizer = opt.Adam([W, c], lr=0.1)
    optimizer.step([np.ones((2, 2)), np.array(1.0)])
    assert np.allclose(W, 0.9) and np.isclose(c, 2.9)  # Adam's first step is lr * sign(g)
    single = np.array([1.0, -1.0])
    opt.SGD(single, lr=0.5).step(np.array([2.0, 2.0]))  # a bare array instead of a list
    assert np.allclose(single, [0.0, -2.0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: opt.SGD(p, lr=-0.1), "lr"),
        (lambda p: opt.Adam(p, lr=0.0), "lr"),
        (lambda p: opt.Adam(p, lr=float("nan")), "lr"),
        (lambda p: opt.Adam(p, lr=1e-3, betas=(1.0, 0.999)), r"betas\[0\] must lie in \[0, 1\)"),
        (lambda p: opt.AdamW(p, lr=1e-3, betas=(0.9, -0.1)), r"betas\[1\] must lie in \[0, 1\)"),
        (lambda p: opt.Adam(p, lr=1e-3, betas=0.9), "betas must be a pair"),
        (lambda p: opt.RMSprop(p, lr=1e-3, alpha=1.5), "alpha"),
        (lambda p: opt.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: opt.Nesterov(p, lr=0.1, momentum=0.0), "Nesterov"),
        (lambda p: opt.AdaGrad(p, lr=0.1, eps=-1.0), "eps"),
        (lambda p: opt.make_optimizer("adamax", p, lr=0.1), "unknown optimizer"),
        (lambda p: opt.SGD([np.arange(3)], lr=0.1), "float NumPy array"),
        (lambda p: opt.SGD([], lr=0.1), "empty"),
    ],
)
def test_bad_hyperparameters_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make([np.zeros(3)])


def test_bad_gradients_raise_clear_errors():
    optimizer = opt.SGD([np.zeros(3), np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="2 parameters"):
        optimizer.step([np.zeros(3)])
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(3,\)"):
        optimizer.step([np.zeros(3), np.zeros(3)])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda o: opt.StepLR(o, step_size=3, gamma=0.5), lambda t: torch.optim.lr_scheduler.StepLR(t, 3, 0.5)),
        (
            lambda o: opt.CosineAnnealingLR(o, t_max=10, eta_min=0.01),
            lambda t: torch.optim.lr_scheduler.CosineAnnealingLR(t, T_max=10, eta_min=0.01),
        ),
    ],
)
def test_schedules_match_torch(ours, theirs):
    mine = ours(opt.SGD([np.zeros(1)], lr=0.2))
    torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    reference = theirs(torch_opt)
    for _ in range(15):
        torch_opt.step()
        reference.step()
        assert mine.step() == pytest.approx(reference.get_last_lr()[0], rel=1e-12, abs=1e-15)


def test_roadmap_functional_names_minimize_a_quadratic():
    from src.core.optimization import adam_optimizer, rmsprop

    def grad(x):
        return 2 * (x - 3.0)  # minimum of (x - 3)^2 at 3

    x, history = adam_optimizer(grad, [0.0, 10.0], lr=0.1, n_steps=500)
    assert np.allclose(x, 3.0, atol=1e-3) and len(history) == 501
    x, _ = rmsprop(grad, [0.0], lr=0.01, n_steps=2000)
    assert np.allclose(x, 3.0, atol=1e-2)
    x, _ = opt.minimize("sgd", grad, [0.0], lr=0.1, n_steps=200)
    assert np.allclose(x, 3.0, atol=1e-8)
