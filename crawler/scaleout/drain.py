"""The drain: the one writer of a scale-out crawl, Redis item list -> corpus.

Reads a batch, writes it with :class:`crawler.storage.corpus.Corpus` in one SQLite
transaction, and only then trims it from Redis; every write is idempotent for the
replay of a batch written by a drain killed before its trim. Pure: no Scrapy; may
import :mod:`crawler.storage`, :mod:`crawler.items` and the codec.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crawler.archives.progress import Progress
from crawler.items import Article, Failure
from crawler.scaleout.channel import alive_workers
from crawler.scaleout.codec import (
    DistributedError,
    InvalidMessage,
    Keys,
    Message,
    decode_message,
    now,
)
from crawler.storage import archives
from crawler.storage.corpus import Corpus, Outcome, write_transaction
from crawler.storage.variants import record_requested_url

logger = logging.getLogger(__name__)

#: the drain lock expires this long after the drain's last sign of life.
LOCK_SECONDS = 60

WORKER_STAT = "corpus/worker"
#: the drain counts these per crawl, as CorpusPipeline does in a local crawl.
COUNTER_PREFIXES = ("corpus/articles/", "corpus/duplicates/", "corpus/skipped/", "corpus/failures/")
MAX_BATCH = 1000


def outcome_stat(item: Article | Failure, outcome: Outcome | None) -> str:
    """The stats counter a stored item increments (the same names as CorpusPipeline)."""
    if isinstance(item, Failure):
        return f"corpus/failures/{item.stage}"
    assert outcome is not None
    if outcome.status == "duplicate":
        return f"corpus/duplicates/{outcome.kind}"
    if outcome.status == "known":
        return "corpus/skipped/known"
    return f"corpus/articles/{outcome.status}"


@dataclass
class CrawlState:
    """What the drain knows of one worker's crawl."""

    crawl_id: int
    spider: str
    finished: bool = False
    #: counts with no row to count them from later (``corpus/skipped/known``).
    unrecorded: dict[str, int] = field(default_factory=dict)


@dataclass
class DrainReport:
    messages: int = 0
    invalid: int = 0
    replayed: int = 0  # written by an earlier drain that was killed before its trim
    crawls_started: int = 0
    crawls_finished: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = ", ".join(
            f"{k.removeprefix('corpus/')}={v}" for k, v in sorted(self.counters.items())
        )
        return (
            f"drained {self.messages} messages ({self.crawls_started} crawls started, "
            f"{self.crawls_finished} finished, {self.invalid} invalid, {self.replayed} "
            f"already written){': ' + parts if parts else ''}"
        )


class Drainer:
    """The single writer: Redis item list -> :class:`Corpus`, batch by batch.

    Read a batch, write it, commit, and only then trim it from the list.
    A drain killed between its commit and its trim leaves a batch that is
    read again: every write is idempotent for such a replay (crawls are found
    by their worker id, articles and duplicates by URL, finished crawls stay
    finished, and failures already recorded for that crawl are not repeated),
    so nothing is lost and nothing is written twice.
    """

    def __init__(self, client: Any, corpus: Corpus, keys: Keys, batch_size: int = 100) -> None:
        self.client = client
        self.corpus = corpus
        self.keys = keys
        self.batch_size = min(max(1, batch_size), MAX_BATCH)
        self.crawls: dict[str, CrawlState] = {}
        self.report = DrainReport()
        self.token = uuid.uuid4().hex
        #: messages still to read that an earlier drain may have written.
        self.maybe_written: int | None = None
        #: the WARC file progress last copied into the corpus (file -> JSON)
        self._warc_copied: dict[Any, Any] = {}

    # --- the lock: one drain per key -----------------------------------------

    def acquire(self) -> None:
        if not self.client.set(self.keys.drain_lock, self.token, nx=True, ex=LOCK_SECONDS):
            raise DistributedError(
                f"another drain holds {self.keys.drain_lock!r} (one drain per CORPUS_REDIS_KEY; "
                f"if it was killed, the lock expires within {LOCK_SECONDS} s)"
            )

    def refresh(self) -> None:
        if not self.client.eval(_REFRESH, 1, self.keys.drain_lock, self.token, LOCK_SECONDS):
            raise DistributedError(
                f"lost the drain lock {self.keys.drain_lock!r}: another drain took over; stopping"
            )

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.keys.drain_lock, self.token)

    # --- batches --------------------------------------------------------------

    def step(self) -> int:
        """Write the next batch; returns how many messages it held (0: list empty)."""
        if self.maybe_written is None:
            # Set: the last drain was killed with a batch this long in flight.
            self.maybe_written = int(self.client.get(self.keys.drain_inflight) or 0)
        # A replayed batch is read whole, so that its trim clears the mark.
        size = max(self.batch_size, self.maybe_written)
        # Read before the items: a worker records a file's progress only once
        # the file's items are in the list, so when this batch reaches the
        # list's end, every record this progress counts is in the corpus.
        warc = self.client.hgetall(self.keys.warc_progress)
        raw = self.client.lrange(self.keys.items, 0, size - 1)
        if not raw:
            if self._queue_warc_progress(warc):
                self.corpus.flush()
            return 0
        if not self.maybe_written:
            self.client.set(self.keys.drain_inflight, len(raw))
        invalid: list[bytes] = []
        for data in raw:
            replay = self.maybe_written > 0
            self.maybe_written = max(0, self.maybe_written - 1)
            try:
                msg = decode_message(data)
            except InvalidMessage as exc:
                logger.error(
                    "Invalid message in %s, moved to %s: %s",
                    self.keys.items,
                    self.keys.invalid,
                    exc,
                )
                invalid.append(data)
                continue
            self.handle(msg, replay)
        if len(raw) < size:
            self._queue_warc_progress(warc)
        self.corpus.flush()
        # Committed: now, and only now, the batch leaves Redis.
        pipe = self.client.pipeline(transaction=True)
        if invalid:
            pipe.rpush(self.keys.invalid, *invalid)
        pipe.ltrim(self.keys.items, len(raw), -1)
        pipe.delete(self.keys.drain_inflight)
        pipe.execute()
        self.report.messages += len(raw)
        self.report.invalid += len(invalid)
        return len(raw)

    def _queue_warc_progress(self, progress: dict[Any, Any]) -> bool:
        """Copy the workers' WARC file progress into ``warc_files`` (with the
        next batch), as a local ``warc`` crawl keeps it; True if any changed."""
        changed = False
        for key, data in progress.items():
            if self._warc_copied.get(key) == data:
                continue
            location = key.decode() if isinstance(key, bytes) else str(key)
            try:
                saved = json.loads(data)
                row = Progress(
                    location,
                    int(saved["offset"]),
                    frozenset(int(o) for o in saved["done"]),
                    bool(saved["finished"]),
                )
            except (ValueError, KeyError, TypeError):
                logger.warning("Unreadable WARC progress in Redis for %s: %.200r", location, data)
                self._warc_copied[key] = data
                continue
            state = self.crawls.get(saved.get("worker"))
            crawl_id = state.crawl_id if state is not None else None
            self.corpus.queue_with_batch(f"warc:{location}", archives.writer(row, crawl_id))
            self._warc_copied[key] = data
            changed = True
        return changed

    def handle(self, msg: Message, replay: bool = False) -> None:
        """Write one message (``replay``: it may have been written already)."""
        state = self.crawls.get(msg.worker) or self._load(msg.worker)
        if msg.kind == "crawl_start":
            if state is not None:
                self.report.replayed += 1
            else:
                self._start(msg)
            return
        if state is None:
            # Its crawl_start never came (e.g. it was invalid): a crawl anyway.
            logger.warning("No crawl_start from worker %s; recording its crawl now", msg.worker)
            state = self._start(msg)
        if state.finished:
            self.report.replayed += 1
            return
        self.corpus.crawl_id = state.crawl_id
        if msg.kind == "crawl_finish":
            self._finish(state, msg)
            return
        item = msg.item
        assert item is not None
        if replay and self._written(item, state.crawl_id):
            self.report.replayed += 1
            return
        if isinstance(item, Failure):
            self.corpus.add_failure(item)
            key = outcome_stat(item, None)
        else:
            outcome = self.corpus.add_article(item)
            record_requested_url(self.corpus, item, outcome)
            key = outcome_stat(item, outcome)
            if key == "corpus/skipped/known":
                state.unrecorded[key] = state.unrecorded.get(key, 0) + 1
            for kind in outcome.replaced:
                replaced = f"corpus/replaced/{kind}"
                self.report.counters[replaced] = self.report.counters.get(replaced, 0) + 1
        self.report.counters[key] = self.report.counters.get(key, 0) + 1

    def _written(self, item: Article | Failure, crawl_id: int) -> bool:
        db = self.corpus.db
        if isinstance(item, Failure):
            sql = (
                "SELECT 1 FROM failures WHERE url = ? AND crawl_id = ? AND stage = ? AND reason = ?"
            )
            return (
                db.execute(sql, [item.url, crawl_id, item.stage, item.reason]).fetchone()
                is not None
            )
        sql = (
            "SELECT 1 FROM articles WHERE url = ? AND crawl_id = ? UNION ALL "
            "SELECT 1 FROM duplicates WHERE url IN (?, ?) AND crawl_id = ?"
        )
        params = [item.url, crawl_id, item.url, item.fetched_url or item.url, crawl_id]
        return db.execute(sql, params).fetchone() is not None

    def _start(self, msg: Message) -> CrawlState:
        args = msg.data.get("args") if isinstance(msg.data.get("args"), dict) else {}
        row = {
            "spider": msg.spider,
            "args": json.dumps(args, sort_keys=True, default=str),
            "started_at": msg.data.get("at") or now(),
            "stats": json.dumps({WORKER_STAT: msg.worker}),
        }
        # One insert, the worker id inside: a replayed crawl_start finds it.
        with write_transaction(self.corpus.db):
            crawl_id = self.corpus.db.table("crawls").insert(row).last_pk
        assert crawl_id is not None
        state = self.crawls[msg.worker] = CrawlState(crawl_id, msg.spider)
        self.report.crawls_started += 1
        logger.info("Crawl %d started: %s on worker %s", crawl_id, msg.spider, msg.worker)
        return state

    def _finish(self, state: CrawlState, msg: Message) -> None:
        # the crawl's duplicate groups and stories, settled in a canonical order
        # (crawler.storage.settle): its result does not depend on arrival order
        settled = self.corpus.settle(state.crawl_id)
        sent = msg.data.get("stats")
        stats: dict[str, Any] = sent if isinstance(sent, dict) else {}
        stats = {k: v for k, v in stats.items() if not k.startswith(COUNTER_PREFIXES)}
        stats |= self._counters(state) | {WORKER_STAT: msg.worker} | settled.stats()
        with write_transaction(self.corpus.db):
            self.corpus.db.table("crawls").update(
                state.crawl_id,
                {
                    "finished_at": msg.data.get("at") or now(),
                    "finish_reason": str(msg.data.get("reason") or "unknown"),
                    "stats": json.dumps(stats, sort_keys=True, default=str),
                },
            )
        state.finished = True
        self.report.crawls_finished += 1
        logger.info(
            "Crawl %d finished (%s) on worker %s",
            state.crawl_id,
            msg.data.get("reason"),
            msg.worker,
        )

    def _counters(self, state: CrawlState) -> dict[str, int]:
        """A crawl's corpus/* counters, from its rows: exact across drain restarts."""
        db, cid = self.corpus.db, state.crawl_id
        out = dict(state.unrecorded)
        for stage, n in db.execute(
            "SELECT stage, count(*) FROM failures WHERE crawl_id = ? GROUP BY stage", [cid]
        ):
            out[f"corpus/failures/{stage}"] = n
        for kind, n in db.execute(
            "SELECT kind, count(*) FROM duplicates WHERE crawl_id = ? GROUP BY kind", [cid]
        ):
            out[f"corpus/duplicates/{kind}"] = n
        for updated, n in db.execute(
            "SELECT updated_at IS NOT NULL, count(*) FROM articles WHERE crawl_id = ? GROUP BY 1",
            [cid],
        ):
            out["corpus/articles/updated" if updated else "corpus/articles/stored"] = n
        return out

    def _load(self, worker: str) -> CrawlState | None:
        """A crawl recorded by an earlier drain process (found by its worker id)."""
        row = self.corpus.db.execute(
            "SELECT id, spider, finished_at FROM crawls "
            "WHERE json_extract(stats, '$.\"corpus/worker\"') = ? ORDER BY id DESC LIMIT 1",
            [worker],
        ).fetchone()
        if row is None:
            return None
        state = self.crawls[worker] = CrawlState(row[0], row[1], bool(row[2]))
        return state

    def open_crawls_alive(self) -> bool:
        """Is any crawl this drain has seen start still running on a live worker?"""
        by_spider: dict[str, set[str]] = {}
        for worker, state in self.crawls.items():
            if not state.finished:
                by_spider.setdefault(state.spider, set()).add(worker)
        return any(
            workers & alive_workers(self.client, self.keys, spider)
            for spider, workers in by_spider.items()
        )


_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def drain(
    client: Any,
    corpus: Corpus,
    keys: Keys,
    *,
    idle: float | None = None,
    batch_size: int = 100,
    poll: float = 0.5,
    stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DrainReport:
    """Move messages from Redis into ``corpus`` until stopped.

    With ``idle`` (seconds), return once the list has been empty that long and
    no crawl seen starting is still running on a live worker; without it, run
    until ``stop()`` is true (checked between batches: a batch is never cut).
    """
    drainer = Drainer(client, corpus, keys, batch_size)
    drainer.acquire()
    logger.info("Draining %s into %s", keys.items, corpus.path)
    try:
        last_work = clock()
        while not stop():
            drainer.refresh()
            if drainer.step():
                last_work = clock()
                continue
            if idle is not None and clock() - last_work >= idle:
                if not drainer.open_crawls_alive():
                    break
                last_work = clock()  # a worker is still busy: wait for it
            sleep(poll)
    finally:
        drainer.release()
    logger.info("%s", drainer.report.summary())
    return drainer.report
