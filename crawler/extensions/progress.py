"""The progress extension: a one-line crawl summary a person can follow (``CORPUS_PROGRESS_INTERVAL``)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler.config import Config
from crawler.extensions.progressline import Snapshot, summary_line

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class Progress:
    """Every ``CORPUS_PROGRESS_INTERVAL`` seconds, log one line: pages, articles,
    duplicates, failures, rate and queue (replaces Scrapy's LogStats line)."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: Any = None
        self.previous: Snapshot | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = Config.from_settings(crawler.settings).corpus_progress_interval
        if interval <= 0:
            raise NotConfigured("CORPUS_PROGRESS_INTERVAL is 0")
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def snapshot(self) -> Snapshot:
        queued = 0
        engine = self.crawler.engine
        scheduler = getattr(getattr(engine, "_slot", None), "scheduler", None)
        if scheduler is not None:
            try:
                queued = len(scheduler)
            except TypeError:
                queued = 0
        return Snapshot.from_stats(self.crawler.stats.get_stats(), time.monotonic(), queued)

    def spider_opened(self, spider: Any) -> None:
        self.previous = self.snapshot()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def log(self) -> None:
        now = self.snapshot()
        logger.info("%s", summary_line(now, self.previous))
        self.previous = now

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        logger.info("Finished (%s): %s", reason, summary_line(self.snapshot(), None))
