"""Capstone fixtures: a small labelled sample of the real issue data, and a registered champion trained on it
in the test's own MLflow store (seconds, TF-IDF only), for the serving and monitoring tests; and a guard that
fails the session if a test wrote MLflow files into the project root instead of its temporary folder."""

import pytest

from src.capstone.data import TRAIN_FILE, load_issues
from src.data import verified_path
from src.paths import ROOT

STRAY_OUTPUTS = ("mlruns", "mlartifacts")  # where MLflow writes artifacts when nobody says where


def _paths_under(folder) -> set[str]:
    """The folder itself and everything in it, relative to the project root (empty if it does not exist)."""
    if not folder.exists():
        return set()
    return {str(path.relative_to(ROOT)) for path in [folder, *folder.rglob("*")]}


@pytest.fixture(scope="session", autouse=True)
def no_stray_outputs_in_the_project_root():
    """An error at the end of the session if its tests created anything under ./mlruns or ./mlartifacts (a learner's
    own runs there from `make repro` are left alone: only paths that appeared during the session count)."""
    before = {name: _paths_under(ROOT / name) for name in STRAY_OUTPUTS}
    yield
    new = sorted(path for name in STRAY_OUTPUTS for path in _paths_under(ROOT / name) - before[name])
    assert not new, (
        f"the tests wrote {len(new)} paths into the project root, e.g. {new[:3]}: every test must write under its "
        "tmp_path (an MLflow experiment needs artifact_location, see src.tracking.artifact_location)"
    )


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
    from src.tracking import artifact_location

    client = MlflowClient(tracking_store)
    # Artifacts beside the test's store: without artifact_location MLflow writes them to ./mlruns of the project.
    experiment_id = client.create_experiment("capstone-tests", artifact_location(tracking_store, "capstone-tests"))
    run_id = client.create_run(experiment_id).info.run_id
    example = issue_sample[["title", "body"]].head(2)
    version = registry.log_and_register(client, run_id, classifier, example, metric=0.5)
    registry.promote_if_better(client, version, 0.5)
    client.set_terminated(run_id)
    return f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}", version
