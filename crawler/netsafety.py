"""Which web targets a crawler may fetch.

Pure: no Scrapy, no network. Links found in remote content are followed only
over http(s); targets on private, loopback, link-local (and other non-public)
addresses are refused unless the user allows them with
``ALLOW_PRIVATE_NETWORKS``. The downloader middleware
:class:`crawler.downloadermiddlewares.safety.WebSafetyMiddleware` resolves host names and asks
:func:`address_refusal` about each address.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})

HOW_TO_ALLOW = (
    "set -s ALLOW_PRIVATE_NETWORKS=True to crawl private, loopback and link-local addresses"
)


def is_followable(url: str) -> bool:
    """An http(s) URL with a host: the only kind of link taken from remote content."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)
    except ValueError:
        return False


def scheme_of(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address when it is a literal one (``[::1]`` too)."""
    host = host.strip().strip("[]")
    if "%" in host:  # an IPv6 zone index: fe80::1%eth0
        host = host.split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What makes ``ip`` a non-public address (``None`` when it is public)."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            return address_kind(mapped)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-public"
    return None


def address_refusal(host: str, addresses: list[str]) -> str | None:
    """Why ``host`` (resolving to ``addresses``) must not be fetched, or ``None``.

    One non-public address is enough to refuse: a name that resolves to both a
    public and a private address could be connected to either.
    """
    for address in addresses:
        ip = parse_ip(address)
        if ip is None:
            continue
        kind = address_kind(ip)
        if kind:
            article = "an" if kind[0] in "aeiou" else "a"
            where = f"{ip} is" if parse_ip(host) is not None else f"{host} resolves to {ip},"
            return f"refused: {where} {article} {kind} address; {HOW_TO_ALLOW}"
    return None
