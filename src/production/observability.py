"""What the service tells about itself: Prometheus metrics, OpenTelemetry spans to a file, JSON log lines.

Metrics (served on /metrics with BentoML's own; Prometheus multiprocess mode, so every worker counts):
    issue_classifier_request_seconds{route, model_version, status}   latency histogram per route and version
    issue_classifier_ab_requests_total{arm, model_version}           issues each arm answered
    issue_classifier_ab_feedback_total{arm, model_version}           true labels received per arm ...
    issue_classifier_ab_rewards_total{arm, model_version}            ... and how many said the answer was right
    issue_classifier_ab_fallbacks_total                              issues sent to the champion: Redis unusable

Spans: BentoML wraps each HTTP request in an OpenTelemetry server span; the service adds `validation`, `model`
and `log` under it. BentoML 1.4.40's tracing config offers only zipkin / jaeger / otlp exporters (and an
undocumented in_memory one), all of which need a collector; offline we keep BentoML's sampling config
(`@bentoml.service(tracing={"sample_rate": ...})`) and add a processor of our own to the tracer provider
BentoML builds, writing each finished span as one JSON line (opentelemetry's ConsoleSpanExporter with a file).
That provider is reached through BentoML's container (an internal API): the price of not running a collector.

Log lines: one JSON object per request on stdout (logger `issue_classifier.requests`, its own handler so the
line is pure JSON, not wrapped in BentoML's format), carrying the request id and the trace id.
"""

import json
import logging
import sys
from datetime import UTC, datetime

import bentoml

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

PREDICTIONS = bentoml.metrics.Counter(
    name="issue_classifier_predictions",
    documentation="Issues classified, by predicted label and model version",
    labelnames=["label", "model_version"],
)
MODEL_CALL_RETRIES = bentoml.metrics.Counter(
    name="issue_classifier_model_call_retries",
    documentation="Calls to the model service retried after its connection dropped",
)
REQUEST_SECONDS = bentoml.metrics.Histogram(
    name="issue_classifier_request_seconds",
    documentation="Request latency in seconds, by route, model version that answered, and HTTP status",
    labelnames=["route", "model_version", "status"],
    buckets=LATENCY_BUCKETS,
)
AB_REQUESTS = bentoml.metrics.Counter(
    name="issue_classifier_ab_requests",
    documentation="Issues answered by each A/B arm",
    labelnames=["arm", "model_version"],
)
AB_FEEDBACK = bentoml.metrics.Counter(
    name="issue_classifier_ab_feedback",
    documentation="True labels received for each arm's predictions",
    labelnames=["arm", "model_version"],
)
AB_REWARDS = bentoml.metrics.Counter(
    name="issue_classifier_ab_rewards",
    documentation="Feedback that said the arm's prediction was right (reward 1)",
    labelnames=["arm", "model_version"],
)
AB_FALLBACKS = bentoml.metrics.Counter(
    name="issue_classifier_ab_fallbacks",
    documentation="Issues sent to the champion because the A/B posterior in Redis could not be read",
)


def span_to_json_line(span) -> str:
    """One finished span as a JSON line: the fields of opentelemetry's ReadableSpan.to_json that differ between
    spans (ids, parent, kind, times in ns since the epoch, status, attributes, events), without the `resource`
    block, which is the same for every span of a process. Serialising that block was most of to_json's cost:
    60 us a span against 14 us for this line, i.e. ~0.2 ms of the front's CPU per request at 5 spans."""
    context = span.context
    record = {
        "name": span.name,
        "context": {"trace_id": f"0x{context.trace_id:032x}", "span_id": f"0x{context.span_id:016x}"},
        "kind": str(span.kind),
        "parent_id": f"0x{span.parent.span_id:016x}" if span.parent else None,
        "start_time": span.start_time,
        "end_time": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }
    if span.events:
        record["events"] = [
            {"name": event.name, "time": event.timestamp, **dict(event.attributes or {})} for event in span.events
        ]
    return json.dumps(record, default=str) + "\n"


class RotatingLines:
    """A file-like `out` for ConsoleSpanExporter that appends lines through logging's RotatingFileHandler, so
    the trace file rotates like the prediction log instead of filling the disk (at a sample rate of 1 a request
    writes ~5 spans, ~5 KB). With several workers on one file, rotation may race; one worker is the default."""

    def __init__(self, path: str, max_bytes: int, backups: int):
        from logging.handlers import RotatingFileHandler

        self.handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(message)s"))

    def write(self, text: str) -> None:
        self.handler.emit(logging.makeLogRecord({"msg": text.rstrip("\n"), "levelno": logging.INFO}))

    def flush(self) -> None:
        self.handler.flush()


def file_tracer(path: str, max_bytes: int, backups: int):
    """A tracer on BentoML's tracer provider whose finished spans (BentoML's and ours) are appended to `path` as
    JSON lines, rotated at `max_bytes`. SimpleSpanProcessor writes on the request's path (a line per span,
    microseconds); BatchSpanProcessor would move that to a thread but leave the last spans unwritten for up to
    5 s."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = BentoMLContainer.tracer_provider.get()
    out = RotatingLines(path, max_bytes, backups)
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out, formatter=span_to_json_line)))
    return provider.get_tracer("issue_classifier")


def trace_id() -> str:
    """The current span's trace id (32 hex digits), or "" outside a sampled trace."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def request_logger() -> logging.Logger:
    logger = logging.getLogger("issue_classifier.requests")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # BentoML's root handlers would print it a second time, in their format
    return logger


def log_request(logger: logging.Logger, **fields) -> None:
    """One JSON line: time, the trace id, then `fields` (route, request_id, status, arms, latency_ms, ...)."""
    record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "trace_id": trace_id(), **fields}
    logger.info(json.dumps(record, ensure_ascii=False))
