"""The shared scheduler of scale-out workers: scrapy-redis's, wrapped for Scrapy 2.13+."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crawler.scaleout.addon import keys_of, spider_key, worker_config
from crawler.scaleout.channel import EXTRA_HINT, connect
from crawler.scaleout.codec import CODEC, DistributedError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


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
        config = worker_config(crawler)
        server = connect(config.corpus_redis_url)
        try:
            server.ping()
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError and friends
            raise DistributedError(
                f"cannot reach Redis at {config.corpus_redis_url}: {exc}"
            ) from None
        dupefilter = build_from_crawler(
            load_object(crawler.settings.get("DUPEFILTER_CLASS")), crawler
        )
        inner = Scheduler(
            server,
            persist=True,
            queue_key=spider_key(
                crawler, "SCHEDULER_QUEUE_KEY", keys_of(config).requests("%(spider)s")
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
