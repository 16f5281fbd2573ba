"""``ExtractPipeline``: a Page in, an Article or a Failure out.

Translates between Scrapy and :class:`crawler.core.pool.CleaningPool`, which runs the
cleaning (:func:`crawler.extract.processing.clean_page`) in worker processes and
survives their crashes. Back-pressure comes from Scrapy's scraper slot: while results
are pending, no more responses are handed over, so memory stays flat however fast
pages arrive.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crawler.config import Config, ConfigError
from crawler.core.pool import CleaningPool, resolve_workers
from crawler.core.signals import site_profile_learnt
from crawler.extract.processing import Options
from crawler.extract.site_rules import RulesError, load_rules
from crawler.items import Failure, Page
from crawler.storage.corpus import load_site_profiles

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def cleaning_options(config: Config) -> Options:
    """The cleaning options of a crawl; a bad ``CLEAN_SITE_RULES`` file is a ConfigError."""
    rules: dict[str, Any] = {}
    if config.clean_site_rules:
        try:
            rules = load_rules(config.clean_site_rules)
        except RulesError as exc:
            raise ConfigError(str(exc)) from None
    return Options(
        min_words=config.clean_min_words, site_rules=rules, keep_raw=config.corpus_keep_raw
    )


class ExtractPipeline:
    """Cleans pages in ``CLEAN_WORKERS`` processes (default: one per core; ``0``:
    in the crawl's own process); see :mod:`crawler.core.pool`."""

    def __init__(self, crawler: Crawler, pool: CleaningPool) -> None:
        self.crawler = crawler
        self.pool = pool

    @property
    def options(self) -> Options:
        return self.pool.options

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        # A ConfigError, not NotConfigured: that would disable cleaning and lose every page.
        config = Config.from_settings(crawler.settings)
        options = cleaning_options(config)
        profiles_db = None
        # Learnt site profiles, unless the cleaning runs on a scale-out worker
        # (the corpus that learns them is the drain's).
        if config.clean_site_profiles and not config.distributed:
            options.site_lines = load_site_profiles(config.corpus_db)
            profiles_db = config.corpus_db
        stats = crawler.stats
        pool = CleaningPool(
            options,
            resolve_workers(config.clean_workers),
            profiles_db=profiles_db,
            count=lambda name: stats.inc_value(f"corpus/{name}"),
        )
        pipe = cls(crawler, pool)
        if profiles_db is not None:
            crawler.signals.connect(pipe.profile_learnt, signal=site_profile_learnt)
        return pipe

    def profile_learnt(self, host: str, lines: frozenset[str]) -> None:
        self.pool.learnt(host, lines)

    def open_spider(self) -> None:
        # Rules a spider brings (the sources spider's per-source cleaning)
        # join the CLEAN_SITE_RULES file; the file wins for a host in both.
        spider_rules = getattr(self.crawler.spider, "site_rules", None) or {}
        if spider_rules:
            self.pool.options.site_rules = {**spider_rules, **self.pool.options.site_rules}
        self.pool.start()
        if self.pool.workers:
            self.crawler.stats.set_value("corpus/clean_workers", self.pool.workers)

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Page):
            return item
        result = await self.pool.clean(item)
        if isinstance(result, Failure):
            if item.requested_url and item.requested_url != item.url:
                # the row names the URL the user gave, not the redirect's target
                result.url = item.requested_url
            logger.info("No article from %s: %s", item.url, result.reason)
        else:
            if item.requested_url and item.requested_url != item.url:
                result.requested_url = item.requested_url
            self.crawler.stats.inc_value("corpus/extracted")
        return result
