"""What the test servers share: 127.0.0.1 on a free port, a request log, a thread.

``tests/webserver.py`` (the fixture news site) and ``tests/hostile_server.py``
(raw sockets for every bad case) each define their handler and routes; the
server plumbing is this.
"""

from __future__ import annotations

import threading
from typing import Any


class LoggingServer:
    """Mixin before a ``socketserver`` server class: binds 127.0.0.1 on a free
    port and keeps every request's log entry, thread-safely."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)  # type: ignore[call-arg]
        self.base = f"http://127.0.0.1:{self.server_address[1]}"  # type: ignore[attr-defined]
        self.log: list[Any] = []
        self._lock = threading.Lock()

    def record(self, entry: Any) -> None:
        with self._lock:
            self.log.append(entry)


class Background:
    """``with Server() as server: server.url("/path")``: serves on a daemon thread."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return self._server.base

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return self._server.base + path

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
