"""A small WARC writer for the tests and the bench: records as Common Crawl
writes them (WARC/1.0 or 1.1 headers, one gzip member per record), including
the odd ones a reader meets (warcinfo, request, metadata, revisit, non-HTML,
non-200, truncated, garbled).

Written by hand, not with a WARC library: the reader under test must not
read files its own library wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Rec:
    """One WARC record: its type, its extra WARC headers and its block."""

    type: str
    block: bytes
    headers: dict[str, str] = field(default_factory=dict)
    version: str = "WARC/1.0"
    #: write the Content-Length header with this value instead of the block's length
    length: int | None = None
    #: raw bytes written instead of the whole record (a garbled record)
    raw: bytes | None = None

    def to_bytes(self) -> bytes:
        if self.raw is not None:
            return self.raw
        head = {
            "WARC-Type": self.type,
            "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, repr(self.headers) + self.block[:64].hex())}>",
            "WARC-Date": "2024-01-15T10:00:00Z",
            **self.headers,
            "Content-Length": str(len(self.block) if self.length is None else self.length),
        }
        if self.type in ("response", "request", "revisit") and "Content-Type" not in head:
            kind = "response" if self.type != "request" else "request"
            head["Content-Type"] = f"application/http; msgtype={kind}"
        lines = [self.version] + [f"{k}: {v}" for k, v in head.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.block + b"\r\n\r\n"


def http_block(
    body: bytes,
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    extra: dict[str, str] | None = None,
) -> bytes:
    reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 304: "Not Modified"}
    lines = [f"HTTP/1.1 {status} {reason.get(status, 'Status')}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def response(
    url: str,
    body: bytes,
    *,
    date: str = "2024-01-15T10:00:00Z",
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
    version: str = "WARC/1.0",
) -> Rec:
    block = http_block(body, status, content_type)
    digest = "sha1:" + hashlib.sha1(body).hexdigest()
    return Rec(
        "response",
        block,
        {
            "WARC-Target-URI": url,
            "WARC-Date": date,
            "WARC-Payload-Digest": digest,
            "WARC-Identified-Payload-Type": (content_type or "").split(";")[0],
            **(headers or {}),
        },
        version=version,
    )


def request(url: str, date: str = "2024-01-15T10:00:00Z") -> Rec:
    host = url.split("/")[2]
    block = f"GET /{url.split('/', 3)[-1]} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    return Rec("request", block, {"WARC-Target-URI": url, "WARC-Date": date})


def warcinfo() -> Rec:
    block = b"software: tests/warcs.py\r\nformat: WARC File Format 1.0\r\n"
    return Rec("warcinfo", block, {"Content-Type": "application/warc-fields"})


def metadata(url: str) -> Rec:
    block = b"fetchTimeMs: 120\r\n"
    return Rec(
        "metadata", block, {"WARC-Target-URI": url, "Content-Type": "application/warc-fields"}
    )


def revisit(url: str, date: str = "2024-01-16T10:00:00Z") -> Rec:
    block = http_block(b"", 304, None)
    return Rec(
        "revisit",
        block,
        {
            "WARC-Target-URI": url,
            "WARC-Date": date,
            "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
            "WARC-Refers-To-Target-URI": url,
        },
    )


def write(path: Path, records: Iterable[Rec], *, compress: bool | None = None) -> Path:
    """Write ``records`` to ``path``: one gzip member per record for ``.gz``
    (as Common Crawl writes them), plain otherwise."""
    compress = path.name.endswith(".gz") if compress is None else compress
    with open(path, "wb") as out:
        for rec in records:
            data = rec.to_bytes()
            out.write(gzip.compress(data, compresslevel=6, mtime=0) if compress else data)
    return path


def article_html(
    title: str,
    paragraphs: list[str],
    canonical: str | None = None,
    published: str = "2024-01-14T08:00:00Z",
) -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{link}"
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="{published}">'
        f"</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}"
        "</article><footer>(c) The Test Gazette</footer></body></html>"
    ).encode()


WORDS = (
    "council harbour budget minister river court report plan vote rail bridge "
    "school hospital farmers union police market energy water housing"
).split()


def story_paragraphs(seed: int, n: int = 4) -> list[str]:
    """Distinct, article-like paragraphs (about 40 words each) for page ``seed``."""
    rng = random.Random(seed)
    out = []
    for p in range(n):
        words = [rng.choice(WORDS) for _ in range(38)]
        out.append(f"Story {seed} part {p}: " + " ".join(words).capitalize() + ".")
    return out


# --- a local server for archives --------------------------------------------


class _ArchiveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY: 40 ms a response otherwise
    server: _ArchiveHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append((path, self.headers.get("Range")))
        if path in self.server.pages:
            ctype, body = self.server.pages[path]
            self._send(200, body, ctype)
            return
        file = (self.server.root / path.lstrip("/")).resolve()
        if not file.is_file() or self.server.root not in file.parents:
            self._send(404, b"not found", "text/plain")
            return
        size = file.stat().st_size
        start = 0
        status = 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= size:
                self._send(416, b"", "text/plain")
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        cut = self.server.break_once.pop(path, None)
        left = size - start if cut is None else min(cut, size - start)
        with open(file, "rb") as f:
            f.seek(start)
            while left > 0:
                chunk = f.read(min(left, 1 << 16))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        if cut is not None:
            # a connection that breaks in the middle of the file, once
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ArchiveHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _ArchiveHandler)
        self.root = root.resolve()
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.break_once: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []


class ArchiveServer:
    """Serves the files under ``root`` on 127.0.0.1 with ``Range`` support
    (as Common Crawl's servers do), plus ``pages`` (path -> content type,
    body) for a web crawl of the same pages. ``break_once[path] = n``: the
    next response for ``path`` stops after ``n`` bytes."""

    def __init__(self, root: Path) -> None:
        self._server = _ArchiveHTTPServer(root)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def pages(self) -> dict[str, tuple[str, bytes]]:
        return self._server.pages

    @property
    def break_once(self) -> dict[str, int]:
        return self._server.break_once

    @property
    def requests(self) -> list[tuple[str, str | None]]:
        return self._server.requests

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
