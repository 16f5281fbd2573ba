"""``scrapy crawl sitemaps -a sitemaps=URL[,URL...] [-a since=YYYY-MM-DD]``.

Each URL is a sitemap, a sitemap index (followed recursively), a gzipped
sitemap, a Google News sitemap or a ``robots.txt`` (its ``Sitemap:`` lines).
Every listed article is downloaded, newest first; Google News tags (title,
publication date, language, publication name) are hints for the article.
Entries and child sitemaps last modified before ``since`` are never
downloaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.extract.decoding import MAX_DECOMPRESSED
from crawler.items import Failure
from crawler.listings.entries import LISTING_PRIORITY, is_older, select
from crawler.listings.sitemaps import SitemapError, is_robots_url, parse_sitemap, robots_sitemaps
from crawler.netsafety import is_followable
from crawler.spiders import WebSpider, since_argument, unknown_arguments, web_urls

#: sitemap indexes nested deeper than this are not followed.
MAX_SITEMAP_DEPTH = 5


class SitemapsSpider(WebSpider):
    name = "sitemaps"

    def __init__(
        self, sitemaps: str | None = None, since: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        named = {k: v for k, v in (("sitemaps", sitemaps), ("since", since)) if v}
        super().__init__(*args, **kwargs)
        self.arguments.update(named)  # recorded, not set as attributes (``start`` is a method)
        self.sitemaps = web_urls(sitemaps, "sitemaps")
        self.since = since_argument(since)

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown_arguments(kwargs, {"sitemaps", "since"})
        web_urls(kwargs.get("sitemaps"), "sitemaps")
        since_argument(kwargs.get("since"))

    async def start(self) -> AsyncIterator[Any]:
        for url in self.sitemaps:
            if is_robots_url(url):
                yield self.request_or_failure(
                    url,
                    callback=self.parse_robots,
                    errback=self.request_failed,
                    priority=LISTING_PRIORITY,
                    dont_filter=True,
                    meta={"dont_obey_robotstxt": True},
                )
            else:
                yield self.sitemap_request(url, 0)

    def sitemap_request(
        self, url: str, depth: int, meta: dict[str, Any] | None = None
    ) -> scrapy.Request | Failure:
        return self.request_or_failure(
            url,
            callback=self.parse_sitemap,
            errback=self.request_failed,
            priority=LISTING_PRIORITY,
            cb_kwargs={"depth": depth},
            meta=meta or {},
        )

    def parse_robots(self, response: Response) -> Iterator[Any]:
        text = response.body.decode("utf-8", errors="replace")
        found = [u for u in robots_sitemaps(text, response.url) if is_followable(u)]
        if not found:
            yield Failure(
                response.url, "parse", "robots.txt lists no Sitemap: lines", response.status
            )
            return
        self.crawler.stats.inc_value("sitemaps/from_robots", len(found))
        for url in found:
            yield self.sitemap_request(url, 0, self.inherited(response))

    def parse_sitemap(self, response: Response, depth: int = 0) -> Iterator[Any]:
        stats = self.crawler.stats
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE") or MAX_DECOMPRESSED
        try:
            sitemap = parse_sitemap(response.body, response.url, max_size=max_size)
        except SitemapError as exc:
            stats.inc_value("sitemaps/unreadable")
            self.logger.warning("Unreadable sitemap %s: %s", response.url, exc)
            yield Failure(response.url, "parse", str(exc), response.status)
            return
        stats.inc_value(f"sitemaps/read/{sitemap.kind}")
        yield from self.bad_links(response.url, "sitemap", sitemap.bad_links)
        if sitemap.is_index:
            yield from self._children(sitemap.entries, response, depth)
            return
        stats.inc_value("sitemaps/entries", len(sitemap.entries))
        entries, older = select(sitemap.entries, self.since_for(response))
        if older:
            stats.inc_value("sitemaps/skipped_old", older)
        self.logger.info(
            "Sitemap %s: %d URLs, %d before since", response.url, len(sitemap.entries), older
        )
        for entry in entries:
            if not is_followable(entry.url):
                stats.inc_value("sitemaps/skipped_not_web")
                continue
            if self.skip_known(entry.url):
                continue
            yield self.article_request(entry, self.inherited(response))

    def _children(self, entries: list[Any], response: Response, depth: int) -> Iterator[Any]:
        stats = self.crawler.stats
        url, since, meta = response.url, self.since_for(response), self.inherited(response)
        if depth >= MAX_SITEMAP_DEPTH:
            yield Failure(
                url,
                "parse",
                f"sitemap indexes nested more than {MAX_SITEMAP_DEPTH} "
                "deep; the rest is not followed",
            )
            return
        for entry in entries:
            if not is_followable(entry.url):
                stats.inc_value("sitemaps/skipped_not_web")
            elif is_older(entry, since):
                stats.inc_value("sitemaps/skipped_old_sitemaps")
            else:
                yield self.sitemap_request(entry.url, depth + 1, meta)
