"""The rows waiting for the writer's next transaction, kept consistent.

Pure: no Scrapy, no SQLite. :class:`crawler.storage.corpus.Corpus` decides what
an incoming article is (:mod:`crawler.dedup.decision`) and queues the rows
here; its next write takes them all (:meth:`Pending.clear` once committed).

One object owns every pending structure, because they point at each other:
a waiting article (by URL) has its content hash, its features and sketch
fingerprints (for copies within the batch), maybe a raw page and a stored
article whose story it takes over; a waiting duplicate points at its kept
article by URL while that one waits too; a demotion says a stored article
becomes a duplicate of a waiting one. :meth:`Pending.supersede` (an earlier
copy replaces a kept one) and :meth:`Pending.undo_supersede` move all of those
at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

from crawler.dedup.near import Sketch
from crawler.features import Features
from crawler.storage.db import now

logger = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass
class Demotion:
    """A stored article (``old_id``) that becomes a duplicate (``kind``) of the
    earlier copy waiting at ``new_url``."""

    old_id: int
    new_url: str
    similarity: float
    kind: str


@dataclass
class Pending:
    """Every row waiting to be written, in arrival order."""

    #: url -> the article row
    articles: dict[str, Row] = field(default_factory=dict)
    #: content hash -> the url of the waiting article with that text
    by_hash: dict[str, str] = field(default_factory=dict)
    #: changed texts of stored articles (rows with their ``id``)
    updates: list[Row] = field(default_factory=list)
    #: url -> the duplicate row; ``kept_url`` names a kept article that may be waiting
    duplicates: dict[str, Row] = field(default_factory=dict)
    #: url -> the failure row (the latest attempt)
    failures: dict[str, Row] = field(default_factory=dict)
    #: url -> the raw page row of a waiting article or duplicate (exact or near)
    pages: dict[str, Row] = field(default_factory=dict)
    #: url of a waiting article -> its dedup and story features (crawler.features)
    features: dict[str, Features] = field(default_factory=dict)
    #: url of a waiting article -> the stored article it replaces, whose story it
    #: takes over (read when it is written: re-partitioning may move that one first)
    takes_over: dict[str, int] = field(default_factory=dict)
    #: stored articles replaced by an earlier copy waiting here
    demotions: list[Demotion] = field(default_factory=list)
    #: url of a waiting duplicate (exact or near) -> its whole article row, kept in
    #: ``crawl_copies`` until the crawl settles its duplicate groups
    copies: dict[str, Row] = field(default_factory=dict)
    # fingerprint -> urls of the waiting articles whose sketch has it
    _fingerprints: dict[int, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        """The rows to write (what the batch size counts)."""
        return (
            len(self.articles)
            + len(self.updates)
            + len(self.duplicates)
            + len(self.failures)
            + len(self.pages)
        )

    # --- adding ----------------------------------------------------------------

    def add_article(self, row: Row, feats: Features) -> None:
        url = row["url"]
        self.articles[url] = row
        self.by_hash[row["content_hash"]] = url
        self.features[url] = feats
        for fp in feats.sketch.fingerprints:
            self._fingerprints.setdefault(fp, []).append(url)

    def add_update(self, row: Row) -> None:
        self.updates.append(row)

    def add_duplicate(
        self,
        url: str,
        fetched_url: str,
        kept_url: str | None,
        article_id: int | None,
        kind: str,
        similarity: float,
        site: str | None,
        crawl_id: int | None,
        row: Row | None = None,
    ) -> None:
        """``url`` is a duplicate of the article kept at ``kept_url`` (waiting or
        stored) or stored as ``article_id``; ``row``: its article row (the text
        it came with), for the end of the crawl."""
        if row is not None:
            self.copies[url] = row
        self.duplicates[url] = {
            "url": url,
            "fetched_url": fetched_url,
            "kept_url": kept_url,
            "article_id": article_id,
            "kind": kind,
            "similarity": similarity,
            "site": site,
            "crawl_id": crawl_id,
            "seen_at": now(),
        }

    def add_failure(self, row: Row) -> None:
        self.failures[row["url"]] = row

    def add_page(self, row: Row) -> None:
        self.pages[row["url"]] = row

    # --- reading ---------------------------------------------------------------

    def demoted(self) -> set[int]:
        """The stored articles being replaced by an earlier copy."""
        return {d.old_id for d in self.demotions}

    def has_update(self, article_id: int) -> bool:
        return any(u.get("id") == article_id for u in self.updates)

    def published_of(self, url: str) -> str | None:
        row = self.articles.get(url)
        return row["published"] if row is not None else None

    def sharing(self, sk: Sketch) -> list[tuple[str, int, Sketch, str | None]]:
        """The waiting articles sharing fingerprints with ``sk``: (url, shared
        fingerprints, sketch, published), in the order first met."""
        # (counted in C, in the same order: the lists of the fingerprints, one by one)
        get = self._fingerprints.get
        shared: Counter[str] = Counter(chain.from_iterable(map(get, sk.fingerprints, repeat(()))))
        return [
            (url, n, self.features[url].sketch, self.articles[url]["published"])
            for url, n in shared.items()
        ]

    # --- an earlier copy replaces a kept article ------------------------------

    def supersede(
        self,
        url: str,
        old_url: str | None,
        old_id: int | None,
        similarity: float,
        kind: str,
        crawl_id: int | None,
    ) -> None:
        """The article about to wait at ``url`` is a copy published earlier than
        the one kept so far (waiting at ``old_url`` or stored as ``old_id``): it
        becomes the kept article (and takes over its story), the other one a
        duplicate (``exact`` or ``near``) of it."""
        if old_id is not None:
            logger.info("Article %d becomes a near duplicate of the earlier %s", old_id, url)
            self.takes_over[url] = old_id
            self.demotions.append(Demotion(old_id, url, similarity, kind))
            return
        assert old_url is not None
        old = self._drop_article(old_url)
        if old_url in self.takes_over:
            self.takes_over[url] = self.takes_over.pop(old_url)
        for d in self.demotions:
            if d.new_url == old_url:
                d.new_url = url
        for dup in self.duplicates.values():
            if dup["kept_url"] == old_url:
                dup["kept_url"] = url
        self.add_duplicate(
            old_url, old["fetched_url"], url, None, kind, similarity, old["site"], crawl_id, old
        )

    def undo_supersede(self, url: str, kept_url: str | None, kept_id: int | None) -> None:
        """``url`` replaced an exact copy, then turned out a near copy of an earlier
        article (waiting at ``kept_url`` or stored as ``kept_id``): it is not
        written, so the stored copy it was to replace stays, and the copies
        waiting in the batch point at the earlier article."""
        self.demotions = [d for d in self.demotions if d.new_url != url]
        self.takes_over.pop(url, None)
        for dup in self.duplicates.values():
            if dup["kept_url"] == url:
                dup["kept_url"], dup["article_id"] = kept_url, kept_id

    def _drop_article(self, url: str) -> Row:
        old = self.articles.pop(url)
        self.by_hash.pop(old["content_hash"], None)
        # (its raw page stays: it becomes a copy, which keeps its page)
        feats = self.features.pop(url, None)
        for fp in feats.sketch.fingerprints if feats is not None else ():
            urls = self._fingerprints.get(fp)
            if urls and url in urls:
                urls.remove(url)
                if not urls:  # (an empty list left behind per fingerprint grew without end)
                    del self._fingerprints[fp]
        return old

    def clear(self) -> None:
        """Everything was written."""
        self.articles.clear()
        self.by_hash.clear()
        self.updates.clear()
        self.duplicates.clear()
        self.failures.clear()
        self.pages.clear()
        self.features.clear()
        self.takes_over.clear()
        self.demotions.clear()
        self.copies.clear()
        self._fingerprints.clear()
