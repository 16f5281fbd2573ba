"""On a scale-out worker (``CORPUS_REDIS_URL``) there is no corpus: what needs one
says so, instead of silently doing nothing.

* ``-a refresh=1`` (and ``comparable -a seed=ID``) is refused before the crawl
  starts: exit code 2, one line, nothing pushed to Redis.
* ``CORPUS_SKIP_KNOWN`` cannot skip anything: one warning, the stat
  ``corpus/skip_known/unavailable`` counts the articles fetched without the
  check, and the drain records them as known.

Real crawls against tests/webserver.py and a real redis-server (tests/redis_server.py).
"""

from __future__ import annotations

import json
import uuid

import pytest
from scrapy.utils.test import get_crawler

from crawler.spiders import ArgumentError
from crawler.spiders.urls import UrlsSpider
from tests.helpers import run_scrapy, scrapy_crawl
from tests.webserver import SiteServer

WEB = {"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False}
NO_CORPUS = (
    "a scale-out worker (CORPUS_REDIS_URL is set) has no corpus: 'scrapy corpus drain' "
    "writes it; run this crawl without CORPUS_REDIS_URL, beside the corpus"
)


def _worker_settings(redis_url: str, key: str) -> list[str]:
    out = []
    for name, value in {
        **WEB,
        "CORPUS_REDIS_URL": redis_url,
        "CORPUS_REDIS_KEY": key,
        "CORPUS_REDIS_IDLE_CLOSE": 1,
        "CLEAN_WORKERS": 0,
    }.items():
        out += ["-s", f"{name}={value}"]
    return out


@pytest.mark.e2e
@pytest.mark.parametrize(
    "spider_args, need",
    [
        (
            ["urls", "-a", "urls=http://127.0.0.1:9/a.html", "-a", "refresh=1"],
            "refresh=1 needs the corpus (the stored ETag and Last-Modified of each article)",
        ),
        (["comparable", "-a", "seed=12"], "seed=ID reads the article from the corpus"),
    ],
)
def test_what_needs_the_corpus_is_refused_on_a_worker(
    redis_server, redis_client, tmp_path, spider_args, need
):
    key = f"t-{uuid.uuid4().hex[:6]}"
    proc = run_scrapy(
        "crawl",
        *spider_args,
        "-s",
        f"CORPUS_DB={tmp_path / 'worker.db'}",
        *_worker_settings(redis_server.url, key),
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip() == f"scrapy crawl {spider_args[0]}: error: {need}, and {NO_CORPUS}"
    assert redis_client.keys(f"{key}:*") == []


def test_a_worker_built_in_code_refuses_refresh_too():
    crawler = get_crawler(UrlsSpider, {"CORPUS_REDIS_URL": "redis://127.0.0.1:1/0"})
    with pytest.raises(ArgumentError, match="refresh=1 needs the corpus"):
        UrlsSpider.from_crawler(crawler, urls="http://127.0.0.1:9/a.html", refresh="1")
    # not on a worker, and not without refresh
    UrlsSpider.from_crawler(get_crawler(UrlsSpider), urls="http://127.0.0.1:9/a.html", refresh="1")
    UrlsSpider.from_crawler(crawler, urls="http://127.0.0.1:9/a.html")


@pytest.mark.e2e
def test_skip_known_on_a_worker_warns_once_counts_and_the_drain_knows(
    redis_server, redis_client, tmp_path
):
    feeds = {"since": "2024-01-01"}
    with SiteServer() as server:
        feeds["feeds"] = server.url("/feeds/main")
        db_path = tmp_path / "corpus.db"
        first = scrapy_crawl("feeds", db_path, settings=WEB, **feeds)
        assert first.returncode == 0, first.stderr[-3000:]
        stored = first.rows("select count(*) n from articles")[0]["n"]
        assert stored >= 2
        # Locally, a second crawl downloads none of them again (other arguments:
        # the same ones would only look at entries newer than the first crawl) ...
        again = scrapy_crawl(
            "feeds", db_path, settings=WEB, feeds=feeds["feeds"], since="2023-12-31"
        )
        assert json.loads(again.rows("select stats from crawls order by id desc")[0]["stats"])[
            "corpus/skipped/known_unfetched"
        ]
        # ... a worker (no corpus of its own) downloads them all, and says so.
        before = len(server.log)
        key = f"t-{uuid.uuid4().hex[:6]}"
        worker = run_scrapy(
            "crawl",
            "feeds",
            "-a",
            f"feeds={feeds['feeds']}",
            "-a",
            f"since={feeds['since']}",
            "-s",
            f"CORPUS_DB={tmp_path / 'worker.db'}",
            *_worker_settings(redis_server.url, key),
            timeout=120,
        )
        fetched = [
            e.path for e in server.log[before:] if not e.path.startswith(("/feeds/", "/robots"))
        ]
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert worker.stderr.count("CORPUS_SKIP_KNOWN is on, but a scale-out worker") == 1
    assert len(fetched) >= stored

    drain = run_scrapy(
        "corpus", "drain", "--db", str(db_path), "--redis", redis_server.url, "--key", key,
        "--idle", "1",
        timeout=120,
    )  # fmt: skip
    assert drain.returncode == 0, drain.stderr[-3000:]
    row = first.rows("select stats from crawls order by id desc")[0]
    stats = json.loads(row["stats"])
    assert stats["corpus/skip_known/unavailable"] == len(fetched)
    assert stats["corpus/skipped/known"] == stored
    assert first.rows("select count(*) n from articles")[0]["n"] == stored
