"""Model selection's building blocks: one stratification, one ensemble weighting (shared by the cross-validated
scores and the served model), the refit, the flat metric names, the saved model folder, the hand-over file."""

import json

import numpy as np
import pandas as pd
import pytest

from src.capstone import outputs, registry
from src.capstone.cross_validation import choose, out_of_fold, refit, stratified_folds
from src.capstone.data import LABELS, strata, stratified_subsample
from src.capstone.evaluation import nlbse_report, report_metrics
from src.capstone.model import IssueClassifier, average_probabilities, member_weights
from src.capstone.text import prepare_texts


class FakeMiniLM:
    """MiniLMClassifier's interface, answering from a fixed table: enough to test the wiring around it."""

    def __init__(self, proba_by_text: dict[str, list[float]], int8: bool = False):
        self.table, self.int8 = proba_by_text, int8

    def quantized(self):
        """A stand-in for int8 rounding: every probability moved a little toward uniform."""
        return FakeMiniLM({t: [0.9 * p + 0.1 / 3 for p in row] for t, row in self.table.items()}, int8=True)

    def encode(self, texts, progress=False):
        return {"texts": list(texts), "mask": np.ones(len(texts))}

    def fit_cached(self, cache, labels, rows=None, progress=False, desc="", on_epoch=None):
        for epoch, loss in enumerate((1.0, 0.5)):
            on_epoch(epoch, loss)
        return self

    def predict_proba_cached(self, cache, rows):
        return np.array([self.table[cache["texts"][i]] for i in rows])

    def fit(self, texts, labels, progress=False):
        return self

    def to(self, device):
        return self

    def predict_proba(self, texts):
        return np.array([self.table[t] for t in texts])


def test_strata_and_subsample_keep_every_repository_and_label_in_proportion(issue_sample):
    assert strata(["a/b"], ["bug"]).tolist() == ["a/b|bug"]
    sample = stratified_subsample(issue_sample, n=30, min_per_stratum=1, seed=0)
    assert sample.groupby(["repo", "label"]).size().tolist() == [2] * 15
    assert sample.equals(stratified_subsample(issue_sample, n=30, min_per_stratum=1, seed=0))
    assert len(stratified_subsample(issue_sample, n=10, min_per_stratum=3, seed=0)) == 45  # at least 3 each
    for _, test in stratified_folds(issue_sample["repo"], issue_sample["label"], 4, seed=0):
        assert issue_sample.iloc[test].groupby(["repo", "label"]).size().tolist() == [2] * 15


def test_one_weighting_for_cross_validation_and_the_served_model(issue_sample):
    assert member_weights("ensemble", 0.6) == {"tfidf": 0.6, "minilm": 1 - 0.6}
    assert member_weights("minilm", 0.6) == {"minilm": 1.0}
    assert member_weights("ensemble_int8", 0.6) == member_weights("ensemble", 0.6)  # same members, MiniLM in int8
    assert member_weights("minilm_int8", 0.6) == {"minilm": 1.0}
    with pytest.raises(ValueError, match="unknown model 'bert'"):
        member_weights("bert", 0.6)
    np.testing.assert_allclose(
        average_probabilities({"a": np.eye(3)[:1], "b": np.eye(3)[2:]}, {"a": 1, "b": 3}), [[0.25, 0, 0.75]]
    )

    issues = issue_sample.groupby(["repo", "label"]).head(2).reset_index(drop=True)
    texts = prepare_texts(issues["title"], issues["body"], 4000)
    rng = np.random.default_rng(0)
    minilm = FakeMiniLM({t: list(p) for t, p in zip(texts, rng.dirichlet(np.ones(3), len(texts)), strict=True)})
    folds = stratified_folds(issues["repo"], issues["label"], 2, seed=0)
    tfidf_params = {"C": 4.0, "max_char_features": 5000, "min_df": 1}
    curves = []
    models = ["tfidf", "minilm", "ensemble"]

    def on_epoch(fold, epoch, loss):
        curves.append((fold, epoch, loss))

    proba, seconds = out_of_fold(models, texts, issues["label"], folds, tfidf_params, minilm, 0.6, on_epoch)
    np.testing.assert_array_equal(proba["ensemble"], 0.6 * proba["tfidf"] + 0.4 * proba["minilm"])
    assert seconds["ensemble"] == seconds["tfidf"] + seconds["minilm"]
    assert curves == [(0, 0, 1.0), (0, 1, 0.5), (1, 0, 1.0), (1, 1, 0.5)]

    served = refit("ensemble", texts, issues["label"], tfidf_params, minilm, 0.6, max_chars=4000)
    assert isinstance(served, IssueClassifier) and served.weights == {"tfidf": 0.6, "minilm": 0.4}
    by_hand = 0.6 * served.members["tfidf"].predict_proba(texts) + 0.4 * minilm.predict_proba(texts)
    np.testing.assert_allclose(served.predict_proba(issues["title"], issues["body"]), by_hand)
    alone = refit("tfidf", texts, issues["label"], tfidf_params, None, 0.6, max_chars=4000)
    assert list(alone.members) == ["tfidf"] and alone.weights == {"tfidf": 1.0}

    # The int8 models: each fold's fitted MiniLM, quantised; the ensemble_int8 averages tfidf with it.
    models += ["minilm_int8", "ensemble_int8"]
    proba8, seconds8 = out_of_fold(models, texts, issues["label"], folds, tfidf_params, minilm, 0.6, on_epoch)
    np.testing.assert_allclose(proba8["minilm_int8"], 0.9 * proba8["minilm"] + 0.1 / 3)
    np.testing.assert_allclose(proba8["ensemble_int8"], 0.6 * proba8["tfidf"] + 0.4 * proba8["minilm_int8"])
    assert seconds8["ensemble_int8"] == seconds8["tfidf"] + seconds8["minilm"]
    served8 = refit("ensemble_int8", texts, issues["label"], tfidf_params, minilm, 0.6, max_chars=4000)
    assert served8.members["minilm"].int8 and served8.weights == {"tfidf": 0.6, "minilm": 0.4}


def test_an_int8_twin_is_chosen_only_within_the_tolerance():
    assert choose({"tfidf": 0.78, "ensemble": 0.814, "ensemble_int8": 0.810}, 0.005) == "ensemble_int8"
    assert choose({"tfidf": 0.78, "ensemble": 0.814, "ensemble_int8": 0.808}, 0.005) == "ensemble"
    assert choose({"ensemble": 0.814, "ensemble_int8": 0.810}, 0.0) == "ensemble"
    assert choose({"minilm": 0.78, "minilm_int8": 0.79, "ensemble": 0.77}, 0.005) == "minilm_int8"  # best anyway
    assert choose({"tfidf": 0.78, "minilm_int8": 0.79}, 0.005) == "minilm_int8"


def test_report_metrics_name_the_headline_and_every_cell():
    report = nlbse_report(["o/r1"] * 3 + ["o/r2"] * 3, list(LABELS) * 2, list(LABELS) + ["bug"] * 3)
    metrics = report_metrics(report, "cv")
    assert metrics["cv_mean_repo_macro_f1"] == pytest.approx((1 + 1 / 6) / 2)
    assert metrics["cv.r1.macro.f1"] == 1.0 and metrics["cv.r2.bug.precision"] == pytest.approx(1 / 3)
    assert {"cv.overall.macro.f1", "cv.mean.question.recall"} <= set(metrics)


class ConstantMember:
    def predict_proba(self, texts):
        return np.tile([0.2, 0.3, 0.5], (len(texts), 1))


def test_saved_model_folder_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    import mlflow

    example = pd.DataFrame({"title": ["crash"], "body": ["trace"]})
    folder = registry.save_pyfunc(IssueClassifier({"c": ConstantMember()}), example, tmp_path / "issue_classifier")
    assert mlflow.pyfunc.load_model(str(folder)).predict(example)["label"].item() == "question"
    before = sorted(p.name for p in folder.iterdir())

    def crash(path, **kwargs):
        (tmp_path / "half").mkdir()
        raise OSError("disk full")

    monkeypatch.setattr(mlflow.pyfunc, "save_model", crash)
    with pytest.raises(OSError, match="disk full"):
        registry.save_pyfunc(IssueClassifier({"c": ConstantMember()}), example, folder)
    assert sorted(p.name for p in folder.iterdir()) == before  # the previous model, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["half", "issue_classifier"]  # no staging folder left

    monkeypatch.undo()
    killed = tmp_path / ".issue_classifier.999999.abc.tmp"  # what a save killed by SIGKILL would leave
    (killed / "model").mkdir(parents=True)
    registry.save_pyfunc(IssueClassifier({"c": ConstantMember()}), example, folder)
    assert not killed.exists()


def test_the_hand_over_file_is_named_once_and_its_absence_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs.paths, "REPORTS", tmp_path)
    assert outputs.champion_path() == tmp_path / "day10_capstone" / "champion.json"
    with pytest.raises(FileNotFoundError, match=r"champion.json does not exist: .*`dvc repro day10_capstone`"):
        outputs.read_champion()
    outputs.champion_path().parent.mkdir()
    outputs.champion_path().write_text(json.dumps({"version": "3"}))
    assert outputs.read_champion() == {"version": "3"}
