"""From a seed article to a news-search query, and search results to links.

Pure: no Scrapy. Used by the ``comparable`` spider.

* :func:`search_query` picks the seed's most telling names (capitalised
  multiword names, the ones repeated most) and terms (tf x idf against the
  corpus' own document frequencies when given), a few of each.
* :func:`search_urls` fills URL templates holding ``{query}`` and optionally
  ``{start}``/``{end}`` (``YYYYMMDDHHMMSS``, GDELT's form) or
  ``{start_date}``/``{end_date}`` (``YYYY-MM-DD``) for a window of ``days``
  around the seed's date.
* :func:`parse_results` reads a GDELT DOC 2.0 ``ArtList`` JSON answer or any
  RSS/Atom search feed into :class:`~crawler.listings.entries.Entry` links.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus, urlsplit

from crawler.listings.entries import Entry
from crawler.listings.feeds import FeedError, parse_feed
from crawler.stories import grouping as stories

GDELT = (
    "https://api.gdeltproject.org/api/v2/doc/doc?query={query}&mode=ArtList&format=json"
    "&maxrecords=75&sort=HybridRel&startdatetime={start}&enddatetime={end}"
)
GOOGLE_NEWS = (
    "https://news.google.com/rss/search?q={query}+after:{start_date}"
    "+before:{end_date}&hl=en-US&gl=US&ceid=US:en"
)
DEFAULT_TEMPLATES = (GDELT, GOOGLE_NEWS)

#: seconds between two requests to a search host (GDELT asks for one per 5 s)
SEARCH_DELAYS = {"api.gdeltproject.org": 5.0, "news.google.com": 2.0}

_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)+\b")


class QueryError(ValueError):
    """A template or result this module cannot use; ``str(exc)`` says why."""


@dataclass
class Query:
    names: list[str]
    terms: list[str]

    def text(self) -> str:
        """``"Ned Price" Iran drones``: names quoted, then terms."""
        return " ".join([f'"{n}"' for n in self.names] + self.terms)


def search_query(
    title: str | None,
    text: str,
    stats: stories.TermStats | None = None,
    max_names: int = 2,
    max_terms: int = 3,
) -> Query:
    """The seed's most telling names and terms."""
    body = f"{title or ''}\n{text}"
    # names from the body (a title-case headline is not made of names); the
    # first word of a sentence is not part of a name
    names: Counter[str] = Counter()
    for m in _NAME.finditer(text):
        name = m.group(0)
        before = text[max(0, m.start() - 2) : m.start()]
        if m.start() == 0 or before.endswith((". ", "\n")) or before == "\n":
            rest = name.split(" ", 1)
            if len(rest) < 2 or not re.match(r"[A-Z][a-z]+ [A-Z]", rest[1] + " X"):
                continue
            name = rest[1]
        names[name] += 1
    top_names = [
        n for n, c in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])) if len(n) <= 40
    ][:max_names]
    in_names = {w.lower() for n in top_names for w in re.split(r"[ \-]", n)}
    tf: dict[str, float] = {
        t: c for t, c in stories.terms(title, text).items() if not t.startswith(("n:", "#"))
    }
    stats = stats or stories.TermStats()
    weighted = stories.weigh(tf, stats)
    ranked = sorted(weighted.items(), key=lambda kv: (-kv[1], kv[0]))
    # the most frequent surface form of each (stemmed) term
    surface: Counter[tuple[str, str]] = Counter()
    for w in re.findall(r"[A-Za-z][A-Za-z\-]+", body):
        surface[
            (stories.stem(w.lower()), w if w[0].isupper() and w[1:].islower() else w.lower())
        ] += 1
    words: dict[str, str] = {}
    for (stem, w), _ in sorted(surface.items(), key=lambda kv: -kv[1]):
        words.setdefault(stem, w)
    terms = []
    for term, _ in ranked:
        if term in in_names or len(term) < 4:
            continue
        terms.append(words.get(term, term))
        if len(terms) >= max_terms:
            break
    return Query(top_names, terms)


def window(
    published: str | None, days: int, today: datetime | None = None
) -> tuple[datetime, datetime]:
    """``days`` either side of the seed's publication time (else of today), not in the future."""
    now = today or datetime.now(UTC)
    center = None
    if published:
        try:
            center = datetime.fromisoformat(published.replace("Z", "+00:00"))
        except ValueError:
            center = None
    if center is None:
        center = now
    if center.tzinfo is None:
        center = center.replace(tzinfo=UTC)
    start, end = center - timedelta(days=days), center + timedelta(days=days)
    return start, min(end, max(now, start))


def check_template(template: str) -> None:
    if "{query}" not in template:
        raise QueryError(f"search template {template!r} has no {{query}}")
    parts = urlsplit(template.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise QueryError(f"search template {template!r} is not an http(s) URL")


def search_urls(
    templates: list[str] | tuple[str, ...], query: Query, start: datetime, end: datetime
) -> list[str]:
    values = {
        "query": quote_plus(query.text()),
        "start": start.strftime("%Y%m%d%H%M%S"),
        "end": end.strftime("%Y%m%d%H%M%S"),
        "start_date": start.strftime("%Y-%m-%d"),
        "end_date": end.strftime("%Y-%m-%d"),
    }
    out = []
    for template in templates:
        check_template(template)
        out.append(template.format(**values))
    return out


def _gdelt_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).isoformat()
    except ValueError:
        return None


def parse_results(body: bytes, url: str) -> tuple[str, list[Entry]]:
    """(format, links) of a search answer: GDELT ``ArtList`` JSON, or an RSS/Atom feed."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise QueryError(f"unreadable JSON search answer: {exc}") from None
        if isinstance(data, dict) and "articles" in data:
            entries = []
            for art in data.get("articles") or []:
                if not isinstance(art, dict) or not art.get("url"):
                    continue
                entries.append(
                    Entry(
                        url=art["url"],
                        title=art.get("title") or None,
                        published=_gdelt_date(art.get("seendate")),
                        site=art.get("domain") or None,
                    )
                )
            return "gdelt", entries
        if isinstance(data, dict) and not data:
            return "gdelt", []  # GDELT answers {} when nothing matches
    if stripped[:1] != b"{" and not stripped.startswith(b"<"):
        # GDELT explains errors (a too short query, a bad date) in plain text
        raise QueryError(
            f"the search endpoint answered: {stripped[:200].decode('utf-8', 'replace')}"
        )
    try:
        feed = parse_feed(body, url)
    except FeedError as exc:
        raise QueryError(f"not a search result list (GDELT JSON, RSS or Atom): {exc}") from None
    return feed.kind, feed.entries
