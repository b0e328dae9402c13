"""Day 1 stage: linear algebra from scratch, checked against numpy.linalg and benchmarked against BLAS.

    dvc repro day01_math                                   # what `make repro` runs, on params.yaml
    python -m pipelines.day01_math profile=smoke           # straight from conf/, for a quick look
    python -m pipelines.day01_math -m day01.matmul.repeats=1,3   # a Hydra sweep: one MLflow run each

Records (see src/tracking.py): a nested MLflow run per implementation, metrics.json, plot CSVs, figures.
"""

from dataclasses import dataclass

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from src.config import setting, validate_or_exit
from src.core.experiments import least_squares, numerical_checks
from src.core.experiments.matmul_benchmark import benchmark_matmul, speedups
from src.tracking import StageRun
from src.visualization import linear_algebra as figures

STAGE = "day01_math"
SECTION = "day01"


# -- the stage's config schema: conf/day01/default.yaml gives every value ----------------------------------
@dataclass
class MatmulConfig:
    sizes: list[int] = setting(at_least=1)
    pure_python_max_size: int = setting(at_least=1)
    repeats: int = setting(at_least=1)

    def __post_init__(self):
        if self.pure_python_max_size < min(self.sizes):
            raise ValueError(
                f"{SECTION}.matmul.pure_python_max_size ({self.pure_python_max_size}) is below every size in "
                f"sizes {self.sizes}: the pure-Python baseline would never run, so no speed-up could be measured"
            )


@dataclass
class DecompositionsConfig:
    size: int = setting(at_least=2)


@dataclass
class StabilityConfig:
    size: int = setting(at_least=2)
    log10_conditions: list[float] = setting(at_least=0, at_most=15)  # past 1e16 = 1/eps no double can hold it


@dataclass
class LeastSquaresConfig:
    n_samples: int = setting(at_least=2)
    n_features: int = setting(at_least=1)
    noise: float = setting(at_least=0)
    lr: float | None = setting(above=0, optional=True)  # null: 1/L, the safe step
    n_steps: int = setting(at_least=1)
    tol: float = setting(above=0)

    def __post_init__(self):
        if self.n_samples <= self.n_features:
            raise ValueError(
                f"{SECTION}.least_squares.n_samples ({self.n_samples}) must exceed n_features ({self.n_features})"
            )


@dataclass
class Day01Config:
    matmul: MatmulConfig
    decompositions: DecompositionsConfig
    stability: StabilityConfig
    least_squares: LeastSquaresConfig


SCHEMA = Day01Config


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
    A, S = numerical_checks.decomposition_matrices(cfg.size, np.random.default_rng(seed))
    rows, metrics = numerical_checks.compare_decompositions(A, S)
    for variant, values in metrics.items():
        run.log_metrics(values, variant=variant)
    run.write_plot_data("decompositions", rows)
    run.log_figure(figures.decompositions(rows, cfg.size), "decompositions")


def run_stability(run: StageRun, cfg: StabilityConfig, seed: int):
    conditions = tqdm(cfg.log10_conditions, desc="stability")
    rows = numerical_checks.stability_sweep(cfg.size, conditions, np.random.default_rng(seed))
    run.write_plot_data("stability", rows)
    worst = rows[-1]
    key = f"orthogonality_loss_cond1e{worst['log10_condition']:g}"
    run.log_metrics({key: worst["classical_gram_schmidt"]}, variant="scratch_qr_gram_schmidt")
    run.log_metrics({key: worst["householder"]}, variant="scratch_qr_householder")
    run.log_figure(figures.numerical_stability(rows, list(numerical_checks.QR_METHODS)), "numerical_stability")


def run_least_squares(run: StageRun, cfg: LeastSquaresConfig, seed: int):
    X, y = least_squares.regression_data(cfg.n_samples, cfg.n_features, cfg.noise, np.random.default_rng(seed))
    metrics, losses = least_squares.compare_least_squares(X, y, cfg.lr, cfg.n_steps, cfg.tol)
    for variant, values in metrics.items():
        run.log_metrics(values, variant=variant)
    run.log_series("mse", losses, variant="scratch_gradient_descent")
    run.write_plot_data("least_squares_loss", [{"step": i, "mse": v} for i, v in enumerate(losses)])
    reference_mse = metrics["numpy_lstsq"]["final_mse"]
    run.log_figure(figures.least_squares_convergence(losses, reference_mse), "least_squares_convergence")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        run_matmul_benchmark(run, settings.matmul, cfg.seed)
        run_decompositions(run, settings.decompositions, cfg.seed)
        run_stability(run, settings.stability, cfg.seed)
        run_least_squares(run, settings.least_squares, cfg.seed)


if __name__ == "__main__":
    main()
