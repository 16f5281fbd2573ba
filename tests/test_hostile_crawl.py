"""One crawl of every hostile case at once (tests/hostile_server.py).

Each case must leave the row it is meant to (a ``failures`` row with its stage
and a reason a person understands, or an article), the control pages crawled in
the same run must all be stored, and the corpus must pass SQLite's integrity
check. The crawl allows the test server alone (``ALLOW_PRIVATE_HOSTS``), so the
redirects toward other private addresses are refused.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
import yaml

from tests.helpers import ROOT, scrapy_crawl
from tests.hostile_server import TEST_MAXSIZE, HostileServer

pytestmark = pytest.mark.e2e

#: path -> (stage, http_status, words the reason must hold)
FAILURES: dict[str, tuple[str, int | None, tuple[str, ...]]] = {
    "/h/404": ("download", 404, ("HTTP 404", "Not Found")),
    "/h/410": ("download", 410, ("HTTP 410", "Gone")),
    "/h/500": ("download", 500, ("HTTP 500",)),
    "/h/999": ("download", 999, ("HTTP 999",)),
    "/h/429-forever": ("download", 429, ("HTTP 429", "Too Many Requests")),
    "/h/503-retry-after-huge": ("download", 503, ("HTTP 503",)),
    "/h/private": ("download", None, ("disallowed by robots.txt",)),
    "/h/reset": ("download", None, ("closed the connection",)),
    "/h/close-early": ("download", None, ("connection broke", "not stored")),
    "/h/chunked-broken": ("download", None, ("connection broke",)),
    "/h/drip": ("download", None, ("timed out",)),
    "/h/silent": ("download", None, ("timed out",)),
    "/h/garbage-status": ("download", None, ("not valid HTTP", "status code")),
    "/h/not-http": ("download", None, ("not valid HTTP",)),
    "/h/huge-header": ("download", None, ("closed the connection", "header too long")),
    "/h/binary-location": ("download", None, ("redirect", "unusable Location")),
    "/h/location-bad-port": ("download", None, ("unusable Location", "port")),
    "/h/location-broken-ipv6": ("download", None, ("unusable Location", "IPv6")),
    "/h/loop-a": ("download", None, ("redirect loop",)),
    "/h/chain-0": ("download", None, ("too many redirects", "REDIRECT_MAX_TIMES")),
    "/h/to-file": ("download", None, ("refused", "file:")),
    "/h/to-javascript": ("download", None, ("refused", "javascript:")),
    "/h/to-metadata": ("download", None, ("169.254.169.254", "link-local", "ALLOW_PRIVATE_HOSTS")),
    "/h/to-other-port": ("download", None, ("127.0.0.1", "loopback", "ALLOW_PRIVATE_HOSTS")),
    "/h/to-decimal-ip": ("download", None, ("2130706433", "loopback")),
    "/h/to-mapped-ipv6": ("download", None, ("loopback",)),
    "/h/to-zero": ("download", None, ("0.0.0.0", "unspecified")),
    "/h/to-private-10": ("download", None, ("10.0.0.1", "private")),
    "/h/no-location": ("download", 302, ("HTTP 302",)),
    "/h/gzip-truncated": ("download", None, ("corrupt gzip", "truncated")),
    "/h/gzip-corrupt": ("download", None, ("corrupt gzip",)),
    "/h/gzip-not-gzip": ("download", None, ("corrupt gzip",)),
    "/h/gzip-bomb": ("download", None, ("DOWNLOAD_MAXSIZE", "decompressed", "bomb")),
    "/h/deflate-bomb": ("download", None, ("DOWNLOAD_MAXSIZE", "decompressed", "bomb")),
    "/h/too-big": (
        "download",
        None,
        ("DOWNLOAD_MAXSIZE", "announced", f"more than {TEST_MAXSIZE}"),
    ),
    "/h/too-big-chunked": ("download", None, ("DOWNLOAD_MAXSIZE", f"{TEST_MAXSIZE} bytes")),
    "/h/empty": ("parse", 200, ("empty",)),
    "/h/pdf": ("parse", 200, ("PDF",)),
    "/h/noise": ("parse", 200, ("binary",)),
    "/h/tiny": ("validate", 200, ("too little article text",)),
    "/h/nested": ("extract", 200, ("no article text",)),
}

#: control pages: stored, whatever the others do
CONTROLS = [f"/ok/{i}" for i in range(1, 7)] + [
    "/ok/gzip",
    "/ok/retry-after",
    "/ok/huge-title",
    "/h/many-headers",  # 20,000 headers, but a page all the same
]

#: list entries that are no URL at all: (entry, words the reason must hold)
BAD_ENTRIES = {
    "port": ("http://127.0.0.1:99999/bad-port", ("not a valid URL", "port is out of range")),
    "ipv6": ("http://[::1/broken", ("not a valid URL", "IPv6")),
}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with HostileServer() as server:
        urls = [server.url(p) for p in (*FAILURES, *CONTROLS, "/ok/redirected")]
        long_url = server.url("/h/long?q=" + "x" * 3000)
        # the bad entries sit between good ones: nothing after them may be lost
        listing = [urls[0], BAD_ENTRIES["port"][0], *urls[1:20], BAD_ENTRIES["ipv6"][0]]
        listing += [*urls[20:], long_url]
        url_file = folder / "urls.txt"
        url_file.write_text("\n".join(listing) + "\n", encoding="utf-8")
        started = time.monotonic()
        result = scrapy_crawl(
            "urls",
            folder / "corpus.db",
            settings={
                "ALLOW_PRIVATE_HOSTS": f"127.0.0.1:{server.port}",
                "DOWNLOAD_TIMEOUT": 3,
                "DOWNLOAD_MAXSIZE": TEST_MAXSIZE,
                "RETRY_TIMES": 1,
                "CORPUS_RETRY_AFTER_MAX": 2,
                "REDIRECT_MAX_TIMES": 5,
                "AUTOTHROTTLE_ENABLED": False,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                "CLEAN_WORKERS": 0,
            },
            file=str(url_file),
        )
        result.seconds = time.monotonic() - started
        result.server = server
        result.long_url = long_url
        result.retry_times = server.times("/ok/retry-after")
        result.capped_times = server.times("/h/503-retry-after-huge")
        yield result


def _failure(crawl, url):
    rows = crawl.rows("select stage, http_status, reason from failures where url = ?", [url])
    assert len(rows) == 1, f"{url}: {rows}"
    return rows[0]


def test_the_crawl_finishes_normally_and_in_bounded_time(crawl):
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert crawl.rows("select finish_reason from crawls") == [{"finish_reason": "finished"}]
    assert crawl.seconds < 120
    assert "Traceback" not in crawl.stderr


@pytest.mark.parametrize("path", FAILURES)
def test_each_hostile_case_leaves_its_failure_row(crawl, path):
    stage, status, words = FAILURES[path]
    row = _failure(crawl, crawl.server.url(path))
    assert row["stage"] == stage, row
    assert row["http_status"] == status, row
    for word in words:
        assert word in row["reason"], row
    assert "Twisted" not in row["reason"] and "<twisted" not in row["reason"], row


@pytest.mark.parametrize("name", BAD_ENTRIES)
def test_a_bad_entry_of_the_url_list_is_its_own_parse_failure(crawl, name):
    entry, words = BAD_ENTRIES[name]
    row = _failure(crawl, entry)
    assert row["stage"] == "parse"
    for word in words:
        assert word in row["reason"], row


def test_a_url_over_urllength_limit_is_a_failure_row(crawl):
    row = _failure(crawl, crawl.long_url)
    assert row["stage"] == "download"
    assert "URLLENGTH_LIMIT" in row["reason"] and "too long" in row["reason"]


@pytest.mark.parametrize("path", CONTROLS)
def test_the_control_pages_of_the_same_crawl_are_stored(crawl, path):
    rows = crawl.rows("select title from articles where fetched_url = ?", [crawl.server.url(path)])
    assert len(rows) == 1, path


def test_every_entry_ends_in_exactly_one_place(crawl):
    """Nothing after a bad entry is lost: every listed URL has its row."""
    listed = {crawl.server.url(p) for p in (*FAILURES, *CONTROLS, "/ok/redirected")}
    listed |= {crawl.long_url, *(e for e, _ in BAD_ENTRIES.values())}
    found = {r["url"] for r in crawl.rows("select url from failures")}
    found |= {r["fetched_url"] for r in crawl.rows("select fetched_url from articles")}
    found |= {r["url"] for r in crawl.rows("select url from duplicates")}
    assert listed - found == set()
    stats = crawl.rows("select stats from crawls")[0]["stats"]
    assert "start_error" not in stats


def test_the_corpus_is_intact(crawl):
    conn = sqlite3.connect(crawl.db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_huge_title_is_bounded(crawl):
    (row,) = crawl.rows(
        "select length(title) as n from articles where fetched_url = ?",
        [crawl.server.url("/ok/huge-title")],
    )
    assert row["n"] <= 500


def test_retry_after_is_waited_for_and_capped(crawl):
    first, second = crawl.retry_times
    assert second - first >= 0.9  # Retry-After: 1
    first, second = crawl.capped_times  # Retry-After: 999999, capped at 2 s
    assert 1.8 <= second - first < 10


def test_the_requested_url_of_a_redirect_is_in_the_corpus(crawl):
    requested = crawl.server.url("/ok/redirected")
    (article,) = crawl.rows(
        "select id, url from articles where fetched_url = ?", [crawl.server.url("/ok/target")]
    )
    rows = crawl.rows("select article_id, kind from duplicates where url = ?", [requested])
    assert rows == [{"article_id": article["id"], "kind": "url"}]
    metadata = yaml.safe_load((ROOT / "crawler" / "metadata.yml").read_text(encoding="utf-8"))
    sql = metadata["corpus"]["queries"]["why_not_in_corpus"]["sql"]
    found = crawl.rows(sql, {"url": "/ok/redirected"})
    assert [(r["found_in"], r["row_id"]) for r in found] == [("duplicate", article["id"])]
