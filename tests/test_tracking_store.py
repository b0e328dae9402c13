"""The store is checked before any work, and runs whose process died are closed by the next start."""

import os
import socket
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from src import tracking_store as store
from src.tracking_store import TrackingStoreError, check_reachable, process_gone, process_tag


def test_unreachable_server_fails_in_seconds_naming_the_uri():
    """Before: a stage with MLFLOW_TRACKING_URI=http://127.0.0.1:9 hung for more than 200 s."""
    started = time.perf_counter()
    with pytest.raises(TrackingStoreError, match=r"http://127\.0\.0\.1:9 is unreachable.*MLFLOW_TRACKING_URI"):
        check_reachable("http://127.0.0.1:9")
    assert time.perf_counter() - started < 10


def test_sqlite_store_in_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(TrackingStoreError, match="does not exist"):
        check_reachable(f"sqlite:///{tmp_path / 'no' / 'such' / 'mlflow.db'}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_sqlite_store_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(TrackingStoreError, match="not writable"):
            check_reachable(f"sqlite:///{tmp_path / 'mlflow.db'}")
    finally:
        tmp_path.chmod(0o700)


def test_writable_sqlite_store_passes(tmp_path):
    check_reachable(f"sqlite:///{tmp_path / 'mlflow.db'}")


def test_process_tags_tell_live_dead_and_reused_pids():
    assert not process_gone(process_tag())
    ended = subprocess.Popen(["true"])
    ended.wait()
    assert process_gone(f"{socket.gethostname()}:{ended.pid}:1")
    assert process_gone(f"{socket.gethostname()}:{os.getpid()}:999999999")  # same pid, another start time
    assert not process_gone(f"another-host:{ended.pid}:1")  # can't know: leave it alone


SIGKILLED_STAGE = """
import os, signal, sys
from omegaconf import OmegaConf
from src.tracking import StageRun
cfg = OmegaConf.create({"seed": 1, "profile": {"name": "smoke", "device": "cpu"}, "dayx": {"a": 1}})
with StageRun("dayx_test", cfg, "dayx") as run:
    run.log_metrics({"loss": 1.0}, variant="scratch")
    (run.out_dir / "figures").mkdir(parents=True)
    (run.out_dir / "figures" / f".curve.png.{os.getpid()}.x1.tmp").write_bytes(b"")  # a rename that never came
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_next_start_marks_runs_of_a_sigkilled_stage_killed_and_removes_its_temporaries(tracking_store, tmp_path):
    """Before: SIGKILL left the run and its variant RUNNING forever and a 0-byte file in a DVC-tracked folder."""
    from omegaconf import OmegaConf

    from src.tracking import StageRun

    killed = subprocess.run([sys.executable, "-c", SIGKILLED_STAGE], cwd=tracking_store_root(), env=os.environ)
    assert killed.returncode == -9
    client = MlflowClient(tracking_store)
    experiment = client.get_experiment_by_name("dayx-test").experiment_id
    assert {r.info.status for r in client.search_runs([experiment])} == {"RUNNING"}
    leftover = list((tmp_path / "reports" / "dayx_test" / "figures").glob(".*.tmp"))
    assert len(leftover) == 1

    cfg = OmegaConf.create({"seed": 1, "profile": {"name": "smoke", "device": "cpu"}, "dayx": {"a": 1}})
    with StageRun("dayx_test", cfg, "dayx"):
        pass
    statuses = sorted(r.info.status for r in client.search_runs([experiment]))
    assert statuses == ["FINISHED", "KILLED", "KILLED"]
    assert not leftover[0].exists()


def tracking_store_root():
    from src.paths import ROOT

    return ROOT


def test_orphan_search_ignores_runs_of_live_processes(tracking_store):
    from omegaconf import OmegaConf

    from src.tracking import StageRun

    cfg = OmegaConf.create({"seed": 1, "profile": {"name": "smoke", "device": "cpu"}, "dayx": {"a": 1}})
    with StageRun("dayx_test", cfg, "dayx") as outer:
        client = MlflowClient(tracking_store)
        assert store.mark_orphaned_runs_killed(client, outer.experiment_id) == []
        assert client.get_run(outer.run_id).info.status == "RUNNING"
