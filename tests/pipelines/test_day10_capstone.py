"""The capstone's training stage end to end under profile=smoke: scores, saved model, registry, gate, reference,
errors."""

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import pipelines.day10_capstone as day10
from src.capstone import registry
from src.capstone.data import LABELS
from src.config import ConfigError, validate
from tests.conftest import run_stage

# Mean per-repository macro F1 over 3 classes: a constant answer scores about 0.17, random guessing about 0.33.
# The smoke models score 0.45-0.55 (60 issues, 2 folds), so 0.4 is out of reach of a model that learned nothing.
F1_FLOOR = 0.4


@pytest.mark.slow
def test_smoke_stage_scores_registers_and_gates(tracking_store, smoke_config, tmp_path, issue_sample):  # noqa: F811
    day10.main(smoke_config())
    out = tmp_path / "reports" / "day10_capstone"
    metrics = json.loads((out / "metrics.json").read_text())
    for model in ("tfidf", "minilm", "ensemble", "minilm_int8", "ensemble_int8"):
        assert F1_FLOOR < metrics[model]["cv_mean_repo_macro_f1"] <= 1, model
        assert (out / "tables" / f"cv_{model}.csv").exists()
    assert metrics["speed"]["minilm_issues_per_second"] > 0 and metrics["speed"]["minilm_int8_issues_per_second"] > 0
    first = json.loads((out / "champion.json").read_text())
    assert first["promoted"] and first["version"] == "1"
    reference = pd.read_csv(out / "reference_predictions.csv")
    assert len(reference) == 60 and reference["prediction"].isin(LABELS).all()
    model_folder = tmp_path / "models" / "day10_capstone" / "issue_classifier"
    assert (model_folder / "MLmodel").exists() and (model_folder / "python_model.pkl").exists()

    client = MlflowClient(tracking_store)
    assert str(registry.current_champion().version) == "1"
    runs = client.search_runs([client.get_experiment_by_name("day10-capstone").experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["gate.promoted"] == 1.0 and parent.data.tags["registered_version"] == "1"
    assert parent.data.tags["best_model"] == first["model"]
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert {"figures/cv_confusion_matrices.png", "figures/minilm_fine_tuning.png"} <= figures
    minilm_run = next(r for r in runs if r.data.tags.get("variant") == "minilm")
    for fold in (0, 1):  # MiniLM's fine-tuning loss fell in every fold
        curve = [m.value for m in client.get_metric_history(minilm_run.info.run_id, f"train_loss_fold{fold}")]
        assert len(curve) == 2 and curve[-1] < curve[0], curve

    # A second run (TF-IDF only, plus a labelled evaluation file): a new version, champion only if better.
    eval_file = tmp_path / "held_out.csv"
    issue_sample.to_csv(eval_file, index=False)
    day10.main(smoke_config("day10.models=[tfidf]", f"day10.eval_file={eval_file}"))
    second = json.loads((out / "champion.json").read_text())
    assert second["candidate_version"] == "2"
    better = second["candidate_metric"] > first["metric"]
    assert str(registry.current_champion().version) == ("2" if better else "1")
    assert second["promoted"] == better
    assert (out / "tables" / "eval_tfidf.csv").exists()
    assert F1_FLOOR < json.loads((out / "metrics.json").read_text())["tfidf"]["eval_mean_repo_macro_f1"] <= 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("day10.models=[tfidf,bert]", r"'day10\.models' element 1 \('bert'\) must be one of"),
        ("day10.models=[tfidf,ensemble]", "the ensemble averages tfidf and minilm"),
        ("day10.models=[tfidf,minilm_int8]", "minilm_int8 is each fold's fine-tuned minilm, quantised"),
        ("day10.models=[tfidf,minilm,ensemble_int8]", "ensemble_int8 averages tfidf and minilm_int8"),
        ("day10.int8_tolerance=-0.1", r"'day10\.int8_tolerance' must be >= 0"),
        ("day10.eval_file=/no/such.csv", "day10.eval_file /no/such.csv does not exist"),
        ("day10.minilm.max_length=4", r"'day10\.minilm\.max_length' must be >= 8, got 4"),
        ("day10.minilm.layers=1", r"trainable_layers \(2\) can't exceed day10\.minilm\.layers \(1\)"),
        ("day10.ensemble.tfidf_weight=1.5", r"'day10\.ensemble\.tfidf_weight' must be <= 1"),
    ],
)
def test_bad_config_is_rejected_with_the_reason(smoke_config, override, message):
    with pytest.raises(ConfigError, match=message):
        validate(smoke_config(override), day10.SECTION, day10.SCHEMA)


def test_the_stage_exits_on_a_bad_config_before_any_work(tracking_store):
    result = run_stage("day10_capstone", "profile=smoke", "day10.cv_folds=1", timeout=120)
    assert result.returncode == 1
    assert "config key 'day10.cv_folds' must be >= 2, got 1" in result.stderr
    assert MlflowClient(tracking_store).get_experiment_by_name("day10-capstone") is None
