"""Sitemaps: indexes, URL sets (with Google News tags), text sitemaps, robots.txt.

Pure: no Scrapy. :func:`parse_sitemap` reads a sitemap's bytes (gzip allowed,
bounded) with :func:`crawler.listings.safexml.parse_xml` and returns either the child
sitemaps of an index or the listed article URLs, each with its ``lastmod`` and,
for Google News sitemaps, the ``<news:publication_date>``, ``<news:title>``,
``<news:language>`` and publication name. :func:`robots_sitemaps` lists the
``Sitemap:`` lines of a robots.txt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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
)
from crawler.urls import is_web_url

_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE)


class SitemapError(ValueError):
    """Not a sitemap this crawler can read; ``str(exc)`` says why."""


@dataclass
class Sitemap:
    kind: str  # index, urlset or text
    entries: list[Entry] = field(default_factory=list)
    #: ``<loc>`` values that are no usable URL, each with what is wrong with it
    bad_links: list[BadLink] = field(default_factory=list)

    @property
    def is_index(self) -> bool:
        return self.kind == "index"


def is_robots_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith("/robots.txt")


def robots_sitemaps(text: str, url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, in order, without repeats."""
    found: dict[str, None] = {}
    for line in text.splitlines():
        m = _SITEMAP_LINE.match(line.split("#", 1)[0])
        if m:
            joined = join_link(url, m.group(1))
            if isinstance(joined, str):
                found[joined] = None
    return list(found)


def parse_sitemap(body: bytes, url: str, *, max_size: int = MAX_DECOMPRESSED) -> Sitemap:
    """Parse a sitemap's bytes; :class:`SitemapError` says why not."""
    stripped = listing_body(body, max_size, SitemapError, "sitemap")
    if not looks_like_xml(stripped):
        return _text_sitemap(stripped, url)
    try:
        root = parse_xml(stripped)
    except XMLError as exc:
        raise SitemapError(f"unreadable sitemap: {exc}") from None
    name = local(root.tag)
    if name in ("sitemapindex", "urlset"):
        kind, tag = ("index", "sitemap") if name == "sitemapindex" else ("urlset", "url")
        sitemap = Sitemap(kind)
        for el in children(root, tag):
            entry = _entry(el, url)
            if isinstance(entry, BadLink):
                sitemap.bad_links.append(entry)
            elif entry is not None:
                sitemap.entries.append(entry)
        return sitemap
    raise SitemapError(
        f"not a sitemap: the XML document is <{name}>, not <urlset> or <sitemapindex>"
    )


def _entry(el: Any, url: str) -> Entry | BadLink | None:
    loc = child_text(el, "loc")
    if not loc:
        return None
    joined = join_link(url, loc)
    if isinstance(joined, BadLink):
        return joined
    lastmod = child_text(el, "lastmod")
    entry = Entry(url=joined, date=parse_date(lastmod))
    news = child(el, "news")
    if news is not None:
        published = child_text(news, "publication_date")
        entry.title = child_text(news, "title")
        entry.published = iso_date(published)
        entry.date = parse_date(published) or entry.date
        publication = child(news, "publication")
        if publication is not None:
            entry.site = child_text(publication, "name")
            entry.language = normalize_language(child_text(publication, "language"))
    return entry


def _looks_like_url(line: str) -> bool:
    """A line of a text sitemap: an http(s) URL (a broken one too: it becomes a bad link)."""
    if " " in line:
        return False
    return is_web_url(line) or line.lower().startswith(("http://", "https://"))


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    """A plain-text sitemap: one URL a line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SitemapError("not a sitemap: neither XML nor UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not all(_looks_like_url(line) for line in lines):
        raise SitemapError("not a sitemap: neither XML nor a list of URLs")
    sitemap = Sitemap("text")
    for line in lines:
        joined = join_link(url, line)
        if isinstance(joined, BadLink):
            sitemap.bad_links.append(joined)
        else:
            sitemap.entries.append(Entry(url=joined))
    return sitemap
