"""Hostile input found by fuzzing the pure parsers: each case once raised where
a reason, a dropped value or a record of its own was due (see
tests/test_hostile_inputs_e2e.py for the same cases through a crawl)."""

from __future__ import annotations

import gzip
import io
from datetime import datetime

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.archives.records import iso, read_records, target_uri
from crawler.downloadermiddlewares.integrity import IntegrityMiddleware, undecodable_charset
from crawler.items import Failure
from crawler.listings.entries import join_link, parse_date
from crawler.listings.feeds import parse_feed
from crawler.listings.sitemaps import parse_sitemap
from crawler.listings.sources import SourcesError, parse_sources
from crawler.netsafety import url_problem
from crawler.spiders import guard
from crawler.spiders.feeds import FeedsSpider
from crawler.urls import canonical_url, host_of, is_web_url
from tests import warcs
from tests.hostile_server import OVERFLOW_DATES

# --- dates no datetime holds ------------------------------------------------


@pytest.mark.parametrize("text", OVERFLOW_DATES)
def test_a_date_no_datetime_holds_is_no_date(text):
    assert parse_date(text) is None


def test_a_feed_with_overflowing_dates_keeps_its_entries_undated():
    items = "".join(
        f"<item><link>https://n.example/{i}</link><pubDate>{d}</pubDate></item>"
        for i, d in enumerate([*OVERFLOW_DATES, "Mon, 15 Jan 2024 10:00:00 GMT"])
    )
    body = f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>".encode()
    feed = parse_feed(body, "https://n.example/feed")
    assert [e.date is None for e in feed.entries] == [True, True, False]


def test_a_json_feed_with_an_overflowing_date_keeps_its_entry():
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "https://j.example/1",'
        f' "date_published": "{OVERFLOW_DATES[0]}"}}]}}'
    ).encode()
    (entry,) = parse_feed(body, "https://j.example/feed.json").entries
    assert entry.url == "https://j.example/1" and entry.published is None


def test_a_sitemap_with_an_overflowing_lastmod_keeps_its_entries():
    body = (
        "<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<sitemap><loc>https://s.example/1.xml</loc><lastmod>{OVERFLOW_DATES[0]}</lastmod></sitemap>"
        "</sitemapindex>"
    ).encode()
    (entry,) = parse_sitemap(body, "https://s.example/index.xml").entries
    assert entry.url == "https://s.example/1.xml" and entry.date is None


# --- URLs Python's parser refuses -------------------------------------------

BROKEN = ["http://[::1/broken", "http://[]/", "  http://[::1/x  ", "\u2028http://[::1/x"]


@pytest.mark.parametrize("url", BROKEN)
def test_url_helpers_never_raise_on_a_broken_url(url):
    assert canonical_url(url) == url.strip()
    assert host_of(url) is None
    assert is_web_url(url) is False


def test_canonical_url_still_canonicalises():
    assert canonical_url(" HTTP://News.Example/a/?utm_source=x#top ") == "http://news.example/a"


def test_an_empty_bracketed_host_is_named_for_what_it_is():
    bad = join_link("https://a.example/feed", "http://[]/x")
    assert not isinstance(bad, str) and "not an IPv6 address" in bad.reason
    assert "not an IPv6 address" in (url_problem("http://[]/x") or "")


def test_a_lone_surrogate_from_a_json_feed_is_named():
    body = b'{"version": "https://jsonfeed.org/version/1", "items": [{"url": "https://j.example/\\ud800"}]}'
    (entry,) = parse_feed(body, "https://j.example/feed.json").entries
    assert "lone surrogate" in (url_problem(entry.url) or "")
    assert url_problem("https://j.example/caf\u00e9") is None


def test_a_text_sitemap_keeps_a_broken_line_as_a_bad_link():
    sitemap = parse_sitemap(b"https://t.example/1\nhttp://[::1/broken\n", "https://t.example/s.txt")
    assert [e.url for e in sitemap.entries] == ["https://t.example/1"]
    assert [b.link for b in sitemap.bad_links] == ["http://[::1/broken"]


# --- sources.toml -----------------------------------------------------------

FEED = 'feeds = ["https://a.example/rss"]\n'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sources = 5\n", "expected tables [sources.NAME]"),
        ('sources = "x"\n', "expected tables [sources.NAME]"),
        ("defaults = 5\n[sources.a]\n" + FEED, "expected a table [defaults]"),
        ('[sources.a]\nfeeds = ["http://[::1/x"]\n', "broken IPv6"),
        ('[sources.a]\nstart = ["http://[]/"]\n', "not an IPv6 address"),
        ('[sources.a]\nfeeds = ["http://a.example:99999/rss"]\n', "port is out of range"),
        ('[sources.a]\nsitemaps = ["http:///sitemap.xml"]\n', "names no host"),
        ("[sources.a]\n" + FEED + "download_delay = inf\n", "number of seconds"),
        ("[sources.a]\n" + FEED + "download_delay = nan\n", "number of seconds"),
        ("[sources.a]\n" + FEED + 'since = "2024-13-45"\n', "real date"),
    ],
)
def test_a_bad_sources_toml_is_one_clear_error(text, words):
    with pytest.raises(SourcesError, match=r".") as err:
        parse_sources(text)
    assert words in str(err.value)


# --- WARC records -----------------------------------------------------------


def test_an_instant_utc_cannot_hold_has_no_iso_date():
    assert iso(datetime.fromisoformat("0001-01-01T00:00:00+14:00")) is None
    assert iso(datetime.fromisoformat("9999-12-31T23:59:59-14:00")) is None
    assert iso(datetime.fromisoformat("2024-01-15T10:00:00+01:00")) == "2024-01-15T09:00:00+00:00"


def _page(i: int, url: str, **kw) -> warcs.Rec:
    return warcs.response(url, warcs.article_html(f"T{i}", warcs.story_paragraphs(i)), **kw)


@pytest.mark.parametrize("gzipped", [True, False])
def test_a_record_dated_past_utc_does_not_stop_the_file(gzipped):
    recs = [
        _page(1, "https://n.example/1", date="0001-01-01T00:00:00+14:00"),
        _page(2, "https://n.example/2"),
    ]
    data = b"".join(gzip.compress(r.to_bytes(), mtime=0) if gzipped else r.to_bytes() for r in recs)

    def open_at(offset: int) -> io.BytesIO:
        stream = io.BytesIO(data)
        stream.seek(offset)
        return stream

    out = list(read_records(open_at, gzipped=gzipped))
    assert [(r.kind, r.url, r.date) for r in out] == [
        ("page", "https://n.example/1", None),
        ("page", "https://n.example/2", "2024-01-15T10:00:00+00:00"),
    ]


def test_a_target_uri_loses_its_angle_brackets():
    assert target_uri(" <https://n.example/a> ") == "https://n.example/a"
    assert target_uri("https://n.example/a") == "https://n.example/a"
    assert target_uri(None) == ""


# --- a callback that raises -------------------------------------------------


def test_every_corpus_spider_installs_the_callback_guard():
    crawler = get_crawler(FeedsSpider)
    assert crawler.settings.getwithbase("SPIDER_MIDDLEWARES")[guard.PATH] == guard.ORDER


def test_the_guard_turns_a_callback_error_into_a_failure_of_the_url_asked_for():
    crawler = get_crawler(FeedsSpider)
    mw = guard.CallbackGuard.from_crawler(crawler)
    request = Request("https://n.example/new", meta={"redirect_urls": ["https://n.example/old"]})
    response = XmlResponse("https://n.example/new", body=b"<rss/>", request=request)
    (failure,) = mw.process_spider_exception(response, OverflowError("date value out of range"))
    assert isinstance(failure, Failure)
    assert failure.url == "https://n.example/old" and failure.stage == "parse"
    assert "OverflowError: date value out of range" in failure.reason
    assert failure.http_status == 200
    assert crawler.stats.get_value("corpus/callback_errors") == 1
    # Scrapy's own control flow is left alone
    assert mw.process_spider_exception(response, IgnoreRequest("x")) is None


# --- charsets Python knows but cannot decode with ---------------------------


@pytest.mark.parametrize("label", ["undefined", "idna", "rot13", "base64"])
def test_charsets_that_decode_no_text(label):
    assert undecodable_charset(label)


@pytest.mark.parametrize("label", ["utf-8", "latin-1", "windows-1252", "x-bogus", None])
def test_charsets_that_do_or_are_unknown(label):
    assert not undecodable_charset(label)


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        (b"text/html; charset=undefined", b"<html><p>caf\xc3\xa9</p></html>"),
        (b'text/html; charset="idna"; x=1', b"<html><p>caf\xc3\xa9</p></html>"),
        (b"text/html", b"<html><meta charset='undefined'><p>caf\xc3\xa9</p></html>"),
    ],
)
def test_the_integrity_middleware_drops_a_charset_that_decodes_no_text(ctype, body):
    crawler = get_crawler(Spider)
    mw = IntegrityMiddleware.from_crawler(crawler)
    response = HtmlResponse("https://n.example/a", body=body, headers={"Content-Type": ctype})
    with pytest.raises((UnicodeError, LookupError)):
        _ = response.text  # what every later middleware and callback would meet
    out = mw.process_response(Request(response.url), response)
    assert isinstance(out, TextResponse) and "caf" in out.text
    assert b"idna" not in out.headers[b"Content-Type"]
    assert b"undefined" not in out.headers[b"Content-Type"]
    assert crawler.stats.get_value("integrity/undecodable_charset") == 1


def test_a_usable_charset_is_left_as_it_is():
    crawler = get_crawler(Spider)
    mw = IntegrityMiddleware.from_crawler(crawler)
    response = HtmlResponse(
        "https://n.example/a",
        body=b"<p>x</p>",
        headers={"Content-Type": b"text/html; charset=utf-8"},
    )
    assert mw.process_response(Request(response.url), response) is response


def test_lone_surrogates_are_replaced_before_the_corpus():
    from crawler.items import storable

    failure = Failure("https://n.example/\ud800", "parse", "caf\u00e9 \udfff", None)
    assert storable(failure)
    assert (failure.url, failure.reason) == ("https://n.example/\ufffd", "caf\u00e9 \ufffd")
    assert not storable(Failure("https://n.example/caf\u00e9", "parse", "fine", None))


# --- local lists and folders ------------------------------------------------


def test_a_url_list_line_that_is_not_utf8_is_its_own_bad_entry(tmp_path):
    from crawler.spiders.urls import given_urls

    listing = tmp_path / "urls.txt"
    listing.write_bytes(b"https://n.example/1\nhttps://n.example/caf\xe9\nhttps://n.example/2\n")
    urls = given_urls(file=str(listing))
    assert [u for u in urls if url_problem(u) is None] == [
        "https://n.example/1",
        "https://n.example/2",
    ]
    assert "not UTF-8" in (url_problem(urls[1]) or "")


def test_a_url_list_saved_as_utf16_is_read(tmp_path):
    from crawler.spiders.urls import given_urls

    listing = tmp_path / "urls.txt"
    listing.write_bytes("https://n.example/1\r\nhttps://n.example/caf\u00e9\r\n".encode("utf-16"))
    assert given_urls(file=str(listing)) == ["https://n.example/1", "https://n.example/caf\u00e9"]


def test_a_folder_entry_that_is_no_regular_file_is_listed_to_fail(tmp_path):
    import os

    from crawler.spiders.files import list_files

    (tmp_path / "a.html").write_text("<p>x</p>")
    os.mkfifo(tmp_path / "fifo.html")
    (tmp_path / "dangling.html").symlink_to(tmp_path / "missing")
    (tmp_path / "folder.html").mkdir()
    (tmp_path / "notes.md").write_text("not an article")
    names = [p.name for p in list_files(tmp_path)]
    assert names == ["a.html", "dangling.html", "fifo.html"]
