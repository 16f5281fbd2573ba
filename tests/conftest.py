from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

#: the real redis-server fixtures (tests/redis_server.py)
pytest_plugins = ["tests.redis_server"]

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


def run_scrapy(*args: str, cwd: Path = ROOT, timeout: int = 180) -> subprocess.CompletedProcess:
    """Run the real ``scrapy`` command of this venv as a subprocess."""
    env = dict(os.environ, PYTHONWARNINGS="error::DeprecationWarning:scrapy")
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def crawl(
    spider: str, db_path: Path, *, settings: dict | None = None, **spider_args: str
) -> CrawlResult:
    cmd = ["crawl", spider, "-s", f"CORPUS_DB={db_path}"]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in spider_args.items():
        cmd += ["-a", f"{key}={value}"]
    proc = run_scrapy(*cmd)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr, db_path)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "corpus.db"


def crawl_stats(result: CrawlResult, crawl_id: int | None = None) -> dict:
    rows = result.rows("select stats from crawls order by id desc")
    if crawl_id is not None:
        rows = result.rows("select stats from crawls where id = ?", [crawl_id])
    return json.loads(rows[0]["stats"])
