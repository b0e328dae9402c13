"""Gradient-based optimizers from scratch: SGD, momentum, Nesterov, AdaGrad, RMSprop, Adam, AdamW.

Every optimizer follows torch.optim's update rule exactly (tests/core/test_optimization.py holds each one to the
same 100-step parameter trajectory as its torch.optim counterpart, to 1e-6 in float64).

The interface (day 4's neural networks train with it):

    params = [W, b]                       # NumPy float arrays of any shape (0-d included), updated IN PLACE
    opt = Adam(params, lr=1e-3)           # or make_optimizer("adam", params, lr=1e-3, betas=(0.9, 0.999))
    for batch in batches:
        grads = compute_gradients(params, batch)   # one array per parameter, same shapes, same order
        opt.step(grads)                            # params now hold the updated values
    scheduler = CosineAnnealingLR(opt, t_max=100)  # optional: scheduler.step() once per epoch sets opt.lr

A single array may be passed instead of a list (`Adam(x, lr=0.1).step(g)`). The optimizer keeps references to
the arrays, so a model that reads its weights from the same arrays sees every update without copying.

The roadmap's functional names run a whole minimization of a function given by its gradient, like day 1's
`gradient_descent(grad, x0, lr, n_steps)`, and return (x, history):

    from src.core.optimization import adam_optimizer, rmsprop
    x, history = adam_optimizer(grad, x0, lr=0.1, n_steps=500)

Notation below: g the gradient, t the step count (from 1), lr the learning rate.
"""

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np


# -- argument checks: a bad hyperparameter fails here with a message that names it -------------------------
def _check_nonnegative(name: str, value) -> float:
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def _check_lr(lr) -> float:
    if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr (learning rate) must be a positive finite number, got {lr!r}; try 1e-3.")
    return float(lr)


def _check_decay_rate(name: str, value) -> float:
    """A decay rate of an exponential moving average (Adam's betas, RMSprop's alpha) lies in [0, 1)."""
    if not (isinstance(value, numbers.Real) and 0 <= value < 1):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}; the usual values are 0.9 and 0.999.")
    return float(value)


def _as_array_list(arrays, name: str) -> list[np.ndarray]:
    if isinstance(arrays, np.ndarray):
        return [arrays]
    if not isinstance(arrays, Sequence) or isinstance(arrays, str):
        raise ValueError(f"{name} must be a NumPy array or a list of them, got {type(arrays).__name__}.")
    return list(arrays)


def _check_params(params) -> list[np.ndarray]:
    params = _as_array_list(params, "params")
    if not params:
        raise ValueError("params is empty: pass the list of parameter arrays to optimize.")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            kind = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
            raise ValueError(
                f"params[{i}] must be a float NumPy array (it is updated in place), got {kind}; "
                "convert it with np.asarray(x, dtype=float) and keep a reference to that array."
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; pass a writable copy (np.array(x)).")
    return params


class Optimizer(ABC):
    """Base class: holds the parameter arrays and lr, checks gradients, counts steps.

    A subclass implements `_update(i, p, g)`, which changes parameter array `p` (index i) in place."""

    def __init__(self, params, lr: float):
        self.params = _check_params(params)
        self.lr = _check_lr(lr)
        self.step_count = 0

    def step(self, grads) -> None:
        """Apply one update to every parameter, in place. grads[i] has params[i]'s shape."""
        grads = _as_array_list(grads, "grads")
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradients for {len(self.params)} parameters; pass one per parameter.")
        checked = []
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            g = np.asarray(g, dtype=p.dtype)
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}.")
            checked.append(g)
        self.step_count += 1
        for i, (p, g) in enumerate(zip(self.params, checked, strict=True)):
            self._update(i, p, g)

    @abstractmethod
    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        """Update params[i] (p) in place from its gradient g: each optimizer's rule."""

    def _add_l2_penalty(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The gradient of loss + (weight_decay / 2) ||p||^2: g + weight_decay * p (a new array, never the caller's)."""
        return g + self.weight_decay * p if self.weight_decay else g

    def _zeros(self) -> list[np.ndarray]:
        """One zero array per parameter: the optimizer's running state."""
        return [np.zeros_like(p) for p in self.params]

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in vars(self).items() if isinstance(v, float | int | bool | tuple))
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum and L2 weight decay.

    g <- g + weight_decay * p
    plain:     p <- p - lr * g
    momentum:  v <- momentum * v + (1 - dampening) * g   (v = g on the first step)
               p <- p - lr * v                           (heavy ball: velocity accumulates along
                                                          consistent directions, cancels in oscillating ones)
    nesterov:  p <- p - lr * (g + momentum * v)          (look ahead along the velocity)
    """

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.momentum = _check_nonnegative("momentum", momentum)
        self.dampening = float(dampening)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0.")
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def _update(self, i, p, g):
        g = self._add_l2_penalty(p, g)
        if self.momentum:
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = g.copy()
            else:
                v *= self.momentum
                v += (1 - self.dampening) * g
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


class Momentum(SGD):
    """SGD with heavy-ball momentum (see SGD): v <- momentum * v + g; p <- p - lr * v."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        if momentum <= 0:
            raise ValueError(f"momentum must be > 0 for the Momentum optimizer, got {momentum!r} (use SGD).")
        super().__init__(params, lr, momentum=momentum, weight_decay=weight_decay)


class Nesterov(SGD):
    """SGD with Nesterov momentum (see SGD): v <- momentum * v + g; p <- p - lr * (g + momentum * v)."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)


class AdaGrad(Optimizer):
    """AdaGrad: a per-coordinate step that shrinks with the sum of all squared gradients seen so far.

        s <- s + g^2
        p <- p - lr_t * g / (sqrt(s) + eps),    lr_t = lr / (1 + (t - 1) * lr_decay)

    Rare features (small accumulated s) keep large steps; the step of every coordinate decays like 1/sqrt(t)
    even when it should not, which is what RMSprop fixes."""

    def __init__(
        self,
        params,
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        eps: float = 1e-10,
        initial_accumulator_value: float = 0.0,
    ):
        super().__init__(params, lr)
        self.lr_decay = _check_nonnegative("lr_decay", lr_decay)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.eps = _check_nonnegative("eps", eps)
        initial = _check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        self.sum_of_squares = [np.full_like(p, initial) for p in self.params]

    def _update(self, i, p, g):
        g = self._add_l2_penalty(p, g)
        s = self.sum_of_squares[i]
        s += g * g
        lr_t = self.lr / (1 + (self.step_count - 1) * self.lr_decay)
        p -= lr_t * g / (np.sqrt(s) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: AdaGrad with a forgetting average of squared gradients, so steps do not decay to zero.

    v <- alpha * v + (1 - alpha) * g^2
    centered:  mu <- alpha * mu + (1 - alpha) * g;  denominator sqrt(v - mu^2) + eps  (a variance)
    else:      denominator sqrt(v) + eps
    momentum:  b <- momentum * b + g / denominator;  p <- p - lr * b
    else:      p <- p - lr * g / denominator
    """

    def __init__(
        self,
        params,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(params, lr)
        self.alpha = _check_decay_rate("alpha", alpha)
        self.eps = _check_nonnegative("eps", eps)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.momentum = _check_nonnegative("momentum", momentum)
        self.centered = bool(centered)
        self.square_avg = self._zeros()
        self.grad_avg = self._zeros()
        self.buffer = self._zeros()

    def _update(self, i, p, g):
        g = self._add_l2_penalty(p, g)
        v = self.square_avg[i]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        if self.centered:
            mu = self.grad_avg[i]
            mu *= self.alpha
            mu += (1 - self.alpha) * g
            denominator = np.sqrt(v - mu * mu) + self.eps
        else:
            denominator = np.sqrt(v) + self.eps
        if self.momentum:
            b = self.buffer[i]
            b *= self.momentum
            b += g / denominator
            p -= self.lr * b
        else:
            p -= self.lr * g / denominator


class Adam(Optimizer):
    """Adam: momentum (first moment m) divided by an RMSprop-style scale (second moment v), bias-corrected.

        g <- g + weight_decay * p                (L2 penalty folded into the gradient: Adam's original form)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (m, v start at 0: undo that bias)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    The step m_hat / sqrt(v_hat) is about +-1 per coordinate whatever the gradient's scale, so one lr suits
    badly scaled coordinates alike: that is why Adam often beats plain SGD on ill-conditioned problems.
    amsgrad=True divides by the running maximum of v_hat instead (a non-increasing step size).
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr)
        if not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}.")
        self.betas = (_check_decay_rate("betas[0]", betas[0]), _check_decay_rate("betas[1]", betas[1]))
        self.eps = _check_nonnegative("eps", eps)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)
        self.m = self._zeros()
        self.v = self._zeros()
        self.v_max = self._zeros()

    def _update(self, i, p, g):
        beta1, beta2 = self.betas
        if self.weight_decay:
            if self.decoupled_weight_decay:
                p *= 1 - self.lr * self.weight_decay
            else:
                g = self._add_l2_penalty(p, g)
        m, v = self.m[i], self.v[i]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if self.amsgrad:
            np.maximum(self.v_max[i], v, out=self.v_max[i])
            v = self.v_max[i]
        m_hat = m / (1 - beta1**self.step_count)
        v_hat = v / (1 - beta2**self.step_count)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p <- p * (1 - lr * weight_decay), then the Adam
    step on the raw gradient. With Adam's L2 form the decay is divided by sqrt(v_hat) like the gradient, so
    coordinates with large gradients are barely regularized; decoupling decays every weight at the same rate."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def make_optimizer(name: str, params, lr: float, **hyperparameters) -> Optimizer:
    """OPTIMIZERS[name](params, lr=lr, **hyperparameters), with a clear error for an unknown name."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}.")
    return OPTIMIZERS[name](params, lr=lr, **hyperparameters)


# -- learning-rate schedules: call .step() once per epoch (or per step), they set optimizer.lr -------------
class LRScheduler(ABC):
    """Sets optimizer.lr = lr_at(epoch) on each step(); epoch 0 is the optimizer's initial lr."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    @abstractmethod
    def lr_at(self, epoch: int) -> float:
        """The learning rate after `epoch` steps: each schedule's formula."""

    def step(self) -> float:
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)
        return self.optimizer.lr


class StepLR(LRScheduler):
    """lr_e = base_lr * gamma^floor(e / step_size): divide the rate by a constant every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if not (isinstance(step_size, numbers.Integral) and step_size >= 1):
            raise ValueError(f"step_size must be an integer >= 1, got {step_size!r}.")
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must lie in (0, 1], got {gamma!r}.")
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / t_max)) / 2: a smooth decay to eta_min at
    e = t_max (and back up after it, as torch's schedule does)."""

    def __init__(self, optimizer: Optimizer, t_max: int, eta_min: float = 0.0):
        if not (isinstance(t_max, numbers.Integral) and t_max >= 1):
            raise ValueError(f"t_max must be an integer >= 1, got {t_max!r}.")
        super().__init__(optimizer)
        self.t_max, self.eta_min = t_max, _check_nonnegative("eta_min", eta_min)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.t_max)) / 2


# -- the roadmap's functional names: minimize a function given its gradient ---------------------------------
def minimize(name: str, grad: Callable, x0, lr: float, n_steps: int, **hyperparameters):
    """Run optimizer `name` for n_steps on x (a copy of x0): x <- step(x, grad(x)). Returns (x, history) with
    history the iterates [x_0, x_1, ..., x_n] (copies), as day 1's gradient_descent does."""
    if not (isinstance(n_steps, numbers.Integral) and n_steps >= 1):
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}.")
    x = np.array(x0, dtype=float)
    optimizer = make_optimizer(name, [x], lr, **hyperparameters)
    history = [x.copy()]
    for _ in range(n_steps):
        optimizer.step([grad(x)])
        history.append(x.copy())
    return x, history


# the two the roadmap imports by name; any other optimizer: minimize("nesterov", grad, x0, lr, n_steps)
def rmsprop(grad, x0, lr=0.01, n_steps=100, alpha=0.99, eps=1e-8, **hyperparameters):
    """RMSprop from x0 for n_steps (see RMSprop). Returns (x, history)."""
    return minimize("rmsprop", grad, x0, lr, n_steps, alpha=alpha, eps=eps, **hyperparameters)


def adam_optimizer(grad, x0, lr=1e-3, n_steps=100, betas=(0.9, 0.999), eps=1e-8, **hyperparameters):
    """Adam from x0 for n_steps (see Adam). Returns (x, history)."""
    return minimize("adam", grad, x0, lr, n_steps, betas=betas, eps=eps, **hyperparameters)
