"""`python -m src.scale.launch <stage> [Hydra arguments]`: a stage's entry point imported by its module name.

Hydra's joblib launcher sends the task function to its worker processes with cloudpickle. Run as
`python -m pipelines.<stage>`, the stage is `__main__`, so cloudpickle copies it *by value*, config dataclasses
included, and `dataclasses.MISSING` arrives as a different object: OmegaConf then refuses every section ("Invalid
type assigned: _MISSING_TYPE is not a subclass of ..."). Imported as `pipelines.<stage>`, the function and its
schema travel by reference and each worker imports them. The conf/ folder is passed as `--config-path` (Hydra
resolves the stage's `../conf` differently for an imported module). For a sweep (`-m`), the tracking store and
the stage's experiment are created first, once (`prepare_store`), so parallel jobs don't race to create them.

    python -m src.scale.launch day01_math -m hydra/launcher=joblib hydra.launcher.n_jobs=2 day01.x=1,2

Before `dvc queue start -j 2` on a fresh sqlite store, `python -m src.scale.launch <stage> --prepare-store`:
parallel queue workers otherwise race through MLflow's first migration and break the store ("table
_alembic_tmp_tags already exists", then every later start fails).

An Optuna search (hydra-optuna-sweeper) needs each job to return the value to optimise; a stage returns nothing,
so `--objective VARIANT.METRIC` runs the stage's own function and returns that key of the metrics.json the job
just wrote (in its sweep folder):

    python -m src.scale.launch day01_math --objective scratch_gradient_descent.final_mse -m \
        hydra/sweeper=optuna hydra.sweeper.direction=minimize hydra.sweeper.n_trials=6 \
        hydra.sweeper.sampler.seed=0 profile=smoke day01.least_squares.n_steps=30 \
        'day01.least_squares.lr=interval(0.01,0.5)'
"""

import importlib
import sys

from src.paths import CONF_DIR


def prepare_store(stage: str) -> None:
    """Create the tracking store's tables and the stage's experiment once, before parallel jobs start: jobs that
    find a fresh store all at once race (sqlite: "table experiments already exists"; any store: two
    create_experiment calls for the same name, one of which fails). Done as StageRun does it."""
    from mlflow.tracking import MlflowClient

    from src.tracking import open_experiment, tracking_uri
    from src.tracking_store import TrackingStoreError, check_reachable

    uri = tracking_uri()
    try:
        check_reachable(uri)
    except TrackingStoreError as error:
        sys.exit(f"tracking store error: {error}")
    open_experiment(MlflowClient(uri), stage, uri)


def objective_app(module, stage: str, objective: str):
    """A Hydra app that runs the stage's function (what @hydra.main wrapped) and returns metrics.json's
    `objective` ("variant.metric") from the job's own folder, for a sweeper that optimises (Optuna)."""
    import json
    from pathlib import Path

    import hydra
    from hydra.core.hydra_config import HydraConfig

    variant, _, metric = objective.partition(".")

    @hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
    def run(cfg) -> float:
        module.main.__wrapped__(cfg)
        written = Path(HydraConfig.get().runtime.output_dir) / "reports" / stage / "metrics.json"
        metrics = json.loads(written.read_text())
        if metric not in metrics.get(variant, {}):
            raise KeyError(f"--objective {objective}: {written} has no such key; its keys: {sorted(metrics)}")
        return float(metrics[variant][metric])

    return run


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: python -m src.scale.launch <stage> [--objective VARIANT.METRIC] [Hydra arguments]")
    stage = sys.argv.pop(1)
    if sys.argv[1:] == ["--prepare-store"]:  # before `dvc queue start -j N`: see prepare_store
        prepare_store(stage)
        return
    objective = None
    if len(sys.argv) > 2 and sys.argv[1] == "--objective":
        objective = sys.argv.pop(2)
        sys.argv.pop(1)
    if {"-m", "--multirun"} & set(sys.argv):
        prepare_store(stage)
    module = importlib.import_module(f"pipelines.{stage}")
    if objective:
        objective_app(module, stage, objective)()
        return
    # Imported (not __main__), Hydra would look for `../conf` as a Python package: name the folder instead.
    sys.argv.insert(1, f"--config-path={CONF_DIR}")
    module.main()


if __name__ == "__main__":
    main()
