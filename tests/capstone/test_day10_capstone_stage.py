"""The capstone's training stage end to end under profile=smoke: scores, registry, gate, reference, errors."""

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import pipelines.day10_capstone as day10
from src.capstone import registry
from src.capstone.data import LABELS
from src.config import ConfigError, validate
from tests.conftest import run_stage


@pytest.mark.slow
def test_smoke_stage_scores_registers_and_gates(tracking_store, smoke_config, tmp_path, issue_sample):
    day10.main(smoke_config())
    out = tmp_path / "reports" / "day10_capstone"
    metrics = json.loads((out / "metrics.json").read_text())
    for model in ("tfidf", "minilm", "ensemble"):
        assert 0 <= metrics[model]["cv_mean_repo_macro_f1"] <= 1
        assert (out / "tables" / f"cv_{model}.csv").exists()
    first = json.loads((out / "champion.json").read_text())
    assert first["promoted"] and first["version"] == "1"
    reference = pd.read_csv(out / "reference_predictions.csv")
    assert len(reference) == 60 and reference["prediction"].isin(LABELS).all()

    client = MlflowClient(tracking_store)
    assert str(registry.current_champion(client).version) == "1"
    parent = next(
        r
        for r in client.search_runs([client.get_experiment_by_name("day10-capstone").experiment_id])
        if "variant" not in r.data.tags
    )
    assert parent.data.metrics["gate.promoted"] == 1.0
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert {"figures/cv_confusion_matrices.png", "figures/minilm_fine_tuning.png"} <= figures

    # A second run (TF-IDF only, plus a labelled evaluation file): a new version, champion only if better.
    eval_file = tmp_path / "held_out.csv"
    issue_sample.to_csv(eval_file, index=False)
    day10.main(smoke_config("day10.models=[tfidf]", f"day10.eval_file={eval_file}"))
    second = json.loads((out / "champion.json").read_text())
    assert second["candidate_version"] == "2"
    better = second["candidate_metric"] > first["metric"]
    assert str(registry.current_champion(client).version) == ("2" if better else "1")
    assert second["promoted"] == better
    assert (out / "tables" / "eval_tfidf.csv").exists()
    assert 0 <= json.loads((out / "metrics.json").read_text())["tfidf"]["eval_mean_repo_macro_f1"] <= 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("day10.models=[tfidf,bert]", "models must be a non-empty subset"),
        ("day10.models=[tfidf,ensemble]", "the ensemble averages tfidf and minilm"),
        ("day10.eval_file=/no/such.csv", "eval_file /no/such.csv does not exist"),
        ("day10.minilm.max_length=4", "minilm.max_length must be between 8 and 512"),
    ],
)
def test_bad_config_is_rejected_with_the_reason(smoke_config, override, message):
    with pytest.raises(ConfigError, match=message):
        validate(smoke_config(override), "day10", day10.Day10Config)


def test_the_stage_exits_on_a_bad_config_before_any_work(tracking_store):
    result = run_stage("day10_capstone", "profile=smoke", "day10.cv_folds=1", timeout=120)
    assert result.returncode == 1
    assert "cv_folds must be >= 2, got 1" in result.stderr
    assert MlflowClient(tracking_store).get_experiment_by_name("day10-capstone") is None
