"""The stage contract's recorder: one MLflow run per stage, one nested run per variant, DVC files on success.

A stage script uses it like this:

    settings = validate_or_exit(cfg, "day01", Day01Config)          # the typed, range-checked section
    with StageRun("day01_math", cfg, "day01", settings) as run:
        run.log_metrics({"gflops": 3.2}, variant="numpy_blas")        # -> metrics.json: numpy_blas.gflops
        run.log_series("loss", losses, variant="scratch_gd")         # per-step metric curve in MLflow
        run.log_figure(fig, "matmul_benchmark")                      # PNG in reports/ and in MLflow
        run.write_plot_data("matmul_benchmark", rows)                # CSV for `dvc plots`
        run.write_table("cv_tfidf", frame)                           # reports/<stage>/tables/cv_tfidf.csv
        run.write_json("champion.json", {...})                       # any other report file, atomically
        run.set_tags({"best_model": "tfidf"})                        # on the stage run (or variant=...)
        path = run.model_path("scratch_cnn.npz")                     # models/<stage>/scratch_cnn.npz
        run.log_artifact(path, "model", variant="scratch_cnn")       # a file into a run's artifacts

What it guarantees:
- the run lives in the stage's experiment (`day01-math`), with the flattened config as params and tags for
  the git commit, DVC stage, profile and a digest of the config (equal digests: the same settings ran);
- each variant (an implementation: `scratch_qr`, `numpy_qr`, ...) is a nested run tagged `variant`, so the
  MLflow compare view puts from-scratch and reference side by side;
- `reports/<stage>/metrics.json` is written only when the stage succeeds, atomically, with keys
  `<variant>.<metric>`; an exception marks every run FAILED (KILLED on Ctrl-C or SIGTERM), and no file is half-written;
- a stop signal always stops the stage (exit 128 + signum), even one that arrives while the runs are being closed
  (src/stop_signals.py); a run whose process died by SIGKILL is marked KILLED by the next start of the stage,
  which also deletes the temporary files that process left in its outputs (src/tracking_store.py);
- an unreachable or unwritable tracking store fails the stage in seconds, before any work, naming the URI.

The tracking store is `MLFLOW_TRACKING_URI` if set, else `sqlite:///<project>/mlflow.db`. Stages never touch
the MLflow client themselves: everything they record goes through the methods below.
"""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from src import atomic_io, tracking_store
from src.paths import MODELS, REPORTS, ROOT
from src.stop_signals import HeldCalls, StopGuard, StopRequested

# Before mlflow is imported anywhere: no telemetry thread trying DNS on an offline machine; no GUI backend.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MPLBACKEND", "Agg")
# A server that dies mid-run: fail within a minute or two, not after MLflow's default ~2 min x 7 retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

LOG_BATCH_SIZE = 1000  # MLflow's limit of metrics per log_batch call


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{ROOT / 'mlflow.db'}"


def artifact_location(uri: str, experiment: str) -> str | None:
    """Beside a local sqlite store, artifacts go to <store folder>/mlartifacts/<experiment>; a server
    (http://...) decides for itself. Without this MLflow would use ./mlruns in whatever folder we run from."""
    if not uri.startswith("sqlite:///"):
        return None
    store = Path(uri.removeprefix("sqlite:///")).resolve()
    return (store.parent / "mlartifacts" / experiment).as_uri()


def experiment_name(stage: str) -> str:
    """day01_math -> day01-math: one experiment per day, so the UI lists the curriculum in order."""
    return stage.replace("_", "-")


def open_experiment(client, stage: str, uri: str) -> str:
    """The id of the stage's experiment, created (with its artifacts beside the store) if it doesn't exist yet.
    Another process creating it at the same moment (parallel sweep jobs) is not an error: its id is used."""
    from mlflow.exceptions import MlflowException

    name = experiment_name(stage)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location(uri, name))
    except MlflowException:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:  # not a lost race: a real failure
            raise
        return experiment.experiment_id


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    """{'a': {'b': 1}} -> {'a.b': '1'}: MLflow params are flat strings."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list | tuple) else str(value)
    return flat


def config_digest(config: dict) -> str:
    """A short hash of the config: equal digests mean the stage ran with identical settings."""
    canonical = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def git_commit() -> str:
    """HEAD's commit, with '-dirty' when tracked code or config differ from it; 'unknown' outside git.
    reports/ and dvc.lock are left out: DVC deletes a stage's old outputs before running it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        outputs = [":(exclude)reports", ":(exclude)dvc.lock"]
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", *outputs], cwd=ROOT).returncode
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _hydra_job() -> tuple[bool, str]:
    """(is this a Hydra multirun job?, the job's output folder). Outside Hydra: (False, '')."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra_cfg = HydraConfig.get()
        return hydra_cfg.mode == RunMode.MULTIRUN, hydra_cfg.runtime.output_dir
    except (ImportError, ValueError):
        return False, ""


def _hydra_overrides() -> str:
    try:
        from hydra.core.hydra_config import HydraConfig

        return " ".join(HydraConfig.get().overrides.task)
    except (ImportError, ValueError):
        return ""


def _put_back(path: Path, previous: bytes | None):
    """Restore a file to what it was before this stage wrote it (absent if it was absent), atomically."""
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        atomic_io.atomic_write(path, lambda temporary: temporary.write_bytes(previous))


class StageRun:
    """Context manager that owns a stage's MLflow runs and its DVC outputs (see the module docstring)."""

    def __init__(self, stage: str, cfg: DictConfig, section: str, settings=None, out_dir: Path | None = None):
        """`settings` is the section as `config.validate` returned it: MLflow logs the validated values that
        run, not the raw text of params.yaml."""
        self.stage = stage
        section_values = (
            dataclasses.asdict(settings)
            if dataclasses.is_dataclass(settings)
            else OmegaConf.to_container(cfg[section], resolve=True)
        )
        self.config = {
            section: section_values,
            "seed": cfg.seed,
            "profile": OmegaConf.to_container(cfg.profile, resolve=True),
        }
        self.profile = cfg.profile.name
        is_sweep, job_dir = _hydra_job()
        # A sweep job writes under its own Hydra folder, never into the reports/ and models/ that DVC owns.
        self.out_dir = Path(out_dir or (Path(job_dir) / "reports" / stage if is_sweep else REPORTS / stage))
        self.models_dir = Path(job_dir) / "models" / stage if is_sweep else MODELS / stage
        self.metrics: dict[str, dict[str, float]] = {}
        self._variant_runs: dict[str, str] = {}
        self._started = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------------
    def __enter__(self) -> "StageRun":
        uri = tracking_uri()
        try:
            tracking_store.check_reachable(uri)  # seconds, not minutes of retries, when the store is down
        except tracking_store.TrackingStoreError as err:
            raise SystemExit(f"tracking store error: {err}") from None
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(uri)
        self._stop = StopGuard()
        self._client = HeldCalls(MlflowClient(), self._stop)  # a stop never cuts a store write in half
        self._stop.install()  # before the first run exists: a stop from here on closes the runs
        try:
            self._open_runs(uri)
        except BaseException:
            self._stop.defer()
            if hasattr(self, "run_id"):
                self._close("KILLED" if self._stop.signum else "FAILED", *sys.exc_info())
            self._stop.restore()
            raise
        return self

    def _open_runs(self, uri: str):
        self.experiment_id = open_experiment(self._client, self.stage, uri)
        # What an earlier start killed by SIGKILL left behind: runs still RUNNING, temporary files in our outputs.
        for run_id in tracking_store.mark_orphaned_runs_killed(self._client, self.experiment_id):
            print(f"note: run {run_id} of an earlier start whose process is gone was marked KILLED", file=sys.stderr)
        for folder in (self.out_dir, self.models_dir):
            atomic_io.remove_orphaned_temporaries(folder)
        self.tags = {
            "git_commit": git_commit(),
            "dvc_stage": self.stage,
            "profile": self.profile,
            "config_digest": config_digest(self.config),
            "hydra_overrides": _hydra_overrides(),
            tracking_store.PROCESS_TAG: tracking_store.process_tag(),
        }
        run_name = f"{self.stage} {self.tags['hydra_overrides']}".strip()
        with self._stop.held():  # a run created is a run remembered, so that the wind-down closes it
            run = self._client.create_run(self.experiment_id, run_name=run_name, tags=self.tags)
            self.run_id = run.info.run_id
        self._log_params(self.run_id, flatten(self.config))
        self._started = time.perf_counter()

    def __exit__(self, exc_type, exc, tb) -> bool:
        """Close the runs and, on success, write metrics.json. A signal arriving now is deferred, not lost:
        the wind-down finishes (runs closed, metrics.json whole) and then the stage exits with 128 + signum."""
        stage_failed = exc_type is not None
        while True:  # a signal landing on the very first bytecode here is caught and the deferral retried
            try:
                self._stop.defer()
                break
            except StopRequested as stop:
                exc_type, exc, tb = (type(stop), stop, stop.__traceback__) if exc_type is None else (exc_type, exc, tb)
        try:
            if exc_type is None and self._stop.signum is None:
                metrics_file = self.out_dir / "metrics.json"
                previous = metrics_file.read_bytes() if metrics_file.exists() else None
                try:
                    self.log_metrics({"wall_seconds": time.perf_counter() - self._started}, variant="stage")
                    atomic_io.write_json(metrics_file, self.metrics)
                    self._close("KILLED" if self._stop.signum is not None else "FINISHED")
                except BaseException:  # e.g. the store died while the runs were closed: the stage has failed,
                    _put_back(metrics_file, previous)  # so DVC must not find new metrics from it
                    self._close("FAILED", *sys.exc_info())
                    raise
            elif exc_type is None:  # a stop whose raise was swallowed somewhere: the stage must not pass
                stop = StopRequested(self._stop.signum)
                self._close("KILLED", type(stop), stop, None)
            else:
                status = "KILLED" if issubclass(exc_type, KeyboardInterrupt | SystemExit) else "FAILED"
                self._close(status, exc_type, exc, tb)
        finally:
            self._stop.restore()
        if not stage_failed and self._stop.signum is not None:
            raise StopRequested(self._stop.signum)
        return False  # never swallow the exception: DVC must see the stage fail

    def _close(self, status: str, exc_type=None, exc=None, tb=None):
        """Mark every run `status`; on a failure also record the error. If the store itself fails now (say the
        sqlite file was deleted), the original error is the one that propagates: this one is only printed."""
        try:
            if exc_type is not None:
                self._client.set_tag(self.run_id, "error", f"{exc_type.__name__}: {exc}"[:5000])
                self._client.log_text(self.run_id, "".join(traceback.format_exception(exc_type, exc, tb)), "error.txt")
            for run_id in [*self._variant_runs.values(), self.run_id]:
                self._client.set_terminated(run_id, status=status)
        except Exception as err:
            if exc_type is None:
                raise
            print(f"warning: could not mark the runs {status} in {tracking_uri()}: {err}", file=sys.stderr)

    # -- recording ---------------------------------------------------------------------------------------
    def variant_run(self, variant: str) -> str:
        """The nested run for one implementation, created on first use and tagged so the UI can compare."""
        if variant not in self._variant_runs:
            tags = {**self.tags, "variant": variant, "mlflow.parentRunId": self.run_id}
            with self._stop.held():  # a run created is a run remembered, so that the wind-down closes it
                run = self._client.create_run(self.experiment_id, run_name=variant, tags=tags)
                self._variant_runs[variant] = run.info.run_id
        return self._variant_runs[variant]

    def log_metrics(self, metrics: dict[str, float], variant: str = "stage", step: int | None = None):
        """Final metrics of a variant: into its MLflow run and into metrics.json as `<variant>.<metric>`."""
        from mlflow.entities import Metric

        self._stop.raise_if_requested()
        run_id = self.run_id if variant == "stage" else self.variant_run(variant)
        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, step or 0) for key, value in metrics.items()]
        self._client.log_batch(run_id, metrics=batch)
        self.metrics.setdefault(variant, {}).update({k: float(v) for k, v in metrics.items()})

    def log_series(self, key: str, values, variant: str = "stage", steps=None):
        """A per-step curve (loss by iteration, seconds by size): MLflow draws it as a chart."""
        from mlflow.entities import Metric

        self._stop.raise_if_requested()
        run_id = self.run_id if variant == "stage" else self.variant_run(variant)
        steps = range(len(values)) if steps is None else steps
        now = int(time.time() * 1000)
        points = [Metric(key, float(v), now, int(s)) for s, v in zip(steps, values, strict=True)]
        for start in range(0, len(points), LOG_BATCH_SIZE):
            self._client.log_batch(run_id, metrics=points[start : start + LOG_BATCH_SIZE])

    def log_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure to reports/<stage>/figures/<name>.png and attach it to the stage run."""
        import matplotlib.pyplot as plt

        path = atomic_io.save_figure(fig, self.out_dir / "figures" / f"{name}.png")
        plt.close(fig)
        self._client.log_artifact(self.run_id, str(path), artifact_path="figures")
        return path

    def write_plot_data(self, name: str, rows: list[dict]) -> Path:
        """Rows of equal keys -> reports/<stage>/plots/<name>.csv, the data `dvc plots show` draws."""
        if not rows:
            raise ValueError(f"plot data '{name}' is empty: nothing to write")
        header = list(rows[0])
        lines = [",".join(header)] + [",".join(str(row[k]) for k in header) for row in rows]
        return atomic_io.write_text(self.out_dir / "plots" / f"{name}.csv", "\n".join(lines) + "\n")

    def write_table(self, name: str, frame) -> Path:
        """A pandas DataFrame -> reports/<stage>/tables/<name>.csv (a report a person reads; committed)."""
        return atomic_io.write_text(self.out_dir / "tables" / f"{name}.csv", frame.to_csv(index=False))

    def write_json(self, relative_path: str, data) -> Path:
        """Any JSON report under reports/<stage>/ (e.g. "champion.json"), written atomically."""
        return atomic_io.write_json(self.out_dir / relative_path, data)

    def write_text(self, relative_path: str, text: str) -> Path:
        """Any text report under reports/<stage>/ (e.g. "reference_predictions.csv"), written atomically."""
        return atomic_io.write_text(self.out_dir / relative_path, text)

    def model_path(self, filename: str) -> Path:
        """Where a trained model goes: models/<stage>/<filename> (a DVC output). Write it with atomic_io."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return self.models_dir / filename

    def set_tags(self, tags: dict[str, object], variant: str = "stage"):
        """Tags on the stage run, or on a variant's nested run (e.g. the chosen model, a registry version)."""
        run_id = self.run_id if variant == "stage" else self.variant_run(variant)
        for key, value in tags.items():
            self._client.set_tag(run_id, key, str(value))

    def log_artifact(self, path: Path, artifact_path: str | None = None, variant: str = "stage"):
        """Attach a file (a model, an HTML report) to the stage run or a variant's run."""
        run_id = self.run_id if variant == "stage" else self.variant_run(variant)
        self._client.log_artifact(run_id, str(path), artifact_path=artifact_path)

    def _log_params(self, run_id: str, params: dict[str, str]):
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(items), 100):  # MLflow accepts at most 100 params per batch
            self._client.log_batch(run_id, params=items[start : start + 100])
