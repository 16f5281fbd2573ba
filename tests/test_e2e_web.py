"""End to end over HTTP: the real ``scrapy crawl urls|feeds|sitemaps|site``
against the fixture news site served on 127.0.0.1 by tests/webserver.py.

Each crawl runs once per module and serves several assertions, on the corpus
and on the server's request log (what was, and was never, requested).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.helpers import CrawlResult, crawl_stats, run_scrapy, scrapy_crawl
from tests.webserver import SiteServer

pytestmark = pytest.mark.e2e

CONTACT = "https://corpus.example/about-our-crawler"
WEB = {"ALLOW_PRIVATE_NETWORKS": True, "AUTOTHROTTLE_ENABLED": False}
HARBOUR = "/2024/05/14/harbour-flood-defences-approved.html"
OLD = "/news/old-archive-story.html"
PRIVATE = "/private/internal-memo.html"


@dataclass
class WebCrawl:
    result: CrawlResult
    paths: list[str]  # request paths the server saw during this crawl, in order
    agents: list[str]

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        return self.result.rows(sql, params)

    @property
    def stats(self) -> dict:
        return crawl_stats(self.result)

    def count(self, path: str) -> int:
        return sum(1 for p in self.paths if p == path)

    def dump(self) -> str:
        """Everything the corpus holds, as one string (to look for leaks)."""
        parts = []
        for table in ("articles", "duplicates", "failures"):
            parts += [
                json.dumps(r, ensure_ascii=False) for r in self.rows(f"select * from {table}")
            ]
        return "\n".join(parts)


@pytest.fixture(scope="module")
def server():
    with SiteServer() as srv:
        yield srv


def run(server, tmp_path_factory, spider, *, settings=None, db=None, **args) -> WebCrawl:
    db_path = db or tmp_path_factory.mktemp(spider) / "corpus.db"
    before = len(server.log)
    result = scrapy_crawl(spider, db_path, settings={**WEB, **(settings or {})}, **args)
    assert result.returncode == 0, result.stderr[-3000:]
    log = server.log[before:]
    return WebCrawl(result, [e.path for e in log], [e.user_agent for e in log])


# --- urls: bad responses are data -----------------------------------------------

BAD = [
    # path, stage, http_status, words in the reason
    ("/bad/missing", "download", 404, "HTTP 404"),
    ("/bad/gone", "download", 410, "HTTP 410"),
    ("/bad/error", "download", 500, "HTTP 500"),
    ("/bad/loop-a", "download", None, "redirect loop"),
    ("/bad/slow", "download", None, "timed out"),
    ("/bad/annual-report", "parse", 200, "PDF"),
    ("/bad/noise", "parse", 200, "binary"),
    ("/bad/empty", "parse", 200, "empty"),
    ("/bad/huge", "download", None, "DOWNLOAD_MAXSIZE"),
    ("/bad/gzip-bomb", "download", None, "DOWNLOAD_MAXSIZE once decompressed"),
    ("/bad/to-file", "download", None, "never followed"),
    (PRIVATE, "download", None, "disallowed by robots.txt"),
]
GOOD = [
    HARBOUR,
    HARBOUR + "?utm_source=newsletter&utm_medium=email",
    "/amp" + HARBOUR,
    "/ru/novosti.html",
    "/news/sitemap-story.html",
]


@pytest.fixture(scope="module")
def urls_crawl(server, tmp_path_factory) -> WebCrawl:
    urls = [server.url(p) for p in GOOD] + [server.url(p) for p, *_ in BAD] + ["file:///etc/passwd"]
    return run(
        server,
        tmp_path_factory,
        "urls",
        urls=",".join(urls),
        settings={
            "DOWNLOAD_TIMEOUT": 2,
            "RETRY_TIMES": 1,
            "DOWNLOAD_MAXSIZE": 100_000,
            "CORPUS_CONTACT_URL": CONTACT,
        },
    )


@pytest.mark.parametrize(("path", "stage", "status", "words"), BAD, ids=[b[0] for b in BAD])
def test_each_bad_url_is_one_failure_row(urls_crawl, server, path, stage, status, words):
    rows = urls_crawl.rows(
        "select stage, http_status, reason from failures where url = ?", [server.url(path)]
    )
    assert len(rows) == 1, rows
    assert rows[0]["stage"] == stage and rows[0]["http_status"] == status
    assert words in rows[0]["reason"], rows[0]


def test_crawl_with_bad_urls_finishes_normally(urls_crawl):
    crawl_row = urls_crawl.rows("select finish_reason from crawls")[0]
    assert crawl_row["finish_reason"] == "finished"
    assert "Traceback" not in urls_crawl.result.stderr


def test_every_given_url_ends_in_exactly_one_place(urls_crawl, server):
    given = (
        {server.url(p) for p in GOOD} | {server.url(p) for p, *_ in BAD} | {"file:///etc/passwd"}
    )
    # an article is found under its canonical URL or the URL it was fetched from
    stored = {
        u for r in urls_crawl.rows("select url, fetched_url from articles") for u in r.values()
    }
    dups = [r["url"] for r in urls_crawl.rows("select url from duplicates")]
    failed = [r["url"] for r in urls_crawl.rows("select url from failures")]
    for url in given:
        places = (url in stored) + dups.count(url) + failed.count(url)
        assert places == 1, (url, places)
    assert set(dups) | set(failed) <= given


def test_retries_and_robots(urls_crawl):
    assert urls_crawl.count("/bad/error") == 2  # RETRY_TIMES=1
    assert urls_crawl.count(PRIVATE) == 0
    assert urls_crawl.stats["robotstxt/forbidden"] == 1


def test_local_files_are_never_read(urls_crawl):
    row = urls_crawl.rows("select stage, reason from failures where url = 'file:///etc/passwd'")
    assert (
        row == [{"stage": "validate", "reason": row[0]["reason"]}] and "http(s)" in row[0]["reason"]
    )
    assert "root:" not in urls_crawl.dump()
    assert urls_crawl.stats["netsafety/refused/redirect_scheme"] == 1


def test_tracking_and_amp_variants_are_stored_once(urls_crawl, server):
    articles = urls_crawl.rows(
        "select id, url, fetched_url from articles where url = ?", [server.url(HARBOUR)]
    )
    assert len(articles) == 1
    # Whichever variant arrived first is the article's fetched_url (the AMP page
    # names the canonical URL, so the article's url is the canonical one).
    variants = {server.url(p) for p in GOOD[:3]} - {articles[0]["fetched_url"], articles[0]["url"]}
    dups = urls_crawl.rows("select url, kind, article_id from duplicates")
    assert {d["url"] for d in dups} == variants
    assert all(d["kind"] in ("url", "exact") and d["article_id"] == articles[0]["id"] for d in dups)


def test_meta_charset_windows_1251_is_readable(urls_crawl, server):
    row = urls_crawl.rows(
        "select title, text from articles where url = ?", [server.url("/ru/novosti.html")]
    )[0]
    assert row["title"] == "В порту открылся новый пассажирский терминал"
    assert "два тысяч" not in row["text"] and "пассажиров в час" in row["text"]


def test_user_agent_carries_contact_url(urls_crawl):
    assert urls_crawl.agents and all(
        CONTACT in ua and ua.startswith("newscorpus-crawler/") for ua in urls_crawl.agents
    )


def test_page_alone_has_no_date_or_headline(urls_crawl, server):
    # The same page the news sitemap describes: without the sitemap's hints
    # nothing on it gives its date or headline (see test_news_sitemap_metadata).
    row = urls_crawl.rows(
        "select title, published from articles where url = ?",
        [server.url("/news/sitemap-story.html")],
    )[0]
    assert row["published"] is None
    assert row["title"] != "Night trains return to the northern line"


# --- feeds ------------------------------------------------------------------------

BAD_FEEDS = {
    "/bad/broken-feed.xml": "not well-formed",
    "/bad/bomb.xml": "entities",
    "/bad/xxe.xml": "entities",
    "/": "HTML page",
}


@pytest.fixture(scope="module")
def feeds_crawl(server, tmp_path_factory) -> WebCrawl:
    feeds = ["/feeds/main", "/feeds/atom.rss", "/feeds/world.xml", *BAD_FEEDS]
    return run(
        server,
        tmp_path_factory,
        "feeds",
        since="2024-01-01",
        feeds=",".join(server.url(f) for f in feeds),
    )


def test_feeds_of_three_formats_become_articles(feeds_crawl, server):
    stats = feeds_crawl.stats
    assert stats["feeds/read/rss"] == stats["feeds/read/atom"] == stats["feeds/read/jsonfeed"] == 1
    urls = {r["url"] for r in feeds_crawl.rows("select url from articles")}
    assert urls == {
        server.url(p)
        for p in (
            HARBOUR,
            "/news/feed-only-story.html",
            "/2024/05/13/council-budget-vote-delayed.html",
            "/2024/05/12/museum-reopens-after-renovation.html",
            "/world/rail-strike-talks-resume-after-weekend",
        )
    }


def test_since_filters_before_download(feeds_crawl):
    assert feeds_crawl.count(OLD) == 0
    assert feeds_crawl.stats["feeds/skipped_old"] == 3


def test_feed_metadata_fills_what_the_page_lacks(feeds_crawl, server):
    row = feeds_crawl.rows(
        "select author, published, title from articles where url = ?",
        [server.url("/news/feed-only-story.html")],
    )[0]
    assert row["author"] == "Tomás Ferreira"
    assert row["published"] == "2024-05-13T15:45:00+02:00"
    # the page's own metadata wins where it has some
    row = feeds_crawl.rows("select author from articles where url = ?", [server.url(HARBOUR)])[0]
    assert row["author"] == "Maria Jensen"


@pytest.mark.parametrize(("path", "words"), BAD_FEEDS.items())
def test_bad_feeds_are_one_parse_failure(feeds_crawl, server, path, words):
    rows = feeds_crawl.rows("select stage, reason from failures where url = ?", [server.url(path)])
    assert len(rows) == 1 and rows[0]["stage"] == "parse" and words in rows[0]["reason"], rows


def test_hostile_feeds_leak_nothing(feeds_crawl):
    assert (
        feeds_crawl.count("/news/bomb-entry.html") == feeds_crawl.count("/news/xxe-entry.html") == 0
    )
    assert "root:" not in feeds_crawl.dump() and "lollol" not in feeds_crawl.dump()
    assert feeds_crawl.stats["feeds/skipped_not_web"] == 1  # the file:///etc/passwd item
    assert feeds_crawl.rows("select count(*) n from failures")[0]["n"] == len(BAD_FEEDS)


def test_second_feed_crawl_downloads_no_known_article(feeds_crawl, server, tmp_path_factory):
    again = run(
        server,
        tmp_path_factory,
        "feeds",
        db=feeds_crawl.result.db_path,
        since="2024-01-01",
        feeds=server.url("/feeds/main") + "," + server.url("/feeds/world.xml"),
    )
    assert again.paths and all(p.startswith(("/feeds/", "/robots.txt")) for p in again.paths)
    assert again.stats["corpus/skipped/known_unfetched"] == 4
    assert again.rows("select count(*) n from articles")[0]["n"] == 5


# --- sitemaps ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sitemaps_crawl(server, tmp_path_factory) -> WebCrawl:
    # One request at a time, so that the server sees the scheduler's order.
    return run(
        server,
        tmp_path_factory,
        "sitemaps",
        since="2024-01-01",
        settings={"CONCURRENT_REQUESTS": 1},
        sitemaps=server.url("/robots.txt") + "," + server.url("/bad/broken-sitemap.xml"),
    )


def test_robots_index_news_and_gzipped_sitemaps(sitemaps_crawl, server):
    for path in ("/sitemaps/index.xml", "/sitemaps/news.xml", "/sitemaps/pages.xml.gz"):
        assert sitemaps_crawl.count(path) == 1, path
    urls = {r["url"] for r in sitemaps_crawl.rows("select url from articles")}
    assert urls == {
        server.url(p)
        for p in (
            HARBOUR,
            "/news/sitemap-story.html",
            "/2024/05/13/council-budget-vote-delayed.html",
            "/2024/05/12/museum-reopens-after-renovation.html",
            "/world/rail-strike-talks-resume-after-weekend",
        )
    }


def test_sitemap_since_filters_before_download(sitemaps_crawl):
    assert sitemaps_crawl.count("/sitemaps/2018.xml") == 0
    assert sitemaps_crawl.count("/news/2018-only-story.html") == 0
    assert sitemaps_crawl.count(OLD) == 0
    assert sitemaps_crawl.stats["sitemaps/skipped_old"] == 1
    assert sitemaps_crawl.stats["sitemaps/skipped_old_sitemaps"] == 1


def test_news_sitemap_metadata(sitemaps_crawl, server):
    row = sitemaps_crawl.rows(
        "select title, published, language, text from articles where url = ?",
        [server.url("/news/sitemap-story.html")],
    )[0]
    assert row["title"] == "Night trains return to the northern line"
    assert row["published"] == "2024-05-14T06:00:00+02:00"
    assert row["language"] == "en"
    assert row["text"].startswith("Night trains will return to the northern line")


def test_sitemap_articles_newest_first(sitemaps_crawl):
    order = [p for p in sitemaps_crawl.paths if p.startswith(("/2024/", "/news/"))]
    museum, council = (
        order.index("/2024/05/12/museum-reopens-after-renovation.html"),
        order.index("/2024/05/13/council-budget-vote-delayed.html"),
    )
    assert council < museum, order


def test_sitemap_failures(sitemaps_crawl, server):
    rows = {r["url"]: r for r in sitemaps_crawl.rows("select url, stage, reason from failures")}
    assert set(rows) == {server.url("/bad/broken-sitemap.xml"), server.url(PRIVATE)}
    assert rows[server.url("/bad/broken-sitemap.xml")]["stage"] == "parse"
    assert rows[server.url(PRIVATE)]["reason"] == "disallowed by robots.txt"
    assert sitemaps_crawl.count(PRIVATE) == 0


# --- site ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_crawl(server, tmp_path_factory) -> WebCrawl:
    return run(server, tmp_path_factory, "site", start=server.url("/"))


def test_site_stores_only_articles(site_crawl, server):
    urls = {r["url"] for r in site_crawl.rows("select url from articles")}
    assert urls == {
        server.url(p)
        for p in (
            HARBOUR,
            "/2024/05/13/council-budget-vote-delayed.html",
            "/2024/05/12/museum-reopens-after-renovation.html",
            "/world/rail-strike-talks-resume-after-weekend",
        )
    }
    assert site_crawl.count("/world/") == site_crawl.count("/tag/climate/") == 1
    assert site_crawl.stats["site/skipped_non_article"] >= 3


def test_site_non_articles_and_robots_are_not_failures(site_crawl):
    assert site_crawl.rows("select url, reason from failures") == []
    assert site_crawl.count(PRIVATE) == 0
    assert site_crawl.stats["site/skipped_robots"] == 1


def test_site_depth_and_tracking_links(site_crawl):
    assert site_crawl.count("/2024/05/10/deep-archive-piece.html") == 0  # 3 links away
    assert not any("utm_" in p for p in site_crawl.paths)
    assert site_crawl.count(HARBOUR) == 1
    assert site_crawl.count("/") == 1


def test_site_never_follows_non_http_or_offsite_links(site_crawl):
    assert site_crawl.stats["site/skipped_non_http_links"] >= 3  # file:, ftp:, data:
    assert site_crawl.stats["site/skipped_offsite_links"] >= 1
    assert "root:" not in site_crawl.dump() and "file:" not in site_crawl.dump()
    assert not any(p.endswith(".pdf") for p in site_crawl.paths)


# --- private networks -----------------------------------------------------------------


def test_loopback_refused_without_allow_private_networks(server, tmp_path):
    port = server.base.rsplit(":", 1)[1]
    urls = [server.url(HARBOUR), f"http://localhost:{port}{HARBOUR}"]
    before = len(server.log)
    result = scrapy_crawl(
        "urls", tmp_path / "c.db", settings={"AUTOTHROTTLE_ENABLED": False}, urls=",".join(urls)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert server.log[before:] == []  # not even robots.txt
    rows = {r["url"]: r["reason"] for r in result.rows("select url, reason from failures")}
    assert set(rows) == set(urls)
    assert "127.0.0.1 is a loopback address" in rows[urls[0]]
    assert "localhost resolves to" in rows[urls[1]]
    assert all("ALLOW_PRIVATE_NETWORKS=True" in r for r in rows.values())
    assert result.rows("select count(*) n from articles")[0]["n"] == 0


def test_connection_time_resolver_refuses_a_name_the_request_check_let_through(server, tmp_path):
    """DNS rebinding: a name checked when the request is scheduled can resolve
    elsewhere when the connection is made. With the request-time check switched
    off, the resolver alone must still refuse a loopback answer."""
    port = server.base.rsplit(":", 1)[1]
    url = f"http://localhost:{port}{HARBOUR}"
    before = len(server.log)
    no_request_check = json.dumps(
        {"crawler.downloadermiddlewares.safety.WebSafetyMiddleware": None}
    )
    result = scrapy_crawl(
        "urls",
        tmp_path / "c.db",
        settings={
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "DOWNLOADER_MIDDLEWARES": no_request_check,
        },
        urls=url,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert server.log[before:] == []  # never connected
    rows = result.rows("select url, stage, reason from failures")
    assert [r["url"] for r in rows] == [url]
    assert rows[0]["stage"] == "download"
    assert "localhost resolves to 127.0.0.1" in rows[0]["reason"]
    assert "ALLOW_PRIVATE_NETWORKS=True" in rows[0]["reason"]


# --- arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["urls"], "give either"),
        (["urls", "-a", "file=/no/such/list.txt"], "does not exist"),
        (["urls", "-a", "url=http://x.example/"], "unknown argument"),
        (["feeds", "-a", "feeds=http://x.example/f", "-a", "since=May 2024"], "YYYY-MM-DD"),
        (["sitemaps", "-a", "sitemaps=ftp://x.example/s.xml"], "not an http(s) URL"),
        (["site", "-a", "start=http://x.example/", "-a", "depth=deep"], "whole number"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message):
    proc = run_scrapy("crawl", *args)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_url_file_with_comments(server, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# morning list\n\n{server.url(HARBOUR)}\n  # {server.url(OLD)}\n")
    before = len(server.log)
    result = scrapy_crawl("urls", tmp_path / "c.db", settings=WEB, file=str(listing))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.rows("select url from articles") == [{"url": server.url(HARBOUR)}]
    assert OLD not in [e.path for e in server.log[before:]]


def test_the_same_feeds_command_again_only_looks_at_newer_entries(server, tmp_path_factory):
    feeds = server.url("/feeds/main")
    db = tmp_path_factory.mktemp("feeds-again") / "corpus.db"
    first = run(server, tmp_path_factory, "feeds", db=db, feeds=feeds)
    assert first.stats.get("feeds/skipped_old", 0) == 0
    again = run(server, tmp_path_factory, "feeds", db=db, feeds=feeds)
    # Every dated entry is older than the first crawl: none is even considered.
    assert again.stats["corpus/since_last_crawl"]
    assert again.stats["feeds/skipped_old"] >= 3
    assert all(p.startswith(("/feeds/", "/robots.txt")) for p in again.paths)
    # refresh=1 looks at every entry again.
    refreshed = run(server, tmp_path_factory, "feeds", db=db, feeds=feeds, refresh="1")
    assert "corpus/since_last_crawl" not in refreshed.stats
    assert any(not p.startswith(("/feeds/", "/robots.txt")) for p in refreshed.paths)
