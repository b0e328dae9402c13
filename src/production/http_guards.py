"""Two ASGI middlewares in front of the service's routes: an optional bearer API key and a body size limit; and
the start-up checks of the key and of the address the service listens on.

The middlewares run before BentoML reads the body, so a request without the key, or a multi-gigabyte upload
(declared or chunked), is turned away without parsing anything. Health and metrics routes stay open: a load
balancer or Prometheus probes them without credentials.

The key comes from an environment variable. Unset means no key (fine on 127.0.0.1, `make serve`); set but empty
or blank is refused at start (an unfilled secret must not silently turn auth off); serving on an address other
than loopback without a key logs a warning at start (the Docker image listens on 0.0.0.0).
"""

import contextlib
import hmac
import ipaddress
import json
import os
import socket
import sys

OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
CLOSE = [(b"connection", b"close")]  # after a refusal: the client must not keep sending the rest of its body


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


def api_key_from_env(name: str, environ=os.environ) -> str | None:
    """The key clients must send, from the environment variable `name`; None when it is unset (no auth).
    Raises ValueError, naming the variable but never echoing its value, when it is set but blank or has
    surrounding whitespace (a newline from a secrets file): a client could never send such a key."""
    key = environ.get(name)
    if key is None:
        return None
    if not key.strip():
        raise ValueError(
            f"{name} is set but empty: set it to the key clients must send (Authorization: Bearer <key>), "
            f"or unset it to serve without a key (only on 127.0.0.1)"
        )
    if key != key.strip():
        raise ValueError(f"{name} has leading or trailing whitespace (a newline from a file?): strip it")
    return key


def listening_host(argv: list[str] = sys.argv) -> str | None:
    """The address this BentoML API worker listens on. The arbiter binds the socket and hands each worker its file
    descriptor as `--fd N`; None when there is no such argument (not a worker) or the descriptor is not a socket.
    A unix socket counts as local: its "host" is its path."""
    fd = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--fd"), None)
    fd = fd or next((arg.removeprefix("--fd=") for arg in argv if arg.startswith("--fd=")), None)
    if fd is None or not fd.isdigit():
        return None
    with contextlib.suppress(OSError):
        with socket.socket(fileno=os.dup(int(fd))) as sock:  # a duplicate: closing it leaves the worker's open
            address = sock.getsockname()
            return address if isinstance(address, str) else address[0]
    return None


def exposure_warning(host: str | None, api_key: str | None, key_env: str) -> str | None:
    """The warning to log when the service answers on a non-loopback address without a key, else None."""
    if api_key is not None or host is None or host.startswith("/"):
        return None
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return None
    return (
        f"serving on {host} WITHOUT an API key: anyone who can reach this address can use the service. "
        f"Set {key_env} to require 'Authorization: Bearer <key>', or listen on 127.0.0.1"
    )


class BearerKeyAuth:
    """When `api_key` is set, every request outside OPEN_PATHS needs `Authorization: Bearer <api_key>`, else 401.
    The comparison takes constant time (hmac.compare_digest), and neither the expected nor the sent key is
    ever logged or echoed back."""

    def __init__(self, app, api_key: str | None, key_env: str):
        self.app, self.key_env = app, key_env
        self.expected = f"Bearer {api_key}".encode() if api_key is not None else None  # "" fails closed

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
    """Refuse a request whose body is over `max_bytes` with 413 (and close the connection), the app never
    called.

    A declared Content-Length over the limit is refused before a byte is read. Without one (a chunked upload),
    the body is read here as it streams, counting bytes, and refused at the first message that crosses the
    limit: at most max_bytes plus one message is ever read. A body within the limit goes to the app whole, as
    one message (the service parses JSON, which needs all of it anyway); later `receive` calls (a client
    disconnect) pass through."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _send_json(send, 400, {"error": "Content-Length is not a number of bytes"}, CLOSE)
            if int(declared) > self.max_bytes:
                return await self._refuse(send, f"request body of {int(declared)} bytes")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away mid-upload: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(send, "request body")
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        return await self.app(scope, replay, send)

    async def _refuse(self, send, what: str) -> None:
        message = f"{what} is over the limit of {self.max_bytes} bytes: split the batch or shorten the texts"
        await _send_json(send, 413, {"error": message}, CLOSE)
