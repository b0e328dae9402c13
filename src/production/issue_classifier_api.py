"""The issue classifier as a BentoML service: validation in front, the model behind it, batched.

    bentoml serve src.production.issue_classifier_api:IssueClassifierService --port 3000   # from the source tree
    make serve                                                                            # the packaged Bento

    curl -s 127.0.0.1:3000/classify -H 'Content-Type: application/json' \\
         -d '{"title": "Crash on startup", "body": "Traceback ..."}'
    -> {"label": "bug", "probabilities": {...}, "model_version": "3", "arm": "champion", "prediction_id": "9f..."}
    curl -s 127.0.0.1:3000/feedback -H 'Content-Type: application/json' \\
         -d '{"prediction_id": "9f...", "label": "bug"}'       # the true label: rewards the arm that answered

Two services, two processes:
- IssueClassifierService (public port): checks the API key (http_guards.py), the per-key rate limit
  (rate_limit.py: 429 + Retry-After) and the body size, validates each issue (issue_request.py: 422 with a
  message; malformed JSON is refused by BentoML with 400), picks an arm for each issue by Thompson sampling
  (ab_router.py, posterior in Redis at $REDIS_URL; champion only without it, without a `challenger` alias, or
  while Redis is down), asks the model, then writes every prediction to the JSONL log the monitor reads,
  remembers it for /feedback, and reports it (observability.py: Prometheus, OpenTelemetry spans, JSON log).
- IssueClassifierModel (a unix socket, not reachable from outside): the MLflow champion, and the challenger
  when the registry has one (the package stage put both in the Bento). Its `predict_batched`
  is BentoML's adaptive batching: concurrent requests queue for up to max_latency_ms and run as one batch of up
  to max_batch_size issues, so the model's per-call overhead is paid once per batch. `predict` is the same model
  without batching (ISSUE_CLASSIFIER_BATCHING=off), which the load test compares.
The split keeps a failing or slow model from taking the HTTP front down: an error there becomes a 500 for that
request; the worker keeps serving. After `serving.model_breaker.failures` such requests in a row a circuit breaker
opens, and requests get a 503 with Retry-After at once until its reset timeout lets one trial call through.
With `serving.online_features.enabled`, /classify also returns the request's repository's online features.
Health (/healthz, /livez) and /metrics are BentoML's own; /readyz is
BentoML's with a JSON body saying how A/B routing stands (readiness.py).
"""

import logging
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import bentoml
from pydantic import BaseModel

from src.capstone.data import LABELS
from src.capstone.prediction_log import PredictionLog
from src.production import observability as obs
from src.production.ab_router import CHALLENGER, CHAMPION, ABRouter, UnknownPrediction
from src.production.circuit_breaker import CircuitBreaker, CircuitOpenError
from src.production.http_guards import (
    BearerKeyAuth,
    BodySizeLimit,
    api_key_from_env,
    exposure_warning,
    listening_host,
)
from src.production.issue_request import InvalidRequest, validate_batch, validate_issue
from src.production.predict import predict_by_arm
from src.production.rate_limit import RateLimitMiddleware, TokenBucketLimiter
from src.production.readiness import ReadinessDetail
from src.production.serving_config import load_serving_config

CONFIG = load_serving_config()
API_KEY = api_key_from_env(CONFIG.api_key_env)  # an ApiKeyError here stops `bentoml serve` before it listens
RATE_LIMIT = CONFIG.rate_limit_setting()  # a bad ISSUE_CLASSIFIER_RATE_LIMIT stops it here too
ARM_TAGS = {CHAMPION: CONFIG.model_tag(), CHALLENGER: CONFIG.challenger_tag()}
MODEL_CALL_ATTEMPTS = 3
logger = logging.getLogger("bentoml.issue_classifier")
requests_log = obs.request_logger()


def dropped_connection(error: Exception) -> bool:
    """Did the call fail because the connection to the model service went away (worth one more try)?"""
    if isinstance(error, aiohttp.ClientConnectionError):
        return True
    return isinstance(error, RuntimeError) and str(error) == "Connection closed."


async def predict_with_retries(predict, issues: list[dict]) -> list[dict]:
    """Ask the model service; a dropped connection is asked again, up to MODEL_CALL_ATTEMPTS in all."""
    for attempt in range(MODEL_CALL_ATTEMPTS):
        try:
            return await predict(issues)
        except (aiohttp.ClientConnectionError, RuntimeError) as error:
            # A pooled connection to the model service can drop: ServerDisconnectedError, or, when it drops
            # while the answer is being read, aiohttp's RuntimeError("Connection closed."). BentoML's own pool
            # rotation did this to every in-flight call until MODEL_CONNECTION (above) turned it off; a
            # restarted model worker still can. A prediction has no side effects, so asking again on a fresh
            # connection is safe; only the last failure is a 500. /metrics counts every retry.
            if not dropped_connection(error) or attempt == MODEL_CALL_ATTEMPTS - 1:
                raise
            obs.MODEL_CALL_RETRIES.inc()


def model_unavailable(error: CircuitOpenError, breaker: CircuitBreaker) -> tuple[dict, dict]:
    """The 503 body and headers for a request refused because the model service's breaker is open."""
    wait = max(1, round(breaker.retry_after()))
    message = f"model service unavailable ({error}); not calling it for {wait} s, retry then"
    return {"error": message}, {"Retry-After": str(wait)}


def arm_versions() -> dict[str, str]:
    """arm -> registry version of the model the Bento carries for it (read from the model store's labels)."""
    return {
        arm: bentoml.models.get(tag).info.labels.get("registry_version", "unknown")
        for arm, tag in ARM_TAGS.items()
        if tag is not None
    }


class Issue(BaseModel):
    title: str
    body: str
    arm: str = CHAMPION


# How long the front keeps its connection pool to the model service. BentoML 1.4.30+ (proxy2.SessionManager)
# replaces the pool after 100 requests or 300 s by default, closing the old one with the other requests still in
# flight on it: at 32 clients every 100th request dropped ~24 others (ServerDisconnected / "Connection closed"),
# which predict_with_retries then sent again, to the back of the queue, while the model still computed the
# dropped ones. Measured (32 clients x 1,200 real issues after 320 warm-up requests, 2 cores, 2026-12-01): with the
# default 282 of the 1,520 calls were retried, 88-101 req/s, p99 0.80-1.0 s; with this 0 retries, 108-122 req/s,
# p99 0.44-0.45 s. The pool talks to our own model workers on this machine: there is nothing to rotate it for.
MODEL_CONNECTION = {"max_requests": 1_000_000_000, "max_age": 1e9}


@bentoml.service(
    name="issue_classifier_model",
    workers=CONFIG.workers,
    traffic={"timeout": 120},
    runner_connection=MODEL_CONNECTION,
)
class IssueClassifierModel:
    bento_model = bentoml.models.BentoModel(ARM_TAGS[CHAMPION])
    # Declared only when there is one: BentoML packs every declared model into the Bento, and a missing tag
    # would stop both the build and the server.
    challenger_model = bentoml.models.BentoModel(ARM_TAGS[CHALLENGER]) if ARM_TAGS[CHALLENGER] else None

    def __init__(self):
        import torch

        torch.set_num_threads(CONFIG.threads_per_worker)  # serving.workers copies share the cores
        self.models = {}
        for arm, stored in ((CHAMPION, self.bento_model), (CHALLENGER, self.challenger_model)):
            if stored is not None:
                version = stored.info.labels.get("registry_version", "unknown")
                self.models[arm] = (bentoml.mlflow.load_model(stored), version)

    def _predict(self, issues: list[Issue]) -> list[dict]:
        return predict_by_arm(self.models, [issue.model_dump() for issue in issues])

    @bentoml.api(
        batchable=True,
        max_batch_size=CONFIG.batching.max_batch_size,
        max_latency_ms=CONFIG.batching.max_latency_ms,
    )
    def predict_batched(self, issues: list[Issue]) -> list[dict]:
        return self._predict(issues)

    @bentoml.api
    def predict(self, issues: list[Issue]) -> list[dict]:
        return self._predict(issues)


SERVICE = None  # this worker's IssueClassifierService, for the /readyz detail


@bentoml.service(name="issue_classifier", traffic={"timeout": 120}, tracing={"sample_rate": CONFIG.trace_sample_rate})
class IssueClassifierService:
    model = bentoml.depends(IssueClassifierModel)

    def __init__(self):
        global SERVICE
        host = listening_host()
        warning = exposure_warning(host, API_KEY, CONFIG.api_key_env)
        if warning:
            logger.warning(warning)
        else:
            logger.info("listening on %s, API key %s", host, "required" if API_KEY else "off")
        log = CONFIG.prediction_log
        self.log = PredictionLog(CONFIG.log_folder(), max_bytes=log.max_bytes, backups=log.backups)
        self.batching = CONFIG.batching_enabled()
        self.versions = arm_versions()
        self.router = self._router()
        mb = CONFIG.model_breaker
        self.model_breaker = CircuitBreaker(mb.failures, mb.reset_s, name="model service")
        self.features = self._online_features()
        self.tracer = obs.file_tracer(CONFIG.trace_file(), log.max_bytes, log.backups)
        SERVICE = self

    def _router(self) -> ABRouter | None:
        ab = CONFIG.ab_routing
        url = os.environ.get(ab.redis_url_env)
        if not url:
            return None
        import redis

        client = redis.Redis.from_url(url, socket_timeout=ab.redis_timeout_s, socket_connect_timeout=ab.redis_timeout_s)
        breaker = CircuitBreaker(ab.breaker_failures, ab.breaker_reset_s, name="redis")
        return ABRouter(client, self.versions, prefix=ab.key_prefix, ttl_s=ab.prediction_ttl_s, breaker=breaker)

    def _online_features(self):
        online = CONFIG.online_features
        if not online.enabled:
            return None
        import pandas as pd

        from src.paths import ROOT
        from src.production.issue_features import OnlineRepoFeatures

        frame = pd.read_csv(ROOT / online.issues_file, usecols=["repo", "created_at", "label"])
        features = OnlineRepoFeatures(frame, pd.Timedelta(hours=online.label_delay_hours), online.window)
        logger.info("online features: %d repositories from %s", features.rows, online.issues_file)
        return features

    def readiness(self) -> dict:
        breaker = {"model_breaker": self.model_breaker.state}
        if self.router is None:
            message = f"off ({CONFIG.ab_routing.redis_url_env} unset): every request goes to the champion"
            return {"ab_routing": message, "ab_routing_ok": False, "arms": self.versions, **breaker}
        ok, message = self.router.ready()
        return {"ab_routing": message, "ab_routing_ok": ok, "arms": self.versions, **breaker}

    def _refuse(self, ctx, route: str, request_id: str, started: float, error: CircuitOpenError) -> dict:
        body, headers = model_unavailable(error, self.model_breaker)
        ctx.response.status_code = 503
        ctx.response.headers.update(headers)
        self._report(route, request_id, started, 503, error=body["error"])
        return body

    def _choose(self, n: int) -> list[str]:
        # The Redis client is synchronous: on loopback a call takes ~0.1 ms, less than a thread hop would; the
        # socket timeout and the circuit breaker bound what a sick Redis can cost the event loop.
        if self.router is None:
            return [CHAMPION] * n
        arms, note = self.router.choose(n)
        if note:
            obs.AB_FALLBACKS.inc(n)
        return arms

    async def _call_model(self, issues: list[dict]) -> list[dict]:
        # The breaker sees one call per request (its retries inside): a model service that keeps failing opens
        # it, and requests then get a 503 at once instead of each waiting on a failing call.
        predict = self.model.to_async.predict_batched if self.batching else self.model.to_async.predict
        return await self.model_breaker.call_async(predict_with_retries, predict, issues)

    async def _classify(self, issues: list[dict], request_id: str) -> list[dict]:
        """Route, ask the model, then log, remember and count every prediction."""
        arms = self._choose(len(issues))
        with self.tracer.start_as_current_span("model") as span:
            span.set_attribute("issue_classifier.arms", arms)
            results = await self._call_model([{**issue, "arm": arm} for issue, arm in zip(issues, arms, strict=True)])
        with self.tracer.start_as_current_span("log"):
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            records = []
            for issue, result in zip(issues, results, strict=True):
                result["prediction_id"] = uuid.uuid4().hex
                if self.router is not None:
                    self.router.remember(result["prediction_id"], result["arm"], result["label"])
                probabilities = {f"proba_{label}": p for label, p in result["probabilities"].items()}
                records.append(
                    {
                        "timestamp": now,
                        "request_id": request_id,
                        "prediction_id": result["prediction_id"],
                        "arm": result["arm"],
                        "model_version": result["model_version"],
                        **issue,
                        "label": result["label"],
                        **probabilities,
                    }
                )
                obs.PREDICTIONS.labels(label=result["label"], model_version=result["model_version"]).inc()
                obs.AB_REQUESTS.labels(arm=result["arm"], model_version=result["model_version"]).inc()
            self.log.write(records)
        return results

    def _report(self, route: str, request_id: str, started: float, status: int, versions=(), **fields) -> None:
        seconds = time.perf_counter() - started
        version = ",".join(sorted(set(versions))) or "none"
        obs.REQUEST_SECONDS.labels(route=route, model_version=version, status=str(status)).observe(seconds)
        obs.log_request(
            requests_log,
            route=route,
            request_id=request_id,
            status=status,
            latency_ms=round(1000 * seconds, 3),
            **fields,
        )

    def _start(self, ctx: bentoml.Context) -> tuple[str, float]:
        """The request id (the client's X-Request-ID when it is a plausible one, else a new one), echoed back."""
        sent = ctx.request.headers.get("x-request-id", "")
        request_id = sent if 0 < len(sent) <= 64 and sent.replace("-", "").isalnum() else uuid.uuid4().hex
        ctx.response.headers["X-Request-ID"] = request_id
        return request_id, time.perf_counter()

    @bentoml.api(route="/classify")
    async def classify(self, ctx: bentoml.Context, title: Any = None, body: Any = None, repo: Any = None) -> dict:
        """Classify one issue: {"title": ..., "body": ...} -> label, probabilities, model_version, arm,
        prediction_id (send it to /feedback with the true label). With online features on (serving config),
        an optional "repo" adds that repository's latest features ("features": null when unknown)."""
        request_id, started = self._start(ctx)
        with self.tracer.start_as_current_span("validation"):
            try:
                issue = validate_issue({"title": title, "body": body}, CONFIG.max_text_bytes)
            except InvalidRequest as error:
                ctx.response.status_code = 422
                self._report("/classify", request_id, started, 422, error=str(error))
                return {"error": str(error)}
        try:
            [result] = await self._classify([issue], request_id)
        except CircuitOpenError as error:
            return self._refuse(ctx, "/classify", request_id, started, error)
        extra = {}
        if self.features is not None:
            result["features"] = extra["features"] = self.features.lookup(repo)
            extra["repo"] = repo if isinstance(repo, str) else None
        self._report(
            "/classify",
            request_id,
            started,
            200,
            [result["model_version"]],
            arms=[result["arm"]],
            prediction_ids=[result["prediction_id"]],
            **extra,
        )
        return result

    @bentoml.api(route="/classify_batch")
    async def classify_batch(self, ctx: bentoml.Context, issues: Any = None) -> dict:
        """Classify several issues: {"issues": [{"title": ..., "body": ...}, ...]} -> {"predictions": [...]}."""
        request_id, started = self._start(ctx)
        with self.tracer.start_as_current_span("validation"):
            try:
                valid = validate_batch(issues, CONFIG.max_text_bytes, CONFIG.max_batch_items)
            except InvalidRequest as error:
                ctx.response.status_code = 422
                self._report("/classify_batch", request_id, started, 422, error=str(error))
                return {"error": str(error)}
        try:
            results = await self._classify(valid, request_id)
        except CircuitOpenError as error:
            return self._refuse(ctx, "/classify_batch", request_id, started, error)
        self._report(
            "/classify_batch",
            request_id,
            started,
            200,
            [r["model_version"] for r in results],
            arms=[r["arm"] for r in results],
            prediction_ids=[r["prediction_id"] for r in results],
        )
        return {"predictions": results}

    @bentoml.api(route="/feedback")
    async def feedback(self, ctx: bentoml.Context, prediction_id: Any = None, label: Any = None) -> dict:
        """The true label of a served prediction: {"prediction_id": ..., "label": "bug"} -> the arm and version
        that served it and the reward (1: it was right) added to that version's posterior."""
        request_id, started = self._start(ctx)
        with self.tracer.start_as_current_span("validation"):
            error, status = None, 200
            if not isinstance(prediction_id, str) or not prediction_id.strip():
                error, status = "prediction_id must be the non-empty string a /classify answer gave", 422
            elif label not in LABELS:
                error, status = f"label must be one of {list(LABELS)}, got {label!r}", 422
            elif self.router is None:
                error, status = f"feedback needs A/B routing: set {CONFIG.ab_routing.redis_url_env}", 503
        if error is None:
            with self.tracer.start_as_current_span("feedback"):
                try:
                    outcome = self.router.feedback(prediction_id, label)
                except UnknownPrediction:
                    error, status = f"unknown prediction_id {prediction_id!r} (never served, expired, or answered)", 404
                except Exception as failure:  # Redis down: the reward can't be stored; say so, the client may retry
                    error, status = f"feedback not recorded: Redis unavailable ({type(failure).__name__})", 503
        if error is not None:
            ctx.response.status_code = status
            self._report("/feedback", request_id, started, status, error=error)
            return {"error": error}
        obs.AB_FEEDBACK.labels(arm=outcome["arm"], model_version=outcome["version"]).inc()
        obs.AB_REWARDS.labels(arm=outcome["arm"], model_version=outcome["version"]).inc(outcome["reward"])
        self._report(
            "/feedback",
            request_id,
            started,
            200,
            [outcome["version"]],
            arms=[outcome["arm"]],
            prediction_ids=[prediction_id],
            reward=outcome["reward"],
        )
        return {"prediction_id": prediction_id, **outcome}


def _readiness_detail() -> dict:
    return SERVICE.readiness() if SERVICE is not None else {"ab_routing": "starting", "ab_routing_ok": False}


# Outermost first (BentoML hands them to Starlette in this order): the key is checked before anything else, so an
# unauthenticated client learns nothing and can't make the service read (buffer) any of its body; then the rate
# limit (a refused request costs no body read either); then the body size. Probe routes pass all three.
IssueClassifierService.add_asgi_middleware(BearerKeyAuth, api_key=API_KEY, key_env=CONFIG.api_key_env)
if RATE_LIMIT is not None:
    IssueClassifierService.add_asgi_middleware(
        RateLimitMiddleware, limiter=TokenBucketLimiter(rate=RATE_LIMIT[0], capacity=RATE_LIMIT[1])
    )
IssueClassifierService.add_asgi_middleware(BodySizeLimit, max_bytes=CONFIG.max_body_bytes)
IssueClassifierService.add_asgi_middleware(ReadinessDetail, detail=_readiness_detail)
