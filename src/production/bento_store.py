"""The BentoML side of packaging: the registry's champion into the BentoML model store, then a Bento built.

    model = import_champion("models:/issue-classifier@champion", registry_version="3", ...)
    bento = build_bento(model.tag)

The store is the project-local `.bentoml/` (src.paths.BENTOML_HOME), so `python -m pipelines.package`, `make serve`
and the tests (which point BENTOML_HOME at a temporary folder) never touch ~/bentoml.
"""

import os
from pathlib import Path

from src.paths import BENTOML_HOME, ROOT
from src.production.serving_config import CHALLENGER_TAG_ENV, MODEL_TAG_ENV, NO_CHALLENGER

BENTOFILE = ROOT / "bentofile.yaml"
os.environ.setdefault("BENTOML_HOME", str(BENTOML_HOME))  # before bentoml is imported anywhere


def folder_bytes(path: str | Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def import_champion(model_uri: str, name: str, labels: dict[str, str], metadata: dict):
    """Import `model_uri` as `name` unless the store already holds a model with the same `labels` (the same
    registry version of the same run): re-running the stage must not pile up identical copies."""
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        existing = bentoml.models.list(name)
    except NotFound:  # BentoML raises rather than return an empty list
        existing = []
    for model in existing:
        if all(model.info.labels.get(key) == value for key, value in labels.items()):
            return model
    return bentoml.mlflow.import_model(name, model_uri, labels=labels, metadata=metadata)


def registered_challenger(name: str):
    """The registry's model version holding the alias `challenger` (set by hand, or by a rollout: rollout.py),
    or None when no version does: then the service sends every request to the champion."""
    from mlflow.tracking import MlflowClient

    from src.capstone.registry import tracking_uri
    from src.production.rollout import CHALLENGER, MlflowAliases

    client = MlflowClient(tracking_uri())
    version = MlflowAliases(client, name).get(CHALLENGER)
    return None if version is None else client.get_model_version(name, version)


def build_bento(model_tag: str, challenger_tag: str | None = None, bentofile: Path = BENTOFILE):
    """Build the Bento described by bentofile.yaml around exactly this model, and the challenger when given (the
    service module reads the tags from ISSUE_CLASSIFIER_MODEL / ISSUE_CLASSIFIER_CHALLENGER while the build
    imports it; "none" keeps an older challenger in the store out). Offline: bentofile.yaml sets
    lock_packages: false."""
    import bentoml

    wanted = {MODEL_TAG_ENV: str(model_tag), CHALLENGER_TAG_ENV: str(challenger_tag or NO_CHALLENGER)}
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        return bentoml.bentos.build_bentofile(str(bentofile), build_ctx=str(bentofile.parent))
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
