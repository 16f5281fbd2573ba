"""Item pipelines: a thin shell between Scrapy and the core.

* :mod:`.extract` (``ExtractPipeline``) turns a :class:`~crawler.items.Page` into an
  :class:`~crawler.items.Article` or a :class:`~crawler.items.Failure`, through the
  cleaning pool of :mod:`crawler.core.pool`.
* :mod:`.corpus` (``CorpusPipeline``) hands both to the writer thread of
  :mod:`crawler.core.writer`, counts what happened in the crawl's stats, and records
  the crawl itself (one ``crawls`` row with arguments, times, finish reason and stats).

``crawler.pipelines.ExtractPipeline`` and ``crawler.pipelines.CorpusPipeline`` (the
0.1.0 paths) still work in ``ITEM_PIPELINES``. May import Scrapy and the core.
"""

from crawler.core.pool import default_workers
from crawler.core.signals import site_profile_learnt
from crawler.pipelines.corpus import CorpusPipeline
from crawler.pipelines.extract import ExtractPipeline

__all__ = ["CorpusPipeline", "ExtractPipeline", "default_workers", "site_profile_learnt"]
