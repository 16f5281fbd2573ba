"""Hostile input that made Python's own parsers raise inside a crawl, end to end.

Each case once lost what it held: a feed or a sitemap with one date no
datetime holds lost every entry (its callback raised: no row at all), a page
in charset ``undefined`` was a download failure (Scrapy's ``response.text``
raised) and a section page in it lost every link on it, one WARC record dated
year 1 east of Greenwich stopped the rest of its file. Now the odd dates are
dropped (an undated entry), the odd charset is ignored, and a WARC record no
URL can be made of is a ``failures`` row of its own; the crawl goes on.
"""

from __future__ import annotations

import pytest

from tests import warcs
from tests.helpers import crawl_stats, scrapy_crawl
from tests.hostile_server import HostileServer

pytestmark = pytest.mark.e2e

SETTINGS = {"ALLOW_PRIVATE_NETWORKS": True, "CLEAN_WORKERS": 0, "AUTOTHROTTLE_ENABLED": False}


@pytest.fixture(scope="module")
def sources_crawl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd")
    with HostileServer() as server:
        config = folder / "sources.toml"
        config.write_text(
            "[sources.odd]\n"
            f'feeds = ["{server.url("/x/feed-overflow.rss")}"]\n'
            f'sitemaps = ["{server.url("/x/sitemap-overflow.xml")}"]\n'
            f'start = ["{server.url("/x/section-undefined-charset")}"]\n'
            "depth = 1\n",
            encoding="utf-8",
        )
        result = scrapy_crawl("sources", folder / "c.db", settings=SETTINGS, config=str(config))
        result.server = server
        yield result


def _stored(result) -> set[str]:
    return {r["fetched_url"] for r in result.rows("select fetched_url from articles")}


def test_the_sources_crawl_finishes_without_a_callback_error(sources_crawl):
    assert sources_crawl.returncode == 0, sources_crawl.stderr[-3000:]
    stats = crawl_stats(sources_crawl)
    assert "corpus/callback_errors" not in stats
    assert not any(k.startswith("spider_exceptions") for k in stats), stats


def test_feed_entries_with_overflowing_dates_are_fetched_undated(sources_crawl):
    server = sources_crawl.server
    assert {server.url(f"/x/feed-{i}") for i in range(3)} <= _stored(sources_crawl)
    assert crawl_stats(sources_crawl)["feeds/entries"] == 3


def test_sitemap_entries_with_overflowing_dates_are_fetched(sources_crawl):
    server = sources_crawl.server
    assert {server.url(f"/x/map-{i}") for i in range(2)} <= _stored(sources_crawl)


def test_pages_in_an_undecodable_charset_are_read(sources_crawl):
    """The section page's links are followed, and the article in that charset is stored."""
    server = sources_crawl.server
    linked = {server.url(f"/x/2024/01/15/harbour-council-story-{i}") for i in range(3)}
    assert linked <= _stored(sources_crawl)
    assert crawl_stats(sources_crawl)["integrity/undecodable_charset"] == 2


def _page(i: int, url: str, **kw) -> warcs.Rec:
    html = warcs.article_html(f"Odd record {i}", warcs.story_paragraphs(100 + i))
    return warcs.response(url, html, **kw)


def test_odd_warc_records_are_their_own_failures_and_the_file_is_read_on(tmp_path):
    good = [f"https://news.example/odd/{i}" for i in range(4)]
    records = [
        warcs.warcinfo(),
        _page(0, good[0]),
        # UTC cannot hold this instant: it stopped the file
        _page(1, good[1], date="0001-01-01T00:00:00+14:00"),
        _page(2, "http://[::1/broken"),
        _page(3, "javascript:alert(1)"),
        # WARC/1.1's examples write the URI in angle brackets
        _page(4, f"<{good[2]}>"),
        _page(5, good[3]),
    ]
    path = warcs.write(tmp_path / "odd.warc.gz", records)
    result = scrapy_crawl("warc", tmp_path / "c.db", settings=SETTINGS, path=str(path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored(result) == set(good)
    (undated,) = result.rows("select fetched_at from articles where url = ?", [good[1]])
    assert undated["fetched_at"] and not undated["fetched_at"].startswith("0001")
    rows = {r["url"]: r for r in result.rows("select url, stage, reason from failures")}
    assert set(rows) == {"http://[::1/broken", "javascript:alert(1)"}
    broken, script = rows["http://[::1/broken"], rows["javascript:alert(1)"]
    assert broken["stage"] == script["stage"] == "parse"
    assert "WARC-Target-URI" in broken["reason"] and "IPv6" in broken["reason"]
    assert "not an http(s) URL" in script["reason"] and "byte offset" in script["reason"]
    stats = crawl_stats(result)
    assert stats["warc/records/bad_target_uri"] == 2
    assert "warc/files/failed" not in stats
    assert result.rows("select finished from warc_files") == [{"finished": 1}]


def test_lone_surrogates_from_json_cost_no_batch_and_no_crawl_record(tmp_path):
    """A JSON Feed's and a page's JSON-LD "\\ud800" escapes reached SQLite, which
    cannot encode them: the batch failed (every article in it lost) and the
    crawl's row was never finished."""
    with HostileServer() as server:
        result = scrapy_crawl(
            "feeds",
            tmp_path / "c.db",
            settings=SETTINGS,
            feeds=server.url("/x/feed-surrogates.json"),
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.rows("select finish_reason from crawls") == [{"finish_reason": "finished"}]
    rows = result.rows("select fetched_url, author, site from articles order by fetched_url")
    assert [r["fetched_url"] for r in rows] == [
        server.url("/x/json-1"),
        server.url("/x/ld-surrogate"),
    ]
    assert {r["site"] for r in rows} == {"J \ufffd"}
    assert rows[0]["author"] == "Ann \ufffd"
    (failure,) = result.rows("select url, stage, reason from failures")
    assert failure["url"] == server.url("/x/json-\ufffd") and failure["stage"] == "parse"
    assert "lone surrogate" in failure["reason"]
    assert crawl_stats(result)["corpus/lone_surrogates_replaced"] >= 3
