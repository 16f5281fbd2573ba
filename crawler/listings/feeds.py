"""RSS 2.0 (and 1.0), Atom and JSON Feed, read from their content.

Pure: no Scrapy. :func:`parse_feed` detects the format from the bytes (never
from the file name or the content type), parses XML with
:func:`crawler.listings.safexml.parse_xml` and returns the entries with the metadata
the feed gives: title, date, author, language and the feed's own title as the
site name. Relative links are resolved against the feed's URL. A link that is
no usable URL (a port out of range, a broken IPv6 host) is kept in
:attr:`Feed.bad_links` with the reason, and the rest of the feed is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crawler.extract.decoding import MAX_DECOMPRESSED
from crawler.listings.entries import (
    BadLink,
    Entry,
    iso_date,
    join_link,
    normalize_language,
    parse_date,
)
from crawler.listings.safexml import (
    XMLError,
    child,
    child_text,
    children,
    listing_body,
    local,
    looks_like_xml,
    parse_xml,
    text_of,
)

_FORMATS = " (RSS, Atom or JSON Feed)"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class FeedError(ValueError):
    """Not a feed this crawler can read; ``str(exc)`` says why."""


@dataclass
class Feed:
    kind: str  # rss, rdf, atom or jsonfeed
    title: str | None = None
    language: str | None = None
    entries: list[Entry] = field(default_factory=list)
    #: links that are no usable URL, each with what is wrong with it
    bad_links: list[BadLink] = field(default_factory=list)

    def add(self, entry: Entry | BadLink | None) -> None:
        if isinstance(entry, BadLink):
            self.bad_links.append(entry)
        elif entry is not None:
            self.entries.append(entry)


def parse_feed(body: bytes, url: str, *, max_size: int = MAX_DECOMPRESSED) -> Feed:
    """Parse a feed's bytes (gzip allowed, bounded by ``max_size``)."""
    stripped = listing_body(body, max_size, FeedError, "feed", _FORMATS)
    if stripped[:1] in (b"{", b"["):
        return _json_feed(stripped, url)
    if not looks_like_xml(stripped):
        raise FeedError("not a feed: neither XML (RSS, Atom) nor JSON Feed")
    try:
        root = parse_xml(stripped)
    except XMLError as exc:
        raise FeedError(f"unreadable feed: {exc}") from None
    name = local(root.tag).lower()
    if name == "rss":
        return _rss(root, url)
    if name == "rdf":
        return _rdf(root, url)
    if name == "feed":
        return _atom(root, url)
    if name == "html":
        raise FeedError(f"an HTML page, not a feed{_FORMATS}")
    raise FeedError(f"not a feed: the XML document is <{local(root.tag)}>, not <rss> or <feed>")


def _entry(
    url: str,
    link: str | None,
    *,
    title: str | None,
    date: str | None,
    author: str | None,
    language: str | None,
    site: str | None,
) -> Entry | BadLink | None:
    if not link:
        return None
    joined = join_link(url, link)
    if isinstance(joined, BadLink):
        return joined
    return Entry(
        url=joined,
        title=title,
        published=iso_date(date),
        author=author,
        language=_lang(language),
        site=site,
        date=parse_date(date),
    )


def _lang(value: str | None) -> str | None:
    return normalize_language(value)


def _first_text(el: Any, *names: str) -> str | None:
    for name in names:
        value = child_text(el, name)
        if value:
            return value
    return None


def _rss(root: Any, url: str) -> Feed:
    channel = child(root, "channel")
    if channel is None:
        raise FeedError("malformed RSS: no <channel> element")
    feed = Feed(
        "rss", title=child_text(channel, "title"), language=_lang(child_text(channel, "language"))
    )
    for item in children(channel, "item"):
        link = child_text(item, "link")
        if not link:
            guid = child(item, "guid")
            if guid is not None and guid.get("isPermaLink", "true").lower() == "true":
                link = text_of(guid)
        entry = _entry(
            url,
            link,
            title=child_text(item, "title"),
            date=_first_text(item, "pubDate", "date", "published", "updated"),
            author=_first_text(item, "creator", "author"),
            language=feed.language,
            site=feed.title,
        )
        feed.add(entry)
    return feed


def _rdf(root: Any, url: str) -> Feed:
    channel = child(root, "channel")
    feed = Feed("rdf", title=child_text(channel, "title") if channel is not None else None)
    if channel is not None:
        feed.language = _lang(child_text(channel, "language"))
    for item in children(root, "item"):
        entry = _entry(
            url,
            child_text(item, "link"),
            title=child_text(item, "title"),
            date=child_text(item, "date"),
            author=child_text(item, "creator"),
            language=feed.language,
            site=feed.title,
        )
        feed.add(entry)
    return feed


def _atom_link(el: Any) -> str | None:
    fallback = None
    for link in children(el, "link"):
        href = link.get("href")
        rel = (link.get("rel") or "alternate").lower()
        if href and rel == "alternate":
            ctype = (link.get("type") or "text/html").lower()
            if "html" in ctype:
                return href
            fallback = fallback or href
    return fallback


def _atom_author(el: Any) -> str | None:
    names = [n for a in children(el, "author") if (n := child_text(a, "name"))]
    return ", ".join(names) or None


def _atom(root: Any, url: str) -> Feed:
    base = root.base or url
    feed = Feed("atom", title=child_text(root, "title"), language=_lang(root.get(_XML_LANG)))
    feed_author = _atom_author(root)
    for item in children(root, "entry"):
        entry = _entry(
            item.base or base,
            _atom_link(item),
            title=child_text(item, "title"),
            date=_first_text(item, "published", "updated", "issued", "modified"),
            author=_atom_author(item) or feed_author,
            language=item.get(_XML_LANG) or feed.language,
            site=feed.title,
        )
        feed.add(entry)
    return feed


def _json_feed(body: bytes, url: str) -> Feed:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"unreadable JSON Feed: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError('not a JSON Feed: no "items" list')
    version = str(data.get("version", ""))
    if "jsonfeed.org" not in version:
        raise FeedError('not a JSON Feed: no jsonfeed.org "version"')
    title = _str(data.get("title"))
    feed = Feed("jsonfeed", title=title, language=_lang(_str(data.get("language"))))
    feed_author = _json_author(data)
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = _str(item.get("url")) or _str(item.get("external_url"))
        entry = _entry(
            url,
            link,
            title=_str(item.get("title")),
            date=_str(item.get("date_published")) or _str(item.get("date_modified")),
            author=_json_author(item) or feed_author,
            language=_str(item.get("language")) or feed.language,
            site=title,
        )
        feed.add(entry)
    return feed


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return None


def _json_author(obj: dict[str, Any]) -> str | None:
    authors = obj.get("authors")
    if not isinstance(authors, list):
        authors = [obj.get("author")]
    names = [_str(a.get("name")) for a in authors if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None
