"""Start a server in the background on 127.0.0.1, wait until it answers, and stop it with all its workers.

    with running_server(["bentoml", "serve", ...], port, ready_path="/readyz", env=...) as url:
        ...  # url = "http://127.0.0.1:<port>"

The server gets its own process group (start_new_session) and is stopped by killing the group: BentoML and
uvicorn start worker processes that a plain kill of the parent would leave behind (shared/STACK.md).
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


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running_server(command: list[str], port: int, ready_path: str, env: dict, log_path, timeout: float = 120.0):
    """Run `command` (which must listen on 127.0.0.1:`port`; output into `log_path`), yield its base URL once
    `ready_path` answers."""
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_ready(url + ready_path, process, timeout)
            yield url
        finally:
            stop(process)
