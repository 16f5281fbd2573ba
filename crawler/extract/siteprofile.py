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

Sites use several templates (articles, live blogs, opinion pieces, a
partner's section), and chrome that recurs on every page of one template may
cover only a third of the site's pages. :func:`template_signature` names a
page's template (a hash of its DOM skeleton, computed by the cleaning with the
article); :func:`learn_template_profile` learns a line as chrome when it is
on ``min_share`` of the site's pages or of the pages of one template.

Profiles are kept in the corpus (table ``site_profiles``, written by
:class:`crawler.storage.corpus.Corpus`); :func:`site_profiles_since` reads them
back with nothing but :mod:`sqlite3`, for the cleaning workers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.extract.cleaning import Cleaned, clean_text, line_key, normalize_text
from crawler.extract.comments import comment_thread

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


#: A template's pages are learnt from on their own once there are this many.
MIN_TEMPLATE_PAGES = 8
#: ... and a line must then be on at least this many of them: a sentence two or
#: three articles of one story share is not chrome.
MIN_TEMPLATE_SUPPORT = 4


def learn_template_profile(
    pages: Iterable[tuple[str, str | None]],
    *,
    host: str = "",
    min_pages: int = 3,
    min_share: float = 0.5,
    min_template_pages: int = MIN_TEMPLATE_PAGES,
    stories: Iterable[object] | None = None,
    normalized: bool = False,
) -> SiteProfile:
    """:func:`learn_profile` of ``pages`` (text, template signature or None),
    plus the lines on ``min_share`` of the pages of one template.

    A template is learnt from on its own once it has ``min_template_pages``
    distinct pages, and a line of it must be on pages of at least
    :data:`MIN_TEMPLATE_SUPPORT` (and ``min_pages``) different stories
    (``stories``: each page's story, None for a page of its own; by default
    every page is a story of its own), so that the follow-ups of one story
    sharing a sentence do not make it chrome. A line's count is its count on
    the whole site or template."""
    pages = list(pages)
    story_of = list(stories) if stories is not None else [None] * len(pages)
    site = learn_profile(
        (t for t, _ in pages),
        host=host,
        min_pages=min_pages,
        min_share=min_share,
        normalized=normalized,
    )

    def stories_with(members: Iterable[int], keys: set[str]) -> Counter[str]:
        """How many different stories the pages ``members`` with each of ``keys`` tell."""
        seen: dict[str, set[object]] = {}
        for i in members:
            text = pages[i][0] if normalized else normalize_text(pages[i][0])
            story = story_of[i] if story_of[i] is not None else ("page", i)
            for key in {line_key(line) for line in text.split("\n")} & keys:
                seen.setdefault(key, set()).add(story)
        return Counter({k: len(v) for k, v in seen.items()})

    lines = dict(site.lines)
    groups: dict[str, list[int]] = {}
    for i, (_, template) in enumerate(pages):
        if template:
            groups.setdefault(template, []).append(i)
    support = max(min_pages, MIN_TEMPLATE_SUPPORT)
    for members in groups.values():
        texts = [pages[i][0] for i in members]
        if len(set(texts)) < min_template_pages:
            continue
        one = learn_profile(texts, min_pages=support, min_share=min_share, normalized=normalized)
        told = stories_with(members, set(one.lines))
        for key, count in one.lines.items():
            if told[key] >= support:
                lines[key] = max(lines.get(key, 0), count)
    return SiteProfile(host=host, pages=site.pages, lines=dict(sorted(lines.items())))


# --- template signatures ----------------------------------------------------------

_RAW_OPEN = re.compile(r"<(script|style|noscript|svg|template)\b|<!--")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)([^>]*)>")
_ATTR = re.compile(r"""\b(class|id)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
#: the skeleton goes this deep below <body>
SIGNATURE_DEPTH = 4


def _without_raw_text(html: str) -> str:
    """``html`` without its scripts, styles, SVGs and comments (their text may hold tags)."""
    low = html.lower()
    out: list[str] = []
    pos = 0
    while m := _RAW_OPEN.search(low, pos):
        out.append(html[pos : m.start()])
        close = "-->" if m.group(0) == "<!--" else f"</{m.group(1)}"
        end = low.find(close, m.end())
        pos = len(html) if end < 0 else end + len(close)
    out.append(html[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _shape(token: str) -> str:
    """A class or id token's shape: digits and hashed parts do not tell templates apart."""
    token = token.lower()
    if any(c.isdigit() for c in token):
        return re.sub(r"[0-9a-f]*\d[0-9a-f]*", "#", token)
    return token


def template_signature(html: str) -> str:
    """A short hash of the page's DOM skeleton: the tags (with the shape of
    their class and id) of the elements down to :data:`SIGNATURE_DEPTH` below
    ``<body>``, runs of like siblings counted once. Pages of one template share
    it whatever their text, their number of paragraphs or of comments."""
    html = _without_raw_text(html)
    body = re.search(r"<body\b", html, re.I)
    depth = 0
    last: list[str] = [""] * (SIGNATURE_DEPTH + 2)
    parts: list[str] = []
    for m in _TAG.finditer(html, body.start() if body else 0):
        closing, tag, attrs = m.group(1), m.group(2).lower(), m.group(3)
        if tag == "body":
            depth = 0
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        void = tag in _VOID or attrs.endswith("/")
        if depth < SIGNATURE_DEPTH:
            names: list[str] = []
            for a in _ATTR.finditer(attrs):
                value = a.group(2) or a.group(3) or a.group(4) or ""
                names.extend(f"{a.group(1)[0].lower()}{_shape(v)}" for v in value.split()[:2])
            token = f"{depth}{tag}" + ".".join(sorted(names))
            if token != last[depth]:
                parts.append(token)
                last[depth] = token
                # a new sibling: its children start a fresh run
                for d in range(depth + 1, len(last)):
                    last[d] = ""
        if not void:
            depth += 1
    return hashlib.blake2b(" ".join(parts).encode(), digest_size=6).hexdigest()


def without_lines(text: str, keys: frozenset[str]) -> str | None:
    """``text`` (a clean text, a paragraph per line) without its lines whose
    :func:`~crawler.extract.cleaning.line_key` is one of ``keys``, and without a
    comment thread whose recurring action lines are among them
    (:func:`crawler.extract.comments.comment_thread`); None when no line goes,
    or when nothing would be left."""
    lines = text.split("\n")
    kept = [line.strip() for line in lines if line.strip()]
    before = len(kept)
    thread = comment_thread(kept, keys)
    if thread is not None:
        kept = kept[: thread[0]] + kept[thread[1] :]
    kept = [line for line in kept if line_key(line) not in keys]
    if len(kept) == before or not kept:
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
