"""The records of one WARC file, as plain values.

:func:`read_records` walks a file with FastWARC (a Rust extension: gzip,
WARC and HTTP headers parsed outside Python; see the README for the
measurement against warcio) and yields one :class:`Record` per WARC record:

* ``page``: a ``response`` record with an HTTP 200 HTML payload, with its
  payload (the bytes a web crawl would have downloaded), to be cleaned;
* every other record, without a payload, named for why it is skipped
  (``warcinfo``, ``request``, ``metadata``, ``revisit``, ``resource``, ...,
  ``not_http``, ``not_html``, ``status_3xx``, the filters' ``host`` and
  ``date``, ``resumed`` for a record an earlier run stored);
* ``truncated``: an HTML response whose payload the archive cut short
  (``WARC-Truncated``, or the file ends inside it);
* ``unreadable``: a record that cannot be parsed. Reading goes on at the next
  gzip member that holds a readable record (one member per record, as Common
  Crawl writes them); in an uncompressed file, or with none left, the file ends there.

Filters are decided from the WARC headers: a record filtered out has its
payload skipped, never decoded. Offsets are those of the file as stored (of
the record's gzip member in a ``.warc.gz``): :class:`~crawler.archives.progress.FileProgress`
keeps them, and reading resumes at one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from crawler.archives.filters import RecordFilter

#: opens the file at a byte offset (a local seek, or an http Range request);
#: the stream's ``tell()`` counts from the start of the file (FastWARC calls it)
Opener = Callable[[int], BinaryIO]

_SNIFF = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta)", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: how far past an unreadable record to look for the next gzip member
RESYNC_WINDOW = 64 << 20
GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass
class Record:
    offset: int
    kind: str  # page, truncated, unreadable, or why the record is skipped
    url: str | None = None
    date: str | None = None  # WARC-Date, ISO 8601 in UTC
    body: bytes = b""
    content_type: str | None = None
    charset: str | None = None
    status: int | None = None
    #: for ``unreadable`` and ``truncated``: what is wrong, in words
    reason: str | None = None


def iso(when: datetime | None) -> str | None:
    """``when`` in UTC, ISO 8601; ``None`` for a date UTC cannot hold (a
    WARC-Date of year 1 east of Greenwich, of year 9999 west of it)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC).isoformat(timespec="seconds")
    except OverflowError:
        return None


def _date(rec: WarcRecord) -> datetime | None:
    try:
        return rec.record_date
    except (ValueError, OSError):
        return None


def target_uri(value: str | None) -> str:
    """A WARC-Target-URI without blanks around it nor the ``<...>`` that the
    examples of the WARC/1.1 standard put around it (some writers copy them)."""
    url = (value or "").strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].strip()
    return url


def _is_html(ctype: str | None, body: bytes) -> bool:
    ctype = (ctype or "").split(";")[0].strip().lower()
    if ctype:
        return ctype in _HTML_TYPES
    return bool(_SNIFF.match(body[:512]))


def classify(rec: WarcRecord, offset: int, keep: RecordFilter) -> Record:
    """One record, its payload read only when it is an HTML page that the filters keep."""
    rtype = rec.record_type
    if rtype != WarcRecordType.response:
        return Record(offset, str(rtype), rec.headers.get("WARC-Target-URI"))
    url = target_uri(rec.headers.get("WARC-Target-URI"))
    when = _date(rec)
    out = Record(offset, "page", url, iso(when))
    why = keep.why_not(url, when)
    if why:
        out.kind = why
        return out
    if not rec.is_http or not url:
        out.kind = "not_http"
        return out
    rec.parse_http(auto_decode="all")
    out.status = rec.http_headers.status_code
    if out.status != 200:
        out.kind = f"status_{out.status // 100}xx" if out.status else "not_http"
        return out
    # the header as sent (with its charset), as a web crawl's page keeps it
    out.content_type = rec.http_headers.get("Content-Type") or rec.headers.get(
        "WARC-Identified-Payload-Type"
    )
    out.charset = rec.http_charset
    declared = rec.content_length
    body = rec.reader.read()
    if not _is_html(out.content_type, body):
        out.kind = "not_html"
        return out
    cut = rec.headers.get("WARC-Truncated")
    if cut or len(body) < declared:
        out.kind = "truncated"
        out.reason = (
            f"the archive kept only part of this page (WARC-Truncated: {cut})"
            if cut
            else f"the file ends inside this record ({len(body)} of {declared} bytes)"
        )
        return out
    out.body = body
    return out


def read_records(
    open_at: Opener,
    *,
    start: int = 0,
    keep: RecordFilter | None = None,
    skip: frozenset[int] = frozenset(),
    gzipped: bool = True,
) -> Iterator[Record]:
    """Every record of the file from byte ``start`` on, in order.

    ``skip``: offsets of records an earlier run stored (yielded as ``resumed``,
    their payload unread). ``gzipped``: the file is a ``.warc.gz``, so that an
    unreadable record can be stepped over to the next gzip member.
    """
    keep = keep or RecordFilter()
    position: int | None = start
    while position is not None:
        stream = open_at(position)
        resume_at: int | None = None
        last = None  # the offset of the latest record read
        reported = False  # ... and it was yielded as unreadable
        try:
            for rec in ArchiveIterator(stream, parse_http=False):
                offset = rec.stream_pos  # the stream's tell(): offsets in the file
                if not rec.headers.get("WARC-Type"):
                    out = _unreadable(offset, f"at byte offset {offset}", "no WARC headers")
                elif offset in skip:
                    out = Record(offset, "resumed", rec.headers.get("WARC-Target-URI"))
                else:
                    out = _classified(rec, offset, keep)
                last, reported = offset, out.kind == "unreadable"
                yield out
        except StreamError:
            raise
        except (OSError, ValueError) as exc:
            if last is None:
                bad = position
                yield _unreadable(bad, f"at byte offset {bad}", exc)
            elif reported:  # the record just reported: reading cannot go on past it
                bad = last
            else:  # in a .warc.gz, the bad record is the next gzip member
                found = _find_magic(open_at, last + 1) if gzipped else None
                bad = last + 1 if found is None else found
                where = f"after the record at byte offset {last}"
                yield _unreadable(bad, where if found is None else f"at byte offset {bad}", exc)
            if gzipped:
                resume_at = _next_member(open_at, bad + 1)
        finally:
            stream.close()
        position = resume_at


def _classified(rec: WarcRecord, offset: int, keep: RecordFilter) -> Record:
    """:func:`classify`, or ``unreadable`` for a record whose HTTP message or
    payload cannot be decoded (the next record is still read). Whatever one
    record's headers make go wrong, it is that record's failure: never the
    end of the file's other records."""
    try:
        return classify(rec, offset, keep)
    except Exception as exc:  # noqa: BLE001 - one record's fault, reported as its own
        out = _unreadable(offset, f"at byte offset {offset}", exc)
        out.url = rec.headers.get("WARC-Target-URI")
        return out


def _unreadable(offset: int, where: str, why: object) -> Record:
    return Record(offset, "unreadable", reason=f"the WARC record {where} cannot be read: {why}")


class StreamError(OSError):
    """The file could not be read any further (a connection that broke for
    good): not a fault of the record being read."""


def _next_member(open_at: Opener, start: int) -> int | None:
    """The offset of the next gzip member at or after ``start`` whose first
    record reads, within :data:`RESYNC_WINDOW`; ``None`` if there is none."""
    limit = start + RESYNC_WINDOW
    candidate = _find_magic(open_at, start, limit)
    while candidate is not None:
        if _readable_at(open_at, candidate):
            return candidate
        candidate = _find_magic(open_at, candidate + 1, limit)
    return None


def _find_magic(open_at: Opener, start: int, limit: int | None = None) -> int | None:
    """Where the next gzip member header is, at or after ``start``."""
    limit = start + RESYNC_WINDOW if limit is None else limit
    stream = open_at(start)
    try:
        position, tail = start, b""
        while position < limit:
            chunk = stream.read(1 << 16)
            if not chunk:
                return None
            data = tail + chunk
            at = data.find(GZIP_MAGIC)
            if at >= 0:
                return position - len(tail) + at
            tail = data[-(len(GZIP_MAGIC) - 1) :]
            position += len(chunk)
        return None
    finally:
        stream.close()


def _readable_at(open_at: Opener, offset: int) -> bool:
    stream = open_at(offset)
    try:
        for rec in ArchiveIterator(stream, parse_http=False):
            return bool(rec.headers.get("WARC-Type")) and rec.stream_pos == offset
        return False
    except (OSError, ValueError):
        return False
    finally:
        stream.close()
