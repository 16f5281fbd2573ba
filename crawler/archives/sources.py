"""Where the WARC files are, and how to read them as streams.

``path``: files (``.warc``, ``.warc.gz``), folders of them (recursive, sorted)
or http(s) URLs. ``paths``: a ``warc.paths`` or ``warc.paths.gz`` listing (a
file or a URL), one file a line; relative entries resolve against
``WARC_BASE_URL``. ``ccnews``: ``YYYY-MM`` or ``YYYY-MM..YYYY-MM``, the
months' listings ``crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz`` under
``WARC_BASE_URL`` (CC-NEWS starts in 2016-08).

Remote files are read as they arrive (:class:`HttpStream`): never held whole
in memory nor written to disk; a broken connection, or a run resumed in the
middle of a file, continues with an http ``Range`` request at the byte it
stopped at.
"""

from __future__ import annotations

import gzip
import http.client
import io
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from crawler.archives.records import StreamError
from crawler.netsafety import address_refusal

logger = logging.getLogger(__name__)

WARC_SUFFIXES = (".warc", ".warc.gz")
CCNEWS_FIRST = (2016, 8)
CCNEWS_LISTING = "crawl-data/CC-NEWS/{year:04d}/{month:02d}/warc.paths.gz"
#: the largest listing read (a month of CC-NEWS lists a few hundred files)
MAX_LISTING = 64 << 20


class SourceError(ValueError):
    """An argument names no readable WARC file or listing; ``str(exc)`` says why."""


def is_url(value: str) -> bool:
    return urlsplit(value).scheme.lower() in ("http", "https")


def is_warc_name(name: str) -> bool:
    return name.lower().endswith(WARC_SUFFIXES)


def is_gzipped(location: str) -> bool:
    return (
        urlsplit(location).path.lower().endswith(".gz")
        if is_url(location)
        else (location.lower().endswith(".gz"))
    )


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def expand_paths(value: str | None) -> list[str]:
    """The ``path`` argument: each WARC file (absolute path or URL), in order."""
    out: list[str] = []
    for item in split_list(value):
        if is_url(item):
            out.append(item)
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and is_warc_name(p.name))
            if not found:
                raise SourceError(f"folder {item!r} holds no .warc or .warc.gz files")
            out += [str(p.resolve()) for p in found]
        elif path.is_file():
            if not is_warc_name(path.name):
                raise SourceError(f"path {item!r} is not a .warc or .warc.gz file")
            out.append(str(path.resolve()))
        else:
            raise SourceError(f"path {item!r} does not exist")
    if not out:
        raise SourceError("give path as -a path=FILE_OR_FOLDER_OR_URL[,...]")
    return out


def listing_entries(data: bytes, base_url: str) -> list[str]:
    """The files a ``warc.paths`` listing names (gzipped or not), resolved
    against ``base_url`` unless absolute."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    base = base_url if base_url.endswith("/") else base_url + "/"
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(line if is_url(line) or line.startswith("/") else urljoin(base, line))
    return out


def parse_months(spec: str) -> list[tuple[int, int]]:
    """``2024-01`` or ``2023-11..2024-02`` -> the months, in order."""
    first, sep, last = spec.strip().partition("..")
    try:
        start = _month(first)
        end = _month(last) if sep else start
    except ValueError:
        raise SourceError(f"ccnews: expected YYYY-MM or YYYY-MM..YYYY-MM, got {spec!r}") from None
    if end < start:
        raise SourceError(f"ccnews: {last} is before {first}")
    if start < CCNEWS_FIRST:
        raise SourceError(f"ccnews: CC-NEWS starts in {CCNEWS_FIRST[0]}-{CCNEWS_FIRST[1]:02d}")
    months = []
    year, month = start
    while (year, month) <= end:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month(text: str) -> tuple[int, int]:
    year, _, month = text.strip().partition("-")
    if len(year) != 4 or not 1 <= len(month) <= 2:
        raise ValueError(text)
    y, m = int(year), int(month)
    if not 1 <= m <= 12:
        raise ValueError(text)
    return y, m


def ccnews_listings(spec: str, base_url: str) -> list[str]:
    base = base_url if base_url.endswith("/") else base_url + "/"
    return [urljoin(base, CCNEWS_LISTING.format(year=y, month=m)) for y, m in parse_months(spec)]


@dataclass(frozen=True)
class Access:
    """How remote files are fetched."""

    user_agent: str = "newscorpus-crawler"
    allow_private: bool = False
    timeout: float = 60.0
    #: reconnections (with Range) a stream tries after a broken connection
    retries: int = 3

    def check(self, url: str) -> None:
        """Refuse (OSError) a URL whose host is a non-public address, unless allowed."""
        if self.allow_private:
            return
        host = urlsplit(url).hostname or ""
        try:
            addresses = [info[4][0] for info in socket.getaddrinfo(host, None)]
        except OSError as exc:
            raise StreamError(f"host name not found (DNS lookup failed): {host}: {exc}") from None
        refusal = address_refusal(host, [str(a) for a in addresses])
        if refusal:
            raise StreamError(refusal)


def read_listing(location: str, access: Access, base_url: str) -> list[str]:
    """The entries of a listing file or URL (OSError when it cannot be read)."""
    if is_url(location):
        stream = HttpStream(location, 0, access)
        try:
            data = stream.read(MAX_LISTING + 1)
        finally:
            stream.close()
    else:
        with open(location, "rb") as f:
            data = f.read(MAX_LISTING + 1)
    if len(data) > MAX_LISTING:
        raise OSError(f"{location} is larger than {MAX_LISTING} bytes: not a warc.paths listing")
    try:
        return listing_entries(data, base_url)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise OSError(f"{location} is not a readable listing: {exc}") from None


def open_at(location: str, offset: int, access: Access) -> BinaryIO:
    """``location`` (a path or an http(s) URL) as a stream from byte ``offset``,
    whose ``tell()`` counts from the file's start."""
    if is_url(location):
        return HttpStream(location, offset, access)  # type: ignore[return-value]
    f = open(location, "rb")
    f.seek(offset)
    return f


_BROKEN = (http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout)


class HttpStream(io.RawIOBase):
    """A remote file read as it arrives, from ``offset`` on: one http
    response at a time, a ``Range`` request to start past 0 or to go on after
    a broken connection (up to ``access.retries`` times in a row)."""

    def __init__(self, url: str, offset: int, access: Access) -> None:
        super().__init__()
        self.url = url
        self.position = offset
        self.access = access
        access.check(url)
        self._response: http.client.HTTPResponse | None = None
        self._connect()

    def _connect(self) -> None:
        headers = {"User-Agent": self.access.user_agent, "Accept-Encoding": "identity"}
        if self.position:
            headers["Range"] = f"bytes={self.position}-"
        request = urllib.request.Request(self.url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.access.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # nothing left past the offset
                self._response = None
                return
            raise StreamError(f"the server answered HTTP {exc.code} for {self.url}") from None
        except urllib.error.URLError as exc:
            raise StreamError(f"cannot fetch {self.url}: {exc.reason}") from None
        if self.position and response.status != 206:
            response.close()
            raise StreamError(f"{self.url}: the server ignores Range requests, cannot resume")
        self._response = response

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        attempts = 0
        while True:
            if self._response is None:
                return b""
            broken: BaseException
            try:
                data = self._response.read(size if size is not None and size >= 0 else None)
            except _BROKEN as exc:
                broken = exc
            else:
                if data or size == 0:
                    self.position += len(data)
                    return data
                length = self._response.length
                if not length:  # the whole body arrived
                    return b""
                broken = OSError(f"connection closed with {length} bytes still to come")
            attempts += 1
            if attempts > self.access.retries:
                raise StreamError(
                    f"{self.url}: connection broken at byte {self.position}: {broken}"
                )
            logger.warning(
                "Connection to %s broke at byte %d (%s); resuming", self.url, self.position, broken
            )
            self._response.close()
            time.sleep(min(2.0**attempts, 10.0) / 10)
            self._connect()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None
        super().close()
