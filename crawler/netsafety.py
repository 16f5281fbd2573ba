"""Which web targets a crawler may fetch.

Pure: no Scrapy, no network. Links found in remote content are followed only
over http(s); targets on private, loopback, link-local (and other non-public)
addresses are refused unless the user allows them all with
``ALLOW_PRIVATE_NETWORKS``, or names the ones allowed with ``ALLOW_PRIVATE_HOSTS``
(``127.0.0.1:8080,10.0.0.0/8,intranet.example``: :class:`AllowedHosts`).
:func:`url_problem` says what makes a URL unusable (a port out of range, a
broken IPv6 literal) before a request is built from it. The downloader middleware
:class:`crawler.downloadermiddlewares.safety.WebSafetyMiddleware` resolves host names and asks
:func:`address_refusal` about each address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})

HOW_TO_ALLOW = (
    "set -s ALLOW_PRIVATE_HOSTS=HOST[:PORT] (or a network, 10.0.0.0/8) to allow only that one, "
    "or -s ALLOW_PRIVATE_NETWORKS=True to crawl every private, loopback and link-local address"
)

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as a request URL (a sentence), or ``None``.

    Python's URL parser raises on a port out of range (``:99999``) or a broken
    IPv6 literal (``http://[::1/x``); such an entry of a list, feed or sitemap
    becomes a failure of its own instead of stopping what lists it.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        host = parts.hostname
    except ValueError as exc:
        return f"not a valid URL: {parser_error(str(exc))}"
    if parts.scheme.lower() in WEB_SCHEMES and not host:
        return "not a valid URL: it names no host"
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "not a valid URL: it holds control characters"
    if not url.isascii():
        try:
            url.encode("utf-8")
        except UnicodeEncodeError:  # a JSON "\ud800" escape, a byte of a list that is not UTF-8
            return (
                "not a valid URL: it holds a lone surrogate (half of a UTF-16 pair, "
                "or a byte that is not UTF-8 text)"
            )
    return None


def parser_error(text: str) -> str:
    """What Python's URL parser's ``ValueError`` text means, in words."""
    if "Port out of range" in text:
        return "its port is out of range (0 to 65535)"
    if "Port could not be cast" in text:
        return "its port is not a number"
    if "does not appear to be an IPv4 or IPv6 address" in text:
        return "its host in brackets ([...]) is not an IPv6 address"
    if "IPv6" in text:
        return "its host is a broken IPv6 address (a '[' without its ']')"
    return text


@dataclass(frozen=True)
class AllowedHosts:
    """``ALLOW_PRIVATE_HOSTS``: non-public targets the user named, and only those.

    Each entry is a host name or IP address, optionally with ``:port`` (IPv6 as
    ``[::1]:8080``), or a network (``10.0.0.0/8``). An entry with a port allows
    that port only; the connection-time check (:mod:`crawler.resolver`) sees no
    port and allows the address.
    """

    names: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[Network, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> AllowedHosts:
        """Raises ``ValueError`` naming the entry that is neither a host nor a network."""
        names: set[tuple[str, int | None]] = set()
        networks: list[Network] = []
        for raw in text.replace(";", ",").split(","):
            entry = raw.strip()
            if not entry:
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(f"{entry!r} is not a network such as 10.0.0.0/8") from None
                continue
            try:
                parts = urlsplit(f"//{entry}")
                port = parts.port
                host = parts.hostname
            except ValueError:
                host, port = None, None
            if parse_ip(entry) is not None:  # a bare IPv6 address: no port
                host, port = str(parse_ip(entry)), None
            if not host or parts.path or parts.query:
                raise ValueError(f"{entry!r} is not HOST, HOST:PORT or a network")
            ip = parse_ip(host)
            names.add((str(ip) if ip is not None else host.lower().rstrip("."), port))
        return cls(frozenset(names), tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.names or self.networks)

    def allows(self, host: str, address: str | None = None, port: int | None = None) -> bool:
        """Is ``host`` (connecting to ``address`` on ``port``; ``None``: any) allowed?"""
        keys = {host.lower().strip("[]").rstrip(".")}
        ip = parse_ip(address or host)
        if ip is not None:
            keys.add(str(ip))
        for name, allowed_port in self.names:
            if name in keys and (allowed_port is None or port is None or allowed_port == port):
                return True
        return ip is not None and any(ip in net for net in self.networks)


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


def address_refusal(
    host: str,
    addresses: list[str],
    allowed: AllowedHosts | None = None,
    port: int | None = None,
) -> str | None:
    """Why ``host`` (resolving to ``addresses``) must not be fetched, or ``None``.

    One non-public address is enough to refuse: a name that resolves to both a
    public and a private address could be connected to either. ``allowed``
    (``ALLOW_PRIVATE_HOSTS``) lets the named hosts, addresses and networks through.
    """
    for address in addresses:
        ip = parse_ip(address)
        if ip is None:
            continue
        kind = address_kind(ip)
        if kind and allowed and allowed.allows(host, address, port):
            continue
        if kind:
            article = "an" if kind[0] in "aeiou" else "a"
            where = f"{ip} is" if parse_ip(host) is not None else f"{host} resolves to {ip},"
            return f"refused: {where} {article} {kind} address; {HOW_TO_ALLOW}"
    return None
