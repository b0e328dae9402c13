"""A local HTTP server that fails on purpose, to test what calls it (circuit breaker, retries, timeouts).

It listens on 127.0.0.1 only. `mode` decides every answer and can be changed while it runs:
    ok       200 {"ok": true}
    error    500
    slow     sleeps `delay` seconds, then 200 (a client with a shorter timeout sees a timeout)
GET and POST answer alike (a POST's body is read and ignored); `answer`, when given, is the JSON a 200 sends
(e.g. an OpenAI-style chat completion, for the HyDE client). Requests are counted, so a test can see that an
open breaker stopped the calls from arriving.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultServer:
    def __init__(self, mode: str = "ok", delay: float = 1.0, answer: dict | None = None):
        self.mode, self.delay, self.requests, self.answer = mode, delay, 0, answer
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                outer.requests += 1
                mode = outer.mode
                if mode == "slow":
                    time.sleep(outer.delay)
                status = 500 if mode == "error" else 200
                answer = outer.answer if status == 200 and outer.answer is not None else None
                body = json.dumps(answer or {"ok": status == 200, "mode": mode}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): that is the point of "slow"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FaultServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def get(url: str, timeout: float) -> dict:
    """GET a JSON answer; an HTTP error status or a timeout raises (what the breaker counts as failure)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())
