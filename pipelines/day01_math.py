"""Day 1 stage: linear algebra from scratch, checked against numpy.linalg and benchmarked against BLAS.

    dvc repro day01_math                                   # what `make repro` runs, on params.yaml
    python -m pipelines.day01_math profile=smoke           # straight from conf/, for a quick look
    python -m pipelines.day01_math -m day01.matmul.repeats=1,3   # a Hydra sweep: one MLflow run each

Records (see src/tracking.py): a nested MLflow run per implementation, metrics.json, plot CSVs, figures.
"""

from dataclasses import dataclass, field

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from src.benchmark import best_time
from src.config import validate_or_exit
from src.core import linear_algebra as la
from src.core.experiments.matmul_benchmark import benchmark_matmul, speedups
from src.core.experiments.numerical_checks import QR_METHODS, decomposition_checks, stability_sweep
from src.tracking import StageRun
from src.visualization import linear_algebra as figures

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
    run.log_figure(figures.matmul_benchmark(rows), "matmul_benchmark")


def run_decompositions(run: StageRun, cfg: DecompositionsConfig, seed: int):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((cfg.size, cfg.size))
    S = A @ A.T + cfg.size * np.eye(cfg.size)  # symmetric positive definite by construction
    rows = []
    for check in tqdm(decomposition_checks(A, S), desc="decompositions", unit="op"):
        scratch_name = f"scratch_{check.operation}"
        seconds = {}
        for variant, call in ((scratch_name, check.scratch), (check.reference_name, check.reference)):
            seconds[variant] = best_time(call, repeats=3)  # both in this process, on the same matrices
            metrics = {**check.score(call()), "seconds": seconds[variant]}
            if variant not in run.metrics:  # numpy_qr is the reference of both QR variants: log it once
                run.log_metrics(metrics, variant=variant)
            rows.append(
                {
                    "operation": check.operation,
                    "implementation": variant.split("_")[0],
                    "reconstruction_error": metrics["reconstruction_error"],
                    "seconds": seconds[variant],
                }
            )
        ratio = seconds[scratch_name] / seconds[check.reference_name]
        run.log_metrics({"time_ratio_vs_reference": ratio}, variant=scratch_name)
    # the invariant parts of eigh and SVD (the values themselves) must agree with LAPACK's, not just reconstruct
    eig_diff = np.abs(la.eigh_jacobi(S)[0] - np.linalg.eigvalsh(S)).max()
    sv_diff = np.abs(la.svd_jacobi(A)[1] - np.linalg.svd(A, compute_uv=False)).max()
    run.log_metrics({"eigenvalues_max_abs_diff": eig_diff}, variant="scratch_eigh")
    run.log_metrics({"singular_values_max_abs_diff": sv_diff}, variant="scratch_svd")
    run.write_plot_data("decompositions", rows)
    run.log_figure(figures.decompositions(rows, cfg.size), "decompositions")


def run_stability(run: StageRun, cfg: StabilityConfig, seed: int):
    rows = stability_sweep(cfg.size, tqdm(cfg.log10_conditions, desc="stability"), np.random.default_rng(seed))
    run.write_plot_data("stability", rows)
    worst = rows[-1]
    key = f"orthogonality_loss_cond1e{worst['log10_condition']:g}"
    run.log_metrics({key: worst["classical_gram_schmidt"]}, variant="scratch_qr_gram_schmidt")
    run.log_metrics({key: worst["householder"]}, variant="scratch_qr_householder")
    run.log_figure(figures.numerical_stability(rows, list(QR_METHODS)), "numerical_stability")


def run_least_squares(run: StageRun, cfg: LeastSquaresConfig, seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((cfg.n_samples, cfg.n_features))
    w_true = rng.standard_normal(cfg.n_features)
    y = X @ w_true + cfg.noise * rng.standard_normal(cfg.n_samples)

    def gradient_descent():
        return la.lstsq_gradient_descent(X, y, lr=cfg.lr, n_steps=cfg.n_steps, tol=cfg.tol)

    w_ref = np.linalg.lstsq(X, y, rcond=None)[0]
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
    run.log_figure(figures.least_squares_convergence(losses, ref_mse), "least_squares_convergence")


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
