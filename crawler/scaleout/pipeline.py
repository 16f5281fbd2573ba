"""A scale-out worker's item pipeline: items go to Redis for ``scrapy corpus drain``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crawler.config import Config
from crawler.items import Article, Failure
from crawler.scaleout.addon import keys_of, worker_config
from crawler.scaleout.channel import HEARTBEAT_SECONDS, Outbox, connect
from crawler.scaleout.codec import default_worker_id, now
from crawler.scaleout.drain import WORKER_STAT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


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

        pipe = cls(crawler, worker_config(crawler))
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        from twisted.internet.task import LoopingCall

        spider = self.crawler.spider
        self.outbox = Outbox(
            connect(self.config.corpus_redis_url), keys_of(self.config), self.worker, spider.name
        )
        self.outbox.heartbeat()
        self.outbox.push("crawl_start", args=getattr(spider, "arguments", {}), at=now())
        self.crawler.stats.set_value(WORKER_STAT, self.worker)
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(HEARTBEAT_SECONDS, now=False)
        logger.info(
            "Worker %s: frontier and items in Redis under %r",
            self.worker,
            keys_of(self.config).prefix,
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
