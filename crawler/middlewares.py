"""Downloader middlewares: politeness and safety, a thin shell over
:mod:`crawler.netsafety`.

* :class:`ContactUserAgentMiddleware` sends ``USER_AGENT`` with
  ``CORPUS_CONTACT_URL`` appended (replaces Scrapy's UserAgentMiddleware).
* :class:`WebSafetyMiddleware` refuses non-http(s) targets of web spiders and
  of redirects, and targets on private, loopback or link-local addresses unless
  ``ALLOW_PRIVATE_NETWORKS`` is on. Host names are resolved in a thread, never
  blocking the reactor; answers are cached for the crawl.
* :class:`RobotsTxtMiddleware` is Scrapy's, fixed so that every request
  waiting for a host's robots.txt gets its rules (in Scrapy 2.19 only the
  first waiter does; the others are let through as if there were no
  robots.txt, and disallowed pages are fetched).
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

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from w3lib.url import safe_url_string

from crawler.netsafety import WEB_SCHEMES, address_refusal, parse_ip, scheme_of

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


def user_agent(base: str, contact: str) -> str:
    """``base`` with the contact URL appended (inside its comment when it has one)."""
    contact = contact.strip()
    if not contact or contact in base:
        return base
    if base.endswith(")"):
        return f"{base[:-1]}; +{contact})"
    return f"{base} (+{contact})"


class ContactUserAgentMiddleware:
    def __init__(self, agent: str) -> None:
        self.agent = agent

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgentMiddleware:
        settings = crawler.settings
        base = settings.get("USER_AGENT") or ""
        return cls(user_agent(base, settings.get("CORPUS_CONTACT_URL") or ""))

    def process_request(self, request: Request) -> None:
        if self.agent:
            request.headers.setdefault(b"User-Agent", self.agent)


class WebSafetyMiddleware:
    def __init__(self, crawler: Crawler, allow_private: bool, cache_size: int = 10_000) -> None:
        self.crawler = crawler
        self.allow_private = allow_private
        self.cache_size = cache_size
        self._refusals: dict[tuple[str, int], str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WebSafetyMiddleware:
        return cls(crawler, crawler.settings.getbool("ALLOW_PRIVATE_NETWORKS"))

    async def process_request(self, request: Request) -> None:
        scheme = scheme_of(request.url)
        if scheme not in WEB_SCHEMES:
            if request.meta.get("redirect_urls") or getattr(self.crawler.spider, "web_only", False):
                self._refuse(
                    request,
                    "scheme",
                    f"refused: {scheme or 'this'}: URLs are never fetched from the web "
                    "(only http and https)",
                )
            return None
        if self.allow_private:
            return None
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        key = (host, port)
        if key not in self._refusals:
            self._remember(key, await self._check(host, port))
        reason = self._refusals[key]
        if reason:
            self._refuse(request, "private", reason)
        return None

    async def _check(self, host: str, port: int) -> str | None:
        if parse_ip(host) is not None:
            return address_refusal(host, [host])
        try:
            infos = await run_in_thread(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None  # the download itself fails and says why (DNS lookup failed)
        return address_refusal(host, [str(info[4][0]) for info in infos])

    def _remember(self, key: tuple[str, int], reason: str | None) -> None:
        if len(self._refusals) >= self.cache_size:
            self._refusals.pop(next(iter(self._refusals)))
        self._refusals[key] = reason

    def _refuse(self, request: Request, kind: str, reason: str) -> None:
        self.crawler.stats.inc_value(f"netsafety/refused/{kind}")
        logger.warning("Not fetching %s: %s", request.url, reason)
        raise Refused(reason)


class RedirectGuardMiddleware:
    """Sits just before Scrapy's RedirectMiddleware on the way back from the server."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        if not crawler.settings.getbool("REDIRECT_ENABLED", True):
            raise NotConfigured("REDIRECT_ENABLED is off")
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Any:
        if response.status not in REDIRECT_STATUSES or request.meta.get("dont_redirect"):
            return response
        location = response.headers.get("Location")
        if not location:
            return response
        target = urljoin(request.url, safe_url_string(location))
        if location.startswith(b"//"):
            target = f"{scheme_of(request.url)}:{safe_url_string(location)}"
        scheme = scheme_of(target)
        stats = self.crawler.stats
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


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's RobotsTxtMiddleware, with concurrent waiters all getting the rules.

    Scrapy awaits the shared per-host ``Deferred`` through
    ``Deferred.asFuture``, whose callback returns ``None``: the second and
    later requests that wait for the same robots.txt receive ``None`` ("no
    robots.txt") and are allowed, whatever robots.txt says. Here each waiter
    gets a ``Deferred`` of its own, relayed without consuming the result.
    """

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[Any] = Deferred()

        def relay(result: Any) -> Any:
            waiter.callback(result)
            return result

        pending.addCallback(relay)
        return await maybe_deferred_to_future(waiter)
