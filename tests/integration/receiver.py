"""A real HTTP receiver for webhooks: the standard library's server in a thread, on a real
port, that records every request and answers what the test tells it to."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int
    at: float  # monotonic arrival time


@dataclass
class Receiver:
    port: int
    status: int = 204
    # Seconds to wait before answering (a slow receiver).
    delay_s: float = 0.0
    # Answer the status, then send a body of this many bytes, one every ``trickle_s`` seconds
    # (a receiver that keeps each read alive but never finishes).
    trickle_bytes: int = 0
    trickle_s: float = 0.2
    requests: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/relais"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                status = receiver.status
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                             status, time.monotonic())
                )  # fmt: skip
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                self.send_response(status)
                self.send_header("content-length", str(receiver.trickle_bytes))
                self.end_headers()
                try:
                    for _ in range(receiver.trickle_bytes):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(receiver.trickle_s)
                except OSError:
                    pass  # the sender gave up and closed the connection

            def log_message(self, format: str, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def delivered(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]
