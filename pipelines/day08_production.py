"""Day 8 stage: production patterns measured offline on the issue classifier.

    dvc repro day08_production                              # what `make repro` runs, on params.yaml
    python -m pipelines.day08_production profile=smoke      # straight from conf/, for a quick look

Records (see src/tracking.py): bandits on banditbench's setting (regret with 95% CI per policy, regret curves),
a Thompson-sampling replay of champion vs challenger on the issues and two canaries (traffic share curves), our
feature store against Feast (same training frame, same online values), the leakage CV (point-in-time join vs
leaking joins vs none), the circuit breaker against pybreaker and against a fault-injecting local server, and
the token-bucket rate limit. Metrics are `<variant>.<metric>` in metrics.json and one nested MLflow run each.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src.capstone.cross_validation import stratified_folds
from src.capstone.data import TRAIN_FILE, load_issues
from src.capstone.text import prepare_texts
from src.config import setting, validate_or_exit
from src.data import verified_path
from src.production import ab_testing, breaker_drill, issue_features, leakage, model_replay, rate_limit, rollout
from src.production.feature_store import FeatureView, OfflineStore
from src.tracking import StageRun
from src.visualization import production as figures

STAGE = "day08_production"
SECTION = "day08"


@dataclass
class BanditsConfig:
    runs: int = setting(at_least=2)
    horizon: int = setting(at_least=2)
    n_arms: int = setting(at_least=2)
    epsilon: float = setting(at_least=0, at_most=1)
    policies: list[str] = setting(one_of=tuple(ab_testing.POLICIES))
    curve_points: int = setting(at_least=2)


@dataclass
class DataConfig:
    per_repo_label: int = setting(at_least=2)


@dataclass
class ModelsConfig:
    cv_folds: int = setting(at_least=2)
    C: float = setting(above=0)
    max_char_features: int = setting(at_least=1)
    min_df: int = setting(at_least=1)


@dataclass
class ReplayConfig:
    runs: int = setting(at_least=1)
    window: int = setting(at_least=1)
    target_share: float = setting(above=0, below=1)


@dataclass
class CanaryConfig:
    share: float = setting(above=0, below=1)
    max_error_rate: float = setting(at_least=0, below=1)
    min_requests: int = setting(at_least=1)


@dataclass
class FeaturesConfig:
    label_delay_hours: float = setting(above=0)
    window: int = setting(at_least=1)
    ttl_days: float = setting(above=0)
    compare_with_feast: bool


@dataclass
class LeakageConfig:
    cv_folds: int = setting(at_least=2)
    C: float = setting(above=0)
    max_char_features: int = setting(at_least=1)
    min_df: int = setting(at_least=1)


@dataclass
class BreakerConfig:
    failure_threshold: int = setting(at_least=1)
    reset_timeout_s: float = setting(above=0)
    call_timeout_s: float = setting(above=0)
    calls_per_phase: int = setting(at_least=1)


@dataclass
class RateLimitConfig:
    rate: float = setting(above=0)
    capacity: int = setting(at_least=1)
    offered_rps: float = setting(above=0)
    seconds: float = setting(above=0)


@dataclass
class Day08Config:
    bandits: BanditsConfig
    data: DataConfig
    models: ModelsConfig
    replay: ReplayConfig
    canary: CanaryConfig
    features: FeaturesConfig
    leakage: LeakageConfig
    breaker: BreakerConfig
    rate_limit: RateLimitConfig


SCHEMA = Day08Config


# -- the experiments -------------------------------------------------------------------------------------------
def run_bandits(run: StageRun, cfg: BanditsConfig, seed: int):
    params = {name: ({"epsilon": cfg.epsilon} if name == "epsilon_greedy" else {}) for name in cfg.policies}
    results = ab_testing.banditbench(params, cfg.runs, cfg.horizon, cfg.n_arms, seed)
    steps = np.unique(np.linspace(1, cfg.horizon, cfg.curve_points).round().astype(int))
    curves, rows = {}, [{"pull": int(s)} for s in steps]
    for name, result in results.items():
        mean, low, high = ab_testing.mean_with_ci(result.final_regret)
        metrics = {"mean_regret": mean, "regret_ci_low": low, "regret_ci_high": high}
        metrics["share_of_pulls_on_best_arm"] = float(result.final_share_best.mean())
        if name in figures.BANDITBENCH:
            metrics["published_regret"] = figures.BANDITBENCH[name]
            metrics["at_or_below_published"] = float(low <= figures.BANDITBENCH[name])
        run.log_metrics(metrics, variant=f"bandit_{name}")
        curve = result.cumulative_regret[:, steps - 1]
        half = 1.96 * curve.std(axis=0, ddof=1) / np.sqrt(cfg.runs)
        curves[name] = (curve.mean(axis=0), half)
        run.log_series("cumulative_regret", curves[name][0], variant=f"bandit_{name}", steps=steps)
        for row, value in zip(rows, curves[name][0], strict=True):
            row[name] = round(float(value), 4)
    run.write_plot_data("regret_curves", rows)
    run.log_figure(figures.regret_curves(steps, curves, cfg.horizon), "regret_curves")


def run_replay(run: StageRun, cfg: Day08Config, frame: pd.DataFrame, seed: int):
    models = cfg.models
    params = {"C": models.C, "max_char_features": models.max_char_features, "min_df": models.min_df}
    outcomes = model_replay.champion_challenger_outcomes(frame, models.cv_folds, seed, params)
    accuracy = outcomes.mean(axis=0)
    run.log_metrics({"oof_accuracy": accuracy[0]}, variant="sklearn_tfidf_title_champion")
    run.log_metrics({"oof_accuracy": accuracy[1]}, variant="sklearn_tfidf_challenger")

    rng = np.random.default_rng(seed)
    chosen, rewards = ab_testing.replay(ab_testing.ThompsonSampling(2, runs=cfg.replay.runs), outcomes, rng)
    curve = ab_testing.traffic_share_curve(chosen, arm=1, window=cfg.replay.window)
    run.log_metrics(
        {
            "challenger_share_overall": float((chosen == 1).mean()),
            "challenger_share_last_window": float(curve[-1]),
            "requests_until_target_share": model_replay.requests_until_share(curve, cfg.replay.target_share),
            "accuracy_served": float(rewards.mean()),
            "accuracy_of_50_50_split": float(accuracy.mean()),
        },
        variant="thompson_replay",
    )
    run.write_plot_data(
        "traffic_share", [{"request": i + 1, "challenger_share": float(v)} for i, v in enumerate(curve)]
    )

    canaries = {}
    for name, (champion, challenger) in {"better": (0, 1), "worse": (1, 0)}.items():
        canary = rollout.Canary(cfg.canary.share, cfg.canary.max_error_rate, cfg.canary.min_requests)
        ids = [f"issue-{i}" for i in rng.permutation(len(frame))]
        order = [int(i.split("-")[1]) for i in ids]
        canaries[name] = rollout.canary_replay(canary, ids, outcomes[order, champion], outcomes[order, challenger])
        run.log_metrics(
            {
                "rolled_back": float(canary.rolled_back),
                "challenger_answers_before_rollback": float(canary.rolled_back_after or 0),
                "challenger_error_rate": canary.error_rate(rollout.CHALLENGER),
                "challenger_share_overall": canaries[name][-1]["challenger_share"],
            },
            variant=f"canary_{name}_challenger",
        )
    run.log_figure(
        figures.traffic_share(curve, canaries["better"], canaries["worse"], cfg.replay.window), "traffic_share"
    )


def run_feature_store(run: StageRun, cfg: Day08Config, frame: pd.DataFrame, seed: int):
    fcfg = cfg.features
    view = FeatureView("repo_stats", "repo", tuple(issue_features.FEATURES), ttl=pd.Timedelta(days=fcfg.ttl_days))
    entities = issue_features.entity_frame(frame)
    delay = pd.Timedelta(hours=fcfg.label_delay_hours)
    correct = issue_features.repo_snapshots(frame, delay, fcfg.window)
    if fcfg.compare_with_feast:
        push = correct.sort_values("event_timestamp").groupby("repo").tail(1).copy()
        push["event_timestamp"] += pd.Timedelta(hours=1)
        push["labelled_issues"] += 1
        with tempfile.TemporaryDirectory() as folder:
            metrics, _ = issue_features_compare(folder, view, correct, entities, push)
        run.log_metrics(metrics, variant="scratch_vs_feast_feature_store")

    def joined(snapshots, naive=False):
        store = OfflineStore()
        store.register(view, snapshots)
        frame_ = store.naive_join(entities, view.name) if naive else store.get_historical_features(entities, view.name)
        return leakage.fill_missing(frame_[list(view.features)])

    leaky = issue_features.repo_snapshots(frame, pd.Timedelta(0), fcfg.window)
    feature_sets = {
        "none": None,
        "point_in_time": joined(correct),
        "leaky_label_latency": joined(leaky),
        "leaky_latest": joined(correct, naive=True),
    }
    lcfg = cfg.leakage
    folds = stratified_folds(frame["repo"], frame["label"], lcfg.cv_folds, seed)
    texts = prepare_texts(frame["title"], frame["body"])
    common = (texts, frame["label"], frame["repo"], folds)
    knobs = {"C": lcfg.C, "max_char_features": lcfg.max_char_features, "min_df": lcfg.min_df}
    scores = {
        "text + repository features": leakage.cross_validate(*common, feature_sets, **knobs),
        "repository features only": leakage.cross_validate(
            *common, {k: v for k, v in feature_sets.items() if v is not None}, **knobs, use_text=False
        ),
    }
    rows = []
    for model, by_join in scores.items():
        prefix = "tfidf_repo_features" if model.startswith("text") else "repo_features_only"
        for join, score in by_join.items():
            run.log_metrics({"cv_mean_repo_macro_f1": score}, variant=f"{prefix}_{join}")
            rows.append({"variant": f"{prefix}_{join}", "cv_mean_repo_macro_f1": round(score, 4)})
    text = scores["text + repository features"]
    run.log_metrics(
        {
            "leak_gap_points": 100 * (text["leaky_label_latency"] - text["point_in_time"]),
            "features_gain_points": 100 * (text["point_in_time"] - text["none"]),
        },
        variant="leakage_summary",
    )
    run.write_plot_data("leakage", rows)
    run.log_figure(figures.leakage(scores), "leakage")


def issue_features_compare(folder, view, rows, entities, push):
    from src.production.feast_store import compare_with_feast

    return compare_with_feast(Path(folder) / "feast_repo", view, rows, entities, push)


def run_resilience(run: StageRun, cfg: Day08Config):
    bcfg = cfg.breaker
    compared = breaker_drill.compare_with_pybreaker(
        breaker_drill.DEFAULT_SCRIPT, bcfg.failure_threshold, bcfg.reset_timeout_s
    )
    run.log_metrics(
        {
            "script_calls": compared["calls"],
            "mismatches": compared["mismatches"],
            "fail_fast": compared["fail_fast_calls"],
        },
        variant="scratch_vs_pybreaker_breaker",
    )
    drill = breaker_drill.fault_drill(
        bcfg.failure_threshold, bcfg.reset_timeout_s, bcfg.call_timeout_s, bcfg.calls_per_phase
    )
    for row in drill:
        numbers = {k: float(v) for k, v in row.items() if k not in ("phase", "state_after")}
        run.log_metrics(numbers, variant=f"breaker_fault_{row['phase']}")
    run.write_table("breaker_fault_drill", pd.DataFrame(drill))

    rcfg = cfg.rate_limit
    arrivals = np.arange(0, rcfg.seconds, 1 / rcfg.offered_rps)
    decisions = rate_limit.replay_arrivals(rcfg.rate, rcfg.capacity, arrivals)
    allowed = sum(d.allowed for d in decisions)
    run.log_metrics(
        {
            "offered": float(len(decisions)),
            "allowed": float(allowed),
            "expected_allowed": float(min(len(decisions), rcfg.capacity + rcfg.rate * arrivals[-1])),
            "max_retry_after_s": max(d.retry_after for d in decisions),
        },
        variant="token_bucket",
    )


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    settings = validate_or_exit(cfg, SECTION, SCHEMA)
    with StageRun(STAGE, cfg, SECTION, settings) as run:
        run_bandits(run, settings.bandits, cfg.seed)
        frame = model_replay.issue_subset(load_issues(verified_path(TRAIN_FILE)), settings.data.per_repo_label)
        run_replay(run, settings, frame, cfg.seed)
        run_feature_store(run, settings, frame, cfg.seed)
        run_resilience(run, settings)


if __name__ == "__main__":
    main()
