"""Site profiles learnt during a crawl: chrome lines out of stored and later texts.

Pure: no Scrapy. A site's chrome (navigation, footers, "read more" lines that
every page of the host repeats) is learnt from its stored articles
(:func:`crawler.extract.siteprofile.learn_profile`) into ``site_profiles``.
During a crawl (:attr:`crawler.storage.corpus.Corpus.learn_during_crawl`), the
writer learns a host's lines once the crawl has stored :data:`LEARN_AT` of its
articles, then every :data:`LEARN_EVERY`: stored texts lose the new lines (and
find their story again), the cleaning workers are told (:attr:`SiteProfiles.learnt`),
and an article cleaned before it knew a lesson loses the lines when it arrives
(:meth:`SiteProfiles.without_learnt_lines`).

Lines are learnt per template too (:func:`crawler.extract.siteprofile.learn_template_profile`):
each stored article's template (``Article.template``, computed by the cleaning)
is kept, in memory, for the latest :data:`TEMPLATES_KEPT` articles of each host
this writer stored, so that chrome on most pages of one template is learnt
even when that template is a third of the site. A learnt line that
recurs after every post of a comment thread takes the thread with it
(:mod:`crawler.extract.comments`).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from dataclasses import replace
from pathlib import Path

from sqlite_utils import Database

from crawler import features
from crawler.dedup.exact import content_hash
from crawler.extract.language import count_words
from crawler.extract.processing import LESSONS_ATTR
from crawler.extract.siteprofile import (
    learn_template_profile,
    site_profiles_since,
    stored_lines,
    without_lines,
)
from crawler.items import Article
from crawler.storage.db import HOST_RANGE, host_range, now, write_transaction
from crawler.storage.storyindex import StoryIndex
from crawler.urls import host_of

logger = logging.getLogger(__name__)

#: During a crawl, a host's chrome lines are learnt again once the crawl has
#: stored this many of its articles, then every :data:`LEARN_EVERY` more:
#: early, so that the first pages' chrome neither stays in the corpus nor
#: steers story grouping, and rarely, so that it costs next to nothing.
LEARN_AT = (5, 10, 20, 40, 80, 160, 320, 640)
LEARN_EVERY = 1000
#: the templates of this many of a host's latest stored articles are kept
#: (a lesson reads the latest ``recent`` = 200)
TEMPLATES_KEPT = 400


def load_site_profiles(path: str | Path) -> dict[str, frozenset[str]]:
    """The learnt chrome lines of every host, read-only (for cleaning workers)."""
    return site_profiles_since(path, "")[0]


class SiteProfiles:
    """The site profiles one writer learns, and what it has told the workers."""

    def __init__(self, db: Database, index: StoryIndex) -> None:
        self.db = db
        self.index = index
        # articles stored per host by this writer, and hosts due a lesson
        self._host_stored: Counter[str] = Counter()
        self._due: set[str] = set()
        #: (host, lines) learnt, for the cleaning workers (read on any thread)
        self.learnt: deque[tuple[str, frozenset[str]]] = deque()
        # per host: its learnt lines, and the lesson (1, 2, ...: the order of
        # self.learnt) that last added to them; an article whose cleaning knew
        # fewer lessons (processing.LESSONS_ATTR) loses the lines when it arrives
        self._lessons = 0
        self._host_lines: dict[str, tuple[int, frozenset[str]]] = {}
        #: stored articles whose text lost lines a profile learnt later
        self.texts_stripped = 0
        #: the lines a dry run of learn would keep, per host
        self.previewed: dict[str, frozenset[str]] = {}
        # per host, the templates of its latest stored articles (url -> signature)
        self._templates: dict[str, dict[str, str]] = {}

    def stored(self, url: str, template: str | None = None) -> None:
        """An article of ``url``'s host was stored (its page of ``template``):
        a lesson may be due."""
        host = host_of(url)
        if template and host:
            kept = self._templates.setdefault(host, {})
            kept.pop(url, None)
            kept[url] = template
            if len(kept) > TEMPLATES_KEPT:
                del kept[next(iter(kept))]
        if host:
            self._host_stored[host] += 1
            n = self._host_stored[host]
            if n in LEARN_AT or n % LEARN_EVERY == 0:
                self._due.add(host)

    def take_due(self) -> set[str]:
        """The hosts due a lesson (and none are, afterwards)."""
        due, self._due = self._due, set()
        return due

    def without_learnt_lines(self, article: Article) -> Article:
        """``article`` without its site's chrome lines learnt during this crawl
        after it was cleaned (pages in flight at the time)."""
        learnt = self._host_lines.get(host_of(article.url) or "")
        if learnt is None or getattr(article, LESSONS_ATTR, 0) >= learnt[0]:
            return article
        text = without_lines(article.text, learnt[1])
        if text is None:
            return article
        self.texts_stripped += 1
        return features.attach(
            replace(
                article,
                text=text,
                content_hash=content_hash(text),
                word_count=count_words(text, article.language),
            )
        )

    def learn(
        self,
        hosts: set[str],
        *,
        recent: int = 200,
        min_pages: int = 3,
        dry_run: bool = False,
        strip: bool = True,
    ) -> dict[str, int]:
        """Learn (and keep) the chrome lines of each host from its latest
        ``recent`` articles; returns how many lines each host now has.

        Lines once learnt stay: after a profile is applied, later texts no
        longer contain them, which must not unlearn them. Stored articles
        that still have a learnt line lose it, and find their story again
        (:meth:`_strip_lines`); a host whose profile gained lines goes to
        :attr:`learnt`, for the cleaning of later pages. ``dry_run``: learn,
        change nothing, and leave the lines in :attr:`previewed`. ``strip``:
        False leaves the stored texts alone (``reclean`` cleans them again).
        """
        out: dict[str, int] = {}
        self.previewed = {}
        lessons: list[tuple[str, frozenset[str]]] = []
        with write_transaction(self.db):
            for host in sorted(hosts):
                found = self.db.execute(
                    f"SELECT id, text, url, story_id FROM articles WHERE {HOST_RANGE}"
                    " ORDER BY id DESC LIMIT ?",
                    [*host_range(host), recent],
                ).fetchall()
                rows = [(r[0], r[1]) for r in found]
                templates = self._templates.get(host, {})
                learnt = learn_template_profile(
                    [(r[1] or "", templates.get(r[2])) for r in found],
                    stories=[r[3] for r in found],
                    host=host,
                    min_pages=min_pages,
                    normalized=True,
                )
                old = self.db.execute(
                    "SELECT lines FROM site_profiles WHERE host = ?", [host]
                ).fetchone()
                old_lines = stored_lines(host, old[0]) if old else {}
                lines = {**old_lines, **learnt.lines}
                out[host] = len(lines)
                if dry_run:
                    self.previewed[host] = frozenset(lines)
                    continue
                if lines or old:
                    self.db.table("site_profiles").upsert(
                        {
                            "host": host,
                            "pages": learnt.pages,
                            "updated_at": now(),
                            "lines": json.dumps(lines, ensure_ascii=False, sort_keys=True),
                        },
                        pk="host",
                    )
                if set(learnt.lines) - set(old_lines):
                    if strip:
                        # the pages stored before lose the new lines now; those
                        # cleaned before the cleaning knows them, when they arrive
                        self.texts_stripped += self._strip_lines(rows, frozenset(lines))
                    lessons.append((host, frozenset(lines)))
            self.index.finish()
        # announced once committed: a cleaning worker told of a lesson reads it
        for host, keys in lessons:
            self._lessons += 1
            self._host_lines[host] = (self._lessons, keys)
            self.learnt.append((host, keys))
        return out

    def _strip_lines(self, rows: list[tuple[int, str]], keys: frozenset[str]) -> int:
        """Remove the lines with one of ``keys`` (:func:`~crawler.extract.cleaning.line_key`)
        from the stored articles ``rows`` (id, text); returns how many changed.

        A changed article leaves the dedup and story indexes, then, in the
        order the articles were stored, finds its story again with its clean
        text, as if it had arrived without the chrome. (Lines only; the rest
        of the text stays as it was cleaned. An article left with no text
        keeps its lines.)"""
        changed = sorted(
            (aid, clean)
            for aid, text in rows
            if (clean := without_lines(text or "", keys)) is not None
        )
        for aid, _ in changed:
            self.index.remove(aid)
        at = now()
        for aid, text in changed:
            self.db.execute(
                "UPDATE articles SET text = ?, word_count = ?, content_hash = ?, story_id = NULL,"
                " updated_at = ? WHERE id = ?",
                [text, count_words(text), content_hash(text), at, aid],
            )
        for aid, _ in changed:
            row = self.db.execute(
                "SELECT url, title, text, published, site, published_guessed FROM articles"
                " WHERE id = ?",
                [aid],
            ).fetchone()
            data = dict(
                zip(
                    ("url", "title", "text", "published", "site", "published_guessed"),
                    row,
                    strict=True,
                )
            )
            story_id, tf = self.index.assign_story(data)
            self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, aid])
            self.index.add(aid, data, story_id, tf)
        if changed:
            logger.info("Removed learnt chrome lines from %d stored articles", len(changed))
        return len(changed)
