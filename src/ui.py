"""Start and stop the MLflow UI on 127.0.0.1 in the background (`make ui`, `make ui-stop`).

    python -m src.ui start [--port 5000]    # waits until /health answers, then prints the links to open
    python -m src.ui stop

Starting, waiting and stopping are src/production/server_process.py's, as for every server the project starts:
the UI runs in its own process group, and stopping kills the whole group (a plain kill of the parent leaves its
worker processes serving, shared/STACK.md). The group's pid is kept in .mlflow-ui.pid between the two commands.
"""

import argparse
import os
import subprocess
import sys

from src.paths import ROOT
from src.production import server_process
from src.tracking import tracking_uri

PID_FILE = ROOT / ".mlflow-ui.pid"
LOG_FILE = ROOT / ".mlflow-ui.log"


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
    process = server_process.start(command, log_file, env)
    pid_file.write_text(str(process.pid))
    return process


def stop(pid_file=PID_FILE) -> bool:
    """Stop the UI's process group (all of it, SIGKILL after 10 s); True if one was running."""
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    return server_process.stop(pid)


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
    try:
        server_process.wait_until_ready(f"{url}/health", process, timeout=90)
    except (RuntimeError, TimeoutError) as error:
        stop()
        sys.exit(f"MLflow UI did not come up ({error}; port busy? try `make ui UI_PORT=5001`); see {LOG_FILE}")
    print(f"MLflow UI on {url} (pid {process.pid}); stop it with `make ui-stop`. Experiments:")
    print("\n".join(experiment_links(url)) or "  (none yet: run `make repro` first)")


if __name__ == "__main__":
    main()
