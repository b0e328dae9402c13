"""Shared fixtures: every test that records runs gets its own MLflow store and reports folder."""

import os
import subprocess
import sys

import pytest

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


@pytest.fixture(scope="session")
def cifar10_processed_dir(tmp_path_factory):
    """The decoded CIFAR-10 arrays (day05_prepare's output): the project's if `dvc repro day05_prepare` has
    run, else decoded once per test session into a temporary folder (about 15 s)."""
    from src.data import cifar10

    if (cifar10.PROCESSED_DIR / cifar10.PROCESSED_FILE).exists():
        return cifar10.PROCESSED_DIR
    folder = tmp_path_factory.mktemp("cifar10")
    cifar10.prepare(folder)
    return folder


@pytest.fixture
def cifar10_data(cifar10_processed_dir, monkeypatch):
    """Stages run in this process read the decoded CIFAR-10 arrays from cifar10_processed_dir."""
    from src.data import cifar10

    monkeypatch.setattr(cifar10, "PROCESSED_DIR", cifar10_processed_dir)
    return cifar10_processed_dir
