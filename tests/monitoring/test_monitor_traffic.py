"""The monitor's inputs: the service's prediction log, the reference file and the replay streams (no Evidently)."""

import pandas as pd
import pytest

from src.capstone.prediction_log import PredictionLog
from src.data import verified_path
from src.monitoring import replay
from src.monitoring.drift_report import code_share
from src.monitoring.traffic import TrafficError, load_reference, load_traffic


def _record(i: int, **extra) -> dict:
    return {
        "timestamp": f"2026-11-27T10:00:{i:02d}.000+00:00",
        "request_id": str(i),
        "model_version": "3",
        "title": f"crash {i}",
        "body": "stack trace",
        "label": "bug",
        "proba_bug": 0.8,
        "proba_feature": 0.1,
        "proba_question": 0.1,
        **extra,
    }


def test_missing_log_folder_says_which_folder_and_what_to_do(tmp_path):
    with pytest.raises(TrafficError, match=r"folder .*nowhere does not exist.*send it some requests"):
        load_traffic(tmp_path / "nowhere")


def test_empty_log_folder_says_there_is_no_traffic_yet(tmp_path):
    with pytest.raises(TrafficError, match="no logged predictions"):
        load_traffic(tmp_path)


def test_log_of_another_format_names_the_missing_fields(tmp_path):
    PredictionLog(tmp_path).write([{"text": "hello", "label": "bug"}])
    with pytest.raises(TrafficError, match=r"lacks the field\(s\) \['title', 'body', 'proba_bug'"):
        load_traffic(tmp_path)


def test_unknown_feedback_label_is_refused(tmp_path):
    PredictionLog(tmp_path).write([_record(0, feedback_label="enhancement")])
    with pytest.raises(TrafficError, match="feedback labels \\['enhancement'\\]"):
        load_traffic(tmp_path)


def test_log_becomes_the_common_table_with_feedback_where_given(tmp_path):
    log = PredictionLog(tmp_path, max_bytes=600, backups=3)  # small: the records rotate across files
    log.write([_record(i, feedback_label="question") if i % 2 else _record(i) for i in range(6)])
    log.write([_record(6)])
    traffic = load_traffic(tmp_path)
    assert list(traffic["title"]) == [f"crash {i}" for i in range(7)]  # oldest first, across rotated files
    assert set(traffic.columns) >= {"title", "body", "prediction", "proba_bug", "target", "model_version"}
    assert traffic["target"].notna().tolist() == [i % 2 == 1 for i in range(7)]


def test_reference_file_without_predictions_is_refused(tmp_path, issue_sample):
    path = tmp_path / "issues.csv"
    issue_sample.to_csv(path, index=False)
    with pytest.raises(TrafficError, match=r"prediction column\(s\) \['prediction'.*dvc repro day10_capstone"):
        load_reference(path)


def test_reference_split_is_disjoint_and_stratified(issue_sample):
    reference, held_out = replay.split_reference(issue_sample, current_share=0.25, seed=0)
    assert set(reference.index).isdisjoint(held_out.index)
    assert len(reference) + len(held_out) == len(issue_sample)
    counts = held_out.groupby(["repo", "label"]).size()
    assert len(counts) == 15 and counts.min() == counts.max() == 2  # 8 per stratum * 0.25
    sample, _ = replay.split_reference(issue_sample, current_share=0.5, seed=0, max_issues=60)
    assert len(sample) == 30


def test_non_issue_passages_are_deterministic_speeches():
    path = verified_path("tinyshakespeare/input.txt")
    first, again = replay.non_issue_passages(path, 5, seed=1), replay.non_issue_passages(path, 5, seed=1)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 5 and (first["body"].str.len() > 0).all()
    assert "First Citizen" in set(replay.non_issue_passages(path, 10_000, seed=1)["title"])


def test_code_share_counts_the_characters_inside_code_fences():
    fenced = "```\nTraceback\n```"  # 17 characters
    assert code_share("no code here") == 0
    assert code_share(fenced + "x" * 17) == pytest.approx(0.5)
    assert code_share("") == 0


class RepoModel:
    """A stand-in for the champion's pyfunc: answers `bug` for every issue, counts what it was sent."""

    def __init__(self):
        self.rows = 0

    def predict(self, frame):
        self.rows += len(frame)
        return pd.DataFrame(
            {"label": "bug", "proba_bug": 0.8, "proba_feature": 0.1, "proba_question": 0.1}, index=frame.index
        )


def test_replay_streams_send_three_streams_through_the_model_into_service_logs(issue_sample, tmp_path):
    issues = issue_sample.assign(prediction="bug", proba_bug=0.5, proba_feature=0.25, proba_question=0.25)
    model = RepoModel()
    settings = dict(
        current_share=0.25,
        max_issues=None,
        non_issue_path=verified_path("tinyshakespeare/input.txt"),
        non_issue_size=7,
        log_dir=tmp_path,
        model_version="4",
        batch_size=16,
        seed=0,
    )
    reference, streams, stats = replay.replay_streams(model, issues, one_repo="facebook/react", **settings)
    assert list(streams) == list(replay.STREAMS)
    assert len(reference) + len(streams["in_distribution"]) == len(issues)  # held out: on one side only
    assert (reference["prediction"] == "bug").all() and (reference["proba_bug"] == 0.8).all()  # the model's own
    assert len(streams["one_repo"]) == 6 and len(streams["non_issue"]) == 7  # 2 held out per react label
    assert streams["non_issue"]["target"].isna().all() and streams["in_distribution"]["target"].notna().all()
    assert (streams["in_distribution"]["model_version"] == "4").all()
    assert {s: n["rows"] for s, n in stats.items()} == {"in_distribution": 30, "one_repo": 6, "non_issue": 7}
    assert model.rows == len(reference) + 30 + 6 + 7
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(replay.STREAMS)
    with pytest.raises(ValueError, match="replay.one_repo 'no/such' is not in the reference"):
        replay.replay_streams(model, issues, one_repo="no/such", **settings)
