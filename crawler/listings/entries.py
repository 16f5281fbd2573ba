"""What a feed or a sitemap says about an article before it is downloaded.

Pure: no Scrapy. An :class:`Entry` is one listed article URL with the
metadata the listing gives (title, date, author, language, site); the
spiders pass that metadata to the page as *hints* (fallbacks for what the page
itself does not say). Dates from RSS (RFC 822), Atom, JSON Feed and sitemaps
(W3C datetime) are parsed here, and so is the ``since`` argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.netsafety import parser_error

_EPOCH = date(1970, 1, 1)
_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Entry:
    """One article (or child sitemap) URL listed by a feed or a sitemap."""

    url: str
    title: str | None = None
    #: publication date as the listing gives it, normalised to ISO 8601.
    published: str | None = None
    author: str | None = None
    language: str | None = None
    site: str | None = None
    #: the date used for ``since`` and newest-first order (publication date,
    #: else last modification).
    date: datetime | None = None

    def hints(self) -> dict[str, Any]:
        """Metadata for :class:`crawler.items.Page` hints (empty values left out)."""
        values = {
            "title": self.title,
            "published": self.published,
            "author": self.author,
            "language": self.language,
            "site": self.site,
        }
        return {k: v for k, v in values.items() if v}


@dataclass
class BadLink:
    """A listed link that is no usable URL; ``reason`` says what is wrong with it."""

    link: str
    reason: str


def join_link(base: str, link: str) -> str | BadLink:
    """``link`` resolved against ``base``, or a :class:`BadLink` saying why it cannot be."""
    link = link.strip()
    try:
        url = urljoin(base, link)
        urlsplit(url).port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        return BadLink(link, f"not a valid URL: {parser_error(str(exc))}")
    return url


def normalize_language(value: str | None) -> str | None:
    """``en-GB``, ``en_gb``, ``EN`` -> ``en`` (as the page extraction stores it)."""
    if not value:
        return None
    return value.strip().replace("_", "-").split("-")[0].lower() or None


def parse_date(text: str | None) -> datetime | None:
    """A timezone-aware datetime from RFC 822, ISO 8601 or W3C datetime text.

    Times without a zone are taken as UTC. Unparseable text gives ``None``, and
    so does a date no datetime holds (a year of twenty digits, an offset of
    thirty: ``parsedate_to_datetime`` raises OverflowError for those).
    """
    if not text:
        return None
    text = " ".join(str(text).split())
    if not text:
        return None
    dt: datetime | None = None
    m = _YEAR_MONTH.match(text)
    if m:
        try:
            dt = datetime(int(m.group(1)), int(m.group(2) or 1), 1)
        except ValueError:
            return None
    if dt is None:
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            dt = None
    if dt is None:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def iso_date(text: str | None) -> str | None:
    """``text`` as ISO 8601: a bare date stays a date, a time keeps its offset."""
    if not text:
        return None
    text = text.strip()
    if _DATE_ONLY.match(text):
        return text if parse_date(text) else None
    dt = parse_date(text)
    return dt.isoformat() if dt else None


def parse_since(text: str | None) -> date | None:
    """The ``since`` spider argument: ``YYYY-MM-DD`` or nothing."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if not _DATE_ONLY.match(text):
        raise ValueError(f"since must be a date as YYYY-MM-DD, not {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"since {text!r} is not a real date") from None


def is_older(entry: Entry, since: date | None) -> bool:
    """Is the entry dated before ``since`` (in its own time zone)? Undated: no."""
    return since is not None and entry.date is not None and entry.date.date() < since


def newest_first(entries: list[Entry]) -> list[Entry]:
    """Dated entries newest first, then undated ones in listing order."""
    dated = [e for e in entries if e.date is not None]
    dated.sort(key=lambda e: e.date.timestamp() if e.date else 0.0, reverse=True)
    return dated + [e for e in entries if e.date is None]


def select(entries: list[Entry], since: date | None) -> tuple[list[Entry], int]:
    """Entries on or after ``since``, newest first; and how many were older."""
    kept = [e for e in entries if not is_older(e, since)]
    return newest_first(kept), len(entries) - len(kept)


#: scheduler priority of listings (feeds, sitemaps): above any article's.
LISTING_PRIORITY = 100_000


def priority(entry: Entry) -> int:
    """Scheduler priority: days since 1970, so newer articles are fetched first."""
    if entry.date is None:
        return 0
    return max(0, min((entry.date.date() - _EPOCH).days, LISTING_PRIORITY - 1))
