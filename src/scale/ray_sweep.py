"""A Hydra sweep of any stage, one Ray task per job, on a Ray cluster: the local one `ray start --head` makes, or
KubeRay's (docs/scale_out.md).

    python -m src.scale.ray_sweep cluster --port 6379              # a local head in the foreground (Ctrl-C)
    python -m src.scale.ray_sweep run --address 127.0.0.1:6379 day01_math \\
        profile=smoke day01.least_squares.n_steps=10,100,1000      # Hydra's sweep syntax: a,b  choice()  range()
    python -m src.scale.ray_sweep run --local day01_math ...       # `make ray-sweep`: its own cluster, then stops it

Why not Hydra's own Ray launcher (`hydra/launcher=ray`): hydra-ray-launcher 1.2.2 requires cloudpickle<3, and
the lock has cloudpickle 3.1.3, which joblib 1.6 and dask 2026.8 require (>=3.0): `pip install --dry-run -c
requirements.lock hydra-ray-launcher==1.2.2` ends in ResolutionImpossible (unpinned, pip backtracks to older
plugin releases whose boto3/botocore then fail against the lock's urllib3). Downgrading joblib and dask for one
plugin was not worth it. So the driver expands the sweep with Hydra's own parser (the
same cartesian product `-m` makes) and runs each job as a Ray task that starts the stage's ordinary entry point,
`python -m pipelines.<stage> -m <job's overrides>`, a one-job Hydra multirun. Each job is therefore exactly
what a local `-m` sweep job is: it records its own MLflow run (tagged with its overrides) in the tracking store
the driver names, and writes its files under its own sweep folder, never into the reports/ and models/ that DVC
owns (src/tracking.py). Each task asks Ray for `--cpus-per-job` CPUs, so Ray, not the driver, decides how many
jobs run at once.

The environment a job needs is sent with it (MLFLOW_*, AI_MASTERY_*, HF_*, BENTOML_HOME): Ray workers are forked
from `ray start`, not from the driver. On a multi-node cluster the project must be at the same path on every
node (a shared volume or the container image); `--working-dir` instead ships it with Ray's runtime_env.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from src.paths import ROOT

FORWARDED_ENV = ("MLFLOW_", "AI_MASTERY_", "HF_", "BENTOML_HOME", "DO_NOT_TRACK", "MPLBACKEND", "OMP_NUM_THREADS")


def expand(overrides: list[str]) -> list[list[str]]:
    """Hydra's sweep expansion: ["a=1,2", "b=x"] -> [["a=1", "b=x"], ["a=2", "b=x"]] (choice, range, glob too)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    return [job for batch in BasicSweeper.split_arguments(parsed, max_batch_size=None) for job in batch]


def job_command(stage: str, overrides: list[str], sweep_dir: Path, job_number: int) -> list[str]:
    """The stage's own entry point as a one-job Hydra multirun under sweep_dir/<job_number>."""
    return [
        sys.executable,
        "-m",
        f"pipelines.{stage}",
        "--multirun",
        f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweep.subdir={job_number}",
        *overrides,
    ]


def forwarded_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key.startswith(FORWARDED_ENV)}


@dataclass
class JobResult:
    number: int
    overrides: list[str]
    returncode: int
    seconds: float
    node: str
    output_tail: str


def _run_job(stage: str, overrides: list[str], sweep_dir: str, number: int, env: dict, root: str | None) -> JobResult:
    """Body of the Ray task: run one job as a subprocess (a fresh Hydra, its own signal handlers and MLflow run)."""
    import socket

    started = time.perf_counter()
    command = job_command(stage, overrides, Path(sweep_dir), number)
    command[0] = sys.executable  # the worker's interpreter (the same venv on a local cluster)
    result = subprocess.run(command, cwd=root or os.getcwd(), env={**os.environ, **env}, capture_output=True, text=True)
    tail = (result.stdout + result.stderr)[-3000:]
    return JobResult(number, overrides, result.returncode, time.perf_counter() - started, socket.gethostname(), tail)


def run(
    stage: str,
    overrides: list[str],
    address: str,
    sweep_dir: Path | None = None,
    cpus_per_job: float = 1.0,
    working_dir: bool = False,
) -> list[JobResult]:
    """Submit every job of the sweep to the Ray cluster at `address`; wait for all; results in job order."""
    from src.scale.launch import prepare_store

    jobs = expand(overrides)
    prepare_store(stage)  # the jobs would race to create the experiment
    sweep_dir = Path(sweep_dir or ROOT / "multirun" / f"ray-{stage}-{time.strftime('%Y-%m-%d_%H-%M-%S')}").resolve()
    runtime_env = (
        {"working_dir": str(ROOT), "excludes": [".venv", ".dvc/cache", "data/processed"]} if working_dir else None
    )
    with ray_driver(address, runtime_env=runtime_env, logging_level="WARNING", log_to_driver=False) as ray:
        task = ray.remote(num_cpus=cpus_per_job, max_retries=0)(_run_job)
        root = None if working_dir else str(ROOT)
        env = forwarded_env()
        futures = [task.remote(stage, job, str(sweep_dir), number, env, root) for number, job in enumerate(jobs)]
        return ray.get(futures)


@contextlib.contextmanager
def ray_driver(address: str, **init_kwargs):
    """`ray.init` ... `ray.shutdown`, giving back the process's SIGTERM and SIGINT handlers afterwards: ray.init
    installs its own SIGTERM handler and shutdown leaves it, so a caller (a test session, a stage's StopGuard)
    would otherwise find its handler replaced."""
    import ray

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        ray.init(address=address, **init_kwargs)
        try:
            yield ray
        finally:
            ray.shutdown()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def cluster_command(port: int, num_cpus: int, temp_dir: Path) -> list[str]:
    """`ray start --head` kept in the foreground (`--block`), so it and the processes it starts share one process
    group that src/production/server_process.stop ends by pid; `ray stop` would end every Ray on the machine."""
    ray = str(Path(sys.executable).parent / "ray")
    return [
        ray,
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        f"--num-cpus={num_cpus}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]


def start_cluster(port: int, num_cpus: int, temp_dir: Path, log_path: Path):
    """A local Ray head on 127.0.0.1:`port` in the background; returns the `ray start --block` process."""
    from src.production import server_process

    return server_process.start(cluster_command(port, num_cpus, temp_dir), log_path)


def stop_cluster(process, grace: float = 15.0) -> None:
    """End the head's process group, then, by pid, the Ray processes that left it: the workers (`ray::IDLE`)
    call setsid, so killing the group misses them."""
    import psutil

    from src.production import server_process

    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    server_process.stop(process, grace=grace)
    for leftover in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.terminate()
    _, alive = psutil.wait_procs(descendants, timeout=5)
    for leftover in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()


def wait_for_cluster(address: str, process, timeout: float = 120.0) -> None:
    """Until a driver can connect (the GCS answers and the head node has registered its CPUs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`ray start --head` exited with status {process.returncode}")
        try:
            with ray_driver(address, logging_level="ERROR", log_to_driver=False) as ray:
                if ray.cluster_resources().get("CPU", 0) > 0:
                    return
        except (ConnectionError, RuntimeError):
            pass
        time.sleep(1.0)
    raise TimeoutError(f"the Ray cluster at {address} did not come up within {timeout:.0f} s")


def _run_on_a_local_cluster(stage: str, overrides: list[str], **options) -> list[JobResult]:
    import tempfile

    from src.production.server_process import free_port

    temp = Path(tempfile.mkdtemp(prefix="ray-"))
    port = free_port()
    head = start_cluster(port, os.cpu_count() or 2, temp, temp / "head.log")
    try:
        wait_for_cluster(f"127.0.0.1:{port}", head)
        print(f"local Ray cluster on 127.0.0.1:{port} (pid {head.pid}), logs in {temp}", flush=True)
        return run(stage, overrides, f"127.0.0.1:{port}", **options)
    finally:
        stop_cluster(head, grace=5)
        shutil.rmtree(temp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sweep = commands.add_parser("run", help="sweep a stage on a Ray cluster")
    sweep.add_argument("--address", default=os.environ.get("RAY_ADDRESS", "127.0.0.1:6379"))
    sweep.add_argument("--local", action="store_true", help="start a local cluster for this sweep, stop it after")
    sweep.add_argument("--cpus-per-job", type=float, default=1.0)
    sweep.add_argument("--sweep-dir", type=Path)
    sweep.add_argument("--working-dir", action="store_true", help="ship the project with Ray's runtime_env")
    sweep.add_argument("stage")
    sweep.add_argument("overrides", nargs="*")
    head = commands.add_parser("cluster", help="a local Ray head on 127.0.0.1 in the foreground (Ctrl-C stops it)")
    head.add_argument("--port", type=int, default=6379)
    head.add_argument("--num-cpus", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    if args.command == "cluster":
        temp = Path("/tmp") / f"ray-{os.getuid()}"  # Ray's socket paths must stay short: not under the project
        os.execv(cluster_command(args.port, args.num_cpus, temp)[0], cluster_command(args.port, args.num_cpus, temp))
    sweep_args = (args.stage, args.overrides)
    options = {"sweep_dir": args.sweep_dir, "cpus_per_job": args.cpus_per_job, "working_dir": args.working_dir}
    if args.local:
        results = _run_on_a_local_cluster(*sweep_args, **options)
    else:
        results = run(*sweep_args, args.address, **options)
    for result in results:
        state = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"job {result.number} {state:>18} {result.seconds:6.1f} s on {result.node}: {' '.join(result.overrides)}")
    failed = [r for r in results if r.returncode != 0]
    for result in failed:
        print(f"\n--- job {result.number} ({' '.join(result.overrides)}) ---\n{result.output_tail}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
