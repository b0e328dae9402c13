"""Starting and stopping a background server's whole process group (what `make ui`, the load test and the serving
tests use), without a real server: a shell and its children stand in for a server and its workers."""

import os
import subprocess
import sys

import pytest

from src.production.server_process import running_server, start, stop, wait_until_ready

# A "server" whose worker ignores SIGTERM, as a stuck worker would; the leader exits on SIGTERM.
STUBBORN = ["bash", "-c", "(trap '' TERM; exec sleep 300) & sleep 300"]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_by_pid_kills_the_whole_group_even_a_worker_that_ignores_sigterm(tmp_path):
    process = start(STUBBORN, tmp_path / "server.log")
    assert group_alive(process.pid)
    assert stop(process.pid, grace=0.5)  # as `make ui-stop` does, from the pid alone
    assert not group_alive(process.pid)
    assert not stop(process.pid)  # nothing left to stop


def test_stop_of_a_popen_records_its_exit_and_leaves_no_worker(tmp_path):
    process = start(STUBBORN, tmp_path / "server.log")
    assert stop(process, grace=0.5)
    assert process.returncode is not None and not group_alive(process.pid)


def test_a_server_that_dies_before_answering_is_reported_with_its_status(tmp_path):
    command = [sys.executable, "-c", "import sys; print('cannot bind'); sys.exit(3)"]
    with pytest.raises(RuntimeError, match="exited with status 3"):
        with running_server(command, 9, "/readyz", dict(os.environ), tmp_path / "server.log", timeout=30):
            pass
    assert "cannot bind" in (tmp_path / "server.log").read_text()


def test_waiting_on_a_server_that_never_answers_times_out(tmp_path):
    process = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        with pytest.raises(TimeoutError, match="did not answer within 1 s"):
            wait_until_ready("http://127.0.0.1:9/health", process, timeout=1)
    finally:
        stop(process)
