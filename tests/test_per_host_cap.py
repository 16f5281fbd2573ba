"""``CONCURRENT_REQUESTS_PER_DOMAIN`` holds with AutoThrottle off.

A real ``scrapy crawl urls`` against a local server whose pages take 0.3 s:
the server counts the requests it is answering at once. With Scrapy's own
DOWNLOAD_DELAY of 0 the downloader sent up to 7 at once to a host capped at
2; the crawler's default delay (1 ms) keeps the cap.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import scrapy_crawl
from tests.hostile_server import article_html

pytestmark = pytest.mark.e2e


class _SlowServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Slow)
        self.lock = threading.Lock()
        self.inflight = self.peak = self.served = 0


class _Slow(BaseHTTPRequestHandler):
    server: _SlowServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.inflight += 1
            self.server.peak = max(self.server.peak, self.server.inflight)
        try:
            time.sleep(0.3)
            body = article_html(int(self.path.rsplit("/", 1)[-1] or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with self.server.lock:
                self.server.inflight -= 1
                self.server.served += 1


def test_per_host_cap_holds_with_autothrottle_off(tmp_path):
    server = _SlowServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        listing = tmp_path / "urls.txt"
        listing.write_text(
            "".join(f"http://127.0.0.1:{port}/story/{i}\n" for i in range(1, 11)), encoding="utf-8"
        )
        result = scrapy_crawl(
            "urls",
            tmp_path / "corpus.db",
            settings={
                "ALLOW_PRIVATE_HOSTS": f"127.0.0.1:{port}",
                "AUTOTHROTTLE_ENABLED": False,
                "CONCURRENT_REQUESTS": 16,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
                "ROBOTSTXT_OBEY": False,
                "CLEAN_WORKERS": 0,
            },
            file=str(listing),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert server.served == 10
    assert server.peak == 2, f"{server.peak} requests at once to a host capped at 2"
