"""``scrapy crawl site -a start=URL[,URL...] [-a depth=2]``: a site's articles.

Follows links on the same host as a start URL, up to ``depth`` links away
from it, and stores only the pages :func:`crawler.extract.pagetype.analyse` takes for
articles. Section, tag and index pages are only followed: they are counted
(``site/skipped_non_article``), never stored and never failures. Links to
other hosts, to media files and with other schemes than http(s) are not
followed; neither are links robots.txt disallows (``site/skipped_robots``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from courlan import normalize_url
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure as TwistedFailure

from crawler.extract.pagetype import analyse, same_site
from crawler.items import Failure
from crawler.netsafety import url_problem
from crawler.spiders import ArgumentError, WebSpider, is_robots_refusal, unknown_arguments, web_urls

DEFAULT_DEPTH = 2
MAX_DEPTH = 20


def depth_argument(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_DEPTH
    try:
        depth = int(str(value).strip())
    except ValueError:
        raise ArgumentError(f"depth must be a whole number, not {value!r}") from None
    if not 0 <= depth <= MAX_DEPTH:
        raise ArgumentError(f"depth must be between 0 and {MAX_DEPTH}, not {depth}")
    return depth


def _without_tracking(url: str) -> str:
    """The link without tracking parameters (``utm_*``, ``fbclid``, ...)."""
    try:
        return normalize_url(url, strict=False)
    except (ValueError, AttributeError):
        return url


class SiteSpider(WebSpider):
    name = "site"

    def __init__(
        self, start: str | None = None, depth: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        named = {k: v for k, v in (("start", start), ("depth", depth)) if v}
        super().__init__(*args, **kwargs)
        self.arguments.update(named)  # recorded, not set as attributes (``start`` is a method)
        self.starts = web_urls(start, "start")
        self.depth = depth_argument(depth)

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown_arguments(kwargs, {"start", "depth"})
        web_urls(kwargs.get("start"), "start")
        depth_argument(kwargs.get("depth"))

    async def start(self) -> AsyncIterator[Any]:
        for url in self.starts:
            yield self.request_or_failure(
                url, callback=self.parse_page, errback=self.request_failed, meta={"site_depth": 0}
            )

    def on_site(self, url: str) -> bool:
        return any(same_site(url, start) for start in self.starts)

    def parse_page(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        depth = response.meta.get("site_depth", 0)
        if self.not_modified(response):
            return
        if not isinstance(response, TextResponse):
            stats.inc_value("site/skipped_not_html")
            return
        analysis = analyse(response.text, response.url)
        if analysis.is_article:
            stats.inc_value("site/articles_found")
            yield self.page_from(response)
        else:
            stats.inc_value("site/skipped_non_article")
            self.logger.debug(
                "Not an article (score %d: %s): %s",
                analysis.score,
                ", ".join(analysis.signals),
                response.url,
            )
        if analysis.unsafe_links:
            stats.inc_value("site/skipped_non_http_links", analysis.unsafe_links)
        if depth >= response.meta.get("site_max_depth", self.depth):
            return
        for link in analysis.links:
            if url_problem(link) is not None:
                stats.inc_value("site/skipped_invalid_links")
                continue
            if not self.on_site(link):
                stats.inc_value("site/skipped_offsite_links")
                continue
            if self.skip_known(link):
                continue
            stats.inc_value("site/links_followed")
            link = _without_tracking(link)
            cond = self.conditional(link)
            yield scrapy.Request(
                link,
                callback=self.parse_page,
                errback=self.link_failed,
                headers=cond.get("headers"),
                meta={**self.inherited(response), "site_depth": depth + 1, **cond.get("meta", {})},
            )

    def link_failed(self, failure: TwistedFailure) -> Failure | None:
        """A link robots.txt disallows is counted, not a failure; others are."""
        if is_robots_refusal(failure):
            self.crawler.stats.inc_value("site/skipped_robots")
            return None
        return self.request_failed(failure)
