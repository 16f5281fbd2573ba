"""``scrapy corpus summary|check|drain|export``: what a corpus holds, whether it is
healthy, (scale-out) the one process that writes workers' items into it, and
the corpus as a dataset file.

``check`` is for schedulers: ``scrapy crawl`` exits 0 even when a crawl goes
badly, so run ``scrapy corpus check`` after it; it exits 1 with one line per
problem (a source whose last crawl did not finish normally, failed too often,
or brought nothing new for several runs) and 0 when all is well.

``drain`` is the single SQLite writer of a distributed crawl
(:mod:`crawler.scaleout.distributed`): it moves the items that workers push to Redis
into the corpus, batch by batch, until stopped (SIGTERM/Ctrl-C: after the
current batch) or, with ``--idle``, until nothing has arrived for that long and
no crawl it saw start is still running.

``export`` writes one record per article (:mod:`crawler.storage.export`):
``scrapy corpus export --format jsonl|csv|parquet --out FILE`` with optional
``--since DATE``, ``--site HOST`` and ``--story ID``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.storage import export
from crawler.storage.corpus import Corpus, CorpusError, open_database
from crawler.storage.health import Thresholds, check


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return (
            "summary|check|drain|export [--db PATH] [--max-error-rate R] [--stale-runs N] "
            "[--redis URL] [--key KEY] [--idle SECONDS] [--batch N] "
            "[--format jsonl|csv|parquet --out FILE [--since DATE] [--site HOST] [--story ID]]"
        )

    def short_desc(self) -> str:
        return (
            "Summarise the corpus, check its crawls' health (for schedulers), "
            "drain distributed workers' items into it, or export it as a dataset"
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", help="corpus database (default: the CORPUS_DB setting)")
        parser.add_argument(
            "--max-error-rate",
            type=float,
            default=Thresholds.max_error_rate,
            help="check: failures/URLs in a source's last crawl above which it "
            "fails (default %(default)s)",
        )
        parser.add_argument(
            "--stale-runs",
            type=int,
            default=Thresholds.stale_runs,
            help="check: fail when a source's last N crawls brought no new "
            "article; 0 turns this off (default %(default)s)",
        )
        parser.add_argument(
            "--redis",
            metavar="URL",
            help="drain: Redis URL (default: the CORPUS_REDIS_URL setting)",
        )
        parser.add_argument("--key", help="drain: Redis key prefix (default: CORPUS_REDIS_KEY)")
        parser.add_argument(
            "--idle",
            type=float,
            metavar="SECONDS",
            help="drain: stop after SECONDS with nothing to write and no "
            "crawl still running (default: run until stopped)",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=100,
            metavar="N",
            help="drain: messages written per transaction (default %(default)s)",
        )
        parser.add_argument(
            "--format", choices=export.FORMATS, help="export: jsonl, csv or parquet (pyarrow)"
        )
        parser.add_argument("--out", metavar="FILE", help="export: the file to write")
        parser.add_argument(
            "--since", metavar="DATE", help="export: articles published on or after DATE"
        )
        parser.add_argument(
            "--site", metavar="HOST", help="export: articles of this host (or outlet name)"
        )
        parser.add_argument("--story", type=int, metavar="ID", help="export: articles of story ID")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1 or args[0] not in ("summary", "check", "drain", "export"):
            raise UsageError("expected: scrapy corpus summary|check|drain|export")
        assert self.settings is not None
        path = opts.db or self.settings.get("CORPUS_DB")
        if args[0] == "drain":
            self.exitcode = self.drain(path, opts)
            return
        if args[0] == "export":
            self.exitcode = self.export(path, opts)
            return
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
        print(
            f"OK: {len({(c['spider'], c['args']) for c in crawls})} sources, last crawl "
            f"#{crawls[-1]['id']} finished {crawls[-1]['finished_at']}"
        )
        return 0

    def summary(self, db, path: str) -> str:
        counts = {t: db[t].count for t in ("articles", "duplicates", "failures", "stories")}
        last = db.execute(
            "SELECT id, spider, finish_reason, started_at FROM crawls ORDER BY id DESC LIMIT 1"
        ).fetchone()
        out = [
            f"Corpus {path}: {counts['articles']} articles in {counts['stories']} stories, "
            f"{counts['duplicates']} duplicates, {counts['failures']} failures"
        ]
        if last:
            out.append(f"Last crawl: #{last[0]} ({last[1]}) started {last[3]}, finished: {last[2]}")
        for row in db.execute(
            "SELECT stage, reason, url FROM failures WHERE crawl_id = ? ORDER BY id LIMIT 5",
            [last[0] if last else -1],
        ):
            out.append(f"  failure [{row[0]}] {row[2]}: {row[1]}")
        out.append(
            f"Browse it: .venv/bin/datasette {path}  (or: make serve DB={path}), then /-/stories"
        )
        return "\n".join(out)

    def export(self, path: str, opts: argparse.Namespace) -> int:
        """Exit codes: 0 written, 2 cannot (bad options, no corpus, no pyarrow)."""
        try:
            if not opts.format or not opts.out:
                raise export.ExportError("give --format jsonl|csv|parquet and --out FILE")
            filters = export.Filters(opts.since, opts.site, opts.story)
            if opts.format == "parquet":
                export.pyarrow_modules()
            if not Path(path).is_file():
                raise export.ExportError(f"no corpus at {path!r} (give --db PATH)")
            db = open_database(path)
        except (export.ExportError, CorpusError) as exc:
            sys.stderr.write(f"scrapy corpus export: error: {exc}\n")
            return 2
        try:
            n = export.export(db.conn, opts.format, opts.out, filters)
        except export.ExportError as exc:
            sys.stderr.write(f"scrapy corpus export: error: {exc}\n")
            return 2
        finally:
            db.close()
        print(f"Exported {n} articles from {path} to {opts.out} ({opts.format})")
        return 0

    def drain(self, path: str, opts: argparse.Namespace) -> int:
        """Exit codes: 0 done, 2 cannot start (bad options, no Redis, corpus, lock)."""
        from crawler.scaleout.distributed import DEFAULT_KEY, DistributedError, Keys, connect, drain

        assert self.settings is not None
        url = opts.redis or self.settings.get("CORPUS_REDIS_URL")
        if not url:
            sys.stderr.write(
                "scrapy corpus drain: error: give --redis URL (or set CORPUS_REDIS_URL)\n"
            )
            return 2
        if (opts.idle is not None and opts.idle < 0) or opts.batch < 1:
            sys.stderr.write("scrapy corpus drain: error: --idle must be >= 0, --batch >= 1\n")
            return 2
        keys = Keys(opts.key or self.settings.get("CORPUS_REDIS_KEY") or DEFAULT_KEY)
        _log_to_stderr(self.settings.get("LOG_LEVEL") or "INFO")
        stopping: list[int] = []

        def stop(signum: int, _frame: object) -> None:
            logging.getLogger(__name__).info("Signal %d: stopping after this batch", signum)
            stopping.append(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            client = connect(url)
            client.ping()
            corpus = Corpus(path, batch_size=opts.batch)
        except (DistributedError, CorpusError) as exc:
            sys.stderr.write(f"scrapy corpus drain: error: {exc}\n")
            return 2
        except Exception as exc:  # noqa: BLE001 - redis.ConnectionError; the extra may be missing
            sys.stderr.write(f"scrapy corpus drain: error: cannot reach Redis at {url}: {exc}\n")
            return 2
        try:
            report = drain(
                client,
                corpus,
                keys,
                idle=opts.idle,
                batch_size=opts.batch,
                stop=lambda: bool(stopping),
            )
        except DistributedError as exc:
            sys.stderr.write(f"scrapy corpus drain: error: {exc}\n")
            return 2
        finally:
            corpus.close()
        print(f"Corpus {path}: {report.summary()}")
        return 0


def _log_to_stderr(level: str) -> None:
    """The drain is a service: its progress goes to stderr (the command's LOG_ENABLED is off)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    log = logging.getLogger("crawler")
    log.addHandler(handler)
    log.setLevel(level)
