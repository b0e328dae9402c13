"""Day 9 stage: churn and card-fraud case studies with the money made explicit, and system designs whose
numbers a capacity model computes from this project's own measurements.

    dvc repro day09_case_studies                            # what `make repro` runs, on params.yaml
    python -m pipelines.day09_case_studies profile=smoke    # straight from conf/, for a quick look

Records (src/tracking.py): a nested MLflow run per model and case (`sklearn_logistic_churn`,
`scratch_forest_fraud`, ...), the decisions (`churn_decision`, `fraud_decision`, `fraud_two_layer`) and the
designs (`capacity_rag`, `capacity_serving`, `capacity_recommender`); metrics.json; plot CSVs for the curves;
figures (ROC/PR, reliability, profit and cost vs threshold, SHAP, architectures); capacity.json; and the
generated tables of docs/system_design/*.md.
"""

from dataclasses import asdict, dataclass

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src import atomic_io
from src.case_studies import capacity, churn, data, design_docs, fraud, modeling
from src.config import setting, validate_or_exit
from src.paths import ROOT
from src.tracking import StageRun
from src.visualization import case_studies as figures

STAGE = "day09_case_studies"
SECTION = "day09"
DESIGN_DOCS = ROOT / "docs" / "system_design"
IMPLEMENTATION = {"logistic": "sklearn_logistic", "hist_gb": "sklearn_hist_gb", "scratch_forest": "scratch_forest"}


# -- the stage's config schema: conf/day09/default.yaml must fit it ---------------------------------------
@dataclass
class LogisticConfig:
    C: float = setting(above=0)
    spline_knots: int = setting(at_least=2)


@dataclass
class HistGBConfig:
    learning_rate: float = setting(above=0, at_most=1)
    max_iter: int = setting(at_least=1)
    max_depth: int = setting(at_least=1)
    min_samples_leaf: int = setting(at_least=1)


@dataclass
class ForestConfig:
    n_estimators: int = setting(at_least=1)
    max_depth: int = setting(at_least=1)
    min_samples_leaf: int = setting(at_least=1)


@dataclass
class ModelsConfig:
    logistic: LogisticConfig
    hist_gb: HistGBConfig
    scratch_forest: ForestConfig


@dataclass
class CalibrationConfig:
    method: str = setting(one_of=("isotonic", "sigmoid"))
    inner_folds: int = setting(at_least=2)


@dataclass
class OfferConfig:
    cost: float = setting(at_least=0)
    acceptance_rate: float = setting(at_least=0, at_most=1)
    value_months: float = setting(above=0)
    margin: float = setting(above=0, at_most=1)


@dataclass
class ShapConfig:
    background: int = setting(at_least=10)
    explained_rows: int = setting(at_least=10)
    customers: int = setting(at_least=1)
    max_display: int = setting(at_least=1)


@dataclass
class ChurnConfig:
    models: ModelsConfig
    calibration: CalibrationConfig
    target_roc_auc: float = setting(above=0.5, at_most=1)
    leakage_roc_auc: float = setting(above=0.5, at_most=1)
    offer: OfferConfig
    shap: ShapConfig

    def __post_init__(self):
        if self.target_roc_auc >= self.leakage_roc_auc:
            raise ValueError(
                f"day09.churn.target_roc_auc ({self.target_roc_auc}) must be below day09.churn.leakage_roc_auc "
                f"({self.leakage_roc_auc}): the target must be reachable without tripping the leakage guard"
            )


@dataclass
class RuleLayerConfig:
    max_depth: int = setting(at_least=1)
    pass_below: float = setting(above=0, below=1)


@dataclass
class FraudConfig:
    models: ModelsConfig
    calibration: CalibrationConfig
    real_prevalence: float = setting(above=0, below=1)
    review_cost: float = setting(at_least=0)
    recall_for_precision: float = setting(above=0, at_most=1)
    rule_layer: RuleLayerConfig


@dataclass
class SourceConfig:
    file: str = setting(text=True)
    key: str = setting(text=True)


@dataclass
class InputsConfig:
    retrieval_qps: SourceConfig
    retrieval_measured_vectors: SourceConfig
    bytes_per_vector: SourceConfig
    recall_at_10: SourceConfig
    measured_dim: SourceConfig
    model_mb: SourceConfig
    replica_cores: SourceConfig


@dataclass
class ClusterConfig:
    node_memory_gib: float = setting(above=0)
    usable_memory_fraction: float = setting(above=0, at_most=1)
    cores_per_node: int = setting(at_least=1)
    target_utilisation: float = setting(above=0, at_most=1)
    min_replicas: int = setting(at_least=1)


@dataclass
class RagConfig:
    documents: int = setting(at_least=1)
    chunks_per_document: float = setting(above=0)
    qps: float = setting(above=0)
    tokens_per_request: float = setting(above=0)
    price_per_1k_tokens: float = setting(at_least=0)
    cache_hit_rates: list[float] = setting(at_least=0, below=1)
    embedding_dim: int = setting(at_least=1)
    bytes_per_value: int = setting(one_of=(1, 2, 4, 8))


@dataclass
class ServingConfig:
    qps: float = setting(above=0)
    p99_ms: float = setting(above=0)
    max_wait_ms: float = setting(at_least=0)
    target_utilisation: float = setting(above=0, at_most=1)


@dataclass
class RecommenderConfig:
    users: int = setting(at_least=1)
    items: int = setting(at_least=1)
    embedding_dim: int = setting(at_least=1)
    bytes_per_value: int = setting(one_of=(1, 2, 4, 8))
    qps: float = setting(above=0)
    candidates: int = setting(at_least=1)


@dataclass
class CapacityConfig:
    inputs: InputsConfig
    batch_curve: SourceConfig
    load_test: SourceConfig
    scaling: str = setting(one_of=("log", "linear"))
    cluster: ClusterConfig
    rag: RagConfig
    serving: ServingConfig
    recommender: RecommenderConfig
    update_docs: bool


@dataclass
class Day09Config:
    cv_folds: int = setting(at_least=2)
    reliability_bins: int = setting(at_least=2)
    thresholds: int = setting(at_least=3)
    churn: ChurnConfig
    fraud: FraudConfig
    capacity: CapacityConfig


SCHEMA = Day09Config


# -- shared: three models, raw and calibrated, out of fold -----------------------------------------------------
def compare_models(run, case, models_cfg, calibration, X, y, folds, seed, spline_columns, weights=None):
    """Every model, out of fold, before and after calibration; a nested run each. Returns {model: results}."""
    results = {}
    for kind in modeling.MODELS:
        model = modeling.build_model(kind, asdict(getattr(models_cfg, kind)), seed, spline_columns)
        raw = modeling.out_of_fold(model, X, y, folds, desc=f"{case} {kind}")
        calibrated = modeling.out_of_fold(model, X, y, folds, asdict(calibration), desc=f"{case} {kind} calibrated")
        metrics = modeling.classification_metrics(y, raw["proba"], folds)
        after = modeling.classification_metrics(y, calibrated["proba"], folds)
        metrics.update(
            {
                "brier_calibrated": after["brier"],
                "log_loss_calibrated": after["log_loss"],
                "fit_seconds": raw["fit_seconds"],
            }
        )
        if weights is not None:  # the same predictions at the real class mix
            real = modeling.classification_metrics(y, raw["proba"], folds, sample_weight=weights)
            metrics["auprc_real_prevalence"] = real["auprc"]
        variant = f"{IMPLEMENTATION[kind]}_{case}"
        run.log_metrics(metrics, variant=variant)
        run.set_tags({"case": case, "model": kind, "implementation": IMPLEMENTATION[kind].split("_")[0]}, variant)
        results[kind] = {"raw": raw["proba"], "calibrated": calibrated["proba"], "metrics": metrics, "model": model}
    return results


def reliability_figure(run, results, y, bins, name, title):
    curves = {}
    rows = []
    for kind, r in results.items():
        for when, proba in (("before", r["raw"]), ("after", r["calibrated"])):
            curve = modeling.reliability_curve(y, proba, bins)
            curves[
                f"{kind} {when} (Brier {modeling.classification_metrics(y, proba, np.zeros(len(y), int))['brier']:.4f})"
            ] = curve
            rows += [{"model": kind, "calibration": when, **point} for point in curve]
    run.write_plot_data(name, rows)
    run.log_figure(figures.reliability(curves, title), name)


def save_model(run, model, filename):
    import joblib

    atomic_io.atomic_write(run.model_path(filename), lambda tmp: joblib.dump(model, tmp))


# -- churn ------------------------------------------------------------------------------------------------------
def run_churn(run: StageRun, settings: Day09Config, seed: int):
    cfg = settings.churn
    frame = data.load_churn()
    X, y, ids, monthly, blanks = churn.prepare(frame)
    folds = modeling.fold_ids(y, settings.cv_folds, seed)
    modeling.check_no_leakage(ids, folds, list(X.columns), data.CHURN_TARGET, X.to_numpy(), y)
    spline_columns = [X.columns.get_loc(c) for c in churn.SPLINE_FEATURES]
    results = compare_models(run, "churn", cfg.models, cfg.calibration, X, y, folds, seed, spline_columns)

    aucs = {kind: r["metrics"]["cv_roc_auc"] for kind, r in results.items()}
    suspicious = {k: a for k, a in aucs.items() if a > cfg.leakage_roc_auc}
    if suspicious:
        raise modeling.LeakageError(
            f"churn CV ROC-AUC {suspicious} is above {cfg.leakage_roc_auc}: published work on this data reaches "
            "~0.84-0.85, so a feature probably leaks the target. Check src/case_studies/churn.features."
        )
    best = max(aucs, key=aucs.get)
    run.log_metrics(
        {
            "customers": len(y),
            "churn_rate": float(y.mean()),
            "blank_total_charges_set_to_zero": blanks,
            "best_cv_roc_auc": aucs[best],
            "meets_target_roc_auc": float(aucs[best] >= cfg.target_roc_auc),
            "features": X.shape[1],
        },
        variant="churn_data",
    )
    run.set_tags({"best_model": best}, variant="churn_data")
    run.log_figure(
        figures.roc_pr({k: r["raw"] for k, r in results.items()}, y, "Telco churn, 5-fold out-of-fold"), "churn_roc_pr"
    )
    reliability_figure(
        run, results, y, settings.reliability_bins, "churn_calibration", "Churn: reliability before/after"
    )

    # decisions in money, on the calibrated probabilities of the best-calibrated model
    decider = min(results, key=lambda k: results[k]["metrics"]["brier_calibrated"])
    proba = results[decider]["calibrated"]
    offer = cfg.offer
    value = churn.customer_value(monthly, offer.value_months, offer.margin)
    grid = np.linspace(0, 1, settings.thresholds)
    curve = churn.profit_curve(y, proba, value, offer.cost, offer.acceptance_rate, grid)
    threshold, best_profit = churn.best_threshold(y, proba, value, offer.cost, offer.acceptance_rate, grid)
    everybody = churn.offer_profit(y, np.ones(len(y), bool), value, offer.cost, offer.acceptance_rate)
    cross_fitted = churn.cross_fitted_profit(y, proba, value, folds, offer.cost, offer.acceptance_rate, grid)
    rule = churn.expected_profit_rule(proba, value, offer.cost, offer.acceptance_rate)
    rule_profit = churn.offer_profit(y, rule, value, offer.cost, offer.acceptance_rate)
    offered = proba >= threshold
    run.log_metrics(
        {
            "best_threshold": threshold,
            "profit_at_best_threshold": best_profit,
            "profit_cross_fitted_threshold": cross_fitted,
            "profit_expected_value_rule": rule_profit,
            "profit_offer_to_everybody": everybody,
            "profit_offer_to_nobody": 0.0,
            "saving_vs_nobody": cross_fitted,
            "saving_vs_everybody": cross_fitted - everybody,
            "profit_per_customer_cross_fitted": cross_fitted / len(y),
            "offers_at_best_threshold": int(offered.sum()),
            "churners_reached_at_best_threshold": float(y[offered].sum() / y.sum()),
            "mean_customer_value": float(value.mean()),
        },
        variant="churn_decision",
    )
    run.set_tags({"model": decider, "probabilities": "calibrated"}, variant="churn_decision")
    run.write_plot_data("churn_profit", curve)
    title = (
        f"Churn offers ({decider}, calibrated): cost ${offer.cost:g}, acceptance {offer.acceptance_rate:.0%}, "
        f"value {offer.value_months:g} months x margin {offer.margin:.0%}"
    )
    run.log_figure(figures.profit_curve(curve, (threshold, best_profit), everybody, title), "churn_profit_curve")

    explain_churn(run, cfg, X, y, results["hist_gb"]["model"], threshold, seed)
    save_model(run, modeling.fit_full(results[decider]["model"], X, y), f"churn_{decider}.joblib")


def explain_churn(run, cfg, X, y, model, threshold, seed):
    """SHAP for the gradient-boosting model fitted on every customer: a global summary and a few customers."""
    import shap

    fitted = modeling.fit_full(model, X, y)
    rng = np.random.default_rng(seed)
    background = X.iloc[rng.choice(len(X), min(cfg.shap.background, len(X)), replace=False)]
    rows = X.iloc[rng.choice(len(X), min(cfg.shap.explained_rows, len(X)), replace=False)]
    explainer = shap.TreeExplainer(fitted, data=background, model_output="probability")
    explanation = explainer(rows)
    importance = pd.DataFrame(
        {"feature": X.columns, "mean_abs_shap": np.abs(explanation.values).mean(axis=0)}
    ).sort_values("mean_abs_shap", ascending=False)
    run.write_table("churn_shap_importance", importance)
    top = importance.iloc[0]
    run.set_tags({"shap_top_feature": top["feature"]}, variant="sklearn_hist_gb_churn")
    run.log_metrics({"shap_top_feature_mean_abs": float(top["mean_abs_shap"])}, variant="sklearn_hist_gb_churn")
    run.log_figure(
        figures.shap_summary(explanation, cfg.shap.max_display, "Churn (gradient boosting): SHAP summary"),
        "churn_shap_summary",
    )
    proba = fitted.predict_proba(rows.to_numpy(dtype=float))[:, 1]
    picks = {
        "highest risk": int(np.argmax(proba)),
        "nearest the offer threshold": int(np.argmin(abs(proba - threshold))),
        "lowest risk": int(np.argmin(proba)),
    }
    for number, (why, i) in enumerate(list(picks.items())[: cfg.shap.customers], start=1):
        title = f"Customer {rows.index[i]} ({why}): P(churn) = {proba[i]:.2f}"
        run.log_figure(
            figures.shap_customer(explanation[i], cfg.shap.max_display, title), f"churn_shap_customer_{number}"
        )


# -- fraud ------------------------------------------------------------------------------------------------------
def run_fraud(run: StageRun, settings: Day09Config, seed: int):
    cfg = settings.fraud
    frame = data.load_fraud()
    X = frame[list(data.FRAUD_NUMERIC)].copy()
    X["log_amount"] = np.log1p(X[data.FRAUD_AMOUNT])
    y = frame[data.FRAUD_TARGET].to_numpy()
    amount = frame[data.FRAUD_AMOUNT].to_numpy()
    duplicates = pd.util.hash_pandas_object(frame, index=False).to_numpy()  # identical rows share a fold
    folds = modeling.fold_ids(y, settings.cv_folds, seed, groups=duplicates)
    modeling.check_no_leakage(duplicates, folds, list(X.columns), data.FRAUD_TARGET, X.to_numpy(), y)
    sample_prevalence = float(y.mean())
    weights = fraud.real_prevalence_weights(y, cfg.real_prevalence)
    spline_columns = [X.columns.get_loc("log_amount")]
    results = compare_models(run, "fraud", cfg.models, cfg.calibration, X, y, folds, seed, spline_columns, weights)

    # precision at a fixed recall, on the sample and at the real prevalence (same TPR and FPR)
    for kind, r in results.items():
        score = r["raw"]
        t = np.quantile(score[y == 1], 1 - cfg.recall_for_precision)
        tpr, fpr = fraud.rates(y, score >= t)
        run.log_metrics(
            {
                "recall_at_threshold": tpr,
                "fpr_at_threshold": fpr,
                "precision_at_recall_sample": float(fraud.precision_at_prevalence(tpr, fpr, sample_prevalence)),
                "precision_at_recall_real_prevalence": float(
                    fraud.precision_at_prevalence(tpr, fpr, cfg.real_prevalence)
                ),
            },
            variant=f"{IMPLEMENTATION[kind]}_fraud",
        )
    run.log_metrics(
        {
            "transactions": len(y),
            "frauds": int(y.sum()),
            "sample_prevalence": sample_prevalence,
            "real_prevalence": cfg.real_prevalence,
            "normal_weight": float(weights[y == 0][0]),
            "duplicate_rows": int(len(y) - len(np.unique(duplicates))),
        },
        variant="fraud_data",
    )
    run.log_figure(
        figures.roc_pr(
            {k: r["raw"] for k, r in results.items()},
            y,
            "Card fraud sample (19.7 % fraud), out-of-fold",
            sample_weight=weights,
            weight_label=f"at {cfg.real_prevalence:.3%}",
        ),
        "fraud_roc_pr",
    )
    reliability_figure(run, results, y, settings.reliability_bins, "fraud_calibration", "Fraud (sample): reliability")

    # costs at the real prevalence, on the best model by AUPRC
    decider = max(results, key=lambda k: results[k]["metrics"]["auprc"])
    score = results[decider]["raw"]
    grid = np.linspace(0, 1, settings.thresholds)
    alone = fraud.cost_curve(y, score, amount, cfg.review_cost, weights, grid)
    alone_fit = fraud.cross_fitted_threshold_cost(y, score, amount, folds, cfg.review_cost, weights, grid)
    nothing = fraud.policy_cost(y, np.zeros(len(y), bool), amount, cfg.review_cost, weights)
    everything = fraud.policy_cost(y, np.ones(len(y), bool), amount, cfg.review_cost, weights)
    real_p = fraud.prior_shift(results[decider]["calibrated"], sample_prevalence, cfg.real_prevalence)
    bayes = fraud.policy_cost(y, real_p * amount > cfg.review_cost, amount, cfg.review_cost, weights)
    metrics = {f"cross_fitted_threshold.{k}": v for k, v in alone_fit.items() if k != "flagged"}
    metrics.update({f"expected_cost_rule.{k}": v for k, v in bayes.items()})
    metrics.update({"review_nothing.cost": nothing["cost"], "review_everything.cost": everything["cost"]})
    metrics["saving_vs_review_nothing"] = nothing["cost"] - alone_fit["cost"]
    run.log_metrics(metrics, variant="fraud_decision")
    run.set_tags({"model": decider, "per": f"{fraud.PER_TRANSACTIONS} transactions"}, variant="fraud_decision")

    # two layers: rules approve the clearly normal, the model scores the rest
    rule = cfg.rule_layer
    passed = fraud.rule_layer_pass(X, y, folds, rule.max_depth, rule.pass_below, sample_prevalence, cfg.real_prevalence)
    layered_score = np.where(passed, 0.0, score)
    layered = fraud.cost_curve(y, layered_score, amount, cfg.review_cost, weights, grid)
    layered_fit = fraud.cross_fitted_threshold_cost(y, layered_score, amount, folds, cfg.review_cost, weights, grid)
    run.log_metrics(
        {
            **{f"cross_fitted_threshold.{k}": v for k, v in layered_fit.items() if k != "flagged"},
            "share_of_traffic_scored_by_model": float(np.sum(weights[~passed]) / weights.sum()),
            "frauds_approved_by_rules": int((passed & (y == 1)).sum()),
            "cost_vs_model_alone": layered_fit["cost"] - alone_fit["cost"],
        },
        variant="fraud_two_layer",
    )
    plot = [
        {"threshold": a["threshold"], "model_alone": a["cost"], "two_layer": b["cost"]}
        for a, b in zip(alone, layered, strict=True)
    ]
    run.write_plot_data("fraud_cost", plot)
    run.log_figure(
        figures.cost_curve(
            {f"model alone ({decider})": alone, "rules, then model": layered},
            {"review nothing": nothing["cost"], "review everything": everything["cost"]},
            f"Fraud: expected cost (missed amount + ${cfg.review_cost:g} per review)",
        ),
        "fraud_cost_curve",
    )
    save_model(run, modeling.fit_full(results[decider]["model"], X, y), f"fraud_{decider}.joblib")


# -- capacity and design documents -----------------------------------------------------------------------------
def run_capacity(run: StageRun, settings: Day09Config):
    report = capacity.capacity_report(asdict(settings.capacity), ROOT)
    run.write_json("capacity.json", report)
    rag_rows = report["rag"]["by_cache_hit_rate"]
    run.log_metrics(
        {
            "index_gib": rag_rows[0]["index_gib"],
            "shards": rag_rows[0]["shards"],
            "cores_no_cache": rag_rows[0]["cores"],
            "cores_at_highest_cache_hit": rag_rows[-1]["cores"],
            "llm_cost_per_month_no_cache": rag_rows[0]["llm_cost_per_month"],
            "llm_cost_per_month_at_highest_cache_hit": rag_rows[-1]["llm_cost_per_month"],
        },
        variant="capacity_rag",
    )
    serving = report["serving"]
    run.log_metrics(
        {
            "replicas": serving.get("replicas", float("nan")),
            "chosen_batch_size": serving["chosen"]["batch_size"] if serving["chosen"] else float("nan"),
            "p99_bound_ms": serving["chosen"]["p99_bound_ms"] if serving["chosen"] else float("nan"),
        },
        variant="capacity_serving",
    )
    rec = report["recommender"]
    run.log_metrics(
        {
            "user_embeddings_gib": rec["user_embeddings_gib"],
            "item_index_gib": rec["retrieval_index_gib"],
            "retrieval_cores": rec["retrieval_cores"],
        },
        variant="capacity_recommender",
    )
    blocks = design_docs.render(report)
    run.write_json("design_blocks.json", blocks)
    if settings.capacity.update_docs:
        design_docs.update(DESIGN_DOCS, blocks)
    for name, tiers in design_docs.ARCHITECTURES.items():
        run.log_figure(figures.architecture(tiers, name.replace("_", " ")), f"architecture_{name}")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)  # before any work: a bad key fails here, named
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        run_capacity(run, settings)  # first: a missing measured input fails in seconds, not after the models
        run_churn(run, settings, cfg.seed)
        run_fraud(run, settings, cfg.seed)


if __name__ == "__main__":
    main()
