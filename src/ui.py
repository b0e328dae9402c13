"""Start and stop the MLflow UI on 127.0.0.1 in the background (`make ui`, `make ui-stop`).

    python -m src.ui start [--port 5000]    # waits until /health answers, then prints the links to open
    python -m src.ui stop

The server runs in its own process group (setsid); stopping kills the whole group, because a plain kill of
the parent leaves its worker processes serving (shared/STACK.md).
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request

from src.paths import ROOT
from src.tracking import tracking_uri

PID_FILE = ROOT / ".mlflow-ui.pid"
LOG_FILE = ROOT / ".mlflow-ui.log"


def wait_until_healthy(url: str, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def start(port: int, store: str | None = None, pid_file=PID_FILE, log_file=LOG_FILE) -> subprocess.Popen:
    store = store or tracking_uri()
    if store.startswith("http"):
        sys.exit(f"MLFLOW_TRACKING_URI points at a server already: open {store}")
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        store,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    with open(log_file, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True, env=env, cwd=ROOT)
    pid_file.write_text(str(process.pid))
    return process


def stop(pid_file=PID_FILE) -> bool:
    """Kill the UI's process group; True if one was running."""
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def experiment_links(url: str) -> list[str]:
    """`workflowType=machine_learning` opens the 'Model training' view with the runs table (MLflow 3 opens
    its GenAI view otherwise)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri())
    experiments = [e for e in client.search_experiments() if e.name != "Default"]
    return [
        f"  {e.name:<22} {url}/#/experiments/{e.experiment_id}?workflowType=machine_learning"
        for e in sorted(experiments, key=lambda e: e.name)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    if args.action == "stop":
        print("MLflow UI stopped" if stop() else "no MLflow UI was running")
        return
    stop()  # a second `make ui` replaces the first rather than failing on a busy pid file
    process = start(args.port)
    url = f"http://127.0.0.1:{args.port}"
    if not wait_until_healthy(url) or process.poll() is not None:
        stop()
        sys.exit(f"MLflow UI did not come up on {url} (port busy? try `make ui UI_PORT=5001`); see {LOG_FILE}")
    print(f"MLflow UI on {url} (pid {process.pid}); stop it with `make ui-stop`. Experiments:")
    print("\n".join(experiment_links(url)) or "  (none yet: run `make repro` first)")


if __name__ == "__main__":
    main()
