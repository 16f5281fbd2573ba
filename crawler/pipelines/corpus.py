"""``CorpusPipeline``: articles and failures into the corpus, counted in the stats.

Translates between Scrapy and :class:`crawler.core.writer.CorpusWriter` (the writer
thread that owns the Corpus): opens the crawl's ``crawls`` row, hands each spider the
read-only corpus view (the ``corpus_opened`` signal), turns each outcome into stats
and log lines, relays site profiles learnt during the crawl to the cleaning
(``site_profile_learnt``), and stops the crawl on a write error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object

from crawler.config import Config
from crawler.core.signals import corpus_opened, site_profile_learnt
from crawler.core.writer import CorpusWriter, WriteError
from crawler.items import Article, Failure, storable
from crawler.storage.corpus import Outcome

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class CorpusPipeline:
    """Hands articles and failures to the corpus, the crawl's single writer.

    The corpus lives on its own writer thread (``CORPUS_WRITER_THREAD``, on by
    default), so the reactor keeps downloading while a batch is written. Each
    item waits for its own store, so Scrapy's back-pressure still bounds how
    many are in flight.

    When the corpus cannot be written (disk full, database locked by another
    program for longer than ``CORPUS_BUSY_TIMEOUT``, a read-only file), the
    crawl stops with the finish reason ``corpus_write_error`` and one clear
    error line: SQLite's transactions leave the file consistent, and the
    next run fetches again whatever this one could not store.
    """

    def __init__(self, crawler: Crawler, writer: CorpusWriter, learn_profiles: bool) -> None:
        self.crawler = crawler
        self.writer = writer
        self.learn_profiles = learn_profiles
        self._stopping = False

    @property
    def path(self) -> str:
        return self.writer.path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CorpusPipeline:
        config = Config.from_settings(crawler.settings)
        if not config.corpus_db:
            raise NotConfigured("CORPUS_DB is empty")
        writer = CorpusWriter(
            config.corpus_db,
            batch_size=config.corpus_batch_size,
            busy_timeout=config.corpus_busy_timeout,
            thread=config.corpus_writer_thread,
            # Learnt during the crawl too, unless the cleaning runs elsewhere.
            learn_during_crawl=config.clean_site_profiles and not config.distributed,
        )
        pipe = cls(crawler, writer, config.clean_site_profiles)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        spider = self.crawler.spider
        try:
            crawl_id = self.writer.open(spider.name, getattr(spider, "arguments", {}))
        except Exception as exc:
            logger.error("Cannot open the corpus %s: %s", self.path, exc)
            raise
        self.crawler.stats.set_value("corpus/crawl_id", crawl_id)
        self.crawler.signals.send_catch_log(signal=corpus_opened, view=self.writer.view())
        logger.info("Crawl %d writing to %s", crawl_id, self.path)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, (Article, Failure)):
            return item
        if storable(item):
            self.crawler.stats.inc_value("corpus/lone_surrogates_replaced")
        if self.writer.write_error is not None:
            self.crawler.stats.inc_value("corpus/unstored_after_write_error")
            return item
        try:
            outcome = await self.writer.store(item)
        except WriteError as exc:
            self._write_failed(exc)
            return item
        self._count(item, outcome)
        self._announce_profiles()
        return item

    def _announce_profiles(self) -> None:
        """Back on the reactor: tell the cleaning about site profiles learnt since."""
        for host, lines in self.writer.learnt():
            logger.info(
                "Learnt %d chrome lines of %s; later pages are cleaned without them",
                len(lines),
                host,
            )
            self.crawler.stats.inc_value("corpus/site_profiles/learnt_in_crawl")
            self.crawler.signals.send_catch_log(signal=site_profile_learnt, host=host, lines=lines)

    def _count(self, item: Article | Failure, outcome: Outcome | None) -> None:
        """Stats and log lines for what was stored."""
        stats = self.crawler.stats
        if isinstance(item, Failure):
            stats.inc_value(f"corpus/failures/{item.stage}")
            return
        if outcome is None:
            return
        if outcome.status == "duplicate":
            stats.inc_value(f"corpus/duplicates/{outcome.kind}")
            logger.info("Duplicate (%s) of an earlier article: %s", outcome.kind, item.url)
        elif outcome.status == "known":
            stats.inc_value("corpus/skipped/known")
            logger.debug("Already in the corpus: %s", item.url)
        else:
            stats.inc_value(f"corpus/articles/{outcome.status}")
            for kind in outcome.replaced:
                # a stored copy, now a duplicate of this earlier one
                stats.inc_value(f"corpus/replaced/{kind}")
            if outcome.replaced_in_crawl:
                stats.inc_value("corpus/replaced_in_crawl", outcome.replaced_in_crawl)

    def _write_failed(self, exc: WriteError) -> None:
        """The first write error: say it once, record it, stop the crawl."""
        if self._stopping:
            return
        self._stopping = True
        self.crawler.stats.set_value("corpus/write_error", self.writer.write_error)
        logger.error(
            "Cannot write to the corpus %s: %s. Stopping the crawl; what was written is intact "
            "and the next run fetches what this one could not store.",
            self.path,
            exc,
        )
        engine = self.crawler.engine
        if engine is not None:
            asyncio.ensure_future(engine.close_spider_async(reason="corpus_write_error"))

    def close_spider(self) -> None:
        try:
            self.writer.flush()
        except WriteError as exc:
            self._write_failed(exc)

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.writer.finish(reason, self.crawler.stats, learn_profiles=self.learn_profiles)


def is_corpus_pipeline(path: object) -> bool:
    """Does an ``ITEM_PIPELINES`` key (a path or a class) name :class:`CorpusPipeline`?"""
    try:
        obj = load_object(path) if isinstance(path, str) else path
    except (ImportError, NameError, ValueError):
        return False
    return isinstance(obj, type) and issubclass(obj, CorpusPipeline)
