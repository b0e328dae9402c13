"""The model registry on the shared server: the capstone's champion registered there, the promotion gate deciding
there, and the real package stage importing `issue-classifier@champion` from it into a Bento."""

import json

import pytest
from mlflow.tracking import MlflowClient

from src.capstone import registry
from tests.production.conftest import packaged  # noqa: F401 (the package stage run on the tiny champion)

pytestmark = pytest.mark.slow


@pytest.fixture
def tracking_store(server, tmp_path, monkeypatch):
    """Overrides the sqlite store of tests/conftest.py: here every fixture that records (tiny_champion, packaged)
    records on the PostgreSQL-backed server."""
    import src.tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("AI_MASTERY_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("AI_MASTERY_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr(src.tracking, "REPORTS", tmp_path / "reports")
    monkeypatch.setattr(src.tracking, "MODELS", tmp_path / "models")
    return server.url


def test_the_gate_and_the_package_stage_use_the_registry_on_the_server(packaged, server, tiny_champion):  # noqa: F811
    _, champion_version = tiny_champion
    client = MlflowClient(server.url)
    champion = client.get_model_version_by_alias(registry.MODEL_NAME, registry.CHAMPION)
    assert str(champion.version) == str(champion_version)
    assert champion.source.startswith(("models:/", "mlflow-artifacts:"))  # stored through the server's proxy

    # a worse candidate is registered but the gate keeps the champion where it is
    worse = client.create_model_version(registry.MODEL_NAME, champion.source, run_id=champion.run_id)
    decision = registry.promote_if_better(str(worse.version), metric=0.4)
    assert not decision.promoted and decision.champion_version == str(champion_version)

    bento = json.loads((packaged["reports"] / "bento.json").read_text())
    assert bento["registry_version"] == str(champion_version)  # the package stage imported it from the server
    package_runs = client.search_runs([client.get_experiment_by_name("package").experiment_id])
    package_runs = [r for r in package_runs if "variant" not in r.data.tags]  # the stage run, not its variants
    assert [r.info.status for r in package_runs] == ["FINISHED"]
    assert package_runs[0].data.tags["registry_version"] == str(champion_version)
