"""``scrapy reclean``: clean the stored pages again, without fetching anything."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand

from crawler.config import Config, ConfigError
from crawler.core.pool import resolve_workers
from crawler.extract.processing import Options
from crawler.extract.site_rules import RulesError, load_rules
from crawler.storage.corpus import CorpusError
from crawler.storage.reclean import reclean


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--db PATH] [--site HOST] [--dry-run]"

    def short_desc(self) -> str:
        return "Re-run cleaning over the stored raw pages and report how many texts changed"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", help="corpus database (default: the CORPUS_DB setting)")
        parser.add_argument("--site", help="only articles of this host (e.g. www.example.com)")
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            config = Config.from_settings(self.settings)
            rules = load_rules(config.clean_site_rules) if config.clean_site_rules else {}
            options = Options(min_words=config.clean_min_words, site_rules=rules)
            report = reclean(
                opts.db or config.corpus_db,
                options,
                site=opts.site,
                dry_run=opts.dry_run,
                workers=resolve_workers(config.clean_workers),
                learn=config.clean_site_profiles,
            )
        except (ConfigError, CorpusError, RulesError) as exc:
            sys.stderr.write(f"scrapy reclean: error: {exc}\n")
            self.exitcode = 2
            return
        print(("[dry run] " if opts.dry_run else "") + report.summary())
        for url, reason in report.now_failing[:10]:
            print(f"  kept, no longer passes cleaning: {url}: {reason}")
