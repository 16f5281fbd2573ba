"""``scrapy corpus summary|check``: what a corpus holds, and whether it is healthy.

``check`` is for schedulers: ``scrapy crawl`` exits 0 even when a crawl goes
badly, so run ``scrapy corpus check`` after it; it exits 1 with one line per
problem (a source whose last crawl did not finish normally, failed too often,
or brought nothing new for several runs) and 0 when all is well.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.health import Thresholds, check
from crawler.storage import CorpusError, open_database


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "summary|check [--db PATH] [--max-error-rate R] [--stale-runs N]"

    def short_desc(self) -> str:
        return "Summarise the corpus, or check its crawls' health (for schedulers)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", help="corpus database (default: the CORPUS_DB setting)")
        parser.add_argument("--max-error-rate", type=float, default=Thresholds.max_error_rate,
                            help="check: failures/URLs in a source's last crawl above which it "
                                 "fails (default %(default)s)")
        parser.add_argument("--stale-runs", type=int, default=Thresholds.stale_runs,
                            help="check: fail when a source's last N crawls brought no new "
                                 "article; 0 turns this off (default %(default)s)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1 or args[0] not in ("summary", "check"):
            raise UsageError("expected: scrapy corpus summary|check")
        assert self.settings is not None
        path = opts.db or self.settings.get("CORPUS_DB")
        try:
            db = open_database(path)
        except CorpusError as exc:
            sys.stderr.write(f"scrapy corpus: error: {exc}\n")
            self.exitcode = 2
            return
        try:
            if args[0] == "summary":
                print(self.summary(db, path))
            else:
                self.exitcode = self.check(db, opts)
        finally:
            db.close()

    def check(self, db, opts: argparse.Namespace) -> int:
        crawls = list(db.query("select * from crawls order by id"))
        if not crawls:
            print("FAIL: no crawl has run on this corpus yet")
            return 1
        problems = check(crawls, Thresholds(opts.max_error_rate, opts.stale_runs))
        for problem in problems:
            print(f"FAIL: {problem}")
        if problems:
            return 1
        print(f"OK: {len({(c['spider'], c['args']) for c in crawls})} sources, last crawl "
              f"#{crawls[-1]['id']} finished {crawls[-1]['finished_at']}")
        return 0

    def summary(self, db, path: str) -> str:
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
        return "\n".join(out)
