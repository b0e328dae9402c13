"""The BentoML side of packaging: the registry's champion into the BentoML model store, then a Bento built.

    model = import_champion("models:/issue-classifier@champion", registry_version="3", ...)
    bento = build_bento(model.tag)

The store is the project-local `.bentoml/` (src.paths.BENTOML_HOME), so `python -m pipelines.package`, `make serve`
and the tests (which point BENTOML_HOME at a temporary folder) never touch ~/bentoml.
"""

import os
from pathlib import Path

from src.paths import BENTOML_HOME, ROOT
from src.production.serving_config import MODEL_TAG_ENV

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


def build_bento(model_tag: str, bentofile: Path = BENTOFILE):
    """Build the Bento described by bentofile.yaml around exactly this model (the service module reads the tag
    from ISSUE_CLASSIFIER_MODEL while the build imports it). Offline: bentofile.yaml sets lock_packages: false."""
    import bentoml

    previous = os.environ.get(MODEL_TAG_ENV)
    os.environ[MODEL_TAG_ENV] = str(model_tag)
    try:
        return bentoml.bentos.build_bentofile(str(bentofile), build_ctx=str(bentofile.parent))
    finally:
        if previous is None:
            os.environ.pop(MODEL_TAG_ENV)
        else:
            os.environ[MODEL_TAG_ENV] = previous
