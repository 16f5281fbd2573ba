"""Bodies and URLs a crawl must not take as they come.

* :class:`IntegrityMiddleware` refuses, each with a ``failures`` row saying why,
  a URL longer than ``URLLENGTH_LIMIT`` (Scrapy's own spider middleware drops it
  with an INFO line only, and is turned off), a local file (``file://``) larger
  than ``DOWNLOAD_MAXSIZE`` or that is no regular file (a FIFO would block the
  crawl), and, on the way back before ``HttpCompressionMiddleware``, a gzip
  body that is cut short or corrupt (Scrapy would decompress what there is
  and store a partial article) or a local ``.gz`` file that is. A charset
  Python knows but cannot decode a page with (``undefined``, ``idna``,
  ``rot13``) is dropped from the response (Scrapy's ``response.text`` would
  raise in every middleware and callback that reads it, and lose the page).
* :class:`RetryAfterMiddleware` waits for a 503 or 429 answer's ``Retry-After``
  (seconds or an HTTP date, at most ``CORPUS_RETRY_AFTER_MAX``) before Scrapy's
  RetryMiddleware retries it, and pauses the host's download slot for as long:
  the other pages of that host wait too, instead of asking a busy server again
  at once.

Each refusal raises :class:`crawler.downloadermiddlewares.safety.Refused`, which
reaches the request's errback and so becomes a ``failures`` row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import time
import zlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy import signals
from scrapy.http import TextResponse
from w3lib.encoding import resolve_encoding

from crawler.config import Config
from crawler.downloadermiddlewares.safety import Refused

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

try:  # Scrapy 2.13+: asyncio- and Twisted-reactor safe
    from scrapy.utils.asyncio import call_later as _call_later
except ImportError:  # pragma: no cover - older Scrapy

    def _call_later(delay: float, func: Any, *args: Any) -> Any:
        from twisted.internet import reactor

        return reactor.callLater(delay, func, *args)  # type: ignore[attr-defined]


GZIP_ENCODINGS = frozenset({b"gzip", b"x-gzip"})
_CHARSET = re.compile(rb";\s*charset\s*=\s*[\"']?([^\"';\s]*)[\"']?", re.IGNORECASE)
RETRY_AFTER_STATUSES = frozenset({429, 503})
_CHUNK = 256 * 1024


def gzip_problem(body: bytes, limit: int, *, size_checked_later: bool = True) -> str | None:
    """What is wrong with gzip ``body`` (a sentence), or ``None`` when it is whole.

    Decompresses in chunks, keeping nothing, so checking a bomb costs no memory.
    More than ``limit`` bytes of output is left for the size check to report
    (HttpCompressionMiddleware's), unless ``size_checked_later`` is false (a
    local file, which nothing else bounds): then it is the problem.
    """
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data, total = body, 0
    try:
        while True:
            out = d.decompress(data, _CHUNK)
            total += len(out)
            if total > limit:
                if size_checked_later:
                    return None
                return f"larger than DOWNLOAD_MAXSIZE once decompressed (more than {limit} bytes)"
            data = d.unconsumed_tail
            if d.eof:
                rest = d.unused_data.lstrip(b"\0")
                if not rest:
                    return None
                d, data = zlib.decompressobj(16 + zlib.MAX_WBITS), rest  # another member
            elif not data:
                return (
                    f"corrupt gzip: the compressed data ends early (truncated after "
                    f"{len(body)} bytes, {total} decompressed); a partial page is not stored"
                )
    except zlib.error as exc:
        return f"corrupt gzip: the compressed data cannot be read ({exc})"


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """``Retry-After``: delta seconds or an HTTP date; ``None`` when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def undecodable_charset(label: str | None) -> bool:
    """Is ``label`` a charset Python knows but cannot decode text with? (An
    unknown label is not: Scrapy and the cleaning pass over it.)"""
    name = resolve_encoding(label) if label else None
    if name is None:
        return False
    try:
        b"<html>".decode(name, "replace")
    except (UnicodeError, LookupError):  # undefined, idna; rot13 and base64 are no text codecs
        return True
    return False


def local_path(url: str) -> str:
    return unquote(urlsplit(url).path)


class IntegrityMiddleware:
    def __init__(self, crawler: Crawler, url_limit: int, max_size: int) -> None:
        self.crawler = crawler
        self.url_limit = url_limit
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IntegrityMiddleware:
        settings = crawler.settings
        return cls(crawler, settings.getint("URLLENGTH_LIMIT"), settings.getint("DOWNLOAD_MAXSIZE"))

    def _max_size(self, request: Request) -> int:
        return int(request.meta.get("download_maxsize") or self.max_size or 0)

    def _refuse(self, request: Request, kind: str, reason: str) -> None:
        self.crawler.stats.inc_value(f"integrity/refused/{kind}")
        logger.warning("Not taking %s: %s", request.url[:200], reason)
        raise Refused(reason)

    def process_request(self, request: Request) -> None:
        if self.url_limit and len(request.url) > self.url_limit:
            self._refuse(
                request,
                "url_length",
                f"URL too long: {len(request.url)} characters, more than URLLENGTH_LIMIT "
                f"({self.url_limit}); not fetched",
            )
        if request.url.startswith("file:"):
            self._check_file(request)

    def _check_file(self, request: Request) -> None:
        path = local_path(request.url)
        try:
            info = os.stat(path)
        except OSError:
            return  # the download itself fails and says why (not found, no permission)
        if not stat.S_ISREG(info.st_mode):
            self._refuse(
                request, "not_a_file", f"not a regular file (a folder, FIFO or device): {path}"
            )
        limit = self._max_size(request)
        if limit and info.st_size > limit:
            self._refuse(
                request,
                "file_size",
                f"file larger than DOWNLOAD_MAXSIZE: {info.st_size} bytes, more than "
                f"{limit}; not read",
            )

    def process_response(self, request: Request, response: Response) -> Any:
        limit = self._max_size(request) or 1 << 62
        encoding = (response.headers.get("Content-Encoding") or b"").strip().lower()
        if encoding in GZIP_ENCODINGS and request.method != "HEAD" and response.body:
            problem = gzip_problem(response.body, limit)
            if problem:
                self._refuse(request, "corrupt_gzip", problem)
        elif request.url.startswith("file:") and local_path(request.url).lower().endswith(".gz"):
            problem = gzip_problem(response.body, limit, size_checked_later=False)
            if problem:
                self._refuse(request, "corrupt_gzip", f"{problem} (local file)")
        if isinstance(response, TextResponse):
            return self._readable(response, compressed=bool(encoding))
        return response

    def _readable(self, response: TextResponse, compressed: bool) -> TextResponse:
        """``response`` without a charset it cannot be decoded with: the header's
        is dropped, and a page's own (``<meta charset>``, seen unless the body is
        still compressed) gives way to UTF-8."""
        ctype = response.headers.get("Content-Type") or b""
        m = _CHARSET.search(ctype)
        label = m.group(1).decode("latin-1") if m else None
        ignored = None
        if m and undecodable_charset(label):
            headers = response.headers.copy()
            headers["Content-Type"] = ctype[: m.start()] + ctype[m.end() :]
            response = response.replace(headers=headers, encoding=None)
            ignored = label
        if not compressed and undecodable_charset(response.encoding):
            ignored = response.encoding
            response = response.replace(encoding="utf-8")
        if ignored is None:
            return response
        self.crawler.stats.inc_value("integrity/undecodable_charset")
        logger.info("%s declares charset %r, which decodes no text: ignored", response.url, ignored)
        return response


class RetryAfterMiddleware:
    """Waits out ``Retry-After`` before the retry RetryMiddleware schedules."""

    def __init__(self, crawler: Crawler, cap: float, retry_times: int) -> None:
        self.crawler = crawler
        self.cap = cap
        self.retry_times = retry_times
        #: download slot -> monotonic time its pause ends
        self._paused_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        cap = Config.from_settings(crawler.settings).corpus_retry_after_max
        times = (
            crawler.settings.getint("RETRY_TIMES")
            if crawler.settings.getbool("RETRY_ENABLED")
            else 0
        )
        mw = cls(crawler, cap, times)
        # The downloader hands the host's next request out as soon as this
        # answer is in, before any middleware sees it: the pause starts here.
        crawler.signals.connect(mw._downloaded, signal=signals.response_downloaded)
        return mw

    def _asked_wait(self, request: Request, response: Response) -> tuple[float, float] | None:
        """(asked, waited) seconds when a retry follows this answer and must wait."""
        if response.status not in RETRY_AFTER_STATUSES or not self.cap:
            return None
        header = response.headers.get("Retry-After")
        if not header or request.meta.get("dont_retry"):
            return None
        if request.meta.get("retry_times", 0) >= request.meta.get(
            "max_retry_times", self.retry_times
        ):
            return None  # no retry follows: nothing to wait for
        delay = retry_after_seconds(header.decode("latin-1"))
        if not delay:
            return None
        return delay, min(delay, self.cap)

    def _downloaded(self, response: Response, request: Request, **_: Any) -> None:
        asked = self._asked_wait(request, response)
        if asked is not None:
            self._pause_host(request, asked[1])

    async def process_response(self, request: Request, response: Response) -> Any:
        asked = self._asked_wait(request, response)
        if asked is None:
            return response
        delay, waited = asked
        stats = self.crawler.stats
        stats.inc_value("corpus/retry_after/waits")
        if delay > self.cap:
            stats.inc_value("corpus/retry_after/capped")
        logger.info(
            "HTTP %d from %s asks to retry after %.0f s: waiting %.1f s, and so do the "
            "other pages of its host (CORPUS_RETRY_AFTER_MAX %.0f)",
            response.status,
            request.url,
            delay,
            waited,
            self.cap,
        )
        await asyncio.sleep(waited)
        return response

    def _pause_host(self, request: Request, seconds: float) -> None:
        """Hold the request's download slot (its host) for ``seconds``.

        Scrapy's downloader sends nothing from a slot while the slot has a
        pending ``latercall`` (its DOWNLOAD_DELAY timer); the pause is such a
        timer, and when it fires the slot's queue runs as after any delay.
        """
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        slots = getattr(downloader, "slots", None)
        if not isinstance(slots, dict) or not hasattr(downloader, "_latercall"):
            return  # another downloader: the request alone waits
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        slot = slots.get(key)
        if slot is None or not hasattr(slot, "latercall"):
            return
        now = time.monotonic()
        if self._paused_until.get(key, 0.0) >= now + seconds:
            return  # an earlier answer asked for a longer pause
        pause = _call_later(seconds, downloader._latercall, slot)
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = pause
        self._paused_until = {k: t for k, t in self._paused_until.items() if t > now}
        self._paused_until[key] = now + seconds
        self.crawler.stats.inc_value("corpus/retry_after/host_pauses")
