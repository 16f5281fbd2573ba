"""``scrapy crawl``, with one-line errors for bad arguments and settings.

Scrapy's own command logs its start-up banner and then a traceback when a
spider cannot be created; a user who mistyped a path deserves one line and a
non-zero exit code. The checks run in ``process_options``, before Scrapy
starts logging.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.spiderloader import get_spider_loader

from crawler.config import Config, ConfigError
from crawler.extract.site_rules import RulesError, load_rules
from crawler.pipelines.corpus import is_corpus_pipeline
from crawler.spiders import ArgumentError
from crawler.storage.corpus import CorpusError, check_writable, open_database


class Command(ScrapyCrawl):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) == 1:
            reason = self._check(args[0], opts.spargs)
            if reason:
                sys.stderr.write(f"scrapy crawl {args[0]}: error: {reason}\n")
                sys.exit(2)

    def _check(self, name: str, spargs: dict[str, str]) -> str | None:
        assert self.settings is not None
        try:
            spidercls = get_spider_loader(self.settings).load(name)
        except KeyError:
            return f"no spider named {name!r}; see 'scrapy list'"
        check = getattr(spidercls, "check_arguments", None)
        try:
            if check is not None:
                check(**spargs)
        except (ArgumentError, TypeError, ValueError) as exc:
            return str(exc)
        try:
            config = Config.from_settings(self.settings)
            if config.clean_site_rules:
                load_rules(config.clean_site_rules)
        except (ConfigError, RulesError) as exc:
            return str(exc)
        # refresh=1 (and the like) on a scale-out worker, which has no corpus
        refusal = getattr(spidercls, "corpus_refusal", None)
        if refusal is not None and (reason := refusal(config, spargs)):
            return reason
        # A scale-out worker (CORPUS_REDIS_URL) writes no corpus of its own.
        pipelines = self.settings.getdict("ITEM_PIPELINES")
        if not config.distributed and any(
            order is not None and is_corpus_pipeline(path) for path, order in pipelines.items()
        ):
            try:
                db = open_database(config.corpus_db, busy_timeout=config.corpus_busy_timeout)
                try:
                    check_writable(db)
                finally:
                    db.close()
            except CorpusError as exc:
                return str(exc)
        return None
