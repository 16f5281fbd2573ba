"""The corpus writer: one :class:`Corpus` is the single writer of a crawl.

Pure: no Scrapy. :meth:`Corpus.add_article` looks up what the corpus knows of
an incoming article (its URL, the copies of its text, stored or waiting in the
batch), asks the dedup decision (:mod:`crawler.dedup.decision`) what it is
(new, already known, a changed version of a known URL, a duplicate, or an
earlier copy replacing a kept one), and queues its rows in the pending batch
(:mod:`crawler.storage.pending`). :meth:`Corpus.flush` writes the batch in one
transaction of ``batch_size`` rows: articles join their stories
(:mod:`crawler.storage.storyindex`) in arrival order, duplicates find their
kept article, replaced articles become duplicates.

The other rooms: the schema and migrations (:mod:`crawler.storage.schema`),
connections (:mod:`crawler.storage.db`), the near-duplicate index
(:mod:`crawler.storage.nearindex`) and postings (:mod:`crawler.storage.postings`),
site profiles learnt during a crawl (:mod:`crawler.storage.profiles`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler import features
from crawler.dedup import decision as dedup
from crawler.dedup.decision import Copy, Outcome
from crawler.features import Features
from crawler.items import Article, Failure, storable
from crawler.storage import variants
from crawler.storage.db import (
    HOST_RANGE,
    CorpusError,
    Readers,
    WithBatch,
    check_writable,
    host_range,
    now,
    open_database,
    write_transaction,
)
from crawler.storage.pending import Pending
from crawler.storage.profiles import LEARN_AT, LEARN_EVERY, SiteProfiles, load_site_profiles
from crawler.storage.schema import migrations
from crawler.storage.settle import Settled, settle
from crawler.storage.storyindex import StoryIndex
from crawler.storage.writer import write_batch
from crawler.urls import host_of

# Names the rest of the crawler (pipelines, scale-out, commands, reclean, tests)
# imports from here; they live in the modules of crawler.storage that own them.
__all__ = [
    "COLD_START_DOCS",
    "HOST_RANGE",
    "LEARN_AT",
    "LEARN_EVERY",
    "Corpus",
    "CorpusError",
    "Outcome",
    "check_writable",
    "host_range",
    "load_site_profiles",
    "migrations",
    "now",
    "open_database",
    "write_transaction",
]

logger = logging.getLogger(__name__)


#: A new corpus makes its first story decisions with the term statistics of a
#: handful of articles, when words every article uses still look telling, and
#: its first articles stick together in one story. The write that first takes
#: the corpus to this many articles regroups them all once, with the
#: statistics of all of them (:meth:`StoryIndex.rebuild`; about a second).
COLD_START_DOCS = 200


def _permanent(failure: dict[str, Any]) -> bool:
    return failure.get("http_status") in (404, 410) or failure.get("stage") in (
        "parse",
        "extract",
        "validate",
    )


class Corpus:
    """The single writer of one crawl into the corpus."""

    def __init__(
        self, path: str | Path, *, batch_size: int = 200, busy_timeout: float = 30.0
    ) -> None:
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        self.db = open_database(self.path, busy_timeout=busy_timeout)
        self.busy_timeout = busy_timeout
        # The writer is the thread that opened the corpus; lookups from any other
        # thread (the spider's, while a writer thread stores) get their own
        # read connection: WAL readers never wait for the writer.
        self._readers = Readers(self.db, self.path, busy_timeout)
        self.crawl_id: int | None = None
        #: every row waiting for the next write
        self.batch = Pending()
        # writes other modules commit with the next batch (queue_with_batch)
        self._with_batch = WithBatch()
        #: called on the writer thread with each item whose rows were just queued,
        #: before a full batch is written (:meth:`flush_deferred`): what they queue
        #: with :meth:`queue_with_batch` commits with the item's rows
        self.queued_hooks: list[Callable[[Article | Failure], None]] = []
        self._defer_flush = 0
        #: per crawl: (url, url of a copy, similarity) of every copy the
        #: near-duplicate search found, for the end of the crawl (settle)
        self.links: dict[int | None, list[tuple[str, str, float]]] = {}
        self.hosts_touched: set[str] = set()
        # near-duplicates and stories (crawler.storage.storyindex)
        self.index = StoryIndex(self.db)
        #: site profiles learnt while crawling when learn_during_crawl is set (by
        #: the crawl's pipeline)
        self.learn_during_crawl = False
        self.profiles = SiteProfiles(self.db, self.index)
        #: articles regrouped after the corpus's cold start, when this writer did it
        self.cold_start_regrouped = 0
        # until the cold-start regrouping of a new corpus: article id -> the title,
        # text and features it was written with, so that the regrouping need not
        # compute them again (None once the corpus is past COLD_START_DOCS)
        self._cold_features: dict[int, tuple[str | None, str, Features]] | None = (
            {} if self.index.stats.docs < COLD_START_DOCS else None
        )

    @property
    def learnt(self) -> deque[tuple[str, frozenset[str]]]:
        """(host, lines) learnt, for the cleaning workers (read on any thread)."""
        return self.profiles.learnt

    @property
    def texts_stripped(self) -> int:
        """Stored articles whose text lost lines a profile learnt later."""
        return self.profiles.texts_stripped

    @property
    def previewed(self) -> dict[str, frozenset[str]]:
        """The lines a dry run of :meth:`learn_site_profiles` would keep, per host."""
        return self.profiles.previewed

    def read(self, sql: str, params: list[Any]) -> sqlite3.Cursor:
        """A read query, on this thread's connection (:class:`~crawler.storage.db.Readers`)."""
        return self._readers.execute(sql, params)

    def close_readers(self) -> None:
        """Close the other threads' read connections."""
        self._readers.close()

    # --- crawls -------------------------------------------------------------

    def start_crawl(self, spider: str, args: dict[str, Any]) -> int:
        with write_transaction(self.db):
            table = self.db.table("crawls").insert(
                {
                    "spider": spider,
                    "args": json.dumps(args, sort_keys=True, default=str),
                    "started_at": now(),
                }
            )
        crawl_id = table.last_pk
        assert isinstance(crawl_id, int)  # (the rowid of the row inserted)
        self.crawl_id = crawl_id
        return crawl_id

    def finish_crawl(self, reason: str, stats: dict[str, Any]) -> None:
        self.flush()
        if self.crawl_id is None:
            return
        stats = stats | self.settle().stats()
        with write_transaction(self.db):
            self.db.table("crawls").update(
                self.crawl_id,
                {
                    "finished_at": now(),
                    "finish_reason": reason,
                    "stats": json.dumps(stats, sort_keys=True, default=str),
                },
            )

    def settle(self, crawl_id: int | None = None) -> Settled:
        """Decide the duplicate groups and stories crawl ``crawl_id`` (this
        writer's, by default) touched again, in a canonical order, once its
        rows are written (:mod:`crawler.storage.settle`): its result depends on
        its pages, not on the order they came in."""
        self.flush()
        crawl_id = self.crawl_id if crawl_id is None else crawl_id
        try:
            return settle(self.db, self.index, crawl_id, self.links.pop(crawl_id, None))
        except BaseException:
            self.index.rolled_back()
            raise

    # --- lookups --------------------------------------------------------------

    def _stored_by_url(self, url: str) -> tuple[int, str, str | None] | None:
        row = self.db.execute(
            "SELECT id, content_hash, fetched_url FROM articles WHERE url = ?", [url]
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def _stored_by_hash(self, content_hash: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1", [content_hash]
        ).fetchone()
        return row[0] if row else None

    def is_known_url(self, url: str) -> bool:
        """Does fetching ``url`` again only reproduce a row the corpus has?

        True for an article (by canonical or fetched URL), a recorded
        duplicate, and a permanent failure (HTTP 404 or 410, or a page that
        was not an article); transient failures (timeouts, 5xx) are retried.
        """
        if url in self.batch.articles or url in self.batch.duplicates:
            return True
        pending = self.batch.failures.get(url)
        if pending is not None and _permanent(pending):
            return True
        row = self.read(
            # (an article stored from another address is not known by its own
            # URL: that page's text is the one to store, decision.address_rank)
            "SELECT 1 FROM articles WHERE fetched_url = ? OR (url = ? AND fetched_url IS url) "
            "UNION ALL SELECT 1 FROM duplicates WHERE url = ? OR fetched_url = ? "
            "UNION ALL SELECT 1 FROM failures WHERE url = ? AND "
            "(http_status IN (404, 410) OR stage IN ('parse', 'extract', 'validate')) LIMIT 1",
            [url, url, url, url, url],  # (articles: fetched, then canonical)
        ).fetchone()
        return row is not None

    # --- writes ---------------------------------------------------------------

    def add_article(self, article: Article) -> Outcome:
        """Decide what ``article`` is and queue its rows."""
        storable(article)  # a lone surrogate would cost the whole batch
        article = self.profiles.without_learnt_lines(article)
        url = article.url
        fetched = article.fetched_url or url
        batch = self.batch
        # 1. the URL
        waiting = batch.articles.get(url)
        if (
            waiting is not None
            and waiting["content_hash"] != article.content_hash
            and fetched != (waiting["fetched_url"] or url)
        ):
            # another address's text of an article waiting in the batch: written
            # first, so that the texts are ranked as stored ones are
            # (dedup.address), whatever the batch they arrive in
            self.flush()
            return self.add_article(article)
        if waiting is not None and dedup.address_rank(url, fetched) < dedup.address_rank(
            url, waiting["fetched_url"]
        ):
            # the same text from a better address: the article's address now
            worse, waiting["fetched_url"] = waiting["fetched_url"], fetched
            self._keep_page(article)  # (the page is that of the article's address)
            self.add_url_duplicate(worse, url, article.site)
            return Outcome("known", kind=None)
        waiting_dup = batch.duplicates.get(url)
        in_batch = waiting is not None or waiting_dup is not None
        stored = None if in_batch else self._stored_by_url(url)
        dup_row = (
            None
            if in_batch or stored
            else self.db.execute(
                "SELECT article_id FROM duplicates WHERE url = ?", [url]
            ).fetchone()
        )
        address = "same"
        if stored is not None and stored[1] != article.content_hash:
            if batch.has_update(stored[0]):
                # another text of it waits as an update: written first, so that
                # this one is ranked against it, not against the text it replaces
                self.flush()
                return self.add_article(article)
            address = variants.address(self.db, url, fetched, stored, article)
        if waiting_dup is not None or dup_row is not None:
            variants.better_copy(self, url, fetched, article)
        known = dedup.by_url(
            article.content_hash,
            waiting=waiting is not None,
            waiting_duplicate=waiting_dup["kind"] if waiting_dup is not None else None,
            stored=(stored[0], stored[1]) if stored is not None else None,
            recorded_duplicate=dup_row is not None,
            duplicate_of=dup_row[0] if dup_row else None,
            address=address,
        )
        if known is not None:
            if known.status == "updated":
                row = self._row(article) | {"id": known.article_id, "updated_at": now()}
                batch.add_update(row if known.version else row | {"_version": False})
                self._keep_page(article)
                if address == "better" and stored is not None and stored[2]:
                    # the address its text came from stays another address of it
                    self.add_url_duplicate(stored[2], url, article.site)
                self._maybe_flush()
            elif (
                stored is not None
                and known.variant
                and variants.better_address(self.db, url, fetched, stored)
            ):
                self._keep_page(article)
                self.add_url_duplicate(stored[2] or url, url, article.site)
            elif known.variant:
                self._note_variant(fetched, url, article.site)
            return Outcome(known.status, known.article_id, kind=known.kind)

        # 2. the text: an exact copy (not one already being replaced in this batch) ...
        demoted = batch.demoted()
        exact = None
        kept_url = batch.by_hash.get(article.content_hash)
        if kept_url is not None:
            exact = Copy(1.0, url=kept_url, published=batch.published_of(kept_url))
        else:
            kept_id = self._stored_by_hash(article.content_hash)
            if kept_id is not None and kept_id not in demoted:
                exact = Copy(1.0, article_id=kept_id, published=self._published_of(kept_id))
        # ... and, unless that settles it, a near copy among the other articles
        feats = None
        near = None
        if dedup.wants_near(article.published, exact):
            feats = features.of(article)
            found: list[tuple[str, float]] = []
            near = self.index.near.find(
                feats.sketch,
                demoted | {exact.article_id} if exact and exact.article_id else demoted,
                batch,
                skip=exact.url if exact else None,
                links=found,
            )
            if found:  # every copy found, for the end of the crawl
                self.links.setdefault(self.crawl_id, []).extend(
                    (url, other, sim) for other, sim in found if other != url
                )
        decision = dedup.by_text(article.published, exact, near)

        if decision.status == "duplicate":
            kept = decision.kept
            assert kept is not None and decision.kind is not None
            if (
                decision.undo is not None
            ):  # it replaced an exact copy, but is a copy of an earlier one
                undo = decision.undo
                batch.supersede(url, undo.url, undo.article_id, 1.0, "exact", self.crawl_id)
                batch.undo_supersede(url, kept.url, kept.article_id)
            batch.add_duplicate(
                url,
                fetched,
                kept.url,
                kept.article_id,
                decision.kind,
                kept.similarity,
                article.site,
                self.crawl_id,
                self._row(article),
            )
            # its page too: the settle may find it the article its group keeps
            self._keep_page(article)
            self._maybe_flush()
            return Outcome(
                "duplicate", kept.article_id, kind=decision.kind, similarity=kept.similarity
            )

        assert feats is not None
        in_crawl = 0
        for kind, copy in decision.replaces:
            in_crawl += self._counted_in_this_crawl(copy.article_id)
            batch.supersede(url, copy.url, copy.article_id, copy.similarity, kind, self.crawl_id)
        batch.add_article(self._row(article), feats)
        self.profiles.stored(url, article.template)
        self._keep_page(article)
        self._maybe_flush()
        return Outcome(
            "stored",
            replaced=tuple(kind for kind, _ in decision.replaces),
            replaced_in_crawl=in_crawl,
        )

    def _counted_in_this_crawl(self, article_id: int | None) -> bool:
        """Did this crawl count the kept copy an earlier one replaces (as stored or
        updated)? Yes for one still waiting to be written (``None``) or with an
        update waiting; for a stored row, when this crawl wrote it."""
        if article_id is None or self.batch.has_update(article_id):
            return True
        row = self.db.execute("SELECT crawl_id FROM articles WHERE id = ?", [article_id]).fetchone()
        return row is not None and self.crawl_id is not None and row[0] == self.crawl_id

    def _published_of(self, article_id: int) -> str | None:
        row = self.db.execute(
            "SELECT published FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        return row[0] if row else None

    def _note_variant(self, fetched: str, url: str, site: str | None) -> None:
        """A known article reached through another address: a ``url`` duplicate."""
        batch = self.batch
        if fetched == url or fetched in batch.duplicates or fetched in batch.articles:
            return  # (an address that is an article itself is no variant)
        pending = batch.articles.get(url)
        if pending is not None and pending["fetched_url"] == fetched:
            return
        if self.db.execute(
            "SELECT 1 FROM articles WHERE fetched_url = ? OR url = ? UNION ALL "
            "SELECT 1 FROM duplicates WHERE url = ?",
            [fetched, fetched, fetched],
        ).fetchone():
            return
        self.add_url_duplicate(fetched, url, site)

    def add_url_duplicate(
        self, url: str, kept_url: str, site: str | None, kind: str = "url"
    ) -> None:
        """Record that ``url`` is another address of the article at ``kept_url``."""
        if url == kept_url or url in self.batch.duplicates:
            return
        self.batch.add_duplicate(url, url, kept_url, None, kind, 1.0, site, self.crawl_id)
        self._maybe_flush()

    def add_failure(self, failure: Failure) -> None:
        """Queue the failure; a URL keeps one row, its latest attempt."""
        storable(failure)
        at = now()
        self.batch.add_failure(
            asdict(failure) | {"crawl_id": self.crawl_id, "at": at, "first_at": at, "attempts": 1}
        )
        self._maybe_flush()

    def _row(self, article: Article) -> dict[str, Any]:
        return {
            "url": article.url,
            "title": article.title,
            "text": article.text,
            "author": article.author,
            "published": article.published,
            "site": article.site,
            "language": article.language,
            "description": article.description,
            "word_count": article.word_count,
            "content_hash": article.content_hash,
            "fetched_url": article.fetched_url or article.url,
            "fetched_at": article.fetched_at or now(),
            "crawl_id": self.crawl_id,
            "etag": article.etag,
            "last_modified": article.last_modified,
            "published_guessed": int(article.published_guessed),
        }

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The stored ``ETag`` and ``Last-Modified`` of the article at ``url``."""
        row = self.read(
            "SELECT etag, last_modified FROM articles WHERE url = ? OR fetched_url = ? LIMIT 1",
            [url, url],
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def _keep_page(self, article: Article) -> None:
        """Queue the raw page of an article, or of a copy (exact or near) the
        end of the crawl may find the article its group keeps."""
        host = host_of(article.url)
        if host:
            self.hosts_touched.add(host)
        if article.raw is not None:
            self.batch.add_page(
                {
                    "url": article.url,
                    "fetched_url": article.fetched_url or article.url,
                    "content_type": article.raw_content_type,
                    "declared_encoding": article.raw_encoding,
                    "body": article.raw,
                    "fetched_at": article.fetched_at or now(),
                }
            )

    # --- site profiles --------------------------------------------------------

    def learn_site_profiles(
        self,
        hosts: set[str] | None = None,
        *,
        recent: int = 200,
        min_pages: int = 3,
        dry_run: bool = False,
        strip: bool = True,
    ) -> dict[str, int]:
        """Learn (and keep) the chrome lines of each host (every host this writer
        touched, by default) from its latest ``recent`` articles, once the batch
        is written; returns how many lines each host now has
        (:meth:`crawler.storage.profiles.SiteProfiles.learn`)."""
        self.flush()
        return self.profiles.learn(
            self.hosts_touched if hosts is None else hosts,
            recent=recent,
            min_pages=min_pages,
            dry_run=dry_run,
            strip=strip,
        )

    def _maybe_flush(self) -> None:
        if self._defer_flush:
            return
        if len(self.batch) + len(self._with_batch) >= self.batch_size:
            self.flush()

    @contextmanager
    def flush_deferred(self) -> Iterator[None]:
        """No batch is written inside the block; a full one is, at its end."""
        self._defer_flush += 1
        try:
            yield
        finally:
            self._defer_flush -= 1
        self._maybe_flush()

    def queue_with_batch(self, key: str, write: Callable[[Database], None]) -> None:
        """Have ``write(db)`` run inside the next batch's write transaction
        (:class:`~crawler.storage.db.WithBatch`; a WARC file's progress)."""
        self._with_batch.queue(key, write)

    def flush(self) -> None:
        """Write everything queued, in one transaction."""
        if not len(self.batch) and not self._with_batch:
            return
        docs_before = self.index.stats.docs
        try:
            self._write_pending()
        except BaseException:
            self.index.rolled_back()
            raise
        self.batch.clear()
        if docs_before < COLD_START_DOCS <= self.index.stats.docs:
            self._regroup_after_cold_start()
        if self.index.stats.docs >= COLD_START_DOCS:
            self._cold_features = None
        due = self.profiles.take_due()
        if due and self.learn_during_crawl:
            self._learn_during_crawl(due)

    def _regroup_after_cold_start(self) -> None:
        """See :data:`COLD_START_DOCS`."""
        try:
            with write_transaction(self.db):
                articles, groups = self.index.rebuild(self._cold_features)
        except BaseException:
            self.index.rolled_back()
            raise
        self.cold_start_regrouped = articles
        logger.info(
            "Regrouped the first %d articles of a new corpus into %d stories, with the"
            " term statistics of all of them",
            articles,
            groups,
        )

    def _learn_during_crawl(self, hosts: set[str]) -> None:
        """A lesson for ``hosts``; a failure of its own loses the lesson, not the crawl."""
        try:
            self.learn_site_profiles(hosts)
        except (CorpusError, sqlite3.Error):
            raise  # the corpus cannot be written: that stops the crawl as any write does
        except Exception:
            self.index.rolled_back()
            logger.exception(
                "Could not learn the site profiles of %s; the crawl goes on",
                ", ".join(sorted(hosts)),
            )

    def _write_pending(self) -> None:
        taken = self._with_batch.take()
        write_batch(
            self.db, self.batch, self.index, self.crawl_id, self._cold_features, taken.write
        )
        self._with_batch.written(taken)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.close_readers()
            self.db.close()
