"""Day 9 end to end under profile=smoke: metrics above floors a broken model can't reach, the MLflow runs, the
outputs, and bad settings refused at start naming the key."""

import json

import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

import pipelines.day09_case_studies as day09
from src.case_studies.capacity import MeasuredInputError
from src.config import ConfigError, validate
from tests.conftest import run_stage

VARIANTS = [
    f"{impl}_{case}"
    for impl in ("sklearn_logistic", "sklearn_hist_gb", "scratch_forest")
    for case in ("churn", "fraud")
]


def test_smoke_stage_records_models_decisions_capacity_and_figures(tracking_store, smoke_config, tmp_path):
    day09.main(smoke_config())

    out = tmp_path / "reports" / "day09_case_studies"
    metrics = json.loads((out / "metrics.json").read_text())
    for variant in VARIANTS:
        assert metrics[variant]["cv_roc_auc"] > (0.80 if variant.endswith("churn") else 0.90), variant
    assert metrics["churn_data"]["blank_total_charges_set_to_zero"] == 11
    assert metrics["churn_data"]["best_cv_roc_auc"] < 0.90  # above: leakage (the stage would have stopped)
    decision = metrics["churn_decision"]
    assert decision["profit_at_best_threshold"] > 0 > decision["profit_offer_to_everybody"]
    assert decision["saving_vs_everybody"] > 0
    fraud = metrics["fraud_decision"]
    assert fraud["cross_fitted_threshold.cost"] < fraud["review_nothing.cost"]
    assert metrics["sklearn_hist_gb_fraud"]["auprc_real_prevalence"] < metrics["sklearn_hist_gb_fraud"]["auprc"]
    assert 0 < metrics["fraud_two_layer"]["share_of_traffic_scored_by_model"] < 1
    assert metrics["capacity_rag"]["llm_cost_per_month_no_cache"] == pytest.approx(6_480_000)
    assert metrics["capacity_serving"]["replicas"] >= 1

    capacity = json.loads((out / "capacity.json").read_text())
    assert set(capacity) >= {"inputs", "rag", "serving", "recommender"}
    figures = {p.stem for p in (out / "figures").iterdir()}
    assert figures >= {
        "churn_roc_pr", "churn_calibration", "churn_profit_curve", "churn_shap_summary", "churn_shap_customer_1",
        "fraud_roc_pr", "fraud_calibration", "fraud_cost_curve", "architecture_rag_at_scale",
    }  # fmt: skip
    assert {p.name for p in (out / "plots").iterdir()} >= {"churn_profit.csv", "fraud_cost.csv"}
    assert (tmp_path / "models" / "day09_case_studies").is_dir()

    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("day09-case-studies")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "variant" not in r.data.tags)
    assert parent.info.status == "FINISHED" and parent.data.tags["profile"] == "smoke"
    children = {r.data.tags["variant"]: r for r in runs if "variant" in r.data.tags}
    assert set(VARIANTS) <= set(children)
    assert all(
        r.info.status == "FINISHED" and r.data.tags["mlflow.parentRunId"] == parent.info.run_id
        for r in children.values()
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("day09.churn.offer.cost", -5.0),
        ("day09.churn.offer.acceptance_rate", 1.5),
        ("day09.churn.offer.acceptance_rate", -0.1),
        ("day09.fraud.review_cost", -1.0),
        ("day09.capacity.rag.price_per_1k_tokens", -0.01),
    ],
)
def test_impossible_money_settings_are_refused_naming_the_key(smoke_config, key, value):
    cfg = smoke_config()
    broken = OmegaConf.create(OmegaConf.to_container(cfg))
    OmegaConf.update(broken, key, value)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(broken, day09.SECTION, day09.SCHEMA)


def test_bad_setting_stops_the_stage_at_start(tracking_store):
    result = run_stage("day09_case_studies", "profile=smoke", "day09.churn.offer.acceptance_rate=1.5")
    assert result.returncode == 1
    assert "config error" in result.stderr and "day09.churn.offer.acceptance_rate" in result.stderr


def test_missing_measured_input_is_named(smoke_config):
    cfg = smoke_config("day09.capacity.inputs.retrieval_qps.file=reports/no_such_stage/metrics.json")
    settings = validate(cfg, day09.SECTION, day09.SCHEMA)
    with pytest.raises(MeasuredInputError, match="reports/no_such_stage/metrics.json is missing"):
        day09.run_capacity(None, settings)
