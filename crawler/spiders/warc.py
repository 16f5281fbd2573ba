"""``scrapy crawl warc``: the HTML pages in web archives (WARC files, CC-NEWS).

    scrapy crawl warc -a path=FILE_OR_FOLDER_OR_URL[,...]
    scrapy crawl warc -a paths=warc.paths.gz        # relative entries: WARC_BASE_URL
    scrapy crawl warc -a ccnews=2024-01[..2024-03]  # CC-NEWS months under WARC_BASE_URL
        optional: -a hosts=example.com,news.example.org -a since=2024-01-10
                  -a until=2024-01-20 -a limit=1000

A thin shell over :mod:`crawler.archives`: each file is read on a thread of
its own (:class:`~crawler.archives.reader.BackgroundReader`), and every HTTP
200 HTML response becomes a :class:`~crawler.items.Page` like a fetched one
(``url`` the record's WARC-Target-URI, ``fetched_at`` its WARC-Date), cleaned
in the worker processes and stored as any page is. At most
:data:`IN_FLIGHT` records wait for their outcome at once.

Every other record is counted in the crawl's stats (``warc/skipped/<why>``);
a truncated HTML response and an unreadable record are ``failures`` rows
naming the file and the record's byte offset. Each file's progress goes into
the corpus's ``warc_files`` table with the rows it stands for
(:mod:`crawler.storage.archives`): running the same command again skips the
finished files and resumes a partial one where its stored records end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from crawler.archives.filters import RecordFilter
from crawler.archives.progress import FileProgress
from crawler.archives.reader import BackgroundReader
from crawler.archives.records import Record
from crawler.archives.shared import CLAIM_SECONDS, SharedFiles
from crawler.archives.sources import (
    Access,
    SourceError,
    ccnews_listings,
    expand_paths,
    is_gzipped,
    is_url,
    open_at,
    read_listing,
)
from crawler.items import Failure, Page
from crawler.netsafety import is_followable, url_problem
from crawler.spiders import ArgumentError, CorpusSpider
from crawler.storage import archives as saved_progress

#: records handed on for cleaning and not yet stored, at most
IN_FLIGHT = 64
#: seconds between looks at the files other workers hold (scale-out)
CLAIM_POLL = 2.0
ARGUMENTS = frozenset({"path", "paths", "ccnews", "hosts", "since", "until", "limit"})


def _limit(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"limit: expected a whole number, got {value!r}") from None
    if limit < 1:
        raise ArgumentError(f"limit: expected 1 or more, got {value!r}")
    return limit


class WarcSpider(CorpusSpider):
    name = "warc"
    custom_settings = {"ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.check_arguments(**kwargs)
        super().__init__(*args, **kwargs)
        self.sources = {k: kwargs.get(k) for k in ("path", "paths", "ccnews")}
        self.keep = RecordFilter.parse(
            kwargs.get("hosts"), kwargs.get("since"), kwargs.get("until")
        )
        self.limit = _limit(kwargs.get("limit"))
        self.base_url = "https://data.commoncrawl.org/"
        self.access = Access()
        self._inflight: dict[str, tuple[FileProgress, int]] = {}
        # records whose outcome the writer has queued (on its thread, see
        # _queued); the lock guards them, _inflight and every FileProgress
        self._queued_keys: set[str] = set()
        self._lock = threading.Lock()
        self._room = asyncio.Event()
        self._readers: list[BackgroundReader] = []
        #: the files shared with other workers in Redis (CORPUS_REDIS_URL)
        self.shared: SharedFiles | None = None

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown = set(kwargs) - ARGUMENTS
        if unknown:
            raise ArgumentError(f"unknown argument(s): {', '.join(sorted(unknown))}")
        given = [k for k in ("path", "paths", "ccnews") if kwargs.get(k)]
        if len(given) != 1:
            raise ArgumentError(
                "give exactly one of -a path=FILES, -a paths=LISTING or -a ccnews=YYYY-MM"
            )
        try:
            RecordFilter.parse(kwargs.get("hosts"), kwargs.get("since"), kwargs.get("until"))
            if kwargs.get("path"):
                expand_paths(kwargs["path"])
            if kwargs.get("ccnews"):
                ccnews_listings(kwargs["ccnews"], "https://data.commoncrawl.org/")
        except (SourceError, ValueError) as exc:
            raise ArgumentError(str(exc)) from None
        paths = kwargs.get("paths")
        if paths and not is_url(paths) and not Path(paths).expanduser().is_file():
            raise ArgumentError(f"paths: {paths!r} is not a listing file or an http(s) URL")
        _limit(kwargs.get("limit"))

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WarcSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.base_url = settings.get("WARC_BASE_URL") or spider.base_url
        spider.access = Access(
            user_agent=settings.get("USER_AGENT") or "newscorpus-crawler",
            allow_private=settings.getbool("ALLOW_PRIVATE_NETWORKS"),
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT", 60.0),
        )
        if settings.get("CORPUS_REDIS_URL"):
            from crawler.scaleout.distributed import DEFAULT_KEY, connect, default_worker_id

            spider.shared = SharedFiles(
                connect(settings.get("CORPUS_REDIS_URL")),
                settings.get("CORPUS_REDIS_KEY") or DEFAULT_KEY,
                default_worker_id(),
                ttl=settings.getint("WARC_CLAIM_SECONDS", CLAIM_SECONDS),
            )
        crawler.signals.connect(spider._item_done, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_done, signal=signals.item_dropped)
        crawler.signals.connect(spider._item_lost, signal=signals.item_error)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    # --- files ----------------------------------------------------------------

    def _files(self) -> tuple[list[str], list[Failure]]:
        """The WARC files to read, and a failure for each listing that could not be read
        (on a thread: listings are fetched)."""
        if self.sources["path"]:
            return expand_paths(self.sources["path"]), []
        listings = (
            [str(self.sources["paths"])]
            if self.sources["paths"]
            else ccnews_listings(str(self.sources["ccnews"]), self.base_url)
        )
        files: list[str] = []
        failures = []
        for listing in listings:
            try:
                files += read_listing(listing, self.access, self.base_url)
            except OSError as exc:
                self.logger.error("Cannot read the listing %s: %s", listing, exc)
                failures.append(Failure(listing, "download", f"cannot read the listing: {exc}"))
        return files, failures

    async def start(self) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        files, failures = await asyncio.to_thread(self._files)
        for failure in failures:
            yield failure
        stats.set_value("warc/files/found", len(files))
        if self.shared is not None:
            async for item in self._shared_files(files):
                yield item
            return
        # a record's progress is queued with its rows, in the writer's batch
        self.corpus_view.on_queued(self._queued)
        db = self.settings.get("CORPUS_DB")
        saved = await asyncio.to_thread(saved_progress.load, db, files) if db else {}
        for location in files:
            before = saved.get(location)
            if before is not None and before.finished:
                stats.inc_value("warc/files/finished_before")
                self.logger.info("Already read to the end: %s", location)
                continue
            if self._limit_reached():
                break
            async for item in self._read(FileProgress.resume(before, location)):
                yield item
            if self._limit_reached():
                break

    async def _shared_files(self, files: list[str]) -> AsyncIterator[Any]:
        """Scale-out: read each file this worker can claim; then wait for the
        files other workers hold, and take over any whose worker died."""
        assert self.shared is not None
        stats = self.crawler.stats
        pending = list(files)
        while pending and not self._limit_reached():
            waiting = []
            for location in pending:
                before = self.shared.progress(location)
                if before is not None and before.finished:
                    stats.inc_value("warc/files/finished_before")
                    continue
                if not self.shared.claim(location):
                    waiting.append(location)
                    continue
                before = self.shared.progress(location)  # again, now that it is ours
                if before is not None and before.finished:
                    self.shared.release(location)
                    continue
                progress = FileProgress.resume(before, location)
                async for item in self._read(progress):
                    yield item
                while progress.in_flight:  # its last records reach the item list
                    self._room.clear()
                    await self._room.wait()
                self._save(progress)
                self.shared.release(location)
                if self._limit_reached():
                    return
            if waiting and waiting != pending:
                self.logger.info("%d files are being read by other workers", len(waiting))
            pending = waiting
            if pending:
                stats.set_value("warc/files/held_elsewhere", len(pending))
                await asyncio.sleep(CLAIM_POLL)

    async def _read(self, progress: FileProgress) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        location = progress.location
        if progress.start or progress.done:
            stats.inc_value("warc/files/resumed")
            self.logger.info("Resuming %s at byte %d", location, progress.start)
        reader = BackgroundReader(
            lambda offset: open_at(location, offset, self.access),
            start=progress.start,
            keep=self.keep,
            skip=frozenset(progress.done),
            gzipped=is_gzipped(location),
            name=f"warc-reader-{len(self._readers)}",
        ).start()
        self._readers.append(reader)
        try:
            while True:
                batch = await asyncio.to_thread(reader.get)
                if batch is None:
                    with self._lock:
                        progress.end_of_file()
                    stats.inc_value("warc/files/read")
                    break
                if isinstance(batch, BaseException):
                    stats.inc_value("warc/files/failed")
                    self.logger.error("Reading %s stopped: %s", location, batch)
                    yield Failure(location, "download", f"reading the WARC file stopped: {batch}")
                    break
                for record in batch:
                    item = self._item(location, record)
                    with self._lock:
                        progress.read(record.offset, item is not None)
                    if item is None:
                        continue
                    while not self._has_room(item.url):
                        self._room.clear()
                        await self._room.wait()
                    if self._limit_reached():
                        return
                    with self._lock:
                        self._inflight[item.url] = (progress, record.offset)
                    yield item
                if not self._save(progress):
                    stats.inc_value("warc/files/claim_lost")
                    self.logger.warning("Another worker took over %s: leaving it", location)
                    break
        finally:
            reader.stop()
            self._save(progress)

    # --- records --------------------------------------------------------------

    def _item(self, location: str, record: Record) -> Page | Failure | None:
        stats = self.crawler.stats
        stats.inc_value("warc/records/read")
        if record.kind == "page":
            assert record.url is not None
            problem = url_problem(record.url) or (
                None if is_followable(record.url) else "not an http(s) URL"
            )
            if problem is not None:
                # an article stored under a URL no one can open: a failure instead
                stats.inc_value("warc/records/bad_target_uri")
                where = f"{location} at byte offset {record.offset}"
                self.logger.warning(
                    "Bad WARC-Target-URI %r in %s: %s", record.url[:200], where, problem
                )
                url = record.url or f"{location}#offset={record.offset}"
                reason = f"the record's WARC-Target-URI is {problem} (WARC file {where})"
                return Failure(url, "parse", reason)
            stats.inc_value("warc/records/pages")
            return Page(
                url=record.url,
                body=record.body,
                content_type=record.content_type,
                declared_encoding=record.charset,
                http_status=200,
                fetched_at=record.date,
            )
        if record.kind in ("truncated", "unreadable"):
            stats.inc_value(f"warc/records/{record.kind}")
            where = f"{location} at byte offset {record.offset}"
            self.logger.warning("%s record in %s: %s", record.kind.title(), where, record.reason)
            url = record.url or f"{location}#offset={record.offset}"
            stage = "download" if record.kind == "truncated" else "parse"
            return Failure(url, stage, f"{record.reason} (WARC file {where})")
        stats.inc_value(f"warc/skipped/{record.kind}")
        return None

    def _has_room(self, key: str) -> bool:
        if key in self._inflight:  # the same URL twice in a row: one at a time
            return False
        if len(self._inflight) >= IN_FLIGHT:
            return False
        if self.limit is not None:
            return self._stored() + len(self._inflight) < self.limit or not self._inflight
        return True

    def _stored(self) -> int:
        stats = self.crawler.stats
        return int(stats.get_value("corpus/articles/stored", 0)) + int(
            stats.get_value("corpus/articles/updated", 0)
        )

    def _limit_reached(self) -> bool:
        if self.limit is None or self._stored() < self.limit:
            return False
        self.crawler.stats.set_value("warc/limit_reached", self.limit)
        return True

    def _key(self, item: Any) -> str | None:
        return getattr(item, "fetched_url", None) or getattr(item, "url", None)

    def _queued(self, item: Any) -> None:
        """On the writer's thread, right after ``item``'s rows were queued and
        before a batch is written: the record is done, and the file's progress
        saying so commits with those rows (a kill can neither lose the record
        nor make a rerun read it again)."""
        key = self._key(item) or ""
        with self._lock:
            entry = self._inflight.get(key)
            if entry is None or key in self._queued_keys:
                return
            self._queued_keys.add(key)
            entry[0].finished(entry[1])
            self._save_locked(entry[0])

    def _item_done(self, item: Any, **_: Any) -> None:
        """item_scraped, item_dropped: the record's outcome is queued in the corpus
        (after a write error, nothing is: the record stays to be read again)."""
        key = self._key(item) or ""
        with self._lock:
            entry = self._inflight.pop(key, None)
            if entry is None:
                return
            progress, offset = entry
            if key in self._queued_keys:  # the writer has marked it done
                self._queued_keys.discard(key)
            elif self.crawler.stats.get_value("corpus/write_error"):
                progress.failed(offset)
            else:
                progress.finished(offset)
        self._save(progress)
        self._room.set()

    def _item_lost(self, item: Any, **_: Any) -> None:
        """item_error: the outcome was lost; the file's progress stops at it."""
        key = self._key(item) or ""
        with self._lock:
            entry = self._inflight.pop(key, None)
            if entry is not None and key not in self._queued_keys:
                entry[0].failed(entry[1])
            self._queued_keys.discard(key)
        if entry is not None:
            self.crawler.stats.inc_value("warc/records/lost")
            self._room.set()

    def _save(self, progress: FileProgress) -> bool:
        """Queue the file's progress in the corpus (written with the next batch),
        or record it in Redis (scale-out). False: another worker took the file."""
        if self.shared is not None:
            with self._lock:
                snapshot = progress.snapshot()
            return self.shared.save(snapshot)
        with self._lock:
            self._save_locked(progress)
        return True

    def _save_locked(self, progress: FileProgress) -> None:
        """Queue ``progress`` in the corpus, under ``_lock`` (a snapshot and its
        queueing stay together, so a later snapshot is never replaced by an
        earlier one)."""
        view = self.corpus_view
        view.commit_with_next_batch(
            progress.location, saved_progress.writer(progress.snapshot(), view.crawl_id)
        )

    def _closed(self, spider: Any, reason: str) -> None:
        for reader in self._readers:
            reader.stop()
