"""The tracking store's health, checked before a stage does any work, and runs whose process died.

- `check_reachable`: a server that doesn't answer, a server whose database doesn't (its /health still says OK),
  or a sqlite file that can't be written, fails the stage in seconds with the URI and what to do, instead of
  after minutes of MLflow's retries (or a hang).
- `process_tag` / `process_gone`: each run is tagged with the host, pid and start time of the process that owns
  it. A process killed by SIGKILL (or a power cut) can't close its runs; the next start of the stage finds runs
  still RUNNING whose process is gone and marks them KILLED (`mark_orphaned_runs_killed`).
"""

import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

PROCESS_TAG = "process"  # "<host>:<pid>:<start time>"
WHAT_TO_DO = (
    "Start that server, point MLFLOW_TRACKING_URI at one that runs, or unset MLFLOW_TRACKING_URI to use the "
    "project's local store (sqlite:///mlflow.db)."
)


class TrackingStoreError(RuntimeError):
    """The tracking store can't be used; the message names the URI and the fix."""


def check_reachable(uri: str, timeout: float = 3.0) -> None:
    """Raise TrackingStoreError unless the store at `uri` answers (server) or can be written (sqlite, file)."""
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as answer:
                if answer.status != 200:
                    status = answer.status
                    raise TrackingStoreError(f"MLflow server {uri} answered /health with HTTP {status}. {WHAT_TO_DO}")
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise TrackingStoreError(f"MLflow server {uri} is unreachable ({reason}). {WHAT_TO_DO}") from None
        _check_backend(uri)
        return
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
    elif uri.startswith("file:"):
        path = Path(uri.removeprefix("file://").removeprefix("file:")) / "meta.yaml"
    else:
        return  # databricks, postgresql+...: MLflow reports its own connection errors
    folder = path.parent
    if not folder.is_dir():
        raise TrackingStoreError(f"tracking store {uri}: folder {folder} does not exist. Create it, or {WHAT_TO_DO}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise TrackingStoreError(f"tracking store {uri} is not writable by this user. Fix permissions, or {WHAT_TO_DO}")


BACKEND_TIMEOUT = 10.0  # a healthy server answers a one-row search in milliseconds


def _check_backend(uri: str, timeout: float = BACKEND_TIMEOUT) -> None:
    """/health only says the web server runs. One cheap read through it (search one experiment) says whether its
    backend store (PostgreSQL, ...) answers: without this, a server whose database is down made a stage wait
    through MLflow's read timeouts and retries (1 min 47 s measured with PostgreSQL stopped) and then fail with
    a bare ReadTimeoutError. Only a 5xx or a timeout fails: an auth error (401/403) is for the client to handle."""
    request = urllib.request.Request(
        f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/search",
        data=b'{"max_results": 1}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return
    except urllib.error.HTTPError as err:
        if err.code < 500:
            return
        reason = f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        reason = str(getattr(err, "reason", err))
    raise TrackingStoreError(
        f"MLflow server {uri} answers /health but not a read of its runs ({reason}): the database or artifact "
        "store behind it is down or unreachable. Restart it (`make tracking-server` restarts PostgreSQL and the "
        f"server), or {WHAT_TO_DO[0].lower()}{WHAT_TO_DO[1:]}"
    )


def _start_time(pid: int) -> str:
    """The kernel's start time of process `pid` (clock ticks since boot), so a reused pid is told apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]  # field 22 of proc(5), counted after the command name
    except (OSError, IndexError):
        return "?"


def process_tag(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def process_gone(tag: str) -> bool:
    """True when the process a run was tagged with has certainly ended (only checkable on this host)."""
    host, _, rest = tag.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return started not in ("?", _start_time(int(pid)))  # alive, but a different process under the same pid


def mark_orphaned_runs_killed(client, experiment_id: str) -> list[str]:
    """Mark KILLED every RUNNING run of the experiment whose owning process is gone; return their ids."""
    orphans = []
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000):
        tag = run.data.tags.get(PROCESS_TAG)
        if tag and process_gone(tag):
            client.set_tag(run.info.run_id, "error", "its process ended without closing the run (SIGKILL or a crash)")
            client.set_terminated(run.info.run_id, status="KILLED")
            orphans.append(run.info.run_id)
    return orphans
