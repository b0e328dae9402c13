"""The files the day10_capstone stage hands the stages after it, named in this one place.

    reports/day10_capstone/champion.json              which registry version is champion (package, monitor)
    reports/day10_capstone/reference_predictions.csv  training issues + out-of-fold predictions (the monitor's
                                                      reference; src/monitoring/traffic.py reads it)
    models/day10_capstone/issue_classifier/           the model this run trained, as an MLflow pyfunc folder

dvc.yaml names the same paths as the stages' outs and deps (YAML can't import a constant).
"""

import json
from pathlib import Path

from src import paths

STAGE = "day10_capstone"
CHAMPION_FILE = "champion.json"
REFERENCE_FILE = "reference_predictions.csv"
MODEL_FOLDER = "issue_classifier"


def champion_path() -> Path:
    return paths.REPORTS / STAGE / CHAMPION_FILE


def reference_path() -> Path:
    return paths.REPORTS / STAGE / REFERENCE_FILE


def read_champion(path: Path | None = None) -> dict:
    """champion.json as the training stage wrote it: model_uri, version, metric, promoted, ..."""
    path = Path(path or champion_path())
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: train and register a champion first (`dvc repro {STAGE}`).")
    return json.loads(path.read_text())
