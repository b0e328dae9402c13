"""Capstone fixtures: a small labelled sample of the real issue data, and a registered champion trained on it
in the test's own MLflow store (seconds, TF-IDF only), for the serving and monitoring tests."""

import pytest

from src.capstone.data import TRAIN_FILE, load_issues
from src.data import verified_path


@pytest.fixture(scope="session")
def issue_sample():
    """8 issues per (repository, label): 120 rows, every class in every repository."""
    issues = load_issues(verified_path(TRAIN_FILE))
    return issues.groupby(["repo", "label"]).head(8).reset_index(drop=True)


@pytest.fixture
def tiny_champion(tracking_store, issue_sample):
    """Register a TF-IDF IssueClassifier as `issue-classifier@champion` in the test's store.
    Returns (model URI with the alias, version)."""
    from mlflow.tracking import MlflowClient

    from src.capstone import registry
    from src.capstone.model import IssueClassifier
    from src.capstone.text import prepare_texts
    from src.capstone.tfidf import TfidfClassifier

    texts = prepare_texts(issue_sample["title"], issue_sample["body"])
    classifier = IssueClassifier({"tfidf": TfidfClassifier(max_char_features=5000).fit(texts, issue_sample["label"])})
    client = MlflowClient(tracking_store)
    experiment_id = client.create_experiment("capstone-tests")
    run_id = client.create_run(experiment_id).info.run_id
    example = issue_sample[["title", "body"]].head(2)
    version = registry.log_and_register(run_id, classifier, example, metric=0.5)
    registry.promote_if_better(version, 0.5)
    client.set_terminated(run_id)
    return f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}", version
