"""A saved classical model loads back predicting the same, and a save never leaves half a file."""

import numpy as np
import pytest

from src.ml.classical import RandomForest
from src.ml.classical.comparison import load_dataset
from src.ml.classical.persistence import load_model, save_model


def test_a_saved_model_predicts_the_same_after_loading(tmp_path):
    X, y = load_dataset("iris")
    forest = RandomForest(n_estimators=5, random_state=0).fit(X, y)
    path = save_model(forest, tmp_path / "models" / "forest.joblib")
    np.testing.assert_array_equal(load_model(path).predict_proba(X), forest.predict_proba(X))
    assert [p.name for p in path.parent.iterdir()] == ["forest.joblib"]  # no temporary file left behind


def test_a_failed_save_keeps_the_old_file_and_a_missing_one_says_what_to_run(tmp_path):
    path = save_model({"version": 1}, tmp_path / "model.joblib")

    class Unpicklable:
        def __reduce__(self):
            raise TypeError("cannot pickle this")

    with pytest.raises(TypeError):
        save_model(Unpicklable(), path)
    assert load_model(path) == {"version": 1} and len(list(tmp_path.iterdir())) == 1
    with pytest.raises(FileNotFoundError, match="dvc repro"):
        load_model(tmp_path / "absent.joblib")
