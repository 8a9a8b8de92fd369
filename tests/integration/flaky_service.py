"""A real HTTP dependency for the tests: served on 127.0.0.1, goes down and comes back.

Down, it either answers ``503 Service Unavailable`` (a service behind a load balancer whose
backends are gone: every attempt reaches it and is counted) or refuses connections (the
host's port is closed: the listening socket is gone, and ``up()`` binds the same port
again). ``hits`` counts the requests it received, in either state.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Mode = Literal["up", "503", "refused"]


class FlakyService:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits = 0
        self.hits_down = 0
        self.mode: Mode = "up"
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self._serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                with service.lock:
                    service.hits += 1
                    down = service.mode != "up"
                    service.hits_down += down
                status = 503 if down else 200
                body = json.dumps({"ok": not down, "path": self.path}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)  # reuses the port
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()  # fmt: skip
        self._server = server

    def down(self, how: Mode = "503") -> None:
        with self.lock:
            self.mode = how
        if how == "refused" and self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def up(self) -> None:
        if self._server is None:
            self._serve()
        with self.lock:
            self.mode = "up"

    def up_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.up)
        timer.daemon = True
        timer.start()
        return timer

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def flaky_service() -> Iterator[FlakyService]:
    service = FlakyService()
    try:
        yield service
    finally:
        service.close()
