"""The cleaning pool: pages cleaned in worker processes, in batches, crash-proof.

Cleaning is the expensive step of a crawl, so it runs in ``workers`` processes
(none: in the caller's own process) that run
:func:`~crawler.extract.processing.clean_batch_in_worker`; the event loop only
waits for results. Pages go out in batches of at most :data:`CLEAN_BATCH`: a
page leaves at once while fewer than two batches per worker are out, and
otherwise waits for one to come back and leaves with the pages that came
meanwhile (one message each way instead of one per page).

If a worker dies (killed, out of memory), a fresh pool takes over and the pages
of every batch the dead pool lost become suspects: they are cleaned again one at
a time, alone in the pool, so the page that kills a worker is found and only it
fails. Every page gets an answer, an Article or a Failure (with a reason a
person reads), never an exception.

asyncio and concurrent.futures only: no Scrapy. What happened is reported through
``count(name)`` (``clean_batches``, ``clean_pool_restarts``,
``clean_worker_crashes``, ``clean_errors``), which the caller turns into stats.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from crawler.extract.processing import (
    CleaningError,
    Options,
    clean_batch_in_worker,
    clean_page,
    cleaned_with,
    init_worker,
)
from crawler.items import Article, Failure, Page

logger = logging.getLogger(__name__)

#: pages per message to a cleaning worker, at most: pages that arrive while
#: every worker is busy wait and leave together (one message each way instead
#: of one per page: less pickling and pool bookkeeping in the crawl process)
CLEAN_BATCH = 8

Result = Article | Failure
Waiting = tuple[Page, "asyncio.Future[Result]"]


def default_workers() -> int:
    """One cleaning worker per core, none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores is not None and cores > 1 else 0


def resolve_workers(setting: int) -> int:
    """``CLEAN_WORKERS``: a negative value means one per core."""
    return default_workers() if setting < 0 else setting


def _no_count(name: str) -> None:
    pass


class CleaningPool:
    """Pages in, Articles or Failures out; see the module docstring.

    ``options`` may change until :meth:`start` (the spider's site rules join
    them); learnt site profiles reach the workers through :meth:`learnt` and
    ``profiles_db`` (the corpus they catch up from, see
    :mod:`crawler.extract.processing`).
    """

    def __init__(
        self,
        options: Options,
        workers: int,
        *,
        profiles_db: str | None = None,
        count: Callable[[str], None] = _no_count,
    ) -> None:
        self.options = options
        self.workers = workers
        self.profiles_db = profiles_db
        self.count = count
        #: site-profile lessons so far (each result says how many it knew)
        self.lessons = 0
        self.executor: ProcessPoolExecutor | None = None
        # pages waiting for a batch, and those of batches a dead pool lost
        self._waiting: list[Waiting] = []
        self._suspects: list[Waiting] = []
        self._tasks = 0  # batches out in the pool

    # --- state, read-only (stats, tests) ----------------------------------------

    @property
    def batches_out(self) -> int:
        return self._tasks

    @property
    def suspects(self) -> int:
        """Pages of a dead pool's batches still to be cleaned one at a time."""
        return len(self._suspects)

    def worker_pids(self) -> list[int]:
        executor = self.executor
        return list(getattr(executor, "_processes", None) or {}) if executor else []

    # --- life -------------------------------------------------------------------

    def start(self) -> None:
        if self.workers and self.executor is None:
            self.executor = self._new_executor()

    def close(self) -> None:
        """Stop the workers and wait until they are gone; pages still queued get
        a failure each.

        The workers are children of multiprocessing's fork server, which
        outlives the pool (and, orphaned, the crawl process by a second or
        two): it is stopped too, so that ``scrapy crawl`` returns only when no
        process of its own is left (a scheduler's lock around the command
        then really covers the crawl).
        """
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
            stop_fork_server()

    def learnt(self, host: str, lines: frozenset[str]) -> None:
        """The corpus learnt ``host``'s chrome lines: clean later pages without them."""
        self.options.site_lines[host] = lines
        self.lessons += 1

    def _new_executor(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["crawler.extract.processing"])
        return ProcessPoolExecutor(
            self.workers,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(self.options, self.profiles_db),
        )

    # --- cleaning ---------------------------------------------------------------

    async def clean(self, page: Page) -> Result:
        """The page cleaned: an Article, or a Failure saying why not."""
        try:
            if self.executor is None:  # no workers, or not started or closed: here
                return cleaned_with(clean_page(page, self.options), self.lessons)
            return await self._in_pool(page)
        except CleaningError as exc:
            logger.error("Cleaning failed on %s: %s\n%s", page.url, exc.args[0], exc.args[1])
            self.count("clean_errors")
            return _failure(page, f"cleaning failed with an error: {exc.args[0]}")
        except Exception as exc:
            logger.exception("Cleaning failed on %s", page.url)
            self.count("clean_errors")
            return _failure(page, f"cleaning failed with an error: {exc!r}")

    async def _in_pool(self, page: Page) -> Result:
        waiter: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((page, waiter))
        self._pump()
        return await waiter

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

    def _send(self, batch: list[Waiting], alone: bool = False) -> None:
        executor = self.executor
        if executor is None:  # closed meanwhile
            self._unfinished(batch)
            return
        try:
            task = executor.submit(clean_batch_in_worker, [page for page, _ in batch], self.lessons)
        except BrokenProcessPool:  # found broken before the batch went out
            self._lost(executor, batch, guilty=False)
            asyncio.get_running_loop().call_soon(self._pump)
            return
        self._tasks += 1
        self.count("clean_batches")
        asyncio.wrap_future(task).add_done_callback(
            lambda done: self._returned(executor, batch, done, alone)
        )

    def _returned(
        self,
        executor: ProcessPoolExecutor,
        batch: list[Waiting],
        done: asyncio.Future[list[Result | CleaningError]],
        alone: bool,
    ) -> None:
        self._tasks -= 1
        if done.cancelled():  # the pool was shut down with the batch still queued
            self._unfinished(batch)
        elif isinstance(done.exception(), BrokenProcessPool):
            self._lost(executor, batch, guilty=alone)
        elif (error := done.exception()) is not None:  # could not be sent or returned
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(error)
        else:
            for (_, waiter), result in zip(batch, done.result(), strict=False):
                if waiter.done():
                    continue
                if isinstance(result, CleaningError):
                    waiter.set_exception(result)
                else:
                    waiter.set_result(result)
        self._pump()

    def _unfinished(self, batch: list[Waiting]) -> None:
        """The pool closed before these pages were cleaned: each gets a failure
        row (a cancelled wait would drop the page without one)."""
        for page, waiter in batch:
            logger.error("The crawl stopped before %s was cleaned", page.url)
            if not waiter.done():
                waiter.set_result(_failure(page, "the crawl stopped before this page was cleaned"))

    def _lost(self, executor: ProcessPoolExecutor, batch: list[Waiting], guilty: bool) -> None:
        """A worker of ``executor`` died (killed, out of memory) with ``batch``
        out, or before it went: the first to notice starts a fresh pool. The
        pages are cleaned again, each alone in the pool; a page that was
        (``guilty``) is the one that killed it and fails."""
        if executor is self.executor:
            logger.warning(
                "A cleaning worker died: starting new workers; the pages it had"
                " are cleaned again one at a time"
            )
            self.count("clean_pool_restarts")
            executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new_executor()
        if guilty:
            page, waiter = batch[0]
            logger.error("A cleaning worker died while processing %s", page.url)
            self.count("clean_worker_crashes")
            if not waiter.done():
                waiter.set_result(_failure(page, "the cleaning worker crashed on this page"))
            return
        self._suspects.extend(batch)


def stop_fork_server() -> None:
    """Stop multiprocessing's fork server of this process, if one runs, and
    wait for it to exit (the next pool starts a new one)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)  # CPython's; absent elsewhere: nothing to do
    if stop is None or getattr(server, "_forkserver_pid", None) is None:
        return
    try:
        stop()
    except OSError as exc:  # already gone
        logger.debug("The fork server was gone already: %s", exc)


def _failure(page: Page, reason: str) -> Failure:
    return Failure(page.url, "extract", reason, page.http_status)
