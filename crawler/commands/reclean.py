"""``scrapy reclean``: clean the stored pages again, without fetching anything."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand

from crawler.extract.processing import Options
from crawler.extract.site_rules import RulesError, load_rules
from crawler.pipelines import default_workers
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
        settings = self.settings
        try:
            rules = (
                load_rules(settings.get("CLEAN_SITE_RULES"))
                if settings.get("CLEAN_SITE_RULES")
                else {}
            )
            options = Options(min_words=settings.getint("CLEAN_MIN_WORDS", 25), site_rules=rules)
            workers = settings.getint("CLEAN_WORKERS", -1)
            report = reclean(
                opts.db or settings.get("CORPUS_DB"),
                options,
                site=opts.site,
                dry_run=opts.dry_run,
                workers=default_workers() if workers < 0 else workers,
                learn=settings.getbool("CLEAN_SITE_PROFILES", True),
            )
        except (CorpusError, RulesError) as exc:
            sys.stderr.write(f"scrapy reclean: error: {exc}\n")
            self.exitcode = 2
            return
        print(("[dry run] " if opts.dry_run else "") + report.summary())
        for url, reason in report.now_failing[:10]:
            print(f"  kept, no longer passes cleaning: {url}: {reason}")
