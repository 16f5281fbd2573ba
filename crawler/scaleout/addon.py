"""The scale-out add-on, and what every scale-out component reads of the settings.

``DistributedAddon`` is always listed in ``ADDONS`` and does nothing while
``CORPUS_REDIS_URL`` is empty; set, it swaps in the Redis scheduler and duplicate
filter, the start-claiming spider middleware, the idle extension, and the Redis item
pipeline in place of ``CorpusPipeline``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from crawler.config import Config
from crawler.scaleout.codec import DEFAULT_KEY, Keys, check_key, check_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

SCHEDULER = "crawler.scaleout.scheduler.RedisScheduler"
DUPEFILTER = "crawler.scaleout.dupefilter.RedisDupeFilter"
ITEM_PIPELINE = "crawler.scaleout.pipeline.RedisItemPipeline"
SPIDER_MIDDLEWARE = "crawler.scaleout.spidermiddleware.ClaimStartMiddleware"
EXTENSION = "crawler.scaleout.extension.SharedQueueIdle"


def worker_config(crawler: Crawler) -> Config:
    """The crawl's config, or ``NotConfigured`` when this is no scale-out worker."""
    config = Config.from_settings(crawler.settings)
    if not config.distributed:
        raise NotConfigured("CORPUS_REDIS_URL is empty")
    return config


def keys_of(config: Config) -> Keys:
    return Keys(config.corpus_redis_key or DEFAULT_KEY)


def spider_key(crawler: Crawler, setting: str, default: str) -> str:
    """A per-spider key from a ``%(spider)s`` template setting (scrapy-redis's)."""
    name = crawler.spider.name if crawler.spider is not None else crawler.spidercls.name
    template = crawler.settings.get(setting) or default
    return template % {"spider": name}


class DistributedAddon:
    """``ADDONS`` entry: ``-s CORPUS_REDIS_URL=redis://...`` turns scale-out on."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("CORPUS_REDIS_URL")
        if not url:
            return
        check_url(url)  # a typo must not silently crawl into a local corpus
        key = check_key(settings.get("CORPUS_REDIS_KEY") or DEFAULT_KEY)
        for name, value in {
            "SCHEDULER": SCHEDULER,
            "DUPEFILTER_CLASS": DUPEFILTER,
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": url,
            "SCHEDULER_QUEUE_KEY": f"{key}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{key}:%(spider)s:dupefilter",
        }.items():
            settings.set(name, value, "addon")
        # The corpus pipeline, under any path it is listed by (the old
        # crawler.pipelines.CorpusPipeline too), gives its place to Redis.
        from crawler.pipelines.corpus import is_corpus_pipeline

        pipelines = settings["ITEM_PIPELINES"]
        for path, order in list(pipelines.items()):
            if order is not None and is_corpus_pipeline(path):
                prio = pipelines.getpriority(path)
                pipelines.set(path, None, prio)
                pipelines.set(ITEM_PIPELINE, order, prio)
        settings["SPIDER_MIDDLEWARES"][SPIDER_MIDDLEWARE] = 30
        settings["EXTENSIONS"][EXTENSION] = 500
