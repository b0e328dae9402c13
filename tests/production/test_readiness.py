"""/readyz's detail: BentoML's 200 gets a JSON body saying how A/B routing stands; a 503 passes unchanged."""

import asyncio
import json

from src.production.readiness import ReadinessDetail


def call(middleware, path="/readyz"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware({"type": "http", "path": path, "headers": []}, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def app_answering(status):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"\n"})

    return app


def test_ready_gets_the_routing_detail_and_unready_passes_through():
    detail = {"ab_routing": "A/B routing: Redis unreachable", "ab_routing_ok": False}
    status, body = call(ReadinessDetail(app_answering(200), lambda: detail))
    assert status == 200 and json.loads(body) == {"status": "ready", **detail}
    assert call(ReadinessDetail(app_answering(503), lambda: detail)) == (503, b"\n")
    assert call(ReadinessDetail(app_answering(200), lambda: detail), path="/classify") == (200, b"\n")
