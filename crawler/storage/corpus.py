"""The SQLite corpus, written with sqlite-utils.

Pure: no Scrapy. One :class:`Corpus` is the single writer of a crawl. It
decides what an incoming article is (new, already known, a changed version
of a known URL, or an exact duplicate of another URL's text), buffers rows
and writes them in transactions of ``batch_size``.

Schema changes go through :data:`migrations` (``sqlite_utils.Migrations``);
never edit an applied migration, add a new one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from crawler import features
from crawler.dedup.exact import content_hash
from crawler.extract.processing import LESSONS_ATTR
from crawler.extract.siteprofile import (
    learn_profile,
    site_profiles_since,
    stored_lines,
    without_lines,
)
from crawler.features import Features
from crawler.items import Article, Failure
from crawler.storage.storyindex import (
    NearMatch,
    StoryIndex,
    create_staged_tables,
    create_tables,
    published_earlier,
)
from crawler.urls import host_of

logger = logging.getLogger(__name__)

migrations = Migrations("newscorpus")


@migrations()
def m001_initial(db: Database) -> None:
    db["stories"].create(
        {"id": int, "title": str, "first_published": str, "article_count": int},
        pk="id",
    )
    db["crawls"].create(
        {
            "id": int,
            "spider": str,
            "args": str,
            "started_at": str,
            "finished_at": str,
            "finish_reason": str,
            "stats": str,
        },
        pk="id",
    )
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "title": str,
            "text": str,
            "author": str,
            "published": str,
            "site": str,
            "language": str,
            "description": str,
            "word_count": int,
            "content_hash": str,
            "fetched_url": str,
            "fetched_at": str,
            "updated_at": str,
            "crawl_id": int,
            "story_id": int,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id"), ("story_id", "stories", "id")],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["fetched_url"])
    db["articles"].create_index(["site", "published"])
    db["articles"].create_index(["story_id"])
    db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    # Keep FTS5 merges small and frequent: adding a row stays flat as the
    # corpus grows (PERF-NOTES: 1.17x from 1k to 100k rows).
    db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES('automerge', 16)")
    db["duplicates"].create(
        {
            "id": int,
            "url": str,
            "fetched_url": str,
            "article_id": int,
            "kind": str,
            "similarity": float,
            "site": str,
            "crawl_id": int,
            "seen_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("crawl_id", "crawls", "id")],
    )
    db["duplicates"].create_index(["url"], unique=True)
    db["duplicates"].create_index(["article_id"])
    db["failures"].create(
        {
            "id": int,
            "url": str,
            "stage": str,
            "reason": str,
            "http_status": int,
            "crawl_id": int,
            "at": str,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id")],
    )
    db["failures"].create_index(["url"])
    db["failures"].create_index(["crawl_id"])


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes the write lock up front (``BEGIN IMMEDIATE``).

    With two writers (two crawls of different sources), a deferred ``BEGIN``
    that reads first and then writes fails at once with "database is locked"
    when the other writer committed in between; ``IMMEDIATE`` waits for the
    lock (the connection's busy timeout) instead.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


@migrations()
def m002_one_failure_row_per_url(db: Database) -> None:
    """A URL has one ``failures`` row: its latest attempt, with a count."""
    db["failures"].add_column("attempts", int)
    db["failures"].add_column("first_at", str)
    db.execute("UPDATE failures SET attempts = 1, first_at = at")
    db.execute("DELETE FROM failures WHERE id NOT IN (SELECT max(id) FROM failures GROUP BY url)")
    db.execute("DROP INDEX IF EXISTS idx_failures_url")
    db["failures"].create_index(["url"], unique=True)


@migrations()
def m003_pages_and_site_profiles(db: Database) -> None:
    """Raw pages (for ``scrapy reclean``) and the chrome learnt per site."""
    db["pages"].create(
        {
            "url": str,
            "fetched_url": str,
            "content_type": str,
            "declared_encoding": str,
            "body": bytes,
            "fetched_at": str,
        },
        pk="url",
    )
    db["site_profiles"].create(
        {"host": str, "pages": int, "lines": str, "updated_at": str},
        pk="host",
    )


@migrations()
def m004_stories_and_near_duplicates(db: Database) -> None:
    """Near-duplicate fingerprints, the story index and the story view's sentences."""
    create_tables(db)


@migrations()
def m005_validators_and_versions(db: Database) -> None:
    """Validators for conditional re-fetches, and the texts an update replaced."""
    db["articles"].add_column("etag", str)
    db["articles"].add_column("last_modified", str)
    db["articles"].add_column("published_guessed", int)
    db["versions"].create(
        {
            "id": int,
            "article_id": int,
            "title": str,
            "text": str,
            "content_hash": str,
            "fetched_at": str,
            "replaced_at": str,
            "crawl_id": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["versions"].create_index(["article_id"])


@migrations()
def m006_rolling_shingle_hashes(db: Database) -> None:
    """Near-duplicate fingerprints in the faster rolling shingle hash
    (:func:`crawler.dedup.near.shingles`): recomputed for every stored article."""
    from crawler.dedup import near as neardup

    db.execute("DELETE FROM neardup_fingerprints")
    last = 0
    while True:
        rows = db.execute(
            "SELECT id, text FROM articles WHERE id > ? ORDER BY id LIMIT 500", [last]
        ).fetchall()
        if not rows:
            break
        batch, sizes = [], []
        for aid, text in rows:
            sk = neardup.sketch(text or "")
            batch.extend((fp, aid) for fp in sk.fingerprints)
            sizes.append((sk.size, len(sk.fingerprints), aid))
        db.conn.executemany(
            "INSERT OR IGNORE INTO neardup_fingerprints (hash, article_id) VALUES (?, ?)", batch
        )
        db.conn.executemany(
            "UPDATE article_features SET shingles = ?, fingerprints = ? WHERE article_id = ?", sizes
        )
        last = rows[-1][0]


@migrations()
def m007_staged_postings(db: Database) -> None:
    """Staged parts of the posting tables (``neardup_fingerprints_new``,
    ``story_terms_new``): new postings are folded into the large tables in key
    order (:meth:`crawler.storage.storyindex.StoryIndex.fold`)."""
    create_staged_tables(db)


@migrations()
def m008_versions_url(db: Database) -> None:
    """The URL an earlier text was fetched from (``versions.url``): when an
    article becomes a duplicate of an earlier copy, its versions move to the
    kept article and keep saying whose texts they were."""
    db["versions"].add_column("url", str)
    db.execute("UPDATE versions SET url = (SELECT url FROM articles a WHERE a.id = article_id)")


@migrations()
def m009_story_pages_index(db: Database) -> None:
    """Indexes covering what the story pages (crawler.browse) read of the
    articles, so that they never read an article's text to find it: a
    story's articles with their publication times and outlets, and an
    article's story (the stories list's search goes from matching articles
    to their stories)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_story_id_published_site"
        " ON articles (story_id, published, site)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_id_story_id ON articles (id, story_id)")


#: articles of one host, as ranges over the unique index on ``url`` (a
#: ``LIKE 'https://host/%'`` would scan the whole table).
HOST_RANGE = (
    "((url >= ? AND url < ?) OR (url >= ? AND url < ?)"
    " OR (url >= ? AND url < ?) OR (url >= ? AND url < ?))"
)


def host_range(host: str) -> list[str]:
    """Bounds for :data:`HOST_RANGE`: every ``http(s)://host/...`` and
    ``http(s)://host:port/...`` URL (``host:`` sorts after ``host0``, so the
    port gets ranges of its own: ``127.0.0.1`` must not take in ``127.0.0.10``)."""
    return [
        bound
        for scheme in ("http", "https")
        for bound in (
            f"{scheme}://{host}/",
            f"{scheme}://{host}0",
            f"{scheme}://{host}:",
            f"{scheme}://{host};",
        )
    ]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CorpusError(Exception):
    """The corpus cannot be opened or written; ``str(exc)`` says why."""


@dataclass
class Outcome:
    """What :meth:`Corpus.add_article` decided."""

    status: str  # stored, updated, known, duplicate
    article_id: int | None = None  # the kept article, when known already
    kind: str | None = None  # for duplicates: url, exact or near
    similarity: float | None = None
    #: for a stored article: the kinds (exact, near) of the stored copies it replaced
    #: as the kept article, being published earlier (each is a duplicate of it now) ...
    replaced: tuple[str, ...] = ()
    #: ... and how many of those this crawl had counted as stored or updated
    replaced_in_crawl: int = 0


def open_database(path: str | Path, *, busy_timeout: float = 30.0) -> Database:
    """Open (creating if needed) a corpus, in WAL mode, fully migrated.

    Safe when several processes open a new corpus at once: the switch to WAL
    is retried while another connection holds the file, and migrations run
    under the write lock, checked again once it is held.
    """
    path = Path(path)
    if path.exists() and path.is_dir():
        raise CorpusError(f"CORPUS_DB {str(path)!r} is a directory, not a database file")
    if not path.parent.exists():
        raise CorpusError(
            f"cannot create CORPUS_DB {str(path)!r}: folder {str(path.parent)!r} does not exist"
        )
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout, check_same_thread=False)
        db = Database(conn)
        _retry_locked(db.enable_wal, busy_timeout)
        db.execute("PRAGMA synchronous=NORMAL")
        # The dedup and story indexes are read for every new article: keep
        # their pages in memory so the cost stays flat as the corpus grows.
        db.execute("PRAGMA cache_size=-32768")  # 32 MiB
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("PRAGMA foreign_keys=ON")
        _retry_locked(lambda: _migrate(db), busy_timeout)
    except sqlite3.DatabaseError as exc:
        raise CorpusError(f"cannot open CORPUS_DB {str(path)!r}: {exc}") from None
    return db


def check_writable(db: Database) -> None:
    """Raise :class:`CorpusError` unless a write transaction can start now
    (a read-only file, or another program holding the lock too long)."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise CorpusError(f"cannot write to CORPUS_DB: {exc}") from None


def _retry_locked(fn: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fn()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _migrate(db: Database) -> None:
    if not migrations.pending(db):
        return
    with write_transaction(db):
        # Another process may have migrated while this one waited for the lock.
        if migrations.pending(db):
            migrations.apply(db)


#: During a crawl, a host's chrome lines are learnt again once the crawl has
#: stored this many of its articles, then every :data:`LEARN_EVERY` more:
#: early, so that the first pages' chrome neither stays in the corpus nor
#: steers story grouping, and rarely, so that it costs next to nothing.
LEARN_AT = (5, 10, 20, 40, 80, 160, 320, 640)
LEARN_EVERY = 1000

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
        self._owner = threading.get_ident()
        self._readers = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self.crawl_id: int | None = None
        self._articles: dict[str, dict[str, Any]] = {}  # url -> row
        self._by_hash: dict[str, str] = {}  # content_hash -> url, pending
        self._updates: list[dict[str, Any]] = []
        self._duplicates: dict[str, dict[str, Any]] = {}  # url -> row (kept_url inside)
        self._failures: dict[str, dict[str, Any]] = {}  # url -> row
        self._pages: dict[str, dict[str, Any]] = {}  # article url -> raw page row
        self.hosts_touched: set[str] = set()
        # Site profiles learnt while crawling (learn_during_crawl, set by the
        # crawl's pipeline): articles stored per host, hosts due a lesson, and
        # (host, lines) learnt, for the cleaning workers (read on any thread).
        self.learn_during_crawl = False
        self._host_stored: Counter[str] = Counter()
        self._learn_due: set[str] = set()
        self.learnt: deque[tuple[str, frozenset[str]]] = deque()
        # per host: its learnt lines, and the lesson (1, 2, ...: the order of
        # self.learnt) that last added to them; an article whose cleaning knew
        # fewer lessons (processing.LESSONS_ATTR) loses the lines when it arrives
        self._lessons = 0
        self._host_lines: dict[str, tuple[int, frozenset[str]]] = {}
        #: stored articles whose text lost lines a profile learnt later
        self.texts_stripped = 0
        #: articles regrouped after the corpus's cold start, when this writer did it
        self.cold_start_regrouped = 0
        #: the lines a dry run of learn_site_profiles would keep, per host
        self.previewed: dict[str, frozenset[str]] = {}
        # near-duplicates and stories (crawler.storage.storyindex)
        self.index = StoryIndex(self.db)
        # pending url -> its dedup and story features (crawler.features)
        self._features: dict[str, Features] = {}
        # pending url -> the stored article it replaces, whose story it takes over
        # (read when it is written: re-partitioning may move that article first)
        self._takes_over: dict[str, int] = {}
        # stored articles replaced by an earlier copy: (id, new url, similarity, kind)
        self._demotions: list[tuple[int, str, float, str]] = []
        # until the cold-start regrouping of a new corpus: article id -> the title,
        # text and features it was written with, so that the regrouping need not
        # compute them again (None once the corpus is past COLD_START_DOCS)
        self._cold_features: dict[int, tuple[str | None, str, Features]] | None = (
            {} if self.index.stats.docs < COLD_START_DOCS else None
        )

    def read(self, sql: str, params: list[Any]) -> sqlite3.Cursor:
        """A read query, on this thread's connection: the writer's own on the writer
        thread, a read connection of its own on any other (see ``_owner``)."""
        if threading.get_ident() == self._owner:
            return self.db.execute(sql, params)
        conn = getattr(self._readers, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self.path), timeout=self.busy_timeout, check_same_thread=False
            )
            self._readers.conn = conn
            self._reader_conns.append(conn)
        return conn.execute(sql, params)

    def close_readers(self) -> None:
        """Close the other threads' read connections."""
        while self._reader_conns:
            try:
                self._reader_conns.pop().close()
            except sqlite3.Error:
                pass

    # --- crawls -------------------------------------------------------------

    def start_crawl(self, spider: str, args: dict[str, Any]) -> int:
        with write_transaction(self.db):
            table = self.db["crawls"].insert(
                {
                    "spider": spider,
                    "args": json.dumps(args, sort_keys=True, default=str),
                    "started_at": now(),
                }
            )
        self.crawl_id = table.last_pk
        return self.crawl_id

    def finish_crawl(self, reason: str, stats: dict[str, Any]) -> None:
        self.flush()
        if self.crawl_id is None:
            return
        with write_transaction(self.db):
            self.db["crawls"].update(
                self.crawl_id,
                {
                    "finished_at": now(),
                    "finish_reason": reason,
                    "stats": json.dumps(stats, sort_keys=True, default=str),
                },
            )

    # --- lookups --------------------------------------------------------------

    def _stored_by_url(self, url: str) -> tuple[int, str] | None:
        row = self.db.execute(
            "SELECT id, content_hash FROM articles WHERE url = ?", [url]
        ).fetchone()
        return (row[0], row[1]) if row else None

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
        if url in self._articles or url in self._duplicates:
            return True
        pending = self._failures.get(url)
        if pending is not None and _permanent(pending):
            return True
        row = self.read(
            "SELECT 1 FROM articles WHERE url = ? OR fetched_url = ? "
            "UNION ALL SELECT 1 FROM duplicates WHERE url = ? OR fetched_url = ? "
            "UNION ALL SELECT 1 FROM failures WHERE url = ? AND "
            "(http_status IN (404, 410) OR stage IN ('parse', 'extract', 'validate')) LIMIT 1",
            [url, url, url, url, url],
        ).fetchone()
        return row is not None

    # --- writes ---------------------------------------------------------------

    def add_article(self, article: Article) -> Outcome:
        """Decide what ``article`` is and queue its row."""
        article = self._without_learnt_lines(article)
        url = article.url
        fetched = article.fetched_url or url
        if url in self._articles:
            self._note_variant(fetched, url, article.site)
            return Outcome("known")
        if url in self._duplicates:
            return Outcome("known", kind=self._duplicates[url]["kind"])
        stored = self._stored_by_url(url)
        if stored:
            article_id, old_hash = stored
            if old_hash == article.content_hash:
                self._note_variant(fetched, url, article.site)
                return Outcome("known", article_id)
            self._updates.append(self._row(article) | {"id": article_id, "updated_at": now()})
            self._keep_page(article)
            self._maybe_flush()
            return Outcome("updated", article_id)
        dup_row = self.db.execute(
            "SELECT article_id FROM duplicates WHERE url = ?", [url]
        ).fetchone()
        if dup_row:
            return Outcome("known", dup_row[0], kind="duplicate")

        replaced: list[str] = []
        in_crawl = 0
        kept_url = self._by_hash.get(article.content_hash)
        kept_id = None if kept_url else self._stored_by_hash(article.content_hash)
        if kept_id in {old for old, _, _, _ in self._demotions}:
            kept_id = None  # already being replaced by an earlier copy in this batch
        if kept_url or kept_id:
            if published_earlier(article.published, self._published_of(kept_url, kept_id)):
                replaced.append("exact")
                in_crawl += self._counted_in_this_crawl(kept_id)
                self._supersede(url, kept_url, kept_id, 1.0, "exact")
                kept_url = kept_id = None
        if kept_url or kept_id:
            self._duplicates[url] = {
                "url": url,
                "fetched_url": fetched,
                "kept_url": kept_url,
                "article_id": kept_id,
                "kind": "exact",
                "similarity": 1.0,
                "site": article.site,
                "crawl_id": self.crawl_id,
                "seen_at": now(),
            }
            self._maybe_flush()
            return Outcome("duplicate", kept_id, kind="exact", similarity=1.0)

        feats = features.of(article)
        sketch, near = self.index.find_near(
            feats.sketch, article.published, {old for old, _, _, _ in self._demotions}
        )
        if near is not None:
            if not published_earlier(article.published, near.published):
                if replaced:  # it replaced an exact copy, but is a copy of an earlier one
                    self._undo_supersede(url, near)
                self._duplicates[url] = {
                    "url": url,
                    "fetched_url": fetched,
                    "kept_url": near.url,
                    "article_id": near.article_id,
                    "kind": "near",
                    "similarity": near.similarity,
                    "site": article.site,
                    "crawl_id": self.crawl_id,
                    "seen_at": now(),
                }
                self._maybe_flush()
                return Outcome(
                    "duplicate", near.article_id, kind="near", similarity=near.similarity
                )
            replaced.append("near")
            in_crawl += self._counted_in_this_crawl(near.article_id)
            self._supersede(url, near.url, near.article_id, near.similarity, "near")

        self._articles[url] = self._row(article)
        self._by_hash[article.content_hash] = url
        host = host_of(url)
        if host:
            self._host_stored[host] += 1
            n = self._host_stored[host]
            if n in LEARN_AT or n % LEARN_EVERY == 0:
                self._learn_due.add(host)
        self._features[url] = feats
        self.index.hold(url, sketch, article.published)
        self._keep_page(article)
        self._maybe_flush()
        return Outcome("stored", replaced=tuple(replaced), replaced_in_crawl=in_crawl)

    def _counted_in_this_crawl(self, article_id: int | None) -> bool:
        """Did this crawl count the kept copy an earlier one replaces (as stored or
        updated)? Yes for one still waiting to be written (``None``) or with an
        update waiting; for a stored row, when this crawl wrote it."""
        if article_id is None or any(u.get("id") == article_id for u in self._updates):
            return True
        row = self.db.execute("SELECT crawl_id FROM articles WHERE id = ?", [article_id]).fetchone()
        return row is not None and self.crawl_id is not None and row[0] == self.crawl_id

    def _without_learnt_lines(self, article: Article) -> Article:
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
                article, text=text, content_hash=content_hash(text), word_count=len(text.split())
            )
        )

    def _published_of(self, url: str | None, article_id: int | None) -> str | None:
        if url is not None:
            return self._articles[url]["published"] if url in self._articles else None
        row = self.db.execute(
            "SELECT published FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        return row[0] if row else None

    def _supersede(
        self, url: str, old_url: str | None, old_id: int | None, similarity: float, kind: str
    ) -> None:
        """The article at ``url`` is a copy published earlier than the one kept so far:
        it becomes the kept article (and takes over its story), the other one a
        duplicate (``exact`` or ``near``) of it."""
        if old_id is not None:
            logger.info("Article %d becomes a near duplicate of the earlier %s", old_id, url)
            self._takes_over[url] = old_id
            self._demotions.append((old_id, url, similarity, kind))
            return
        assert old_url is not None
        old = self._articles.pop(old_url)
        self._by_hash.pop(old["content_hash"], None)
        self._features.pop(old_url, None)
        self._pages.pop(old_url, None)
        self.index.release(old_url)
        if old_url in self._takes_over:
            self._takes_over[url] = self._takes_over.pop(old_url)
        self._demotions = [
            (old, url if new == old_url else new, sim, k) for old, new, sim, k in self._demotions
        ]
        for dup in self._duplicates.values():
            if dup["kept_url"] == old_url:
                dup["kept_url"] = url
        self._duplicates[old_url] = {
            "url": old_url,
            "fetched_url": old["fetched_url"],
            "kept_url": url,
            "article_id": None,
            "kind": kind,
            "similarity": similarity,
            "site": old["site"],
            "crawl_id": self.crawl_id,
            "seen_at": now(),
        }

    def _undo_supersede(self, url: str, near: NearMatch) -> None:
        """``url`` replaced exact copies, then turned out a near copy of an earlier
        article (``near``): it is not written, so the stored copies it was to
        replace stay, and the copies waiting in the batch point at ``near``."""
        self._demotions = [d for d in self._demotions if d[1] != url]
        self._takes_over.pop(url, None)
        for dup in self._duplicates.values():
            if dup["kept_url"] == url:
                dup["kept_url"], dup["article_id"] = near.url, near.article_id

    def _taken_over_story(self, url: str) -> int | None:
        """The story of the stored article ``url`` replaces, as it is now, if any."""
        old_id = self._takes_over.get(url)
        if old_id is None:
            return None
        row = self.db.execute("SELECT story_id FROM articles WHERE id = ?", [old_id]).fetchone()
        return row[0] if row else None

    def _note_variant(self, fetched: str, url: str, site: str | None) -> None:
        """A known article reached through another address: a ``url`` duplicate."""
        if fetched == url or fetched in self._duplicates or fetched in self._articles:
            return  # (an address that is an article itself is no variant)
        pending = self._articles.get(url)
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
        if url == kept_url or url in self._duplicates:
            return
        self._duplicates[url] = {
            "url": url,
            "fetched_url": url,
            "kept_url": kept_url,
            "article_id": None,
            "kind": kind,
            "similarity": 1.0,
            "site": site,
            "crawl_id": self.crawl_id,
            "seen_at": now(),
        }
        self._maybe_flush()

    def add_failure(self, failure: Failure) -> None:
        """Queue the failure; a URL keeps one row, its latest attempt."""
        at = now()
        self._failures[failure.url] = asdict(failure) | {
            "crawl_id": self.crawl_id,
            "at": at,
            "first_at": at,
            "attempts": 1,
        }
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
            "fetched_at": now(),
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
        host = host_of(article.url)
        if host:
            self.hosts_touched.add(host)
        if article.raw is not None:
            self._pages[article.url] = {
                "url": article.url,
                "fetched_url": article.fetched_url or article.url,
                "content_type": article.raw_content_type,
                "declared_encoding": article.raw_encoding,
                "body": article.raw,
                "fetched_at": now(),
            }

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
        self.flush()
        hosts = self.hosts_touched if hosts is None else hosts
        out = {}
        self.previewed = {}
        lessons: list[tuple[str, frozenset[str]]] = []
        with write_transaction(self.db):
            for host in sorted(hosts):
                rows = self.db.execute(
                    f"SELECT id, text FROM articles WHERE {HOST_RANGE} ORDER BY id DESC LIMIT ?",
                    [*host_range(host), recent],
                ).fetchall()
                learnt = learn_profile(
                    [r[1] for r in rows], host=host, min_pages=min_pages, normalized=True
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
                    self.db["site_profiles"].upsert(
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
        for host, lines in lessons:
            self._lessons += 1
            self._host_lines[host] = (self._lessons, lines)
            self.learnt.append((host, lines))
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
                [text, len(text.split()), content_hash(text), at, aid],
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

    def pending(self) -> int:
        return (
            len(self._articles)
            + len(self._updates)
            + len(self._duplicates)
            + len(self._failures)
            + len(self._pages)
        )

    def _maybe_flush(self) -> None:
        if self.pending() >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write everything queued, in one transaction."""
        if not self.pending():
            return
        docs_before = self.index.stats.docs
        try:
            self._write_pending()
        except BaseException:
            self.index.rolled_back()
            raise
        self._articles.clear()
        self._by_hash.clear()
        self._updates.clear()
        self._duplicates.clear()
        self._failures.clear()
        self._pages.clear()
        self._features.clear()
        self._takes_over.clear()
        self._demotions.clear()
        if docs_before < COLD_START_DOCS <= self.index.stats.docs:
            self._regroup_after_cold_start()
        if self.index.stats.docs >= COLD_START_DOCS:
            self._cold_features = None
        if self._learn_due:
            due, self._learn_due = self._learn_due, set()
            if self.learn_during_crawl:
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
        with write_transaction(self.db):
            # In arrival order: each article joins a story (or starts one) and is
            # indexed before the next one is grouped.
            insert_sql = None
            for row in self._articles.values():
                feats = self._features.get(row["url"]) or features.compute(
                    row.get("title"), row.get("text") or ""
                )
                story_id, tf = self.index.assign_story(
                    row, self._taken_over_story(row["url"]), feats.terms
                )
                row["story_id"] = story_id
                if insert_sql is None:
                    insert_sql = (
                        f"INSERT INTO articles ({', '.join(row)}) VALUES"
                        f" ({', '.join(':' + c for c in row)})"
                    )
                article_id = self.db.execute(insert_sql, row).lastrowid
                self.index.add(article_id, row, story_id, tf, feats.sketch, feats.sentences)
                if self._cold_features is not None:
                    self._cold_features[article_id] = (row.get("title"), row["text"], feats)
            # Duplicates found in this batch point at their kept article, found now
            # (by URL for one waiting in the batch), before a demotion removes it.
            dups = []
            for row in self._duplicates.values():
                row = dict(row)
                kept_url = row.pop("kept_url")
                if row["article_id"] is None and kept_url:
                    found = self._stored_by_url(kept_url)
                    row["article_id"] = found[0] if found else None
                dups.append(row)
            # stored articles replaced by an earlier copy written in this batch:
            # old id -> the earlier copy's id (a demotion whose copy turned out a
            # duplicate itself, and was not written, does not happen)
            demoted: dict[int, int] = {}
            for old_id, new_url, similarity, kind in self._demotions:
                new = self._stored_by_url(new_url)
                if new is not None:
                    self.index.demote(old_id, new[0], similarity, self.crawl_id, now(), kind)
                    demoted[old_id] = new[0]
            for row in dups:
                # a copy of an article an earlier copy has just replaced: of that one
                row["article_id"] = demoted.get(row["article_id"], row["article_id"])
            for row in self._updates:
                article_id = row.pop("id")
                if article_id in demoted:
                    # an earlier copy replaced it in this batch: its URL is a duplicate
                    # now, and a duplicate keeps no text
                    continue
                # Keep the text this update replaces.
                self.db.execute(
                    "INSERT INTO versions (article_id, url, title, text, content_hash, fetched_at,"
                    " replaced_at, crawl_id) SELECT id, url, title, text, content_hash, fetched_at,"
                    " ?, ? FROM articles WHERE id = ?",
                    [now(), self.crawl_id, article_id],
                )
                self.index.remove(article_id)
                self.db["articles"].update(article_id, row)
                self.index.reindex(article_id)
            if dups:
                self.db["duplicates"].upsert_all(dups, pk="url", alter=False)
            if self._failures:
                self.db.conn.executemany(
                    "INSERT INTO failures (url, stage, reason, http_status, crawl_id, at, "
                    "first_at, attempts) VALUES (:url, :stage, :reason, :http_status, "
                    ":crawl_id, :at, :first_at, 1) ON CONFLICT(url) DO UPDATE SET "
                    "stage = excluded.stage, reason = excluded.reason, "
                    "http_status = excluded.http_status, crawl_id = excluded.crawl_id, "
                    "at = excluded.at, attempts = failures.attempts + 1",
                    list(self._failures.values()),
                )
            if self._pages:
                self.db["pages"].upsert_all(list(self._pages.values()), pk="url")
            self.index.finish()
            # A URL that failed before and is now an article (or a duplicate)
            # leaves the failures table: every URL is in exactly one place.
            done = [u for r in self._articles.values() for u in (r["url"], r["fetched_url"])]
            done += [u for r in self._duplicates.values() for u in (r["url"], r["fetched_url"])]
            for k in range(0, len(done), 500):
                chunk = done[k : k + 500]
                self.db.execute(
                    f"DELETE FROM failures WHERE url IN ({','.join('?' * len(chunk))})", chunk
                )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.close_readers()
            self.db.close()


def load_site_profiles(path: str | Path) -> dict[str, frozenset[str]]:
    """The learnt chrome lines of every host, read-only (for cleaning workers)."""
    return site_profiles_since(path, "")[0]
