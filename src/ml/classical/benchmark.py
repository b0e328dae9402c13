"""Benchmark: fit and predict time of each from-scratch model against its scikit-learn counterpart, per dataset,
in one process, on the stage's own hyperparameters (params.yaml's day03.models, validated by the stage's schema,
so a bad value fails here just as it would in the stage).

    python -m src.ml.classical.benchmark        # all models x datasets -> reports/bench/day03_classical.json
    python -m src.ml.classical.benchmark --models svm --datasets digits --repeats 1

Each model is fitted on the whole dataset (standardised for the SVM, as in the stage) and timed with
src.benchmark.best_time: a warm-up call, then the fastest of `repeats` calls.
Targets (from the issue): tree and forest within 20x of scikit-learn, naive Bayes within 3x, SMO within 50x of
libsvm; `meets_target` says which ratios do.
"""

import argparse
import dataclasses

import numpy as np
from omegaconf import OmegaConf

from src import atomic_io
from src.benchmark import best_time
from src.config import validate_or_exit
from src.ml.classical import comparison
from src.paths import PARAMS_FILE, REPORTS

FIT_RATIO_TARGETS = {"decision_tree": 20, "random_forest": 20, "svm": 50, "gaussian_nb": 3, "multinomial_nb": 3}


def benchmark_model(model: str, params: dict, dataset: str, repeats: int, seed: int = 0) -> dict:
    X, y = comparison.load_dataset(dataset)
    if comparison.MODELS[model].standardise:
        X, _ = comparison.standardise(X, X[:1])
    n_classes = len(np.unique(y))
    row = {"model": model, "dataset": dataset, "n_samples": len(X), "n_features": X.shape[1]}
    for implementation in comparison.IMPLEMENTATIONS:

        def fit(impl=implementation):
            return comparison.build_model(model, impl, params, n_classes, seed).fit(X, y)

        fitted = fit()
        row[f"{implementation}_fit_seconds"] = best_time(fit, repeats=repeats, min_seconds=0.05)
        row[f"{implementation}_predict_seconds"] = best_time(lambda m=fitted: m.predict(X), repeats=repeats)
        row[f"{implementation}_train_accuracy"] = float(np.mean(fitted.predict(X) == y))
    row["fit_ratio"] = row["scratch_fit_seconds"] / row["sklearn_fit_seconds"]
    row["predict_ratio"] = row["scratch_predict_seconds"] / row["sklearn_predict_seconds"]
    row["fit_ratio_target"] = FIT_RATIO_TARGETS[model]
    row["meets_target"] = row["fit_ratio"] <= FIT_RATIO_TARGETS[model]
    return row


def main():
    from pipelines.day03_classical_ml import SCHEMA, SECTION  # the stage's schema: checked like the stage

    cfg = OmegaConf.load(PARAMS_FILE)
    stage = validate_or_exit(cfg, SECTION, SCHEMA)
    models = dataclasses.asdict(stage.models)
    parser = argparse.ArgumentParser(description="Time from-scratch classical models against scikit-learn.")
    parser.add_argument("--models", nargs="+", default=list(models), choices=list(comparison.MODELS))
    parser.add_argument("--datasets", nargs="+", default=stage.datasets, choices=list(comparison.DATASETS))
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for dataset in args.datasets:
        for model in args.models:
            row = benchmark_model(model, models[model], dataset, args.repeats, cfg.seed)
            rows.append(row)
            print(
                f"{model:>15} {dataset:>13}  fit {row['scratch_fit_seconds']:8.4f} s"
                f" vs {row['sklearn_fit_seconds']:8.4f} s"
                f" = {row['fit_ratio']:6.1f}x (target {row['fit_ratio_target']}x)"
                f"  predict {row['predict_ratio']:6.1f}x",
                flush=True,
            )
    path = atomic_io.write_json(REPORTS / "bench" / "day03_classical.json", {"rows": rows})
    print("->", path)


if __name__ == "__main__":
    main()
