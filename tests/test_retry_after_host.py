"""A 503 with ``Retry-After`` pauses its host, not just the request that got it.

A real ``scrapy crawl`` against tests/hostile_server.py, a request every 50 ms
to the one host: the first page answers 503 with ``Retry-After: 1``, the other
pages of the host are queued behind it. No request may reach the server in the
second after that answer; before the pause (the request alone waited) the next
pages were asked for 50 ms apart.
"""

from __future__ import annotations

import pytest

from tests.helpers import crawl_stats, scrapy_crawl
from tests.hostile_server import HostileServer

pytestmark = pytest.mark.e2e

PAGES = ["/ok/retry-after", *(f"/ok/{i}" for i in range(1, 7))]


def test_retry_after_pauses_the_host(tmp_path):
    with HostileServer() as server:
        listing = tmp_path / "urls.txt"
        listing.write_text("\n".join(server.url(p) for p in PAGES) + "\n", encoding="utf-8")
        result = scrapy_crawl(
            "urls",
            tmp_path / "corpus.db",
            settings={
                "ALLOW_PRIVATE_HOSTS": f"127.0.0.1:{server.port}",
                "CONCURRENT_REQUESTS": 8,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                "AUTOTHROTTLE_ENABLED": False,
                "DOWNLOAD_DELAY": 0.05,
                "RANDOMIZE_DOWNLOAD_DELAY": False,
                "RETRY_TIMES": 1,
                "CORPUS_RETRY_AFTER_MAX": 5,
                "ROBOTSTXT_OBEY": False,
                "CLEAN_WORKERS": 0,
            },
            file=str(listing),
        )
        arrivals = [e for e in server.arrivals() if e.path in PAGES]
    assert result.returncode == 0, result.stderr[-2000:]
    busy = [e.at for e in arrivals if e.path == "/ok/retry-after"]
    assert len(busy) == 2, arrivals  # the 503, then the retry that stores the page
    after = [e for e in arrivals if e.at > busy[0] and e.path != "/ok/retry-after"]
    assert len(after) >= 3, f"the 503 was not answered first: {arrivals}"
    gaps = sorted(round(e.at - busy[0], 3) for e in after)
    assert gaps[0] >= 0.9, f"pages asked for {gaps[0]} s after Retry-After: 1 ({gaps})"
    stored = {r["url"] for r in result.rows("select url from articles")}
    assert len(stored) == len(PAGES)
    stats = crawl_stats(result)
    assert stats["corpus/retry_after/host_pauses"] == 1
    assert stats["corpus/retry_after/waits"] == 1
