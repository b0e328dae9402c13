"""The model registry's promotion gate.

Every training run registers its model as a new version of `issue-classifier`, tagged with the gate metric
(the cross-validated mean per-repository macro F1) and the model it is (`tfidf`, `ensemble_int8`, ...). The alias
`champion`, which the package stage and the service load, moves to the new version only when its metric beats the
current champion's, with one allowance: the int8 twin of the champion's model (the same model, quantised: about
twice as fast) is promoted when it scores within the stage's int8_tolerance, the rule the stage chose it by. A
worse model is registered (so you can inspect it) but never served.

The functions take run ids and plain values and make their own MlflowClient on the project's tracking store
(src/tracking.py's tracking_uri: MLFLOW_TRACKING_URI, else ./mlflow.db), the store the stage records into.
"""

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from src.capstone.model import int8_stands_in

MODEL_NAME = "issue-classifier"
CHAMPION = "champion"
GATE_METRIC = "cv_mean_repo_macro_f1"
MODEL_TAG = "model"  # which of src.capstone.model.MODELS the version is
# What loading the pyfunc needs (MLflow would otherwise spend seconds inferring it, and add everything it sees).
SERVING_PACKAGES = ("mlflow", "numpy", "pandas", "scikit-learn", "torch", "transformers")


@dataclass(frozen=True)
class GateDecision:
    version: str
    promoted: bool
    candidate_metric: float
    champion_version: str | None  # the champion before this decision
    champion_metric: float | None


def gate_tag(metric: float) -> str:
    """The gate metric as the version's tag keeps it: 6 decimals."""
    return f"{metric:.6f}"


def tracking_uri() -> str:
    from src.tracking import tracking_uri as uri  # here, not at the top: the served Bento ships without tracking

    return uri()


def _client():
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri())


def save_pyfunc(classifier, input_example: pd.DataFrame, folder: Path) -> Path:
    """The classifier as an MLflow pyfunc folder (with a signature and an input example) at `folder`, replaced
    whole: it is written beside it first, so a crash leaves the previous model folder intact (and the next save
    removes what a killed one left)."""
    import mlflow
    from mlflow.models import infer_signature

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    signature = infer_signature(input_example, classifier.predict(None, input_example))
    for leftover in folder.parent.glob(f".{folder.name}.*.tmp"):  # a save killed mid-way (SIGKILL, power cut)
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.{os.getpid()}.", suffix=".tmp"))
    try:
        mlflow.pyfunc.save_model(
            str(staging / "model"),
            python_model=classifier,
            signature=signature,
            input_example=input_example,
            pip_requirements=[f"{package}=={version(package)}" for package in SERVING_PACKAGES],
        )
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging / "model", folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def log_and_register(
    run_id: str,
    classifier,
    input_example: pd.DataFrame,
    metric: float,
    model_folder: Path | None = None,
    name: str = MODEL_NAME,
    model: str | None = None,
) -> str:
    """Save the pyfunc (at model_folder, e.g. models/day10_capstone/issue_classifier; a temporary folder when
    None) into the run's `model` artifact folder, register it under `name` with the gate metric as a tag, and
    return the new version number. `model` (e.g. "ensemble_int8") is tagged too, for the gate's int8 rule."""
    client = _client()
    with tempfile.TemporaryDirectory() as scratch:
        folder = save_pyfunc(classifier, input_example, Path(model_folder or Path(scratch) / "model"))
        client.log_artifacts(run_id, str(folder), "model")
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name, description="GitHub issue classifier: bug / feature / question")
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    tags = {GATE_METRIC: gate_tag(metric)} | ({MODEL_TAG: model} if model else {})
    registered = client.create_model_version(name, source, run_id=run_id, tags=tags)
    return str(registered.version)


def current_champion(name: str = MODEL_NAME):
    """The model version holding the champion alias, or None when there is none yet."""
    from mlflow.exceptions import MlflowException

    try:
        return _client().get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def promote_if_better(
    version: str, metric: float, name: str = MODEL_NAME, model: str | None = None, int8_tolerance: float = 0.0
) -> GateDecision:
    """Move `champion` to `version` if `metric` is strictly higher than the champion's (or there is none). Both are
    compared at the tag's precision: the champion's metric is only known to 6 decimals, so an identical retrain
    (the same score) is a tie, never promoted, whichever way the rounding went. The one exception: a `model` that
    is the int8 twin of the champion's (ensemble_int8 after ensemble) needs only metric >= champion's -
    int8_tolerance, the rule the stage's choice used; once an int8 model is champion, the strict rule applies."""
    champion = current_champion(name)
    champion_metric = float(champion.tags[GATE_METRIC]) if champion and GATE_METRIC in champion.tags else None
    candidate = float(gate_tag(metric))
    promoted = (
        champion is None
        or champion_metric is None
        or candidate > champion_metric
        or (
            model is not None
            and int8_stands_in(model, candidate, champion.tags.get(MODEL_TAG), champion_metric, int8_tolerance)
        )
    )
    if promoted:
        _client().set_registered_model_alias(name, CHAMPION, version)
    return GateDecision(str(version), promoted, metric, str(champion.version) if champion else None, champion_metric)


def registered_champion(reported_version: str | None = None, name: str = MODEL_NAME):
    """The model version holding `champion`; a note when it differs from the version the training stage
    reported in champion.json (`reported_version`). LookupError when the registry has no champion."""
    champion = current_champion(name)
    if champion is None:
        raise LookupError(
            f"the registry at {tracking_uri()} has no {name}@{CHAMPION}: run `dvc repro day10_capstone`, "
            "or point MLFLOW_TRACKING_URI at the store it registered in."
        )
    if reported_version is not None and str(reported_version) != str(champion.version):
        print(f"note: champion.json names version {reported_version}; the registry's champion is {champion.version}")
    return champion


def load_model(model_uri: str):
    """The registered pyfunc at `model_uri` (e.g. models:/issue-classifier@champion), or a RuntimeError that
    names the store and what to do."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.pyfunc.load_model(model_uri)
    except MlflowException as error:
        raise RuntimeError(
            f"can't load {model_uri} from the tracking store {tracking_uri()} ({str(error).splitlines()[0]}). "
            "Train it into this store first: `dvc repro day10_capstone` with the same MLFLOW_TRACKING_URI."
        ) from error
