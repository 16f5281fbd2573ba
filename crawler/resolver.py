"""A DNS resolver that checks the address the crawler actually connects to.

:class:`crawler.downloadermiddlewares.safety.WebSafetyMiddleware` refuses a request whose host
resolves to a private, loopback or link-local address, but it resolves the
name when the request is scheduled; the connection resolves it again. A name
whose DNS answer changes in between (DNS rebinding) could slip through.
:class:`SafeResolver` is Scrapy's caching resolver with the same check on the
answer the connection uses: with ``ALLOW_PRIVATE_NETWORKS`` off, a
non-public answer fails the lookup, and the download becomes a ``failures``
row that says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.config import Config
from crawler.netsafety import AllowedHosts, address_refusal

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase

#: why a host name was refused at connection time, by name (the connection's
#: own error only says the lookup found nothing): read by the spiders'
#: failure descriptions. Bounded: the oldest names are forgotten first.
REFUSED: dict[str, str] = {}
REFUSED_LIMIT = 10_000


def refusal_for(host: str | None) -> str | None:
    """The connection-time refusal of ``host``, if it had one."""
    return REFUSED.get(host.lower()) if host else None


class SafeResolver(CachingThreadedResolver):
    allow_private = False
    #: ``ALLOW_PRIVATE_HOSTS`` (the port of an entry is checked by the middleware)
    allowed = AllowedHosts()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> SafeResolver:
        resolver = super().from_crawler(crawler, reactor)
        config = Config.from_settings(crawler.settings)
        resolver.allow_private = config.allow_private_networks
        resolver.allowed = config.allowed_hosts
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        d = super().getHostByName(name, timeout)
        if not self.allow_private:
            d.addCallback(self._checked, name)
        return d

    def _checked(self, address: Any, name: str) -> Any:
        refusal = address_refusal(name, [str(address)], self.allowed)
        if refusal:
            if len(REFUSED) >= REFUSED_LIMIT:
                REFUSED.pop(next(iter(REFUSED)))
            REFUSED[name.lower()] = refusal
            raise DNSLookupError(f"{name}: {refusal}")
        return address
