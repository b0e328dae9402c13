"""The guards without a server: the body size limit at its boundary, declared (Content-Length) and streamed
(chunked, no Content-Length), and what it lets the app read; the API key and listening address checks at start.
The same over real HTTP: test_issue_classifier_api.py."""

import asyncio
import json
import socket

import pytest

from src.production.http_guards import BodySizeLimit, api_key_from_env, exposure_warning, listening_host

LIMIT = 100


def call(limit: int, body_chunks: list[bytes], content_length: int | None = None):
    """Send one POST through BodySizeLimit(app) and return (status, answer, what the app read, messages the guard
    took from the client)."""
    app_read, taken, sent = [], [], []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            app_read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})

    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(body_chunks) - 1}
        for i, chunk in enumerate(body_chunks)
    ]

    async def receive():
        message = messages[len(taken)] if len(taken) < len(messages) else {"type": "http.disconnect"}
        taken.append(message)
        return message

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {"type": "http", "method": "POST", "path": "/classify", "headers": headers}
    asyncio.run(BodySizeLimit(app, max_bytes=limit)(scope, receive, send))
    status = sent[0]["status"]
    answer = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    return status, answer, b"".join(app_read), taken, sent[0]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_passes_whole_to_the_app(declared):
    body = b"x" * LIMIT
    chunks = [body[:30], body[30:31], body[31:]]  # split as a chunked upload arrives
    status, answer, app_read, _, _ = call(LIMIT, chunks, LIMIT if declared else None)
    assert status == 200 and answer == {"ok": True} and app_read == body


def test_a_declared_body_one_byte_over_is_refused_before_anything_is_read():
    status, answer, app_read, taken, start = call(LIMIT, [b"x" * (LIMIT + 1)], LIMIT + 1)
    assert status == 413 and f"body of {LIMIT + 1} bytes is over the limit of {LIMIT} bytes" in answer["error"]
    assert app_read == b"" and taken == []  # not a byte read, by the guard or the app
    assert (b"connection", b"close") in start["headers"]  # the client can't keep pushing the rest


@pytest.mark.parametrize("sizes", [[LIMIT + 1], [60, 41], [LIMIT, 1], [60, 41, 500, 500]])
def test_a_chunked_body_one_byte_over_is_refused_and_the_app_never_runs(sizes):
    chunks = [b"x" * size for size in sizes]
    status, answer, app_read, taken, start = call(LIMIT, chunks)
    assert status == 413 and f"over the limit of {LIMIT} bytes" in answer["error"]
    assert app_read == b""  # the app never saw any of it
    over_at = next(i for i in range(len(sizes)) if sum(sizes[: i + 1]) > LIMIT)
    assert len(taken) == over_at + 1  # the guard stops reading at the chunk that crossed the limit
    assert (b"connection", b"close") in start["headers"]


@pytest.mark.parametrize("value", [b"-1", b"12a", b""])
def test_a_malformed_content_length_is_refused(value):
    async def app(scope, receive, send):
        raise AssertionError("the app must not run")

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/classify", "headers": [(b"content-length", value)]}
    asyncio.run(BodySizeLimit(app, max_bytes=LIMIT)(scope, None, send))
    assert sent[0]["status"] == 400


def test_the_app_still_hears_a_client_that_disconnects_after_its_body():
    heard = []

    async def app(scope, receive, send):
        heard.append(await receive())
        heard.append(await receive())  # e.g. a streaming response listening for a disconnect

    messages = iter([{"type": "http.request", "body": b"ab", "more_body": False}, {"type": "http.disconnect"}])

    async def receive():
        return next(messages)

    scope = {"type": "http", "method": "POST", "path": "/classify", "headers": []}
    asyncio.run(BodySizeLimit(app, max_bytes=LIMIT)(scope, receive, None))
    assert heard == [{"type": "http.request", "body": b"ab", "more_body": False}, {"type": "http.disconnect"}]


# -- the key and the address, checked at start ------------------------------------------------------------------
KEY_ENV = "ISSUE_CLASSIFIER_API_KEY"


def test_an_unset_key_means_no_auth_and_a_set_key_is_returned_as_is():
    assert api_key_from_env(KEY_ENV, {}) is None
    assert api_key_from_env(KEY_ENV, {KEY_ENV: "s3cret"}) == "s3cret"


@pytest.mark.parametrize("value", ["", "   ", "\n", "s3cret\n", " s3cret"])
def test_an_empty_blank_or_padded_key_is_refused_naming_the_variable_not_the_value(value):
    with pytest.raises(ValueError, match=KEY_ENV) as refused:
        api_key_from_env(KEY_ENV, {KEY_ENV: value})
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "localhost-is-not-an-ip"])
def test_serving_beyond_loopback_without_a_key_is_warned_about(host):
    warning = exposure_warning(host, None, KEY_ENV)
    assert warning and host in warning and KEY_ENV in warning
    assert exposure_warning(host, "s3cret", KEY_ENV) is None  # with a key it is a deployment, not an accident


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "/tmp/bentoml-uds/svc.sock", None])
def test_loopback_a_unix_socket_or_an_unknown_address_is_not_warned_about(host):
    assert exposure_warning(host, None, KEY_ENV) is None


def test_the_listening_address_is_read_from_the_socket_the_worker_was_handed():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        fd = str(listener.fileno())
        assert listening_host(["worker", "bento:tag", "--fd", fd, "--worker-id", "1"]) == "127.0.0.1"
        assert listening_host(["worker", f"--fd={fd}"]) == "127.0.0.1"
        assert listener.getsockname()[0] == "127.0.0.1"  # the worker's own descriptor is still open
    assert listening_host(["bentoml", "serve", "bento:tag"]) is None  # not a worker
    assert listening_host(["worker", "--fd", "999999"]) is None  # not an open descriptor
