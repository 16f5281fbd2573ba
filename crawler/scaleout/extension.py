"""A scale-out worker stays open while other workers may still add to the shared queue."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from crawler.scaleout.addon import worker_config

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


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

        ext = cls(crawler, worker_config(crawler).corpus_redis_idle_close)
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
