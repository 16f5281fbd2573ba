"""``scrapy corpus summary``: what a corpus holds, in a few lines."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.storage import CorpusError, open_database


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "summary [--db PATH]"

    def short_desc(self) -> str:
        return "Summarise the corpus (articles, duplicates, failures, last crawl)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", help="corpus database (default: the CORPUS_DB setting)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args != ["summary"]:
            raise UsageError("expected: scrapy corpus summary")
        assert self.settings is not None
        path = opts.db or self.settings.get("CORPUS_DB")
        try:
            db = open_database(path)
        except CorpusError as exc:
            sys.stderr.write(f"scrapy corpus: error: {exc}\n")
            self.exitcode = 2
            return
        counts = {t: db[t].count for t in ("articles", "duplicates", "failures", "stories")}
        last = db.execute(
            "SELECT id, spider, finish_reason, started_at FROM crawls ORDER BY id DESC LIMIT 1"
        ).fetchone()
        out = [f"Corpus {path}: {counts['articles']} articles in {counts['stories']} stories, "
               f"{counts['duplicates']} duplicates, {counts['failures']} failures"]
        if last:
            out.append(f"Last crawl: #{last[0]} ({last[1]}) started {last[3]}, finished: {last[2]}")
        for row in db.execute(
            "SELECT stage, reason, url FROM failures WHERE crawl_id = ? ORDER BY id LIMIT 5",
            [last[0] if last else -1],
        ):
            out.append(f"  failure [{row[0]}] {row[2]}: {row[1]}")
        out.append(f"Browse it: .venv/bin/datasette {path} -m crawler/metadata.yml  (or: make serve)")
        print("\n".join(out))
        db.close()
