"""The corpus writer: one thread that owns the crawl's :class:`Corpus`.

Dedup lookups, story grouping and the batched write transactions run on that
thread (``thread=False``: in the caller's), so the event loop keeps downloading
and feeding the cleaning workers while a batch is written; SQLite releases the
GIL while it works. Items reach the writer in the order they are stored, one at
a time, and each caller waits for its own item.

The writer also owns the write-error state: the first write that fails (disk
full, the file locked by another program for longer than ``busy_timeout``, a
read-only file) sets :attr:`CorpusWriter.write_error` and raises
:class:`WriteError` once; what was committed stays intact, and later items are
not written. No Scrapy: the caller turns outcomes into stats and decides how to
stop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from crawler.core.view import CorpusView, LocalCorpusView
from crawler.items import Article, Failure
from crawler.storage.corpus import Corpus, CorpusError, Outcome
from crawler.storage.variants import record_requested_url

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: what a failed write raises: SQLite's own errors and the corpus's
WRITE_ERRORS = (CorpusError, sqlite3.Error)


class Stats(Protocol):
    """The part of a stats collector the writer records into (Scrapy's fits)."""

    def get_value(self, key: str, default: Any = None) -> Any: ...

    def set_value(self, key: str, value: Any) -> None: ...

    def get_stats(self) -> dict[str, Any]: ...


class WriteError(Exception):
    """The corpus could not be written; ``str(exc)`` is SQLite's reason."""


class CorpusWriter:
    """The single writer of one crawl into the corpus at ``path``."""

    def __init__(
        self,
        path: str,
        *,
        batch_size: int = 200,
        busy_timeout: float = 30.0,
        thread: bool = True,
        learn_during_crawl: bool = False,
    ) -> None:
        self.path = path
        self.batch_size = batch_size
        self.busy_timeout = busy_timeout
        self.learn_during_crawl = learn_during_crawl
        self.corpus: Corpus | None = None
        self.crawl_id: int | None = None
        #: the first write error, once there has been one
        self.write_error: str | None = None
        self._thread: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(1, thread_name_prefix="corpus-writer") if thread else None
        )

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the writer thread (or here, without one) and wait for it."""
        if self._thread is None:
            return fn(*args)
        return self._thread.submit(fn, *args).result()

    # --- life -------------------------------------------------------------------

    def open(self, spider: str, arguments: dict[str, Any]) -> int:
        """Open the corpus and start its ``crawls`` row; the crawl's id.

        Raises the corpus's or SQLite's error (the thread is stopped then).
        """
        try:
            corpus = self._call(
                lambda: Corpus(
                    self.path, batch_size=self.batch_size, busy_timeout=self.busy_timeout
                )
            )
            self.corpus = corpus
            self.crawl_id = self._call(corpus.start_crawl, spider, arguments)
        except WRITE_ERRORS:
            self._stop_thread()
            raise
        corpus.learn_during_crawl = self.learn_during_crawl
        return self.crawl_id

    def view(self) -> CorpusView:
        """The read-only view spiders get (it sees rows still waiting for a write)."""
        assert self.corpus is not None, "open() first"
        return LocalCorpusView(self.corpus)

    async def store(self, item: Article | Failure) -> Outcome | None:
        """Queue ``item`` (flushing a full batch); its outcome (None: a failure).

        Raises :class:`WriteError` on the first write that fails; once one has,
        items are not written (check :attr:`write_error` first).
        """
        if self.write_error is not None:
            raise WriteError(self.write_error)
        try:
            if self._thread is None:
                return self._store(item)
            return await asyncio.wrap_future(self._thread.submit(self._store, item))
        except WRITE_ERRORS as exc:
            raise self._failed(exc) from exc

    def _store(self, item: Article | Failure) -> Outcome | None:
        """On the writer thread. The item's rows, and whatever the corpus's
        ``queued_hooks`` queue for it, go into the same batch: a full batch is
        written only once both are queued."""
        corpus = self.corpus
        assert corpus is not None
        with corpus.flush_deferred():
            outcome: Outcome | None = None
            if isinstance(item, Failure):
                corpus.add_failure(item)
            else:
                outcome = corpus.add_article(item)
                record_requested_url(corpus, item, outcome)
            for hook in corpus.queued_hooks:
                hook(item)
        return outcome

    def learnt(self) -> list[tuple[str, frozenset[str]]]:
        """Site profiles learnt since the last call: (host, chrome line keys)."""
        learnt = self.corpus.learnt if self.corpus is not None else None
        out = []
        while learnt:
            out.append(learnt.popleft())
        return out

    def flush(self) -> None:
        """Write what waits (raises :class:`WriteError`); nothing after an error."""
        if self.corpus is None or self.write_error is not None:
            return
        try:
            self._call(self.corpus.flush)
        except WRITE_ERRORS as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: BaseException) -> WriteError:
        if self.write_error is None:
            self.write_error = str(exc)
        return WriteError(str(exc))

    def finish(self, reason: str, stats: Stats, *, learn_profiles: bool) -> None:
        """Learn site profiles, write the rest, record the end of the crawl
        (``reason`` and ``stats``) and close. Errors are logged, not raised."""
        try:
            if self.corpus is not None:
                self._call(self._finish, reason, stats, learn_profiles)
        finally:
            self.corpus = None
            self._stop_thread()

    def _finish(self, reason: str, stats: Stats, learn_profiles: bool) -> None:
        """On the writer thread."""
        corpus = self.corpus
        assert corpus is not None
        if learn_profiles and self.write_error is None:
            try:
                learnt = corpus.learn_site_profiles()
                stats.set_value("corpus/site_profile_lines", sum(learnt.values()))
            except WRITE_ERRORS as exc:
                logger.error("Could not update site profiles in %s: %s", self.path, exc)
        try:
            corpus.flush()
            if corpus.texts_stripped:
                stats.set_value("corpus/site_profiles/texts_stripped", corpus.texts_stripped)
            if corpus.cold_start_regrouped:
                stats.set_value("corpus/stories/cold_start_regrouped", corpus.cold_start_regrouped)
            if corpus.index.articles_moved:
                stats.set_value("corpus/stories/articles_moved", corpus.index.articles_moved)
            corpus.finish_crawl(reason, stats.get_stats())
        except WRITE_ERRORS as exc:
            logger.error(
                "Could not record the end of crawl %s in %s: %s", self.crawl_id, self.path, exc
            )
        finally:
            corpus.close_readers()
            try:
                corpus.db.close()
            except sqlite3.Error:
                pass

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
