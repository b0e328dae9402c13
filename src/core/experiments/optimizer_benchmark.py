"""Race the from-scratch optimizers on a Problem: a learning-rate sweep per optimizer, the best run of each,
and a same-process check against torch.optim (trajectory difference and time ratio).

Fairness: every optimizer gets the same grid of learning rates and the same step budget; its best rate is the
one that gets (and stays) within the tolerance in the fewest steps, or, if none does, ends with the lowest loss.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from src.benchmark import best_time
from src.core.experiments.optimization_problems import Problem
from src.core.optimization import make_optimizer

DIVERGED = 1e12  # an excess loss this large (or NaN) counts as diverged: the step size was too big


@dataclass
class OptimizerRun:
    optimizer: str
    lr: float
    excess_loss: np.ndarray  # f(x_k) - f* for k = 0..n_steps (inf after a divergence)
    path: np.ndarray | None = None  # the iterates (n_steps + 1, dim) for 2-D problems, for contour plots
    seconds: float = 0.0
    diverged: bool = field(init=False)

    def __post_init__(self):
        self.diverged = not np.isfinite(self.excess_loss[-1])

    def steps_to_tol(self, tol: float) -> int | None:
        """The first step k from which f(x_j) - f* <= tol for every j >= k (an optimizer that touches the
        tolerance and bounces out again has not converged), or None if it ends above tol."""
        above = np.flatnonzero(~(self.excess_loss <= tol))
        if len(above) == 0:
            return 0
        return None if above[-1] == len(self.excess_loss) - 1 else int(above[-1]) + 1

    @property
    def final_excess_loss(self) -> float:
        return float(self.excess_loss[-1])


def run_optimizer(problem: Problem, name: str, lr: float, n_steps: int, hyperparameters: dict) -> OptimizerRun:
    """n_steps of optimizer `name` from problem.x0; records the excess loss after every step."""
    x = problem.x0.copy()
    optimizer = make_optimizer(name, [x], lr, **hyperparameters)
    excess = np.full(n_steps + 1, np.inf)
    path = np.full((n_steps + 1, len(x)), np.nan) if len(x) == 2 else None
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # a divergence is detected and recorded, not warned
        for k in range(n_steps + 1):
            value = problem.loss(x) - problem.optimum
            if not (np.isfinite(value) and value < DIVERGED):
                break
            excess[k] = max(value, 0.0)  # the reference optimum can be a hair above what we reach
            if path is not None:
                path[k] = x
            if k < n_steps:
                optimizer.step([problem.grad(x)])
    return OptimizerRun(name, lr, excess, path, time.perf_counter() - started)


def _rank(run: OptimizerRun, tol: float) -> tuple[float, float]:
    steps = run.steps_to_tol(tol)
    return (steps if steps is not None else np.inf, run.final_excess_loss)


def lr_sweep(problem: Problem, optimizers: dict[str, dict], lrs: list[float], n_steps: int, progress=None):
    """Every optimizer at every learning rate. Returns (all runs, {optimizer: its best run})."""
    runs = []
    for name, hyperparameters in optimizers.items():
        for lr in lrs:
            runs.append(run_optimizer(problem, name, lr, n_steps, hyperparameters))
            if progress is not None:
                progress.update(1)
    best = {}
    for run in runs:
        if run.optimizer not in best or _rank(run, problem.tol) < _rank(best[run.optimizer], problem.tol):
            best[run.optimizer] = run
    return runs, best


def sweep_rows(problem: Problem, runs: list[OptimizerRun]) -> list[dict]:
    """One row per (optimizer, lr) run of a sweep, for the lr-sweep plot CSV ("" where tol was never reached)."""
    rows = []
    for r in runs:
        steps = r.steps_to_tol(problem.tol)
        rows.append(
            {
                "problem": problem.name,
                "optimizer": r.optimizer,
                "lr": r.lr,
                "final_excess_loss": r.final_excess_loss,
                "steps_to_tol": steps if steps is not None else "",
            }
        )
    return rows


def best_run_metrics(run: OptimizerRun, tol: float) -> dict[str, float]:
    """What an optimizer's best run achieved: its lr, final excess loss, whether (and when) it reached tol."""
    reached = run.steps_to_tol(tol)
    metrics = {"best_lr": run.lr, "final_excess_loss": run.final_excess_loss, "reached_tol": reached is not None}
    return metrics | ({"steps_to_tol": reached} if reached is not None else {})


def curve_rows(best: dict[str, OptimizerRun], steps: np.ndarray) -> list[dict]:
    """The best runs' excess loss at the given steps, one column per optimizer (the convergence plot CSV)."""
    return [{"step": int(k), **{name: float(r.excess_loss[k]) for name, r in best.items()}} for k in steps]


# -- the same trajectory through torch.optim ---------------------------------------------------------------
TORCH_EQUIVALENT = {  # our name -> (torch.optim class name, extra arguments torch needs to match our defaults)
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
}


def compare_with_torch(problem: Problem, name: str, lr: float, n_steps: int, hyperparameters: dict) -> dict:
    """Run n_steps of ours and of torch.optim's counterpart on the same gradients (float64, one torch thread:
    tiny tensors gain nothing from a thread pool). Returns the largest parameter difference over the whole
    trajectory and the best-of-several seconds of each, both in this process."""
    import torch

    torch_class, extra = TORCH_EQUIVALENT[name]
    torch_kwargs = {**extra, **hyperparameters, "lr": lr}

    def ours():
        x = problem.x0.copy()
        optimizer, path = make_optimizer(name, [x], lr, **hyperparameters), []
        for _ in range(n_steps):
            optimizer.step([problem.grad(x)])
            path.append(x.copy())
        return np.array(path)

    def theirs():
        x = torch.tensor(problem.x0.copy(), requires_grad=True)
        optimizer, path = getattr(torch.optim, torch_class)([x], **torch_kwargs), []
        for _ in range(n_steps):
            x.grad = torch.from_numpy(problem.grad(x.detach().numpy()))
            optimizer.step()
            path.append(x.detach().numpy().copy())
        return np.array(path)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            difference = float(np.nanmax(np.abs(ours() - theirs())))
            scratch_seconds, torch_seconds = best_time(ours), best_time(theirs)
    finally:
        torch.set_num_threads(threads)
    return {
        "trajectory_max_abs_diff_vs_torch": difference,
        "seconds": scratch_seconds,
        "torch_seconds": torch_seconds,
        "time_ratio_vs_torch": scratch_seconds / torch_seconds,
    }


def curve_indices(n_steps: int, max_points: int) -> np.ndarray:
    """At most max_points step indices, always including 0 and n_steps, for logging a long curve."""
    return np.unique(np.linspace(0, n_steps, min(max_points, n_steps + 1)).round().astype(int))
