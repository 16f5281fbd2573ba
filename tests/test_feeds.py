"""crawler.listings.feeds (and crawler.listings.entries, crawler.listings.safexml): feeds read from their content."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from crawler.listings.entries import (
    Entry,
    iso_date,
    newest_first,
    parse_date,
    parse_since,
    priority,
    select,
)
from crawler.listings.feeds import FeedError, parse_feed
from tests.webserver import SITE

BASE = "http://news.example"


def site_file(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_rss_entries_with_metadata_and_relative_links():
    feed = parse_feed(site_file("feeds/main"), f"{BASE}/feeds/main")
    assert feed.kind == "rss" and feed.title == "Harbour Gazette" and feed.language == "en"
    urls = [e.url for e in feed.entries]
    assert urls == [
        f"{BASE}/2024/05/14/harbour-flood-defences-approved.html",
        f"{BASE}/news/feed-only-story.html",  # relative <link> resolved
        "file:///etc/passwd",  # listed as given; the spider refuses it
        f"{BASE}/news/old-archive-story.html",
    ]
    ferry = feed.entries[1]
    assert ferry.author == "Tomás Ferreira"
    assert ferry.published == "2024-05-13T15:45:00+02:00"
    assert ferry.hints() == {
        "title": "Ferry timetable changes for the summer season",
        "published": "2024-05-13T15:45:00+02:00",
        "author": "Tomás Ferreira",
        "language": "en",
        "site": "Harbour Gazette",
    }


def test_atom_detected_from_content_not_name():
    feed = parse_feed(site_file("feeds/atom.rss"), f"{BASE}/feeds/atom.rss")
    assert feed.kind == "atom"
    first = feed.entries[0]
    assert first.url == f"{BASE}/2024/05/13/council-budget-vote-delayed.html"
    assert first.author == "Jonas Berg"
    assert first.published == "2024-05-13T17:30:00+00:00"  # published wins over updated
    assert feed.entries[1].author == "Harbour Gazette newsroom"  # the feed's author


def test_json_feed_detected_from_content_not_name():
    feed = parse_feed(site_file("feeds/world.xml"), f"{BASE}/feeds/world.xml")
    assert feed.kind == "jsonfeed" and feed.language == "en"
    assert [e.author for e in feed.entries] == ["Lea Novak", "Ola Nordmann", None]


def test_rss_guid_permalink_and_gzip():
    rss = (
        b'<rss version="2.0"><channel><title>T</title><item><title>A</title>'
        b"<guid>https://n.example/a</guid></item><item><title>no link</title>"
        b'<guid isPermaLink="false">x1</guid></item></channel></rss>'
    )
    feed = parse_feed(gzip.compress(rss), "https://n.example/feed")
    assert [e.url for e in feed.entries] == ["https://n.example/a"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "HTML page"),
        (b"<urlset></urlset>", "not a feed"),
        (b"<rss><channel><title>x</item></rss>", "not well-formed"),
        (b"<rss version='2.0'></rss>", "no <channel>"),
        (b'{"items": []}', "jsonfeed.org"),
        (b"{not json", "unreadable JSON"),
        (b"%PDF-1.4 binary", "neither XML"),
        (gzip.compress(b"x" * 200), "expands to more than"),
    ],
)
def test_bad_feeds_say_why(body, words):
    with pytest.raises(FeedError, match=words):
        parse_feed(body, "https://n.example/feed", max_size=100)


@pytest.mark.parametrize("name", ["bad/bomb.xml", "bad/xxe.xml"])
def test_entity_declarations_are_refused(name):
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(site_file(name), f"{BASE}/{name}")


def test_entities_are_never_expanded_even_unannounced():
    # An external entity in a UTF-16 document slips past the byte pre-scan;
    # the parser neither resolves it nor accepts the declaration.
    doc = (
        '<?xml version="1.0" encoding="utf-16"?>'
        '<!DOCTYPE rss [<!ENTITY s SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>&s;</title></channel></rss>'
    ).encode("utf-16")
    with pytest.raises(FeedError, match="entities"):
        parse_feed(doc, "https://n.example/feed")


# --- dates, since, order ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Tue, 14 May 2024 09:00:00 GMT", "2024-05-14T09:00:00+00:00"),
        ("Mon, 13 May 2024 15:45:00 +0200", "2024-05-13T15:45:00+02:00"),
        ("2024-05-14T09:00:00Z", "2024-05-14T09:00:00+00:00"),
        ("2024-05-14T06:00+02:00", "2024-05-14T06:00:00+02:00"),
        ("2024-05-14", "2024-05-14"),
        ("2024-05", "2024-05-01T00:00:00+00:00"),
        ("yesterday", None),
        ("", None),
    ],
)
def test_dates(text, iso):
    assert iso_date(text) == iso


@pytest.mark.parametrize("text", ["2024-5-1", "01/05/2024", "2024-02-30", "last week"])
def test_bad_since(text):
    with pytest.raises(ValueError, match="since"):
        parse_since(text)


def test_select_filters_before_since_and_orders_newest_first():
    entries = [
        Entry("a", date=parse_date("2019-03-02")),
        Entry("b", date=parse_date("2024-05-12T10:00Z")),
        Entry("c"),  # undated: kept, last
        Entry("d", date=parse_date("2024-05-14T06:00+02:00")),
        Entry("e", date=parse_date("2023-12-31T23:30:00-01:00")),  # 31 Dec where published
    ]
    kept, older = select(entries, date(2024, 1, 1))
    assert [e.url for e in kept] == ["d", "b", "c"] and older == 2
    assert [e.url for e in newest_first(entries)][:2] == ["d", "b"]
    assert priority(kept[0]) > priority(kept[1]) > priority(kept[2]) == 0
    assert select(entries, None)[1] == 0


def test_json_feed_file_is_valid_json():
    json.loads(site_file("feeds/world.xml"))


@pytest.mark.parametrize(
    ("link", "words"),
    [("http://[::1/broken", "IPv6"), ("http://news.example:99999/x", "port")],
)
def test_an_unusable_link_is_kept_aside_and_the_feed_read(link, words):
    body = (
        "<rss version='2.0'><channel><title>T</title>"
        "<item><link>/first</link></item>"
        f"<item><link>{link}</link></item>"
        "<item><link>/third</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, f"{BASE}/feed")
    assert [e.url for e in feed.entries] == [f"{BASE}/first", f"{BASE}/third"]
    (bad,) = feed.bad_links
    assert bad.link == link and "not a valid URL" in bad.reason and words in bad.reason


def test_an_unusable_link_in_json_and_atom_feeds():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [{"url": "http://[::1/broken"}, {"url": f"{BASE}/ok"}],
        }
    ).encode()
    feed = parse_feed(body, f"{BASE}/feed.json")
    assert [e.url for e in feed.entries] == [f"{BASE}/ok"] and len(feed.bad_links) == 1
    atom = (
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
        "<entry><link href='http://[::1/broken'/></entry>"
        f"<entry><link href='{BASE}/ok'/></entry></feed>"
    ).encode()
    feed = parse_feed(atom, f"{BASE}/atom")
    assert [e.url for e in feed.entries] == [f"{BASE}/ok"] and len(feed.bad_links) == 1
