"""Only what is new: which URLs a crawl can skip, and since when a source is new.

Pure: no Scrapy. Reads the corpus through its own read-only connection
(WAL lets it read while the crawl's writer writes). A URL is *known* when it
is an article (by canonical or fetched URL), a recorded duplicate, or a
permanent failure (HTTP 404 or 410, or a page that was not an article):
fetching it again would only produce the same row. Transient failures
(timeouts, 5xx) are retried on the next crawl.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.urls import canonical_url

#: failure stages and statuses that will not change on a second try.
PERMANENT_STATUSES = (404, 410)
PERMANENT_STAGES = ("parse", "extract", "validate")


class SeenIndex:
    """Answers "is this URL already in the corpus?" from SQLite, per URL."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(db_path)
        self.conn: sqlite3.Connection | None = None
        if self.path.exists():
            self.conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30
            )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _tables(self) -> set[str]:
        assert self.conn is not None
        return {
            r[0] for r in self.conn.execute("select name from sqlite_master where type='table'")
        }

    def known(self, url: str) -> str | None:
        """Why ``url`` needs no download (``article``, ``duplicate``, ``failed``), or None."""
        if self.conn is None:
            return None
        canon = canonical_url(url)
        try:
            row = self.conn.execute(
                "select 'article' from articles where url in (?, ?) or fetched_url in (?, ?) "
                "union all select 'duplicate' from duplicates where url in (?, ?) or fetched_url in (?, ?) "
                "limit 1",
                [canon, url, canon, url, canon, url, canon, url],
            ).fetchone()
            if row:
                return str(row[0])
            marks = ",".join("?" * len(PERMANENT_STAGES))
            row = self.conn.execute(
                f"select 'failed' from failures where url in (?, ?) and "
                f"(http_status in (404, 410) or stage in ({marks})) limit 1",
                [url, canon, *PERMANENT_STAGES],
            ).fetchone()
        except sqlite3.OperationalError:
            return None  # an empty or older corpus: nothing is known
        return str(row[0]) if row else None


def _query(db_path: str | Path | None, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of a read-only query; none when the corpus or its tables do not exist."""
    if not db_path or not Path(db_path).exists():
        return []
    conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def last_success(db_path: str | Path | None, spider: str, args: dict[str, Any]) -> datetime | None:
    """Start time of the last crawl of this source that finished normally."""
    rows = _query(
        db_path,
        "select max(started_at) from crawls where spider = ? and args = ? "
        "and finish_reason = 'finished' and finished_at is not null",
        [spider, json.dumps(args, sort_keys=True, default=str)],
    )
    return datetime.fromisoformat(rows[0][0]) if rows and rows[0][0] else None


def last_source_success(db_path: str | Path, config: str, name: str) -> datetime | None:
    """Start of the last ``sources`` crawl of ``config`` that finished normally
    and included source ``name`` (all enabled sources, or ``-a only=`` naming it)."""
    rows = _query(
        db_path,
        "select args, started_at from crawls where spider = 'sources' "
        "and finish_reason = 'finished' and finished_at is not null "
        "order by started_at desc",
        [],
    )
    for args_json, started in rows:
        args = json.loads(args_json or "{}")
        if args.get("config", "sources.toml") != config:
            continue
        only = [n.strip() for n in str(args.get("only") or "").split(",") if n.strip()]
        if not only or name in only:
            return datetime.fromisoformat(started)
    return None
