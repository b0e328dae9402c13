"""Two ASGI middlewares in front of the service's routes: an optional bearer API key and a body size limit.

They run before BentoML reads the body, so a request without the key, or a multi-gigabyte upload, is turned
away without parsing anything. Health and metrics routes stay open: a load balancer or Prometheus probes them
without credentials.
"""

import hmac
import json

OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})


async def _send_json(send, status: int, payload: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BearerKeyAuth:
    """When `api_key` is set, every request outside OPEN_PATHS needs `Authorization: Bearer <api_key>`, else 401.
    The comparison takes constant time (hmac.compare_digest), and neither the expected nor the sent key is
    ever logged or echoed back."""

    def __init__(self, app, api_key: str | None, key_env: str):
        self.app, self.key_env = app, key_env
        self.expected = f"Bearer {api_key}".encode() if api_key else None

    async def __call__(self, scope, receive, send):
        if self.expected is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        sent = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(sent, self.expected):
            return await self.app(scope, receive, send)
        message = (
            "missing or wrong API key: send the header 'Authorization: Bearer <key>' "
            f"(the server reads the key from {self.key_env})"
        )
        await _send_json(send, 401, {"error": message}, [(b"www-authenticate", b"Bearer")])


class BodySizeLimit:
    """Refuse a request whose Content-Length exceeds max_bytes with 413, before its body is read."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > self.max_bytes:
                size = length.decode(errors="replace")
                message = f"request body of {size} bytes is over the limit of {self.max_bytes} bytes"
                return await _send_json(send, 413, {"error": message})
        return await self.app(scope, receive, send)
