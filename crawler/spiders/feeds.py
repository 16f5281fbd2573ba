"""``scrapy crawl feeds -a feeds=URL[,URL...] [-a since=YYYY-MM-DD]``.

Reads RSS 2.0, Atom and JSON Feed (the format is told from the content), then
downloads each listed article, newest first. The entry's title, date, author,
language and the feed's title are hints: fallbacks for what the page does not
say. Entries dated before ``since`` are never downloaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from crawler.extract.decoding import MAX_DECOMPRESSED
from crawler.items import Failure
from crawler.listings.entries import LISTING_PRIORITY, select
from crawler.listings.feeds import FeedError, parse_feed
from crawler.netsafety import is_followable
from crawler.spiders import WebSpider, since_argument, unknown_arguments, web_urls


class FeedsSpider(WebSpider):
    name = "feeds"

    def __init__(
        self, feeds: str | None = None, since: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        named = {k: v for k, v in (("feeds", feeds), ("since", since)) if v}
        super().__init__(*args, **kwargs)
        self.arguments.update(named)  # recorded, not set as attributes (``start`` is a method)
        self.feeds = web_urls(feeds, "feeds")
        self.since = since_argument(since)

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        unknown_arguments(kwargs, {"feeds", "since"})
        web_urls(kwargs.get("feeds"), "feeds")
        since_argument(kwargs.get("since"))

    async def start(self) -> AsyncIterator[Any]:
        for url in self.feeds:
            yield self.request_or_failure(
                url,
                callback=self.parse_feed,
                errback=self.request_failed,
                priority=LISTING_PRIORITY,
                dont_filter=True,
            )

    def parse_feed(self, response: Response) -> Iterator[Any]:
        stats = self.crawler.stats
        max_size = self.settings.getint("DOWNLOAD_MAXSIZE") or MAX_DECOMPRESSED
        try:
            feed = parse_feed(response.body, response.url, max_size=max_size)
        except FeedError as exc:
            stats.inc_value("feeds/unreadable")
            self.logger.warning("Unreadable feed %s: %s", response.url, exc)
            yield Failure(response.url, "parse", str(exc), response.status)
            return
        stats.inc_value(f"feeds/read/{feed.kind}")
        yield from self.bad_links(response.url, "feed", feed.bad_links)
        stats.inc_value("feeds/entries", len(feed.entries))
        entries, older = select(feed.entries, self.since_for(response))
        if older:
            stats.inc_value("feeds/skipped_old", older)
        self.logger.info(
            "Feed %s (%s): %d entries, %d before since",
            response.url,
            feed.kind,
            len(feed.entries),
            older,
        )
        for entry in entries:
            if not is_followable(entry.url):
                stats.inc_value("feeds/skipped_not_web")
                self.logger.warning(
                    "Not following %s from feed %s: only http(s) links are followed",
                    entry.url,
                    response.url,
                )
                continue
            if self.skip_known(entry.url):
                continue
            yield self.article_request(entry, self.inherited(response))
