"""``-a refresh=1``: conditional re-fetches, 304s, and versions of changed texts."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import crawl_stats, scrapy_crawl

pytestmark = pytest.mark.e2e

WEB = {"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False}
PARAS = [
    "The harbour authority said on Monday that the north quay would close for six weeks of "
    "repairs after divers found that storms had washed out part of its foundations.",
    "Fishing boats that normally land their catch at the quay will use the ferry terminal instead, "
    "and the authority said it would waive berthing fees for the duration of the work.",
]
UPDATE = (
    "Update: the authority later said the work would start a week early because the "
    "forecast for the coming fortnight was calm."
)


class Page:
    def __init__(self) -> None:
        self.paras = list(PARAS)
        self.version = 1
        self.log: list[tuple[str, str | None, int]] = []

    def html(self) -> bytes:
        body = "".join(f"<p>{p}</p>" for p in self.paras)
        return (
            f"<html lang='en'><head><title>North quay to close for repairs</title></head>"
            f"<body><article><h1>North quay to close for repairs</h1>{body}</article>"
            f"</body></html>"
        ).encode()


@pytest.fixture
def server():
    page = Page()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

        def do_GET(self):
            etag = f'"v{page.version}"'
            sent = self.headers.get("If-None-Match")
            if sent == etag:
                page.log.append((self.path, sent, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = page.html()
            page.log.append((self.path, sent, 200))
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Mon, 13 May 2024 09:00:00 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, page
    srv.shutdown()


def test_refresh_uses_validators_and_keeps_versions(server, tmp_path):
    srv, page = server
    url = f"http://127.0.0.1:{srv.server_address[1]}/news/north-quay"
    db = tmp_path / "corpus.db"

    first = scrapy_crawl("urls", db, settings=WEB, urls=url)
    assert first.returncode == 0, first.stderr[-2000:]
    row = first.rows("select id, text, etag, last_modified from articles")[0]
    assert row["etag"] == '"v1"' and row["last_modified"].startswith("Mon, 13 May 2024")

    unchanged = scrapy_crawl("urls", db, settings=WEB, urls=url, refresh="1")
    assert unchanged.returncode == 0
    assert page.log[-1] == ("/news/north-quay", '"v1"', 304)
    stats = crawl_stats(unchanged)
    assert stats["corpus/refresh/not_modified"] == 1
    assert "corpus/articles/updated" not in stats
    assert unchanged.rows("select count(*) n from failures")[0]["n"] == 0

    page.paras.append(UPDATE)
    page.version = 2
    changed = scrapy_crawl("urls", db, settings=WEB, urls=url, refresh="1")
    assert changed.returncode == 0
    assert page.log[-1] == ("/news/north-quay", '"v1"', 200)
    assert crawl_stats(changed)["corpus/articles/updated"] == 1
    now = changed.rows("select id, text, etag, updated_at from articles")
    assert len(now) == 1 and UPDATE in now[0]["text"] and now[0]["etag"] == '"v2"'
    assert now[0]["updated_at"]
    versions = changed.rows("select article_id, text from versions")
    assert versions == [{"article_id": row["id"], "text": row["text"]}]
    hits = changed.rows("select count(*) n from articles_fts where articles_fts match 'fortnight'")
    assert hits[0]["n"] == 1


def test_refresh_argument_is_checked(tmp_path):
    from tests.helpers import run_scrapy

    proc = run_scrapy("crawl", "urls", "-a", "urls=https://example.com/a", "-a", "refresh=maybe")
    assert proc.returncode == 2 and "refresh: expected 1 or 0" in proc.stderr
