"""Canonical URLs: one spelling per page, so that variants dedupe.

Pure: no Scrapy. courlan drops tracking parameters (``utm_*``, ``fbclid``,
``gclid``, ...), sorts the query, lowercases scheme and host and drops default
ports; here the fragment and a trailing slash go too.

None of these raise on a URL Python's parser refuses (a broken IPv6 host
``http://[::1/x``, an empty one ``http://[]/``): such a URL comes from a page,
a feed or an archive, and one bad link must not cost the page that holds it.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

from courlan import normalize_url

WEB_SCHEMES = ("http", "https")


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def canonical_url(url: str) -> str:
    """The canonical spelling of ``url`` (``file:`` URLs are kept as they are;
    a URL Python cannot parse is returned stripped, as it is)."""
    url = url.strip()
    parts = _split(url)
    if parts is None:
        return url
    if parts.scheme.lower() not in WEB_SCHEMES:
        return urlunsplit(parts._replace(fragment=""))
    try:
        url = normalize_url(url, strict=False)
    except (ValueError, AttributeError):
        pass
    parts = _split(url) or parts
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def is_web_url(url: str) -> bool:
    parts = _split(url)
    return parts is not None and parts.scheme.lower() in WEB_SCHEMES


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None
