"""Item pipelines: a thin shell between Scrapy and the pure core.

* :class:`ExtractPipeline` turns a :class:`~crawler.items.Page` into an
  :class:`~crawler.items.Article` or a :class:`~crawler.items.Failure`
  (:func:`crawler.extract.processing.process_page`).
* :class:`CorpusPipeline` hands both to :class:`crawler.storage.corpus.Corpus`,
  counts what happened in the crawl's stats, and records the crawl itself
  (one ``crawls`` row with arguments, times, finish reason and stats).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.extract.processing import (
    CleaningError,
    Options,
    clean_batch_in_worker,
    clean_page,
    cleaned_with,
    init_worker,
)
from crawler.extract.site_rules import RulesError, load_rules
from crawler.items import Article, Failure, Page
from crawler.storage.corpus import Corpus, CorpusError, Outcome, load_site_profiles

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Sent (on the reactor) when the corpus learnt a site's chrome lines during the
#: crawl; arguments ``host`` and ``lines`` (line keys). The cleaning of later
#: pages removes them.
site_profile_learnt = object()

#: pages per message to a cleaning worker, at most: pages that arrive while
#: every worker is busy wait and leave together (one message each way instead
#: of one per page: less pickling and pool bookkeeping in the crawl process)
CLEAN_BATCH = 8


def default_workers() -> int:
    """One cleaning worker per core, none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if (cores or 1) > 1 else 0


class ExtractPipeline:
    """Cleaning is the expensive step, so it runs in worker processes.

    ``CLEAN_WORKERS`` processes (default: one per core; ``0`` cleans in the
    crawl's own process) run :func:`~crawler.extract.processing.clean_page` (cleaning,
    then the article's dedup and story features); the
    reactor only waits for results. Back-pressure comes from Scrapy's scraper
    slot: while results are pending, no more responses are handed over, so
    memory stays flat however fast pages arrive.

    Pages go to the pool in batches (:data:`CLEAN_BATCH`): a page is sent at
    once while fewer than two batches per worker are out, and otherwise waits
    for one to come back and leaves with the pages that came meanwhile. If a
    worker dies (killed, out of memory), a fresh pool takes over and the pages
    of every batch the dead pool lost are cleaned again one at a time, alone
    in the pool, so the page that kills a worker is found and only it fails.
    """

    def __init__(self, crawler: Crawler, options: Options, workers: int) -> None:
        self.crawler = crawler
        self.options = options
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        #: the corpus the workers catch up on learnt site profiles from, and
        #: how many lessons there have been (see crawler.extract.processing)
        self.profiles_db: str | None = None
        self.lessons = 0
        # pages waiting for a batch, and those of batches a dead pool lost
        self._waiting: list[tuple[Page, asyncio.Future]] = []
        self._suspects: list[tuple[Page, asyncio.Future]] = []
        self._tasks = 0  # batches out in the pool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        min_words = settings.getint("CLEAN_MIN_WORDS", 25)
        if min_words < 0:
            # Not NotConfigured: that would disable cleaning and lose every page.
            raise ValueError("CLEAN_MIN_WORDS must be 0 or more")
        workers = settings.getint("CLEAN_WORKERS", -1)
        if workers < 0:
            workers = default_workers()
        rules: dict[str, Any] = {}
        if settings.get("CLEAN_SITE_RULES"):
            try:
                rules = load_rules(settings.get("CLEAN_SITE_RULES"))
            except RulesError as exc:
                raise ValueError(str(exc)) from None
        options = Options(
            min_words=min_words,
            site_rules=rules,
            keep_raw=settings.getbool("CORPUS_KEEP_RAW", True),
        )
        pipe = cls(crawler, options, workers)
        if settings.getbool("CLEAN_SITE_PROFILES", True) and not settings.get("CORPUS_REDIS_URL"):
            options.site_lines = load_site_profiles(settings.get("CORPUS_DB"))
            pipe.profiles_db = settings.get("CORPUS_DB")
            crawler.signals.connect(pipe.profile_learnt, signal=site_profile_learnt)
        return pipe

    def profile_learnt(self, host: str, lines: frozenset[str]) -> None:
        """The corpus learnt ``host``'s chrome lines: clean later pages without them."""
        self.options.site_lines[host] = lines
        self.lessons += 1

    def open_spider(self) -> None:
        # Rules a spider brings (the sources spider's per-source cleaning)
        # join the CLEAN_SITE_RULES file; the file wins for a host in both.
        spider_rules = getattr(self.crawler.spider, "site_rules", None) or {}
        if spider_rules:
            self.options.site_rules = {**spider_rules, **self.options.site_rules}
        if self.workers:
            self.pool = self._new_pool()
            self.crawler.stats.set_value("corpus/clean_workers", self.workers)

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["crawler.extract.processing"])
        return ProcessPoolExecutor(
            self.workers,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(self.options, self.profiles_db),
        )

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Page):
            return item
        result = await self._process(item)
        if isinstance(result, Failure):
            logger.info("No article from %s: %s", item.url, result.reason)
        else:
            self.crawler.stats.inc_value("corpus/extracted")
        return result

    async def _process(self, page: Page) -> Article | Failure:
        try:
            return await self._run(page)
        except Exception as exc:
            logger.exception("Cleaning failed on %s", page.url)
            self.crawler.stats.inc_value("corpus/clean_errors")
            return Failure(
                page.url, "extract", f"cleaning failed with an error: {exc!r}", page.http_status
            )

    async def _run(self, page: Page) -> Article | Failure:
        if self.pool is None:
            return cleaned_with(clean_page(page, self.options), self.lessons)
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append((page, waiter))
        self._pump()
        try:
            return await waiter
        except CleaningError as exc:
            logger.error("Cleaning failed on %s: %s\n%s", page.url, exc.args[0], exc.args[1])
            self.crawler.stats.inc_value("corpus/clean_errors")
            return Failure(
                page.url,
                "extract",
                f"cleaning failed with an error: {exc.args[0]}",
                page.http_status,
            )

    def _pump(self) -> None:
        """Send what waits: suspects alone, one at a time; else batches while
        fewer than two per worker are out."""
        if self._suspects:
            if not self._tasks:
                self._send([self._suspects.pop(0)], alone=True)
            return
        while self._waiting and self._tasks < 2 * self.workers:
            batch, self._waiting = self._waiting[:CLEAN_BATCH], self._waiting[CLEAN_BATCH:]
            self._send(batch)

    def _send(self, batch: list[tuple[Page, asyncio.Future]], alone: bool = False) -> None:
        pool = self.pool
        if pool is None:  # closed meanwhile
            self._unfinished(batch)
            return
        try:
            task = pool.submit(clean_batch_in_worker, [page for page, _ in batch], self.lessons)
        except BrokenProcessPool:  # found broken before the batch went out
            self._lost(pool, batch, guilty=False)
            asyncio.get_running_loop().call_soon(self._pump)
            return
        self._tasks += 1
        self.crawler.stats.inc_value("corpus/clean_batches")
        asyncio.wrap_future(task).add_done_callback(
            lambda done: self._returned(pool, batch, done, alone)
        )

    def _returned(
        self,
        pool: ProcessPoolExecutor,
        batch: list[tuple[Page, asyncio.Future]],
        done: asyncio.Future,
        alone: bool,
    ) -> None:
        self._tasks -= 1
        if done.cancelled():  # the pool was shut down with the batch still queued
            self._unfinished(batch)
        elif isinstance(done.exception(), BrokenProcessPool):
            self._lost(pool, batch, guilty=alone)
        elif done.exception() is not None:  # the batch could not be sent or returned
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(done.exception())
        else:
            for (_, waiter), result in zip(batch, done.result(), strict=False):
                if waiter.done():
                    continue
                if isinstance(result, CleaningError):
                    waiter.set_exception(result)
                else:
                    waiter.set_result(result)
        self._pump()

    def _unfinished(self, batch: list[tuple[Page, asyncio.Future]]) -> None:
        """The pool closed before these pages were cleaned: each gets a failure
        row (a cancelled wait would drop the page without one)."""
        for page, waiter in batch:
            logger.error("The crawl stopped before %s was cleaned", page.url)
            if not waiter.done():
                waiter.set_result(
                    Failure(
                        page.url,
                        "extract",
                        "the crawl stopped before this page was cleaned",
                        page.http_status,
                    )
                )

    def _lost(
        self, pool: ProcessPoolExecutor, batch: list[tuple[Page, asyncio.Future]], guilty: bool
    ) -> None:
        """A worker of ``pool`` died (killed, out of memory) with ``batch`` out,
        or before it went: the first to notice starts a fresh pool. The pages
        are cleaned again, each alone in the pool; a page that was (``guilty``)
        is the one that killed it and fails."""
        if pool is self.pool:
            logger.warning(
                "A cleaning worker died: starting new workers; the pages it had"
                " are cleaned again one at a time"
            )
            self.crawler.stats.inc_value("corpus/clean_pool_restarts")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
        if guilty:
            page, waiter = batch[0]
            logger.error("A cleaning worker died while processing %s", page.url)
            self.crawler.stats.inc_value("corpus/clean_worker_crashes")
            if not waiter.done():
                waiter.set_result(
                    Failure(
                        page.url,
                        "extract",
                        "the cleaning worker crashed on this page",
                        page.http_status,
                    )
                )
            return
        self._suspects.extend(batch)


class CorpusPipeline:
    """Hands articles and failures to the corpus, the crawl's single writer.

    The corpus lives on its own writer thread (``CORPUS_WRITER_THREAD``, on
    by default): dedup lookups, story grouping and the batched write
    transactions run there, so the reactor keeps downloading and feeding the
    cleaning workers while a batch is written. Items reach the writer in the
    order they are processed, one at a time; SQLite releases the GIL while it
    works. Each item waits for its own store, so Scrapy's back-pressure
    still bounds how many are in flight.

    When the corpus cannot be written (disk full, database locked by another
    program for longer than ``CORPUS_BUSY_TIMEOUT``, a read-only file), the
    crawl stops with the finish reason ``corpus_write_error`` and one clear
    error line: SQLite's transactions leave the file consistent, and the
    next run fetches again whatever this one could not store.
    """

    def __init__(
        self,
        crawler: Crawler,
        path: str,
        batch_size: int,
        busy_timeout: float = 30.0,
        writer_thread: bool = True,
    ) -> None:
        self.crawler = crawler
        self.path = path
        self.batch_size = batch_size
        self.busy_timeout = busy_timeout
        self.learn_profiles = True
        self.learn_during_crawl = False
        self.corpus: Corpus | None = None
        self.write_error: str | None = None
        self.writer: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(1, thread_name_prefix="corpus-writer") if writer_thread else None
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CorpusPipeline:
        settings = crawler.settings
        path = settings.get("CORPUS_DB", "corpus.db")
        if not path:
            raise NotConfigured("CORPUS_DB is empty")
        pipe = cls(
            crawler,
            path,
            settings.getint("CORPUS_BATCH_SIZE", 200),
            settings.getfloat("CORPUS_BUSY_TIMEOUT", 30.0),
            settings.getbool("CORPUS_WRITER_THREAD", True),
        )
        pipe.learn_profiles = settings.getbool("CLEAN_SITE_PROFILES", True)
        # Learnt during the crawl too, unless the cleaning runs elsewhere.
        pipe.learn_during_crawl = pipe.learn_profiles and not settings.get("CORPUS_REDIS_URL")
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def _call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` on the writer thread (or here, without one) and wait for it."""
        if self.writer is None:
            return fn(*args)
        return self.writer.submit(fn, *args).result()

    def open_spider(self) -> None:
        spider = self.crawler.spider
        try:
            self.corpus = self._call(
                lambda: Corpus(
                    self.path, batch_size=self.batch_size, busy_timeout=self.busy_timeout
                )
            )
            crawl_id = self._call(
                self.corpus.start_crawl, spider.name, getattr(spider, "arguments", {})
            )
        except (CorpusError, sqlite3.Error) as exc:
            logger.error("Cannot open the corpus %s: %s", self.path, exc)
            self._stop_writer()
            raise
        self.corpus.learn_during_crawl = self.learn_during_crawl
        spider.corpus = self.corpus
        self.crawler.stats.set_value("corpus/crawl_id", crawl_id)
        logger.info("Crawl %d writing to %s", crawl_id, self.path)

    async def process_item(self, item: Any) -> Any:
        if self.write_error is not None:
            self.crawler.stats.inc_value("corpus/unstored_after_write_error")
            return item
        try:
            if self.writer is None:
                outcome = self._store(item)
            else:
                outcome = await asyncio.wrap_future(self.writer.submit(self._store, item))
        except (CorpusError, sqlite3.Error) as exc:
            self._write_failed(exc)
            return item
        self._count(item, outcome)
        self._announce_profiles()
        return item

    def _announce_profiles(self) -> None:
        """Back on the reactor: tell the cleaning about site profiles learnt since."""
        learnt = self.corpus.learnt if self.corpus is not None else None
        while learnt:
            host, lines = learnt.popleft()
            logger.info(
                "Learnt %d chrome lines of %s; later pages are cleaned without them",
                len(lines),
                host,
            )
            self.crawler.stats.inc_value("corpus/site_profiles/learnt_in_crawl")
            self.crawler.signals.send_catch_log(signal=site_profile_learnt, host=host, lines=lines)

    def _store(self, item: Any) -> Outcome | None:
        """On the writer thread: queue ``item`` in the corpus (flushing a full batch)."""
        assert self.corpus is not None
        if isinstance(item, Failure):
            self.corpus.add_failure(item)
            return None
        if not isinstance(item, Article):
            return None
        return self.corpus.add_article(item)

    def _count(self, item: Any, outcome: Outcome | None) -> None:
        """Back on the reactor: stats and log lines for what was stored."""
        stats = self.crawler.stats
        if isinstance(item, Failure):
            stats.inc_value(f"corpus/failures/{item.stage}")
            return
        if outcome is None:
            return
        if outcome.status == "duplicate":
            stats.inc_value(f"corpus/duplicates/{outcome.kind}")
            logger.info("Duplicate (%s) of an earlier article: %s", outcome.kind, item.url)
        elif outcome.status == "known":
            stats.inc_value("corpus/skipped/known")
            logger.debug("Already in the corpus: %s", item.url)
        else:
            stats.inc_value(f"corpus/articles/{outcome.status}")
            for kind in outcome.replaced:
                # a stored copy, now a duplicate of this earlier one
                stats.inc_value(f"corpus/replaced/{kind}")
            if outcome.replaced_in_crawl:
                stats.inc_value("corpus/replaced_in_crawl", outcome.replaced_in_crawl)

    def _write_failed(self, exc: BaseException) -> None:
        if self.write_error is not None:
            return
        self.write_error = str(exc)
        self.crawler.stats.set_value("corpus/write_error", self.write_error)
        logger.error(
            "Cannot write to the corpus %s: %s. Stopping the crawl; what was written is intact "
            "and the next run fetches what this one could not store.",
            self.path,
            exc,
        )
        engine = self.crawler.engine
        if engine is not None:
            asyncio.ensure_future(engine.close_spider_async(reason="corpus_write_error"))

    def close_spider(self) -> None:
        if self.corpus is not None and self.write_error is None:
            try:
                self._call(self.corpus.flush)
            except (CorpusError, sqlite3.Error) as exc:
                self._write_failed(exc)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.corpus is None:
            self._stop_writer()
            return
        try:
            self._call(self._finish, reason)
        finally:
            self.corpus = None
            self._stop_writer()

    def _finish(self, reason: str) -> None:
        """On the writer thread: site profiles, the crawls row, closing."""
        corpus = self.corpus
        assert corpus is not None
        if self.learn_profiles and self.write_error is None:
            try:
                learnt = corpus.learn_site_profiles()
                self.crawler.stats.set_value("corpus/site_profile_lines", sum(learnt.values()))
            except (CorpusError, sqlite3.Error) as exc:
                logger.error("Could not update site profiles in %s: %s", self.path, exc)
        try:
            corpus.flush()
            if corpus.texts_stripped:
                self.crawler.stats.set_value(
                    "corpus/site_profiles/texts_stripped", corpus.texts_stripped
                )
            if corpus.cold_start_regrouped:
                self.crawler.stats.set_value(
                    "corpus/stories/cold_start_regrouped", corpus.cold_start_regrouped
                )
            if corpus.index.articles_moved:
                self.crawler.stats.set_value(
                    "corpus/stories/articles_moved", corpus.index.articles_moved
                )
            corpus.finish_crawl(reason, self.crawler.stats.get_stats())
        except (CorpusError, sqlite3.Error) as exc:
            logger.error(
                "Could not record the end of crawl %s in %s: %s",
                self.crawler.stats.get_value("corpus/crawl_id"),
                self.path,
                exc,
            )
        finally:
            corpus.close_readers()
            try:
                corpus.db.close()
            except sqlite3.Error:
                pass

    def _stop_writer(self) -> None:
        if self.writer is not None:
            self.writer.shutdown(wait=True)
            self.writer = None
