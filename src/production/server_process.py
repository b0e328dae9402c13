"""Start a server in the background on 127.0.0.1, wait until it answers, and stop it with all its workers. The one
implementation behind the tests' and the load test's servers and `make ui` / `make ui-stop` (src/ui.py).

    with running_server(["bentoml", "serve", ...], port, ready_path="/readyz", env=..., log_path=...) as url:
        ...  # url = "http://127.0.0.1:<port>"

    process = start(command, log_path)         # in the background, outliving this process (`make ui`)
    wait_until_ready(url + "/health", process, timeout=90)
    stop(process.pid)                          # later, from another process: the pid is enough

The server gets its own process group (start_new_session) and is stopped by killing the group: BentoML, uvicorn
and MLflow's UI start worker processes that a plain kill of the parent would leave behind (shared/STACK.md).
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request

from src.paths import ROOT


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], log_path, env: dict | None = None) -> subprocess.Popen:
    """Run `command` from the project root in a new process group, its output appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Poll `url` until it answers 200; fail early (with the reason) if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def _group_alive(process: subprocess.Popen | int) -> bool:
    """Is any process of its group left? Reaps the leader first when it is our child (a zombie still counts)."""
    if isinstance(process, subprocess.Popen):
        process.poll()
        pgid = process.pid
    else:
        pgid = process
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process: subprocess.Popen | int, grace: float = 10.0) -> bool:
    """SIGTERM the process group of `process` (a Popen from `start`, or its pid), wait until every process of the
    group is gone, SIGKILL what is left after `grace` seconds. True if anything was running."""
    pgid = process if isinstance(process, int) else process.pid
    if not _group_alive(process):
        return False
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait
        while _group_alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _group_alive(process):
            break
    return True


@contextlib.contextmanager
def running_server(command: list[str], port: int, ready_path: str, env: dict, log_path, timeout: float = 120.0):
    """Run `command` (which must listen on 127.0.0.1:`port`; output into `log_path`), yield its base URL once
    `ready_path` answers; stop it (the whole group) on the way out."""
    url = f"http://127.0.0.1:{port}"
    process = start(command, log_path, env)
    try:
        wait_until_ready(url + ready_path, process, timeout)
        yield url
    finally:
        stop(process)
