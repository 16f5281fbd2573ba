"""Start requests claimed in the shared filter, so N workers fetch each start URL once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from crawler.scaleout.dupefilter import RedisDupeFilter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


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
