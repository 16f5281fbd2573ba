"""The ``warc_files`` table: how far each WARC file has been read.

One row per file (its path or URL, as the ``warc`` spider was given it or its
listing resolved it): ``offset`` (where reading resumes), ``done`` (a JSON
list of the offsets of records past ``offset`` already stored), ``finished``
(1 once every record is), the crawl that last read it and when. Rows are
written inside the corpus's batch transactions
(:meth:`crawler.storage.corpus.Corpus.queue_with_batch`), so a file's
progress never runs ahead of the rows it stands for. Pure: no Scrapy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from crawler.archives.progress import Progress

TABLE = "warc_files"


def create_table(db: Database) -> None:
    db.table(TABLE).create(
        {
            "location": str,
            "offset": int,
            "done": str,
            "finished": int,
            "crawl_id": int,
            "updated_at": str,
        },
        pk="location",
    )


def load(path: str | Path, locations: list[str]) -> dict[str, Progress]:
    """The saved progress of ``locations`` (those never read are left out),
    read-only on a connection of its own."""
    if not Path(path).exists():
        return {}
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)
    try:
        try:
            rows = conn.execute(f"SELECT location, offset, done, finished FROM {TABLE}").fetchall()
        except sqlite3.OperationalError:  # a corpus from before the table
            return {}
    finally:
        conn.close()
    wanted = set(locations)
    return {
        loc: Progress(loc, offset or 0, frozenset(json.loads(done or "[]")), bool(finished))
        for loc, offset, done, finished in rows
        if loc in wanted
    }


def writer(progress: Progress, crawl_id: int | None) -> Callable[[Database], None]:
    """What :meth:`~crawler.storage.corpus.Corpus.queue_with_batch` runs to save ``progress``."""
    row = {
        "location": progress.location,
        "offset": progress.offset,
        "done": json.dumps(sorted(progress.done)),
        "finished": int(progress.finished),
        "crawl_id": crawl_id,
    }

    def write(db: Database) -> None:
        db.execute(
            f"INSERT INTO {TABLE} (location, offset, done, finished, crawl_id, updated_at)"
            " VALUES (:location, :offset, :done, :finished, :crawl_id, :updated_at)"
            " ON CONFLICT(location) DO UPDATE SET offset = excluded.offset,"
            " done = excluded.done, finished = excluded.finished,"
            " crawl_id = excluded.crawl_id, updated_at = excluded.updated_at",
            {**row, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")},
        )

    return write
