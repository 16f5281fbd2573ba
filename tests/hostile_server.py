"""A hostile HTTP server for the tests: what an attacker's site would serve.

Raw sockets, so that it can send what no well-behaved server library would:
resets, drips, lying lengths, 300 KB headers, binary ``Location`` headers,
truncated and corrupt gzip, bombs, redirect games toward private addresses.
127.0.0.1 only; Nagle's algorithm off (TCP_NODELAY); every loop is bounded in
count and in time (:data:`MAX_SECONDS` a connection, at most), so a test that
goes wrong fails instead of hanging.

``with HostileServer() as server: server.url("/ok/1")``; :attr:`HostileServer.log`
holds each request's path and the time it arrived. Each route is a function of
the handler; :data:`ROUTES` maps paths to them.
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import socketserver
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.serving import Background, LoggingServer

#: no connection is served for longer than this (seconds)
MAX_SECONDS = 8.0
#: a request's head is read up to this size
MAX_REQUEST = 64 * 1024
#: the DOWNLOAD_MAXSIZE the tests crawl with; the bombs and big bodies exceed it
TEST_MAXSIZE = 1_000_000

_WORDS = (
    "harbour council committee river bridge school budget ferry storm "
    "teachers nurses festival museum railway station market mayor court "
    "library farmers village winter summer coast hospital road election "
    "report evidence residents officials plan repairs funding vote week "
    "district orchestra theatre league season island lighthouse quarry "
    "bakery cyclists pupils parents volunteers firefighters archive"
).split()


def article_html(seed: int, title: str | None = None, words: int = 220) -> bytes:
    """A real-looking article page with its own text (no two seeds alike)."""
    rng = random.Random(seed)
    sentences = []
    count = 0
    while count < words:
        n = rng.randint(8, 16)
        sentence = " ".join(rng.choice(_WORDS) for _ in range(n))
        sentences.append(f"{sentence.capitalize()} number {seed}-{len(sentences)}.")
        count += n + 2
    paras = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    body = "\n".join(f"<p>{p}</p>" for p in paras)
    head = title or f"Council story number {seed} reported today"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{head}</title></head>"
        f"<body><article><h1>Council story number {seed}</h1>{body}</article></body></html>"
    ).encode()


@dataclass
class Logged:
    path: str
    at: float


class Handler(socketserver.BaseRequestHandler):
    server: _Server

    def setup(self) -> None:
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(MAX_SECONDS)
        self.deadline = time.monotonic() + MAX_SECONDS

    def handle(self) -> None:
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < MAX_REQUEST:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
        except OSError:
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) < 2:
            return
        path = parts[1]
        self.server.record(Logged(path, time.monotonic()))
        route = _proxy if "://" in path else ROUTES.get(path.split("?", 1)[0], _not_found)
        try:
            route(self)
        except OSError:
            pass  # the crawler gave up on this connection: that is its right

    # --- helpers -------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.server.base

    def raw(self, data: bytes) -> None:
        self.request.sendall(data)

    def send(
        self,
        status: int | str,
        body: bytes = b"",
        ctype: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        extra: bytes = b"",
        length: int | None = None,
    ) -> None:
        lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Status'}"]
        if ctype:
            lines.append(f"Content-Type: {ctype}")
        lines.append(f"Content-Length: {len(body) if length is None else length}")
        lines.append("Connection: close")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.raw("\r\n".join(lines).encode("latin-1") + b"\r\n" + extra + b"\r\n" + body)

    def redirect(self, location: bytes | str, status: int = 302) -> None:
        loc = location.encode("latin-1") if isinstance(location, str) else location
        self.send(status, b"", None, extra=b"Location: " + loc + b"\r\n")

    def wait(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    def reset(self) -> None:
        """Close with RST instead of FIN."""
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _not_found(h: Handler) -> None:
    h.send(404, b"<html><body><h1>Not found</h1></body></html>")


def _ok(seed: int) -> Callable[[Handler], None]:
    return lambda h: h.send(200, article_html(seed))


def _status(code: int | str) -> Callable[[Handler], None]:
    return lambda h: h.send(code, b"<html><body><h1>Status page</h1></body></html>")


def _robots(h: Handler) -> None:
    h.send(200, b"User-agent: *\nDisallow: /h/private\n", "text/plain")


def _ok_gzip(h: Handler) -> None:
    h.send(200, gzip.compress(article_html(21)), headers={"Content-Encoding": "gzip"})


def _retry_once(h: Handler) -> None:
    """503 with Retry-After: 1 the first time, the article afterwards."""
    if h.server.count("/ok/retry-after") <= 1:
        h.send(503, b"busy", headers={"Retry-After": "1"})
    else:
        h.send(200, article_html(22))


def _huge_title(h: Handler) -> None:
    body = article_html(23).replace(b"<title>", b"<title>" + b"Headline words " * 40_000, 1)
    h.send(200, body)


def _reset(h: Handler) -> None:
    h.reset()


def _close_early(h: Handler) -> None:
    h.send(200, article_html(30)[:300], length=20_000)


def _drip(h: Handler) -> None:
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(40):  # bounded: 40 bytes, 20 s at most, cut by MAX_SECONDS
        if time.monotonic() > h.deadline:
            return
        h.raw(b"<")
        h.wait(0.5)


def _silent(h: Handler) -> None:
    h.wait(MAX_SECONDS)


def _huge_header(h: Handler) -> None:
    h.send(200, article_html(31), extra=b"X-Padding: " + b"a" * 300_000 + b"\r\n")


def _many_headers(h: Handler) -> None:
    h.send(200, article_html(32), extra=b"".join(b"X-H%d: v\r\n" % i for i in range(20_000)))


def _garbage_status(h: Handler) -> None:
    h.raw(b"HTTP/1.1 abc def\r\nContent-Length: 2\r\n\r\nhi")


def _not_http(h: Handler) -> None:
    h.raw(b"SSH-2.0-OpenSSH_9.6\r\n")


def _gzip_truncated(h: Handler) -> None:
    data = gzip.compress(article_html(33))
    h.send(200, data[: len(data) // 2], headers={"Content-Encoding": "gzip"})


def _gzip_corrupt(h: Handler) -> None:
    data = bytearray(gzip.compress(article_html(34)))
    data[20:60] = bytes(40)
    h.send(200, bytes(data), headers={"Content-Encoding": "gzip"})


def _gzip_not_gzip(h: Handler) -> None:
    h.send(200, article_html(35), headers={"Content-Encoding": "gzip"})


_GZIP_BOMB = gzip.compress(b"<html><body><p>" + b"a " * 10_000_000 + b"</p></body></html>", 9)
_DEFLATE_BOMB = zlib.compress(b"<html><body><p>" + b"b " * 10_000_000 + b"</p></body></html>", 9)


def _gzip_bomb(h: Handler) -> None:
    h.send(200, _GZIP_BOMB, headers={"Content-Encoding": "gzip"})


def _deflate_bomb(h: Handler) -> None:
    h.send(200, _DEFLATE_BOMB, headers={"Content-Encoding": "deflate"})


def _too_big(h: Handler) -> None:
    para = article_html(36)
    h.send(200, para * (TEST_MAXSIZE // len(para) + 2))


def _too_big_chunked(h: Handler) -> None:
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"<p>" + b"word " * 12_000 + b"</p>"
    for _ in range(TEST_MAXSIZE // len(chunk) + 3):  # bounded
        h.raw(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    h.raw(b"0\r\n\r\n")


def _chunked_broken(h: Handler) -> None:
    h.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
    h.raw(b"zz\r\nhello\r\n0\r\n\r\n")


def _pdf(h: Handler) -> None:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8
    h.send(200, body, "application/pdf")


def _noise(h: Handler) -> None:
    h.send(200, random.Random(5).randbytes(8000), "text/html")


def _tiny(h: Handler) -> None:
    h.send(
        200,
        b"<html><head><title>Short</title></head><body><p>Just ten words here.</p></body></html>",
    )


def _nested(h: Handler) -> None:
    h.send(200, b"<html><body>" + b"<div>" * 80_000 + article_html(37) + b"</div>" * 80_000)


def _feed(h: Handler) -> None:
    """RSS whose second and third links are no URLs; the others are good."""
    links = [f"{h.base}/ok/1", "http://[::1/broken", "http://127.0.0.1:99999/x", f"{h.base}/ok/2"]
    items = "".join(
        f"<item><title>Story {i}</title><link>{u}</link></item>" for i, u in enumerate(links)
    )
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Hostile</title>{items}</channel></rss>"
    h.send(200, body.encode(), "application/rss+xml")


def _sitemap(h: Handler) -> None:
    locs = [f"{h.base}/ok/3", "http://[::1/broken", f"{h.base}/ok/4"]
    urls = "".join(f"<url><loc>{u}</loc></url>" for u in locs)
    body = f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
    h.send(200, body.encode(), "application/xml")


#: dates no datetime holds: a twenty-digit year, an offset of thirty digits
OVERFLOW_DATES = (
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
    "Mon, 15 Jan 2024 10:00:00 +010123456789012345678901234567890",
)


def _feed_overflow(h: Handler) -> None:
    """RSS whose first two items have dates no datetime holds; the third a good one."""
    dates = [*OVERFLOW_DATES, "Mon, 15 Jan 2024 10:00:00 GMT"]
    items = "".join(
        f"<item><title>Story {i}</title><link>{h.base}/x/feed-{i}</link><pubDate>{d}</pubDate></item>"
        for i, d in enumerate(dates)
    )
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Odd dates</title>{items}</channel></rss>"
    h.send(200, body.encode(), "application/rss+xml")


def _sitemap_overflow(h: Handler) -> None:
    urls = "".join(
        f"<url><loc>{h.base}/x/map-{i}</loc><lastmod>{d}</lastmod></url>"
        for i, d in enumerate([OVERFLOW_DATES[0], "2024-01-15"])
    )
    body = f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
    h.send(200, body.encode(), "application/xml")


def _undefined_charset_section(h: Handler) -> None:
    """A section page (links only) in a charset Python knows but cannot decode with;
    the third article it links to is in that charset too."""
    links = "".join(
        f"<li><a href='/x/2024/01/15/harbour-council-story-{i}'>Story {i}</a></li>"
        for i in range(3)
    )
    body = f"<html><head><title>Local news</title></head><body><ul>{links}</ul></body></html>"
    h.send(200, body.encode(), "text/html; charset=undefined")


def _feed_surrogates(h: Handler) -> None:
    """A JSON Feed whose strings hold lone surrogates (``"\\ud800"`` escapes): its
    title, an author, a link; the first entry's page has them in its JSON-LD."""
    items = [
        {"url": f"{h.base}/x/ld-surrogate", "title": "Half \ud800 a pair"},
        {"url": f"{h.base}/x/json-1", "authors": [{"name": "Ann \udc00"}]},
        {"url": f"{h.base}/x/json-\ud800"},
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "J \udfff", "items": items}
    h.send(200, json.dumps(feed).encode(), "application/feed+json")


def _ld_surrogate(h: Handler) -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Harbour \\ud800 council story", "author": {"name": "Bo \\udfff"}}</script>'
    )
    h.send(200, article_html(90).replace(b"</head>", ld.encode() + b"</head>", 1))


def _proxy(h: Handler) -> None:
    """Asked as a proxy (an absolute URL in the request line): an article."""
    h.send(200, article_html(50))


def _chain(n: int) -> Callable[[Handler], None]:
    return lambda h: h.redirect(f"/h/chain-{n + 1}" if n < 30 else "/ok/1")


ROUTES: dict[str, Callable[[Handler], None]] = {
    "/robots.txt": _robots,
    # the control pages: each must be stored
    **{f"/ok/{i}": _ok(i) for i in range(1, 7)},
    "/ok/gzip": _ok_gzip,
    "/ok/redirected": lambda h: h.redirect("/ok/target"),
    "/ok/target": _ok(7),
    "/ok/retry-after": _retry_once,
    "/ok/huge-title": _huge_title,
    # status codes
    "/h/404": _status(404),
    "/h/410": _status(410),
    "/h/500": _status(500),
    "/h/999": _status(999),
    "/h/429-forever": lambda h: h.send(429, b"slow down", headers={"Retry-After": "1"}),
    "/h/503-retry-after-huge": lambda h: h.send(503, b"x", headers={"Retry-After": "999999"}),
    "/h/private": _ok(40),  # robots.txt disallows it
    # broken connections
    "/h/reset": _reset,
    "/h/close-early": _close_early,
    "/h/drip": _drip,
    "/h/silent": _silent,
    "/h/garbage-status": _garbage_status,
    "/h/not-http": _not_http,
    "/h/chunked-broken": _chunked_broken,
    # headers
    "/h/huge-header": _huge_header,
    "/h/many-headers": _many_headers,
    # redirects
    "/h/binary-location": lambda h: h.redirect(b"\xff\xfe\x00\x01\x02garbage"),
    "/h/location-bad-port": lambda h: h.redirect(f"{h.base.rsplit(':', 1)[0]}:99999/ok/1"),
    "/h/location-broken-ipv6": lambda h: h.redirect("http://[::1/broken"),
    "/h/loop-a": lambda h: h.redirect("/h/loop-b"),
    "/h/loop-b": lambda h: h.redirect("/h/loop-a"),
    "/h/chain-0": _chain(0),
    **{f"/h/chain-{i}": _chain(i) for i in range(1, 31)},
    "/h/to-file": lambda h: h.redirect("file:///etc/passwd"),
    "/h/to-javascript": lambda h: h.redirect("javascript:alert(1)"),
    "/h/to-metadata": lambda h: h.redirect("http://169.254.169.254/latest/meta-data/"),
    "/h/to-other-port": lambda h: h.redirect("http://127.0.0.1:1/admin"),
    "/h/to-decimal-ip": lambda h: h.redirect("http://2130706433:1/admin"),
    "/h/to-mapped-ipv6": lambda h: h.redirect("http://[::ffff:127.0.0.1]:1/admin"),
    "/h/to-zero": lambda h: h.redirect("http://0.0.0.0:1/admin"),
    "/h/to-private-10": lambda h: h.redirect("http://10.0.0.1/admin"),
    "/h/no-location": lambda h: h.send(302, b"", None),
    # bodies
    "/h/gzip-truncated": _gzip_truncated,
    "/h/gzip-corrupt": _gzip_corrupt,
    "/h/gzip-not-gzip": _gzip_not_gzip,
    "/h/gzip-bomb": _gzip_bomb,
    "/h/deflate-bomb": _deflate_bomb,
    "/h/too-big": _too_big,
    "/h/too-big-chunked": _too_big_chunked,
    "/h/empty": lambda h: h.send(200, b""),
    "/h/pdf": _pdf,
    "/h/noise": _noise,
    "/h/tiny": _tiny,
    "/h/nested": _nested,
    # listings with unusable links
    "/feed.rss": _feed,
    "/sitemap.xml": _sitemap,
    # listings and pages whose dates or charsets make Python's own parsers raise
    "/x/feed-overflow.rss": _feed_overflow,
    "/x/sitemap-overflow.xml": _sitemap_overflow,
    "/x/section-undefined-charset": _undefined_charset_section,
    "/x/feed-surrogates.json": _feed_surrogates,
    "/x/ld-surrogate": _ld_surrogate,
    "/x/json-1": _ok(91),
    **{f"/x/feed-{i}": _ok(60 + i) for i in range(3)},
    **{f"/x/map-{i}": _ok(70 + i) for i in range(2)},
    **{f"/x/2024/01/15/harbour-council-story-{i}": _ok(80 + i) for i in range(2)},
    "/x/2024/01/15/harbour-council-story-2": lambda h: h.send(
        200, article_html(82), "text/html; charset=undefined"
    ),
}


class _Server(LoggingServer, socketserver.ThreadingTCPServer):
    def __init__(self) -> None:
        super().__init__(Handler)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for e in self.log if e.path == path)


class HostileServer(Background):
    def __init__(self) -> None:
        super().__init__(_Server())

    def arrivals(self) -> list[Logged]:
        """Every request so far, in arrival order (path and monotonic time)."""
        with self._server._lock:
            return list(self._server.log)

    def times(self, path: str) -> list[float]:
        with self._server._lock:
            return [e.at for e in self._server.log if e.path == path]
