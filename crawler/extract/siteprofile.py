"""Site profiles: chrome learnt from several pages of one site.

Pure: no Scrapy. A line that recurs, word for word, on many different pages
of the same site is that site's chrome (a newsletter pitch, a standing
disclaimer, a "More from X" teaser heading) even when it reads like prose and
the line cleaner alone would keep it. :func:`learn_profile` finds those lines
from the cleaned texts of a site's pages; :func:`apply_profile` removes them
from a page through :func:`crawler.extract.cleaning.clean_text` (its ``site_lines``).

Lines are compared by :func:`crawler.extract.cleaning.line_key` (case-folded words), so
punctuation and spacing differences do not matter. Blocks (runs of lines that
recur together) are covered line by line: each of their lines recurs too.

Profiles are kept in the corpus (table ``site_profiles``, written by
:class:`crawler.storage.corpus.Corpus`); :func:`site_profiles_since` reads them
back with nothing but :mod:`sqlite3`, for the cleaning workers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.extract.cleaning import Cleaned, clean_text, line_key, normalize_text

logger = logging.getLogger(__name__)

#: Lines longer than this are article text even if repeated (a syndicated
#: story published twice), never learnt as chrome.
MAX_WORDS = 40


@dataclass(frozen=True)
class SiteProfile:
    """The chrome lines of one site and the evidence behind them."""

    host: str = ""
    pages: int = 0
    #: line key -> number of pages it was seen on.
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.lines)

    def to_json(self) -> str:
        return json.dumps(
            {"host": self.host, "pages": self.pages, "lines": self.lines},
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, data: str) -> SiteProfile:
        obj = json.loads(data)
        return cls(
            host=obj.get("host", ""),
            pages=int(obj.get("pages", 0)),
            lines={str(k): int(v) for k, v in obj.get("lines", {}).items()},
        )


def learn_profile(
    texts: Iterable[str],
    *,
    host: str = "",
    min_pages: int = 3,
    min_share: float = 0.5,
    max_words: int = MAX_WORDS,
    normalized: bool = False,
) -> SiteProfile:
    """Lines found on at least ``min_pages`` pages and ``min_share`` of them.

    Each page counts once per line however often the line repeats on it.
    Identical pages (the same text fetched twice) count once, so a duplicate
    cannot turn an article's own lines into chrome. ``normalized``: the texts
    are stored clean texts, already through :func:`normalize_text`.
    """
    seen_pages: set[str] = set()
    per_line: Counter[str] = Counter()
    for text in texts:
        norm = text if normalized else normalize_text(text)
        if not norm or norm in seen_pages:
            continue
        seen_pages.add(norm)
        # (a line of many more words than max_words is text: not worth keying)
        keys = {line_key(line) for line in norm.split("\n") if line.count(" ") < 2 * max_words}
        per_line.update(k for k in keys if k and len(k.split()) <= max_words)
    n = len(seen_pages)
    threshold = max(min_pages, int(min_share * n + 0.999999)) if n else min_pages
    lines = {k: c for k, c in per_line.items() if c >= threshold}
    return SiteProfile(host=host, pages=n, lines=dict(sorted(lines.items())))


def without_lines(text: str, keys: frozenset[str]) -> str | None:
    """``text`` (a clean text, a paragraph per line) without its lines whose
    :func:`~crawler.extract.cleaning.line_key` is one of ``keys``; None when no line
    goes, or when nothing would be left."""
    lines = text.split("\n")
    kept = [line for line in lines if line_key(line) not in keys]
    if len(kept) == len(lines) or not any(line.strip() for line in kept):
        return None
    return "\n".join(kept)


def apply_profile(text: str, profile: SiteProfile | None, *, title: str | None = None) -> Cleaned:
    """Clean ``text`` with the line cleaner plus the site's learnt chrome."""
    return clean_text(text, title=title, site_lines=profile.keys if profile else ())


def site_profiles_since(path: str | Path, since: str) -> tuple[dict[str, frozenset[str]], str]:
    """The learnt chrome lines of the hosts whose profile was updated at or
    after ``since`` (an ``updated_at``; ``""``: all), and the latest
    ``updated_at`` read. Read-only: a cleaning worker catching up."""
    path = Path(path)
    found: dict[str, frozenset[str]] = {}
    latest = since
    if not path.exists():
        return found, latest
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT host, lines, updated_at FROM site_profiles WHERE coalesce(updated_at, '') >= ?",
            [since],
        ).fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    for host, lines, updated_at in rows:
        learnt = stored_lines(host, lines)
        if learnt:
            found[host] = frozenset(learnt)
        latest = max(latest, updated_at or "")
    return found, latest


def stored_lines(host: str, data: str | None) -> dict[str, int]:
    """A ``site_profiles.lines`` value read back; an unreadable one (edited by
    hand, say) counts as empty, with a warning, rather than stop a crawl."""
    try:
        lines = json.loads(data or "{}")
        if isinstance(lines, dict):
            return {str(k): int(v) for k, v in lines.items()}
    except (ValueError, TypeError):
        pass
    logger.warning("Ignoring the unreadable site profile of %s (it is learnt again)", host)
    return {}
