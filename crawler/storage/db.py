"""Connections to the corpus: opening (WAL, migrated), write transactions, errors.

Pure: no Scrapy. Every reader and writer of the corpus opens it through
:func:`open_database`, which applies the pending migrations of
:mod:`crawler.storage.schema` under the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.storage.schema import migrations


class CorpusError(Exception):
    """The corpus cannot be opened or written; ``str(exc)`` says why."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes the write lock up front (``BEGIN IMMEDIATE``).

    With two writers (two crawls of different sources), a deferred ``BEGIN``
    that reads first and then writes fails at once with "database is locked"
    when the other writer committed in between; ``IMMEDIATE`` waits for the
    lock (the connection's busy timeout) instead.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


#: articles of one host, as ranges over the unique index on ``url`` (a
#: ``LIKE 'https://host/%'`` would scan the whole table).
HOST_RANGE = (
    "((url >= ? AND url < ?) OR (url >= ? AND url < ?)"
    " OR (url >= ? AND url < ?) OR (url >= ? AND url < ?))"
)


def host_range(host: str) -> list[str]:
    """Bounds for :data:`HOST_RANGE`: every ``http(s)://host/...`` and
    ``http(s)://host:port/...`` URL (``host:`` sorts after ``host0``, so the
    port gets ranges of its own: ``127.0.0.1`` must not take in ``127.0.0.10``)."""
    return [
        bound
        for scheme in ("http", "https")
        for bound in (
            f"{scheme}://{host}/",
            f"{scheme}://{host}0",
            f"{scheme}://{host}:",
            f"{scheme}://{host};",
        )
    ]


def open_database(path: str | Path, *, busy_timeout: float = 30.0) -> Database:
    """Open (creating if needed) a corpus, in WAL mode, fully migrated.

    Safe when several processes open a new corpus at once: the switch to WAL
    is retried while another connection holds the file, and migrations run
    under the write lock, checked again once it is held.
    """
    path = Path(path)
    if path.exists() and path.is_dir():
        raise CorpusError(f"CORPUS_DB {str(path)!r} is a directory, not a database file")
    if not path.parent.exists():
        raise CorpusError(
            f"cannot create CORPUS_DB {str(path)!r}: folder {str(path.parent)!r} does not exist"
        )
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout, check_same_thread=False)
        db = Database(conn)
        _retry_locked(db.enable_wal, busy_timeout)
        db.execute("PRAGMA synchronous=NORMAL")
        # The dedup and story indexes are read for every new article: keep
        # their pages in memory so the cost stays flat as the corpus grows.
        db.execute("PRAGMA cache_size=-32768")  # 32 MiB
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute("PRAGMA foreign_keys=ON")
        _retry_locked(lambda: _migrate(db), busy_timeout)
    except sqlite3.DatabaseError as exc:
        raise CorpusError(f"cannot open CORPUS_DB {str(path)!r}: {exc}") from None
    return db


def check_writable(db: Database) -> None:
    """Raise :class:`CorpusError` unless the corpus can be written now (a
    read-only file or folder, or another program holding the lock too long).

    ``BEGIN IMMEDIATE`` alone succeeds on a read-only file (SQLite opens it
    read-only without a word): a table is created and rolled back, a write
    that has to reach the file.
    """
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            db.conn.execute("CREATE TABLE _corpus_write_check (x)")
        finally:
            db.conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise CorpusError(f"cannot write to CORPUS_DB: {exc}") from None


def _retry_locked(fn: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fn()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _migrate(db: Database) -> None:
    if not migrations.pending(db):
        return
    with write_transaction(db):
        # Another process may have migrated while this one waited for the lock.
        if migrations.pending(db):
            migrations.apply(db)


class Readers:
    """Read connections per thread: the writer's own connection on the thread
    that opened the corpus, one of its own on any other (a WAL reader never
    waits for the writer)."""

    def __init__(self, db: Database, path: Path, busy_timeout: float) -> None:
        self._db = db
        self._path = path
        self._busy_timeout = busy_timeout
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []

    def execute(self, sql: str, params: list[Any]) -> sqlite3.Cursor:
        if threading.get_ident() == self._owner:
            return self._db.execute(sql, params)
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self._path), timeout=self._busy_timeout, check_same_thread=False
            )
            self._local.conn = conn
            self._conns.append(conn)
        return conn.execute(sql, params)

    def close(self) -> None:
        while self._conns:
            try:
                self._conns.pop().close()
            except sqlite3.Error:
                pass


@dataclass
class Taken:
    """The writes :meth:`WithBatch.take` handed to one batch."""

    writes: dict[str, Callable[[Database], None]]

    def write(self, db: Database) -> None:
        for write in self.writes.values():
            write(db)


class WithBatch:
    """Writes that must commit inside the next batch's transaction, with (never
    before) the rows queued so far. Safe from any thread; a later write with the
    same key replaces a waiting one. (:mod:`crawler.storage.archives` records a
    WARC file's progress so.)"""

    def __init__(self) -> None:
        self._waiting: dict[str, Callable[[Database], None]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._waiting)

    def queue(self, key: str, write: Callable[[Database], None]) -> None:
        with self._lock:
            self._waiting[key] = write

    def take(self) -> Taken:
        with self._lock:
            return Taken(dict(self._waiting))

    def written(self, taken: Taken) -> None:
        """The batch with ``taken`` committed: drop what was not replaced since."""
        with self._lock:
            for key, write in taken.writes.items():
                if self._waiting.get(key) is write:
                    del self._waiting[key]
