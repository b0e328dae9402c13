"""Monitor stage: Evidently drift and quality reports on the issue classifier's traffic.

    dvc repro monitor                                          # replay streams through the champion (params.yaml)
    make monitor                                               # the live service's log (logs/serving by default)
    python -m pipelines.monitor monitoring.source=live monitoring.live_log_dir=/var/log/issue-classifier

Replay (the DVC stage): held-out training issues, one repository's issues and non-issue text go through the
champion and into prediction logs (src/monitoring/replay.py says why the reference predictions are recomputed);
each stream is compared with the reference. Live: the service's log against the training issues' out-of-fold
predictions. Writes into reports/monitoring/ (live: reports/monitoring/live/): html/ and json/ Evidently reports
per stream, metrics.json (`<stream>.drift_detected`, ...), a drift-score CSV and figures, all logged to MLflow.
"""

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import hydra
from omegaconf import DictConfig

import src.tracking as tracking
from src.capstone.model import PROBA_COLUMNS
from src.config import validate_or_exit
from src.data import verified_path
from src.monitoring import drift_report, replay
from src.monitoring.traffic import TrafficError, load_reference, load_traffic
from src.paths import ROOT
from src.tracking import StageRun
from src.visualization import monitoring as figures

STAGE = "monitor"
SOURCES = ("replay", "live")


# -- the stage's config schema: conf/monitoring/default.yaml must fit it -------------------------------------
@dataclass
class ReplayConfig:
    log_dir: str = "data/processed/monitoring"
    current_share: float = 0.4
    max_issues: int | None = None
    one_repo: str = "tensorflow/tensorflow"
    non_issue_file: str = "tinyshakespeare/input.txt"
    non_issue_size: int = 150
    batch_size: int = 64

    def __post_init__(self):
        if not 0 < self.current_share < 1:
            raise ValueError(f"replay.current_share must be between 0 and 1, got {self.current_share}")
        if self.max_issues is not None and self.max_issues < 30:
            raise ValueError(f"replay.max_issues must be >= 30 (or null for all), got {self.max_issues}")
        if self.non_issue_size < 1 or self.batch_size < 1:
            raise ValueError("replay.non_issue_size and replay.batch_size must be >= 1")


@dataclass
class DriftConfig:
    drift_share: float = 0.5
    method: str | None = None
    threshold: float | None = None

    def __post_init__(self):
        if not 0 < self.drift_share <= 1:
            raise ValueError(f"drift.drift_share must be in (0, 1], got {self.drift_share}")


@dataclass
class MonitoringConfig:
    source: str = "replay"
    reference_file: str = "reports/day10_capstone/reference_predictions.csv"
    champion_file: str = "reports/day10_capstone/champion.json"
    live_log_dir: str = "logs/serving"
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")


def read_champion(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: train and register a champion first (`dvc repro day10_capstone`)"
        )
    return json.loads(path.read_text())


# -- the two ways of getting traffic ------------------------------------------------------------------------
def replay_streams(run: StageRun, cfg: MonitoringConfig, champion: dict, seed: int):
    """(reference, {stream: traffic}): the champion classifies a reference split and three replayed streams."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        model = mlflow.pyfunc.load_model(champion["model_uri"])
    except MlflowException as error:
        raise RuntimeError(
            f"can't load the champion {champion['model_uri']} named in {cfg.champion_file} from the tracking store "
            f"{tracking.tracking_uri()} ({str(error).splitlines()[0]}). Train it into this store first: "
            "`dvc repro day10_capstone` with the same MLFLOW_TRACKING_URI."
        ) from error
    issues = load_reference(ROOT / cfg.reference_file)
    if cfg.replay.one_repo not in set(issues["repo"]):
        raise ValueError(
            f"replay.one_repo {cfg.replay.one_repo!r} is not in the reference: {sorted(set(issues['repo']))}"
        )
    reference, held_out = replay.split_reference(issues, cfg.replay.current_share, seed, cfg.replay.max_issues)
    # in-sample on both sides (see src/monitoring/replay.py): the champion predicts the reference too
    predicted = replay.predict(model, reference, cfg.replay.batch_size, desc="reference")
    reference = reference.assign(prediction=predicted["label"], **{c: predicted[c] for c in PROBA_COLUMNS})
    sources = {
        "in_distribution": held_out,
        "one_repo": held_out[held_out["repo"] == cfg.replay.one_repo],
        "non_issue": replay.non_issue_passages(
            verified_path(cfg.replay.non_issue_file), cfg.replay.non_issue_size, seed
        ),
    }
    streams = {}
    for stream, issues_sent in sources.items():
        folder = ROOT / cfg.replay.log_dir / stream
        started = time.perf_counter()
        replay.replay(model, issues_sent, folder, stream, champion["version"], cfg.replay.batch_size)
        seconds = time.perf_counter() - started
        streams[stream] = load_traffic(folder)  # read back: the report sees exactly what a service would log
        run.log_metrics(
            {"rows": len(issues_sent), "predictions_per_second": len(issues_sent) / seconds}, variant=stream
        )
    run.log_metrics({"rows": len(reference)}, variant="reference")
    return reference, streams


def live_traffic(run: StageRun, cfg: MonitoringConfig, traffic):
    """(reference, {"live": traffic}): the service's log against every training issue's out-of-fold prediction."""
    reference = load_reference(ROOT / cfg.reference_file)
    run.log_metrics({"rows": len(traffic)}, variant="live")
    run.log_metrics({"rows": len(reference)}, variant="reference")
    if "model_version" in traffic:
        run._client.set_tag(
            run.run_id, "model_versions", ",".join(sorted(traffic["model_version"].astype(str).unique()))
        )
    return reference, {"live": traffic}


# -- the reports --------------------------------------------------------------------------------------------
def report(run: StageRun, reference, streams: dict, cfg: DriftConfig):
    summaries, current_tables, plot_rows, reference_table = {}, {}, [], None
    for stream, traffic in streams.items():
        snapshot, reference_table, current_tables[stream] = drift_report.drift_report(
            reference, traffic, cfg.drift_share, cfg.method, cfg.threshold
        )
        summary = summaries[stream] = drift_report.summarize_drift(snapshot, cfg.drift_share)
        saved = drift_report.save(snapshot, run.out_dir, f"{stream}_drift")
        metrics = {key: float(summary[key]) for key in ("drift_detected", "drifted_count", "drifted_share")}
        quality = drift_report.quality_report(reference, traffic)
        if quality is not None:
            saved += drift_report.save(quality, run.out_dir, f"{stream}_quality")
            metrics |= drift_report.summarize_quality(quality)
            metrics["labelled_rows"] = int(traffic["target"].notna().sum())
        run.log_metrics(metrics, variant=stream)
        for path in saved:
            run._client.log_artifact(run.run_id, str(path), artifact_path=f"evidently/{path.suffix[1:]}")
        plot_rows += [{"stream": stream, **column} for column in summary["columns"]]
        print(
            f"{stream}: {summary['drifted_count']:.0f}/{len(summary['columns'])} columns drifted -> "
            f"{'DRIFT' if summary['drift_detected'] else 'no drift'}"
        )
    run.write_plot_data("drift_scores", plot_rows)
    run.log_figure(figures.drift_matrix(summaries), "drift_matrix")
    numeric = [*drift_report.DESCRIPTORS, *PROBA_COLUMNS]
    run.log_figure(figures.distributions(reference_table, current_tables, numeric), "distributions")
    return summaries


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    monitoring = validate_or_exit(cfg, "monitoring", MonitoringConfig)
    live = monitoring.source == "live"
    # Before any run starts: no traffic yet, or no champion, is a message to the user, not a failed run.
    try:
        traffic = load_traffic(ROOT / monitoring.live_log_dir) if live else None
        champion = None if live else read_champion(ROOT / monitoring.champion_file)
    except (TrafficError, FileNotFoundError) as error:
        sys.exit(f"monitor: {error}")
    # live reports go beside the replay's, outside the folders DVC owns
    out_dir = tracking.REPORTS / "monitoring" / ("live" if live else "")
    with StageRun(STAGE, cfg, section="monitoring", out_dir=out_dir) as run:
        if live:
            reference, streams = live_traffic(run, monitoring, traffic)
        else:
            reference, streams = replay_streams(run, monitoring, champion, cfg.seed)
        report(run, reference, streams, monitoring.drift)


if __name__ == "__main__":
    main()
