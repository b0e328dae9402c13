"""Day 10, the capstone: train the GitHub issue classifier, pick a model by cross-validation, register it.

    dvc repro day10_capstone                                  # what `make repro` runs, on params.yaml
    python -m pipelines.day10_capstone profile=smoke          # straight from conf/, in seconds
    python -m pipelines.day10_capstone day10.eval_file=/path/to/nlbse24_test.csv   # also score a labelled file

Three models, each scored on the same out-of-fold predictions (one nested MLflow run each):
    tfidf     TF-IDF + logistic regression           (src/capstone/tfidf.py)
    minilm    MiniLM with its top layers fine-tuned  (src/capstone/transformer.py)
    ensemble  the average of their probabilities
The best one by mean per-repository macro F1 is refit on all training issues, registered as `issue-classifier`,
and becomes `champion` only if it beats the current champion (src/capstone/registry.py).
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src import atomic_io
from src.capstone import registry
from src.capstone.cross_validation import minilm_out_of_fold, stratified_folds, tfidf_out_of_fold
from src.capstone.data import LABELS, load_issues
from src.capstone.evaluation import confusion, nlbse_report
from src.capstone.model import PROBA_COLUMNS, IssueClassifier
from src.capstone.text import prepare_texts
from src.capstone.tfidf import TfidfClassifier
from src.capstone.transformer import MiniLMClassifier
from src.config import torch_device, validate_or_exit
from src.data import verified_path
from src.tracking import StageRun
from src.visualization import capstone as figures

STAGE = "day10_capstone"
MODELS = ("tfidf", "minilm", "ensemble")
# NLBSE'24 published baselines: mean over the five repositories of the macro F1 on the benchmark's test split.
BASELINES = {"fastText": 0.718, "RoBERTa": 0.792, "SetFit": 0.824}


# -- the stage's config schema: conf/day10/default.yaml must fit it ---------------------------------------
@dataclass
class TfidfConfig:
    C: float = 4.0
    max_char_features: int = 200_000
    min_df: int = 2


@dataclass
class MiniLMConfig:
    max_length: int = 128
    trainable_layers: int = 2
    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-4
    head_lr: float = 2e-3
    weight_decay: float = 0.01

    def __post_init__(self):
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"minilm.max_length must be between 8 and 512 tokens, got {self.max_length}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.head_lr <= 0:
            raise ValueError("minilm.epochs and batch_size must be >= 1, lr and head_lr > 0")


@dataclass
class EnsembleConfig:
    tfidf_weight: float = 0.6

    def __post_init__(self):
        if not 0 <= self.tfidf_weight <= 1:
            raise ValueError(f"ensemble.tfidf_weight must be in [0, 1], got {self.tfidf_weight}")


@dataclass
class Day10Config:
    train_file: str = "issues/nlbse24_train.csv"
    eval_file: str | None = None
    cv_folds: int = 5
    max_chars: int = 4000
    subsample: int | None = None
    models: list[str] = field(default_factory=lambda: list(MODELS))
    tfidf: TfidfConfig = field(default_factory=TfidfConfig)
    minilm: MiniLMConfig = field(default_factory=MiniLMConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)

    def __post_init__(self):
        if self.cv_folds < 2:
            raise ValueError(f"cv_folds must be >= 2, got {self.cv_folds}")
        unknown = set(self.models) - set(MODELS)
        if not self.models or unknown:
            raise ValueError(f"models must be a non-empty subset of {list(MODELS)}, got {self.models}")
        if "ensemble" in self.models and not {"tfidf", "minilm"} <= set(self.models):
            raise ValueError("the ensemble averages tfidf and minilm: list both in models, or drop ensemble")
        if self.eval_file and not Path(self.eval_file).exists():
            raise ValueError(f"eval_file {self.eval_file} does not exist: give the path of a labelled CSV or null")


# -- steps ----------------------------------------------------------------------------------------------------
def training_issues(day10: Day10Config, seed: int) -> pd.DataFrame:
    issues = load_issues(verified_path(day10.train_file))
    if day10.subsample:  # the same share of every (repository, label) cell
        per_cell = max(day10.cv_folds, day10.subsample // issues.groupby(["repo", "label"]).ngroups)
        issues = issues.groupby(["repo", "label"]).sample(per_cell, random_state=seed).reset_index(drop=True)
    return issues


def cross_validate(run: StageRun, day10: Day10Config, issues, texts, folds, minilm) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities per model; training time and fine-tuning curves go to MLflow."""
    proba, seconds = {}, {}
    if "tfidf" in day10.models:
        proba["tfidf"], seconds["tfidf"] = tfidf_out_of_fold(texts, issues["label"], folds, vars(day10.tfidf))
    if "minilm" in day10.models:
        curves: dict[int, list[float]] = {}
        proba["minilm"], seconds["minilm"] = minilm_out_of_fold(
            minilm, texts, issues["label"], folds, on_epoch=lambda f, e, loss: curves.setdefault(f, []).append(loss)
        )
        for fold, curve in curves.items():
            run.log_series(f"train_loss_fold{fold}", curve, variant="minilm")
        run.log_figure(figures.fine_tuning_curves(curves), "minilm_fine_tuning")
    if "ensemble" in day10.models:
        w = day10.ensemble.tfidf_weight
        proba["ensemble"] = w * proba["tfidf"] + (1 - w) * proba["minilm"]
        seconds["ensemble"] = seconds["tfidf"] + seconds["minilm"]
    for model in proba:
        run.log_metrics({"cv_seconds": seconds[model]}, variant=model)
    return proba


def score(run: StageRun, issues: pd.DataFrame, proba: dict[str, np.ndarray], prefix: str = "cv") -> dict:
    """The NLBSE report of every model: metrics per model run, a CSV table each, figures."""
    reports, matrices = {}, {}
    for model, p in proba.items():
        predicted = np.array(LABELS)[p.argmax(axis=1)]
        reports[model] = report = nlbse_report(issues["repo"], issues["label"], predicted)
        matrices[model] = confusion(issues["label"], predicted)
        metrics = {f"{prefix}_mean_repo_macro_f1": report.loc["mean", "macro.f1"]}
        for row in report.index:  # per repository (short name), overall and mean: P, R, F1 per class and macro
            name = row.split("/")[-1]
            metrics.update({f"{prefix}.{name}.{key}": value for key, value in report.loc[row].items()})
        run.log_metrics(metrics, variant=model)
        table = report.reset_index(names="repository").round(4)
        atomic_io.write_text(run.out_dir / "tables" / f"{prefix}_{model}.csv", table.to_csv(index=False))
    run.log_figure(figures.confusion_matrices(matrices), f"{prefix}_confusion_matrices")
    run.log_figure(figures.f1_by_repository(reports, BASELINES), f"{prefix}_f1_by_repository")
    return reports


def refit(day10: Day10Config, best: str, texts, labels, minilm: MiniLMClassifier) -> IssueClassifier:
    """The chosen model, trained on every training issue."""
    members, weights = {}, {}
    if best in ("tfidf", "ensemble"):
        members["tfidf"] = TfidfClassifier(**vars(day10.tfidf)).fit(texts, labels)
        weights["tfidf"] = day10.ensemble.tfidf_weight if best == "ensemble" else 1.0
    if best in ("minilm", "ensemble"):
        members["minilm"] = minilm.fit(texts, labels, progress=True).to("cpu")  # served on CPUs
        weights["minilm"] = 1 - day10.ensemble.tfidf_weight if best == "ensemble" else 1.0
    return IssueClassifier(members, weights, max_chars=day10.max_chars)


def register(run: StageRun, classifier: IssueClassifier, issues: pd.DataFrame, metric: float) -> dict:
    """Register the candidate; the gate decides whether it becomes champion. Both figures go into the run."""
    version = registry.log_and_register(run._client, run.run_id, classifier, issues[["title", "body"]].head(2), metric)
    decision = registry.promote_if_better(run._client, version, metric)
    champion_version = decision.version if decision.promoted else decision.champion_version
    run.log_metrics(
        {
            "gate.candidate_metric": metric,
            "gate.champion_metric_before": decision.champion_metric if decision.champion_metric is not None else -1.0,
            "gate.promoted": float(decision.promoted),
        }
    )
    run._client.set_tag(run.run_id, "registered_version", version)
    print(
        f"registered {registry.MODEL_NAME} v{version} ({registry.GATE_METRIC}={metric:.4f}); "
        + (
            f"it is now {registry.CHAMPION}"
            if decision.promoted
            else f"{registry.CHAMPION} stays v{decision.champion_version} ({decision.champion_metric:.4f})"
        )
    )
    return {
        "model_uri": f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}",
        "version": champion_version,
        "candidate_version": version,
        "candidate_metric": metric,
        "promoted": decision.promoted,
        "metric": metric if decision.promoted else decision.champion_metric,
    }


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    day10 = validate_or_exit(cfg, "day10", Day10Config)
    started = time.perf_counter()
    with StageRun(STAGE, cfg, section="day10") as run:
        issues = training_issues(day10, cfg.seed)
        texts = prepare_texts(issues["title"], issues["body"], day10.max_chars)
        folds = stratified_folds(issues["repo"], issues["label"], day10.cv_folds, cfg.seed)
        minilm = None
        if "minilm" in day10.models:
            device = torch_device(cfg.profile.device)
            minilm = MiniLMClassifier(**vars(day10.minilm), seed=cfg.seed, device=device)

        proba = cross_validate(run, day10, issues, texts, folds, minilm)
        reports = score(run, issues, proba)
        cv_scores = {model: float(report.loc["mean", "macro.f1"]) for model, report in reports.items()}
        best = max(cv_scores, key=cv_scores.get)
        print(
            "cross-validated mean per-repository macro F1: "
            + ", ".join(f"{m} {s:.4f}" for m, s in cv_scores.items())
            + f" -> {best}"
        )

        refit_started = time.perf_counter()
        classifier = refit(day10, best, texts, issues["label"], minilm)
        run.log_metrics({"refit_seconds": time.perf_counter() - refit_started}, variant=best)
        champion = register(run, classifier, issues, cv_scores[best])

        # The monitor's reference: training issues with the chosen model's out-of-fold (honest) predictions.
        reference = issues[["repo", "label", "title", "body"]].assign(
            prediction=np.array(LABELS)[proba[best].argmax(axis=1)]
        )
        reference[PROBA_COLUMNS] = proba[best]
        atomic_io.write_text(run.out_dir / "reference_predictions.csv", reference.to_csv(index=False))

        if day10.eval_file:
            held_out = load_issues(day10.eval_file)
            held_out_proba = classifier.predict_proba(held_out["title"], held_out["body"])
            score(run, held_out, {best: held_out_proba}, prefix="eval")

        run.log_metrics(
            {"best_model_cv_mean_repo_macro_f1": cv_scores[best], "training_seconds": time.perf_counter() - started}
        )
        run._client.set_tag(run.run_id, "best_model", best)
        atomic_io.write_text(run.out_dir / "champion.json", json.dumps({**champion, "model": best}, indent=2))


if __name__ == "__main__":
    main()
