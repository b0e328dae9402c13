"""Shared fixtures: a temporary MLflow store, reports and models folder per test; a stage runner; the capstone's
small issue sample and registered champion; a guard against MLflow files written into the project root."""

import os
import subprocess
import sys

import pytest

from src.capstone.data import TRAIN_FILE, load_issues
from src.data import verified_path
from src.paths import ROOT

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def tracking_store(tmp_path, monkeypatch):
    """A temporary sqlite MLflow store and reports folder, for this test only. Returns the store URI."""
    import src.tracking

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("AI_MASTERY_REPORTS", str(tmp_path / "reports"))  # for subprocesses
    monkeypatch.setenv("AI_MASTERY_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr(src.tracking, "REPORTS", tmp_path / "reports")  # for this process
    monkeypatch.setattr(src.tracking, "MODELS", tmp_path / "models")
    return uri


@pytest.fixture
def smoke_config():
    """The composed config (conf/ + profile=smoke), as a stage sees it; extra overrides can be passed."""
    from hydra import compose, initialize_config_dir

    from src.paths import CONF_DIR

    def make(*overrides: str):
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            return compose("config", ["profile=smoke", *overrides])

    return make


def run_stage(stage: str, *args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m pipelines.<stage> *args` in a fresh process from the project root, as a user would run it;
    the environment is this test's (its tracking store) plus `env`."""
    from src.paths import ROOT

    return subprocess.run(
        [sys.executable, "-m", f"pipelines.{stage}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


# -- the capstone's shared fixtures (serving, monitoring and stage tests use them too) -------------------------
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
    version = registry.log_and_register(run_id, classifier, example, metric=0.5)
    registry.promote_if_better(version, 0.5)
    client.set_terminated(run_id)
    return f"models:/{registry.MODEL_NAME}@{registry.CHAMPION}", version
