"""Where things live. Every path is absolute, so stages, tests and notebooks agree wherever they run from."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
PARAMS_FILE = ROOT / "params.yaml"
DATA_RAW = ROOT / "data" / "raw"
MANIFEST = DATA_RAW / "MANIFEST.sha256"
# Tests point AI_MASTERY_REPORTS at a temporary folder so they never touch the reports DVC owns.
REPORTS = Path(os.environ.get("AI_MASTERY_REPORTS", ROOT / "reports"))
# Trained models, one folder per stage (models/<stage>/), DVC outputs; tests point AI_MASTERY_MODELS elsewhere.
MODELS = Path(os.environ.get("AI_MASTERY_MODELS", ROOT / "models"))
# The BentoML model and Bento store: project-local, so the package stage, `make serve` and `bentoml` agree.
BENTOML_HOME = Path(os.environ.get("BENTOML_HOME", ROOT / ".bentoml"))
