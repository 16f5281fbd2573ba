"""``RobotsTxtMiddleware``: Scrapy's, fixed so that every request waiting for a host's
robots.txt gets its rules (in Scrapy 2.19 only the first waiter does; the others are let
through as if there were no robots.txt, and disallowed pages are fetched)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request


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
