"""/readyz with a detail: BentoML's answer (200 when this service and the model service are up, else 503), its
body replaced by a JSON object saying how A/B routing stands.

A Redis outage does not make the service unready: requests still get answers, from the champion. Taking the
instance out of a load balancer for it would turn a degraded A/B test into an outage, so /readyz stays 200 and
says so in its body ({"status": "ready", "ab_routing": "...", "ab_routing_ok": false}).
"""

import json
from collections.abc import Callable

import anyio


class ReadinessDetail:
    """ASGI middleware: on `path`, run the app, and when it answers 200 send `detail()` (a dict, computed in a
    thread: it may wait on Redis for its socket timeout) as the JSON body instead."""

    def __init__(self, app, detail: Callable[[], dict], path: str = "/readyz"):
        self.app, self.detail, self.path = app, detail, path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        messages = []

        async def keep(message):
            messages.append(message)

        await self.app(scope, receive, keep)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is None or start["status"] != 200:
            for message in messages:
                await send(message)
            return
        body = json.dumps({"status": "ready", **await anyio.to_thread.run_sync(self.detail)}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
