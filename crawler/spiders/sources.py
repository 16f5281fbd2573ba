"""``scrapy crawl sources [-a config=sources.toml] [-a only=NAME[,NAME]]``.

The command a scheduler runs: every enabled source of ``sources.toml`` (or
the ones named in ``only``), each with its feeds, sitemaps and start URLs,
its own politeness (a download slot with its delay and concurrency) and its
own cleaning rules. Feed and sitemap entries older than the source's last
successful crawl (or its ``since``) are not downloaded, nor are articles the
corpus already holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Any

import scrapy

from crawler.listings.entries import LISTING_PRIORITY, parse_since
from crawler.listings.sitemaps import is_robots_url
from crawler.listings.sources import Source, SourcesError, load_sources
from crawler.spiders import ArgumentError, WebSpider, unknown_arguments
from crawler.spiders.feeds import FeedsSpider
from crawler.spiders.site import SiteSpider
from crawler.spiders.sitemaps import SitemapsSpider
from crawler.storage.incremental import last_source_success

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def _only(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


class SourcesSpider(FeedsSpider, SitemapsSpider, SiteSpider):
    name = "sources"

    def __init__(
        self, config: str = "sources.toml", only: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        named = {"config": config, **({"only": only} if only else {})}
        WebSpider.__init__(self, *args, **kwargs)
        self.arguments.update(named)
        try:
            self.sources: list[Source] = load_sources(config, _only(only))
        except SourcesError as exc:
            raise ArgumentError(str(exc)) from None
        self.config = config
        self.feeds = [u for s in self.sources for u in s.feeds]
        self.sitemaps = [u for s in self.sources for u in s.sitemaps]
        self.starts = [u for s in self.sources for u in s.start]
        self.since = None
        self.depth = 0
        self.site_rules = {h: r for s in self.sources for h, r in s.site_rules().items()}

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown_arguments(kwargs, {"config", "only"})
        try:
            load_sources(kwargs.get("config", "sources.toml"), _only(kwargs.get("only")))
        except SourcesError as exc:
            raise ArgumentError(str(exc)) from None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourcesSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Per-source politeness: one download slot per source (Scrapy reads
        # DOWNLOAD_SLOTS when settings are applied, after the spider exists).
        slots = dict(crawler.settings.getdict("DOWNLOAD_SLOTS"))
        for source in spider.sources:
            slot: dict[str, Any] = {}
            if source.download_delay is not None:
                slot["delay"] = source.download_delay
            if source.concurrency is not None:
                slot["concurrency"] = source.concurrency
            if slot:
                slots[spider.slot_name(source)] = slot
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        return spider

    @staticmethod
    def slot_name(source: Source) -> str:
        return f"source:{source.name}"

    def since_of(self, source: Source) -> date | None:
        """The later of the source's ``since`` and its last successful crawl."""
        dates = [d for d in (parse_since(source.since) if source.since else None,) if d]
        last = last_source_success(self.crawl_config.corpus_db, self.config, source.name)
        if last is not None:
            dates.append(last.date())
            self.crawler.stats.set_value(
                f"sources/{source.name}/since_last_crawl", last.isoformat()
            )
        return max(dates) if dates else None

    async def start(self) -> AsyncIterator[Any]:
        for source in self.sources:
            since = self.since_of(source)
            meta = {
                "corpus_source": source.name,
                "corpus_since": since,
                "site_max_depth": source.depth,
                "download_slot": self.slot_name(source),
            }
            self.logger.info(
                "Source %s: %d feeds, %d sitemaps, %d start URLs, since %s",
                source.name,
                len(source.feeds),
                len(source.sitemaps),
                len(source.start),
                since or "ever",
            )
            for url in source.feeds:
                yield scrapy.Request(
                    url,
                    callback=self.parse_feed,
                    errback=self.request_failed,
                    priority=LISTING_PRIORITY,
                    dont_filter=True,
                    meta=dict(meta),
                )
            for url in source.sitemaps:
                if is_robots_url(url):
                    yield scrapy.Request(
                        url,
                        callback=self.parse_robots,
                        errback=self.request_failed,
                        priority=LISTING_PRIORITY,
                        dont_filter=True,
                        meta={**meta, "dont_obey_robotstxt": True},
                    )
                else:
                    yield self.sitemap_request(url, 0, dict(meta))
            for url in source.start:
                yield scrapy.Request(
                    url,
                    callback=self.parse_page,
                    errback=self.request_failed,
                    meta={**meta, "site_depth": 0},
                )
