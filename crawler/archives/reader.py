"""Reading a WARC file on a thread of its own, handing records over in batches.

The crawl's event loop must never inflate gzip nor parse WARC: a
:class:`BackgroundReader` runs :func:`~crawler.archives.records.read_records`
on a daemon thread and puts the records, a batch at a time, in a bounded
queue. A full queue blocks the thread (back-pressure: memory stays flat
however large the file); :meth:`BackgroundReader.get` is called from a worker
thread of the loop (``asyncio.to_thread``) and returns the next batch, or
``None`` at the end, or the exception that stopped the file.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

from crawler.archives.filters import RecordFilter
from crawler.archives.records import Opener, Record, read_records

#: a batch closes at this many records or payload bytes, whichever comes first
BATCH_RECORDS = 64
BATCH_BYTES = 4 << 20
#: batches waiting in the queue, at most
QUEUE_BATCHES = 4


@dataclass
class End:
    """The last item of the queue: why reading stopped (``error`` None: the end)."""

    error: BaseException | None = None


class BackgroundReader:
    def __init__(
        self,
        open_at: Opener,
        *,
        start: int = 0,
        keep: RecordFilter | None = None,
        skip: frozenset[int] = frozenset(),
        gzipped: bool = True,
        name: str = "warc-reader",
    ) -> None:
        self._args = (open_at, start, keep, skip, gzipped)
        self._queue: queue.Queue[list[Record] | End] = queue.Queue(QUEUE_BATCHES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._ended = False

    def start(self) -> BackgroundReader:
        self._thread.start()
        return self

    def _put(self, item: list[Record] | End) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        open_at, start, keep, skip, gzipped = self._args
        batch: list[Record] = []
        size = 0
        try:
            for record in read_records(open_at, start=start, keep=keep, skip=skip, gzipped=gzipped):
                batch.append(record)
                size += len(record.body)
                if len(batch) >= BATCH_RECORDS or size >= BATCH_BYTES:
                    if not self._put(batch):
                        return
                    batch, size = [], 0
        except Exception as exc:  # noqa: BLE001 - handed to the crawl, which records it
            if batch and not self._put(batch):
                return
            self._put(End(exc))
            return
        if batch and not self._put(batch):
            return
        self._put(End())

    def get(self) -> list[Record] | BaseException | None:
        """The next batch (blocking); ``None`` at the end of the file, or the
        exception that stopped reading it."""
        if self._ended:
            return None
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set() or not self._thread.is_alive():
                    if self._queue.empty():
                        self._ended = True
                        return None
                continue
            if isinstance(item, End):
                self._ended = True
                return item.error
            return item

    def stop(self) -> None:
        """Stop reading (the thread ends at its next batch)."""
        self._stop.set()
