"""Day 3 stage: decision tree, random forest, SMO SVM and naive Bayes from scratch, next to scikit-learn.

    dvc repro day03_classical_ml                               # what `make repro` runs, on params.yaml
    python -m pipelines.day03_classical_ml profile=smoke       # straight from conf/, for a quick look
    python -m pipelines.day03_classical_ml -m day03.models.svm.C=0.1,10   # a Hydra sweep: one MLflow run each

Records (see src/tracking.py): a nested MLflow run per (implementation, model, dataset), e.g.
`scratch_svm_digits` next to `sklearn_svm_digits`, tagged with model, dataset and implementation; metrics.json;
the comparison table as plot CSV; figures; every model refitted on its whole dataset under
models/day03_classical_ml/ (`src.ml.classical.persistence.load_model`).
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

import hydra
from omegaconf import DictConfig
from tqdm import tqdm

from src.config import setting, validate_or_exit, word_or_number
from src.ml.classical import comparison, experiments
from src.ml.classical.decision_tree import CRITERIA
from src.ml.classical.persistence import save_model
from src.tracking import StageRun
from src.visualization import classical_ml as figures

STAGE = "day03_classical_ml"
SECTION = "day03"
DATASETS = tuple(comparison.DATASETS)


# -- the stage's config schema: conf/day03/default.yaml gives every value ----------------------------------
@dataclass
class TreeConfig:
    criterion: str = setting(one_of=CRITERIA)
    max_depth: int | None = setting(at_least=1, optional=True)  # null: grow until pure
    min_samples_split: int = setting(at_least=2)
    min_samples_leaf: int = setting(at_least=1)
    ccp_alpha: float = setting(at_least=0)


@dataclass
class ForestConfig:
    n_estimators: int = setting(at_least=1)
    max_features: Any = word_or_number(("sqrt", "log2"), above=0, optional=True)  # or an int, or a fraction
    max_depth: int | None = setting(at_least=1, optional=True)
    min_samples_leaf: int = setting(at_least=1)


@dataclass
class SVMConfig:
    kernel: str = setting(one_of=("linear", "rbf", "poly"))
    C: float = setting(above=0)
    gamma: Any = word_or_number(("scale",), above=0)
    tol: float = setting(above=0)


@dataclass
class GaussianNBConfig:
    var_smoothing: float = setting(at_least=0)


@dataclass
class MultinomialNBConfig:
    alpha: float = setting(above=0)


@dataclass
class ModelsConfig:
    decision_tree: TreeConfig
    random_forest: ForestConfig
    svm: SVMConfig
    gaussian_nb: GaussianNBConfig
    multinomial_nb: MultinomialNBConfig


@dataclass
class FiguresConfig:
    boundary_dataset: str = setting(one_of=DATASETS)
    boundary_tree_depth: int = setting(at_least=1)
    grid_size: int = setting(at_least=2)
    depth_dataset: str = setting(one_of=DATASETS)
    max_depth: int = setting(at_least=1)
    depth_test_size: float = setting(above=0, below=1)
    oob_dataset: str = setting(one_of=DATASETS)
    oob_trees: int = setting(at_least=1)
    margin_C: float = setting(above=0)


@dataclass
class Day03Config:
    datasets: list[str] = setting(one_of=DATASETS)
    cv_folds: int = setting(at_least=2)
    models: ModelsConfig
    figures: FiguresConfig


SCHEMA = Day03Config


# -- the experiments -----------------------------------------------------------------------------------------
def run_comparison(run: StageRun, cfg: Day03Config, seed: int):
    """Every model on every dataset, both ways, on the same folds: one nested run per (implementation, model,
    dataset), so the MLflow compare view shows them side by side. Then each is refitted on the whole dataset
    and kept under models/."""
    models = dataclasses.asdict(cfg.models)
    jobs = [(model, dataset) for dataset in cfg.datasets for model in models]
    rows = []
    for model, dataset in tqdm(jobs, desc="scratch vs sklearn", unit="fit"):
        X, y = comparison.load_dataset(dataset)
        results = comparison.cross_validate(model, models[model], X, y, cfg.cv_folds, seed)
        fitted = comparison.fit_on_all(model, models[model], X, y, seed)
        for implementation, metrics in results.items():
            variant = f"{implementation}_{model}_{dataset}"
            tags = {"model": model, "dataset": dataset, "implementation": implementation}
            run.log_metrics(metrics, variant=variant)
            run.set_tags(tags, variant=variant)
            save_model(fitted[implementation], run.model_path(f"{variant}.joblib"))
            rows.append(
                tags | {k: metrics[k] for k in ("cv_accuracy", "cv_macro_f1", "fit_seconds", "predict_seconds")}
            )
    gaps = [abs(run.metrics[f"scratch_{m}_{d}"]["accuracy_gap_points"]) for m, d in jobs]
    run.log_metrics({"max_abs_accuracy_gap_points": max(gaps), "cv_folds": cfg.cv_folds})
    run.write_plot_data("comparison", rows)
    run.log_figure(figures.comparison(rows), "comparison")


def run_figures(run: StageRun, cfg: Day03Config, seed: int):
    fig_cfg, models = cfg.figures, dataclasses.asdict(cfg.models)
    X, y = comparison.load_dataset(fig_cfg.boundary_dataset)
    X2 = experiments.project_2d(X)
    boundary_models = {
        "decision_tree": models["decision_tree"] | {"max_depth": fig_cfg.boundary_tree_depth},
        **{name: models[name] for name in ("random_forest", "svm", "gaussian_nb")},
    }
    regions = experiments.decision_regions(X2, y, boundary_models, fig_cfg.grid_size, seed)
    title = f"Decision boundaries on the first two principal components of {fig_cfg.boundary_dataset}"
    run.log_figure(figures.decision_boundaries(regions, y, title), "decision_boundaries")

    X, y = comparison.load_dataset(fig_cfg.depth_dataset)
    rows = experiments.depth_sweep(X, y, fig_cfg.max_depth, fig_cfg.depth_test_size, seed)
    run.write_plot_data("depth_accuracy", rows)
    run.log_figure(figures.depth_vs_accuracy(rows, fig_cfg.depth_dataset), "depth_vs_accuracy")
    run.log_figure(figures.entropy_vs_gini(rows, fig_cfg.depth_dataset), "entropy_vs_gini")

    X, y = comparison.load_dataset(fig_cfg.oob_dataset)
    rows = experiments.oob_error_curves(X, y, models["random_forest"], fig_cfg.oob_trees, seed)
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
    run.log_metrics(experiments.margin_differences(margins), variant="scratch_linear_svm_iris_2d")
    run.log_figure(figures.svm_margin(X2, y2, margins, fig_cfg.margin_C), "svm_margin")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        run_comparison(run, settings, cfg.seed)
        run_figures(run, settings, cfg.seed)


if __name__ == "__main__":
    main()
