"""A small threaded HTTP server for the web end-to-end tests.

Serves the fixture news site under ``tests/site/`` on 127.0.0.1 (``{{BASE}}``
in text files becomes the server's own base URL; ``X.gz`` is ``X`` gzipped at
request time), plus routes for every bad case a crawler meets. Every request
is logged (method, path with query, User-Agent) so tests can assert what was
and was not requested. Nagle's algorithm is off (PERF-NOTES: 40 ms a
response otherwise).
"""

from __future__ import annotations

import gzip
import random
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.serving import Background, LoggingServer

SITE = Path(__file__).resolve().parent / "site"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}
TEXT_SUFFIXES = (".html", ".xml", ".rss", ".json", ".txt", "")

#: seconds /bad/slow waits before answering (tests use a shorter DOWNLOAD_TIMEOUT).
SLOW_SECONDS = 3.0
#: size of /bad/huge (tests use a smaller DOWNLOAD_MAXSIZE).
HUGE_BYTES = 400_000


@dataclass
class Logged:
    method: str
    path: str
    user_agent: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # the server keeps its own request log

    def do_GET(self) -> None:
        self.server.record(Logged("GET", self.path, self.headers.get("User-Agent", "")))
        path = urlsplit(self.path).path
        route = ROUTES.get(path)
        if route is not None:
            route(self)
            return
        self.static(path)

    # --- helpers --------------------------------------------------------------

    def send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(status, b"", None, {"Location": location})

    def templated(self, path: Path) -> bytes:
        return path.read_bytes().replace(b"{{BASE}}", self.server.base.encode())

    def static(self, path: str) -> None:
        rel = path.lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        target = (SITE / rel).resolve()
        if SITE not in target.parents:
            self.send(404, b"<html><body><h1>Not found</h1></body></html>")
            return
        if not target.is_file() and target.suffix == "" and target.with_suffix(".html").is_file():
            target = target.with_suffix(".html")  # extensionless article URLs
        if target.is_file():
            suffix = target.suffix if target.suffix in CONTENT_TYPES else ".html"
            self.send(200, self.templated(target), CONTENT_TYPES[suffix])
            return
        if target.suffix == ".gz" and target.with_suffix("").is_file():
            self.send(
                200, gzip.compress(self.templated(target.with_suffix(""))), "application/gzip"
            )
            return
        self.send(404, b"<html><body><h1>Not found</h1><p>No such page.</p></body></html>")


def _status(code: int) -> object:
    def route(h: _Handler) -> None:
        h.send(code, f"<html><body><h1>Error {code}</h1></body></html>".encode())

    return route


def _slow(h: _Handler) -> None:
    time.sleep(SLOW_SECONDS)
    try:
        h.send(200, b"<html><body><p>Too late.</p></body></html>")
    except OSError:
        pass  # the crawler gave up and closed the connection


def _pdf(h: _Handler) -> None:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
    h.send(200, body, "application/pdf")


def _noise(h: _Handler) -> None:
    h.send(200, random.Random(7).randbytes(6000), "text/html")


def _huge(h: _Handler) -> None:
    para = b"<p>" + b"The committee heard evidence all afternoon. " * 20 + b"</p>\n"
    body = (
        b"<html><body><article>"
        + para * (HUGE_BYTES // len(para) + 1)
        + b"</article></body></html>"
    )
    h.send(200, body)


_BOMB = gzip.compress(b"<html><body>" + b" " * 3_000_000 + b"</body></html>")


def _gzip_bomb(h: _Handler) -> None:
    """A few KB on the wire, megabytes once decompressed (Content-Encoding: gzip)."""
    h.send(200, _BOMB, "text/html", {"Content-Encoding": "gzip"})


def _cyrillic(h: _Handler) -> None:
    text = (SITE / "ru" / "novosti.utf8.html").read_text(encoding="utf-8")
    h.send(200, text.replace("{{BASE}}", h.server.base).encode("windows-1251"), "text/html")


ROUTES = {
    "/bad/missing": _status(404),
    "/bad/gone": _status(410),
    "/bad/error": _status(500),
    "/bad/loop-a": lambda h: h.redirect("/bad/loop-b"),
    "/bad/loop-b": lambda h: h.redirect("/bad/loop-a"),
    "/bad/to-file": lambda h: h.redirect("file:///etc/passwd"),
    "/bad/slow": _slow,
    "/bad/annual-report": _pdf,
    "/bad/noise": _noise,
    "/bad/empty": lambda h: h.send(200, b""),
    "/bad/huge": _huge,
    "/bad/gzip-bomb": _gzip_bomb,
    "/ru/novosti.html": _cyrillic,
}


class _Server(LoggingServer, ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(_Handler)


class SiteServer(Background):
    """``with SiteServer() as server: ... server.url("/path") ... server.requested("/path")``."""

    def __init__(self) -> None:
        super().__init__(_Server())

    @property
    def log(self) -> list[Logged]:
        with self._server._lock:
            return list(self._server.log)

    def paths(self) -> list[str]:
        return [e.path for e in self.log]

    def requested(self, path: str) -> int:
        """How many requests there were for ``path`` (query string ignored unless given)."""
        return sum(
            1 for p in self.paths() if p == path or ("?" not in path and p.split("?")[0] == path)
        )
