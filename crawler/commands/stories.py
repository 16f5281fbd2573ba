"""``scrapy stories rebuild``: recompute every story from the stored corpus."""

from __future__ import annotations

import argparse
import sys
import time

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.storage.corpus import CorpusError, open_database, write_transaction
from crawler.storage.storyindex import StoryIndex


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "rebuild [--db PATH]"

    def short_desc(self) -> str:
        return "Recompute all stories (and the story index) from the stored articles"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", help="corpus database (default: the CORPUS_DB setting)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args != ["rebuild"]:
            raise UsageError("expected: scrapy stories rebuild [--db PATH]")
        assert self.settings is not None
        path = opts.db or self.settings.get("CORPUS_DB")
        try:
            db = open_database(path)
        except CorpusError as exc:
            sys.stderr.write(f"scrapy stories: error: {exc}\n")
            self.exitcode = 2
            return
        t0 = time.perf_counter()
        with write_transaction(db):
            articles, stories = StoryIndex(db).rebuild()
        print(
            f"Corpus {path}: {articles} articles grouped into {stories} stories "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        db.close()
