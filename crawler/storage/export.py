"""Export the corpus as a dataset: one record per article (``scrapy corpus export``).

No Scrapy. Each record has :data:`FIELDS`: the article's ``id, url, title,
text, author, published, site, language, story_id`` and ``duplicates``, the
URLs of its duplicates (a list; in CSV, separated by spaces: canonical URLs
hold none). Formats:

* ``jsonl``: one JSON object a line, UTF-8, loadable with
  ``datasets.load_dataset("json", data_files=FILE)``;
* ``csv``: a header line, then one row per article;
* ``parquet``: through pyarrow (the ``parquet`` extra), imported only then.

Records stream from one SQLite cursor in ``id`` order and are written in
batches, so memory stays flat however large the corpus. The output is
written to a temporary file beside ``out`` and renamed at the end: an
export that fails leaves no half-written file.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FIELDS = (
    "id",
    "url",
    "title",
    "text",
    "author",
    "published",
    "site",
    "language",
    "story_id",
    "duplicates",
)
FORMATS = ("jsonl", "csv", "parquet")
#: rows per Parquet row group (held in memory while it is built)
BATCH = 500


class ExportError(Exception):
    """The export cannot run; ``str(exc)`` says why in one line."""


@dataclass(frozen=True)
class Filters:
    """Which articles: published on or after ``since`` (an ISO date; undated
    articles are left out then), of ``site`` (the outlet name as stored, or
    a host name, which takes in its subdomains), of story ``story``."""

    since: str | None = None
    site: str | None = None
    story: int | None = None

    def __post_init__(self) -> None:
        if self.since is not None:
            try:
                date.fromisoformat(self.since[:10])
            except ValueError:
                raise ExportError(f"--since {self.since!r} is not a date (YYYY-MM-DD)") from None

    def sql(self) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            where.append("a.published >= ?")
            params.append(self.since)
        if self.story is not None:
            where.append("a.story_id = ?")
            params.append(self.story)
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def keeps(self, row: dict[str, Any]) -> bool:
        if self.site is None:
            return True
        wanted = self.site.strip().lower()
        if (row.get("site") or "").lower() == wanted:
            return True
        host = (urlsplit(row["url"] or "").hostname or "").lower()
        return host == wanted or host.endswith("." + wanted)


def records(conn: sqlite3.Connection, filters: Filters = Filters()) -> Iterator[dict[str, Any]]:
    """The articles that ``filters`` keep, in id order, each with its duplicates' URLs."""
    where, params = filters.sql()
    cur = conn.execute(
        "SELECT a.id, a.url, a.title, a.text, a.author, a.published, a.site, a.language,"
        " a.story_id, (SELECT json_group_array(url) FROM (SELECT d.url FROM duplicates d"
        " WHERE d.article_id = a.id ORDER BY d.id)) AS duplicates"
        f" FROM articles a{where} ORDER BY a.id",
        params,
    )
    names = [d[0] for d in cur.description]
    for row in cur:  # one row at a time from SQLite
        record = dict(zip(names, row, strict=True))
        record["duplicates"] = json.loads(record["duplicates"] or "[]")
        if filters.keeps(record):
            yield record


def _write_jsonl(rows: Iterator[dict[str, Any]], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_csv(rows: Iterator[dict[str, Any]], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(dict(row, duplicates=" ".join(row["duplicates"])))
            n += 1
    return n


def pyarrow_modules() -> tuple[Any, Any]:
    """``pyarrow`` and ``pyarrow.parquet``, or :class:`ExportError` saying how to get them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ExportError(
            "--format parquet needs pyarrow: pip install 'newscorpus-crawler[parquet]'"
            " (from a checkout: .venv/bin/pip install -e '.[parquet]')"
        ) from None
    return pyarrow, pyarrow.parquet


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    pa, pq = pyarrow_modules()
    text = pa.string()
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("url", text),
            ("title", text),
            ("text", text),
            ("author", text),
            ("published", text),
            ("site", text),
            ("language", text),
            ("story_id", pa.int64()),
            ("duplicates", pa.list_(text)),
        ]
    )
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}


def export(
    conn: sqlite3.Connection, fmt: str, out: str | Path, filters: Filters = Filters()
) -> int:
    """Write the articles ``filters`` keep to ``out`` as ``fmt``; returns how many."""
    if fmt not in _WRITERS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "parquet":
        pyarrow_modules()  # fail before reading anything
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {str(out)!r} is a directory")
    if not out.parent.exists():
        raise ExportError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # as an ordinary new file (mkstemp makes it private)
    try:
        n = _WRITERS[fmt](records(conn, filters), tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n
