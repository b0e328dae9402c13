"""The model registry's promotion gate.

Every training run registers its model as a new version of `issue-classifier`, tagged with the gate metric
(the cross-validated mean per-repository macro F1). The alias `champion`, which the package stage and the
service load, moves to the new version only when its metric beats the current champion's. A worse model is
registered (so you can inspect it) but never served.
"""

import tempfile
from dataclasses import dataclass
from importlib.metadata import version

import pandas as pd

MODEL_NAME = "issue-classifier"
CHAMPION = "champion"
GATE_METRIC = "cv_mean_repo_macro_f1"
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


def log_and_register(
    client, run_id: str, classifier, input_example: pd.DataFrame, metric: float, name: str = MODEL_NAME
) -> str:
    """Save the pyfunc with a signature and an input example into the run's `model` artifact folder, register it
    under `name` with the gate metric as a tag, and return the new version number."""
    import mlflow
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, classifier.predict(None, input_example))
    with tempfile.TemporaryDirectory() as folder:
        mlflow.pyfunc.save_model(
            f"{folder}/model",
            python_model=classifier,
            signature=signature,
            input_example=input_example,
            pip_requirements=[f"{package}=={version(package)}" for package in SERVING_PACKAGES],
        )
        client.log_artifacts(run_id, f"{folder}/model", "model")
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name, description="GitHub issue classifier: bug / feature / question")
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    registered = client.create_model_version(name, source, run_id=run_id, tags={GATE_METRIC: gate_tag(metric)})
    return str(registered.version)


def current_champion(client, name: str = MODEL_NAME):
    """The model version holding the champion alias, or None when there is none yet."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def promote_if_better(client, version: str, metric: float, name: str = MODEL_NAME) -> GateDecision:
    """Move `champion` to `version` if `metric` is strictly higher than the champion's (or there is none). Both are
    compared at the tag's precision: the champion's metric is only known to 6 decimals, so an identical retrain
    (the same score) is a tie, never promoted, whichever way the rounding went."""
    champion = current_champion(client, name)
    champion_metric = float(champion.tags[GATE_METRIC]) if champion and GATE_METRIC in champion.tags else None
    promoted = champion is None or champion_metric is None or float(gate_tag(metric)) > champion_metric
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    return GateDecision(str(version), promoted, metric, str(champion.version) if champion else None, champion_metric)
