"""The issue classifier as a BentoML service: validation in front, the model behind it, batched.

    bentoml serve src.production.issue_classifier_api:IssueClassifierService --port 3000   # from the source tree
    make serve                                                                            # the packaged Bento

    curl -s 127.0.0.1:3000/classify -H 'Content-Type: application/json' \\
         -d '{"title": "Crash on startup", "body": "Traceback ..."}'
    -> {"label": "bug", "probabilities": {"bug": 0.91, "feature": 0.04, "question": 0.05}, "model_version": "3"}

Two services, two processes:
- IssueClassifierService (public port): checks the API key and the body size (http_guards.py), validates each
  issue (issue_request.py: 422 with a message; malformed JSON is refused by BentoML with 400), asks the model,
  then writes every prediction to the JSONL log the monitor reads and counts it in Prometheus.
- IssueClassifierModel (a unix socket, not reachable from outside): the MLflow champion. Its `predict_batched`
  is BentoML's adaptive batching: concurrent requests queue for up to max_latency_ms and run as one batch of up
  to max_batch_size issues, so the model's per-call overhead is paid once per batch. `predict` is the same model
  without batching (ISSUE_CLASSIFIER_BATCHING=off), which the load test compares.
The split keeps a failing or slow model from taking the HTTP front down: an error there becomes a 500 for that
request; the worker keeps serving. Health (/healthz, /readyz, /livez) and /metrics are BentoML's own.
"""

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import bentoml
from pydantic import BaseModel

from src.capstone.prediction_log import PredictionLog
from src.production.http_guards import (
    BearerKeyAuth,
    BodySizeLimit,
    api_key_from_env,
    exposure_warning,
    listening_host,
)
from src.production.issue_request import InvalidRequest, validate_batch, validate_issue
from src.production.predict import predict_issues
from src.production.serving_config import load_serving_config

CONFIG = load_serving_config()
API_KEY = api_key_from_env(CONFIG.api_key_env)  # a ValueError here stops `bentoml serve` before it listens
MODEL_CALL_ATTEMPTS = 3
logger = logging.getLogger("bentoml.issue_classifier")

PREDICTIONS = bentoml.metrics.Counter(
    name="issue_classifier_predictions",
    documentation="Issues classified, by predicted label and model version",
    labelnames=["label", "model_version"],
)
MODEL_CALL_RETRIES = bentoml.metrics.Counter(
    name="issue_classifier_model_call_retries",
    documentation="Calls to the model service retried after its connection dropped",
)


def dropped_connection(error: Exception) -> bool:
    """Did the call fail because the connection to the model service went away (worth one more try)?"""
    if isinstance(error, aiohttp.ClientConnectionError):
        return True
    return isinstance(error, RuntimeError) and str(error) == "Connection closed."


class Issue(BaseModel):
    title: str
    body: str


@bentoml.service(name="issue_classifier_model", workers=CONFIG.workers, traffic={"timeout": 120})
class IssueClassifierModel:
    bento_model = bentoml.models.BentoModel(CONFIG.model_tag())

    def __init__(self):
        self.model = bentoml.mlflow.load_model(self.bento_model)
        self.version = self.bento_model.info.labels.get("registry_version", "unknown")

    def _predict(self, issues: list[Issue]) -> list[dict]:
        return predict_issues(self.model, [issue.model_dump() for issue in issues], self.version)

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


@bentoml.service(name="issue_classifier", traffic={"timeout": 120})
class IssueClassifierService:
    model = bentoml.depends(IssueClassifierModel)

    def __init__(self):
        host = listening_host()
        warning = exposure_warning(host, API_KEY, CONFIG.api_key_env)
        if warning:
            logger.warning(warning)
        else:
            logger.info("listening on %s, API key %s", host, "required" if API_KEY else "off")
        log = CONFIG.prediction_log
        self.log = PredictionLog(CONFIG.log_folder(), max_bytes=log.max_bytes, backups=log.backups)
        self.batching = CONFIG.batching_enabled()

    async def _classify(self, issues: list[dict]) -> list[dict]:
        """Ask the model, then log and count every prediction."""
        predict = self.model.to_async.predict_batched if self.batching else self.model.to_async.predict
        for attempt in range(MODEL_CALL_ATTEMPTS):
            try:
                results = await predict(issues)
                break
            except (aiohttp.ClientConnectionError, RuntimeError) as error:
                # Measured (make loadtest, BentoML 1.4.40): under load the model service's socket sometimes
                # drops a pooled keep-alive connection: ServerDisconnectedError, or, when it drops while the
                # answer is being read, aiohttp's RuntimeError("Connection closed.") (seen once in the test
                # suite's 32-client burst). A prediction has no side effects, so asking again on a fresh
                # connection is safe; only the last failure is a 500.
                if not dropped_connection(error) or attempt == MODEL_CALL_ATTEMPTS - 1:
                    raise
                MODEL_CALL_RETRIES.inc()
        now, request_id = datetime.now(UTC).isoformat(timespec="milliseconds"), uuid.uuid4().hex
        records = []
        for issue, result in zip(issues, results, strict=True):
            probabilities = {f"proba_{label}": p for label, p in result["probabilities"].items()}
            records.append(
                {
                    "timestamp": now,
                    "request_id": request_id,
                    "model_version": result["model_version"],
                    **issue,
                    "label": result["label"],
                    **probabilities,
                }
            )
            PREDICTIONS.labels(label=result["label"], model_version=result["model_version"]).inc()
        self.log.write(records)
        return results

    @bentoml.api(route="/classify")
    async def classify(self, ctx: bentoml.Context, title: Any = None, body: Any = None) -> dict:
        """Classify one issue: {"title": ..., "body": ...} -> label, probabilities, model_version."""
        try:
            issue = validate_issue({"title": title, "body": body}, CONFIG.max_text_bytes)
        except InvalidRequest as error:
            ctx.response.status_code = 422
            return {"error": str(error)}
        [result] = await self._classify([issue])
        return result

    @bentoml.api(route="/classify_batch")
    async def classify_batch(self, ctx: bentoml.Context, issues: Any = None) -> dict:
        """Classify several issues: {"issues": [{"title": ..., "body": ...}, ...]} -> {"predictions": [...]}."""
        try:
            valid = validate_batch(issues, CONFIG.max_text_bytes, CONFIG.max_batch_items)
        except InvalidRequest as error:
            ctx.response.status_code = 422
            return {"error": str(error)}
        return {"predictions": await self._classify(valid)}


# Outermost first: the key is checked before the size, so an unauthenticated client learns nothing.
IssueClassifierService.add_asgi_middleware(BodySizeLimit, max_bytes=CONFIG.max_body_bytes)
IssueClassifierService.add_asgi_middleware(BearerKeyAuth, api_key=API_KEY, key_env=CONFIG.api_key_env)
