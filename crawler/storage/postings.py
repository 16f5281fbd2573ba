"""The posting tables and their staged parts: what the near-duplicate and story
lookups read, and how new postings reach the large tables.

Pure: no Scrapy. Two posting tables (:data:`crawler.storage.schema.POSTINGS`):
``neardup_fingerprints (hash, article_id)`` and ``story_terms (term,
article_id)``. New postings land in the staged part ``<table>_new`` (small, its
pages in the cache) and are folded into the large table in key order
(:meth:`Postings.fold`), a key range at a time at the end of each write
transaction. Lookups read both parts (:func:`_capped_counts_sql`): which part
holds a posting never changes a result.
"""

from __future__ import annotations

from sqlite_utils import Database

from crawler.storage.schema import POSTINGS

#: the staged postings (``*_new``) are folded into the large tables one key
#: range at a time, about 1/FOLD_SLICES of them at the end of each transaction
FOLD_SLICES = 16
#: ... and never hold more than this many rows per table after a transaction
#: (large write batches would otherwise grow the staged part past the cache)
STAGED_MAX = 250_000
_KEY_MIN = -(1 << 63)


def _capped_counts_sql(table: str, key: str, n: int, cap: int) -> str:
    """SQL counting, per article, how many of ``n`` keys (bound as parameters) of
    ``table`` and its staged part ``table_new`` it shares, each key counting
    only its ``cap`` newest articles (over both parts). Columns: article_id, n.

    The oldest counted of a key is the ``cap``-th newest of both parts, merged
    as they come from their indexes (newest first: no sort, at most ``cap``
    rows read), then each part is read from that one on."""
    return (
        f"WITH q(k) AS (VALUES {','.join(['(?)'] * n)}),"
        f" t(k, lo) AS MATERIALIZED (SELECT k, coalesce((SELECT article_id FROM {table}"
        f" WHERE {key} = q.k UNION ALL SELECT article_id FROM {table}_new WHERE {key} = q.k"
        f" ORDER BY 1 DESC LIMIT 1 OFFSET {cap - 1}), 0) FROM q)"
        f" SELECT article_id, count(*) AS n FROM ("
        f"SELECT p.article_id FROM t JOIN {table} p ON p.{key} = t.k AND p.article_id >= t.lo"
        f" UNION ALL SELECT p.article_id FROM t JOIN {table}_new p"
        f" ON p.{key} = t.k AND p.article_id >= t.lo) GROUP BY article_id"
    )


class Postings:
    """Writes the postings of both tables, and folds their staged parts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # staged postings per table (about: only the fold's pace depends on it)
        # and where the next fold starts in the key order
        self.staged = self.count_staged()
        self._fold_from = {table: _KEY_MIN for table, _ in POSTINGS}

    def count_staged(self) -> dict[str, int]:
        """The staged rows of each table, counted (after a rollback, say)."""
        return {
            table: self.db.execute(f"SELECT count(*) FROM {table}_new").fetchone()[0]
            for table, _ in POSTINGS
        }

    def add(self, table: str, key: str, rows: list[tuple[int, int]]) -> None:
        """Stage postings (key, article id) of ``table``."""
        self.staged[table] += self.db.conn.executemany(
            f"INSERT OR IGNORE INTO {table}_new ({key}, article_id) VALUES (?, ?)", rows
        ).rowcount

    def remove(self, table: str, key: str, rows: list[tuple[int, int]]) -> None:
        """Delete postings (key, article id) of ``table``, from both parts."""
        self.db.conn.executemany(f"DELETE FROM {table} WHERE {key} = ? AND article_id = ?", rows)
        self.staged[table] -= self.db.conn.executemany(
            f"DELETE FROM {table}_new WHERE {key} = ? AND article_id = ?", rows
        ).rowcount

    def clear(self) -> None:
        """Delete every posting (a rebuild indexes everything again)."""
        for table, _ in POSTINGS:
            self.db.execute(f"DELETE FROM {table}")
            self.db.execute(f"DELETE FROM {table}_new")
        self.staged = dict.fromkeys(self.staged, 0)

    def fold(self, everything: bool = False) -> int:
        """Move staged postings into the large posting tables: the next key range
        holding about 1/:data:`FOLD_SLICES` of the staged rows (``everything``:
        all of them), inserted in key order. The ranges sweep the key space and
        wrap around, so a staged posting waits about FOLD_SLICES transactions;
        each fold writes a contiguous 1/FOLD_SLICES of the large table's pages.
        Which part holds a posting never changes a result (lookups read both).
        Returns the rows moved."""
        moved = 0
        for table, key in POSTINGS:
            staged = self.staged[table]
            if staged <= 0 and not everything:
                # (the count is kept as rows come and go: look again only if it says none)
                staged = self.staged[table] = self.db.execute(
                    f"SELECT count(*) FROM {table}_new"
                ).fetchone()[0]
                if not staged:
                    continue
            size = max(1, staged // FOLD_SLICES, staged - STAGED_MAX)
            whole = everything or size >= staged  # (a slice as large as the part is all of it)
            for _ in range(2):  # a slice that reaches the last key goes on from the first
                lo = _KEY_MIN if whole else self._fold_from[table]
                hi = None
                if not whole:
                    # the last key of this slice: FOLD_SLICES slices per sweep
                    row = self.db.execute(
                        f"SELECT {key} FROM {table}_new WHERE {key} >= ? ORDER BY {key}"
                        f" LIMIT 1 OFFSET ?",
                        [lo, size - 1],
                    ).fetchone()
                    hi = row[0] if row else None
                where, args = (
                    (f"{key} >= ?", [lo])
                    if hi is None
                    else (f"{key} >= ? AND {key} <= ?", [lo, hi])
                )
                self.db.execute(
                    f"INSERT OR IGNORE INTO {table} ({key}, article_id) SELECT {key}, article_id"
                    f" FROM {table}_new WHERE {where} ORDER BY {key}, article_id",
                    args,
                )
                n = self.db.execute(f"DELETE FROM {table}_new WHERE {where}", args).rowcount
                moved += n
                staged = 0 if whole else max(0, staged - n)
                self.staged[table] = staged
                # the next slice starts after this one; past the last key, from the start
                self._fold_from[table] = _KEY_MIN if hi is None or hi == -_KEY_MIN - 1 else hi + 1
                size -= n
                if whole or hi is not None or size <= 0 or not staged:
                    break
        return moved
