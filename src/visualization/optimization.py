"""Day 2's optimizer figures: loss curves per problem (with the paths on Rosenbrock's contours) and the
learning-rate sweep that picked each optimizer's rate."""

import matplotlib.pyplot as plt
import numpy as np

FLOOR = 1e-16  # excess losses are drawn on a log scale: exact zeros sit on this floor


def convergence(problem, best_runs: dict, n_steps: int):
    """Excess loss f(x_k) - f* per step for each optimizer at its best learning rate; for a 2-D problem also
    the paths on the loss's contours (where momentum's overshoot and Adam's sign-like steps are visible)."""
    two_d = next(iter(best_runs.values())).path is not None
    fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(13 if two_d else 7, 4.5), squeeze=False)
    ax = axes[0, 0]
    for name, run in best_runs.items():
        steps = run.steps_to_tol(problem.tol)
        label = f"{name} (lr={run.lr:g}, {'tol at ' + str(steps) if steps is not None else 'tol not reached'})"
        ax.semilogy(np.maximum(run.excess_loss, FLOOR), label=label, lw=1.2)
    ax.axhline(problem.tol, color="k", ls=":", lw=1, label=f"tol = {problem.tol:g}")
    ax.set(xlabel="step", ylabel="f(x) - f* (log)", title=f"{problem.name}: each optimizer at its best lr")
    ax.set_xlim(0, n_steps)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    if two_d:
        _paths_on_contours(axes[0, 1], problem, best_runs)
    return fig


def _paths_on_contours(ax, problem, best_runs: dict):
    paths = [run.path[np.isfinite(run.path[:, 0])] for run in best_runs.values()]
    points = np.vstack([problem.x0[None, :], *paths])
    lo, hi = np.percentile(points, [0.5, 99.5], axis=0)
    pad = 0.2 * (hi - lo) + 0.1
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200)
    Z = np.array([[problem.loss(np.array([x, y])) for x in xs] for y in ys])
    ax.contour(xs, ys, np.log10(Z - problem.optimum + 1e-3), levels=20, cmap="Greys", linewidths=0.6)
    for name, path in zip(best_runs, paths, strict=True):
        ax.plot(path[:, 0], path[:, 1], lw=1, label=name)
    ax.plot(*problem.x0, "ko", ms=4)
    ax.set(xlabel="x", ylabel="y", title="paths (contours of log f)")
    ax.legend(fontsize=7)


def lr_sweep(rows: list[dict], problems: list[str]):
    """Final excess loss against learning rate, one panel per problem; a cross marks a diverged run."""
    fig, axes = plt.subplots(1, len(problems), figsize=(5 * len(problems), 4), squeeze=False)
    for ax, problem in zip(axes[0], problems, strict=True):
        mine = [r for r in rows if r["problem"] == problem]
        top = max([r["final_excess_loss"] for r in mine if np.isfinite(r["final_excess_loss"])] + [1.0]) * 10
        for i, name in enumerate(dict.fromkeys(r["optimizer"] for r in mine)):
            runs = [r for r in mine if r["optimizer"] == name]
            lrs = np.array([r["lr"] for r in runs])
            final = np.array([r["final_excess_loss"] for r in runs])
            (line,) = ax.loglog(lrs, np.maximum(np.where(np.isfinite(final), final, np.nan), FLOOR), "o-", label=name)
            diverged = ~np.isfinite(final)
            row = top * 3.0**i  # one row of crosses per optimizer, so they do not hide each other
            ax.loglog(lrs[diverged], np.full(diverged.sum(), row), "x", color=line.get_color(), ms=7)
        ax.set(xlabel="learning rate", ylabel="final f - f* (log; x = diverged)", title=problem)
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Learning-rate sweep: each optimizer's best rate is used in the comparison")
    fig.tight_layout()
    return fig
