"""What a spider may ask of the corpus: a typed, read-only view.

Spiders never hold the writer's :class:`~crawler.storage.corpus.Corpus`; they get a
:class:`CorpusView` through the ``corpus_opened`` signal (:mod:`crawler.core.signals`)
and ask it a few things: is a URL known (skip it), its stored validators (a
conditional re-fetch), a stored article (the ``comparable`` spider's seed) and the
corpus's term statistics (its search queries).

A crawl without a local corpus (a scale-out worker: ``CORPUS_REDIS_URL``; the drain
writes the corpus elsewhere) has :class:`NoCorpus`: ``available`` is False and its
``reason`` says why, so that a spider can refuse or warn instead of silently
doing nothing. Pure: no Scrapy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from crawler.items import Article, Failure

if TYPE_CHECKING:
    from sqlite_utils import Database

    from crawler.storage.corpus import Corpus
    from crawler.stories.grouping import TermStats

#: why a scale-out worker has no corpus view
ON_REDIS_WORKER = (
    "a scale-out worker (CORPUS_REDIS_URL is set) has no corpus: 'scrapy corpus drain' writes it"
)


class CorpusView(Protocol):
    """Read-only questions a spider asks of the corpus."""

    @property
    def available(self) -> bool:
        """False when there is no corpus to ask (every answer is then empty)."""
        ...

    @property
    def reason(self) -> str:
        """Why there is none (empty when ``available``)."""
        ...

    def is_known_url(self, url: str) -> bool:
        """Would fetching canonical ``url`` only reproduce a row the corpus has?"""
        ...

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The stored ``ETag`` and ``Last-Modified`` of the article at ``url``."""
        ...

    def article(self, article_id: int) -> Article | None:
        """A stored article (url, title, text, published, content hash) by id."""
        ...

    def term_stats(self) -> TermStats | None:
        """Document frequencies over the stored articles (story grouping's)."""
        ...

    @property
    def crawl_id(self) -> int | None:
        """This crawl's ``crawls.id`` (None without a corpus)."""
        ...

    def commit_with_next_batch(self, key: str, write: Callable[[Database], None]) -> bool:
        """The one write a spider may ask for: ``write(db)`` runs inside the
        writer's next batch transaction, so its rows commit with (never before)
        the items handed to the writer so far (the ``warc`` spider's file
        progress). A later call with the same ``key`` replaces a waiting one.
        False when there is no corpus."""
        ...

    def on_queued(self, hook: Callable[[Article | Failure], None]) -> bool:
        """Call ``hook(item)`` on the writer's thread each time an item's rows are
        queued, before a full batch is written: what it hands to
        :meth:`commit_with_next_batch` commits with that item's rows, never
        after them. False when there is no corpus."""
        ...


class LocalCorpusView:
    """The view of the corpus this crawl writes: it sees rows still waiting
    for a write too. Its reads use a connection of the caller's thread, never
    the writer's (see :meth:`Corpus.read`)."""

    available = True
    reason = ""

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus

    def is_known_url(self, url: str) -> bool:
        return self._corpus.is_known_url(url)

    def validators(self, url: str) -> tuple[str | None, str | None]:
        return self._corpus.validators(url)

    def article(self, article_id: int) -> Article | None:
        row = self._corpus.read(
            "SELECT url, title, text, published, content_hash, published_guessed FROM articles"
            " WHERE id = ?",
            [article_id],
        ).fetchone()
        if row is None:
            return None
        return Article(
            url=row[0],
            title=row[1],
            text=row[2],
            published=row[3],
            content_hash=row[4],
            published_guessed=bool(row[5]),
        )

    def term_stats(self) -> TermStats | None:
        return self._corpus.index.stats

    @property
    def crawl_id(self) -> int | None:
        return self._corpus.crawl_id

    def commit_with_next_batch(self, key: str, write: Callable[[Database], None]) -> bool:
        self._corpus.queue_with_batch(key, write)
        return True

    def on_queued(self, hook: Callable[[Article | Failure], None]) -> bool:
        self._corpus.queued_hooks.append(hook)
        return True


class NoCorpus:
    """No corpus to ask: nothing is known, nothing stored."""

    available = False

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def is_known_url(self, url: str) -> bool:
        return False

    def validators(self, url: str) -> tuple[str | None, str | None]:
        return (None, None)

    def article(self, article_id: int) -> Article | None:
        return None

    def term_stats(self) -> TermStats | None:
        return None

    crawl_id = None

    def commit_with_next_batch(self, key: str, write: Callable[[Database], None]) -> bool:
        return False

    def on_queued(self, hook: Callable[[Article | Failure], None]) -> bool:
        return False
