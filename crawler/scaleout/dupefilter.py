"""The shared duplicate filter of scale-out workers (Scrapy's ``DUPEFILTER_CLASS``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crawler.scaleout.addon import keys_of, spider_key, worker_config
from crawler.scaleout.channel import connect

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


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
        config = worker_config(crawler)
        key = spider_key(
            crawler, "SCHEDULER_DUPEFILTER_KEY", keys_of(config).dupefilter("%(spider)s")
        )
        return cls(connect(config.corpus_redis_url), key, crawler)

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
