"""What the tests share: paths, the Article factory, two ways to crawl.

- :func:`article` builds an :class:`~crawler.items.Article` with its real
  content hash and word count: the one factory.
- :func:`writer_crawl` is one crawl through the corpus writer, in process, no
  Scrapy: the articles go in, their outcomes come out.
- :func:`scrapy_crawl` runs the real ``scrapy crawl`` command of this venv as
  a subprocess and returns a :class:`CrawlResult` to query.

Every ``scrapy`` subprocess a test starts goes through :func:`scrapy_argv`
(``run_scrapy`` and ``scrapy_crawl`` use it), which fails the test unless it is
marked ``e2e``: ``make test-fast`` (``pytest -m "not e2e"``) can then trust the
marker. ``tests/test_helpers.py`` checks that no test builds a ``scrapy``
command line by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawler.dedup.exact import content_hash
from crawler.items import Article
from crawler.storage.corpus import Corpus

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "fixtures"


def _shared_dir() -> Path:
    """CORPUS_SHARED_DIR; else ``shared`` beside the repository; else, for a
    clone of a local repository (``git clone /work/main /tmp/x``), ``shared``
    beside the repository it was cloned from."""
    if os.environ.get("CORPUS_SHARED_DIR"):
        return Path(os.environ["CORPUS_SHARED_DIR"])
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    try:
        origin = subprocess.run(
            ["git", "config", "--get", "remote.origin.url"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin.startswith("file://"):
        origin = origin[len("file://") :]
    if origin and "://" not in origin and ":" not in origin.split("/")[0] and Path(origin).is_dir():
        cloned_from = Path(origin).resolve().parent / "shared"
        if cloned_from.is_dir():
            return cloned_from
    return beside


#: the shared benches (read at run time, never copied here)
SHARED = _shared_dir()


# --- articles and the writer ---------------------------------------------------


def article(
    url: str, text: str, published: str | None = None, *, title: str = "A headline", **fields: Any
) -> Article:
    """An article as cleaning would give it: ``content_hash`` and
    ``word_count`` computed from ``text`` (``fields`` may override them)."""
    fields.setdefault("content_hash", content_hash(text))
    fields.setdefault("word_count", len(text.split()))
    return Article(url=url, title=title, text=text, published=published, **fields)


def writer_crawl(path: Path | str, *articles: Article, batch_size: int = 200) -> list:
    """One crawl that adds ``articles`` to the corpus at ``path`` through the
    writer (no Scrapy, no subprocess): their outcomes, in order."""
    corpus = Corpus(path, batch_size=batch_size)
    corpus.start_crawl("files", {})
    outcomes = [corpus.add_article(a) for a in articles]
    corpus.close()
    return outcomes


# --- the real scrapy command ------------------------------------------------------

#: the test being run (set by the hook in tests/conftest.py), for the e2e check
_current_test: pytest.Item | None = None


def set_current_test(item: pytest.Item | None) -> None:
    global _current_test
    _current_test = item


def scrapy_argv(*args: str) -> list[str]:
    """The command line of this venv's ``scrapy`` with ``args``; fails the
    current test unless it is marked ``e2e`` (it is about to start a process)."""
    item = _current_test
    if item is not None and item.get_closest_marker("e2e") is None:
        pytest.fail(
            f"{item.nodeid} starts a scrapy process (scrapy {' '.join(args)}) but is not "
            "marked e2e: add @pytest.mark.e2e (or pytestmark = pytest.mark.e2e), so that "
            "make test-fast leaves it out",
            pytrace=False,
        )
    return [sys.executable, "-m", "scrapy", *args]


def run_scrapy(*args: str, cwd: Path = ROOT, timeout: int = 180) -> subprocess.CompletedProcess:
    """Run the real ``scrapy`` command of this venv as a subprocess (e2e tests only)."""
    env = dict(os.environ, PYTHONWARNINGS="error::DeprecationWarning:scrapy")
    return subprocess.run(
        scrapy_argv(*args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str
    db_path: Path

    @property
    def db(self) -> sqlite_utils.Database:
        return sqlite_utils.Database(self.db_path)

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        return list(self.db.query(sql, params or []))


def scrapy_crawl(
    spider: str, db_path: Path, *, settings: dict | None = None, **spider_args: str
) -> CrawlResult:
    """``scrapy crawl spider -s CORPUS_DB=db_path -s K=V ... -a k=v ...`` (e2e tests only)."""
    cmd = ["crawl", spider, "-s", f"CORPUS_DB={db_path}"]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in spider_args.items():
        cmd += ["-a", f"{key}={value}"]
    proc = run_scrapy(*cmd)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr, db_path)


def crawl_stats(result: CrawlResult, crawl_id: int | None = None) -> dict:
    """The stats of the latest crawl in the result's corpus (or of ``crawl_id``)."""
    rows = result.rows("select stats from crawls order by id desc")
    if crawl_id is not None:
        rows = result.rows("select stats from crawls where id = ?", [crawl_id])
    return json.loads(rows[0]["stats"])
