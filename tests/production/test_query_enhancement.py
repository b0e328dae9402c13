"""HyDE: offline by default (a sensible passage for the roadmap's call), an OpenAI-compatible endpoint when
configured, tested against a fake server on 127.0.0.1 that checks the request and never sees the key logged."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from src.production.query_enhancement import (
    PROMPT,
    GeneratorError,
    HyDEGenerator,
    OpenAICompatibleGenerator,
    TemplateGenerator,
    declarative_opening,
)


@pytest.fixture
def fake_llm():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if body["model"] == "broken":
                self.send_response(500)
                self.end_headers()
                return
            answer = {"choices": [{"message": {"content": " Mars has no capital; Olympus Mons is its landmark. "}}]}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", seen
    server.shutdown()
    server.server_close()


def test_roadmap_call_works_offline(monkeypatch):
    monkeypatch.delenv("RAG_LLM_URL", raising=False)
    passage = HyDEGenerator().generate("What is the capital of Mars?")
    assert passage.startswith("The capital of Mars is") and len(passage.split()) >= 10
    assert declarative_opening("Who was Marie Curie?") == "Marie Curie was"
    assert declarative_opening("Aspirin lowers fever.") == "Aspirin lowers fever."


def test_corpus_generator_appends_matching_sentences():
    corpus = ["Mars is the fourth planet. Its largest volcano is Olympus Mons.", "Insulin regulates glucose."]
    passage = TemplateGenerator(corpus, sentences=1).complete("Question: What is the largest volcano?\nPassage:")
    assert "Olympus Mons" in passage


def test_endpoint_from_environment(fake_llm, monkeypatch):
    url, seen = fake_llm
    monkeypatch.setenv("RAG_LLM_URL", url)
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("RAG_LLM_MODEL", "tiny")
    hyde = HyDEGenerator()
    assert hyde.generate("What is the capital of Mars?") == "Mars has no capital; Olympus Mons is its landmark."
    assert seen[0]["path"] == "/v1/chat/completions" and seen[0]["auth"] == "Bearer sk-secret"
    assert seen[0]["body"]["model"] == "tiny" and "capital of Mars" in seen[0]["body"]["messages"][0]["content"]
    assert "sk-secret" not in repr(hyde.generator)


def test_endpoint_failure_is_a_clear_error_without_the_key(fake_llm):
    url, _ = fake_llm
    generator = OpenAICompatibleGenerator(url, api_key="sk-secret", model="broken")
    with pytest.raises(GeneratorError, match="generation endpoint") as err:
        generator.complete("anything?")
    assert "sk-secret" not in str(err.value)
    hyde = HyDEGenerator(generator)  # HyDE itself falls back to the offline generator, and says why
    assert hyde.generate("anything?") == TemplateGenerator().complete(PROMPT.format(query="anything?"))
    assert "generation endpoint" in hyde.last_fallback and "sk-secret" not in hyde.last_fallback
    with pytest.raises(ValueError, match="non-empty"):
        HyDEGenerator(generator).generate("   ")


def test_hyde_endpoint_behind_a_breaker_falls_back_offline_and_recovers():
    """Against the fault-injecting server: errors and timeouts fall back to the offline generator (and say so),
    the open breaker stops the calls from reaching the endpoint, and a trial call after the reset closes it."""
    from src.production.circuit_breaker import CLOSED, OPEN
    from src.production.fault_server import FaultServer

    completion = {"choices": [{"message": {"content": "Remote passage about Mars."}}]}
    with FaultServer(mode="error", delay=1.0, answer=completion) as server:
        generator = OpenAICompatibleGenerator(server.url, model="m", timeout=0.2)
        hyde = HyDEGenerator(generator, breaker_failures=2, breaker_reset_s=60)
        now = [0.0]
        hyde.breaker.clock = lambda: now[0]
        offline = TemplateGenerator().complete("Question: What is the capital of Mars?\nPassage:")

        assert hyde.generate("What is the capital of Mars?") == offline  # a 500: fallback
        assert "HTTPError" in hyde.last_fallback and "offline generator" in hyde.last_fallback
        server.mode = "slow"  # the second failure is a timeout, and trips the breaker
        assert hyde.generate("What is the capital of Mars?") == offline
        assert hyde.breaker.state == OPEN and "opened after 2" in hyde.last_fallback
        calls = server.requests
        for _ in range(5):  # open: no call reaches the endpoint, no waiting on its timeout
            assert hyde.generate("What is the capital of Mars?") == offline
            assert "failing fast" in hyde.last_fallback
        assert server.requests == calls

        server.mode = "ok"
        now[0] = 61.0  # past the reset timeout: one trial call, which succeeds
        assert hyde.generate("What is the capital of Mars?") == "Remote passage about Mars."
        assert hyde.breaker.state == CLOSED and hyde.last_fallback is None
        assert server.requests == calls + 1
