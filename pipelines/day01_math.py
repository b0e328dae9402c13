"""Day 1 stage: linear algebra from scratch, checked against numpy.linalg and benchmarked against BLAS.

    dvc repro day01_math                                   # what `make repro` runs, on params.yaml
    python -m pipelines.day01_math profile=smoke           # straight from conf/, for a quick look
    python -m pipelines.day01_math -m day01.matmul.repeats=1,3   # a Hydra sweep: one MLflow run each

Records (see src/tracking.py): a nested MLflow run per implementation, metrics.json, plot CSVs, figures.
"""

from dataclasses import dataclass, field

import hydra
import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg
from omegaconf import DictConfig
from tqdm import tqdm

from src.benchmark import best_time
from src.config import validate_or_exit
from src.core import linear_algebra as la
from src.core.matmul_benchmark import benchmark_matmul, speedups
from src.tracking import StageRun

STAGE = "day01_math"


# -- the stage's config schema: conf/day01/default.yaml must fit it ---------------------------------------
@dataclass
class MatmulConfig:
    sizes: list[int] = field(default_factory=lambda: [16, 32, 64])
    pure_python_max_size: int = 128
    repeats: int = 3

    def __post_init__(self):
        if not self.sizes or min(self.sizes) < 1:
            raise ValueError(f"matmul.sizes must be a non-empty list of positive integers, got {self.sizes}")
        if self.repeats < 1:
            raise ValueError(f"matmul.repeats must be >= 1, got {self.repeats}")


@dataclass
class DecompositionsConfig:
    size: int = 64

    def __post_init__(self):
        if self.size < 2:
            raise ValueError(f"decompositions.size must be >= 2, got {self.size}")


@dataclass
class StabilityConfig:
    size: int = 40
    log10_conditions: list[float] = field(default_factory=lambda: [0.0, 4.0, 8.0])


@dataclass
class LeastSquaresConfig:
    n_samples: int = 500
    n_features: int = 10
    noise: float = 0.1
    lr: float | None = None
    n_steps: int = 2000
    tol: float = 1e-10

    def __post_init__(self):
        if self.n_samples <= self.n_features:
            raise ValueError(f"least_squares.n_samples ({self.n_samples}) must exceed n_features ({self.n_features})")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"least_squares.lr must be positive or null (automatic), got {self.lr}")
        if self.n_steps < 1:
            raise ValueError(f"least_squares.n_steps must be >= 1, got {self.n_steps}")


@dataclass
class Day01Config:
    matmul: MatmulConfig = field(default_factory=MatmulConfig)
    decompositions: DecompositionsConfig = field(default_factory=DecompositionsConfig)
    stability: StabilityConfig = field(default_factory=StabilityConfig)
    least_squares: LeastSquaresConfig = field(default_factory=LeastSquaresConfig)


# -- the four experiments -----------------------------------------------------------------------------------
def run_matmul_benchmark(run: StageRun, cfg: MatmulConfig, seed: int):
    rows = benchmark_matmul(cfg.sizes, cfg.pure_python_max_size, cfg.repeats, seed)
    for impl in dict.fromkeys(r["implementation"] for r in rows):
        mine = [r for r in rows if r["implementation"] == impl]
        steps = [r["size"] for r in mine]
        run.log_series("seconds_by_size", [r["seconds"] for r in mine], variant=impl, steps=steps)
        run.log_series("gflops_by_size", [r["gflops"] for r in mine], variant=impl, steps=steps)
        run.log_metrics({"gflops_max": max(r["gflops"] for r in mine)}, variant=impl)
    size, speedup = speedups(rows)
    for impl, factor in speedup.items():
        run.log_metrics({f"speedup_vs_pure_python_n{size}": factor}, variant=impl)
    run.write_plot_data("matmul_benchmark", rows)

    fig, (ax_time, ax_rate) = plt.subplots(1, 2, figsize=(11, 4))
    for impl in dict.fromkeys(r["implementation"] for r in rows):
        mine = [r for r in rows if r["implementation"] == impl]
        ax_time.loglog([r["size"] for r in mine], [r["seconds"] for r in mine], "o-", label=impl)
        ax_rate.semilogx([r["size"] for r in mine], [r["gflops"] for r in mine], "o-", label=impl)
    ax_time.set(xlabel="n (n x n matrices)", ylabel="seconds (best of repeats)", title="Matmul time (log-log)")
    ax_rate.set(xlabel="n", ylabel="GFLOP/s = 2n^3 / s", title="Throughput", yscale="log")
    ax_time.legend()
    ax_time.grid(True, which="both", alpha=0.3)
    ax_rate.grid(True, which="both", alpha=0.3)
    run.log_figure(fig, "matmul_benchmark")


def _relative_error(x, y) -> float:
    return float(np.linalg.norm(x - y) / np.linalg.norm(y))


def _orthogonality_error(Q) -> float:
    return float(np.linalg.norm(Q.T @ Q - np.eye(Q.shape[1])))


def _decomposition_checks(A: np.ndarray, S: np.ndarray):
    """(operation, from-scratch call, reference name, reference call, score) for each decomposition.
    A is a general square matrix, S a symmetric positive definite one; errors are relative Frobenius norms."""
    eye = np.eye(len(A))

    def qr_score(qr):
        return {
            "reconstruction_error": _relative_error(qr[0] @ qr[1], A),
            "orthogonality_error": _orthogonality_error(qr[0]),
        }

    def eigh_score(wv):
        w, V = wv
        return {
            "reconstruction_error": _relative_error(V @ np.diag(w) @ V.T, S),
            "orthogonality_error": _orthogonality_error(V),
        }

    def svd_score(usv):
        U, s, Vt = usv
        return {
            "reconstruction_error": _relative_error(U @ np.diag(s) @ Vt, A),
            "orthogonality_error": _orthogonality_error(U),
        }

    return [
        (
            "inverse",
            lambda: la.inverse(A),
            "numpy_inv",
            lambda: np.linalg.inv(A),
            lambda inv: {"reconstruction_error": _relative_error(A @ inv, eye)},
        ),
        (
            "lu",
            lambda: la.lu(A),
            "scipy_lu",
            lambda: _scipy_lu_as_pa_eq_lu(A),
            lambda plu: {"reconstruction_error": _relative_error(plu[1] @ plu[2], plu[0] @ A)},
        ),
        ("qr_householder", lambda: la.qr_householder(A), "numpy_qr", lambda: np.linalg.qr(A), qr_score),
        ("qr_gram_schmidt", lambda: la.qr_gram_schmidt(A), "numpy_qr", lambda: np.linalg.qr(A), qr_score),
        (
            "cholesky",
            lambda: la.cholesky(S),
            "numpy_cholesky",
            lambda: np.linalg.cholesky(S),
            lambda L: {"reconstruction_error": _relative_error(L @ L.T, S)},
        ),
        ("eigh", lambda: la.eigh_jacobi(S), "numpy_eigh", lambda: np.linalg.eigh(S), eigh_score),
        ("svd", lambda: la.svd_jacobi(A), "numpy_svd", lambda: np.linalg.svd(A), svd_score),
    ]


def _scipy_lu_as_pa_eq_lu(A):
    """scipy returns A = P L U; our convention is P A = L U, so hand back P^T."""
    P, L, U = scipy.linalg.lu(A)
    return P.T, L, U


def run_decompositions(run: StageRun, cfg: DecompositionsConfig, seed: int):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((cfg.size, cfg.size))
    S = A @ A.T + cfg.size * np.eye(cfg.size)  # symmetric positive definite by construction
    rows = []
    for op, scratch, ref_name, reference, score in tqdm(_decomposition_checks(A, S), desc="decompositions"):
        seconds = {}
        for variant, call in ((f"scratch_{op}", scratch), (ref_name, reference)):
            seconds[variant] = best_time(call, repeats=3)  # both in this process, same matrices
            metrics = {**score(call()), "seconds": seconds[variant]}
            if variant not in run.metrics:  # numpy_qr is the reference of both QR variants: log it once
                run.log_metrics(metrics, variant=variant)
            rows.append(
                {
                    "operation": op,
                    "implementation": variant.split("_")[0],
                    "reconstruction_error": metrics["reconstruction_error"],
                    "seconds": seconds[variant],
                }
            )
        ratio = seconds[f"scratch_{op}"] / seconds[ref_name]
        run.log_metrics({"time_ratio_vs_reference": ratio}, variant=f"scratch_{op}")
    _scratch_vs_reference_spectra(run, A, S)
    run.write_plot_data("decompositions", rows)

    fig, (ax_err, ax_time) = plt.subplots(1, 2, figsize=(12, 4))
    ops = list(dict.fromkeys(r["operation"] for r in rows))
    x = np.arange(len(ops))
    for offset, impl, label in ((-0.2, "scratch", "from scratch"), (0.2, None, "NumPy/SciPy (LAPACK)")):
        mine = {r["operation"]: r for r in rows if (r["implementation"] == "scratch") == (impl == "scratch")}
        ax_err.bar(x + offset, [max(mine[o]["reconstruction_error"], 1e-18) for o in ops], 0.4, label=label)
        ax_time.bar(x + offset, [mine[o]["seconds"] for o in ops], 0.4, label=label)
    for ax, title in ((ax_err, "relative reconstruction error"), (ax_time, "seconds")):
        ax.set_xticks(x, ops, rotation=30, ha="right")
        ax.set(yscale="log", title=f"{title}, n={cfg.size}")
        ax.legend()
    run.log_figure(fig, "decompositions")


def _scratch_vs_reference_spectra(run: StageRun, A, S):
    """The invariant parts of eigh and SVD (their values) must agree with LAPACK's, not just reconstruct."""
    eig_diff = np.abs(la.eigh_jacobi(S)[0] - np.linalg.eigvalsh(S)).max()
    sv_diff = np.abs(la.svd_jacobi(A)[1] - np.linalg.svd(A, compute_uv=False)).max()
    run.log_metrics({"eigenvalues_max_abs_diff": eig_diff}, variant="scratch_eigh")
    run.log_metrics({"singular_values_max_abs_diff": sv_diff}, variant="scratch_svd")


def run_stability(run: StageRun, cfg: StabilityConfig, seed: int):
    """Loss of orthogonality ||Q^T Q - I|| as the condition number grows: classical Gram-Schmidt degrades like
    cond^2 * eps, modified GS like cond * eps, Householder stays at eps. Also the inverse's residual."""
    rng = np.random.default_rng(seed)
    methods = {
        "classical_gram_schmidt": lambda M: la.qr_gram_schmidt(M)[0],
        "modified_gram_schmidt": lambda M: la.qr_gram_schmidt(M, modified=True)[0],
        "householder": lambda M: la.qr_householder(M)[0],
        "numpy_qr": lambda M: np.linalg.qr(M)[0],
    }
    rows = []
    for log10_cond in tqdm(cfg.log10_conditions, desc="stability", unit="cond"):
        M = la.random_matrix_with_condition(cfg.size, 10.0**log10_cond, rng)
        row = {"log10_condition": log10_cond}
        for name, q_of in methods.items():
            Q = q_of(M)
            row[name] = float(np.linalg.norm(Q.T @ Q - np.eye(cfg.size)))
        eye = np.eye(cfg.size)
        row["scratch_inverse_residual"] = float(np.linalg.norm(M @ la.inverse(M) - eye))
        row["numpy_inverse_residual"] = float(np.linalg.norm(M @ np.linalg.inv(M) - eye))
        rows.append(row)
    run.write_plot_data("stability", rows)
    worst = rows[-1]
    run.log_metrics(
        {f"orthogonality_loss_cond1e{worst['log10_condition']:g}": worst["classical_gram_schmidt"]},
        variant="scratch_qr_gram_schmidt",
    )
    run.log_metrics(
        {f"orthogonality_loss_cond1e{worst['log10_condition']:g}": worst["householder"]},
        variant="scratch_qr_householder",
    )

    fig, (ax_q, ax_inv) = plt.subplots(1, 2, figsize=(11, 4))
    conds = [10.0 ** r["log10_condition"] for r in rows]
    for name in methods:
        ax_q.loglog(conds, [max(r[name], 1e-17) for r in rows], "o-", label=name)
    ax_q.loglog(conds, [np.finfo(float).eps * c**2 for c in conds], "k:", label="eps * cond^2")
    ax_q.set(xlabel="condition number", ylabel="||Q^T Q - I||_F", title="Loss of orthogonality", ylim=(1e-17, 1e2))
    for name in ("scratch_inverse_residual", "numpy_inverse_residual"):
        ax_inv.loglog(conds, [r[name] for r in rows], "o-", label=name)
    ax_inv.loglog(conds, [np.finfo(float).eps * c for c in conds], "k:", label="eps * cond")
    ax_inv.set(xlabel="condition number", ylabel="||A inv(A) - I||_F", title="Inverse residual")
    for ax in (ax_q, ax_inv):
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    run.log_figure(fig, "numerical_stability")


def run_least_squares(run: StageRun, cfg: LeastSquaresConfig, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((cfg.n_samples, cfg.n_features))
    w_true = rng.standard_normal(cfg.n_features)
    y = X @ w_true + cfg.noise * rng.standard_normal(cfg.n_samples)
    w_ref = np.linalg.lstsq(X, y, rcond=None)[0]

    def gradient_descent():
        return la.lstsq_gradient_descent(X, y, lr=cfg.lr, n_steps=cfg.n_steps, tol=cfg.tol)

    ref_seconds = best_time(lambda: np.linalg.lstsq(X, y, rcond=None))
    ref_mse = float(np.mean((X @ w_ref - y) ** 2))
    run.log_metrics({"final_mse": ref_mse, "seconds": ref_seconds}, variant="numpy_lstsq")

    w_gd, losses = gradient_descent()
    gd_seconds = best_time(gradient_descent)
    run.log_series("mse", losses, variant="scratch_gradient_descent")
    run.log_metrics(
        {
            "weights_max_abs_diff": np.abs(w_gd - w_ref).max(),
            "final_mse": losses[-1],
            "steps": len(losses) - 1,
            "seconds": gd_seconds,
            "time_ratio_vs_reference": gd_seconds / ref_seconds,
        },
        variant="scratch_gradient_descent",
    )
    w_ne = la.lstsq_normal_equations(X, y)
    ne_seconds = best_time(lambda: la.lstsq_normal_equations(X, y))
    run.log_metrics(
        {
            "weights_max_abs_diff": np.abs(w_ne - w_ref).max(),
            "seconds": ne_seconds,
            "time_ratio_vs_reference": ne_seconds / ref_seconds,
        },
        variant="scratch_normal_equations",
    )
    run.write_plot_data("least_squares_loss", [{"step": i, "mse": v} for i, v in enumerate(losses)])

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(np.array(losses) - ref_mse + 1e-16, label="gradient descent: MSE - optimum")
    ax.set(xlabel="step", ylabel="excess MSE (log)", title="Least squares by gradient descent")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    run.log_figure(fig, "least_squares_convergence")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    day01 = validate_or_exit(cfg, "day01", Day01Config)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, section="day01") as run:
        run_matmul_benchmark(run, day01.matmul, cfg.seed)
        run_decompositions(run, day01.decompositions, cfg.seed)
        run_stability(run, day01.stability, cfg.seed)
        run_least_squares(run, day01.least_squares, cfg.seed)


if __name__ == "__main__":
    main()
