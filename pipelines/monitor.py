"""Monitor stage: Evidently drift and quality reports on the issue classifier's traffic.

    dvc repro monitor                                          # replay streams through the champion (params.yaml)
    make monitor                                               # the live service's log (logs/serving by default)
    python -m pipelines.monitor monitor.source=live monitor.live_log_dir=/var/log/issue-classifier

Replay (the DVC stage): held-out training issues, one repository's issues and non-issue text go through the
champion and into prediction logs (src/monitoring/replay.py says why the reference predictions are recomputed);
each stream is compared with the reference. Live: the service's log against the training issues' out-of-fold
predictions. Both read what day10_capstone wrote (champion.json, reference_predictions.csv: src/capstone/outputs.py).
Writes into reports/monitor/ (live: reports/monitor/live/): html/ and json/ Evidently reports per stream,
metrics.json (`<stream>.drift_detected`, ...), a drift-score CSV and figures, all logged to MLflow.
"""

import sys
from dataclasses import dataclass

import hydra
from omegaconf import DictConfig

from src.capstone import registry
from src.capstone.model import PROBA_COLUMNS
from src.capstone.outputs import read_champion, reference_path
from src.config import setting, validate_or_exit
from src.data import verified_path
from src.monitoring import drift_report, replay
from src.monitoring.traffic import TrafficError, load_reference, load_traffic
from src.paths import REPORTS, ROOT
from src.tracking import StageRun
from src.visualization import monitoring as figures

STAGE = "monitor"
SECTION = "monitor"


# -- the stage's config schema: conf/monitor/default.yaml gives every value ---------------------------------
@dataclass
class ReplayConfig:
    log_dir: str = setting(text=True)
    current_share: float = setting(above=0, below=1)
    max_issues: int | None = setting(at_least=30, optional=True)
    one_repo: str = setting(text=True)
    non_issue_file: str = setting(text=True)
    non_issue_size: int = setting(at_least=1)
    batch_size: int = setting(at_least=1)


@dataclass
class DriftConfig:
    drift_share: float = setting(above=0, at_most=1)
    method: str | None = setting(text=True, optional=True)
    threshold: float | None = setting(above=0, optional=True)


@dataclass
class MonitorConfig:
    source: str = setting(one_of=("replay", "live"))
    live_log_dir: str = setting(text=True)
    replay: ReplayConfig
    drift: DriftConfig


SCHEMA = MonitorConfig


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
            run.log_artifact(path, f"evidently/{path.suffix[1:]}")
        plot_rows += [{"stream": stream, **column} for column in summary["columns"]]
        print(
            f"{stream}: {summary['drifted_count']:.0f}/{len(summary['columns'])} columns drifted -> "
            f"{'DRIFT' if summary['drift_detected'] else 'no drift'}"
        )
    run.write_plot_data("drift_scores", plot_rows)
    run.log_figure(figures.drift_matrix(summaries), "drift_matrix")
    numeric = [*drift_report.DESCRIPTORS, *PROBA_COLUMNS]
    run.log_figure(figures.distributions(reference_table, current_tables, numeric), "distributions")


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    monitor = validate_or_exit(cfg, SECTION, SCHEMA)
    live = monitor.source == "live"
    # Before any run starts: no traffic yet, or no champion, is a message to the user, not a failed run.
    try:
        traffic = load_traffic(ROOT / monitor.live_log_dir) if live else None
        champion = None if live else read_champion()
    except (TrafficError, FileNotFoundError) as error:
        sys.exit(f"monitor: {error}")
    # live reports go beside the replay's, outside the folders DVC owns
    with StageRun(STAGE, cfg, SECTION, monitor, out_dir=REPORTS / STAGE / "live" if live else None) as run:
        reference = load_reference(reference_path())  # every training issue, with out-of-fold predictions
        if live:
            streams = {"live": traffic}
            run.log_metrics({"rows": len(traffic)}, variant="live")
            if "model_version" in traffic:
                run.set_tags({"model_versions": ",".join(sorted(traffic["model_version"].astype(str).unique()))})
        else:
            settings = monitor.replay
            reference, streams, stats = replay.replay_streams(
                registry.load_model(champion["model_uri"]),
                reference,
                current_share=settings.current_share,
                max_issues=settings.max_issues,
                one_repo=settings.one_repo,
                non_issue_path=verified_path(settings.non_issue_file),
                non_issue_size=settings.non_issue_size,
                log_dir=ROOT / settings.log_dir,
                model_version=champion["version"],
                batch_size=settings.batch_size,
                seed=cfg.seed,
            )
            for stream, numbers in stats.items():
                run.log_metrics(numbers, variant=stream)
        run.log_metrics({"rows": len(reference)}, variant="reference")
        report(run, reference, streams, monitor.drift)


if __name__ == "__main__":
    main()
