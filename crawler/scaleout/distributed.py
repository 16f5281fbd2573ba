"""Scale-out: N crawl workers share one Redis frontier; one drain writes the corpus.

Turned on by one setting, ``-s CORPUS_REDIS_URL=redis://host:6379/0``
(:class:`DistributedAddon` is always listed in ``ADDONS`` and does nothing
while the setting is empty). Then every worker:

* takes requests from, and gives requests to, one shared Redis priority queue
  (scrapy-redis's ``PriorityQueue``, wrapped by :class:`RedisScheduler`), with
  one shared duplicate filter (:class:`RedisDupeFilter`, Scrapy's own request
  fingerprints in a Redis set); requests are stored as tagged JSON, never
  pickled;
* claims its start requests in that filter (:class:`ClaimStartMiddleware`), so
  N workers given the same start list fetch each start URL once in total;
* cleans pages itself (``ExtractPipeline`` stays) and, instead of writing
  SQLite, pushes each Article and Failure as a JSON message with a type tag to
  one Redis list (:class:`RedisItemPipeline`), framed by ``crawl_start`` and
  ``crawl_finish`` messages carrying its spider, arguments and stats;
* keeps consuming the shared queue after its own start requests are done, and
  closes once the queue has stayed empty for ``CORPUS_REDIS_IDLE_CLOSE``
  seconds (:class:`SharedQueueIdle`). The last worker of a spider to finish
  normally clears the spider's frontier, so the next run starts afresh; a
  killed or interrupted run leaves it, and the next workers resume it.

One ``scrapy corpus drain`` process (:func:`drain`) is the single writer: it
reads the list in batches, writes each batch's items with
:class:`crawler.storage.corpus.Corpus` in one SQLite transaction, and only then
removes the batch from Redis (read, commit, trim; producers only append at the
tail and a lock admits one drain per key). A drain killed before its commit
loses nothing (the batch is still in Redis); one killed between commit and
trim re-reads a batch it wrote, and every write is idempotent for that replay
(see :class:`Drainer`), so nothing is written twice either.

The codec, keys and drain are plain Python (no Scrapy); the Scrapy classes at
the end only translate. ``redis`` and ``scrapy_redis`` are imported lazily:
install them with ``pip install '.[distributed]'``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from crawler.items import Article, Failure
from crawler.storage.corpus import Corpus, Outcome, write_transaction

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

DEFAULT_KEY = "newscorpus"
#: seconds between a worker's heartbeats in the workers registry.
HEARTBEAT_SECONDS = 5
#: a worker silent for this long is taken for dead (killed, machine lost).
STALE_SECONDS = 30
#: the drain lock expires this long after the drain's last sign of life.
LOCK_SECONDS = 60
MESSAGE_VERSION = 1
EXTRA_HINT = "install the distributed extra: pip install '.[distributed]'"


class DistributedError(Exception):
    """Redis is unreachable or misused; ``str(exc)`` says why."""


# --- keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Redis keys under one ``CORPUS_REDIS_KEY`` prefix.

    The frontier (queue, duplicate filter, live workers) is per spider; the
    item list is one per prefix, because one drain writes one corpus.
    """

    prefix: str = DEFAULT_KEY

    def requests(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:requests"

    def dupefilter(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:dupefilter"

    def workers(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:workers"

    @property
    def items(self) -> str:
        return f"{self.prefix}:items"

    @property
    def invalid(self) -> str:
        return f"{self.prefix}:items:invalid"

    @property
    def drain_lock(self) -> str:
        return f"{self.prefix}:drain"

    @property
    def drain_inflight(self) -> str:
        """Size of the batch being written; gone once it is trimmed."""
        return f"{self.prefix}:drain:inflight"


def default_worker_id() -> str:
    """``host-pid-xxxx``: unique per crawl process, readable in ``crawls.stats``."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


def check_url(url: str) -> str:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise DistributedError(
            f"CORPUS_REDIS_URL {url!r} must start with redis://, rediss:// or unix://"
        )
    return url


def check_key(key: str) -> str:
    if "%" in key or any(c.isspace() for c in key):
        raise DistributedError(f"CORPUS_REDIS_KEY {key!r} must not contain '%' or spaces")
    return key


def connect(url: str) -> Any:
    """A redis client for ``url`` (bytes replies), or :class:`DistributedError`."""
    try:
        import redis
    except ImportError:
        raise DistributedError(f"Redis support is not installed; {EXTRA_HINT}") from None
    return redis.Redis.from_url(
        check_url(url),
        socket_timeout=30,
        socket_connect_timeout=10,
        retry_on_timeout=True,
        health_check_interval=30,
    )


# --- tagged JSON --------------------------------------------------------------


class TaggedJSON:
    """JSON that round-trips bytes, non-string dict keys, tuples-as-lists and dates.

    The scheduler stores requests with it (``Request.to_dict()`` holds bytes
    headers and bodies), so nothing read from Redis is ever unpickled: a
    writable Redis must not mean code execution on every worker.
    """

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(self._enc(obj), separators=(",", ":")).encode()

    def loads(self, data: bytes | str) -> Any:
        return self._dec(json.loads(data))

    def _enc(self, o: Any) -> Any:
        if o is None or isinstance(o, (bool, int, float, str)):
            return o
        if isinstance(o, (bytes, bytearray)):
            return {"$b": base64.b64encode(bytes(o)).decode("ascii")}
        if isinstance(o, (list, tuple)):
            return [self._enc(v) for v in o]
        if isinstance(o, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in o):
                return {k: self._enc(v) for k, v in o.items()}
            return {"$d": [[self._enc(k), self._enc(v)] for k, v in o.items()]}
        if isinstance(o, datetime):
            return {"$dt": o.isoformat()}
        if isinstance(o, date):
            return {"$date": o.isoformat()}
        raise TypeError(f"cannot store a {type(o).__name__} in Redis as JSON: {o!r:.80}")

    def _dec(self, o: Any) -> Any:
        if isinstance(o, list):
            return [self._dec(v) for v in o]
        if not isinstance(o, dict):
            return o
        if len(o) == 1:
            ((tag, value),) = o.items()
            if tag == "$b":
                return base64.b64decode(value)
            if tag == "$d":
                return {self._dec(k): self._dec(v) for k, v in value}
            if tag == "$dt":
                return datetime.fromisoformat(value)
            if tag == "$date":
                return date.fromisoformat(value)
        return {k: self._dec(v) for k, v in o.items()}


CODEC = TaggedJSON()


# --- messages -----------------------------------------------------------------

ITEM_TYPES: dict[str, type] = {"article": Article, "failure": Failure}
KINDS = ("crawl_start", "article", "failure", "crawl_finish")


class InvalidMessage(ValueError):
    """A message the drain cannot use; it goes to the ``:items:invalid`` list."""


@dataclass
class Message:
    kind: str  # one of KINDS
    worker: str
    #: the message's number in its worker's stream (0 = crawl_start): for
    #: reading a list by hand; the drain relies on list order, not on this.
    seq: int
    spider: str
    item: Article | Failure | None = None
    #: crawl_start: args, at; crawl_finish: reason, stats, at.
    data: dict[str, Any] = field(default_factory=dict)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def encode_message(msg: Message) -> bytes:
    """One JSON object: ``{"v", "type", "worker", "seq", "spider", "item"|...}``."""
    out: dict[str, Any] = {
        "v": MESSAGE_VERSION,
        "type": msg.kind,
        "worker": msg.worker,
        "seq": msg.seq,
        "spider": msg.spider,
    }
    if msg.item is not None:
        out["item"] = asdict(msg.item)
    out.update(msg.data)
    return json.dumps(out, default=str, ensure_ascii=False).encode()


def item_from_dict(kind: str, data: Any) -> Article | Failure:
    """Rebuild an item; unknown fields (from a newer worker) are ignored."""
    cls = ITEM_TYPES[kind]
    if not isinstance(data, dict):
        raise InvalidMessage(f"{kind}: 'item' is not an object")
    known = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise InvalidMessage(f"{kind}: {exc}") from None


def decode_message(raw: bytes | str) -> Message:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidMessage("not a JSON object")
    kind, worker, seq = obj.pop("type", None), obj.pop("worker", None), obj.pop("seq", None)
    if kind not in KINDS:
        raise InvalidMessage(f"unknown message type {kind!r}")
    if not isinstance(worker, str) or not worker or not isinstance(seq, int):
        raise InvalidMessage(f"{kind}: missing worker or seq")
    obj.pop("v", None)
    spider = str(obj.pop("spider", "") or "?")
    item = item_from_dict(kind, obj.pop("item", None)) if kind in ITEM_TYPES else None
    return Message(kind, worker, seq, spider, item, obj)


@dataclass
class Outbox:
    """A worker's side of the item list: numbered messages, pushed in order."""

    client: Any
    keys: Keys
    worker: str
    spider: str
    seq: int = 0

    def push(self, kind: str, item: Article | Failure | None = None, **data: Any) -> None:
        msg = Message(kind, self.worker, self.seq, self.spider, item, data)
        self.client.rpush(self.keys.items, encode_message(msg))
        self.seq += 1

    # --- the workers registry (server clock: machines' clocks may differ) -----

    def heartbeat(self) -> None:
        self.client.zadd(self.keys.workers(self.spider), {self.worker: _server_time(self.client)})

    def leave(self, clear_if_last: bool) -> bool:
        """Deregister; the last live worker out clears the spider's frontier.

        Returns whether it cleared it (only when the shared queue is empty too).
        """
        stale_before = _server_time(self.client) - STALE_SECONDS
        cleared = self.client.eval(
            _LEAVE,
            3,
            self.keys.workers(self.spider),
            self.keys.requests(self.spider),
            self.keys.dupefilter(self.spider),
            self.worker,
            stale_before,
            1 if clear_if_last else 0,
        )
        return bool(cleared)


_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if ARGV[3] == '1' and redis.call('ZCARD', KEYS[1]) == 0
   and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""


def _server_time(client: Any) -> int:
    return int(client.time()[0])


def alive_workers(client: Any, keys: Keys, spider: str) -> set[str]:
    """Workers of ``spider`` whose heartbeat is recent."""
    since = _server_time(client) - STALE_SECONDS
    return {
        w.decode() if isinstance(w, bytes) else w
        for w in client.zrangebyscore(keys.workers(spider), since, "+inf")
    }


# --- the drain ----------------------------------------------------------------

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
        raw = self.client.lrange(self.keys.items, 0, size - 1)
        if not raw:
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
            crawl_id = self.corpus.db["crawls"].insert(row).last_pk
        state = self.crawls[msg.worker] = CrawlState(crawl_id, msg.spider)
        self.report.crawls_started += 1
        logger.info("Crawl %d started: %s on worker %s", crawl_id, msg.spider, msg.worker)
        return state

    def _finish(self, state: CrawlState, msg: Message) -> None:
        self.corpus.flush()
        stats = msg.data.get("stats") if isinstance(msg.data.get("stats"), dict) else {}
        stats = {k: v for k, v in stats.items() if not k.startswith(COUNTER_PREFIXES)}
        stats |= self._counters(state) | {WORKER_STAT: msg.worker}
        with write_transaction(self.corpus.db):
            self.corpus.db["crawls"].update(
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


# --- the Scrapy shell -----------------------------------------------------------


@dataclass(frozen=True)
class Config:
    url: str
    keys: Keys
    idle_close: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        from scrapy.exceptions import NotConfigured

        url = settings.get("CORPUS_REDIS_URL") or ""
        if not url:
            raise NotConfigured("CORPUS_REDIS_URL is empty")
        idle = settings.getfloat("CORPUS_REDIS_IDLE_CLOSE", 10.0)
        if idle < 0:
            raise ValueError("CORPUS_REDIS_IDLE_CLOSE must be 0 or more seconds")
        return cls(check_url(url), Keys(settings.get("CORPUS_REDIS_KEY") or DEFAULT_KEY), idle)


class DistributedAddon:
    """``ADDONS`` entry: ``-s CORPUS_REDIS_URL=redis://...`` turns scale-out on."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("CORPUS_REDIS_URL")
        if not url:
            return
        check_url(url)  # a typo must not silently crawl into a local corpus
        key = check_key(settings.get("CORPUS_REDIS_KEY") or DEFAULT_KEY)
        for name, value in {
            "SCHEDULER": "crawler.scaleout.distributed.RedisScheduler",
            "DUPEFILTER_CLASS": "crawler.scaleout.distributed.RedisDupeFilter",
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": url,
            "SCHEDULER_QUEUE_KEY": f"{key}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{key}:%(spider)s:dupefilter",
        }.items():
            settings.set(name, value, "addon")
        pipelines = settings["ITEM_PIPELINES"]
        order = pipelines.get("crawler.pipelines.CorpusPipeline")
        if order is not None:
            prio = pipelines.getpriority("crawler.pipelines.CorpusPipeline")
            pipelines.set("crawler.pipelines.CorpusPipeline", None, prio)
            pipelines.set("crawler.scaleout.distributed.RedisItemPipeline", order, prio)
        settings["SPIDER_MIDDLEWARES"]["crawler.scaleout.distributed.ClaimStartMiddleware"] = 30
        settings["EXTENSIONS"]["crawler.scaleout.distributed.SharedQueueIdle"] = 500


def _spider_name(crawler: Crawler) -> str:
    return crawler.spider.name if crawler.spider is not None else crawler.spidercls.name


def _setting_key(crawler: Crawler, setting: str, default: str) -> str:
    template = crawler.settings.get(setting) or default
    return template % {"spider": _spider_name(crawler)}


class RedisDupeFilter:
    """The shared duplicate filter: Scrapy's request fingerprints in a Redis set.

    Unlike scrapy-redis's ``RFPDupeFilter`` it uses the crawler's
    ``REQUEST_FINGERPRINTER`` (so it agrees with every other Scrapy component)
    and never deletes the set on close: the last worker out does that.
    """

    def __init__(self, server: Any, key: str, crawler: Crawler) -> None:
        self.server = server
        self.key = key
        self.crawler = crawler
        self.fingerprinter = crawler.request_fingerprinter
        self.debug = crawler.settings.getbool("DUPEFILTER_DEBUG")
        self.logged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisDupeFilter:
        config = Config.from_settings(crawler.settings)
        key = _setting_key(
            crawler, "SCHEDULER_DUPEFILTER_KEY", config.keys.dupefilter("%(spider)s")
        )
        return cls(connect(config.url), key, crawler)

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.fingerprinter.fingerprint(request).hex()
        return self.server.sadd(self.key, fingerprint) == 0

    def open(self) -> None:
        pass

    def close(self, reason: str) -> None:
        pass

    def log(self, request: Request, spider: Any) -> None:
        self.crawler.stats.inc_value("dupefilter/filtered")
        if self.debug or not self.logged:
            logger.debug("Filtered duplicate request %s (shared filter %s)", request, self.key)
            self.logged = True


class RedisScheduler:
    """scrapy-redis's Scheduler and PriorityQueue, wrapped for Scrapy 2.13+.

    The wrapper builds it from the crawler (the duplicate filter above, JSON
    instead of pickle, persistence forced on: N workers share the queue, so
    none may flush it on close) and keeps the stats itself (scrapy-redis
    passes ``spider=`` to the stats collector, which Scrapy 2.19 deprecates).
    """

    def __init__(self, crawler: Crawler, inner: Any) -> None:
        self.crawler = crawler
        self.inner = inner

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        from scrapy.utils.misc import build_from_crawler, load_object

        try:
            from scrapy_redis.scheduler import Scheduler
        except ImportError:
            raise DistributedError(f"scrapy-redis is not installed; {EXTRA_HINT}") from None
        config = Config.from_settings(crawler.settings)
        server = connect(config.url)
        try:
            server.ping()
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError and friends
            raise DistributedError(f"cannot reach Redis at {config.url}: {exc}") from None
        dupefilter = build_from_crawler(
            load_object(crawler.settings.get("DUPEFILTER_CLASS")), crawler
        )
        inner = Scheduler(
            server,
            persist=True,
            queue_key=_setting_key(
                crawler, "SCHEDULER_QUEUE_KEY", config.keys.requests("%(spider)s")
            ),
            queue_cls="scrapy_redis.queue.PriorityQueue",
            dupefilter=dupefilter,
            serializer=CODEC,
        )
        return cls(crawler, inner)

    def open(self, spider: Any) -> None:
        # scrapy-redis's open() does this plus spider.log(), deprecated in Scrapy 2.19.
        from scrapy.utils.misc import load_object

        inner = self.inner
        inner.spider = spider
        inner.queue = load_object(inner.queue_cls)(
            server=inner.server, spider=spider, key=inner.queue_key, serializer=inner.serializer
        )
        if pending := len(inner.queue):
            logger.info(
                "Joining a shared crawl: %d requests already in %s", pending, inner.queue_key
            )

    def close(self, reason: str) -> None:
        self.inner.close(reason)  # persist=True: leaves the shared queue alone

    def has_pending_requests(self) -> bool:
        return self.inner.has_pending_requests()

    def enqueue_request(self, request: Request) -> bool:
        try:
            added = self.inner.enqueue_request(request)
        except (TypeError, ValueError) as exc:
            logger.error("Cannot share %s through Redis, dropped: %s", request, exc)
            self.crawler.stats.inc_value("scheduler/unserialisable/redis")
            return False
        if added:
            self.crawler.stats.inc_value("scheduler/enqueued/redis")
        return added

    def next_request(self) -> Request | None:
        request = self.inner.next_request()
        if request is not None:
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
        return request


class ClaimStartMiddleware:
    """Start requests are claimed in the shared filter: one worker fetches each.

    Spiders mark start requests ``dont_filter`` (a URL given is fetched even
    if seen); with N workers given the same list that would fetch it N times.
    Retries and redirects do not pass through ``process_start``, so they
    still bypass the filter as Scrapy intends.
    """

    def __init__(self, crawler: Crawler, dupefilter: RedisDupeFilter) -> None:
        self.crawler = crawler
        self.dupefilter = dupefilter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClaimStartMiddleware:
        return cls(crawler, RedisDupeFilter.from_crawler(crawler))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        from scrapy import Request

        async for item in start:
            if (
                isinstance(item, Request)
                and item.dont_filter
                and self.dupefilter.request_seen(item)
            ):
                self.crawler.stats.inc_value("distributed/start_claimed_elsewhere")
                logger.debug("Start request claimed by another worker: %s", item)
                continue
            yield item


class SharedQueueIdle:
    """A worker with nothing to do waits ``CORPUS_REDIS_IDLE_CLOSE`` s for shared work.

    Scrapy calls ``spider_idle`` when this worker has nothing in flight and
    the shared queue is empty; other workers may still be about to add to it.
    """

    def __init__(self, crawler: Crawler, grace: float) -> None:
        self.crawler = crawler
        self.grace = grace
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedQueueIdle:
        from scrapy import signals

        ext = cls(crawler, Config.from_settings(crawler.settings).idle_close)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.busy, signal=signals.request_reached_downloader)
        return ext

    def busy(self, **_: Any) -> None:
        self.idle_since = None

    def spider_idle(self, spider: Any) -> None:
        from scrapy.exceptions import DontCloseSpider

        started = self.idle_since = self.idle_since or time.monotonic()
        if time.monotonic() - started < self.grace:
            raise DontCloseSpider
        logger.info("Shared queue empty for %.0f s: closing this worker", self.grace)


class RedisItemPipeline:
    """Instead of ``CorpusPipeline``: items go to Redis for ``scrapy corpus drain``."""

    def __init__(self, crawler: Crawler, config: Config) -> None:
        self.crawler = crawler
        self.config = config
        #: one id per crawl process: the drain keys its crawls row on it.
        self.worker = default_worker_id()
        self.outbox: Outbox | None = None
        self.heartbeat: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisItemPipeline:
        from scrapy import signals

        pipe = cls(crawler, Config.from_settings(crawler.settings))
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        from twisted.internet.task import LoopingCall

        spider = self.crawler.spider
        self.outbox = Outbox(connect(self.config.url), self.config.keys, self.worker, spider.name)
        self.outbox.heartbeat()
        self.outbox.push("crawl_start", args=getattr(spider, "arguments", {}), at=now())
        self.crawler.stats.set_value(WORKER_STAT, self.worker)
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(HEARTBEAT_SECONDS, now=False)
        logger.info(
            "Worker %s: frontier and items in Redis under %r", self.worker, self.config.keys.prefix
        )

    def _beat(self) -> None:
        try:
            assert self.outbox is not None
            self.outbox.heartbeat()
        except Exception as exc:  # noqa: BLE001 - a Redis hiccup must not stop the heartbeat
            logger.warning("Worker heartbeat failed: %s", exc)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, (Article, Failure)):
            assert self.outbox is not None
            kind = "article" if isinstance(item, Article) else "failure"
            self.outbox.push(kind, item)
            self.crawler.stats.inc_value(f"distributed/pushed/{kind}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.outbox is None:
            return
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        # crawl_finish first, then leave: a drain waiting on live workers sees both.
        self.outbox.push(
            "crawl_finish", reason=reason, stats=self.crawler.stats.get_stats(), at=now()
        )
        if self.outbox.leave(clear_if_last=reason == "finished"):
            logger.info("Last worker of %s out: cleared its shared duplicate filter", spider.name)
        self.outbox = None
