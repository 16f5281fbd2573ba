"""crawler.listings.sitemaps: indexes, URL sets, Google News tags, gzip, robots.txt."""

from __future__ import annotations

import gzip

import pytest

from crawler.listings.sitemaps import SitemapError, is_robots_url, parse_sitemap, robots_sitemaps
from tests.webserver import SITE

BASE = "http://news.example"


def site_file(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_index_lists_child_sitemaps_with_lastmod():
    sitemap = parse_sitemap(site_file("sitemaps/index.xml"), f"{BASE}/sitemaps/index.xml")
    assert sitemap.is_index
    assert [e.url.rsplit("/", 1)[1] for e in sitemap.entries] == [
        "2018.xml",
        "news.xml",
        "pages.xml.gz",
    ]
    assert sitemap.entries[0].date.year == 2018


def test_news_sitemap_metadata():
    sitemap = parse_sitemap(site_file("sitemaps/news.xml"), f"{BASE}/sitemaps/news.xml")
    assert sitemap.kind == "urlset"
    story = sitemap.entries[1]
    assert story.url == f"{BASE}/news/sitemap-story.html"
    assert story.hints() == {
        "title": "Night trains return to the northern line",
        "published": "2024-05-14T06:00:00+02:00",
        "language": "en",
        "site": "Harbour Gazette",
    }


def test_gzipped_sitemap():
    body = gzip.compress(site_file("sitemaps/pages.xml"))
    sitemap = parse_sitemap(body, f"{BASE}/sitemaps/pages.xml.gz")
    assert len(sitemap.entries) == 5
    assert sitemap.entries[0].date.year == 2019 and sitemap.entries[4].date is None


def test_gzip_bomb_is_bounded():
    body = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    with pytest.raises(SitemapError, match="expands to more than"):
        parse_sitemap(body, f"{BASE}/s.xml.gz", max_size=1_000_000)


def test_text_sitemap():
    sitemap = parse_sitemap(
        b"https://n.example/a\n\nhttps://n.example/b\n", "https://n.example/s.txt"
    )
    assert sitemap.kind == "text" and [e.url for e in sitemap.entries] == [
        "https://n.example/a",
        "https://n.example/b",
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"<html><body>Not here</body></html>", "HTML page"),
        (site_file("bad/broken-sitemap.xml"), "not well-formed"),
        (b"<rss version='2.0'><channel/></rss>", "not a sitemap"),
        (b"hello world, this is text", "not a sitemap"),
        (site_file("bad/bomb.xml").replace(b"rss", b"urlset"), "declares XML entities"),
        (b"\x00\x01\x02\xff\xfe", "not a sitemap"),
    ],
)
def test_bad_sitemaps_say_why(body, words):
    with pytest.raises(SitemapError, match=words):
        parse_sitemap(body, f"{BASE}/sitemap.xml")


def test_robots_sitemap_lines():
    text = (
        "User-agent: *\nDisallow: /private/\n"
        "Sitemap: https://n.example/a.xml\nsitemap:/relative.xml # comment\n"
        "SITEMAP: https://n.example/a.xml\n"
    )
    assert robots_sitemaps(text, "https://n.example/robots.txt") == [
        "https://n.example/a.xml",
        "https://n.example/relative.xml",
    ]
    assert is_robots_url("https://n.example/robots.txt")
    assert not is_robots_url("https://n.example/sitemap.xml")


def test_an_unusable_loc_is_kept_aside_and_the_sitemap_read():
    body = (
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<url><loc>https://news.example/a</loc></url>"
        b"<url><loc>http://[::1/broken</loc></url>"
        b"<url><loc>https://news.example:99999/b</loc></url>"
        b"<url><loc>https://news.example/c</loc></url></urlset>"
    )
    sitemap = parse_sitemap(body, "https://news.example/sitemap.xml")
    assert [e.url for e in sitemap.entries] == ["https://news.example/a", "https://news.example/c"]
    assert [b.link for b in sitemap.bad_links] == [
        "http://[::1/broken",
        "https://news.example:99999/b",
    ]
    assert all("not a valid URL" in b.reason for b in sitemap.bad_links)


def test_an_unusable_line_of_a_text_sitemap_and_robots_txt():
    sitemap = parse_sitemap(b"https://a.example/1\nhttp://[::1/x\n", "https://a.example/s.txt")
    assert [e.url for e in sitemap.entries] == ["https://a.example/1"]
    assert len(sitemap.bad_links) == 1
    text = "Sitemap: http://[::1/x\nSitemap: https://a.example/s.xml\n"
    assert robots_sitemaps(text, "https://a.example/robots.txt") == ["https://a.example/s.xml"]
