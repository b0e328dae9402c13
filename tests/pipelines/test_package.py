"""The package stage's failure modes (the Bento it builds is served and exercised in tests/production/)."""

from mlflow.tracking import MlflowClient

from tests.conftest import run_stage


def test_without_a_champion_the_stage_says_to_train_one_and_starts_no_run(tracking_store):
    result = run_stage("package", "profile=smoke", timeout=120)
    assert result.returncode == 1
    assert "package: " in result.stderr and "champion.json does not exist: train and register a champion first" in (
        result.stderr
    )
    assert MlflowClient(tracking_store).get_experiment_by_name("package") is None


def test_a_bad_serving_setting_fails_at_start_naming_the_key(tracking_store):
    result = run_stage("package", "profile=smoke", "serving.batching.max_batch_size=1", timeout=120)
    assert result.returncode == 1
    assert "config key 'serving.batching.max_batch_size' must be >= 2, got 1" in result.stderr
