"""Only what is new: since when a source is new.

Pure: no Scrapy. Reads the corpus through its own read-only connection
(WAL lets it read while the crawl's writer writes): the start of the last
crawl of a source that finished normally. (Which URLs a crawl can skip is the
writer's :meth:`crawler.storage.corpus.Corpus.is_known_url`.)
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any


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
