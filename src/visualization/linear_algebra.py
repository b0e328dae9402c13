"""Day 1's figures: matmul speed, decomposition accuracy, numerical stability, gradient-descent convergence."""

import matplotlib.pyplot as plt
import numpy as np

EPS = np.finfo(float).eps


def _by_implementation(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["implementation"], []).append(row)
    return groups


def matmul_benchmark(rows: list[dict]):
    """Seconds (log-log: the slope is the exponent, 3 for all of them) and GFLOP/s against n."""
    fig, (ax_time, ax_rate) = plt.subplots(1, 2, figsize=(11, 4))
    for impl, mine in _by_implementation(rows).items():
        sizes = [r["size"] for r in mine]
        ax_time.loglog(sizes, [r["seconds"] for r in mine], "o-", label=impl)
        ax_rate.loglog(sizes, [r["gflops"] for r in mine], "o-", label=impl)
    ax_time.set(xlabel="n (n x n matrices)", ylabel="seconds (fastest call)", title="Matmul time (log-log)")
    ax_rate.set(xlabel="n", ylabel="GFLOP/s = 2n^3 / s", title="Throughput")
    for ax in (ax_time, ax_rate):
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
    return fig


def decompositions(rows: list[dict], n: int):
    """Reconstruction error and seconds per operation, from scratch next to LAPACK (log scales)."""
    fig, (ax_err, ax_time) = plt.subplots(1, 2, figsize=(12, 4))
    ops = list(dict.fromkeys(r["operation"] for r in rows))
    x = np.arange(len(ops))
    for offset, scratch, label in ((-0.2, True, "from scratch"), (0.2, False, "NumPy/SciPy (LAPACK)")):
        mine = {r["operation"]: r for r in rows if (r["implementation"] == "scratch") == scratch}
        ax_err.bar(x + offset, [max(mine[o]["reconstruction_error"], 1e-18) for o in ops], 0.4, label=label)
        ax_time.bar(x + offset, [mine[o]["seconds"] for o in ops], 0.4, label=label)
    for ax, title in ((ax_err, "relative reconstruction error"), (ax_time, "seconds")):
        ax.set_xticks(x, ops, rotation=30, ha="right")
        ax.set(yscale="log", title=f"{title}, n={n}")
        ax.legend()
    return fig


def numerical_stability(rows: list[dict], qr_methods: list[str]):
    """Loss of orthogonality per QR method and the inverse's residual, against the condition number,
    with the textbook error bounds eps*cond^2 and eps*cond drawn dotted."""
    fig, (ax_q, ax_inv) = plt.subplots(1, 2, figsize=(11, 4))
    conds = np.array([10.0 ** r["log10_condition"] for r in rows])
    for name in qr_methods:
        ax_q.loglog(conds, [max(r[name], 1e-17) for r in rows], "o-", label=name)
    ax_q.loglog(conds, EPS * conds**2, "k:", label="eps * cond^2")
    ax_q.set(xlabel="condition number", ylabel="||Q^T Q - I||_F", title="Loss of orthogonality", ylim=(1e-17, 1e2))
    for name in ("scratch_inverse_residual", "numpy_inverse_residual"):
        ax_inv.loglog(conds, [r[name] for r in rows], "o-", label=name)
    ax_inv.loglog(conds, EPS * conds, "k:", label="eps * cond")
    ax_inv.set(xlabel="condition number", ylabel="||A inv(A) - I||_F", title="Inverse residual")
    for ax in (ax_q, ax_inv):
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    return fig


def least_squares_convergence(losses: list[float], optimum: float):
    """Excess MSE per step on a log scale: a straight line is linear convergence, as theory predicts for
    gradient descent on a strongly convex quadratic."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(np.array(losses) - optimum + 1e-16, label="gradient descent: MSE - optimum")
    ax.set(xlabel="step", ylabel="excess MSE (log)", title="Least squares by gradient descent")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig
