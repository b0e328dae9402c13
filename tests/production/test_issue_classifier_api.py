"""The packaged service over real HTTP: `python -m pipelines.package` on the tiny champion, then `bentoml serve`
of the Bento it built, on a free 127.0.0.1 port. Good requests, every bad input, a burst, auth on and off."""

import http.client
import json
import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from src.capstone.prediction_log import read_prediction_log
from src.production.serving_config import load_serving_config
from tests.production.conftest import serve_bento

pytestmark = pytest.mark.slow
API_KEY = "test-key-5f2b9c0e-not-a-real-secret"


def post(url, path, payload=None, data=None, headers=None):
    response = requests.post(f"{url}{path}", json=payload, data=data, headers=headers, timeout=60)
    return response.status_code, response.json()


def raw_post(url, path, body: bytes, chunked: bool, chunk_bytes: int = 2**20, timeout: float = 60):
    """POST `body` over a plain socket, as Content-Length or as a chunked upload, reading the answer as soon as
    one comes, even mid-upload (a server that refuses early answers before the client is done). Returns
    (status or None when the connection was reset first, the answer's JSON or None, body bytes sent)."""
    parts = urlsplit(url)
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
    head = b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s\r\n\r\n" % (
        path.encode(),
        parts.netloc.encode(),
        framing,
    )
    pieces = [body[i : i + chunk_bytes] for i in range(0, len(body), chunk_bytes)]
    frames = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"] if chunked else pieces
    sent, deadline = 0, time.monotonic() + timeout
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head)
        pending = memoryview(b"".join(frames))
        while pending and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            if readable:
                break  # the server answered (or closed) before the upload ended
            if writable:
                try:
                    count = sock.send(pending[: 2**16])
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent, pending = sent + count, pending[count:]
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
            answer = response.read()
        except (ConnectionResetError, http.client.RemoteDisconnected):
            return None, None, sent
        return response.status, json.loads(answer) if answer else None, sent


def check_body_size_limit(url):
    """At exactly the limit a valid issue (padded with JSON whitespace) is served; one byte more is refused with
    413, declared (Content-Length) or streamed (chunked). A large chunked upload is cut off: the server answers
    413 and closes long before the client has sent it all."""
    limit = load_serving_config().max_body_bytes
    issue = json.dumps({"title": "Crash on start", "body": "Traceback (most recent call last)"}).encode()
    exact = issue + b" " * (limit - len(issue))
    for chunked in (False, True):
        status, answer, _ = raw_post(url, "/classify", exact, chunked)
        assert status == 200 and "label" in answer, (chunked, status, answer)
        status, answer, _ = raw_post(url, "/classify", exact + b" ", chunked)
        assert status == 413 and f"over the limit of {limit} bytes" in answer["error"], (chunked, status, answer)
    huge = b"x" * (5 * limit)
    status, answer, sent = raw_post(url, "/classify_batch", huge, chunked=True, chunk_bytes=2**16)
    assert status == 413 and f"over the limit of {limit} bytes" in answer["error"], (status, answer)
    assert sent < 3 * limit, f"the client pushed {sent} of {len(huge)} bytes before the server refused"


def check_package_stage(packaged):
    bento = packaged["bento"]
    assert bento["registry_version"] == packaged["version"]
    assert bento["bento_tag"].startswith("issue-classifier-service:")
    assert bento["model_tag"].startswith("issue-classifier:")
    assert bento["bento_bytes"] > 0 and bento["model_bytes"] > bento["bento_bytes"]  # the model is the bulk
    metrics = json.loads((packaged["reports"] / "metrics.json").read_text())
    assert metrics["bento"]["registry_version"] == float(packaged["version"])


def check_good_requests(url, issue_sample, version):
    status, single = post(url, "/classify", {"title": "App crashes on start", "body": "Traceback (most recent call)"})
    assert status == 200, single
    assert single["label"] in single["probabilities"] and single["model_version"] == version
    assert single["arm"] == "champion" and single["prediction_id"]  # no challenger, no REDIS_URL: the champion
    ready = requests.get(f"{url}/readyz", timeout=10).json()
    assert (
        not ready["ab_routing_ok"]
        and "REDIS_URL unset" in ready["ab_routing"]
        and ready["arms"] == {"champion": version}
        and ready["model_breaker"] == "closed"
    )
    assert "features" not in single  # online features are off by default
    status, answer = post(url, "/feedback", {"prediction_id": single["prediction_id"], "label": "bug"})
    assert status == 503 and "set REDIS_URL" in answer["error"]
    assert abs(sum(single["probabilities"].values()) - 1) < 1e-6
    issues = issue_sample[["title", "body"]].head(5).to_dict("records")
    status, batch = post(url, "/classify_batch", {"issues": issues})
    assert status == 200 and len(batch["predictions"]) == 5
    one_by_one = [post(url, "/classify", issue)[1] for issue in issues]
    assert [p["label"] for p in batch["predictions"]] == [p["label"] for p in one_by_one]  # same model, same answer


def check_bad_requests(url):
    bad = [
        ({"title": "", "body": "   "}, "title and body are both empty"),
        ({"title": 12, "body": "x"}, "title must be a string"),
        ({"title": "x" * 65537}, "over the limit of 65536 bytes"),
    ]
    for payload, message in bad:
        status, answer = post(url, "/classify", payload)
        assert status == 422 and message in answer["error"], (payload, answer)
    status, answer = post(url, "/classify_batch", {"issues": [{"title": "ok"}, {"body": None}]})
    assert status == 422 and "issues[1]: title and body are both empty" in answer["error"]
    status, answer = post(url, "/classify", data='{"title": "unclosed', headers={"Content-Type": "application/json"})
    assert status == 400 and "Invalid JSON" in json.dumps(answer)
    huge = requests.post(f"{url}/classify_batch", data=b"x" * (64 * 65536 * 2 + 1), timeout=60)
    assert huge.status_code == 413  # refused before the body is parsed


def test_package_stage_then_the_served_bento_answers_refuses_bad_input_and_survives_a_burst(packaged, issue_sample):
    check_package_stage(packaged)  # (one test: packaging and serving the tiny champion costs ~30 s)
    server, log_path = serve_bento(packaged)
    with server as url:
        check_good_requests(url, issue_sample, packaged["version"])
        check_bad_requests(url)
        check_body_size_limit(url)

        texts = issue_sample[["title", "body"]].to_dict("records")  # 120 issues from 32 concurrent clients
        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(lambda issue: post(url, "/classify", issue), texts))
        assert [status for status, _ in answers] == [200] * len(texts)

        for path in ("/healthz", "/readyz", "/livez"):
            assert requests.get(f"{url}{path}", timeout=10).status_code == 200  # still healthy after all that
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("issue_classifier_predictions_total{")
        )
        retries = "issue_classifier_model_call_retries_total"
        retried = [line for line in metrics.splitlines() if line.startswith(retries)]
    # Over 100 model calls, 32 at a time: BentoML's default pool rotation (every 100 requests) would have dropped
    # the calls in flight and the front would have retried them (MODEL_CONNECTION in the service turns it off).
    assert retried and all(float(line.rsplit(" ", 1)[1]) == 0 for line in retried), retried
    logged = read_prediction_log(packaged["env"]["ISSUE_CLASSIFIER_LOG_DIR"])
    expected = 1 + 5 + 5 + 2 + len(texts)  # single, batch, one-by-one, two at the size limit, burst; refused ones
    # are not predictions
    assert counted == expected and len(logged) == expected
    assert {"timestamp", "request_id", "model_version", "title", "body", "label", "proba_bug"} <= set(logged.columns)
    server_log = log_path.read_text(errors="replace")
    assert "status=500" not in server_log  # no request failed inside the server
    assert "listening on 127.0.0.1, API key off" in server_log and "WITHOUT an API key" not in server_log


def test_an_empty_api_key_stops_the_server_at_start(packaged):
    server, log_path = serve_bento(packaged, {"ISSUE_CLASSIFIER_API_KEY": ""})
    with pytest.raises(RuntimeError, match="exited with status"), server:
        pass  # never reached: the server must not come up with auth silently off
    assert "ISSUE_CLASSIFIER_API_KEY is set but empty" in log_path.read_text(errors="replace")


def test_api_key_is_required_when_set_and_never_logged(packaged):
    server, log_path = serve_bento(packaged, {"ISSUE_CLASSIFIER_API_KEY": API_KEY})
    issue = {"title": "Add a dark mode", "body": "It would be nice"}
    with server as url:
        assert post(url, "/classify", issue)[0] == 401
        status, answer = post(url, "/classify", issue, headers={"Authorization": "Bearer wrong"})
        assert status == 401 and "ISSUE_CLASSIFIER_API_KEY" in answer["error"] and API_KEY not in json.dumps(answer)
        assert post(url, "/classify", issue, headers={"Authorization": f"Bearer {API_KEY}"})[0] == 200
        over_limit = b"x" * (load_serving_config().max_body_bytes + 1)
        for chunked in (False, True):  # the key comes first: no body of a stranger's is read, even to size it
            status, answer, _ = raw_post(url, "/classify", over_limit, chunked)
            assert status == 401 and "ISSUE_CLASSIFIER_API_KEY" in answer["error"], (chunked, status, answer)
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200  # probes need no key
    server_log = log_path.read_text(errors="replace")
    assert API_KEY not in server_log and "listening on 127.0.0.1, API key required" in server_log
    log_folder = packaged["env"]["ISSUE_CLASSIFIER_LOG_DIR"]
    assert all(API_KEY not in path.read_text() for path in Path(log_folder).iterdir())


def test_only_a_dropped_model_connection_is_retried():
    import aiohttp

    from src.production.issue_classifier_api import dropped_connection

    assert dropped_connection(aiohttp.ServerDisconnectedError())
    assert dropped_connection(RuntimeError("Connection closed."))  # aiohttp, when it drops mid-answer
    assert not dropped_connection(RuntimeError("the model raised"))
    assert not dropped_connection(ValueError("Connection closed."))


def test_a_failing_model_service_opens_the_breaker_and_requests_get_503_at_once():
    import asyncio

    from src.production.circuit_breaker import OPEN, CircuitBreaker, CircuitOpenError
    from src.production.issue_classifier_api import model_unavailable, predict_with_retries

    calls = []

    async def failing_model(issues):
        calls.append(len(issues))
        raise RuntimeError("the model raised")  # not a dropped connection: no retry

    breaker = CircuitBreaker(2, 30, name="model service")
    issue = [{"title": "t", "body": "b", "arm": "champion"}]

    async def call():
        return await breaker.call_async(predict_with_retries, failing_model, issue)

    with pytest.raises(RuntimeError, match="the model raised"):
        asyncio.run(call())  # failure 1: the model's own error (a 500)
    with pytest.raises(CircuitOpenError, match="opened after 2"):
        asyncio.run(call())  # failure 2 trips the breaker
    assert breaker.state == OPEN and len(calls) == 2
    with pytest.raises(CircuitOpenError, match="failing fast") as refused:
        asyncio.run(call())  # open: the model service is not called
    assert len(calls) == 2
    body, headers = model_unavailable(refused.value, breaker)
    assert body["error"].startswith("model service unavailable") and 1 <= int(headers["Retry-After"]) <= 30


def test_dropped_connections_are_retried_inside_one_breaker_call():
    import asyncio

    import aiohttp

    from src.production.circuit_breaker import CLOSED, CircuitBreaker
    from src.production.issue_classifier_api import predict_with_retries

    answers = [aiohttp.ServerDisconnectedError(), [{"label": "bug"}]]

    async def flaky_model(issues):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    breaker = CircuitBreaker(1, 30)
    result = asyncio.run(breaker.call_async(predict_with_retries, flaky_model, [{}]))
    assert result == [{"label": "bug"}] and breaker.state == CLOSED and breaker.failures == 0
