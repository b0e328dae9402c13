"""A shared MLflow tracking server on a real PostgreSQL, with proxied artifacts (`make tracking-server`).

    python -m src.scale.tracking_server start [--port 5001] [--dir .tracking]   # prints the URI to export
    python -m src.scale.tracking_server stop
    export MLFLOW_TRACKING_URI=http://127.0.0.1:5001    # then every stage, sweep and `make repro` records there

What runs (all on 127.0.0.1, each in its own process group, stopped by process id):
- PostgreSQL (src/scale/postgres.py) with its cluster in <dir>/postgres: runs, params, metrics, tags, the model
  registry (and the `champion` alias) live in its database `mlflow`;
- `mlflow server --backend-store-uri postgresql://... --artifacts-destination <dir>/artifacts`: clients send
  figures and models to the server over HTTP (`mlflow-artifacts:/` URIs) and never need the folder, which is what
  makes the store shareable; on a team it is an S3/GCS bucket instead (docs/scale_out.md).
The pids and ports are kept in <dir>/server.json between `start` and `stop`.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from src.paths import ROOT
from src.production import server_process
from src.scale import postgres

DEFAULT_DIR = ROOT / ".tracking"
DATABASE = "mlflow"
# SQLAlchemy's default pool (5 + 10 overflow per store, per worker) ran out at 64 concurrent writers here: 27 of 64
# clients got "QueuePool limit of size 5 overflow 10 reached, connection timed out" (docs/scale_out.md). A user's
# own MLFLOW_SQLALCHEMYSTORE_* settings win; PostgreSQL gets room for the larger pools.
POOL = {"MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "10", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "20"}
POSTGRES_SETTINGS = {"max_connections": "300"}


@dataclass
class TrackingServer:
    url: str  # what MLFLOW_TRACKING_URI gets
    port: int
    postgres_port: int
    postgres_pid: int
    mlflow_pid: int
    folder: str
    postgres_data: str  # the cluster's folder
    postgres_settings: dict  # extra `-c` settings it was started with

    @property
    def backend_uri(self) -> str:
        return postgres.uri(self.postgres_port, DATABASE)

    @property
    def artifacts(self) -> Path:
        return Path(self.folder) / "artifacts"


def _state_file(folder: Path) -> Path:
    return Path(folder) / "server.json"


def mlflow_command(backend_uri: str, artifacts: Path, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        backend_uri,
        "--artifacts-destination",
        artifacts.resolve().as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def start(
    folder: Path = DEFAULT_DIR,
    port: int = 5001,
    postgres_port: int | None = None,
    workers: int = 2,
    postgres_data: Path | None = None,
    postgres_settings: dict | None = None,
    timeout: float = 120.0,
) -> TrackingServer:
    """Start PostgreSQL (cluster in `postgres_data`, default <folder>/postgres), then the MLflow server on
    127.0.0.1:`port`; wait until /health answers. On any failure both are stopped and the error names the log."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "artifacts").mkdir(exist_ok=True)
    postgres_port = postgres_port or server_process.free_port()
    data = Path(postgres_data or folder / "postgres")
    postgres.init(data)
    pg_log = folder / "postgres.log"
    postgres_settings = {**POSTGRES_SETTINGS, **(postgres_settings or {})}
    pg = postgres.start(data, postgres_port, pg_log, postgres_settings)
    mlflow_process = None
    try:
        postgres.wait_until_ready(postgres_port, pg, timeout=30, log_path=pg_log)
        postgres.create_database(postgres_port, DATABASE)
        command = mlflow_command(postgres.uri(postgres_port, DATABASE), folder / "artifacts", port, workers)
        env = {**POOL, **os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
        env.pop("MLFLOW_TRACKING_URI", None)  # the server's own store is the one on its command line
        mlflow_log = folder / "mlflow-server.log"
        mlflow_process = server_process.start(command, mlflow_log, env)
        url = f"http://127.0.0.1:{port}"
        try:
            server_process.wait_until_ready(f"{url}/health", mlflow_process, timeout)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"the MLflow server did not come up ({error}; port busy?); see {mlflow_log}") from None
    except BaseException:
        if mlflow_process is not None:
            server_process.stop(mlflow_process)
        postgres.stop(pg.pid)
        raise
    server = TrackingServer(
        url, port, postgres_port, pg.pid, mlflow_process.pid, str(folder), str(data), postgres_settings
    )
    _state_file(folder).write_text(json.dumps(asdict(server), indent=2))
    return server


def stop(folder: Path = DEFAULT_DIR, grace: float = 10.0) -> bool:
    """Stop the MLflow server (its whole process group), then PostgreSQL, each SIGKILLed if still there after
    `grace` seconds; True if one was running."""
    state = _state_file(folder)
    if not state.exists():
        return False
    server = TrackingServer(**json.loads(state.read_text()))
    stopped = server_process.stop(server.mlflow_pid, grace)  # first: its pool holds PostgreSQL sessions
    stopped = postgres.stop(server.postgres_pid, grace) or stopped
    state.unlink()
    return stopped


def restart_postgres(folder: Path = DEFAULT_DIR) -> int:
    """Start again the PostgreSQL of a running tracking server after it died (a crash, an OOM kill), on the same
    cluster and port; the MLflow server reconnects by itself (its pool pings before use). Returns the new pid."""
    state = _state_file(folder)
    server = TrackingServer(**json.loads(state.read_text()))
    log = Path(folder) / "postgres.log"
    process = postgres.start(Path(server.postgres_data), server.postgres_port, log, server.postgres_settings)
    postgres.wait_until_ready(server.postgres_port, process, timeout=60, log_path=log)
    state.write_text(json.dumps({**asdict(server), "postgres_pid": process.pid}, indent=2))
    return process.pid


@contextlib.contextmanager
def running_tracking_server(folder: Path, workers: int = 2, timeout: float = 120.0):
    """For tests: a throwaway server whose store lives in `folder` (PostgreSQL's cluster in a fresh folder under
    the system temp dir, which the unprivileged server user can reach), stopped and removed on the way out.
    fsync is off: a machine crash may lose the cluster, which a test deletes anyway; a killed PostgreSQL loses no
    committed transaction."""
    data = Path(tempfile.mkdtemp(prefix="ai-mastery-pg-"))  # empty: initdb fills it
    try:
        server = start(
            folder,
            port=server_process.free_port(),
            workers=workers,
            postgres_data=data,
            # Not synchronous_commit=off: that loses the last commits when PostgreSQL itself is killed, which
            # the failure test does; fsync and full-page writes only matter when the machine goes down.
            postgres_settings={"fsync": "off", "full_page_writes": "off"},
            timeout=timeout,
        )
        try:
            yield server
        finally:
            stop(folder, grace=3)  # a throwaway store: no need to wait for uvicorn's graceful shutdown
    finally:
        postgres.remove(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where PostgreSQL and the artifacts live")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.action == "stop":
        print("tracking server stopped" if stop(args.dir) else "no tracking server was running")
        return
    stop(args.dir)  # a second `make tracking-server` replaces the first rather than failing on busy ports
    try:
        server = start(args.dir, args.port, workers=args.workers)
    except (RuntimeError, TimeoutError, PermissionError) as error:
        sys.exit(f"tracking server did not start: {error}")
    print(
        f"MLflow tracking server on {server.url} (pid {server.mlflow_pid}), PostgreSQL on 127.0.0.1:"
        f"{server.postgres_port} (pid {server.postgres_pid}), artifacts in {server.artifacts}.\n"
        f"Record there:  export MLFLOW_TRACKING_URI={server.url}\nStop it:       make tracking-server-stop"
    )


if __name__ == "__main__":
    main()
