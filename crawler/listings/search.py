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

#: a word of a name: capitalised (``Peter``), mixed-case (``BlackBerry``), an acronym
#: (``NASA``) or a model number (``Q10``, ``G8``)
_NAME_WORD = r"(?:[A-Z][a-z]+(?:[A-Z][a-z]+)*|[A-Z][A-Za-z]*[A-Z][A-Za-z]*|[A-Z]+\d+[A-Za-z]*)"
_NAME = re.compile(rf"\b{_NAME_WORD}(?:[ \-]{_NAME_WORD})+\b")
#: a single word that names something by its form: mixed case, letters and digits
_ODD_WORD = re.compile(
    r"\b(?:[A-Z][a-z]+[A-Z][A-Za-z]*|[a-z]+[A-Z][A-Za-z]*|[A-Z]+\d+[A-Za-z]*|[A-Z]{2,5})\b"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"\u201c\u201d]\s+|\n\s*)$")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april"
    " june july august september october november december".split()
)
#: a first search with fewer usable hits than this is followed by a refined one (from
#: the hits' titles, :func:`refined_query`); one with more, by a complementary one (the
#: seed's next names and terms, :func:`complementary_query`)
REFINE_BELOW = 5


class QueryError(ValueError):
    """A template or result this module cannot use; ``str(exc)`` says why."""


@dataclass
class Query:
    names: list[str]
    terms: list[str]

    def text(self) -> str:
        """``"Ned Price" Iran drones``: names quoted, then terms."""
        return " ".join([f'"{n}"' for n in self.names] + self.terms)


def _clean(word: str) -> str:
    """A word without possessive and stray punctuation: ``Peterson's`` -> ``Peterson``."""
    word = re.sub(r"['\u2019]s$", "", word)
    return re.sub(r"[^\w\-.]", "", word).strip("-.")


def names_of(text: str) -> Counter[str]:
    """Multiword names and their counts. A name that starts a sentence keeps its first
    word unless that word is a stopword or also occurs in lowercase in the text (then it
    is a common word that was capitalised by its place: ``Police Chief Ann Lee``)."""
    lower = set(re.findall(r"\b[a-z][a-z\-]+\b", text))
    names: Counter[str] = Counter()
    for m in _NAME.finditer(text):
        words = re.split(r"([ \-])", m.group(0))
        at_start = bool(_SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()]))
        while words and (
            words[0].lower() in stories.STOPWORDS or (at_start and words[0].lower() in lower)
        ):
            words = words[2:]
            at_start = False
        while len(words) >= 3 and words[-1].lower() in _CALENDAR:
            words = words[:-2]  # "Wasilla Bible Church Friday": the day is not the name
        if len(words) >= 3 and len(m.group(0)) <= 40:
            names["".join(words)] += 1
    return names


def _fold(word: str) -> str:
    """The form a word is compared in: lowercased, stemmed like the story terms."""
    return stories.stem(_clean(word).lower())


def search_query(
    title: str | None,
    text: str,
    stats: stories.TermStats | None = None,
    max_names: int = 2,
    max_terms: int = 3,
) -> Query:
    """The seed's most telling names and terms.

    Names: multiword names of the body (a title-case headline is not made of names),
    the most repeated first. Terms: the heaviest story terms (tf x idf) not already in
    a name, in their most frequent surface form; a mixed-case or alphanumeric word
    (``BlackBerry``, ``Q10``) counts as a term however short, and a number repeated in
    the text or in the title (a toll, a magnitude; not a year) may be one term.
    """
    body = f"{title or ''}\n{text}"
    counted = names_of(text)
    top_names = [n for n, _ in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))]
    chosen: list[str] = []
    for name in top_names:
        parts = {_fold(w) for w in re.split(r"[ \-]", name)}
        if any(
            parts <= other or other <= parts
            for other in ({_fold(w) for w in re.split(r"[ \-]", c)} for c in chosen)
        ):
            continue  # "Jeffs" in "Warren Jeffs", "Central Commission" in "Central Election ..."
        chosen.append(name)
        if len(chosen) >= max_names:
            break
    in_names = {_fold(w) for n in chosen for w in re.split(r"[ \-]", n)}
    tf = stories.terms(title, text)
    stats = stats or stories.TermStats()
    weighted = stories.weigh(dict(tf), stats)
    odd = Counter(_clean(w) for w in _ODD_WORD.findall(body))
    for word, count in odd.items():
        key = "odd:" + word
        folded = _fold(word)
        if count >= 2 and folded not in in_names and word.lower() not in stories.STOPWORDS:
            # as heavy as its term and a half: its form says it names something
            base = weighted.pop(folded, min(weighted.values(), default=0.0))
            weighted[key] = max(weighted.get(key, 0.0), 1.5 * base)
    ranked = sorted(weighted.items(), key=lambda kv: (-kv[1], kv[0]))
    surface: Counter[tuple[str, str]] = Counter()
    for w in re.findall(r"[^\W\d_][\w'\u2019\-]*", body):
        w = _clean(w)
        if w:
            keep = w if not w.islower() and not w.isupper() else w.lower()
            surface[(_fold(w), keep if keep[1:].islower() or not keep[1:] else w)] += 1
    words: dict[str, str] = {}
    for (stem, w), _ in sorted(surface.items(), key=lambda kv: (-kv[1], kv[0])):
        words.setdefault(stem, w)
    numbers = Counter(n.replace(",", "") for n in _NUMBER.findall(text))
    in_title = set(_NUMBER.findall(title or ""))
    terms: list[str] = []
    seen: set[str] = set(in_names)
    number_used = False
    for term, _ in ranked:
        if term.startswith("n:"):
            continue
        if term.startswith("odd:"):
            word = term[4:]
        elif term.startswith("#"):
            num = term[1:]
            if number_used or _YEAR.fullmatch(num) or len(num) < 2:
                continue
            if numbers[num] < 2 and num not in in_title:
                continue
            word, number_used = num, True
        else:
            if len(term) < 4:
                continue
            word = _clean(words.get(term) or words.get(_fold(term), term))
        folded = _fold(word)
        if not word or folded in seen or folded in _CALENDAR:
            continue
        seen.add(folded)
        terms.append(word)
        if len(terms) >= max_terms:
            break
    return Query(chosen, terms)


def refined_query(seed: Query, hit_titles: list[str], max_terms: int = 4) -> Query:
    """A second query after a first that found little: the first name and the words the
    hits' titles share with the first query, or, with no titles to go by, the first
    query without its weakest parts (one name, two terms)."""
    if not hit_titles:
        return Query(seed.names[:1], seed.terms[:2])
    own = {_fold(t) for t in seed.terms} | {
        _fold(w) for n in seed.names for w in re.split(r"[ \-]", n)
    }
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for title in hit_titles:
        for w in {_clean(w) for w in re.findall(r"[^\W\d_][\w'\-]*", title)}:
            f = _fold(w)
            if len(f) >= 4 and f not in stories.STOPWORDS:
                counts[f] += 1
                surface.setdefault(f, w if not w.isupper() else w)
    shared = [f for f, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= 2]
    terms = [surface[f] for f in shared if f not in own][: max_terms - 1]
    return Query(seed.names[:1], (seed.terms[:1] + terms)[:max_terms])


def complementary_query(
    title: str | None, text: str, first: Query, stats: stories.TermStats | None = None
) -> Query:
    """A second query after a first that found enough: the first name as the anchor,
    then the seed's next names and terms (those the first query left out), so that the
    second answer reaches the story's articles the first one ranked too low."""
    wide = search_query(title, text, stats, max_names=4, max_terms=6)
    used = {_fold(t) for t in first.terms}
    names = (
        first.names[:1]
        + [
            n
            for n in wide.names
            if n not in first.names and not {_fold(w) for w in re.split(r"[ \-]", n)} & used
        ][:2]
    )
    in_names = {_fold(w) for n in names for w in re.split(r"[ \-]", n)}
    return Query(names, [t for t in wide.terms if _fold(t) not in used | in_names][:3])


def trusted_day(published: str | None, guessed: bool = False) -> datetime | None:
    """The seed's date when it can centre a window: stated by the page (not guessed
    from its text) and more than a bare year (:func:`crawler.stories.grouping.year_only`)."""
    if stories.day_of(published, guessed) is None or published is None:
        return None
    try:
        center = datetime.fromisoformat(published.replace("Z", "+00:00"))
    except ValueError:
        return None
    return center if center.tzinfo else center.replace(tzinfo=UTC)


def window(
    published: str | None, days: int, today: datetime | None = None, guessed: bool = False
) -> tuple[datetime, datetime] | None:
    """``days`` either side of the seed's publication time, not in the future; None
    (search without a window) when the seed has no trusted date (:func:`trusted_day`)."""
    now = today or datetime.now(UTC)
    center = trusted_day(published, guessed)
    if center is None:
        return None
    start, end = center - timedelta(days=days), center + timedelta(days=days)
    return start, min(end, max(now, start))


def check_template(template: str) -> None:
    if "{query}" not in template:
        raise QueryError(f"search template {template!r} has no {{query}}")
    parts = urlsplit(template.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise QueryError(f"search template {template!r} is not an http(s) URL")


_DATE_FIELD = r"\{(?:start|end)(?:_date)?\}"
#: a query parameter holding only a date (``&startdatetime={start}``)
_DATE_PARAM = re.compile(rf"[?&][\w.\-]+={_DATE_FIELD}(?=&|$)")
#: a date operator inside a query value (``+after:{start_date}``)
_DATE_OPERATOR = re.compile(rf"(?:\+|%20| )?[\w.\-]+:{_DATE_FIELD}")


def undated(template: str) -> str:
    """The template without its date parts: a search without a window."""
    out = _DATE_OPERATOR.sub("", _DATE_PARAM.sub("", template))
    if "?" not in out and "&" in out:
        out = out.replace("&", "?", 1)
    return out


def search_urls(
    templates: list[str] | tuple[str, ...],
    query: Query,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[str]:
    """The search URLs of ``query``; without ``start`` and ``end``, the templates'
    date parameters are left out (:func:`undated`)."""
    values = {"query": quote_plus(query.text())}
    if start is not None and end is not None:
        values |= {
            "start": start.strftime("%Y%m%d%H%M%S"),
            "end": end.strftime("%Y%m%d%H%M%S"),
            "start_date": start.strftime("%Y-%m-%d"),
            "end_date": end.strftime("%Y-%m-%d"),
        }
    out = []
    for template in templates:
        check_template(template)
        out.append((template if "start" in values else undated(template)).format(**values))
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
