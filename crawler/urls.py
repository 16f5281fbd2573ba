"""Canonical URLs: one spelling per page, so that variants dedupe.

Pure: no Scrapy. courlan drops tracking parameters (``utm_*``, ``fbclid``,
``gclid``, ...), sorts the query, lowercases scheme and host and drops default
ports; here the fragment and a trailing slash go too.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

WEB_SCHEMES = ("http", "https")


def canonical_url(url: str) -> str:
    """The canonical spelling of ``url`` (``file:`` URLs are kept as they are)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in WEB_SCHEMES:
        return urlunsplit(parts._replace(fragment=""))
    try:
        url = normalize_url(url, strict=False)
    except (ValueError, AttributeError):
        pass
    parts = urlsplit(url)
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def is_web_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in WEB_SCHEMES


def host_of(url: str) -> str | None:
    host = urlsplit(url).hostname
    return host.lower() if host else None
