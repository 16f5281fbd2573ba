"""Item pipelines: a thin shell between Scrapy and the pure core.

* :class:`ExtractPipeline` turns a :class:`~crawler.items.Page` into an
  :class:`~crawler.items.Article` or a :class:`~crawler.items.Failure`
  (:func:`crawler.processing.process_page`).
* :class:`CorpusPipeline` hands both to :class:`crawler.storage.Corpus`,
  counts what happened in the crawl's stats, and records the crawl itself
  (one ``crawls`` row with arguments, times, finish reason and stats).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.items import Article, Failure, Page
from crawler.processing import Options, process_page
from crawler.storage import Corpus, CorpusError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, crawler: Crawler, options: Options) -> None:
        self.crawler = crawler
        self.options = options

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        min_words = crawler.settings.getint("CLEAN_MIN_WORDS", 25)
        if min_words < 0:
            raise NotConfigured("CLEAN_MIN_WORDS must be 0 or more")
        return cls(crawler, Options(min_words=min_words))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Page):
            return item
        stats = self.crawler.stats
        result = process_page(item, self.options)
        if isinstance(result, Failure):
            logger.info("No article from %s: %s", item.url, result.reason)
        else:
            stats.inc_value("corpus/extracted")
        return result


class CorpusPipeline:
    def __init__(self, crawler: Crawler, path: str, batch_size: int) -> None:
        self.crawler = crawler
        self.path = path
        self.batch_size = batch_size
        self.corpus: Corpus | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CorpusPipeline:
        path = crawler.settings.get("CORPUS_DB", "corpus.db")
        if not path:
            raise NotConfigured("CORPUS_DB is empty")
        pipe = cls(crawler, path, crawler.settings.getint("CORPUS_BATCH_SIZE", 200))
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        try:
            self.corpus = Corpus(self.path, batch_size=self.batch_size)
        except CorpusError as exc:
            logger.error("%s", exc)
            raise
        spider = self.crawler.spider
        args = getattr(spider, "arguments", {})
        crawl_id = self.corpus.start_crawl(spider.name, args)
        spider.corpus = self.corpus
        self.crawler.stats.set_value("corpus/crawl_id", crawl_id)
        logger.info("Crawl %d writing to %s", crawl_id, self.path)

    def process_item(self, item: Any) -> Any:
        assert self.corpus is not None
        stats = self.crawler.stats
        if isinstance(item, Failure):
            self.corpus.add_failure(item)
            stats.inc_value(f"corpus/failures/{item.stage}")
            return item
        if not isinstance(item, Article):
            return item
        outcome = self.corpus.add_article(item)
        if outcome.status == "duplicate":
            stats.inc_value(f"corpus/duplicates/{outcome.kind}")
            logger.info("Duplicate (%s) of an earlier article: %s", outcome.kind, item.url)
        elif outcome.status == "known":
            stats.inc_value("corpus/skipped/known")
            logger.debug("Already in the corpus: %s", item.url)
        else:
            stats.inc_value(f"corpus/articles/{outcome.status}")
        return item

    def close_spider(self) -> None:
        if self.corpus is not None:
            self.corpus.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.corpus is None:
            return
        try:
            self.corpus.finish_crawl(reason, self.crawler.stats.get_stats())
        finally:
            self.corpus.close()
            self.corpus = None
