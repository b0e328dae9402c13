"""Serving fixtures: the capstone's tiny champion packaged into a temporary BentoML store by the real package
stage, and a helper that serves it with `bentoml serve` on a free 127.0.0.1 port (stopped by process group)."""

import json
import os
import sys
from pathlib import Path

import pytest

from src.production.server_process import free_port, running_server
from tests.conftest import run_stage

BENTOML = str(Path(sys.executable).parent / "bentoml")


@pytest.fixture
def packaged(tiny_champion, tracking_store, tmp_path):  # noqa: F811
    """Run `python -m pipelines.package profile=smoke` on the tiny champion, into a temporary BentoML store.
    Returns a dict: env (for servers), reports (the stage's folder), bento (its bento.json), version."""
    model_uri, version = tiny_champion
    reports = tmp_path / "reports"
    champion = reports / "day10_capstone" / "champion.json"
    champion.parent.mkdir(parents=True, exist_ok=True)
    champion.write_text(json.dumps({"model_uri": model_uri, "version": version, "metric": 0.5, "promoted": True}))
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "bentoml"), "ISSUE_CLASSIFIER_LOG_DIR": str(tmp_path / "log")}
    env["ISSUE_CLASSIFIER_RATE_LIMIT"] = "1000,1000"  # the burst tests send 120 requests from one address at once
    for name in ("ISSUE_CLASSIFIER_API_KEY", "REDIS_URL", "ISSUE_CLASSIFIER_CHALLENGER", "ISSUE_CLASSIFIER_MODEL"):
        env.pop(name, None)
    result = run_stage("package", "profile=smoke", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    bento = json.loads((reports / "package" / "bento.json").read_text())
    return {"env": env, "reports": reports / "package", "bento": bento, "version": str(version), "tmp": tmp_path}


@pytest.fixture
def tiny_challenger(tiny_champion, tracking_store, issue_sample):
    """A second TF-IDF classifier (200 character features instead of 5000: a different model), registered and
    given the alias `challenger`. Returns its version."""
    from mlflow.tracking import MlflowClient

    from src.capstone import registry
    from src.capstone.model import IssueClassifier
    from src.capstone.text import prepare_texts
    from src.capstone.tfidf import TfidfClassifier

    texts = prepare_texts(issue_sample["title"], issue_sample["body"])
    classifier = IssueClassifier({"tfidf": TfidfClassifier(max_char_features=200).fit(texts, issue_sample["label"])})
    client = MlflowClient(tracking_store)
    experiment_id = client.get_experiment_by_name("capstone-tests").experiment_id
    run_id = client.create_run(experiment_id).info.run_id
    version = registry.log_and_register(run_id, classifier, issue_sample[["title", "body"]].head(2), metric=0.4)
    client.set_registered_model_alias(registry.MODEL_NAME, "challenger", version)
    client.set_terminated(run_id)
    return version


@pytest.fixture
def packaged_ab(tiny_challenger, packaged):
    """`packaged`, built while the registry also had a `challenger`: the Bento carries both models."""
    assert packaged["bento"]["challenger_registry_version"] == str(tiny_challenger)
    return {**packaged, "challenger_version": str(tiny_challenger)}


def serve_bento(packaged, extra_env=None):
    """Context manager: the packaged Bento served on a free port; yields (base URL, server log path)."""
    port = free_port()
    log_path = packaged["tmp"] / f"server-{port}.log"
    command = [BENTOML, "serve", packaged["bento"]["bento_tag"], "--host", "127.0.0.1", "--port", str(port)]
    env = {**packaged["env"], **(extra_env or {})}
    return running_server(command, port, "/readyz", env, log_path, timeout=90), log_path
