"""Safety: :class:`WebSafetyMiddleware` and :class:`RedirectGuardMiddleware`, a thin shell
over :mod:`crawler.netsafety`.

* :class:`WebSafetyMiddleware` refuses non-http(s) targets of web spiders and
  of redirects, and targets on private, loopback or link-local addresses unless
  ``ALLOW_PRIVATE_NETWORKS`` is on. Host names are resolved in a thread, never
  blocking the reactor; answers are cached for the crawl.
* :class:`RedirectGuardMiddleware` turns a redirect to a non-web address or
  back to an address already visited (a loop) into a failure with a reason,
  where Scrapy would drop it silently (the scheduler's duplicate filter) or
  store an unexplained HTTP 3xx.

Each refusal raises :class:`Refused` (an ``IgnoreRequest``), which reaches the
request's errback and so becomes a ``failures`` row.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import run_in_thread
from w3lib.url import safe_url_string

from crawler.config import Config
from crawler.netsafety import (
    WEB_SCHEMES,
    AllowedHosts,
    address_refusal,
    parse_ip,
    scheme_of,
    url_problem,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _defragged(url: str) -> str:
    return url.split("#", 1)[0]


class Refused(IgnoreRequest):
    """A request this crawler will not make; ``str(exc)`` is the reason."""


class WebSafetyMiddleware:
    def __init__(
        self,
        crawler: Crawler,
        allow_private: bool,
        cache_size: int = 10_000,
        allowed: AllowedHosts | None = None,
    ) -> None:
        self.crawler = crawler
        self.allow_private = allow_private
        self.allowed = allowed or AllowedHosts()
        self.cache_size = cache_size
        self._refusals: dict[tuple[str, int], str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WebSafetyMiddleware:
        config = Config.from_settings(crawler.settings)
        return cls(crawler, config.allow_private_networks, allowed=config.allowed_hosts)

    async def process_request(self, request: Request) -> None:
        problem = url_problem(request.url)
        if problem:
            self._refuse(request, "invalid_url", problem)
        scheme = scheme_of(request.url)
        if scheme not in WEB_SCHEMES:
            if request.meta.get("redirect_urls") or getattr(self.crawler.spider, "web_only", False):
                self._refuse(
                    request,
                    "scheme",
                    f"refused: {scheme or 'this'}: URLs are never fetched from the web "
                    "(only http and https)",
                )
            return
        if self.allow_private:
            return
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        key = (host, port)
        if key not in self._refusals:
            self._remember(key, await self._check(host, port))
        reason = self._refusals[key]
        if reason:
            self._refuse(request, "private", reason)
        return

    async def _check(self, host: str, port: int) -> str | None:
        if parse_ip(host) is not None:
            return address_refusal(host, [host], self.allowed, port)
        try:
            infos = await run_in_thread(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None  # the download itself fails and says why (DNS lookup failed)
        return address_refusal(host, [str(info[4][0]) for info in infos], self.allowed, port)

    def _remember(self, key: tuple[str, int], reason: str | None) -> None:
        if len(self._refusals) >= self.cache_size:
            self._refusals.pop(next(iter(self._refusals)))
        self._refusals[key] = reason

    def _refuse(self, request: Request, kind: str, reason: str) -> None:
        self.crawler.stats.inc_value(f"netsafety/refused/{kind}")
        logger.warning("Not fetching %s: %s", request.url, reason)
        raise Refused(reason)


def _redirect_target(url: str, location: bytes) -> str | None:
    """The absolute URL a ``Location`` header names, or ``None`` for bytes that
    are no URL (binary, control characters, a broken host)."""
    if any(b < 32 or b == 127 for b in location):
        return None
    try:
        safe = safe_url_string(location)
        if location.startswith(b"//"):
            return f"{scheme_of(url)}:{safe}"
        return urljoin(url, safe)
    except (ValueError, UnicodeError):
        return None


class RedirectGuardMiddleware:
    """Sits just before Scrapy's RedirectMiddleware on the way back from the server."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        if not crawler.settings.getbool("REDIRECT_ENABLED"):
            raise NotConfigured("REDIRECT_ENABLED is off")
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Any:
        if response.status not in REDIRECT_STATUSES or request.meta.get("dont_redirect"):
            return response
        location = response.headers.get("Location")
        if not location:
            return response
        stats = self.crawler.stats
        target = _redirect_target(request.url, location)
        problem = url_problem(target or location.decode("latin-1")) or (
            None if target is not None else "not a URL"
        )
        if target is None or problem:
            stats.inc_value("netsafety/refused/redirect_invalid")
            shown = location[:80].decode("latin-1").encode("unicode_escape").decode("ascii")
            raise Refused(
                f"HTTP {response.status} redirect to an unusable Location header "
                f"({problem}): {shown!r}"
            )
        scheme = scheme_of(target)
        if scheme not in WEB_SCHEMES:
            stats.inc_value("netsafety/refused/redirect_scheme")
            raise Refused(
                f"refused: HTTP {response.status} redirect to a {scheme or 'non-web'}: "
                "address, which is never followed (only http and https)"
            )
        seen = [*request.meta.get("redirect_urls", []), request.url]
        if _defragged(target) in {_defragged(u) for u in seen}:
            stats.inc_value("netsafety/redirect_loop")
            raise Refused(
                f"redirect loop: HTTP {response.status} from {request.url} back to "
                f"{target}, after {len(seen)} request(s)"
            )
        return response
