"""Day 3 stage: decision tree, random forest, SMO SVM and naive Bayes from scratch, next to scikit-learn.

    dvc repro day03_classical_ml                               # what `make repro` runs, on params.yaml
    python -m pipelines.day03_classical_ml profile=smoke       # straight from conf/, for a quick look
    python -m pipelines.day03_classical_ml -m day03.models.svm.C=0.1,10   # a Hydra sweep: one MLflow run each

Records (see src/tracking.py): a nested MLflow run per (implementation, model, dataset), e.g.
`scratch_svm_digits` next to `sklearn_svm_digits`, tagged with model, dataset and implementation; metrics.json;
the comparison table as plot CSV; figures.
"""

from dataclasses import dataclass, field
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from src.config import validate_or_exit
from src.ml.classical import comparison, experiments
from src.tracking import StageRun
from src.visualization import classical_ml as figures

STAGE = "day03_classical_ml"


# -- the stage's config schema: conf/day03/default.yaml must fit it ---------------------------------------
@dataclass
class TreeConfig:
    criterion: str = "gini"
    max_depth: int | None = None
    min_samples_split: int = 2
    min_samples_leaf: int = 1
    ccp_alpha: float = 0.0

    def __post_init__(self):
        if self.criterion not in ("gini", "entropy", "gain_ratio"):
            raise ValueError(f"models.decision_tree.criterion: gini, entropy or gain_ratio, got {self.criterion!r}")


@dataclass
class ForestConfig:
    n_estimators: int = 100
    max_features: Any = "sqrt"  # 'sqrt', 'log2', an int, a fraction or null
    max_depth: int | None = None
    min_samples_leaf: int = 1

    def __post_init__(self):
        if self.n_estimators < 1:
            raise ValueError(f"models.random_forest.n_estimators must be >= 1, got {self.n_estimators}")


@dataclass
class SVMConfig:
    kernel: str = "rbf"
    C: float = 1.0
    gamma: Any = "scale"  # 'scale' or a positive number
    tol: float = 1e-3

    def __post_init__(self):
        if self.kernel not in ("linear", "rbf", "poly"):
            raise ValueError(f"models.svm.kernel must be linear, rbf or poly, got {self.kernel!r}")
        if self.C <= 0 or self.tol <= 0:
            raise ValueError(f"models.svm.C and tol must be positive, got C={self.C}, tol={self.tol}")


@dataclass
class GaussianNBConfig:
    var_smoothing: float = 1e-9


@dataclass
class MultinomialNBConfig:
    alpha: float = 1.0


@dataclass
class ModelsConfig:
    decision_tree: TreeConfig = field(default_factory=TreeConfig)
    random_forest: ForestConfig = field(default_factory=ForestConfig)
    svm: SVMConfig = field(default_factory=SVMConfig)
    gaussian_nb: GaussianNBConfig = field(default_factory=GaussianNBConfig)
    multinomial_nb: MultinomialNBConfig = field(default_factory=MultinomialNBConfig)


@dataclass
class FiguresConfig:
    boundary_dataset: str = "wine"
    grid_size: int = 150
    depth_dataset: str = "breast_cancer"
    max_depth: int = 12
    oob_dataset: str = "breast_cancer"
    oob_trees: int = 150
    margin_C: float = 1.0


@dataclass
class Day03Config:
    datasets: list[str] = field(default_factory=lambda: list(comparison.DATASETS))
    cv_folds: int = 5
    models: ModelsConfig = field(default_factory=ModelsConfig)
    figures: FiguresConfig = field(default_factory=FiguresConfig)

    def __post_init__(self):
        used = [*self.datasets, self.figures.boundary_dataset, self.figures.depth_dataset, self.figures.oob_dataset]
        unknown = sorted(set(used) - set(comparison.DATASETS))
        if unknown or not self.datasets:
            raise ValueError(f"datasets: a non-empty choice from {list(comparison.DATASETS)}; unknown: {unknown}")
        if self.cv_folds < 2:
            raise ValueError(f"cv_folds must be >= 2, got {self.cv_folds}")


# -- the experiments -----------------------------------------------------------------------------------------
def run_comparison(run: StageRun, cfg: Day03Config, seed: int):
    """Every model on every dataset, both ways, on the same folds: one nested run per (implementation, model,
    dataset), so the MLflow compare view shows them side by side."""
    models = {name: vars(params) for name, params in vars(cfg.models).items()}
    jobs = [(model, dataset) for dataset in cfg.datasets for model in models]
    rows = []
    for model, dataset in tqdm(jobs, desc="scratch vs sklearn", unit="fit"):
        X, y = comparison.load_dataset(dataset)
        results = comparison.cross_validate(model, models[model], X, y, cfg.cv_folds, seed)
        for implementation, metrics in results.items():
            variant = f"{implementation}_{model}_{dataset}"
            run.log_metrics(metrics, variant=variant)
            tags = {"model": model, "dataset": dataset, "implementation": implementation}
            for key, value in tags.items():
                run._client.set_tag(run.variant_run(variant), key, value)
            rows.append(
                {**tags, **{k: metrics[k] for k in ("cv_accuracy", "cv_macro_f1", "fit_seconds", "predict_seconds")}}
            )
    gaps = [abs(run.metrics[f"scratch_{m}_{d}"]["accuracy_gap_points"]) for m, d in jobs]
    run.log_metrics({"max_abs_accuracy_gap_points": max(gaps), "cv_folds": cfg.cv_folds})
    run.write_plot_data("comparison", rows)
    run.log_figure(figures.comparison(rows), "comparison")


def run_figures(run: StageRun, cfg: Day03Config, seed: int):
    fig_cfg, models = cfg.figures, cfg.models
    X, y = comparison.load_dataset(fig_cfg.boundary_dataset)
    X2 = experiments.project_2d(X)
    boundary_models = {
        "decision_tree": {**vars(models.decision_tree), "max_depth": 4},  # deep trees make unreadable regions
        "random_forest": vars(models.random_forest),
        "svm": vars(models.svm),
        "gaussian_nb": vars(models.gaussian_nb),
    }
    regions = experiments.decision_regions(X2, y, boundary_models, fig_cfg.grid_size, seed)
    title = f"Decision boundaries on the first two principal components of {fig_cfg.boundary_dataset}"
    run.log_figure(figures.decision_boundaries(regions, y, title), "decision_boundaries")

    X, y = comparison.load_dataset(fig_cfg.depth_dataset)
    rows = experiments.depth_sweep(X, y, fig_cfg.max_depth, seed)
    run.write_plot_data("depth_accuracy", rows)
    run.log_figure(figures.depth_vs_accuracy(rows, fig_cfg.depth_dataset), "depth_vs_accuracy")
    run.log_figure(figures.entropy_vs_gini(rows, fig_cfg.depth_dataset), "entropy_vs_gini")

    X, y = comparison.load_dataset(fig_cfg.oob_dataset)
    rows = experiments.oob_error_curves(X, y, vars(models.random_forest), fig_cfg.oob_trees, seed)
    run.write_plot_data("oob_error", rows)
    for implementation in comparison.IMPLEMENTATIONS:
        variant = f"{implementation}_random_forest_{fig_cfg.oob_dataset}"
        curve = [r[implementation] for r in rows]
        run.log_series("oob_error", curve, variant=variant, steps=[r["n_trees"] for r in rows])
        run.log_metrics({f"oob_error_{fig_cfg.oob_trees}_trees": rows[-1][implementation]}, variant=variant)
    run.log_figure(figures.oob_error(rows, fig_cfg.oob_dataset), "oob_error")

    X, y = comparison.load_dataset("iris")
    two_classes = y > 0  # versicolor vs virginica: they overlap, so the soft margin matters
    X2, y2 = experiments.project_2d(X[two_classes]), y[two_classes]
    margins = experiments.svm_margins(X2, y2, fig_cfg.margin_C)
    run.log_metrics(
        {
            "dual_objective_abs_diff": abs(margins["scratch"]["dual_objective"] - margins["sklearn"]["dual_objective"]),
            "weights_max_abs_diff": float(np.abs(margins["scratch"]["w"] - margins["sklearn"]["w"]).max()),
        },
        variant="scratch_linear_svm_iris_2d",
    )
    run.log_figure(figures.svm_margin(X2, y2, margins, fig_cfg.margin_C), "svm_margin")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    day03 = validate_or_exit(cfg, "day03", Day03Config)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, section="day03") as run:
        run_comparison(run, day03, cfg.seed)
        run_figures(run, day03, cfg.seed)


if __name__ == "__main__":
    main()
