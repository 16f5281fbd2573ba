"""Spiders: each reads one kind of source and yields Page or Failure items."""

from __future__ import annotations

from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure as TwistedFailure

from crawler.items import Failure, Page


class ArgumentError(ValueError):
    """A spider argument is wrong; ``str(exc)`` is the one-line reason."""


class CorpusSpider(scrapy.Spider):
    """Base class: records arguments and turns request errors into failures."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        super().__init__(*args, **kwargs)

    def page_from(self, response: Response, **hints: Any) -> Page:
        ctype = response.headers.get("Content-Type")
        declared = None
        ctype_s = ctype.decode("latin-1") if ctype else None
        if ctype_s and "charset=" in ctype_s.lower():
            declared = ctype_s.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
        return Page(
            url=response.url,
            body=response.body,
            content_type=ctype_s,
            declared_encoding=declared,
            http_status=response.status if response.url.startswith("http") else None,
            hints={k: v for k, v in hints.items() if v},
        )

    def request_failed(self, failure: TwistedFailure) -> Failure:
        """errback: one ``failures`` row per request that produced nothing."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else None
        reason = describe_error(failure)
        self.logger.warning("Download failed for %s: %s", url, reason)
        return Failure(url=url, stage="download", reason=reason, http_status=status)


def describe_error(failure: TwistedFailure) -> str:
    """A sentence a person understands for a download error."""
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        return f"the server answered HTTP {response.status}"
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, FileNotFoundError) or "No such file" in text:
        return f"file not found: {text}"
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return f"file not readable (permission denied): {text}"
    if isinstance(exc, IsADirectoryError):
        return f"is a folder, not a file: {text}"
    if "TimeoutError" in name or "timed out" in text.lower():
        return f"timed out: {text}"
    return f"{name}: {text}"
