"""A spider callback that raises leaves a ``failures`` row, never nothing.

Scrapy logs a callback's exception and drops the response: the page, feed or
sitemap being read would vanish from the corpus's account of the crawl.
:class:`CallbackGuard`, a spider middleware every corpus spider installs
(:meth:`crawler.spiders.CorpusSpider.update_settings`) next to the spider,
turns the exception into a ``parse`` failure of the URL that was asked for,
naming the error; it is counted as ``corpus/callback_errors`` and logged with
its traceback (a parser bug to fix), and the crawl goes on. What the callback
yielded before the error is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response

from crawler.items import Failure

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: where the guard sits in SPIDER_MIDDLEWARES: after Scrapy's own (up to 900),
#: so that it sees a callback's exception first
ORDER = 1000
PATH = "crawler.spiders.guard.CallbackGuard"


class CallbackGuard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CallbackGuard:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: BaseException
    ) -> Iterable[Any] | None:
        # Scrapy's own control flow (an HTTP error status, close the spider)
        if isinstance(exception, (IgnoreRequest, CloseSpider)):
            return None
        request = response.request
        chain = (request.meta.get("redirect_urls") if request is not None else None) or []
        url = str(chain[0]) if chain else response.url
        name = type(exception).__name__
        self.crawler.stats.inc_value("corpus/callback_errors")
        logger.error(
            "Reading %s failed with %s; recorded as a failure, the crawl goes on",
            response.url,
            name,
            exc_info=exception,
        )
        text = " ".join(str(exception).split())
        text = text if len(text) <= 200 else text[:197] + "..."
        status = response.status if response.url.startswith("http") else None
        reason = (
            f"the crawler could not read this response: reading it failed with an "
            f"error ({name}: {text or 'no message'}); the rest of the crawl went on"
        )
        return [Failure(url, "parse", reason, status)]
