"""Day 10, the capstone: train the GitHub issue classifier, pick a model by cross-validation, register it.

    dvc repro day10_capstone                                  # what `make repro` runs, on params.yaml
    python -m pipelines.day10_capstone profile=smoke          # straight from conf/, in seconds
    python -m pipelines.day10_capstone day10.eval_file=/path/to/nlbse24_test.csv   # also score a labelled file

Three models, each scored on the same out-of-fold predictions (one nested MLflow run each):
    tfidf     TF-IDF + logistic regression           (src/capstone/tfidf.py)
    minilm    MiniLM with its top layers fine-tuned  (src/capstone/transformer.py)
    ensemble  the weighted average of their probabilities (src/capstone/model.py)
    minilm_int8, ensemble_int8   the same with MiniLM's Linear layers quantised to int8 (about 2x faster)
and two combiners of tfidf and minilm chosen inside the CV loop, scored for comparison but not served
(src/capstone/combiners.py: a nested ensemble weight, and stacking by logistic regression).
The best one by mean per-repository macro F1 (or its int8 twin, when within day10.int8_tolerance) is refit on
all training issues (src/capstone/cross_validation.py), saved to models/day10_capstone/, registered as
`issue-classifier`, and becomes `champion` only if it beats the current champion (src/capstone/registry.py). The
stages after it read champion.json and reference_predictions.csv (src/capstone/outputs.py names them).
"""

import time
from dataclasses import dataclass
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src.benchmark import best_time
from src.capstone import registry
from src.capstone.combiners import nested_weight_out_of_fold, stacked_out_of_fold
from src.capstone.cross_validation import choose, out_of_fold, refit, stratified_folds
from src.capstone.data import TRAIN_FILE, load_issues, stratified_subsample
from src.capstone.evaluation import confusion, nlbse_report, report_metrics
from src.capstone.model import MODELS, predicted_labels, with_predictions
from src.capstone.outputs import CHAMPION_FILE, MODEL_FOLDER, REFERENCE_FILE, STAGE
from src.capstone.text import prepare_texts
from src.capstone.transformer import MiniLMClassifier
from src.config import setting, torch_device, validate_or_exit
from src.data import verified_path
from src.tracking import StageRun
from src.visualization import capstone as figures

SECTION = "day10"  # STAGE ("day10_capstone") comes from src/capstone/outputs.py, where the next stages find its files
# NLBSE'24 published baselines: mean over the five repositories of the macro F1 on the benchmark's test split.
BASELINES = {"fastText": 0.718, "RoBERTa": 0.792, "SetFit": 0.824}


# -- the stage's config schema: conf/day10/default.yaml gives every value -----------------------------------
@dataclass
class TfidfConfig:
    C: float = setting(above=0)
    max_char_features: int = setting(at_least=1)
    min_df: int = setting(at_least=1)


@dataclass
class MiniLMConfig:
    max_length: int = setting(at_least=8, at_most=512)
    layers: int = setting(at_least=1, at_most=6)  # MiniLM-L6 has 6 layers; fewer keeps the bottom ones
    trainable_layers: int = setting(at_least=1, at_most=6)
    epochs: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)
    lr: float = setting(above=0)
    head_lr: float = setting(above=0)
    weight_decay: float = setting(at_least=0)

    def __post_init__(self):
        if self.trainable_layers > self.layers:
            raise ValueError(
                f"day10.minilm.trainable_layers ({self.trainable_layers}) can't exceed day10.minilm.layers "
                f"({self.layers}): only the kept layers can be trained; lower trainable_layers or raise layers"
            )


@dataclass
class EnsembleConfig:
    tfidf_weight: float = setting(at_least=0, at_most=1)


@dataclass
class Day10Config:
    eval_file: str | None = setting(text=True, optional=True)
    cv_folds: int = setting(at_least=2)
    max_chars: int = setting(at_least=1)
    subsample: int | None = setting(at_least=1, optional=True)
    models: list[str] = setting(one_of=MODELS)
    int8_tolerance: float = setting(at_least=0, at_most=1)
    speed_sample: int = setting(at_least=1)
    tfidf: TfidfConfig
    minilm: MiniLMConfig
    ensemble: EnsembleConfig

    def __post_init__(self):
        if "ensemble" in self.models and not {"tfidf", "minilm"} <= set(self.models):
            raise ValueError("day10.models: the ensemble averages tfidf and minilm: list both, or drop ensemble")
        if "minilm_int8" in self.models and "minilm" not in self.models:
            raise ValueError("day10.models: minilm_int8 is each fold's fine-tuned minilm, quantised: list minilm too")
        if "ensemble_int8" in self.models and not {"tfidf", "minilm_int8"} <= set(self.models):
            raise ValueError("day10.models: ensemble_int8 averages tfidf and minilm_int8: list both, or drop it")
        if self.eval_file and not Path(self.eval_file).exists():
            raise ValueError(
                f"day10.eval_file {self.eval_file} does not exist: give the path of a labelled CSV or null"
            )


SCHEMA = Day10Config


def score(run: StageRun, issues: pd.DataFrame, proba: dict[str, np.ndarray], prefix: str = "cv") -> dict[str, float]:
    """The NLBSE report of every model: metrics per model run, a table each, figures. Returns each model's
    mean per-repository macro F1."""
    reports, matrices = {}, {}
    for model, p in proba.items():
        predicted = predicted_labels(p)
        reports[model] = report = nlbse_report(issues["repo"], issues["label"], predicted)
        matrices[model] = confusion(issues["label"], predicted)
        run.log_metrics(report_metrics(report, prefix), variant=model)
        run.write_table(f"{prefix}_{model}", report.reset_index(names="repository").round(4))
    run.log_figure(figures.confusion_matrices(matrices), f"{prefix}_confusion_matrices")
    run.log_figure(figures.f1_by_repository(reports, BASELINES), f"{prefix}_f1_by_repository")
    return {model: float(report.loc["mean", "macro.f1"]) for model, report in reports.items()}


def minilm_speed(minilm: MiniLMClassifier, texts: list[str], batch_size: int = 32) -> dict[str, float]:
    """Offline issues/second of the refit MiniLM, float32 and int8, on the same real issue texts in batches of
    batch_size (best of 3 passes, in this process, one after the other), and their ratio."""
    rates = {}
    for name, model in (("minilm", minilm), ("minilm_int8", minilm.quantized())):

        def one_pass(model=model):
            for start in range(0, len(texts), batch_size):
                model.predict_proba(texts[start : start + batch_size])

        rates[name] = len(texts) / best_time(one_pass, repeats=3, min_seconds=0)
    return {
        "minilm_issues_per_second": rates["minilm"],
        "minilm_int8_issues_per_second": rates["minilm_int8"],
        "int8_speedup": rates["minilm_int8"] / rates["minilm"],
        "texts": float(len(texts)),
        "batch_size": float(batch_size),
    }


def register(run: StageRun, classifier, issues: pd.DataFrame, metric: float, model: str, int8_tolerance: float):
    """Register the candidate; the gate decides whether it becomes champion. Both figures go into the run."""
    model_folder = run.model_path(MODEL_FOLDER)
    example = issues[["title", "body"]].head(2)
    version = registry.log_and_register(run.run_id, classifier, example, metric, model_folder, model=model)
    decision = registry.promote_if_better(version, metric, model=model, int8_tolerance=int8_tolerance)
    champion_metric = decision.champion_metric
    run.log_metrics(
        {
            "gate.candidate_metric": metric,
            "gate.champion_metric_before": champion_metric if champion_metric is not None else -1.0,
            "gate.promoted": float(decision.promoted),
        }
    )
    run.set_tags({"registered_version": version})
    print(
        f"registered {registry.MODEL_NAME} v{version} ({registry.GATE_METRIC}={metric:.4f}); "
        + (
            f"it is now {registry.CHAMPION}"
            if decision.promoted
            else f"{registry.CHAMPION} stays v{decision.champion_version} ({champion_metric:.4f})"
        )
    )
    return {
        "model_uri": f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}",
        "version": decision.version if decision.promoted else decision.champion_version,
        "candidate_version": version,
        "candidate_metric": metric,
        "promoted": decision.promoted,
        "metric": metric if decision.promoted else champion_metric,
    }


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    day10 = validate_or_exit(cfg, SECTION, SCHEMA)
    started = time.perf_counter()
    with StageRun(STAGE, cfg, SECTION, day10) as run:
        issues = load_issues(verified_path(TRAIN_FILE))
        if day10.subsample:  # the same share of every (repository, label) cell, at least one per fold
            issues = stratified_subsample(issues, day10.subsample, day10.cv_folds, cfg.seed)
        texts = prepare_texts(issues["title"], issues["body"], day10.max_chars)
        folds = stratified_folds(issues["repo"], issues["label"], day10.cv_folds, cfg.seed)
        minilm = None
        if "minilm" in day10.models:
            device = torch_device(cfg.profile.device)
            minilm = MiniLMClassifier(**vars(day10.minilm), seed=cfg.seed, device=device)
        tfidf_params, tfidf_weight = vars(day10.tfidf), day10.ensemble.tfidf_weight

        curves: dict[int, list[float]] = {}
        proba, seconds = out_of_fold(
            day10.models,
            texts,
            issues["label"],
            folds,
            tfidf_params,
            minilm,
            tfidf_weight,
            on_epoch=lambda fold, epoch, loss: curves.setdefault(fold, []).append(loss),
        )
        for fold, curve in curves.items():
            run.log_series(f"train_loss_fold{fold}", curve, variant="minilm")
        if curves:
            run.log_figure(figures.fine_tuning_curves(curves), "minilm_fine_tuning")
        for model in proba:
            run.log_metrics({"cv_seconds": seconds[model]}, variant=model)
        if {"tfidf", "minilm"} <= set(proba):  # two combiners chosen inside the CV loop: reported, not served
            members = {"tfidf": proba["tfidf"], "minilm": proba["minilm"]}
            proba["ensemble_nested_weight"], weights = nested_weight_out_of_fold(
                *members.values(), issues["label"], folds
            )
            run.log_metrics(
                {f"tfidf_weight_fold{k}": w for k, w in enumerate(weights)}, variant="ensemble_nested_weight"
            )
            proba["stacked"] = stacked_out_of_fold(members, issues["label"], folds)
        cv_scores = score(run, issues, proba)
        best = choose({model: f1 for model, f1 in cv_scores.items() if model in MODELS}, day10.int8_tolerance)
        scores = ", ".join(f"{model} {f1:.4f}" for model, f1 in cv_scores.items())
        print(f"cross-validated mean per-repository macro F1: {scores} -> {best}")

        refit_started = time.perf_counter()
        classifier = refit(best, texts, issues["label"], tfidf_params, minilm, tfidf_weight, day10.max_chars)
        run.log_metrics({"refit_seconds": time.perf_counter() - refit_started}, variant=best)
        if "minilm" in classifier.members:  # minilm is now fitted in float whatever was chosen: time both
            sample = np.random.default_rng(cfg.seed).permutation(len(texts))[: day10.speed_sample]  # every repo
            run.log_metrics(minilm_speed(minilm, [texts[i] for i in sample]), variant="speed")
        champion = register(run, classifier, issues, cv_scores[best], best, day10.int8_tolerance)
        # The monitor's reference: training issues with the chosen model's out-of-fold (honest) predictions.
        run.write_text(REFERENCE_FILE, with_predictions(issues, proba[best]).to_csv(index=False))

        if day10.eval_file:
            held_out = load_issues(day10.eval_file)
            score(run, held_out, {best: classifier.predict_proba(held_out["title"], held_out["body"])}, prefix="eval")

        run.log_metrics(
            {"best_model_cv_mean_repo_macro_f1": cv_scores[best], "training_seconds": time.perf_counter() - started}
        )
        run.set_tags({"best_model": best})
        run.write_json(CHAMPION_FILE, {**champion, "model": best})


if __name__ == "__main__":
    main()
