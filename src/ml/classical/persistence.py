"""Save and load a fitted classical model (ours or scikit-learn's) as one file, written atomically.

joblib's pickle stores the whole object, numpy arrays efficiently; loading runs the pickled classes' code, so
load only files you trust (here: the ones the day-3 stage wrote under models/day03_classical_ml/).
"""

from pathlib import Path

import joblib

from src import atomic_io


def save_model(model, path: str | Path) -> Path:
    """Pickle `model` to `path` (e.g. models/day03_classical_ml/scratch_svm_digits.joblib): a reader sees the
    old file or the new one, never half of one."""
    return atomic_io.atomic_write(Path(path), lambda tmp: joblib.dump(model, tmp))


def load_model(path: str | Path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved model at {path}; run the day03_classical_ml stage (dvc repro) first")
    return joblib.load(path)
