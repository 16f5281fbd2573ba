"""How far a WARC file has been read, counting only what has been stored.

A file's progress is ``offset`` (reading resumes at this byte: every record
before it is done) and ``done`` (records past ``offset`` that are done too,
since pages are cleaned in parallel and finish out of order), plus whether
the whole file is ``finished``. A record is *done* once its outcome (an
article, a duplicate, a failure row, or nothing to store) is queued in the
corpus: the corpus writes the progress in the same transaction as those
rows (:meth:`crawler.storage.corpus.Corpus.queue_with_batch`), so what the
corpus says was read is exactly what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    location: str
    offset: int = 0
    done: frozenset[int] = frozenset()
    finished: bool = False


@dataclass
class FileProgress:
    """The progress of one file while it is read; :meth:`snapshot` is what
    may be written (the records of every snapshot are done)."""

    location: str
    #: where this run started reading, and what an earlier run had done past it
    start: int = 0
    done: set[int] = field(default_factory=set)
    _pending: dict[int, None] = field(default_factory=dict)  # in reading order
    _head: int = 0  # offset of the latest record read
    _finished_reading: bool = False
    #: a record's outcome could not be stored: the progress stays at it
    _frozen: Progress | None = None

    def __post_init__(self) -> None:
        self._head = self.start

    @classmethod
    def resume(cls, saved: Progress | None, location: str) -> FileProgress:
        if saved is None:
            return cls(location)
        return cls(location, saved.offset, set(saved.done))

    def read(self, offset: int, handed_on: bool) -> None:
        """A record at ``offset`` was read; ``handed_on``: it waits for an outcome."""
        self._head = offset
        if handed_on:
            self._pending[offset] = None

    def finished(self, offset: int) -> None:
        """The record at ``offset`` has its outcome queued in the corpus."""
        self._pending.pop(offset, None)
        self.done.add(offset)

    def failed(self, offset: int) -> None:
        """The record at ``offset`` lost its outcome: keep every later snapshot
        where it is (a later run reads the file again from there)."""
        if self._frozen is None:
            self._frozen = self.snapshot()
        self._pending.pop(offset, None)

    def end_of_file(self) -> None:
        self._finished_reading = True

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def complete(self) -> bool:
        return self._finished_reading and not self._pending and self._frozen is None

    def snapshot(self) -> Progress:
        if self._frozen is not None:
            return self._frozen
        if self.complete:
            return Progress(self.location, self._head, frozenset(), True)
        offset = next(iter(self._pending), self._head)
        self.done = {o for o in self.done if o >= offset}
        return Progress(self.location, offset, frozenset(self.done), False)
