"""The capstone's building blocks: data checks, text cleaning, the ensemble pyfunc, the promotion gate, the log."""

import json

import numpy as np
import pandas as pd
import pytest

from src.capstone import registry
from src.capstone.data import LABELS, IssueDataError, load_issues
from src.capstone.evaluation import nlbse_report
from src.capstone.model import PROBA_COLUMNS, IssueClassifier
from src.capstone.prediction_log import LOG_NAME, PredictionLog, read_prediction_log
from src.capstone.text import prepare_text


def test_prepare_text_drops_template_comments_and_code_but_keeps_headings():
    body = "<!-- describe the bug -->\n### Steps to reproduce\n```\nTraceback...\n```\nsee https://x.io/a"
    assert prepare_text("Crash", body) == "Crash\n### Steps to reproduce [code] see [url]"


def test_load_issues_rejects_bad_files_with_a_clear_message(tmp_path):
    with pytest.raises(IssueDataError, match="does not exist"):
        load_issues(tmp_path / "nope.csv")
    (tmp_path / "cols.csv").write_text("title,text\na,b\n")
    with pytest.raises(IssueDataError, match=r"lacks the column\(s\) \['repo', 'label', 'body'\]"):
        load_issues(tmp_path / "cols.csv")
    (tmp_path / "label.csv").write_text("repo,label,title,body\nr,enhancement,a,b\n")
    with pytest.raises(IssueDataError, match="unknown label"):
        load_issues(tmp_path / "label.csv")
    (tmp_path / "empty.csv").write_text("repo,label,title,body\nr,bug,a,b\nr,bug, ,\n")
    with pytest.raises(IssueDataError, match=r"neither title nor body \(lines \[3\]\)"):
        load_issues(tmp_path / "empty.csv")


class ConstantMember:
    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=float)

    def predict_proba(self, texts):
        return np.tile(self.proba, (len(texts), 1))


def test_ensemble_averages_member_probabilities_with_normalised_weights():
    members = {"a": ConstantMember([1, 0, 0]), "b": ConstantMember([0, 0, 1])}
    issue = pd.DataFrame({"title": ["t"], "body": [None]})
    out = IssueClassifier(members, weights={"a": 1, "b": 3}).predict(None, issue)
    assert out.columns.tolist() == ["label", *PROBA_COLUMNS]
    np.testing.assert_allclose(out[PROBA_COLUMNS].to_numpy(), [[0.25, 0, 0.75]])
    assert out["label"].item() == "question"
    with pytest.raises(ValueError, match="lacks column"):
        IssueClassifier(members).predict(None, pd.DataFrame({"text": ["x"]}))
    with pytest.raises(ValueError, match="non-negative"):
        IssueClassifier(members, weights={"a": -1, "b": 1})


def test_nlbse_report_means_the_repositories_macro_f1():
    repos = ["r1"] * 3 + ["r2"] * 3
    truth = list(LABELS) * 2
    predicted = list(LABELS) + ["bug", "bug", "bug"]  # r1 perfect, r2: macro F1 = (0.5 + 0 + 0) / 3
    report = nlbse_report(repos, truth, predicted)
    assert report.loc["r1", "macro.f1"] == 1.0
    assert report.loc["r2", "macro.f1"] == pytest.approx(1 / 6)
    assert report.loc["mean", "macro.f1"] == pytest.approx((1 + 1 / 6) / 2)


@pytest.mark.slow
def test_promotion_gate_never_hands_the_alias_to_a_worse_or_equal_model(tiny_champion, tracking_store, issue_sample):
    import mlflow
    from mlflow.tracking import MlflowClient

    uri, champion_version = tiny_champion
    client = MlflowClient(tracking_store)
    run_id = client.create_run(client.get_experiment_by_name("capstone-tests").experiment_id).info.run_id
    champion = mlflow.pyfunc.load_model(uri)
    classifier = champion.unwrap_python_model()
    example = issue_sample[["title", "body"]].head(2)

    worse = registry.log_and_register(run_id, classifier, example, metric=0.49)
    decision = registry.promote_if_better(worse, 0.49)
    assert not decision.promoted and decision.champion_metric == 0.5
    assert str(registry.current_champion().version) == champion_version

    equal = registry.log_and_register(run_id, classifier, example, metric=0.5)  # a tie is not better
    decision = registry.promote_if_better(equal, 0.5)
    assert not decision.promoted and decision.champion_metric == decision.candidate_metric == 0.5
    assert str(registry.current_champion().version) == champion_version

    run_id = client.create_run(client.get_experiment_by_name("capstone-tests").experiment_id).info.run_id
    better = registry.log_and_register(run_id, classifier, example, metric=0.5100004)
    assert registry.promote_if_better(better, 0.5100004).promoted
    assert str(registry.current_champion().version) == better
    # The same score again (an identical retrain) ties with the champion's tag, which keeps 6 decimals: no move.
    same = registry.log_and_register(run_id, classifier, example, metric=0.5100004)
    assert not registry.promote_if_better(same, 0.5100004).promoted
    assert str(registry.current_champion().version) == better
    assert mlflow.pyfunc.load_model(uri).predict(example)["label"].isin(LABELS).all()

    # The int8 rule: the champion's own model, quantised, may score up to int8_tolerance lower; nothing else may.
    floats = registry.log_and_register(run_id, classifier, example, metric=0.52, model="ensemble")
    assert registry.promote_if_better(floats, 0.52, model="ensemble", int8_tolerance=0.005).promoted
    other = registry.log_and_register(run_id, classifier, example, metric=0.518, model="minilm_int8")
    assert not registry.promote_if_better(other, 0.518, model="minilm_int8", int8_tolerance=0.005).promoted
    too_far = registry.log_and_register(run_id, classifier, example, metric=0.514, model="ensemble_int8")
    assert not registry.promote_if_better(too_far, 0.514, model="ensemble_int8", int8_tolerance=0.005).promoted
    twin = registry.log_and_register(run_id, classifier, example, metric=0.516, model="ensemble_int8")
    decision = registry.promote_if_better(twin, 0.516, model="ensemble_int8", int8_tolerance=0.005)
    assert decision.promoted and decision.champion_metric == 0.52
    assert registry.current_champion().tags[registry.MODEL_TAG] == "ensemble_int8"
    again = registry.log_and_register(run_id, classifier, example, metric=0.515, model="ensemble_int8")
    assert not registry.promote_if_better(again, 0.515, model="ensemble_int8", int8_tolerance=0.005).promoted


def test_prediction_log_rotates_and_reads_back_in_order(tmp_path):
    log = PredictionLog(tmp_path, max_bytes=200, backups=2)
    for i in range(12):
        log.write([{"request_id": i, "title": "x" * 40}])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [LOG_NAME, f"{LOG_NAME}.1", f"{LOG_NAME}.2"]
    with open(tmp_path / LOG_NAME, "a") as handle:
        handle.write('{"request_id": 99, "tit')  # a crash mid-line
    ids = read_prediction_log(tmp_path)["request_id"].tolist()
    assert ids == sorted(ids) and ids[-1] == 11 and len(ids) == 6
    assert all(json.loads(line) for line in (tmp_path / f"{LOG_NAME}.2").read_text().splitlines())
